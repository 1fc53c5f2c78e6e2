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
import pyarrow as pa
from sqlalchemy import (
    CompoundSelect,
    Connection,
    Engine,
    Select,
    Table,
    Text,
    cast,
    func,
    inspect,
    select,
    union,
    union_all,
)

from csa_closure.text import is_in
from extract.legacy_system import LegacySystem
from extract.reader import LegacyReader, legacy_reader, raw_select
from validate.canonical import check_canonical
from validate.checks import normalise_key, recode, repeated
from validate.raw import ParsedRows, RawContract
from validate.reasons import Reason, contract_reasons, merge_reasons, reasons_at

Bound = Any  # a key of the case table: text (CSCS) or an integer (CS2)


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

    def rows(self, statement: Select, key) -> Select | CompoundSelect:
        """``statement`` narrowed to the batch's rows by ``key``. The first batch's NULL keys
        are a second lookup, not an ``OR`` (SQLite answers ``key <= x OR key IS NULL`` by
        scanning the whole table), and only where the key may be NULL."""
        if self.lower is not None:
            statement = statement.where(key > self.lower)
        if self.upper is None:
            return statement
        bounded = statement.where(key <= self.upper)
        if self.lower is not None or not key.nullable:
            return bounded
        return union_all(bounded, statement.where(key.is_(None)))


@dataclass(frozen=True)
class CaseKeys:
    """Named cases (a tranche's batch): their keys in the case table (its ``case_key``)."""

    label: str
    keys: tuple[Bound, ...]

    def rows(self, statement: Select, key) -> Select:
        return statement.where(key.in_(self.keys))


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


def extract_date(legacy: Engine, system: LegacySystem) -> date:
    """The date of the legacy extract, from the system's one-row extract table."""
    with legacy.connect() as conn:
        value = conn.execute(select(system.extract_table.c[system.extract_column])).scalar_one()
    if isinstance(value, date):
        return value
    return pd.to_datetime(value, format=system.date_format).date()


def legacy_extract_date(legacy: Engine, system: LegacySystem) -> date | None:
    """The date of the system's extract in the legacy database, or None where it holds none
    (no such table, or no row in it)."""
    if not inspect(legacy).has_table(system.extract_table.name):
        return None
    with legacy.connect() as conn:
        if conn.execute(select(func.count()).select_from(system.extract_table)).scalar_one() == 0:
            return None
    return extract_date(legacy, system)


def batch_ranges(legacy: Engine, system: LegacySystem, batch_size: int) -> list[BatchRange]:
    """Contiguous key ranges of ``batch_size`` cases: the database numbers the keys in order and
    returns every ``batch_size``-th, the upper bound of a batch."""
    key = system.case_table.c[system.case_key]
    numbered = select(key.label("key"), func.row_number().over(order_by=key).label("position")).subquery()
    with legacy.connect() as conn:
        uppers = conn.execute(
            select(numbered.c.key).where(numbered.c.position % batch_size == 0).order_by(numbered.c.position)
        ).scalars().all()
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
    normalised = _normalised_in_sql(table.c[column])
    rows = conn.execute(
        select(normalised).group_by(normalised).having(func.count() > 1)
    ).scalars()
    return frozenset(row for row in rows if row is not None)


def _normalised_in_sql(column):
    """``normalise_key`` in SQL, for the whole-table queries: integer keys become text first
    (unlike ``as_text``, which leaves PostgreSQL's integers for the reader to write)."""
    return func.upper(func.trim(cast(column, Text)))


