"""Section 10: a letter's printed text, rendered from the data its row keeps.

A letter row keeps its template, the template's version and the values that fill it (its
``body``, JSON: ``transform.letters.personalise``); the text is rendered here when its print
batch is written, the same row always to the same bytes. The wording of each version lives in
``templates/letters/v<N>/``: a change of wording is a new version, and letters created before
it keep printing as they were written. Version 0 is a body an earlier engine kept as text.

No value can change the shape of a letter or of the print file: every value is printed on one
line, with control characters (new lines, form feeds) shown as spaces.
"""

from __future__ import annotations

import json
import re
import textwrap
from functools import cache, lru_cache
from typing import Any

import pandas as pd
from jinja2 import Environment, StrictUndefined

from csa_closure.render.formats import long_date, pounds
from csa_closure.render.templating import TEMPLATES
from transform.codes import Recipient

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


def render_letters(letters: pd.DataFrame) -> list[str]:
    """The printed text of each letter of a batch, in order.

    ``letters``: ``csa_case_ref``, ``template``, ``template_version``, ``recipient_role``,
    ``created_on`` (a date), ``body`` (the letter's values as JSON, or its text at version 0).
    """
    return [
        body if version == TEXT_KEPT else _template(template, version).render(
            _context(case_ref, role, created_on, json.loads(body))
        )
        for case_ref, template, version, role, created_on, body in zip(
            letters["csa_case_ref"], letters["template"], letters["template_version"],
            letters["recipient_role"], letters["created_on"], letters["body"],
        )
    ]


def _context(case_ref: str, role: str, created_on, values: dict[str, Any]) -> dict[str, Any]:
    """What a template may see: the letter's own values, no more."""
    service = values.get("service_type")
    return {
        "case_ref": case_ref,
        "created_on": pd.Timestamp(created_on).date(),
        "to_pwc": role == Recipient.PWC,
        "scheme": values["scheme"],
        "recipient": {"name": values.get("name"), "address_lines": values.get("address") or []},
        "other_parent": values.get("other_parent"),
        "liability_end_date": values.get("liability_end_date"),
        "choice_deadline": values.get("choice_deadline"),
        "pending_pence": values.get("pending_pence"),
        "written_off_pence": values.get("written_off_pence"),
        "transferred_pence": values.get("transferred_pence"),
        "service_type": None if service is None else SERVICE_TYPES[service],
    }
