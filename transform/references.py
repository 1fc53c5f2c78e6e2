"""How the engine names a legacy system's people outside that system.

A person reference is the legacy person's key, behind a prefix where the key alone could be
mistaken for another system's (CS2's ``party_id`` 11 is ``CS2-11``). Each legacy system declares
its format (``extract/systems.py``); operators' events are checked against them all, and letters
find a recipient's system by the format their reference matches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class PersonRefFormat:
    """``pattern``: the whole reference, a regular expression (``P\\d{9}``); ``described``: the
    same for an operator (``P + 9 digits``); ``prefix``: what stands before the legacy key."""

    pattern: str
    described: str
    prefix: str = ""

    def refs(self, keys: pd.Series) -> pd.Series:
        """The references of legacy person keys (text)."""
        return self.prefix + keys

    def keys(self, refs: Iterable[str]) -> list[str]:
        """The legacy keys of the references in this format, sorted; others are left out."""
        return sorted({ref.removeprefix(self.prefix) for ref in refs if re.fullmatch(self.pattern, ref)})


def any_person_ref(formats: Sequence[PersonRefFormat]) -> str:
    """One regular expression for a reference in any of ``formats``."""
    return "|".join(f"(?:{form.pattern})" for form in formats)


def described(formats: Sequence[PersonRefFormat]) -> str:
    """The formats for an operator: ``P + 9 digits or CS2-<digits>``."""
    return " or ".join(form.described for form in formats)
