"""Operators' text shown back to them, in a refusal or a table of refused rows: control
characters escaped, so a cell's newline, NUL or terminal escape sequence can neither break
the one line a refusal is nor reach the terminal raw ('a\\nb' is shown as 'a\\\\nb')."""

from __future__ import annotations

import re

import pandas as pd

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
"""Unicode's control characters (category Cc), and the line and paragraph separators."""


def escaped(text: str) -> str:
    return CONTROL.sub(_escape, text)


def escaped_values(values: pd.Series) -> pd.Series:
    """``escaped`` for each text of a Series (missing values stay missing)."""
    return values.astype("str").str.replace(CONTROL, _escape, regex=True)


def _escape(match: re.Match) -> str:
    return match.group().encode("unicode_escape").decode("ascii")
