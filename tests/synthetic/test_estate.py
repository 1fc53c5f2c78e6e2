"""The synthetic legacy estate: deterministic, shaped on CONTRACTS.md section 5, and its
manifest of malformed records exactly the records a validator following docs/design.md
"Quarantine reasons" would quarantine (and no clean record fails those checks)."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, select, text

from csa_closure.db import make_engine
from extract.legacy_schema import legacy_metadata
from synthetic import EstateManifest, generate_estate
from synthetic.malformed import KINDS

EXTRACT = date(2014, 6, 30)
SMALL_CASES = 3_000
SHAPE_CASES = 20_000

# Tolerances of the shape test (CONTRACTS.md section 5, synthetic/shape.py):
CSCS_SHARE, CSCS_SHARE_TOLERANCE = 0.30, 0.03
MIN_ARREARS_SHARE = 0.80
UNDER_1000_SHARE, UNDER_1000_TOLERANCE = 0.55, 0.05
SOS_SHARE, SOS_TOLERANCE = 0.40, 0.05
MISMATCH_SHARE, MISMATCH_TOLERANCE = 0.03, 0.01
MIN_SEGMENT_SHARE = 0.01
MALFORMED_SHARE_RANGE = (0.003, 0.008)
IMA_WINDOW = (pd.Timestamp("1993-04-05"), pd.Timestamp("1995-04-18"))


# --- helpers ---------------------------------------------------------------------------------


def table_digests(engine: Engine) -> dict[str, str]:
    """A content hash per legacy table, rows sorted so storage order does not matter."""
    digests = {}
    with engine.connect() as connection:
        for table in legacy_metadata.sorted_tables:
            rows = sorted(
                tuple(repr(v.isoformat() if isinstance(v, date) else v) for v in row)
                for row in connection.execute(select(table))
            )
            digests[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


def generate_into(url: str, cases: int, seed: int) -> tuple[dict[str, str], EstateManifest]:
    engine = make_engine(url, legacy=True, writable=True)
    try:
        manifest = generate_estate(engine, cases, seed=seed, extract_date=EXTRACT)
        return table_digests(engine), manifest
    finally:
        engine.dispose()


# --- 1. same seed, same rows ----------------------------------------------------------------


def test_same_seed_gives_the_same_rows_and_another_seed_other_rows(
    database_url_factory, backend: str, tmp_path: Path
):
    first, first_manifest = generate_into(database_url_factory("first"), SMALL_CASES, seed=7)
    again, again_manifest = generate_into(database_url_factory("again"), SMALL_CASES, seed=7)
    other, _ = generate_into(database_url_factory("other"), SMALL_CASES, seed=8)

    assert first == again
    assert first_manifest == again_manifest
    assert all(first[name] != other[name] for name in first if not name.endswith("_extract"))
    if backend == "postgres":
        on_sqlite, _ = generate_into(f"sqlite:///{tmp_path / 'reference.db'}", SMALL_CASES, seed=7)
        assert first == on_sqlite, "PostgreSQL and SQLite estates of one seed differ"


# --- 3. the manifest is what a validator finds ---------------------------------------------


def _frames(engine: Engine) -> dict[str, pd.DataFrame]:
    with engine.connect() as connection:
        return {t.name: pd.read_sql(select(t), connection) for t in legacy_metadata.sorted_tables}


def _iso(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, errors="coerce")


def _dmy(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, format="%d/%m/%Y", errors="coerce")


def _amount_ok(values: pd.Series) -> pd.Series:
    return values.str.fullmatch(r"\d+\.\d{2}").fillna(False).astype(bool)


def _pence(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.where(_amount_ok(values)).str.replace(".", "", regex=False), errors="coerce")


def _duplicated(keys: pd.Series) -> pd.Series:
    return keys.str.strip().str.upper().duplicated(keep=False)


def _not_in(values: pd.Series, codes: set[str], nullable: bool = False) -> pd.Series:
    bad = ~values.isin(codes)
    return bad & values.notna() if nullable else bad


def _keys(name: str, frame: pd.DataFrame) -> pd.Series:
    joined = {
        "cscs_ledger": ("case_ref", "seq"),
        "cscs_child": ("case_ref", "child_seq"),
        "cs2_child": ("case_id", "child_no"),
    }
    single = {
        "cscs_person": "person_ref",
        "cscs_case": "case_ref",
        "cs2_party": "party_id",
        "cs2_case": "case_id",
        "cs2_txn": "txn_id",
    }
    if name in joined:
        a, b = joined[name]
        return frame[a].astype(str) + "/" + frame[b].astype(str)
    return frame[single[name]].astype(str)


def validator_findings(engine: Engine) -> set[tuple[str, str, str, str]]:
    """Every (table, key, column, check) the quarantine checks of docs/design.md find."""
    f = _frames(engine)
    person, case, child, ledger = f["cscs_person"], f["cscs_case"], f["cscs_child"], f["cscs_ledger"]
    party, cs2, cs2_child, txn = f["cs2_party"], f["cs2_case"], f["cs2_child"], f["cs2_txn"]
    people, case_refs = set(person.person_ref), set(case.case_ref)
    parties, case_ids = set(party.party_id), set(cs2.case_id)
    sos, total = case.arrears_sos_pence, case.arrears_total_pence
    debt, debt_sos = _pence(cs2.debt_amt), _pence(cs2.debt_sos_amt)
    txn_from, txn_to = _dmy(txn.period_start_dt), _dmy(txn.period_end_dt)
    checks = [
        ("cscs_person", "person_ref", "format", ~person.person_ref.str.fullmatch(r"P\d{9}")),
        ("cscs_person", "person_ref", "unique", _duplicated(person.person_ref)),
        ("cscs_person", "date_of_birth", "not_null", person.date_of_birth.isna()),
        ("cscs_person", "resides_abroad", "code", ~person.resides_abroad.isin({0, 1})),
        ("cscs_case", "case_ref", "format", ~case.case_ref.str.fullmatch(r"C93\d{7}")),
        ("cscs_case", "case_ref", "unique", _duplicated(case.case_ref)),
        ("cscs_case", "nrp_ref", "parent_exists", ~case.nrp_ref.isin(people)),
        ("cscs_case", "pwc_ref", "parent_exists", ~case.pwc_ref.isin(people)),
        ("cscs_case", "case_start_date", "not_null", case.case_start_date.isna()),
        ("cscs_case", "case_status", "code", _not_in(case.case_status, {"LIVE", "ARREARS_ONLY", "CLOSED"})),
        ("cscs_case", "assessment_type", "code", _not_in(case.assessment_type, {"FULL", "INTERIM", "NIL"})),
        (
            "cscs_case", "payment_method", "code",
            _not_in(case.payment_method, {"COLLECTION", "MAINTENANCE_DIRECT", "DEO", "NONE"}),
        ),
        (
            "cscs_case", "enforcement_action", "code",
            _not_in(case.enforcement_action, {
                "LIABILITY_ORDER", "CHARGING_ORDER", "ORDER_FOR_SALE", "DEDUCTION_ORDER",
                "ENFORCEMENT_AGENT", "DRIVING_DISQUALIFICATION", "COMMITTAL",
            }, nullable=True),
        ),
        ("cscs_case", "clerical", "code", ~case.clerical.isin({0, 1})),
        ("cscs_case", "dv_marker", "code", ~case.dv_marker.isin({0, 1})),
        ("cscs_case", "arrears_sos_pence", "sos_within_total", (sos < 0) | (sos > total)),
        ("cscs_child", "case_ref", "case_exists", ~child.case_ref.isin(case_refs)),
        ("cscs_child", "date_of_birth", "not_null", child.date_of_birth.isna()),
        ("cscs_ledger", "case_ref", "case_exists", ~ledger.case_ref.isin(case_refs)),
        ("cscs_ledger", "posted_date", "not_null", ledger.posted_date.isna()),
        (
            "cscs_ledger", "txn_type", "code",
            _not_in(ledger.txn_type, {"CHARGE", "IMA_CHARGE", "RECEIPT", "ADJUSTMENT"}),
        ),
        ("cscs_ledger", "creditor", "code", _not_in(ledger.creditor, {"PWC", "SOS"})),
        (
            "cscs_ledger", "amount_pence", "sign",
            ((ledger.txn_type == "RECEIPT") & (ledger.amount_pence > 0))
            | ((ledger.txn_type == "CHARGE") & (ledger.amount_pence < 0)),
        ),
        ("cscs_ledger", "period_to", "period", _iso(ledger.period_to) < _iso(ledger.period_from)),
        ("cs2_party", "birth_dt", "date", _dmy(party.birth_dt).isna()),
        ("cs2_party", "death_dt", "date", _dmy(party.death_dt).isna() & party.death_dt.notna()),
        ("cs2_party", "overseas_flag", "code", _not_in(party.overseas_flag, {"Y", "N"})),
        ("cs2_case", "case_number", "format", ~cs2.case_number.str.fullmatch(r"S03\d{7}")),
        ("cs2_case", "case_number", "unique", _duplicated(cs2.case_number)),
        ("cs2_case", "paying_party_id", "parent_exists", ~cs2.paying_party_id.isin(parties)),
        ("cs2_case", "receiving_party_id", "parent_exists", ~cs2.receiving_party_id.isin(parties)),
        ("cs2_case", "effective_dt", "not_null", cs2.effective_dt.isna()),
        ("cs2_case", "effective_dt", "date", _dmy(cs2.effective_dt).isna() & cs2.effective_dt.notna()),
        ("cs2_case", "state_cd", "code", _not_in(cs2.state_cd, {"A", "R", "X"})),
        ("cs2_case", "rate_cd", "code", _not_in(cs2.rate_cd, {"BAS", "RED", "FLT", "NIL", "DFT"})),
        ("cs2_case", "collection_cd", "code", _not_in(cs2.collection_cd, {"CP", "DP", "DEO", "NON"})),
        (
            "cs2_case", "enf_cd", "code",
            _not_in(cs2.enf_cd, {"LO", "CO", "OFS", "RDO", "LSDO", "EA", "DDQ", "COM"}, nullable=True),
        ),
        ("cs2_case", "offline_ind", "code", _not_in(cs2.offline_ind, {"Y", "N"})),
        ("cs2_case", "dv_ind", "code", _not_in(cs2.dv_ind, {"Y", "N"})),
        ("cs2_case", "weekly_amt", "amount", ~_amount_ok(cs2.weekly_amt)),
        ("cs2_case", "debt_amt", "amount", ~_amount_ok(cs2.debt_amt)),
        ("cs2_case", "debt_sos_amt", "amount", ~_amount_ok(cs2.debt_sos_amt)),
        ("cs2_case", "debt_sos_amt", "sos_within_total", (debt_sos < 0) | (debt_sos > debt)),
        ("cs2_child", "case_id", "case_exists", ~cs2_child.case_id.isin(case_ids)),
        ("cs2_child", "birth_dt", "date", _dmy(cs2_child.birth_dt).isna()),
        ("cs2_txn", "case_id", "case_exists", ~txn.case_id.isin(case_ids)),
        ("cs2_txn", "posted_dt", "date", _dmy(txn.posted_dt).isna()),
        ("cs2_txn", "txn_cd", "code", _not_in(txn.txn_cd, {"CHG", "RCP", "ADJ+", "ADJ-"})),
        ("cs2_txn", "owed_to", "code", _not_in(txn.owed_to, {"RP", "SS"})),
        ("cs2_txn", "amt", "amount", ~_amount_ok(txn.amt)),
        ("cs2_txn", "period_start_dt", "date", txn_from.isna() & txn.period_start_dt.notna()),
        ("cs2_txn", "period_end_dt", "date", txn_to.isna() & txn.period_end_dt.notna()),
        ("cs2_txn", "period_end_dt", "period", txn_to < txn_from),
    ]
    found = set()
    for table, column, check, mask in checks:
        keys = _keys(table, f[table])[mask.fillna(False).astype(bool)]
        found |= {(table, key, column, check) for key in keys}
    return found


def test_manifest_lists_exactly_the_malformed_records(legacy_engine: Engine):
    seen: list[int] = []
    manifest = generate_estate(
        legacy_engine, SMALL_CASES, seed=3, extract_date=EXTRACT, progress=seen.append
    )

    assert seen[-1] == SMALL_CASES
    assert sum(manifest.cases_by_scheme.values()) == SMALL_CASES
    with legacy_engine.connect() as connection:
        counts = {
            t.name: connection.execute(text(f"SELECT COUNT(*) FROM {t.name}")).scalar()
            for t in legacy_metadata.sorted_tables
        }
        extracted_on = connection.execute(text("SELECT extracted_on FROM cscs_extract")).scalar()
        assert str(extracted_on) == EXTRACT.isoformat()
        assert connection.execute(text("SELECT extract_dt FROM cs2_extract")).scalar() == "30/06/2014"
    assert manifest.rows_by_table == counts

    listed = {(r.source_table, r.source_key, r.column, r.check) for r in manifest.malformed}
    assert len(listed) == len(manifest.malformed), "a reason is listed twice"
    assert validator_findings(legacy_engine) == listed


# --- 2. the shape at 100,000 cases -----------------------------------------------------------

_CSCS_CASES = """
SELECT c.case_ref, '1993' AS scheme, c.nrp_ref AS nrp, c.pwc_ref AS pwc, c.case_start_date AS start,
       c.case_status = 'LIVE' AS live, c.weekly_liability_pence AS weekly,
       c.payment_method = 'DEO' AS deo, c.enforcement_action IS NOT NULL AS action,
       c.clerical = 1 AS clerical, c.dv_marker = 1 AS dv,
       c.arrears_total_pence AS recorded_total, c.arrears_sos_pence AS recorded_sos,
       l.ledger_pwc, l.ledger_sos, l.last_receipt
