"""The ADBC reader on real SQLite and PostgreSQL databases: every column as text, nothing lost."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pandas as pd
import pytest
from legacy_rows import cscs_line, person
from sqlalchemy import Column, MetaData, Table, Text, insert, select

from csa_closure.db import make_engine
from csa_closure.refusal import Refusal
from extract import legacy_schema as legacy
from extract.reader import legacy_reader, raw_select


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


def test_integer_columns_read_as_their_text_nulls_and_all(ledger_estate):
    """PostgreSQL's integer columns travel as integers and become text in the reader; SQLite's
    are cast by the database. Either way: the same text, NULL as NA, text columns when empty."""
    with ledger_estate.begin() as conn:
        conn.execute(insert(legacy.cscs_ledger), [cscs_line("C930000002", 7, amount_pence=None)])
    ledger = legacy.cscs_ledger
    with legacy_reader(ledger_estate) as reader:
        line = reader.frame(raw_select(ledger).where(ledger.c.case_ref == "C930000002"))
        none = reader.frame(raw_select(ledger).where(ledger.c.seq > 10**6))
    assert line.iloc[0]["seq"] == "7" and pd.isna(line.iloc[0]["amount_pence"])
    assert str(line["seq"].dtype) == str(line["amount_pence"].dtype) == "str"
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


def test_a_reader_takes_the_last_readers_connection_but_never_one_that_failed(ledger_estate):
    import adbc_driver_manager

    with legacy_reader(ledger_estate) as first:
        first.frame(raw_select(legacy.cscs_person))
    with legacy_reader(ledger_estate) as second:
        assert second._connection is first._connection  # connecting cost ADBC's driver ~0.1 s
    with pytest.raises(adbc_driver_manager.Error), legacy_reader(ledger_estate) as failing:
        failing.frame(raw_select(Table("no_such_table", MetaData(), Column("x", Text))))
    with legacy_reader(ledger_estate) as after:
        assert after._connection is not failing._connection
        assert len(after.frame(raw_select(legacy.cscs_person))) == 1


# Python's sqlite3 reads a legacy SQLite file in one thread while ADBC's driver, which carries its
# own copy of SQLite, opens it again and again in another, as the journey's units do. In WAL
# mode the second copy resets the shared-memory index the first has mapped: a bus error.
_TWO_SQLITES_IN_ONE_PROCESS = """
import sys, threading
import adbc_driver_sqlite.dbapi as adbc_sqlite
from csa_closure.db import make_engine
from csa_closure.refusal import Refusal
from sqlalchemy import column, func, select, table

writer = make_engine(sys.argv[1], legacy=True, writable=True)
with writer.begin() as conn:
    print(conn.exec_driver_sql("PRAGMA journal_mode").scalar_one())
    conn.exec_driver_sql("CREATE TABLE filler (n INTEGER)")
    conn.exec_driver_sql("INSERT INTO filler (n) VALUES (?)", [(n,) for n in range(100_000)])
writer.dispose()
engine = make_engine(sys.argv[1], legacy=True)
path = sys.argv[1].removeprefix("sqlite:///")
count = select(func.count().label("n")).select_from(table("filler", column("n")))
held = engine.connect()  # one unit's connection stays open while others come and go
held.execute(count).scalar_one()
done = threading.Event()

def count_through_sqlalchemy():
    while not done.is_set():
        with engine.connect() as conn:
            conn.execute(count).scalar_one()
        engine.dispose()  # the next one is a new connection

reading = threading.Thread(target=count_through_sqlalchemy)
reading.start()
for _ in range(300):  # the reader's own connections are kept, but every process opens some
    connection = adbc_sqlite.connect(f"file:{path}?mode=ro", autocommit=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM filler")
        cursor.fetchall()
    connection.close()
done.set()
reading.join()
"""


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_legacy_sqlite_file_survives_both_sqlite_libraries_reading_it_at_once(legacy_url):
    earlier = make_engine(legacy_url)  # the target's settings: a file left in WAL by an earlier version
    with earlier.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
    earlier.dispose()
    with pytest.raises(Refusal, match="is in WAL mode"):  # a read-only engine cannot take it out
        make_engine(legacy_url, legacy=True)
    run = subprocess.run(
        [sys.executable, "-c", _TWO_SQLITES_IN_ONE_PROCESS, legacy_url], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, f"exit {run.returncode}: {run.stderr[-2000:]}"
    assert run.stdout.split() == ["delete"]  # taken out of WAL by the writable legacy engine
