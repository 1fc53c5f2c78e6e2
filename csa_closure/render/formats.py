"""How money and dates read on paper: whole pence as pounds, dates written out."""

from __future__ import annotations

from datetime import date

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


def pounds(pence: int | None) -> str:
    """Whole pence as pounds: 175000 -> '£1,750.00'; integer arithmetic, never a float."""
    if pence is None:
        raise ValueError("an amount the letter needs is missing")
    whole, part = divmod(abs(int(pence)), 100)
    sign = "-" if pence < 0 else ""
    return f"{sign}£{whole:,}.{part:02d}"
