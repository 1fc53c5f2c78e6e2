"""Streams a legacy system's cases in batches, validates them and maps the clean ones.

A batch is a contiguous range of the case table's key; its children and ledger lines are read
by the same range, so every line of the legacy tables falls in exactly one batch, orphans
included. Memory stays flat in the estate's size: only one batch's rows are held at a time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, Table, Text, and_, bindparam, cast, func, or_, select, true

from extract.systems import LegacySystem
from validate.reasons import Reason, contract_reasons, merge_reasons, reason
from validate.raw import RawContract

Bound = Any  # a key of the case table: text for CSCS, an integer for CS2


@dataclass(frozen=True)
class BatchRange:
    """Cases with ``lower < key <= upper``; ``None`` leaves that side open. The first batch
    also takes rows whose case key is NULL, so every row of a table falls in one batch."""

    number: int
    lower: Bound | None
    upper: Bound | None

    @property
    def label(self) -> str:
        return f"B{self.number:03d}"

    def where(self, key):
        condition = true()
        if self.upper is not None:
            condition = key <= self.upper
        if self.lower is not None:
            return and_(condition, key > self.lower)
        return or_(condition, key.is_(None)) if self.upper is not None else condition


@dataclass(frozen=True)
class CaseKeys:
    """Named cases (a tranche's batch): their keys in the case table (``case_ref`` for CSCS,
    ``case_id`` for CS2)."""

    label: str
    keys: tuple[Bound, ...]

    def where(self, key):
        return key.in_(self.keys)


CaseSelector = BatchRange | CaseKeys


@dataclass(frozen=True)
class KnownDuplicates:
    """Normalised keys that occur more than once in the whole case or person table."""

    case_refs: frozenset[str]
    person_keys: frozenset[str]


@dataclass
class QuarantineRecord:
    source_table: str
    source_key: str
    reasons: list[Reason]
    raw: dict[str, Any]
    case_ref: str | None


@dataclass
class ExtractedBatch:
    """One batch: canonical frames of its clean cases and what it holds back."""

    scheme: str
    label: str
    cases_read: int
    cases: pd.DataFrame
    ledger: pd.DataFrame
    parties: pd.DataFrame
    held_case_refs: list[str] = field(default_factory=list)
    quarantined: list[QuarantineRecord] = field(default_factory=list)

    @property
    def case_refs(self) -> list[str]:
        return list(self.cases["case_ref"]) + self.held_case_refs


def normalise_key(values: pd.Series) -> pd.Series:
    """The business key as the legacy systems mean it: blanks trimmed, upper case."""
    return values.str.strip().str.upper()


def extract_date(legacy: Engine, system: LegacySystem) -> date:
    """The date of the legacy extract, from the system's one-row extract table."""
    with legacy.connect() as conn:
        value = conn.execute(select(system.extract_table.c[system.extract_column])).scalar_one()
    if isinstance(value, date):
        return value
    return pd.to_datetime(value, format=system.date_format).date()


def batch_ranges(legacy: Engine, system: LegacySystem, batch_size: int) -> list[BatchRange]:
    """Contiguous key ranges of ``batch_size`` cases, found by streaming the keys only."""
    key = system.case_table.c[system.case_page_key]
    uppers: list[Bound] = []
    with legacy.connect() as conn:
        keys = conn.execution_options(stream_results=True, yield_per=50_000).execute(
            select(key).order_by(key)
        )
        for position, (value,) in enumerate(keys, start=1):
            if position % batch_size == 0:
                uppers.append(value)
    ranges: list[BatchRange] = []
    lower: Bound | None = None
    for number, upper in enumerate(uppers, start=1):
        ranges.append(BatchRange(number, lower, upper))
        lower = upper
    ranges.append(BatchRange(len(uppers) + 1, lower, None))
    return ranges


def known_duplicates(legacy: Engine, system: LegacySystem) -> KnownDuplicates:
    """Keys duplicated across the whole case and person tables (set-based, one pass each)."""
    with legacy.connect() as conn:
        return KnownDuplicates(
            case_refs=_duplicated(conn, system.case_table, system.case_ref_column),
            person_keys=_duplicated(conn, system.person_table, system.person.key[0]),
        )


def _duplicated(conn: Connection, table: Table, column: str) -> frozenset[str]:
    normalised = func.upper(func.trim(_as_text(table.c[column])))
    rows = conn.execute(
        select(normalised).group_by(normalised).having(func.count() > 1)
    ).scalars()
    return frozenset(row for row in rows if row is not None)


