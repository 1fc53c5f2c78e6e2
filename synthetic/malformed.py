"""Deliberately malformed records: the dirt a real extract carries (CONTRACTS.md, end of
section 2), each with the quarantine reason the validation stage must report for it.

Each kind spoils one thing of a clean record (or adds one bad record), so a record has exactly
one reason; a duplicate key made by padding or lower-casing inherently breaks the reference
format too, and the record it duplicates is a duplicate as well, so both are listed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from synthetic import shape
from synthetic.rows import Rows
from synthetic.schemes import (
    MISSING_CS2_ID_BASE,
    MISSING_CSCS_CASE_BASE,
    MISSING_PERSON_BASE,
    Numbering,
    SchemeTables,
    cs2_case_numbers,
    cscs_case_refs,
    person_refs,
)
from synthetic.words import TEXT, join


class MalformedRecord(NamedTuple):
    """One reason one record should be quarantined for.

    ``case_ref`` is the case reference the record carries or belongs to (for a CS2 duplicate
    case number, the reference it duplicates once trimmed and upper-cased); None for parents and
    for CS2 lines naming a case id that does not exist.
    """

    scheme: str
    source_table: str
    source_key: str
    kind: str
    column: str
    check: str
    case_ref: str | None


Spoil = Callable[[Rows, np.ndarray, np.random.Generator, Numbering], "Rows | None"]


@dataclass(frozen=True)
class Kind:
    """A way of spoiling records of one table; ``weight`` is its part of the table's share.

    A kind that ``adds`` returns new records derived from the picked ones; a ``duplicate`` kind
    adds copies under a padded or lower-cased key.
    """

    name: str
    table: str
    column: str
    check: str
    weight: float
    spoil: Spoil
    eligible: Callable[[Rows], np.ndarray] | None = None
    adds: bool = False
    duplicate: bool = False


def _set(column: str, value: str) -> Spoil:
    def spoil(rows: Rows, index: np.ndarray, rng: np.random.Generator, numbering: Numbering) -> None:
        rows.columns[column][index] = value

    return spoil


def _null(column: str) -> Spoil:
    def spoil(rows: Rows, index: np.ndarray, rng: np.random.Generator, numbering: Numbering) -> None:
        rows.nulls[column][index] = True

    return spoil


def _flip_sign(rows: Rows, index: np.ndarray, rng: np.random.Generator, numbering: Numbering) -> None:
    rows.columns["amount_pence"][index] *= -1


def _reverse_period(rows: Rows, index: np.ndarray, rng: np.random.Generator, numbering: Numbering) -> None:
    period_from, period_to = rows.columns["period_from"], rows.columns["period_to"]
    period_from[index], period_to[index] = period_to[index].copy(), period_from[index].copy()


def _sos_above_total(rows: Rows, index: np.ndarray, rng: np.random.Generator, numbering: Numbering) -> None:
    total = rows.columns["arrears_total_pence"][index]
    rows.columns["arrears_sos_pence"][index] = total + rng.integers(1, 5_001, len(index))


def _missing_nrp(rows: Rows, index: np.ndarray, rng: np.random.Generator, numbering: Numbering) -> None:
    rows.columns["nrp_ref"][index] = person_refs(MISSING_PERSON_BASE + numbering.take("missing", len(index)))


def _missing_paying_party(rows: Rows, index: np.ndarray, rng: np.random.Generator, numbering: Numbering) -> None:
    rows.columns["paying_party_id"][index] = MISSING_CS2_ID_BASE + numbering.take("missing", len(index))


def _bad_date(column: str) -> Spoil:
    """DD/MM/YYYY text that does not parse: a day the month lacks, ISO order, or a word."""

    def spoil(rows: Rows, index: np.ndarray, rng: np.random.Generator, numbering: Numbering) -> None:
        text = rows.columns[column][index]
        year = np.strings.slice(text, 6, 10)
        iso = join(year, "-", np.strings.slice(text, 3, 5), "-", np.strings.slice(text, 0, 2))
        variant = rng.integers(0, 3, len(index))
        bad = np.select([variant == 0, variant == 1], [join("31/02/", year), iso], "unknown")
        rows.columns[column][index] = bad

    return spoil


def _bad_amount(column: str) -> Spoil:
    """Pounds text that does not parse: a letter O for a zero, a thousands comma, a word."""

    def spoil(rows: Rows, index: np.ndarray, rng: np.random.Generator, numbering: Numbering) -> None:
        text = rows.columns[column][index]
        variant = rng.integers(0, 3, len(index))
        letter_o = join(np.strings.slice(text, 0, -1), "O")
        comma = join("1,", np.strings.zfill(text, 6))
        rows.columns[column][index] = np.select([variant == 0, variant == 1], [letter_o, comma], "abc")

    return spoil


def _duplicate_key(column: str, new_id: str | None) -> Spoil:
    """Copies keyed as an existing record with a trailing blank or in lower case; a CS2 case
    copy gets its own case id."""

    def spoil(rows: Rows, index: np.ndarray, rng: np.random.Generator, numbering: Numbering) -> Rows:
        copy = rows.take(index)
        key = copy.columns[column]
        padded = rng.random(len(index)) < 0.5
        copy.columns[column] = np.where(padded, join(key, " "), np.strings.lower(key)).astype(TEXT)
        if new_id:
            copy.columns[new_id] = numbering.take("cs2_case", len(index))
        return copy

    return spoil


def _orphan_cscs(rows: Rows, index: np.ndarray, rng: np.random.Generator, numbering: Numbering) -> Rows:
    copy = rows.take(index)
    copy.columns["case_ref"] = cscs_case_refs(MISSING_CSCS_CASE_BASE + numbering.take("missing", len(index)))
    return copy


def _orphan_txn(rows: Rows, index: np.ndarray, rng: np.random.Generator, numbering: Numbering) -> Rows:
    copy = rows.take(index)
    copy.columns["txn_id"] = numbering.take("txn", len(index))
    copy.columns["case_id"] = MISSING_CS2_ID_BASE + numbering.take("missing", len(index))
    return copy


def _receipt_or_charge(rows: Rows) -> np.ndarray:
    return np.isin(rows.columns["txn_type"], np.array(["RECEIPT", "CHARGE"], dtype=TEXT))


def _forward_period(rows: Rows) -> np.ndarray:
    return ~rows.null_mask("period_from") & (rows.columns["period_from"] < rows.columns["period_to"])


KINDS = {
    "1993": (
        Kind("unknown_case_status", "cscs_case", "case_status", "code", 0.2, _set("case_status", "LIVEX")),
        Kind("unknown_payment_method", "cscs_case", "payment_method", "code", 0.2, _set("payment_method", "CHEQUE")),
        Kind("sos_above_total", "cscs_case", "arrears_sos_pence", "sos_within_total", 0.2, _sos_above_total),
        Kind("missing_nrp", "cscs_case", "nrp_ref", "parent_exists", 0.2, _missing_nrp),
        Kind("missing_start_date", "cscs_case", "case_start_date", "not_null", 0.2, _null("case_start_date")),
        Kind("unknown_txn_type", "cscs_ledger", "txn_type", "code", 0.2, _set("txn_type", "REFUND")),
        Kind("unknown_creditor", "cscs_ledger", "creditor", "code", 0.2, _set("creditor", "XX")),
        Kind("wrong_sign", "cscs_ledger", "amount_pence", "sign", 0.25, _flip_sign, _receipt_or_charge),
        Kind("period_reversed", "cscs_ledger", "period_to", "period", 0.15, _reverse_period, _forward_period),
        Kind("orphan_ledger_line", "cscs_ledger", "case_ref", "case_exists", 0.2, _orphan_cscs, adds=True),
        Kind("orphan_child", "cscs_child", "case_ref", "case_exists", 1.0, _orphan_cscs, adds=True),
        Kind(
            "duplicate_person", "cscs_person", "person_ref", "unique", 0.5,
            _duplicate_key("person_ref", None), adds=True, duplicate=True,
        ),
    ),
    "2003": (
        Kind("unknown_state", "cs2_case", "state_cd", "code", 0.15, _set("state_cd", "Q")),
        Kind("unknown_collection", "cs2_case", "collection_cd", "code", 0.15, _set("collection_cd", "XX")),
        Kind("bad_effective_date", "cs2_case", "effective_dt", "date", 0.15, _bad_date("effective_dt")),
        Kind("bad_debt_amount", "cs2_case", "debt_amt", "amount", 0.1, _bad_amount("debt_amt")),
        Kind("missing_paying_party", "cs2_case", "paying_party_id", "parent_exists", 0.15, _missing_paying_party),
        Kind("missing_effective_date", "cs2_case", "effective_dt", "not_null", 0.15, _null("effective_dt")),
        Kind(
            "duplicate_case_number", "cs2_case", "case_number", "unique", 0.075,
            _duplicate_key("case_number", "case_id"), adds=True, duplicate=True,
        ),
        Kind("unknown_txn_code", "cs2_txn", "txn_cd", "code", 0.15, _set("txn_cd", "ADJ?")),
        Kind("unknown_owed_to", "cs2_txn", "owed_to", "code", 0.15, _set("owed_to", "ZZ")),
        Kind("bad_posted_date", "cs2_txn", "posted_dt", "date", 0.25, _bad_date("posted_dt")),
        Kind("bad_amount", "cs2_txn", "amt", "amount", 0.25, _bad_amount("amt")),
        Kind("orphan_txn", "cs2_txn", "case_id", "case_exists", 0.2, _orphan_txn, adds=True),
        Kind("bad_child_birth_date", "cs2_child", "birth_dt", "date", 1.0, _bad_date("birth_dt")),
        Kind("bad_party_birth_date", "cs2_party", "birth_dt", "date", 1.0, _bad_date("birth_dt")),
    ),
}
"""Every kind per scheme. CSCS columns are typed, so it has no unparsable dates or amounts."""


def source_keys(rows: Rows) -> np.ndarray:
    """The manifest's key of each record: the table's key, parts joined by '/'."""
    c = rows.columns
    match rows.table.name:
        case "cscs_person":
            return c["person_ref"]
        case "cscs_case":
            return c["case_ref"]
        case "cscs_ledger":
            return join(c["case_ref"], "/", c["seq"].astype(TEXT))
        case "cscs_child":
            return join(c["case_ref"], "/", c["child_seq"].astype(TEXT))
        case "cs2_child":
            return join(c["case_id"].astype(TEXT), "/", c["child_no"].astype(TEXT))
        case "cs2_party":
            return c["party_id"].astype(TEXT)
        case "cs2_case":
            return c["case_id"].astype(TEXT)
        case _:
            return c["txn_id"].astype(TEXT)


def _case_refs(rows: Rows) -> list[str | None]:
    c = rows.columns
    if rows.table.name in ("cscs_person", "cs2_party"):
        return [None] * len(rows)
    if rows.table.name.startswith("cscs_"):
        return c["case_ref"].tolist()
    if rows.table.name == "cs2_case":
        return np.strings.upper(np.strings.strip(c["case_number"])).tolist()
    known = c["case_id"] < MISSING_CS2_ID_BASE
    numbers = cs2_case_numbers(np.where(known, c["case_id"], 0)).astype(object)
    numbers[~known] = None
    return numbers.tolist()


def _records(scheme: str, rows: Rows, kind: Kind, column: str, check: str) -> list[MalformedRecord]:
    table = rows.table.name
    return [
        MalformedRecord(scheme, table, key, kind.name, column, check, case_ref)
        for key, case_ref in zip(source_keys(rows).tolist(), _case_refs(rows))
    ]


def _dirty_case_rows(tables: SchemeTables, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per case, child and ledger table: which rows belong to the chunk's dirty cases."""
    def case_numbers(rows: Rows) -> np.ndarray:
        if tables.scheme == "1993":
            return np.strings.slice(rows.columns["case_ref"], 3, None).astype(np.int64)
        return rows.columns["case_id"]

    cases = case_numbers(tables.cases)
    dirty = cases[rng.random(len(cases)) < shape.DIRTY_CASE_SHARE]
    return {rows.table.name: np.isin(case_numbers(rows), dirty) for rows in tables.all()[1:]}


