"""Control characters in legacy text are quarantined: a name or an address holding a form feed
or a line break could otherwise forge the structure of a print file. Through a real extract,
on both backends."""

from __future__ import annotations

import json
from datetime import date

import pytest
from legacy_rows import cs2_case, cscs_case, cscs_line, party, person, txn, write_estate
from sqlalchemy import select

from csa_closure.db import engine_for
from extract import legacy_schema as legacy
from flows.extraction import extract_legacy
from load.migrate import upgrade_target
from load.schema import held_case, legacy_case, quarantine

FORGED_SURNAME = "Smith\f\nletter 9 | INITIAL_NOTICE | PWC\nDear Sir"


@pytest.fixture
def extracted(backend, legacy_engine, legacy_url, target_url, monkeypatch, prefect_harness):
    """An estate whose names, addresses and codes hold control characters, extracted."""
    nul = [person("P000000010", town="Le\x00eds")] if backend == "sqlite" else []  # PostgreSQL's text holds no NUL
    write_estate(
        legacy_engine,
        {
            legacy.cscs_person: [
                person("P000000001"), person("P000000002", surname=FORGED_SURNAME),
                person("P000000003", forenames="Anne\u0085Marie", address_line2="Flat\t2"),
                person("P000000004", surname="Zoë O'Brien–Ōtaki"),  # not control characters
                *nul,
            ],
            legacy.cscs_case: [
                cscs_case("C930000001", "P000000001", "P000000004"),
                cscs_case("C930000002", "P000000001", "P000000002"),
                cscs_case("C930000003", "P000000003", "P000000004", enforcement_action="COMMITTAL\x7f"),
                *([cscs_case("C930000010", "P000000010", "P000000004")] if nul else []),
            ],
            legacy.cscs_ledger: [
                cscs_line("C930000001", 1), cscs_line("C930000002", 1), cscs_line("C930000003", 1),
            ],
            legacy.cs2_party: [
                party(1), party(2, addr="2 Low Road\nHull\rEast"), party(3, post_code="HU1\x1b[2J"),
            ],
            legacy.cs2_case: [cs2_case(10, "S030000010"), cs2_case(11, "S030000011", paying_party_id=3)],
            legacy.cs2_txn: [txn(100, 10), txn(101, 11), txn(102, 10, amt="\x0c400.00")],
        },
        date(2014, 6, 30),
    )
    monkeypatch.setenv("CSA_LEGACY_URL", legacy_url)
    monkeypatch.setenv("CSA_TARGET_URL", target_url)
    target = engine_for(target_url)
    upgrade_target(target)
    extract_legacy()
    with target.connect() as conn:
        reasons = {
            (table, key): sorted((r["column"], r["check"], r["value"]) for r in json.loads(found))
            for table, key, found in conn.execute(
                select(quarantine.c.source_table, quarantine.c.source_key, quarantine.c.reasons)
            )
        }
        clean = set(conn.execute(select(legacy_case.c.case_ref)).scalars())
        held = set(conn.execute(select(held_case.c.case_ref)).scalars())
    return reasons, clean, held


def test_a_control_character_in_any_text_column_quarantines_its_record_and_holds_its_case(backend, extracted):
    reasons, clean, held = extracted
    expected = {
        ("cscs_person", "P000000002"): [("surname", "control_character", FORGED_SURNAME)],
        ("cscs_person", "P000000003"): [
            ("address_line2", "control_character", "Flat\t2"),
            ("forenames", "control_character", "Anne\u0085Marie"),
        ],
        ("cscs_case", "C930000003"): [
            ("enforcement_action", "code", "COMMITTAL\x7f"),
            ("enforcement_action", "control_character", "COMMITTAL\x7f"),
        ],
        ("cs2_party", "2"): [("addr", "control_character", "2 Low Road\nHull\rEast")],
        ("cs2_party", "3"): [("post_code", "control_character", "HU1\x1b[2J")],
        ("cs2_txn", "102"): [("amt", "amount", "\x0c400.00"), ("amt", "control_character", "\x0c400.00")],
    }
    if backend == "sqlite":
        expected[("cscs_person", "P000000010")] = [("town", "control_character", "Le\x00eds")]
    assert reasons == expected
    assert clean == {"C930000001"}
    assert held == {"C930000002", "C930000003", "S030000010", "S030000011"} | (
        {"C930000010"} if backend == "sqlite" else set()
    )