def _as_text(column):
    return cast(column, Text)


def duplicate_person_records(
    legacy: Engine, system: LegacySystem, duplicates: KnownDuplicates
) -> list[QuarantineRecord]:
    """Every person row whose key is duplicated, with all its reasons: no case may trust it."""
    if not duplicates.person_keys:
        return []
    table = system.person_table
    key = system.person.key[0]
    statement = _raw_select(table).where(
        func.upper(func.trim(_as_text(table.c[key]))).in_(bindparam("keys", expanding=True))
    )
    with legacy.connect() as conn:
        persons = _frame(conn, statement, table, keys=sorted(duplicates.person_keys))
    reasons = merge_reasons(
        contract_reasons(persons, system.person),
        _unique_reasons(persons, key, duplicates.person_keys),
    )
    return _records(persons, system.person, reasons, case_refs=None)


def read_batch(
    legacy: Engine,
    system: LegacySystem,
    batch: CaseSelector,
    duplicates: KnownDuplicates,
    extracted_on: date,
) -> ExtractedBatch:
    """Read, validate and map one batch; records that break the contract are quarantined.

    A range of the whole estate (the extract run) checks keys against ``duplicates`` found
    across the tables; a re-read of named cases checks them within what it reads.
    """
    with legacy.connect() as conn:
        cases = _frame(conn, _selected(system.case_table, system.case_page_key, batch), system.case_table)
        children = _frame(conn, _selected(system.child_table, system.member_case_column, batch), system.child_table)
        ledger = _frame(conn, _selected(system.ledger_table, system.member_case_column, batch), system.ledger_table)
        persons = _referenced_persons(conn, system, cases)

    person_key = system.person.key[0]
    person_reasons = merge_reasons(
        contract_reasons(persons, system.person),
        _unique_reasons(persons, person_key, duplicates.person_keys),
    )
    case_reasons = merge_reasons(
        contract_reasons(cases, system.case),
        _unique_reasons(cases, system.case_ref_column, duplicates.case_refs),
        _parent_reasons(cases, persons, system),
    )
    member_case_keys = set(cases[system.member_case_column].dropna())
    child_reasons = _member_reasons(children, system.child, system.member_case_column, member_case_keys)
    ledger_reasons = _member_reasons(ledger, system.ledger, system.member_case_column, member_case_keys)

    case_ref_of = dict(zip(cases[system.member_case_column], _case_labels(cases, system)))
    bad_persons = set(persons.loc[list(person_reasons), person_key]) if person_reasons else set()
    held_rows = set(case_reasons)
    for column in system.parent_columns:
        held_rows |= set(cases.index[cases[column].isin(bad_persons)])
    held_case_keys = {cases.at[row, system.member_case_column] for row in held_rows}
    for frame, reasons in ((children, child_reasons), (ledger, ledger_reasons)):
        held_case_keys |= {frame.at[row, system.member_case_column] for row in reasons}
    held_mask = cases[system.member_case_column].isin(held_case_keys) | cases.index.isin(held_rows)

    labels = _case_labels(cases, system)
    quarantined = (
        _records(cases, system.case, case_reasons, labels)
        + _records(persons, system.person, person_reasons, None)
        + _records(children, system.child, child_reasons, children[system.member_case_column].map(case_ref_of))
        + _records(ledger, system.ledger, ledger_reasons, ledger[system.member_case_column].map(case_ref_of))
    )
    clean_cases = cases[~held_mask]
    clean_keys = set(clean_cases[system.member_case_column])
    canonical = system.to_canonical(
        clean_cases,
        persons[persons[person_key].isin(_parent_values(clean_cases, system))],
        ledger[ledger[system.member_case_column].isin(clean_keys)],
        pd.Timestamp(extracted_on),
    )
    return ExtractedBatch(
        scheme=system.scheme,
        label=batch.label,
        cases_read=len(cases),
        cases=canonical.cases,
        ledger=canonical.ledger,
        parties=canonical.parties,
        held_case_refs=sorted(set(labels[held_mask])),
        quarantined=_one_record_per_key(quarantined),
    )


def _raw_select(table: Table):
    """Every column as text, so a value that breaks the contract is read, not lost."""
    return select(*(_as_text(column).label(column.name) for column in table.columns))


def _selected(table: Table, column: str, batch: CaseSelector):
    return _raw_select(table).where(batch.where(table.c[column]))