def spoil_chunk(
    tables: SchemeTables, rng: np.random.Generator, numbering: Numbering
) -> tuple[SchemeTables, list[MalformedRecord]]:
    """Spoil about MALFORMED_SHARE of each table's records of one chunk, each record at most
    once, case records only on dirty cases; returns the tables (with any added records after
    the clean ones) and the manifest."""
    by_name = {rows.table.name: rows for rows in tables.all()}
    used = {name: np.zeros(len(rows), dtype=bool) for name, rows in by_name.items()}
    dirty = _dirty_case_rows(tables, rng)
    added: dict[str, list[Rows]] = {name: [] for name in by_name}
    records: list[MalformedRecord] = []
    for kind in KINDS[tables.scheme]:
        rows = by_name[kind.table]
        eligible = kind.eligible(rows) if kind.eligible else np.ones(len(rows), dtype=bool)
        if not kind.adds and kind.table in dirty:
            eligible &= dirty[kind.table]
        candidates = np.flatnonzero(eligible & ~used[kind.table])
        count = min(int(rng.binomial(len(rows), shape.MALFORMED_SHARE * kind.weight)), len(candidates))
        index = np.sort(rng.choice(candidates, size=count, replace=False))
        used[kind.table][index] = True
        if not kind.adds:
            kind.spoil(rows, index, rng, numbering)
            records += _records(tables.scheme, rows.take(index), kind, kind.column, kind.check)
            continue
        new = kind.spoil(rows, index, rng, numbering)
        added[kind.table].append(new)
        records += _records(tables.scheme, new, kind, kind.column, kind.check)
        if kind.duplicate:
            records += _records(tables.scheme, new, kind, kind.column, "format")
            records += _records(tables.scheme, rows.take(index), kind, kind.column, kind.check)
    for name, extra in added.items():
        for more in extra:
            by_name[name] = by_name[name].extended(more)
    spoiled = SchemeTables(tables.scheme, *(by_name[rows.table.name] for rows in tables.all()))
    return spoiled, records
