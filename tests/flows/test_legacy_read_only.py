"""The legacy database is read, never written: through the real CLI, on both backends.

Every command but ``generate`` and ``simulate`` opens it read-only, refuses one that is not
there (creating nothing), and ``generate`` overwrites only an empty database or its own estate
unless told ``--replace``.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import adbc_driver_manager
import pytest
from legacy_rows import cscs_case, cscs_line, person, write_estate
from sqlalchemy import Column, Integer, MetaData, Table, insert, inspect, select, text
from sqlalchemy.exc import DBAPIError

from csa_closure.db import engine_for, make_engine
from extract import legacy_schema as legacy
from extract.reader import legacy_reader
from load.migrate import upgrade_target


@pytest.fixture
def legacy_estate(legacy_engine, legacy_url, target_url, monkeypatch, prefect_harness) -> str:
    """A one-case legacy estate and a migrated target, named by the environment."""
    write_estate(
        legacy_engine,
        {
            legacy.cscs_person: [person("P000000001"), person("P000000002")],
            legacy.cscs_case: [cscs_case("C930000001", "P000000001", "P000000002")],
            legacy.cscs_ledger: [cscs_line("C930000001", 1)],
        },
        date(2014, 6, 30),
    )
    legacy_engine.dispose()
    upgrade_target(engine_for(target_url))
    monkeypatch.setenv("CSA_LEGACY_URL", legacy_url)
    monkeypatch.setenv("CSA_TARGET_URL", target_url)
    return legacy_url


def _file_state(url: str) -> tuple[str, int]:
    path = Path(url.removeprefix("sqlite:///"))
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_extract_leaves_a_sqlite_legacy_file_as_it_was(legacy_estate, cli):
    before = _file_state(legacy_estate)
    result = cli("extract")
    code, refused = result.exit_code, result.refused
    assert (code, refused) == (0, "")
    assert _file_state(legacy_estate) == before


def test_the_legacy_engine_and_reader_cannot_write(legacy_estate):
    engine = make_engine(legacy_estate, legacy=True)
    with pytest.raises(DBAPIError, match="readonly database|read-only transaction|ReadOnlySqlTransaction"):
        with engine.begin() as conn:
            conn.execute(insert(legacy.cscs_extract).values(extracted_on=date(2015, 1, 1)))
    engine.dispose()
    with pytest.raises(
        adbc_driver_manager.Error, match="readonly database|read-only transaction|ReadOnlySqlTransaction"
    ):
        with legacy_reader(engine) as reader, reader._connection.cursor() as cursor:
            cursor.execute("DELETE FROM cscs_extract")
    with make_engine(legacy_estate, legacy=True).connect() as conn:
        assert conn.execute(select(legacy.cscs_extract.c.extracted_on)).scalars().all() == [date(2014, 6, 30)]


@pytest.mark.parametrize("command", [["extract"], ["advance", "--as-of", "2014-07-07"]], ids=" ".join)
def test_a_mistyped_legacy_url_is_refused_and_creates_nothing(
    backend, target_url, tmp_path, monkeypatch, cli, prefect_harness, command
):
    upgrade_target(engine_for(target_url))
    if backend == "sqlite":
        missing = tmp_path / "no" / "such" / "legacy.db"
        url, name = f"sqlite:///{missing}", str(missing)
    else:
        name = "csa_test_no_such_legacy"
        url = target_url.rsplit("/", 1)[0] + "/" + name
    monkeypatch.setenv("CSA_LEGACY_URL", url)
    monkeypatch.setenv("CSA_TARGET_URL", target_url)
    result = cli(*command)
    code, refused = result.exit_code, result.refused
    assert (code, refused) == (2, f"refused: the legacy database {name} does not exist")
    assert not (tmp_path / "no").exists()


def _generate(cli, *options: str) -> tuple[int, str]:
    result = cli("generate", "--cases", "30", "--seed", "4", *options)
    code, refused = result.exit_code, result.refused
    return code, refused


def test_generate_overwrites_only_its_own_estate_unless_told_to_replace(
    legacy_url, legacy_engine, monkeypatch, cli, prefect_harness
):
    monkeypatch.setenv("CSA_LEGACY_URL", legacy_url)
    assert _generate(cli) == (0, "")  # an empty database
    assert _generate(cli) == (0, "")  # its own estate, again

    payroll = Table("payroll", MetaData(), Column("employee", Integer))
    with legacy_engine.begin() as conn:
        conn.execute(text("DROP TABLE synthetic_estate"))  # now a database generate did not write
        payroll.create(conn)
        conn.execute(insert(payroll).values(employee=7))
        cases_before = conn.execute(select(legacy.cscs_case.c.case_ref)).scalars().all()
    tables = len(inspect(legacy_engine).get_table_names())
    code, refused = _generate(cli, "--seed", "5")
    assert code == 2
    assert refused == (
        f"refused: the legacy database {legacy_engine.url.database} holds {tables} tables and no "
        "synthetic estate: give --replace to overwrite it"
    )
    with legacy_engine.connect() as conn:
        assert conn.execute(select(legacy.cscs_case.c.case_ref)).scalars().all() == cases_before
        assert conn.execute(select(payroll.c.employee)).scalars().all() == [7]

    assert _generate(cli, "--replace") == (0, "")
    with legacy_engine.connect() as conn:
        assert conn.execute(text("SELECT seed, cases FROM synthetic_estate")).all() == [(4, 30)]
