"""Extract and validate against a small hand-made legacy estate holding one of each defect."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from legacy_rows import cs2_case, cscs_case, cscs_line, party, person, txn
from sqlalchemy import insert, select

import flows
from csa_closure.db import engine_for
from extract import legacy_schema as legacy
from flows.extraction import extract_legacy
from load.migrate import upgrade_target
from load.schema import held_case, legacy_case, quarantine

EXTRACTED_ON = date(2014, 6, 30)


@pytest.fixture
def defective_estate(legacy_engine):
    """Two clean cases and one record of each defect, per scheme."""
    legacy.legacy_metadata.create_all(legacy_engine)
    with legacy_engine.begin() as conn:
        conn.execute(insert(legacy.cscs_extract), [{"extracted_on": EXTRACTED_ON}])
        conn.execute(insert(legacy.cs2_extract), [{"extract_dt": "30/06/2014"}])
        conn.execute(insert(legacy.cscs_person), [
            person("P000000001"), person("P000000002"), person("P000000003"),
            person("P000000004", date_of_death=date(2012, 1, 1)),
            person("P000000006"), person("P000000006 "),  # a padded duplicate key
            person("P000000007", resides_abroad=2),  # a bad flag
            person("P000000008", address_line1=None),  # untraced: clean
        ])
        conn.execute(insert(legacy.cscs_case), [
            cscs_case("C930000001", "P000000001", "P000000002"),
            cscs_case("C930000002", "P000000001", "P000000003", case_status="LIVEX",
                      payment_method="CHEQUE"),
            cscs_case("C930000003", "P000000099", "P000000003"),
            cscs_case("C930000004", "P000000004", "P000000008"),
            cscs_case("C930000005", "P000000001", "P000000007"),
            cscs_case("C930000006", "P000000006", "P000000002"),
            cscs_case("C930000008", "P000000003", "P000000002", arrears_total_pence=100,
                      arrears_sos_pence=500),
        ])
        conn.execute(insert(legacy.cscs_ledger), [
            cscs_line("C930000001", 1),
            cscs_line("C930000001", 2, txn_type="RECEIPT", amount_pence=-500, period_from=None,
                      period_to=None, posted_date=date(2014, 6, 1)),
            cscs_line("C930000004", 1, txn_type="RECEIPT", amount_pence=500),  # wrong sign
            cscs_line("C930000004", 2, period_to=date(2014, 3, 1)),  # period ends before it starts
            cscs_line("C930000009", 1),  # no such case
        ])
        conn.execute(insert(legacy.cscs_child), [
            {"case_ref": "C930000001", "child_seq": 1, "date_of_birth": date(2005, 1, 1)},
        ])
        conn.execute(insert(legacy.cs2_party), [party(1), party(2), party(3, death_dt="32/01/2013")])
        conn.execute(insert(legacy.cs2_case), [
            cs2_case(10, "S030000010"),
            cs2_case(11, "S030000011", effective_dt="31/02/2009"),
            cs2_case(12, "S030000012", state_cd="Q", weekly_amt="12.5O"),
            cs2_case(13, "S030000013"),
            cs2_case(14, "s030000013"),  # the same case number in lower case
            cs2_case(15, "S030000015", receiving_party_id=3),  # a party with a bad death date
            cs2_case(16, "S030000016", effective_dt=None),
        ])
        conn.execute(insert(legacy.cs2_txn), [
            txn(100, 10),
            txn(101, 10, txn_cd="RCP", amt="25.00", posted_dt="01/06/2014", period_start_dt=None,
                period_end_dt=None),
            txn(102, 99),  # no such case
            txn(103, 13, amt="1,234.00", txn_cd="ADJ?"),
            txn(104, None),  # no case at all: read once, by the first batch
        ])
    return legacy_engine


@pytest.fixture
def target_engine(target_url, legacy_url, monkeypatch, prefect_harness):
    """A migrated target; the flows read both URLs from the environment, as in production."""
    monkeypatch.setenv("CSA_LEGACY_URL", legacy_url)
    monkeypatch.setenv("CSA_TARGET_URL", target_url)
    monkeypatch.setenv("CSA_EXTRACT_BATCH_SIZE", "10")  # a batch a scheme: run in the flow's process
    engine = engine_for(target_url)
    upgrade_target(engine)
    yield engine


def extract_all() -> dict[str, dict]:
    return {summary["scheme"]: summary for summary in extract_legacy()}


def quarantined(target_engine) -> dict[tuple[str, str], list[tuple[str, str]]]:
    with target_engine.connect() as conn:
        rows = conn.execute(select(quarantine.c.source_table, quarantine.c.source_key, quarantine.c.reasons)).all()
    return {
        (table, key): sorted((r["column"], r["check"]) for r in json.loads(reasons))
        for table, key, reasons in rows
    }


EXPECTED_QUARANTINE = {
    ("cscs_case", "C930000002"): [("case_status", "code"), ("payment_method", "code")],
    ("cscs_case", "C930000003"): [("nrp_ref", "parent_exists")],
    ("cscs_case", "C930000008"): [("arrears_sos_pence", "sos_within_total")],
    ("cscs_ledger", "C930000004/1"): [("amount_pence", "sign")],
    ("cscs_ledger", "C930000004/2"): [("period_to", "period")],
    ("cscs_ledger", "C930000009/1"): [("case_ref", "case_exists")],
    ("cscs_person", "P000000006"): [("person_ref", "unique")],
    ("cscs_person", "P000000006 "): [("person_ref", "format"), ("person_ref", "unique")],
    ("cscs_person", "P000000007"): [("resides_abroad", "code")],
    ("cs2_case", "11"): [("effective_dt", "date")],
    ("cs2_case", "12"): [("state_cd", "code"), ("weekly_amt", "amount")],
    ("cs2_case", "13"): [("case_number", "unique")],
    ("cs2_case", "14"): [("case_number", "format"), ("case_number", "unique")],
    ("cs2_case", "16"): [("effective_dt", "not_null")],
    ("cs2_party", "3"): [("death_dt", "date")],
    ("cs2_txn", "102"): [("case_id", "case_exists")],
    ("cs2_txn", "103"): [("amt", "amount"), ("txn_cd", "code")],
    ("cs2_txn", "104"): [("case_id", "not_null")],
}


def test_every_defect_is_quarantined_with_every_reason_and_no_clean_record_is(
    defective_estate, target_engine
):
    extract_all()
    assert quarantined(target_engine) == EXPECTED_QUARANTINE


def test_batch_workers_start_with_the_flows_folder_first_on_the_path(defective_estate, target_engine, monkeypatch):
    """Prefect puts a deployment's entrypoint folder (``flows/``) first on the path; the batch
    workers it then spawns must still find the engine's packages, not a module of that folder."""
    monkeypatch.setenv("CSA_EXTRACT_BATCH_SIZE", "3")  # batches enough for the worker pool
    monkeypatch.syspath_prepend(str(Path(flows.__file__).parent))
    extract_all()
    assert quarantined(target_engine) == EXPECTED_QUARANTINE


