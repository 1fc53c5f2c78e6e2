"""Section 10: the printed text of each letter, one plain-English template per ``Template``.

Every letter carries its recipient's own name and address, its date, the case reference, what
happens and when, and the Child Maintenance Options signposting. The other parent is named
only where the case has no domestic-abuse marker, and is never located: templates are only
given the other parent's name, never their address or postcode. No National Insurance number
reaches a template. Money arrives as integer pence and is formatted without floats.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import pandas as pd
from jinja2 import DictLoader, Environment, StrictUndefined

from transform.codes import Recipient, Template

WIDTH = 78
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)
SERVICE_TYPES = {
    "DIRECT_PAY": "Direct Pay",
    "COLLECT_AND_PAY": "Collect and Pay",
    "ARREARS_ONLY": "arrears-only",
}


def long_date(day: pd.Timestamp | None) -> str:
    """A date as letters print it: '31 August 2014' (no leading zero, no locale)."""
    if day is None or pd.isna(day):
        raise ValueError("a date the letter needs is missing")
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def pounds(pence: int | None) -> str:
    """Whole pence as pounds: 175000 -> '£1,750.00'; integer arithmetic, never a float."""
    if pence is None:
        raise ValueError("an amount the letter needs is missing")
    whole, part = divmod(abs(int(pence)), 100)
    sign = "-" if pence < 0 else ""
    return f"{sign}£{whole:,}.{part:02d}"


def prose(text: str) -> str:
    """Paragraphs (blank-line separated) filled to ``WIDTH`` columns, so a template's line
    breaks never depend on how long a name or an amount is; '- ' starts a list item."""
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


_HEADER = """\
Child Support Agency

{% if recipient.name %}{{ recipient.name }}
{% endif %}{% for line in recipient.address_lines %}{{ line }}
{% endfor %}
Date: {{ created_on | long_date }}
Case reference: {{ case_ref }}

{{ title }}

Dear {{ recipient.name or "parent" }},

"""

_FOOTER = """
{% filter prose %}
Child Maintenance Options

Child Maintenance Options is a free service. It gives impartial information and support
to help parents make child maintenance arrangements, including arrangements you make
yourselves.
{% endfilter %}
Telephone: 0800 988 0988
Website: www.cmoptions.org
Opening hours: Monday to Friday, 8am to 8pm; Saturday, 9am to 4pm

When you contact us, quote your case reference {{ case_ref }}.

Yours sincerely

Child Support Agency
"""

_CASE = (
    "your Child Support Agency (CSA) case"
    "{% if other_parent %} with {{ other_parent }}{% endif %} ({{ scheme }} scheme)"
)

_TEMPLATES = {
    "header": _HEADER,
    "footer": _FOOTER,
    "case": _CASE,
    Template.INITIAL_NOTICE: """\
{% set title = "Your Child Support Agency case is ending" %}{% include "header" %}\
{% filter prose %}
We are writing to tell you that we are ending {% include "case" %}. All CSA cases are
ending as child maintenance moves to the Child Maintenance Service.

What happens next

Child maintenance under this case will stop on {{ liability_end_date | long_date }}.
{% if to_pwc %}
Until then, nothing changes and payments continue as now.

If you want child maintenance to continue after that date, you can make your own
arrangement with the other parent, or apply to the Child Maintenance Service. Child
Maintenance Options can help you choose what is right for you and your children.
{% else %}
Until then, nothing changes: keep paying as you do now.

After that date you will not owe any more child maintenance under this case. The other
parent may apply to the Child Maintenance Service. If they do, it will contact you.
{% endif %}

We will write to you again one month before the case ends, and again when it has ended.
If any child maintenance is still owed then, we will write to you about it.
{% endfilter %}{% include "footer" %}""",
    Template.REMINDER: """\
{% set title = "Your Child Support Agency case ends in one month" %}{% include "header" %}\
{% filter prose %}
This is a reminder that we are ending {% include "case" %}. Child maintenance under this
case will stop on {{ liability_end_date | long_date }}.
{% if to_pwc %}
If you want child maintenance to continue after that date and have not yet made an
arrangement, you still have time. You can make your own arrangement with the other parent,
or apply to the Child Maintenance Service.
{% else %}
Until then, keep paying as you do now. After that date you will not owe any more child
maintenance under this case.
{% endif %}
{% endfilter %}{% include "footer" %}""",
    Template.LIABILITY_ENDED: """\
{% set title = "Your Child Support Agency case has ended" %}{% include "header" %}\
{% filter prose %}
Child maintenance under {% include "case" %} stopped on {{ liability_end_date | long_date }}.
{% if to_pwc %}
No more child maintenance is due to you under this case from that date.
{% else %}
You do not owe any child maintenance under this case for any time after that date.
{% endif %}

If any child maintenance is still owed on this case, we will write to you separately to
tell you what happens to it.
{% endfilter %}{% include "footer" %}""",
    Template.ARREARS_CHOICE: """\
{% set title = "Tell us what you want to happen to the money you are owed" %}\
{% include "header" %}\
{% filter prose %}
Your Child Support Agency (CSA) case ({{ scheme }} scheme) has ended, but
{{ other_parent or "the other parent" }} still owes you {{ pending_pence | pounds }} in child
maintenance arrears.

You need to tell us what you want us to do with this money by
{{ choice_deadline | long_date }}. You can choose to:

- collect: we will pass the arrears to the Child Maintenance Service, which will collect
them for you
- write off: we will stop trying to collect the arrears and they will no longer be owed

