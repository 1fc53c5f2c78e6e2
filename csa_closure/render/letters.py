"""Section 10: a letter's printed text, rendered from the data its row keeps.

A letter row keeps its template, the template's version and the values that fill it (its
``body``, JSON: ``transform.letters.personalise``): amounts, dates and the parents' references.
The text is rendered here when its print batch is written, with the names and the recipient's
address read from the legacy systems then, so the target keeps no names or addresses; the same
row and the same parties always render to the same bytes. The wording of each version lives in
``templates/letters/v<N>/``: a change of wording is a new version, and letters created before
it keep printing as they were written. Version 0 is a body an earlier engine kept as text.

No value can change the shape of a letter or of the print file: every value is printed on one
line, with control characters (new lines, form feeds) shown as spaces.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable, Collection
from functools import cache, lru_cache
from typing import Any

import pandas as pd
from jinja2 import Environment, StrictUndefined

from csa_closure.render.formats import long_date, pounds
from csa_closure.render.templating import TEMPLATES
from transform.codes import Recipient
from transform.letters import unreachable_recipients

WIDTH = 78
SERVICE_TYPES = {
    "DIRECT_PAY": "Direct Pay",
    "COLLECT_AND_PAY": "Collect and Pay",
    "ARREARS_ONLY": "arrears-only",
}
TEXT_KEPT = 0
"""The version of a letter whose body is its text, kept by an earlier engine."""
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
"""Control characters, and the Unicode line and paragraph separators."""


@lru_cache(maxsize=4096)
def prose(text: str) -> str:
    """Paragraphs (blank-line separated) filled to ``WIDTH`` columns, so a template's line
    breaks never depend on how long a name or an amount is; '- ' starts a list item. Cached:
    most paragraphs hold no value and read the same in every letter."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "\n\n".join(
        "\n".join(
            textwrap.fill(
                " ".join(item.split()),
                WIDTH,
                subsequent_indent="  " if item.lstrip().startswith("- ") else "",
                break_long_words=False,
                break_on_hyphens=False,
            )
            for item in re.split(r"\n(?=\s*- )", paragraph)
        )
        for paragraph in paragraphs
    ) + "\n"


def _one_line(value: Any) -> Any:
    """Every value a template prints, on one line of printable text."""
    return CONTROL.sub(" ", value) if isinstance(value, str) else value


_ENVIRONMENT = Environment(
    loader=TEMPLATES,
    undefined=StrictUndefined,
    autoescape=False,
    keep_trailing_newline=True,
    finalize=_one_line,
)
_ENVIRONMENT.filters.update(long_date=long_date, pounds=pounds, prose=prose)


@cache
def _template(template: str, version: int):
    return _ENVIRONMENT.get_template(f"letters/v{version}/{template}.txt.j2")


PartyReader = Callable[[Collection[str]], pd.DataFrame]
"""Canonical parties by reference (``extract.parties.read_parties`` on the legacy systems)."""


def render_letters(letters: pd.DataFrame, read_parties: PartyReader) -> list[str | None]:
    """The printed text of each letter of a batch, in order; the parties they name are read
    once for the batch. None for a letter whose recipient has died or has no address now: it
    is not printed, and is recorded UNDELIVERABLE (``transform.letters.unreachable_recipients``).

    ``letters``: ``csa_case_ref``, ``template``, ``template_version``, ``recipient_role``,
    ``created_on`` (a date), ``body`` (the letter's values as JSON, or its text at version 0),
    ``dv_marker`` (the case carries a domestic-abuse marker now: its letter names no other
    parent, even one made before the marker was recorded).
    """
    values = [None if version == TEXT_KEPT else json.loads(body)
              for version, body in zip(letters["template_version"], letters["body"])]
    refs = {kept[key] for kept in values if kept for key in ("recipient_ref", "other_parent_ref") if key in kept}
    people: dict[str, dict[str, Any]] = {}
    unreachable: set[str] = set()
    if refs:
        parties = read_parties(refs)
        people, unreachable = _people(parties), unreachable_recipients(parties)
    return [
        body if kept is None
        else None if kept.get("recipient_ref") in unreachable
        else _template(template, version).render(_context(case_ref, role, created_on, kept, people, bool(marked)))
        for case_ref, template, version, role, created_on, body, kept, marked in zip(
            letters["csa_case_ref"], letters["template"], letters["template_version"],
            letters["recipient_role"], letters["created_on"], letters["body"], values, letters["dv_marker"],
        )
    ]


def _people(parties: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Each party's printed name (forenames then surname; None without either) and address
    lines (the lines, then the postcode; none for the untraced), by reference."""
    people = {}
    for ref, surname, forenames, address, postcode in zip(
        parties["person_ref"], parties["surname"], parties["forenames"], parties["address"], parties["postcode"]
    ):
        name = " ".join(part for part in (forenames, surname) if isinstance(part, str) and part).strip()
        lines = [] if pd.isna(address) else str(address).split("\n") + ([] if pd.isna(postcode) else [str(postcode)])
        people[ref] = {"name": name or None, "address_lines": lines}
    return people


def _context(
    case_ref: str, role: str, created_on, values: dict[str, Any], people: dict, dv_marker: bool
) -> dict[str, Any]:
    """What a template may see: the letter's own values and its parents' names, no more; of
    the other parent, only a name, only where the letter keeps their reference, and never
    where the case carries a domestic-abuse marker."""
    if "recipient_ref" in values:
        if values["recipient_ref"] not in people:
            raise ValueError(
                f"the {role} of case {case_ref} is not in the legacy systems: its letter cannot be printed"
            )
        recipient = people[values["recipient_ref"]]
        other_parent = people.get(values.get("other_parent_ref"), {}).get("name")
    else:  # values an earlier engine kept, the names and address with them
        recipient = {"name": values.get("name"), "address_lines": values.get("address") or []}
        other_parent = values.get("other_parent")
    service = values.get("service_type")
    return {
        "case_ref": case_ref,
        "created_on": pd.Timestamp(created_on).date(),
        "to_pwc": role == Recipient.PWC,
        "scheme": values["scheme"],
        "recipient": recipient,
        "other_parent": None if dv_marker else other_parent,
        "liability_end_date": values.get("liability_end_date"),
        "choice_deadline": values.get("choice_deadline"),
        "pending_pence": values.get("pending_pence"),
        "written_off_pence": values.get("written_off_pence"),
        "transferred_pence": values.get("transferred_pence"),
        "service_type": None if service is None else SERVICE_TYPES[service],
    }