FROM cscs_case c LEFT JOIN (
    SELECT case_ref,
           SUM(CASE WHEN creditor = 'PWC' THEN amount_pence ELSE 0 END) AS ledger_pwc,
           SUM(CASE WHEN creditor = 'SOS' THEN amount_pence ELSE 0 END) AS ledger_sos,
           MAX(CASE WHEN txn_type = 'RECEIPT' THEN posted_date END) AS last_receipt
    FROM cscs_ledger GROUP BY case_ref) l ON l.case_ref = c.case_ref
"""

_PENCE = "CAST(REPLACE({0}, '.', '') AS INTEGER)"
_ISO = "substr({0}, 7, 4) || '-' || substr({0}, 4, 2) || '-' || substr({0}, 1, 2)"
_CS2_CASES = f"""
SELECT c.case_number AS case_ref, '2003' AS scheme, c.paying_party_id AS nrp, c.receiving_party_id AS pwc,
       {_ISO.format('c.effective_dt')} AS start, c.state_cd = 'A' AS live,
       {_PENCE.format('c.weekly_amt')} AS weekly, c.collection_cd = 'DEO' AS deo, c.enf_cd IS NOT NULL AS action,
       c.offline_ind = 'Y' AS clerical, c.dv_ind = 'Y' AS dv,
       {_PENCE.format('c.debt_amt')} AS recorded_total, {_PENCE.format('c.debt_sos_amt')} AS recorded_sos,
       l.ledger_pwc, l.ledger_sos, l.last_receipt
