"""Defect 2: a database error printed the rows it failed on, names and addresses included, into
the command's stderr, ``batch_run.last_error``, Prefect's logs and state messages. A write of
quarantine rows and one of letters are made to fail; no output may carry the estate's names,
addresses or National Insurance numbers."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from conftest import in_a_process
from legacy_rows import cscs_case, cscs_line, person, write_estate
from prefect.settings import PREFECT_API_URL, get_current_settings
from sqlalchemy import Text, select, text

from csa_closure.db import engine_for, make_engine
from extract import legacy_schema as legacy
from load.migrate import upgrade_target
from load.schema import target_metadata

PEOPLE = {
    "P000000001": ("Quixotella", "Marchbanks", "17 Zanzibar Crescent", "ZQ9 9ZQ", "QQ123456C"),
    "P000000002": ("Bartholomew", "Fennimore", "4 Ptarmigan Wynd", "ZQ8 8ZQ", "QQ654321A"),
    "P000000003": ("Ermintrude", "Oglethorpe", "9 Quillwort Row", "ZQ7 7ZQ", "QQ112233B"),
}
SECRETS = [word for details in PEOPLE.values() for word in details]
KEPT_AS_DATA = {("quarantine", "raw")}
"""Where the engine keeps personal data on purpose: a quarantined record. A letter keeps its
parents' references; their names and addresses are read when it is printed."""


def estate(legacy_url: str) -> None:
    people = [
        person(ref, forenames=forenames, surname=surname, address_line1=street, postcode=postcode, nino=nino)
        for ref, (forenames, surname, street, postcode, nino) in PEOPLE.items()
    ]
    people[2]["resides_abroad"] = 7  # breaks the contract: quarantined, names and all
    write_estate(make_engine(legacy_url, legacy=True, writable=True), {
        legacy.cscs_person: people,
        legacy.cscs_case: [cscs_case("C930000001", "P000000001", "P000000002", weekly_liability_pence=0,
                                     payment_method="NONE", assessment_type="NIL"),
                           cscs_case("C930000002", "P000000003", "P000000002")],
        legacy.cscs_ledger: [cscs_line("C930000001", 1)],
    }, date(2014, 6, 30))


def fail_writes_to(target, table: str, column: str) -> None:
    """Every write of ``table`` fails: a check the rows break on PostgreSQL (whose message
    quotes the row), a trigger on SQLite (whose statement carries the values as parameters)."""
    with target.begin() as conn:
        if target.dialect.name == "postgresql":
            conn.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT forced_failure CHECK ({column} IS NULL) NOT VALID"))
        else:
            conn.execute(
                text(
                    f"CREATE TRIGGER forced_failure BEFORE INSERT ON {table} "
                    "BEGIN SELECT RAISE(ABORT, 'forced failure'); END"
                )
            )


def cleared(target, table: str) -> None:
    with target.begin() as conn:
        if target.dialect.name == "postgresql":
            conn.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT forced_failure"))
        else:
            conn.execute(text("DROP TRIGGER forced_failure"))


def leaks(texts: list[str]) -> list[str]:
    return [word for word in SECRETS if any(word in t for t in texts)]


def target_text(target) -> list[str]:
    """Every text value of every target table, but where personal data is kept on purpose."""
    values = []
    with target.connect() as conn:
        for table in target_metadata.sorted_tables:
            columns = [c for c in table.c if isinstance(c.type, Text) and (table.name, c.name) not in KEPT_AS_DATA]
            if columns:
                values += [str(v) for row in conn.execute(select(*columns)) for v in row if v is not None]
    return values


def test_a_failed_write_of_quarantine_or_letters_leaks_no_personal_data(
    legacy_url, target_url, tmp_path, prefect_harness
):
    estate(legacy_url)
    target = engine_for(target_url)
    upgrade_target(target)
    env = os.environ | {
        "CSA_LEGACY_URL": legacy_url,
        "CSA_TARGET_URL": target_url,
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "CSA_LETTERS_DIR": str(tmp_path / "letters"),
    }

    fail_writes_to(target, "quarantine", "raw")
    extract = in_a_process("extract", env=env)
    assert extract.returncode != 0
    cleared(target, "quarantine")
    assert in_a_process("plan", "--start", "2014-07-07", env=env).returncode == 0  # extracts first

    fail_writes_to(target, "letter", "body")
    advance = in_a_process("advance", "--as-of", "2014-07-07", env=env)
    assert advance.returncode == 1
    with target.connect() as conn:
        errors = conn.execute(text("SELECT last_error FROM batch_run WHERE state = 'FAILED'")).scalars().all()
        raw = conn.execute(text("SELECT raw FROM quarantine")).scalars().all()
    assert errors and "forced_failure" in errors[0] or "forced failure" in errors[0]
    assert leaks(raw), "the quarantined record keeps its names, so a leak would show"

    prefect_database = Path(
        get_current_settings().server.database.connection_url.get_secret_value().split(":///", 1)[1]
    )
    prefect_files = [
        path.read_bytes().decode("utf-8", "replace")
        for path in prefect_database.parent.glob(prefect_database.name + "*")
    ]
    assert any("advance-2014-07-07" in content for content in prefect_files)
    assert leaks([extract.stdout, extract.stderr]) == []
    assert leaks([advance.stdout, advance.stderr]) == []
    assert leaks(target_text(target)) == []
    assert leaks(prefect_files) == []
