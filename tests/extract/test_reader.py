"""The ADBC reader on real SQLite and PostgreSQL databases: every column as text, nothing lost."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Column, MetaData, Table, Text, insert, select

from extract import legacy_schema as legacy
from extract.reader import legacy_reader, raw_select
from legacy_rows import cscs_line, person


@pytest.fixture
def ledger_estate(legacy_engine):
    legacy.legacy_metadata.create_all(legacy_engine)
    with legacy_engine.begin() as conn:
        # More lines without a period than SQLite's driver looks at to type a column by default.
        lines = [
            cscs_line("C930000001", seq, txn_type="RECEIPT", amount_pence=-seq, period_from=None, period_to=None)
            for seq in range(1, 3_001)
        ]
        lines.append(cscs_line("C930000001", 3_001, period_from=date(2014, 1, 1), period_to=date(2014, 1, 31)))
        conn.execute(insert(legacy.cscs_ledger), lines)
        conn.execute(insert(legacy.cscs_person), [person("P000000001", nino=None, date_of_death=None)])
    return legacy_engine


def test_every_column_is_read_as_text_even_after_thousands_of_nulls(ledger_estate):
    with legacy_reader(ledger_estate) as reader:
        lines = reader.frame(raw_select(legacy.cscs_ledger).order_by(legacy.cscs_ledger.c.seq))
    assert len(lines) == 3_001
    assert list(lines.columns) == [column.name for column in legacy.cscs_ledger.columns]
    assert all(str(dtype) == "str" for dtype in lines.dtypes)
    last = lines.iloc[-1]
    assert (last["seq"], last["amount_pence"], last["period_from"], last["period_to"]) == (
        "3001", "1000", "2014-01-01", "2014-01-31"
    )
    assert lines["period_from"].iloc[:3_000].isna().all()
    assert lines.iloc[0]["amount_pence"] == "-1"


def test_an_all_null_column_and_an_empty_result_keep_their_text_columns(ledger_estate):
    with legacy_reader(ledger_estate) as reader:
        persons = reader.frame(raw_select(legacy.cscs_person))
        none = reader.frame(raw_select(legacy.cscs_person).where(legacy.cscs_person.c.person_ref == "P999999999"))
    assert persons["nino"].isna().all() and str(persons["nino"].dtype) == "str"
    assert persons.iloc[0]["date_of_birth"] == "1970-01-01"
    assert len(none) == 0 and all(str(dtype) == "str" for dtype in none.dtypes)


def test_values_are_inlined_safely(ledger_estate):
    quoted = "P00'); DROP TABLE cscs_person; --"
    with legacy_reader(ledger_estate) as reader:
        found = reader.frame(raw_select(legacy.cscs_person).where(legacy.cscs_person.c.person_ref.in_([quoted])))
    assert len(found) == 0
    with ledger_estate.connect() as conn:
        assert conn.execute(select(legacy.cscs_person.c.person_ref)).scalars().all() == ["P000000001"]


def test_a_lost_connection_is_transient_and_bad_sql_is_not(ledger_estate):
    import adbc_driver_manager
    import adbc_driver_postgresql.dbapi

    from csa_closure.retry import is_transient

    with pytest.raises(adbc_driver_manager.OperationalError) as refused:
        adbc_driver_postgresql.dbapi.connect("postgresql://postgres@127.0.0.1:1/nowhere")
    assert is_transient(refused.value)
    with legacy_reader(ledger_estate) as reader, pytest.raises(adbc_driver_manager.Error) as bad_sql:
        reader.frame(raw_select(Table("no_such_table", MetaData(), Column("x", Text))))
    assert not is_transient(bad_sql.value)
