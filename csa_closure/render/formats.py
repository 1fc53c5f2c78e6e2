"""How money, dates, shares and rows read in every output: whole pence as pounds, dates written
out or as ISO text, integer shares for charts, and frames as plain JSON records. Integer
arithmetic throughout, so no float ever touches a penny."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)


def long_date(day: date | str | None) -> str:
    """A date as letters print it: '31 August 2014' (no leading zero, no locale); an ISO
    date's text is read as that day."""
    if day is None or (not isinstance(day, str) and pd.isna(day)):
        raise ValueError("a date the letter needs is missing")
    if isinstance(day, str):
        day = date.fromisoformat(day)
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def iso_date(day: Any) -> str | None:
    """A date as YYYY-MM-DD, or None when there is none (JSON's null; tables show their own
    word for it)."""
    return None if day is None or pd.isna(day) else f"{pd.Timestamp(day):%Y-%m-%d}"


def pounds(pence: int | None) -> str:
    """Whole pence as pounds: 175000 -> '£1,750.00'; integer arithmetic, never a float."""
    if pence is None:
        raise ValueError("an amount the letter needs is missing")
    whole, part = divmod(abs(int(pence)), 100)
    sign = "-" if pence < 0 else ""
    return f"{sign}£{whole:,}.{part:02d}"


def whole_pounds(pence: int) -> str:
    """Pence as pounds rounded half up to the pound, for charts: 123450 -> '£1,235'."""
    return f"{'-' if pence < 0 else ''}£{(abs(int(pence)) + 50) // 100:,}"


def percent(part: int, whole: int) -> int:
    """``part`` as a whole percentage of ``whole``, rounded half up with integers only."""
    return (200 * part + whole) // (2 * whole) if whole else 0


def share(part: int, whole: int, width: int) -> int:
    """The length, in whole units, of ``part`` out of ``whole`` drawn ``width`` long."""
    return part * width // whole if whole else 0


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts of Python ints and strings (never numpy scalars), for JSON."""
    return [
        {key: value.item() if hasattr(value, "item") else value for key, value in row.items()}
        for row in frame.to_dict("records")
    ]
