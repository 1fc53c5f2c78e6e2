"""Adding a legacy system is one declaration and its registration: a fictitious third system,
CSX, declared here whole (tables, raw contract, codes, references, mapping) and registered for
the test, is extracted by the ordinary ``extract`` command beside CSCS and CS2: its clean cases
reach the snapshot, its broken one is held back and quarantined with the reason, and letters
and operators' events know its people."""

from __future__ import annotations

import dataclasses
import json
from datetime import date

import pandas as pd
import pytest
from legacy_rows import cs2_case, cscs_case, party, person, txn, write_estate
from sqlalchemy import Date, Integer, MetaData, Text, insert, select
from tables import table

import flows.extraction
from csa_closure.db import engine_for
from extract import legacy_schema as legacy
from extract import systems
from extract.legacy_system import LegacySystem
from extract.parties import read_parties
from load.migrate import upgrade_target
from load.schema import held_case, legacy_case, quarantine
from transform.events import parse_events
from transform.references import PersonRefFormat
from validate import raw
from validate.canonical import PARTY_COLUMNS
from validate.checks import ISO_DATE, code, identifier, parse_pence, pence, ref
from validate.raw import date as date_column
from validate.raw import optional, required

EXTRACTED_ON = date(2014, 6, 30)

# --- CSX: a fictitious legacy system of 2008, in pence, ISO dates, its own codes -------------

csx_metadata = MetaData()
csx_person = table(
    "csx_person", csx_metadata, ("person_no",),
    person_no=Text, surname=Text, forenames=Text, address=Text, postcode=Text, died_on=Text,
)
csx_case = table(
    "csx_case", csx_metadata, ("case_no",),
    case_no=Text, payer=Text, payee=Text, opened_on=Text, state=Text,
    weekly_pence=Integer, owed_pence=Integer, owed_sos_pence=Integer,
)
csx_child = table("csx_child", csx_metadata, ("case_no", "child_no"), case_no=Text, child_no=Integer)
csx_line = table(
    "csx_line", csx_metadata, ("case_no", "line_no"),
    case_no=Text, line_no=Integer, posted_on=Text, kind=Text, owed_to=Text, pence=Integer,
)
csx_extract = table("csx_extract", csx_metadata, (), taken_on=Date)

CODES = {
    "status": {"OPEN": "LIVE", "ARREARS": "ARREARS_ONLY", "SHUT": "CLOSED"},
    "kind": {"DR": "CHARGE", "CR": "RECEIPT"},
    "creditor": {"P": "PWC", "S": "SOS"},
}
CASE_REFS = r"X08\d{7}"
PERSON_KEY = r"\d{6}"
PERSON_REFS = PersonRefFormat(r"X-\d{6}", "X-<6 digits>", prefix="X-")


def persons_to_canonical(persons: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_ref": PERSON_REFS.refs(persons["person_no"]),
            "surname": persons["surname"],
            "forenames": persons["forenames"],
            "address": persons["address"],
            "postcode": persons["postcode"],
            "deceased": persons["died_on"].notna(),
            "untraced": persons["address"].isna(),
            "abroad": False,
        }
    )[PARTY_COLUMNS]


CSX = LegacySystem(
    name="CSX",
    scheme="2008",
    person=raw.contract(
        "csx_person",
        {"person_no": required(ref(PERSON_KEY)), "died_on": date_column(ISO_DATE, nullable=True)},
        key=("person_no",),
    ),
    case=raw.contract(
        "csx_case",
        {
            "case_no": required(ref(CASE_REFS), holds="case_ref"),
            "payer": required(ref(PERSON_KEY), holds="nrp_ref"),
            "payee": required(ref(PERSON_KEY), holds="pwc_ref"),
            "opened_on": date_column(ISO_DATE, holds="case_start_date"),
            "state": required(code(CODES["status"]), holds="status"),
            "weekly_pence": required(pence(), holds="weekly_liability_pence"),
            "owed_pence": required(pence(), holds="recorded_total_pence"),
            "owed_sos_pence": required(pence(), holds="recorded_sos_pence"),
        },
        key=("case_no",),
        row_checks=(raw.sos_within_total("owed_pence", "owed_sos_pence", parse_pence),),
    ),
    child=raw.contract(
        "csx_child",
        {"case_no": required(ref(CASE_REFS)), "child_no": required(identifier())},
        key=("case_no", "child_no"),
    ),
    ledger=raw.contract(
        "csx_line",
        {
            "case_no": required(ref(CASE_REFS)),
            "line_no": required(identifier(), holds="line_ref"),
            "posted_on": date_column(ISO_DATE, holds="posted_date"),
            "kind": required(code(CODES["kind"]), holds="kind"),
            "owed_to": optional(code(CODES["creditor"]), holds="creditor"),
            "pence": required(pence(), holds="amount_pence"),
        },
        key=("case_no", "line_no"),
        row_checks=(raw.sign_agrees("kind", "pence", raising=("DR",), lowering=("CR",)),),
    ),
    extract_table=csx_extract,
    extract_column="taken_on",
    date_format=ISO_DATE,
    codes=CODES,
    case_refs=CASE_REFS,
    person_refs=PERSON_REFS,
    fixed={
        "assessment_type": "FULL",
        "payment_method": "COLLECTION",
        "enforcement_action": None,
        "clerical": False,
        "dv_marker": False,
        "period_from": None,
        "period_to": None,
    },
    persons_to_canonical=persons_to_canonical,
)

# ---------------------------------------------------------------------------------------------


def _case(case_no: str, **changes) -> dict:
    row = dict(
        case_no=case_no,
        payer="000001",
        payee="000002",
        opened_on="2009-01-05",
        state="OPEN",
        weekly_pence=1200,
        owed_pence=5000,
        owed_sos_pence=0,
    )
    return row | changes


