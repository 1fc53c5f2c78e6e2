"""What a legacy system declares to be extracted: its tables and their raw contracts, its codes,
its reference formats and scheme, and its mapping into the canonical model (docs/design.md).

Each system is one module of ``extract/`` (``cscs.py``, ``cs2.py``) holding one ``LegacySystem``,
registered in ``extract/systems.py``; the batch reader, the flows and letters ask the
declaration, never the system by name. (The synthetic estate is CONTRACTS.md's, of the two
schemes: it writes each with a writer of its own, its codes taken from the declaration.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd
from sqlalchemy import Table

from csa_closure.text import is_in
from transform.references import PersonRefFormat
from validate.canonical import CASE_COLUMNS, CODES, LEDGER_COLUMNS, CanonicalContract, canonical_contract
from validate.checks import recode, to_int64
from validate.raw import ParsedRows, RawContract


@dataclass(frozen=True)
class CanonicalBatch:
    """The canonical model of docs/design.md: cases, their ledger lines and their parents."""

    cases: pd.DataFrame
    ledger: pd.DataFrame
    parties: pd.DataFrame


HELD_CASE_COLUMNS = (
    "case_ref", "nrp_ref", "pwc_ref", "case_start_date", "status", "assessment_type", "weekly_liability_pence",
    "payment_method", "enforcement_action", "clerical", "dv_marker", "recorded_total_pence", "recorded_sos_pence",
)
HELD_LEDGER_COLUMNS = ("line_ref", "posted_date", "kind", "creditor", "amount_pence", "period_from", "period_to")
"""The canonical columns that a system's case and ledger tables hold, or that it fixes. Of the
others, the scheme and the extract date are the system's and the batch's, ``legacy_case_id`` is
held by an integer case key (0 where there is none), the parents' flags are their parties' and
a ledger line's case is its case's reference."""

_DATES = ("case_start_date", "posted_date", "period_from", "period_to", "extracted_on")
_PENCE = ("weekly_liability_pence", "recorded_total_pence", "recorded_sos_pence", "amount_pence")
_FLAGS = ("clerical", "dv_marker")
_INTEGERS = ("legacy_case_id", "line_ref")
"""The canonical columns by type (a coded one is in ``validate.canonical.CODES``, the rest are
text): each is read alike from whichever column holds it."""
_TYPES = {
    **dict.fromkeys(_DATES, "datetime64[ns]"),
    **dict.fromkeys(_FLAGS, "bool"),
    **dict.fromkeys(_PENCE + _INTEGERS, "int64"),
}
"""The model's type of a column whose value is fixed, where it is not text."""


class _TableOf:
    """The table that one of a system's contracts (``case``, ``person``..) names, among those
    of its extract table's ``MetaData``."""

    def __init__(self, contract: str) -> None:
        self.contract = contract

    def __get__(self, system: LegacySystem, owner: type | None = None) -> Table:
        return system.extract_table.metadata.tables[getattr(system, self.contract).table]