FROM cs2_case c LEFT JOIN (
    SELECT case_id,
           SUM(CASE WHEN owed_to = 'RP' THEN signed ELSE 0 END) AS ledger_pwc,
           SUM(CASE WHEN owed_to = 'SS' THEN signed ELSE 0 END) AS ledger_sos,
           MAX(CASE WHEN txn_cd = 'RCP' THEN {_ISO.format('posted_dt')} END) AS last_receipt
    FROM (SELECT case_id, owed_to, txn_cd, posted_dt,
                 CASE WHEN txn_cd IN ('RCP', 'ADJ-') THEN -1 ELSE 1 END * {_PENCE.format('amt')} AS signed
          FROM cs2_txn) GROUP BY case_id) l ON l.case_id = c.case_id
"""

_PARENTS = """
SELECT person_ref AS ref, '1993' AS scheme, date_of_death IS NOT NULL AS died,
       address_line1 IS NULL AS untraced, resides_abroad = 1 AS abroad FROM cscs_person
UNION ALL
SELECT CAST(party_id AS TEXT), '2003', death_dt IS NOT NULL, addr IS NULL, overseas_flag = 'Y' FROM cs2_party
"""


_IMA_PERIODS = "SELECT period_from, period_to FROM cscs_ledger WHERE txn_type = 'IMA_CHARGE'"
_LAST_POSTED = (
    "SELECT MAX(posted_date) FROM cscs_ledger",
    f"SELECT MAX({_ISO.format('posted_dt')}) FROM cs2_txn WHERE posted_dt LIKE '__/__/____'",
)


@pytest.fixture(scope="module")
def shaped(tmp_path_factory) -> tuple[pd.DataFrame, pd.DataFrame, EstateManifest, dict]:
    """A 20,000-case estate on SQLite (its shares sit well inside their tolerances at this size),
    its cases in one frame with their ledger balances and last receipt, classified by RULEBOOK
    section 2 as of the extract date; malformed cases out."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('shape') / 'legacy.db'}", legacy=True, writable=True)
    manifest = generate_estate(engine, SHAPE_CASES, seed=11, extract_date=EXTRACT)
    with engine.connect() as connection:
        cases = pd.concat([pd.read_sql(text(query), connection) for query in (_CSCS_CASES, _CS2_CASES)])
        parents = pd.read_sql(text(_PARENTS), connection)
        ima = pd.read_sql(text(_IMA_PERIODS), connection)
        last_posted = [connection.execute(text(query)).scalar() for query in _LAST_POSTED]
    engine.dispose()
    malformed_cases = {r.case_ref for r in manifest.malformed if r.case_ref}
    cases = cases[~cases.case_ref.isin(malformed_cases)].copy()
    for column in ("ledger_pwc", "ledger_sos"):
        cases[column] = cases[column].fillna(0).astype("int64")
    cases["nrp"], cases["pwc"] = cases.nrp.astype(str), cases.pwc.astype(str)
    reference = pd.Timestamp(EXTRACT)
    paying = pd.to_datetime(cases.last_receipt) > reference - pd.Timedelta(days=91)
    live, weekly = cases.live.astype(bool), cases.weekly
    cases["segment"] = np.select(
        [
            ~live & (cases.recorded_total != 0),
            ~live,
            weekly == 0,
            cases.deo.astype(bool) | cases.action.astype(bool),
            (weekly > 0) & ~paying,
            cases.clerical.astype(bool),
        ],
        [6, 0, 1, 5, 2, 3],
        4,
    )
    cases["paying"] = paying
    cases["arrears"] = cases.ledger_pwc.clip(lower=0) + cases.ledger_sos.clip(lower=0)
    return cases, parents, manifest, {"ima": ima, "last_posted": last_posted}


