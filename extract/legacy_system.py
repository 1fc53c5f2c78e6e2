"""What a legacy system declares to be extracted: its tables and their raw contracts, its codes,
its reference formats and scheme, and its mapping into the canonical model (docs/design.md).

Each system is one module of ``extract/`` (``cscs.py``, ``cs2.py``) holding one ``LegacySystem``,
registered in ``extract/systems.py``; the batch reader, the flows, letters and the synthetic
estate ask the declaration, never the system by name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

import pandas as pd
from sqlalchemy import Table

from transform.references import PersonRefFormat
from validate.canonical import CASE_COLUMNS, LEDGER_COLUMNS, CanonicalContract, canonical_contract
from validate.raw import ParsedRows, RawContract


@dataclass(frozen=True)
class CanonicalBatch:
    """The canonical model of docs/design.md: cases, their ledger lines and their parents."""

    cases: pd.DataFrame
    ledger: pd.DataFrame
    parties: pd.DataFrame


ToCanonical = Callable[[ParsedRows, ParsedRows, ParsedRows, pd.Timestamp], CanonicalBatch]
"""Clean case, person and ledger rows of a batch, and the extract date, in the canonical model."""


class _TableOf:
    """The table that one of a system's contracts (``case``, ``person``..) names, among those
    of its extract table's ``MetaData``."""

    def __init__(self, contract: str) -> None:
        self.contract = contract

    def __get__(self, system: LegacySystem, owner: type | None = None) -> Table:
        return system.extract_table.metadata.tables[getattr(system, self.contract).table]


@dataclass(frozen=True)
class LegacySystem:
    """One legacy system.

    ``scheme``: the canonical scheme of its cases (``1993``), its key in the registry, in
    extract runs and in the snapshot. Its tables: one row per case, person (a case's NRP and
    PWC are ``parent_columns`` of the case table), child and ledger line, each with its raw
    contract, which names it in the ``MetaData`` of the one-row ``extract_table``, whose
    ``extract_column`` is the extract's date (a date, or text in ``date_format``). The case
    contract's first key column is the ``case_key``. ``case_ref_column`` holds its canonical
    case reference, in the format ``case_refs`` (a whole-text regular expression);
    ``snapshot_key_column`` is the snapshot's column that holds the case key. ``codes``: per
    coded canonical column (``validate.canonical.CODES``), each legacy code and the canonical
    code it maps to. ``to_canonical`` maps a clean batch; ``persons_to_canonical`` maps person
    rows as read (text) for letters.
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
    case_ref_column: str
    parent_columns: tuple[str, str]
    case_refs: str
    person_refs: PersonRefFormat
    codes: Mapping[str, Mapping[str, str]]
    to_canonical: ToCanonical
    persons_to_canonical: Callable[[pd.DataFrame], pd.DataFrame]
    snapshot_key_column: str = "case_ref"

    case_table = _TableOf("case")
    person_table = _TableOf("person")
    child_table = _TableOf("child")
    ledger_table = _TableOf("ledger")

    def __post_init__(self) -> None:
        """A declaration whose contracts name tables it has not, or whose children do not name
        their case by its key, fails as the module declaring it is imported."""
        missing = [c.table for c in self.contracts if c.table not in self.extract_table.metadata.tables]
        if missing:
            raise ValueError(f"{self.name}: no table {', '.join(missing)} beside {self.extract_table.name}")
        if self.child.key[0] != self.case_key:
            raise ValueError(f"{self.name}: a child's key must begin with its case's key, {self.case_key}")

    @property
    def case_key(self) -> str:
        """The case table's key column, by which its children and ledger lines name their case
        too; batches are ranges of it."""
        return self.case.key[0]

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
