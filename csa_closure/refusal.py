"""Bad operator input: refused with one line that says why, and nothing changed."""

from __future__ import annotations

from datetime import date, datetime

from csa_closure.shown import escaped


class Refusal(Exception):
    """An operator's command or event that the engine will not take; its message is one line,
    whatever text of the operator's it quotes (control characters are shown escaped)."""

    def __str__(self) -> str:
        return escaped(super().__str__())


def parse_date(value: str, option: str) -> date:
    """A date as YYYY-MM-DD, or a refusal naming the option."""
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise Refusal(f"{option} must be a date as YYYY-MM-DD, not {value!r}") from None
