"""What a raw legacy table's contract is made of (CONTRACTS.md sections 1 and 2): a pandera
schema of its columns, its date columns and their format, the canonical column each holds, its
checks across columns and its key. Each legacy system declares its tables' contracts with these
(``extract/cscs.py``..), and its mapping into the canonical model reads what they hold.

Raw frames hold every column as text (the reader reads them so), so that a value that breaks
the contract is reported rather than lost in a failed conversion. A table's dates are parsed
once, as its rows are read (``ParsedRows``): the date check, the period check and the mapping
all take those.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa

from validate import checks

DATE_FORMAT = "date_format"
"""The metadata of a date column's schema: its format (``checks.ISO_DATE``, ``checks.CS2_DATE``)."""
HOLDS = "holds"
"""The metadata of a column's schema that names the canonical column it holds (``validate.canonical``),
so that a legacy column is declared once: how it is checked and what it means."""


@dataclass(frozen=True)
class ParsedRows:
    """A legacy table's rows as read, every column text, and its date columns parsed by their
    formats (NaT where a text is not a date): an explicit value, handed to every check and
    mapping that needs a date."""

    text: pd.DataFrame
    dates: dict[str, pd.Series]

    def where(self, keep: pd.Series) -> ParsedRows:
        """The rows where ``keep`` holds, with their dates."""
        mask = keep.to_numpy(dtype=bool)
        return ParsedRows(checks.rows_where(self.text, mask), {c: days[mask] for c, days in self.dates.items()})


@dataclass(frozen=True)
class RowCheck:
    """A check across some columns of a row. Pandera runs it on ``inputs`` of the parsed rows,
    just what it needs: it reports a table check's failures with every column of the frame it
    ran on, through pandas' ``unstack``, which takes ~50 µs a failing row of text (a ledger
    batch fails hundreds) and a twentieth of that for numpy columns. A failure is reported on
    ``reported_column``."""

    schema: pa.DataFrameSchema
    inputs: Callable[[ParsedRows], pd.DataFrame]
    reported_column: str


@dataclass(frozen=True)
class RawContract:
    """One legacy table's contract: its column schema, its row checks and its key."""

    table: str
    schema: pa.DataFrameSchema
    key: tuple[str, ...]
    row_checks: tuple[RowCheck, ...] = ()

    @property
    def date_formats(self) -> dict[str, str]:
        """Each date column's format."""
        return self._each(DATE_FORMAT)

    @property
    def holds(self) -> dict[str, str]:
        """Each column that holds a canonical column, and that canonical column."""
        return self._each(HOLDS)

    def _each(self, metadata: str) -> dict[str, str]:
        """The columns whose schema's metadata has ``metadata``, and its value."""
        return {
            name: column.metadata[metadata]
            for name, column in self.schema.columns.items()
            if column.metadata and metadata in column.metadata
        }

    def parsed(self, text: pd.DataFrame) -> ParsedRows:
        """``text``, rows as read, with its date columns parsed, each once."""
        dates = {name: checks.parse_dates(text[name], form) for name, form in self.date_formats.items()}
        return ParsedRows(text, dates)


def contract(
    table: str, columns: dict[str, pa.Column], key: tuple[str, ...], row_checks: tuple[RowCheck, ...] = ()
) -> RawContract:
    """The contract of ``table``: the columns it checks (others are read and left alone)."""
    return RawContract(table, pa.DataFrameSchema(columns, strict=False, coerce=False), key, row_checks)


def _metadata(holds: str | None, date_format: str | None = None) -> dict[str, str] | None:
    """A column's metadata: the canonical column it holds and its date format, where it has them."""
    metadata = {key: value for key, value in ((HOLDS, holds), (DATE_FORMAT, date_format)) if value}
    return metadata or None


def required(*column_checks: pa.Check, holds: str | None = None) -> pa.Column:
    """A column that has a value in every row; ``holds``: the canonical column it holds, if any."""
    return pa.Column(checks.TEXT, checks=list(column_checks), nullable=False, coerce=False, metadata=_metadata(holds))


def optional(*column_checks: pa.Check, holds: str | None = None) -> pa.Column:
    return pa.Column(checks.TEXT, checks=list(column_checks), nullable=True, coerce=False, metadata=_metadata(holds))


def date(date_format: str, nullable: bool = False, holds: str | None = None) -> pa.Column:
    """A date written in ``date_format``; its ``date`` check runs on the parsed rows."""
    return pa.Column(checks.TEXT, nullable=nullable, coerce=False, metadata=_metadata(holds, date_format))


def _row_check(name: str, inputs, passes, reported_column: str) -> RowCheck:
    return RowCheck(pa.DataFrameSchema(checks=[checks.row_check(name, passes)]), inputs, reported_column)


def sign_agrees(kind: str, amount: str, raising: Iterable[str], lowering: Iterable[str]) -> RowCheck:
    """A line of a ``raising`` kind raises the debt and one of a ``lowering`` kind lowers it (a
    signed amount of pence); reported on the amount. Its inputs are signs: +1 for a raising
    kind, -1 for a lowering one, 0 for any other or an unknown kind; the amount's own sign, 0
    where it is not a number of pence (the amount check reports that)."""
    raising, lowering = sorted(raising), sorted(lowering)

    def signs(rows: ParsedRows) -> pd.DataFrame:
        frame = rows.text
        up = checks.is_in(frame[kind], raising).to_numpy(dtype=np.int8)
        down = checks.is_in(frame[kind], lowering).to_numpy(dtype=np.int8)
        pence = checks.parse_pence(frame[amount]).fillna(0).to_numpy(dtype=np.int64)
        return pd.DataFrame({"kind": up - down, "amount": np.sign(pence).astype(np.int8)}, index=frame.index)

    def passes(signs: pd.DataFrame) -> pd.Series:
        return signs["kind"] * signs["amount"] >= 0

    return _row_check("sign", signs, passes, amount)


def period_in_order(start: str, end: str) -> RowCheck:
    """A period must not end before it starts; reported on its end. Its inputs are the parsed
    days (NaT where a text is not a date: the date check reports that)."""

    def days(rows: ParsedRows) -> pd.DataFrame:
        return pd.DataFrame({start: rows.dates[start], end: rows.dates[end]})

    def passes(days: pd.DataFrame) -> pd.Series:
        return ~(days[end] < days[start])

    return _row_check("period", days, passes, end)


def sos_within_total(total: str, sos: str, parse: Callable[[pd.Series], pd.Series]) -> RowCheck:
    """The recorded SoS part must lie between zero and the recorded total (when in debt). Its
    inputs are the two texts: a batch's cases are few, and fail it rarely."""

    def passes(frame: pd.DataFrame) -> pd.Series:
        total_pence = parse(frame[total])
        sos_pence = parse(frame[sos])
        wrong = (sos_pence < 0) | (sos_pence > total_pence.clip(lower=0))
        return ~wrong.fillna(False)

    return _row_check("sos_within_total", lambda rows: rows.text[[total, sos]], passes, sos)