@dataclass(frozen=True, kw_only=True)
class LegacySystem:
    """One legacy system.

    ``scheme``: the canonical scheme of its cases (``1993``), its key in the registry, in
    extract runs and in the snapshot. Its tables: one row per case, person, child and ledger
    line, each with its raw contract, which names it in the ``MetaData`` of the one-row
    ``extract_table``, whose ``extract_column`` is the extract's date. The case contract's
    first key column is the ``case_key``.

    How it writes values: dates as ``date_format`` (where they are text), amounts as text that
    ``to_pence`` reads as pence, signed but for the ledger lines of ``credit_codes``, whose
    unsigned amounts lower the debt, and flags set where they read ``true_flag``. ``codes``:
    per coded canonical column (``validate.canonical.CODES``), each legacy code and the
    canonical code it maps to.

    Its mapping into the canonical model: the case and ledger contracts say which of their
    columns holds each canonical column (``holds=``); one none holds takes the value ``fixed``
    gives it (``legacy_case_id`` is 0 where none holds it). Case references are in the format
    ``case_refs`` (a whole-text regular expression), parents' in ``person_refs``.
    ``persons_to_canonical`` maps person rows as read (text), for batches and letters.
    """

    name: str
    scheme: str
    case: RawContract
    person: RawContract
    child: RawContract
    ledger: RawContract
    extract_table: Table
    extract_column: str
    date_format: str
    to_pence: Callable[[pd.Series], pd.Series] = to_int64
    credit_codes: tuple[str, ...] = ()
    true_flag: str = ""
    codes: Mapping[str, Mapping[str, str]]
    case_refs: str
    person_refs: PersonRefFormat
    fixed: Mapping[str, object] = field(default_factory=dict)
    persons_to_canonical: Callable[[pd.DataFrame], pd.DataFrame]

    case_table = _TableOf("case")
    person_table = _TableOf("person")
    child_table = _TableOf("child")
    ledger_table = _TableOf("ledger")

    def __post_init__(self) -> None:
        """A declaration whose contracts name tables it has not, whose children do not name
        their case by its key, that gives a canonical column no value or reads flags without
        the text that sets them, fails as the module declaring it is imported."""
        missing = [c.table for c in self.contracts if c.table not in self.extract_table.metadata.tables]
        if missing:
            raise ValueError(f"{self.name}: no table {', '.join(missing)} beside {self.extract_table.name}")
        if self.child.key[0] != self.case_key:
            raise ValueError(f"{self.name}: a child's key must begin with its case's key, {self.case_key}")
        for contract, columns in ((self.case, HELD_CASE_COLUMNS), (self.ledger, HELD_LEDGER_COLUMNS)):
            unheld = [c for c in columns if c not in contract.holds.values() and c not in self.fixed]
            if unheld:
                raise ValueError(f"{self.name}: no column of {contract.table} holds {', '.join(unheld)}")
        if set(_FLAGS) & set(self.case.holds.values()) and not self.true_flag:
            raise ValueError(f"{self.name}: its flags need the text that sets them, its true_flag")

    @property
    def case_key(self) -> str:
        """The case table's key column, by which its children and ledger lines name their case
        too; batches are ranges of it."""
        return self.case.key[0]

    @property
    def case_ref_column(self) -> str:
        """The case table's column holding the canonical case reference."""
        return self._holding(self.case, "case_ref")

    @property
    def parent_columns(self) -> tuple[str, str]:
        """The case table's columns naming its NRP and its PWC, by the person table's key."""
        return self._holding(self.case, "nrp_ref"), self._holding(self.case, "pwc_ref")

    @property
    def snapshot_key_column(self) -> str:
        """The snapshot's column that holds the case key (``case_ref``, or ``legacy_case_id``)."""
        return self.case.holds[self.case_key]

    @staticmethod
    def _holding(contract: RawContract, canonical: str) -> str:
        return next(column for column, held in contract.holds.items() if held == canonical)

    @property
    def tables(self) -> tuple[Table, ...]:
        return (self.person_table, self.case_table, self.child_table, self.ledger_table, self.extract_table)

    @property
    def contracts(self) -> tuple[RawContract, ...]:
        return (self.person, self.case, self.child, self.ledger)

    @cached_property
    def canonical(self) -> CanonicalContract:
        """The canonical schemas its batches must map into."""
        return canonical_contract(self.scheme, self.case_refs, self.person_refs.pattern)

    def to_canonical(
        self, cases: ParsedRows, persons: ParsedRows, ledger: ParsedRows, extracted_on: pd.Timestamp
    ) -> CanonicalBatch:
        """Clean case, person and ledger rows of a batch, and the extract date, in the canonical
        model (docs/design.md): each canonical column from the column that holds it."""
        batch = {"scheme": self.scheme, "legacy_case_id": 0, "extracted_on": extracted_on}
        case_frame = self._frame(cases, self.case, CASE_COLUMNS, batch | dict(self.fixed))
        line_frame = self._frame(ledger, self.ledger, LEDGER_COLUMNS, dict(self.fixed))
        line_frame["case_ref"] = ledger.text[self.case_key]
        if self.case_ref_column != self.case_key:
            case_refs = pd.Series(cases.text[self.case_ref_column].array, index=cases.text[self.case_key])
            line_frame["case_ref"] = recode(line_frame["case_ref"], case_refs)
        if self.credit_codes:
            credit = is_in(ledger.text[self._holding(self.ledger, "kind")], self.credit_codes)
            line_frame["amount_pence"] = line_frame["amount_pence"].where(~credit, -line_frame["amount_pence"])
        return canonical_batch(case_frame, line_frame, self.persons_to_canonical(persons.text))

    def _frame(
        self, rows: ParsedRows, contract: RawContract, columns: Iterable[str], fixed: Mapping[str, object]
    ) -> pd.DataFrame:
        """The canonical ``columns`` of ``rows`` that a column holds, converted as the model types
        them, or that ``fixed`` gives a value for every row."""
        held = {canonical: column for column, canonical in contract.holds.items()}
        frame = pd.DataFrame(index=rows.text.index)
        for canonical in columns:
            if canonical in held:
                frame[canonical] = self._converted(rows, held[canonical], canonical)
            elif canonical in fixed:
                frame[canonical] = pd.Series(fixed[canonical], frame.index, dtype=_TYPES.get(canonical, "str"))
        return frame

    def _converted(self, rows: ParsedRows, column: str, canonical: str) -> pd.Series:
        """A column of clean rows (text) as the canonical column it holds."""
        values = rows.text[column]
        if canonical in _DATES:
            return rows.dates[column]
        if canonical in CODES:
            return recode(values, dict(self.codes[canonical]))
        if canonical in _PENCE:
            return self.to_pence(values)
        if canonical in _FLAGS:
            return flags(values, self.true_flag)
        if canonical in ("nrp_ref", "pwc_ref"):
            return self.person_refs.refs(values)
        if canonical in _INTEGERS:
            return to_int64(values)
        return values

    def person_keys(self, person_refs: Iterable[str]) -> list:
        """The person table's keys of the references in this system's format, as the key column
        holds them (an integer key as an integer)."""
        key_type = self.person_table.c[self.person.key[0]].type.python_type
        return [key_type(key) for key in self.person_refs.keys(person_refs)]