def test_scheme_split(shaped):
    _, _, manifest, _ = shaped
    share = manifest.cases_by_scheme["1993"] / SHAPE_CASES
    assert abs(share - CSCS_SHARE) <= CSCS_SHARE_TOLERANCE


def test_arrears_size_and_creditors(shaped):
    cases, _, _, _ = shaped
    owing = cases[cases.arrears > 0]
    assert len(owing) / len(cases) >= MIN_ARREARS_SHARE
    assert abs((owing.arrears < 100_000).mean() - UNDER_1000_SHARE) <= UNDER_1000_TOLERANCE
    sos = cases.ledger_sos.clip(lower=0).sum() / cases.arrears.sum()
    assert abs(sos - SOS_SHARE) <= SOS_TOLERANCE
    assert 0.002 <= ((cases.ledger_pwc < 0) | (cases.ledger_sos < 0)).mean() <= 0.01, "credit balances"
    assert owing.paying.any() and (~owing.paying).any()


def test_recorded_balances_differ_from_the_ledger_on_about_three_percent(shaped):
    cases, _, _, _ = shaped
    recorded_pwc = cases.recorded_total - cases.recorded_sos
    difference = np.maximum(
        (recorded_pwc - cases.ledger_pwc).abs(), (cases.recorded_sos - cases.ledger_sos).abs()
    )
    assert abs((difference > 100).mean() - MISMATCH_SHARE) <= MISMATCH_TOLERANCE
    assert ((difference >= 1) & (difference <= 100)).mean() > 0.01, "differences inside the tolerance"
    assert (difference == 0).mean() > 0.9, "recorded balances equal the ledger unless made to differ"


