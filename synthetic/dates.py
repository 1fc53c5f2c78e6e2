"""Dates as day numbers (days since 1970-01-01, int64) and their two legacy text forms.

Whole columns are formatted by indexing precomputed tables, so no date is formatted one by one.
"""

from __future__ import annotations

from datetime import date
from functools import cache

import numpy as np

from synthetic.words import TEXT

_FIRST_DAY = np.datetime64("1900-01-01", "D").astype(np.int64)
_LAST_DAY = np.datetime64("2100-12-31", "D").astype(np.int64)


def day_number(value: date) -> int:
    return int(np.datetime64(value, "D").astype(np.int64))


@cache
def _iso_table() -> np.ndarray:
    days = np.arange(_FIRST_DAY, _LAST_DAY + 1).astype("M8[D]")
    return np.datetime_as_string(days).astype(TEXT)


@cache
def _dmy_table() -> np.ndarray:
    iso = _iso_table()
    return np.strings.add(
        np.strings.add(np.strings.add(np.strings.slice(iso, 8, 10), "/"), np.strings.slice(iso, 5, 7)),
        np.strings.add("/", np.strings.slice(iso, 0, 4)),
    )


def iso_text(days: np.ndarray) -> np.ndarray:
    """'YYYY-MM-DD', the CSCS DATE form (SQLite stores it as this text)."""
    return _iso_table()[np.asarray(days, dtype=np.int64) - _FIRST_DAY]


def dmy_text(days: np.ndarray) -> np.ndarray:
    """'DD/MM/YYYY', the CS2 text form."""
    return _dmy_table()[np.asarray(days, dtype=np.int64) - _FIRST_DAY]


def month_of(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of each day."""
    return np.asarray(days, dtype=np.int64).astype("M8[D]").astype("M8[M]").astype(np.int64)


def first_day_of_month(months: np.ndarray) -> np.ndarray:
    return np.asarray(months, dtype=np.int64).astype("M8[M]").astype("M8[D]").astype(np.int64)


def years_before(days: np.ndarray, years: np.ndarray | float) -> np.ndarray:
    """An approximate day ``years`` earlier (365.25-day years): for birth dates only."""
    return np.asarray(days, dtype=np.int64) - (np.asarray(years) * 365.25).astype(np.int64)