To tell us, phone us or write to us, quoting your case reference {{ case_ref }} and saying
"collect" or "write off".

If we do not hear from you by {{ choice_deadline | long_date }}, we will write the arrears
off. If you need more time to decide, contact us on or before that date and we can give
you more time once.

If the other parent cannot be traced or lives abroad, we may not be able to collect the
arrears. If that happens, we will write to you.

Child Maintenance Options can help you think about your choice.
{% endfilter %}{% include "footer" %}""",
    Template.ARREARS_WRITTEN_OFF: """\
{% set title = "Child maintenance arrears have been written off" %}{% include "header" %}\
{% filter prose %}
We have written off {{ written_off_pence | pounds }} of child maintenance arrears on
{% include "case" %}.
{% if to_pwc %}This means this money will not be collected for you.
{% else %}This means you do not have to pay it.
{% endif %}
{% if transferred_pence %}
We have passed {{ transferred_pence | pounds }} of arrears on this case to the Child
Maintenance Service, which will write to you about it.
{% endif %}
{% if pending_pence %}
A decision about {{ pending_pence | pounds }} of arrears on this case has still to be
made. We will write to you again when it has been made.
{% endif %}
{% endfilter %}{% include "footer" %}""",
    Template.ARREARS_TRANSFERRED: """\
{% set title = "Child maintenance arrears are moving to the Child Maintenance Service" %}\
{% include "header" %}\
{% filter prose %}
We have passed {{ transferred_pence | pounds }} of child maintenance arrears on
{% include "case" %} to the Child Maintenance Service (CMS).
{% if service_type %}They will be collected through a new {{ service_type }} case with
the CMS.{% endif %}
{% if to_pwc %}
The CMS will now collect these arrears. It will write to you to explain how and when you
will be paid.
{% else %}
You now owe these arrears to the CMS. It will write to you to explain how much to pay and
when.
{% endif %}
{% if written_off_pence %}
We have also written off {{ written_off_pence | pounds }} of arrears on this case.
{% endif %}
{% endfilter %}{% include "footer" %}""",
}

_ENVIRONMENT = Environment(
    loader=DictLoader({str(name): text for name, text in _TEMPLATES.items()}),
    undefined=StrictUndefined,
    autoescape=False,
    keep_trailing_newline=True,
)
_ENVIRONMENT.filters["long_date"] = long_date
_ENVIRONMENT.filters["pounds"] = pounds
_ENVIRONMENT.filters["prose"] = prose
TEMPLATES = {template: _ENVIRONMENT.get_template(str(template)) for template in Template}
"""Each template compiled once, at import."""


def render_bodies(
    letters: pd.DataFrame, context: pd.DataFrame, parties: pd.DataFrame
) -> pd.Series:
    """The printed body of each letter, index aligned with ``letters``.

    ``context`` has one row per case (its scheme, parents, marker, dates and amounts);
    ``parties`` the canonical parties of every recipient and other parent.
    """
    cases = context.set_index("case_ref").to_dict("index")
    people = parties.drop_duplicates("person_ref").set_index("person_ref").to_dict("index")
    bodies = [
        TEMPLATES[Template(letter.template)].render(
            _letter_context(letter, cases[letter.case_ref], people)
        )
        for letter in letters.itertuples(index=False)
    ]
    return pd.Series(bodies, index=letters.index, dtype="str")


Person = dict[str, Any]


def _letter_context(letter: Any, case: dict[str, Any], people: dict[str, Person]) -> dict[str, Any]:
    """What one template may see: the recipient in full, the other parent by name at most."""
    to_pwc = letter.recipient_role == Recipient.PWC
    if letter.template == Template.ARREARS_CHOICE and not to_pwc:
        raise ValueError(f"the arrears choice of case {letter.case_ref} goes to the PWC only")
    own, other = ("pwc_ref", "nrp_ref") if to_pwc else ("nrp_ref", "pwc_ref")
    if case[own] not in people:
        raise ValueError(f"no party {case[own]} for a letter of case {letter.case_ref}")
    recipient = people[case[own]]
    service = _or_none(case["cms_service_type"])
    return {
        "case_ref": letter.case_ref,
        "created_on": letter.created_on,
        "to_pwc": to_pwc,
        "scheme": case["scheme"],
        "recipient": {"name": _name(recipient), "address_lines": _address_lines(recipient)},
        "other_parent": None if case["dv_marker"] else _name(people.get(case[other])),
        "liability_end_date": _or_none(case["liability_end_date"]),
        "choice_deadline": _or_none(case["choice_deadline"]),
        "pending_pence": _or_none(case["pending_pence"]),
        "written_off_pence": _or_none(case["written_off_pence"]),
        "transferred_pence": _or_none(case["transferred_pence"]),
        "service_type": None if service is None else SERVICE_TYPES[service],
    }


def _address_lines(person: Person) -> list[str]:
    """The address block: address lines then postcode; nothing for an untraced person."""
    address = _or_none(person["address"])
    if address is None:
        return []
    postcode = _or_none(person["postcode"])
    return str(address).split("\n") + ([] if postcode is None else [str(postcode)])


def _name(person: Person | None) -> str | None:
    """Forenames then surname; None for a party without either, or not read at all."""
    if person is None:
        return None
    parts = (_or_none(person["forenames"]), _or_none(person["surname"]))
    return " ".join(str(part) for part in parts if part is not None) or None


def _or_none(value: Any) -> Any:
    """Missing values (None, NaN, NaT, NA) as None, so a template can test for them."""
    return None if value is None or pd.isna(value) else value
