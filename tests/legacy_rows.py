"""Rows of a hand-made legacy estate (CONTRACTS.md sections 1 and 2), for tests.

The raw builders (``person``, ``cscs_case``, ``cscs_line``, ``party``, ``cs2_case``, ``txn``)
take the contract's own column values, so a test can write malformed ones on purpose; each
has clean defaults that any keyword overrides. ``cs2_day`` and ``cs2_pounds`` write a date and
an amount the way CS2 holds them. ``write_estate`` creates the legacy tables and inserts rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from sqlalchemy import Engine, Table, insert

from extract import legacy_schema as legacy


def person(ref: str, **changes) -> dict:
    """A CSCS person, traced and alive."""
    row = dict(
        person_ref=ref, surname="Testperson", forenames="Alex", date_of_birth=date(1970, 1, 1),
        nino=None, address_line1="1 High Street", address_line2=None, town="Leeds",
        postcode="LS1 1AA", date_of_death=None, resides_abroad=0,
    )
    return row | changes


def cscs_case(ref: str, nrp: str, pwc: str, **changes) -> dict:
    """A live CSCS case on collection, with a recorded balance of £10."""
    row = dict(
        case_ref=ref, nrp_ref=nrp, pwc_ref=pwc, case_start_date=date(2000, 5, 1), case_status="LIVE",
        assessment_type="FULL", weekly_liability_pence=2500, payment_method="COLLECTION",
        enforcement_action=None, clerical=0, dv_marker=0, arrears_total_pence=1000,
        arrears_sos_pence=0,
    )
    return row | changes


def cscs_line(case_ref: str, seq: int, **changes) -> dict:
    """A CSCS ledger line: by default a £10 PWC charge for April 2014."""
    row = dict(
        case_ref=case_ref, seq=seq, posted_date=date(2014, 5, 1), txn_type="CHARGE", creditor="PWC",
        amount_pence=1000, period_from=date(2014, 4, 1), period_to=date(2014, 4, 30),
    )
    return row | changes


def party(party_id: int, **changes) -> dict:
    """A CS2 party, traced, alive and at home."""
    row = dict(
        party_id=party_id, family_name="Testparty", given_names="Sam", birth_dt="01/02/1975",
        ni_number=None, addr="2 Low Road|Hull", post_code="HU1 1AA", death_dt=None,
        overseas_flag="N",
    )
    return row | changes


def cs2_case(case_id: int, number: str, **changes) -> dict:
    """An active CS2 case on collection at £15 a week, with a recorded balance of £400."""
    row = dict(
        case_id=case_id, case_number=number, paying_party_id=1, receiving_party_id=2,
        effective_dt="03/03/2008", state_cd="A", rate_cd="BAS", weekly_amt="15.00",
        collection_cd="CP", enf_cd=None, offline_ind="N", dv_ind="N", debt_amt="400.00",
        debt_sos_amt="0.00",
    )
    return row | changes


def txn(txn_id: int, case_id: int, **changes) -> dict:
    """A CS2 transaction: by default a £400 charge to the receiving parent for April 2014."""
    row = dict(
        txn_id=txn_id, case_id=case_id, posted_dt="01/05/2014", txn_cd="CHG", owed_to="RP",
        amt="400.00", period_start_dt="01/04/2014", period_end_dt="30/04/2014",
    )
    return row | changes


def cs2_day(day: date | None) -> str | None:
    """A date as CS2 writes it: DD/MM/YYYY."""
    return None if day is None else f"{day:%d/%m/%Y}"


def cs2_pounds(pence: int) -> str:
    """Whole pence as CS2's unsigned pounds text with two decimals: 40000 -> '400.00'."""
    whole, part = divmod(abs(pence), 100)
    return f"{whole}.{part:02d}"


def write_estate(
    engine: Engine,
    rows: Mapping[Table, Iterable[dict]],
    cscs_extracted_on: date,
    cs2_extracted_on: date | None = None,
) -> None:
    """Create every legacy table and insert ``rows`` (by table) and one extract row per scheme."""
    legacy.legacy_metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(legacy.cscs_extract), [{"extracted_on": cscs_extracted_on}])
        conn.execute(
            insert(legacy.cs2_extract),
            [{"extract_dt": cs2_day(cs2_extracted_on or cscs_extracted_on)}],
        )
        for table, table_rows in rows.items():
            table_rows = list(table_rows)
            if table_rows:
                conn.execute(insert(table), table_rows)