def duplicate_person_records(
    legacy: Engine, system: LegacySystem, duplicates: KnownDuplicates
) -> list[QuarantineRecord]:
    """Every person row whose key is duplicated, with all its reasons: no case may trust it."""
    if not duplicates.person_keys:
        return []
    table = system.person_table
    key = system.person.key[0]
    statement = raw_select(table).where(
        _normalised_in_sql(table.c[key]).in_(sorted(duplicates.person_keys))
    )
    with legacy_reader(legacy) as reader:
        persons = reader.frame(statement)
    reasons = merge_reasons(
        contract_reasons(system.person.parsed(persons), system.person),
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
    across the tables; a re-read of named cases checks them within what it reads. Each date
    column is parsed once, as it is read, for its checks and the mapping alike.
    """
    with legacy_reader(legacy) as reader:
        parsed_cases = _selected(reader, system.case, system.case_table, system.case_key, batch)
        parsed_children = _selected(reader, system.child, system.child_table, system.case_key, batch)
        parsed_ledger = _selected(reader, system.ledger, system.ledger_table, system.case_key, batch)
        parsed_persons = system.person.parsed(_referenced_persons(reader, system, batch))
    cases, children, ledger, persons = (
        parsed.text for parsed in (parsed_cases, parsed_children, parsed_ledger, parsed_persons)
    )

    person_key = system.person.key[0]
    person_reasons = merge_reasons(
        contract_reasons(parsed_persons, system.person),
        _unique_reasons(persons, person_key, duplicates.person_keys),
    )
    case_reasons = merge_reasons(
        contract_reasons(parsed_cases, system.case),
        _unique_reasons(cases, system.case_ref_column, duplicates.case_refs),
        _parent_reasons(cases, persons, system),
    )
    member_case_keys = cases[system.case_key].dropna()
    child_reasons = _member_reasons(parsed_children, system.child, system.case_key, member_case_keys)
    ledger_reasons = _member_reasons(parsed_ledger, system.ledger, system.case_key, member_case_keys)

    labels = _case_labels(cases, system)
    case_ref_of = pd.Series(labels.array, index=cases[system.case_key])
    bad_persons = _values_at(persons, person_reasons, person_key)
    held_rows = set(case_reasons)
    for column in system.parent_columns:
        held_rows |= set(cases.index[is_in(cases[column], bad_persons)])
    held_case_keys = _values_at(cases, held_rows, system.case_key)
    for frame, reasons in ((children, child_reasons), (ledger, ledger_reasons)):
        held_case_keys |= _values_at(frame, reasons, system.case_key)
    held_mask = is_in(cases[system.case_key], held_case_keys) | cases.index.isin(held_rows)

    quarantined = (
        _records(cases, system.case, case_reasons, labels)
        + _records(persons, system.person, person_reasons, None)
        + _records(children, system.child, child_reasons, recode(children[system.case_key], case_ref_of))
        + _records(ledger, system.ledger, ledger_reasons, recode(ledger[system.case_key], case_ref_of))
    )
    clean_cases = parsed_cases.where(~held_mask)
    clean_keys = clean_cases.text[system.case_key]
    canonical = system.to_canonical(
        clean_cases,
        parsed_persons.where(is_in(persons[person_key], _parent_values(clean_cases.text, system))),
        parsed_ledger.where(is_in(ledger[system.case_key], clean_keys)),
        pd.Timestamp(extracted_on),
    )
    check_canonical(canonical.cases, canonical.ledger, canonical.parties, system.canonical, batch.label)
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


def _values_at(frame: pd.DataFrame, rows, column: str) -> set[str]:
    """The values of ``column`` in ``rows`` of ``frame``, without NULLs (a line with no case
    holds no case back)."""
    return set(frame.loc[list(rows), column].dropna())


def _selected(
    reader: LegacyReader, contract: RawContract, table: Table, column: str, batch: CaseSelector
) -> ParsedRows:
    return contract.parsed(reader.frame(batch.rows(raw_select(table), table.c[column])))


def _referenced_persons(reader: LegacyReader, system: LegacySystem, batch: CaseSelector) -> pd.DataFrame:
    """The person rows the batch's cases name as parents, found by the database."""
    cases = system.case_table
    in_batch = batch.rows(select(cases), cases.c[system.case_key]).subquery()
    parents = union(*(select(in_batch.c[column]) for column in system.parent_columns))
    persons = system.person_table
    return reader.frame(raw_select(persons).where(persons.c[system.person.key[0]].in_(parents)))


def _parent_values(cases: pd.DataFrame, system: LegacySystem) -> pd.Series:
    return pd.concat([cases[column] for column in system.parent_columns]).dropna()


def _unique_reasons(frame: pd.DataFrame, column: str, duplicated: frozenset[str]) -> dict:
    keys = normalise_key(frame[column])
    return _reasons(frame, (is_in(keys, duplicated) | repeated(keys)) & keys.notna(), column, "unique")


def _parent_reasons(cases: pd.DataFrame, persons: pd.DataFrame, system: LegacySystem) -> dict:
    known = persons[system.person.key[0]]
    return merge_reasons(
        *(
            _reasons(cases, cases[column].notna() & ~is_in(cases[column], known), column, "parent_exists")
            for column in system.parent_columns
        )
    )


def _member_reasons(
    rows: ParsedRows, contract: RawContract, case_column: str, case_keys: pd.Series
) -> dict:
    """A child or ledger line: its own contract, a unique key in the batch, a case that exists."""
    frame = rows.text
    duplicate = repeated(*(normalise_key(frame[column]) for column in contract.key))
    orphan = frame[case_column].notna() & ~is_in(frame[case_column], case_keys)
    return merge_reasons(
        contract_reasons(rows, contract),
        _reasons(frame, duplicate, contract.key[-1], "unique"),
        _reasons(frame, orphan, case_column, "case_exists"),
    )


def _reasons(frame: pd.DataFrame, failing, column: str, check: str) -> dict:
    """One ``check`` reason on ``column`` for each row where ``failing`` holds."""
    return reasons_at(frame, ((row, column, check) for row in frame.index[failing]))


def _case_labels(cases: pd.DataFrame, system: LegacySystem) -> pd.Series:
    """The case reference of each row, or its legacy key where the reference is missing."""
    refs = cases[system.case_ref_column]
    return refs.where(refs.notna(), system.scheme + ":" + cases[system.case_key].astype("str"))


def _records(
    frame: pd.DataFrame, contract: RawContract, reasons: dict, case_refs: pd.Series | None
) -> list[QuarantineRecord]:
    if not reasons:
        return []
    rows = list(reasons)
    raws = pa.Table.from_pandas(frame.loc[rows], preserve_index=False).to_pylist()  # text or None
    refs = [None] * len(rows) if case_refs is None else case_refs.loc[rows].astype(object).tolist()
    return [
        QuarantineRecord(
            contract.table,
            "/".join("" if raw[column] is None else str(raw[column]) for column in contract.key),
            reasons[row],
            raw,
            None if pd.isna(case_ref) else case_ref,
        )
        for row, raw, case_ref in zip(rows, raws, refs)
    ]


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