def _frame(conn: Connection, statement, table: Table, **params) -> pd.DataFrame:
    """The rows as text columns, fetched as the driver's plain tuples (every column is cast to
    text in SQL, so no type processing is lost, and framing tuples is several times faster)."""
    rows = conn.execute(statement, params).cursor.fetchall()
    columns = [column.name for column in table.columns]
    return pd.DataFrame.from_records(rows, columns=columns).astype("str")


def _referenced_persons(conn: Connection, system: LegacySystem, cases: pd.DataFrame) -> pd.DataFrame:
    refs = system.person_lookup_keys(_parent_values(cases, system))
    key = system.person_table.c[system.person.key[0]]
    statement = _raw_select(system.person_table).where(key.in_(bindparam("refs", expanding=True)))
    return _frame(conn, statement, system.person_table, refs=refs)


def _parent_values(cases: pd.DataFrame, system: LegacySystem) -> list[str]:
    values = pd.concat([cases[column] for column in system.parent_columns])
    return list(values.dropna().unique())


def _unique_reasons(frame: pd.DataFrame, column: str, duplicated: frozenset[str]) -> dict:
    keys = normalise_key(frame[column])
    repeated = keys.isin(duplicated) | (keys.duplicated(keep=False) & keys.notna())
    return {row: [reason(column, "unique", frame.at[row, column])] for row in frame.index[repeated]}


def _parent_reasons(cases: pd.DataFrame, persons: pd.DataFrame, system: LegacySystem) -> dict:
    known = set(persons[system.person.key[0]])
    found: dict[Any, list[Reason]] = {}
    for column in system.parent_columns:
        missing = cases[column].notna() & ~cases[column].isin(known)
        for row in cases.index[missing]:
            found.setdefault(row, []).append(reason(column, "parent_exists", cases.at[row, column]))
    return found


def _member_reasons(
    frame: pd.DataFrame, contract: RawContract, case_column: str, case_keys: set[str]
) -> dict:
    """A child or ledger line: its own contract, a unique key in the batch, a case that exists."""
    keys = pd.DataFrame({column: normalise_key(frame[column]) for column in contract.key})
    repeated = keys.duplicated(keep=False).to_numpy(dtype=bool)
    unique = {
        row: [reason(contract.key[-1], "unique", frame.at[row, contract.key[-1]])]
        for row in frame.index[repeated]
    }
    orphan = frame[case_column].notna() & ~frame[case_column].isin(case_keys)
    orphans = {row: [reason(case_column, "case_exists", frame.at[row, case_column])] for row in frame.index[orphan]}
    return merge_reasons(contract_reasons(frame, contract), unique, orphans)


def _case_labels(cases: pd.DataFrame, system: LegacySystem) -> pd.Series:
    """The case reference of each row, or its legacy key where the reference is missing."""
    refs = cases[system.case_ref_column]
    return refs.where(refs.notna(), system.scheme + ":" + cases[system.case_page_key].astype("str"))


def _records(
    frame: pd.DataFrame, contract: RawContract, reasons: dict, case_refs: pd.Series | None
) -> list[QuarantineRecord]:
    records = []
    for row, row_reasons in reasons.items():
        raw = {column: (None if pd.isna(value) else value) for column, value in frame.loc[row].items()}
        source_key = "/".join("" if raw[column] is None else str(raw[column]) for column in contract.key)
        case_ref = None if case_refs is None or pd.isna(case_refs.get(row)) else case_refs.get(row)
        records.append(QuarantineRecord(contract.table, source_key, row_reasons, raw, case_ref))
    return records


def _one_record_per_key(records: list[QuarantineRecord]) -> list[QuarantineRecord]:
    """Exact duplicate rows share a source key: keep one record with all their reasons."""
    merged: dict[tuple[str, str], QuarantineRecord] = {}
    for record in records:
        key = (record.source_table, record.source_key)
        if key in merged:
            kept = merged[key]
            kept.reasons.extend(r for r in record.reasons if r not in kept.reasons)
        else:
            merged[key] = record
    return list(merged.values())


def quarantine_rows(records: list[QuarantineRecord], extract_run: str, seen_on: date) -> list[dict]:
    """Rows of the ``quarantine`` table for ``records``, as seen by one extract run."""
    return [
        {
            "source_table": r.source_table,
            "source_key": r.source_key,
            "reasons": json.dumps(r.reasons, sort_keys=True),
            "raw": json.dumps(r.raw, sort_keys=True),
            "extract_run": extract_run,
            "first_seen": seen_on,
            "last_seen": seen_on,
        }
        for r in records
    ]
