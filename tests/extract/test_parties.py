"""Parties by canonical reference, from both legacy systems, in bound chunks."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import insert

from extract import legacy_schema as legacy
from extract import parties as parties_module
from extract.parties import read_parties
from validate.canonical import PARTY_COLUMNS


@pytest.fixture
def legacy_parties(legacy_engine):
    """Two CSCS persons (one untraced) and two CS2 parties (one dead, one abroad)."""
    legacy.legacy_metadata.create_all(legacy_engine)
    with legacy_engine.begin() as conn:
        conn.execute(insert(legacy.cscs_person), [
            dict(person_ref="P000000001", surname="Paysworth", forenames="Nadia",
                 date_of_birth=date(1970, 1, 1), nino="QQ123456C", address_line1="1 High Street",
                 address_line2=None, town="Leeds", postcode="LS1 1AA", date_of_death=None,
                 resides_abroad=0),
            dict(person_ref="P000000002", surname="Carewell", forenames="Priya",
                 date_of_birth=date(1972, 2, 2), nino=None, address_line1=None, address_line2=None,
                 town=None, postcode="HU2 2BB", date_of_death=None, resides_abroad=0),
        ])
        conn.execute(insert(legacy.cs2_party), [
            dict(party_id=11, family_name="Zebedee", given_names="Quentin", birth_dt="01/02/1975",
                 ni_number="QQ654321A", addr="9 Hidden Close|Flat 2|Durham", post_code="DH9 9ZZ",
                 death_dt="01/01/2013", overseas_flag="N"),
            dict(party_id=12, family_name="Safehouse", given_names="Rosa", birth_dt="03/04/1980",
                 ni_number=None, addr="7 Quiet Lane|York", post_code="YO7 7YY", death_dt=None,
                 overseas_flag="Y"),
        ])
    return legacy_engine


def test_mixed_references_come_back_canonical_and_unknown_ones_are_absent(legacy_parties):
    refs = ["P000000001", "CS2-11", "P000000002", "CS2-12", "P000000099", "CS2-99", "CS2-x"]
    found = read_parties(legacy_parties, refs)
    assert list(found.columns) == PARTY_COLUMNS
    rows = found.set_index("person_ref").to_dict("index")
    assert sorted(rows) == ["CS2-11", "CS2-12", "P000000001", "P000000002"]
    assert rows["P000000001"] == {
        "surname": "Paysworth", "forenames": "Nadia", "address": "1 High Street\nLeeds",
        "postcode": "LS1 1AA", "deceased": False, "untraced": False, "abroad": False,
    }
    assert pd.isna(rows["P000000002"]["address"]) and rows["P000000002"]["untraced"]
    assert rows["CS2-11"]["address"] == "9 Hidden Close\nFlat 2\nDurham"
    assert rows["CS2-11"]["deceased"] and not rows["CS2-11"]["abroad"]
    assert rows["CS2-12"]["abroad"] and not rows["CS2-12"]["deceased"]


def test_no_national_insurance_number_is_read(legacy_parties):
    found = read_parties(legacy_parties, ["P000000001", "CS2-11"])
    assert "QQ123456C" not in found.to_string() and "QQ654321A" not in found.to_string()


def test_many_references_are_read_in_chunks_with_the_same_result(legacy_parties, monkeypatch):
    refs = ["P000000001", "P000000002", "CS2-11", "CS2-12"]
    whole = read_parties(legacy_parties, refs).sort_values("person_ref", ignore_index=True)
    monkeypatch.setattr(parties_module, "CHUNK_SIZE", 1)
    chunked = read_parties(legacy_parties, refs).sort_values("person_ref", ignore_index=True)
    pd.testing.assert_frame_equal(chunked, whole)


def test_no_references_give_an_empty_canonical_frame(legacy_parties):
    found = read_parties(legacy_parties, [])
    assert found.empty and list(found.columns) == PARTY_COLUMNS