def test_clean_cases_go_on_and_cases_with_a_bad_record_are_held_back(defective_estate, target_engine):
    counts = extract_all()
    with target_engine.connect() as conn:
        clean = set(conn.execute(select(legacy_case.c.case_ref)).scalars())
        held = set(conn.execute(select(held_case.c.case_ref)).scalars())
    assert clean == {"C930000001", "S030000010"}
    assert held == {
        "C930000002", "C930000003", "C930000004", "C930000005", "C930000006", "C930000008",
        "S030000011", "S030000012", "S030000013", "s030000013", "S030000015", "S030000016",
    }
    for scheme, count in counts.items():
        assert count["cases_extracted"] == count["cases_clean"] + count["cases_held"], scheme
    assert counts["1993"]["cases_extracted"] == 7
    assert counts["2003"]["cases_extracted"] == 7


def test_canonical_snapshot_maps_both_schemes(defective_estate, target_engine):
    extract_all()
    with target_engine.connect() as conn:
        rows = {r.case_ref: r for r in conn.execute(select(legacy_case))}
    cs2 = rows["S030000010"]
    assert (cs2.scheme, cs2.nrp_ref, cs2.pwc_ref) == ("2003", "CS2-1", "CS2-2")
    assert (cs2.status, cs2.payment_method, cs2.weekly_liability_pence) == ("LIVE", "COLLECTION", 1500)
    assert (cs2.recorded_total_pence, cs2.recorded_sos_pence) == (40000, 0)
    assert cs2.case_start_date == date(2008, 3, 3)
    assert cs2.last_receipt_on == date(2014, 6, 1)
    cscs = rows["C930000001"]
    assert (cscs.scheme, cscs.legacy_case_id, cscs.recorded_total_pence) == ("1993", 0, 1000)
    assert cscs.last_receipt_on == date(2014, 6, 1)
    assert not cscs.nrp_deceased and not cscs.pwc_untraced


def test_extracting_again_adds_no_row_and_a_newer_extract_moves_last_seen(defective_estate, target_engine):
    extract_all()
    first = quarantined(target_engine)
    extract_all()
    assert quarantined(target_engine) == first
    with defective_estate.begin() as conn:
        conn.execute(legacy.cscs_extract.update().values(extracted_on=date(2014, 7, 31)))
    extract_all()
    with target_engine.connect() as conn:
        seen = conn.execute(
            select(quarantine.c.first_seen, quarantine.c.last_seen).where(quarantine.c.source_key == "C930000002")
        ).one()
    assert seen == (EXTRACTED_ON, date(2014, 7, 31))
    assert len(quarantined(target_engine)) == len(first)