def test_nothing_is_posted_after_the_extract_date(shaped):
    assert all(str(last)[:10] <= EXTRACT.isoformat() for last in shaped[3]["last_posted"])


def test_interim_assessment_lines_inside_and_across_the_window(shaped):
    ima = shaped[3]["ima"]
    period_from, period_to = pd.to_datetime(ima.period_from), pd.to_datetime(ima.period_to)
    start, end = IMA_WINDOW
    assert ((period_from >= start) & (period_to <= end)).sum() > 100
    assert ((period_from <= end) & (period_to > end)).sum() > 100


def test_every_segment_in_both_schemes(shaped):
    cases, _, _, _ = shaped
    for scheme, group in cases.groupby("scheme"):
        shares = group.segment.value_counts(normalize=True)
        for segment in (0, 1, 2, 3, 4, 5, 6):
            assert shares.get(segment, 0) >= MIN_SEGMENT_SHARE, (scheme, segment)


def test_parents_and_ages(shaped):
    cases, parents, _, _ = shaped
    parents = parents.assign(ref=parents.ref.astype(str)).drop_duplicates(["scheme", "ref"])
    for role in ("nrp", "pwc"):
        joined = cases.merge(parents, left_on=["scheme", role], right_on=["scheme", "ref"])
        for scheme, group in joined.groupby("scheme"):
            for flag in ("died", "untraced", "abroad"):
                assert group[flag].astype(bool).sum() > 10, (role, scheme, flag)
    for scheme, group in cases.groupby("scheme"):
        assert group.dv.astype(bool).mean() > 0.01, scheme
        started = pd.to_datetime(group.start)
        ten_years_before = pd.Timestamp(EXTRACT.replace(year=EXTRACT.year - 10))
        assert (started <= ten_years_before).sum() > 100, scheme
        assert (started > ten_years_before).sum() > 100, scheme
    assert pd.to_datetime(cases.start).min() >= pd.Timestamp("1993-04-05")
    assert (pd.to_datetime(cases[cases.scheme == "2003"].start) >= pd.Timestamp("2003-03-03")).all()
    assert (pd.to_datetime(cases.start) < pd.Timestamp(EXTRACT - timedelta(days=1))).all()


def test_malformed_records_in_both_schemes(shaped):
    _, _, manifest, _ = shaped
    for scheme in ("1993", "2003"):
        records = {(r.source_table, r.source_key) for r in manifest.malformed if r.scheme == scheme}
        prefix = "cscs_" if scheme == "1993" else "cs2_"
        rows = sum(n for table, n in manifest.rows_by_table.items() if table.startswith(prefix))
        low, high = MALFORMED_SHARE_RANGE
        assert low <= len(records) / rows <= high, scheme
        assert {r.kind for r in manifest.malformed if r.scheme == scheme} == {k.name for k in KINDS[scheme]}
