"""Named pandera checks: each name is a quarantine reason's ``check`` (docs/design.md)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from pandera import Check

ISO_DATE = "%Y-%m-%d"
CS2_DATE = "%d/%m/%Y"
POUNDS_PATTERN = r"^\d{1,9}\.\d{2}$"
PENCE_PATTERN = r"^-?\d{1,12}$"


def parse_dates(values: pd.Series, date_format: str) -> pd.Series:
    """Dates from text in one exact format; anything else becomes NaT."""
    return pd.to_datetime(values, format=date_format, errors="coerce").astype("datetime64[ns]")


def code(allowed: Iterable[str]) -> Check:
    allowed = frozenset(allowed)
    return Check(lambda s: s.isin(allowed), name="code", ignore_na=True)


def date(date_format: str) -> Check:
    return Check(lambda s: parse_dates(s, date_format).notna(), name="date", ignore_na=True)


def matches(pattern: str, name: str) -> Check:
    return Check(lambda s: s.str.fullmatch(pattern), name=name, ignore_na=True)


def pence() -> Check:
    """Whole pence as integer text (the CSCS typed columns, read as text)."""
    return matches(PENCE_PATTERN, "amount")


def pounds() -> Check:
    """Unsigned pounds with exactly two decimals (the CS2 amounts)."""
    return matches(POUNDS_PATTERN, "amount")


def ref(pattern: str) -> Check:
    return matches(pattern, "format")


def row_check(name: str, passes) -> Check:
    """A check over whole rows; ``passes`` takes the frame and returns a boolean Series."""
    return Check(passes, name=name)


def _parse_integers(values: pd.Series, pattern: str, strip: str | None = None) -> pd.Series:
    """Integers from text matching ``pattern``; anything else becomes NA. Never via float."""
    parsed = pd.Series(pd.NA, index=values.index, dtype="Int64")
    good = values.str.fullmatch(pattern).fillna(False).astype(bool)
    digits = values[good]
    if strip is not None:
        digits = digits.str.replace(strip, "", regex=False)
    parsed[good] = digits.astype("int64")
    return parsed


def parse_pence(values: pd.Series) -> pd.Series:
    """CSCS whole pence (text) as nullable integers."""
    return _parse_integers(values, PENCE_PATTERN)


def parse_pounds(values: pd.Series) -> pd.Series:
    """CS2 pounds with two decimals (text) as nullable integer pence: '23.50' -> 2350."""
    return _parse_integers(values, POUNDS_PATTERN, strip=".")


def parse_ids(values: pd.Series) -> pd.Series:
    """Integer identifiers (text) as nullable integers."""
    return _parse_integers(values, r"^\d{1,18}$")