def same(codes: Iterable[str]) -> dict[str, str]:
    """Codes a legacy system writes as the canonical model does."""
    return {code: code for code in codes}


def codes_of(codes: Mapping[str, str], canonical: Iterable[str]) -> tuple[str, ...]:
    """The legacy codes that map to any of the ``canonical`` codes."""
    wanted = set(canonical)
    return tuple(code for code, meaning in codes.items() if meaning in wanted)


def flags(values: pd.Series, true_value: str) -> pd.Series:
    return (values == true_value).fillna(False).astype(bool)


def parent_flags(cases: pd.DataFrame, parties: pd.DataFrame) -> pd.DataFrame:
    """Each case's NRP and PWC flags (deceased, untraced, abroad) from the canonical parties."""
    flagged = parties.set_index("person_ref")[["deceased", "untraced", "abroad"]]
    out = cases
    for role in ("nrp", "pwc"):
        joined = flagged.reindex(cases[f"{role}_ref"]).reset_index(drop=True)
        joined.index = cases.index
        for flag in ("deceased", "untraced", "abroad"):
            out[f"{role}_{flag}"] = joined[flag].fillna(False).astype(bool)
    return out


def canonical_batch(cases: pd.DataFrame, ledger: pd.DataFrame, parties: pd.DataFrame) -> CanonicalBatch:
    """A system's mapped frames in the canonical model's columns: the case frame's constants
    typed (``legacy_case_id``, ``extracted_on``) and each parent's flags joined from ``parties``."""
    cases = cases.astype({"legacy_case_id": "int64", "extracted_on": "datetime64[ns]"})
    return CanonicalBatch(parent_flags(cases, parties)[CASE_COLUMNS], ledger[LEDGER_COLUMNS], parties)