@pytest.fixture
def csx_registered():
    systems.register(CSX)
    yield CSX
    systems.unregister(CSX.scheme)


@pytest.fixture
def three_systems(legacy_engine, legacy_url, target_url, monkeypatch, prefect_harness, csx_registered):
    """A legacy database holding a case of CSCS, one of CS2 and three of CSX, one broken."""
    write_estate(
        legacy_engine,
        {
            legacy.cscs_person: [person("P000000001"), person("P000000002")],
            legacy.cscs_case: [cscs_case("C930000001", "P000000001", "P000000002")],
            legacy.cs2_party: [party(1), party(2)],
            legacy.cs2_case: [cs2_case(10, "S030000010")],
            legacy.cs2_txn: [txn(100, 10)],
        },
        EXTRACTED_ON,
    )
    csx_metadata.create_all(legacy_engine)
    with legacy_engine.begin() as conn:
        conn.execute(insert(csx_extract), [{"taken_on": EXTRACTED_ON}])
        conn.execute(
            insert(csx_person),
            [
                dict(
                    person_no="000001",
                    surname="Payer",
                    forenames="Pat",
                    address="1 Road",
                    postcode="LS1 1AA",
                    died_on=None,
                ),
                dict(
                    person_no="000002",
                    surname="Payee",
                    forenames="Sam",
                    address=None,
                    postcode=None,
                    died_on="2013-02-01",
                ),
            ],
        )
        conn.execute(
            insert(csx_case),
            [
                _case("X080000001"),
                _case("X080000002", state="SHUT", owed_pence=0),
                _case("X080000003", state="GONE"),  # not a CSX state
            ],
        )
        conn.execute(
            insert(csx_line),
            [
                dict(case_no="X080000001", line_no=1, posted_on="2014-05-01", kind="DR", owed_to="P", pence=5000),
                dict(case_no="X080000001", line_no=2, posted_on="2014-06-01", kind="CR", owed_to="P", pence=-1000),
            ],
        )
    monkeypatch.setenv("CSA_LEGACY_URL", legacy_url)
    monkeypatch.setenv("CSA_TARGET_URL", target_url)
    # A system registered at run time is known to this process alone: its batches run here.
    monkeypatch.setattr(flows.extraction, "INLINE_BATCHES", 10)
    upgrade_target(engine_for(target_url))
    yield legacy_engine, engine_for(target_url)


def test_a_registered_system_is_extracted_by_the_extract_command_beside_the_others(three_systems, cli):
    legacy_engine, target = three_systems
    run = cli("extract")
    assert run.exit_code == 0, run.stderr or run.exception
    with target.connect() as conn:
        snapshot = {r.case_ref: r for r in conn.execute(select(legacy_case))}
        held = set(conn.execute(select(held_case.c.case_ref)).scalars())
        quarantined = {
            (r.source_table, r.source_key): [(x["column"], x["check"], x["value"]) for x in json.loads(r.reasons)]
            for r in conn.execute(select(quarantine))
        }
    assert set(snapshot) == {"C930000001", "S030000010", "X080000001", "X080000002"}
    csx = snapshot["X080000001"]
    assert (csx.scheme, csx.nrp_ref, csx.pwc_ref, csx.status) == ("2008", "X-000001", "X-000002", "LIVE")
    assert csx.pwc_deceased and csx.pwc_untraced and not csx.nrp_deceased
    assert csx.case_start_date == date(2009, 1, 5) and csx.last_receipt_on == date(2014, 6, 1)
    assert snapshot["X080000002"].status == "CLOSED"
    assert held == {"X080000003"}
    assert quarantined == {("csx_case", "X080000003"): [("state", "code", "GONE")]}


def test_letters_and_operators_events_know_a_registered_systems_people(three_systems):
    legacy_engine, _ = three_systems
    parties = read_parties(legacy_engine, ["X-000002", "P000000001", "X-999999"])
    assert sorted(parties["person_ref"]) == ["P000000001", "X-000002"]
    events = parse_events(
        pd.DataFrame(
            [
                {"event": "new-application", "nrp": "X-000001", "pwc": pwc, "received": "2014-07-01"}
                for pwc in ("X-000002", "X-2")
            ]
        ),
        systems.person_ref_formats(),
    )
    accepted, refused = events["refusal"].tolist()
    assert pd.isna(accepted)
    assert refused == "pwc must be a person reference (P + 9 digits or CS2-<digits> or X-<6 digits>), not 'X-2'"


def test_a_scheme_is_registered_once_and_its_removal_leaves_the_others():
    systems.register(CSX)
    try:
        assert systems.schemes() == ("1993", "2003", "2008")
        with pytest.raises(ValueError, match="2008"):
            systems.register(CSX)
    finally:
        systems.unregister(CSX.scheme)
    assert systems.schemes() == ("1993", "2003")


def test_a_declaration_naming_a_table_it_has_not_or_children_keyed_otherwise_is_refused_as_made():
    lines_elsewhere = raw.contract("csx_lines", dict(CSX.ledger.schema.columns), key=CSX.ledger.key)
    with pytest.raises(ValueError, match="CSX: no table csx_lines beside csx_extract"):
        dataclasses.replace(CSX, ledger=lines_elsewhere)
    children_by_number = raw.contract("csx_child", dict(CSX.child.schema.columns), key=("child_no", "case_no"))
    with pytest.raises(ValueError, match="CSX: a child's key must begin with its case's key, case_no"):
        dataclasses.replace(CSX, child=children_by_number)


def test_a_declaration_giving_a_canonical_column_no_value_is_refused_as_made():
    with pytest.raises(ValueError, match="CSX: no column of csx_case holds assessment_type, payment_method"):
        dataclasses.replace(CSX, fixed={})
