"""The forecast's comparison as people and machines read it: rich tables for the terminal, JSON,
markdown (the Prefect artifact) and one self-contained HTML page for managers.

Every output shows the same tables (``tables``); the markdown and the page are Jinja templates
in ``templates/forecast/``, on the base page and tables the report shares. Money stays whole
pence to the last character: ``pounds`` formats with integer arithmetic and bar lengths are
integer shares, so no float touches a penny.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from csa_closure.render.formats import iso_date, long_date, pounds, records, share
from csa_closure.render.labels import REASON_LABELS
from csa_closure.render.templating import pages
from csa_closure.render.terminal import as_text, print_whole
from transform.codes import NO_ARREARS, JourneyState, Outcome, WriteOffReason
from transform.forecast import (
    ON_HOLD,
    OUT_OF_SCOPE,
    SIDES,
    UNREADABLE,
    Comparison,
    dates_table,
    letters_table,
    outcomes_table,
    schemes_table,
    settings_table,
    states_table,
    totals_table,
    tranches_table,
)

OUTCOME_LABELS = {
    Outcome.TRANSFER.value: "transferred to the CMS",
    Outcome.WRITE_OFF.value: "written off",
    Outcome.AWAITING_CHOICE.value: "awaiting the parent's choice",
    ON_HOLD: "on hold",
    NO_ARREARS: "no arrears",
    OUT_OF_SCOPE: "out of scope",
}
REASONS = {**REASON_LABELS, WriteOffReason.BELOW_THRESHOLD: "below the threshold"}
"""The report's reason labels, but for the threshold, which the forecast may change."""
STATE_LABELS = {
    JourneyState.CLOSED.value: "closed",
    JourneyState.AWAITING_CHOICE.value: "awaiting the parent's choice",
    JourneyState.ON_HOLD.value: "on hold",
    OUT_OF_SCOPE: "out of scope, never selected",
    UNREADABLE: "unreadable: legacy records now broken",
}
TOTAL_LABELS = {
    "cases": "cases forecast",
    "arrears_pence": "open arrears",
    "transferred_pence": "transferred to the CMS",
    "written_off_pence": "written off",
    "awaiting_choice_pence": "awaiting the parent's choice",
    "on_hold_pence": "on hold",
    "tranches": "tranches needed",
    "letters_to_send": "letters to send",
    "letters_undeliverable": "letters undeliverable",
}
DATE_LABELS = {
    "first_selection": "first selection",
    "last_selection": "last selection",
    "last_liability_end": "last liability end",
    "last_choice_deadline": "last choice deadline",
}
CARDS = ("arrears_pence", "transferred_pence", "written_off_pence", "awaiting_choice_pence", "on_hold_pence",
         "letters_to_send", "tranches")
DATE_CARDS = ("last_selection", "last_liability_end")
ASSUMPTIONS = (
    "Cases not selected yet are walked into tranches from the first selection date with each "
    "side's capacity, interval and groups, then started, reminded, ended and decided on those "
    "dates as advance would.",
    "Cases already selected keep the liability end date the journey gave them; cases awaiting a "
    "choice keep their deadline; cases on hold after liability end stay on hold.",
    "The ledger is the latest extract's: no later receipt or charge is foreseen. No reactive "
    "closure, no event not yet applied by advance, and no parent's answer is assumed.",
    "Cases held back by quarantine are left out.",
)


@dataclass(frozen=True)
class Table:
    """One table as every output shows it: text cells, an alignment per column ('l' or 'r'),
    and which rows differ between the two settings."""

    key: str
    title: str
    headers: tuple[str, ...]
    align: str
    rows: list[tuple[str, ...]]
    changed: list[bool]


# --- formatting -------------------------------------------------------------------------------


def count(n: int) -> str:
    return f"{n:,}"


def signed_count(n: int) -> str:
    """A difference of counts, blank when there is none."""
    return f"{n:+,}" if n else ""


def signed_pounds(pence: int) -> str:
    """A difference of money, blank when there is none: '+£12.34', '-£0.50'."""
    return ("+" if pence > 0 else "") + pounds(pence) if pence else ""


def day(value: Any) -> str:
    return iso_date(value) or "none"


def signed_days(days) -> str:
    return f"{int(days):+,} days" if pd.notna(days) and days else ""


def setting(name: str, value) -> str:
    """A rule setting as an operator writes it: pence also as pounds, groups as '1 | 3,4'."""
    if name == "segment_groups":
        return " | ".join(",".join(map(str, group)) for group in value)
    if name.endswith("_pence"):
        return f"{pounds(value)} ({value:,} p)"
    return f"{value:,}"


def _label(code: str, labels: dict) -> str:
    return labels.get(code, code.replace("_", " ").lower()) if code else ""


# --- the tables ---------------------------------------------------------------------------------


def tables(comparison: Comparison) -> list[Table]:
    """Every table of the comparison, in reading order."""
    return [
        settings_section(comparison), totals_section(comparison), dates_section(comparison),
        outcomes_section(comparison), states_section(comparison), schemes_section(comparison),
        tranches_section(comparison), letters_section(comparison),
    ]


def settings_section(comparison: Comparison) -> Table:
    s = settings_table(comparison)
    rows = [
        (r.setting, setting(r.setting, r.current), setting(r.setting, r.alternative),
         r.note if r.changed else "")
        for r in s.itertuples(index=False)
    ]
    return Table("settings", "Rule settings", ("setting", "current", "alternative", "note"), "llll", rows,
                 s["changed"].tolist())


def totals_section(comparison: Comparison) -> Table:
    t = totals_table(comparison)
    rows = []
    for r in t.itertuples(index=False):
        money = r.figure.endswith("_pence")
        show, signed = (pounds, signed_pounds) if money else (count, signed_count)
        rows.append((TOTAL_LABELS[r.figure], show(r.current), show(r.alternative), signed(r.difference)))
    return Table("totals", "Headline figures", ("figure", "current", "alternative", "difference"), "lrrr", rows,
                 (t["difference"] != 0).tolist())


def dates_section(comparison: Comparison) -> Table:
    d = dates_table(comparison)
    rows = [(DATE_LABELS[r.event], day(r.current), day(r.alternative), signed_days(r.difference_days))
            for r in d.itertuples(index=False)]
    changed = [bool(pd.notna(n) and n) or (pd.isna(c) != pd.isna(a))
               for n, c, a in zip(d["difference_days"], d["current"], d["alternative"])]
    return Table("dates", "When the closure ends", ("event", "current", "alternative", "difference"), "lrrr",
                 rows, changed)


def outcomes_section(comparison: Comparison) -> Table:
    o = outcomes_table(comparison)
    rows = [
        (_label(r.outcome, OUTCOME_LABELS), _label(r.reason, REASONS),
         count(r.current_cases), count(r.alternative_cases), signed_count(r.difference_cases),
         pounds(r.current_pence), pounds(r.alternative_pence), signed_pounds(r.difference_pence))
        for r in o.itertuples(index=False)
    ]
    headers = ("outcome", "reason", "cases (current)", "cases (alternative)", "cases (difference)",
               "amount (current)", "amount (alternative)", "amount (difference)")
    changed = ((o["difference_cases"] != 0) | (o["difference_pence"] != 0)).tolist()
    return Table("outcomes", "Cases and money by outcome and reason", headers, "llrrrrrr", rows, changed)


def states_section(comparison: Comparison) -> Table:
    s = states_table(comparison)
    rows = [(_label(r.state, STATE_LABELS), count(r.current_cases), count(r.alternative_cases),
             signed_count(r.difference_cases)) for r in s.itertuples(index=False)]
    return Table("states", "Where the cases end", ("cases end", "current", "alternative", "difference"), "lrrr",
                 rows, (s["difference_cases"] != 0).tolist())


def schemes_section(comparison: Comparison) -> Table:
    m = schemes_table(comparison)
    rows = [(r.scheme, r.creditor, _label(r.outcome, OUTCOME_LABELS), pounds(r.current_pence),
             pounds(r.alternative_pence), signed_pounds(r.difference_pence)) for r in m.itertuples(index=False)]
    return Table("schemes", "Money by scheme and creditor",
                 ("scheme", "creditor", "outcome", "current", "alternative", "difference"), "lllrrr", rows,
                 (m["difference_pence"] != 0).tolist())


def tranches_section(comparison: Comparison) -> Table:
    t = tranches_table(comparison)
    rows, changed = [], []
    for r in t.itertuples(index=False):
        spans = [f"{day(getattr(r, f'{side}_first'))} to {day(getattr(r, f'{side}_last'))}"
                 if getattr(r, f"{side}_tranches") else "" for side in SIDES]
        rows.append((r.segment_group, count(r.current_tranches), count(r.alternative_tranches),
                     count(r.current_cases), count(r.alternative_cases), *spans))
        changed.append(rows[-1][1] != rows[-1][2] or rows[-1][3] != rows[-1][4] or spans[0] != spans[1])
    headers = ("segment group", "tranches (current)", "tranches (alternative)", "cases (current)",
               "cases (alternative)", "selected (current)", "selected (alternative)")
    return Table("tranches", "Tranches needed (section 2's walk)", headers, "lrrrrll", rows, changed)


def letters_section(comparison: Comparison) -> Table:
    lt = letters_table(comparison)
    rows = [(r.template, r.status.lower(), count(r.current_letters), count(r.alternative_letters),
             signed_count(r.difference_letters)) for r in lt.itertuples(index=False)]
    return Table("letters", "Letters to be sent", ("template", "status", "current", "alternative", "difference"),
                 "llrrr", rows, (lt["difference_letters"] != 0).tolist())


# --- JSON ---------------------------------------------------------------------------------------


def render_json(comparison: Comparison) -> str:
    """The comparison for machines: fixed keys, integer pence, ISO dates."""
    totals = totals_table(comparison)
    dates = dates_table(comparison)
    outcomes = outcomes_table(comparison)
    tranches = tranches_table(comparison)
    document = {
        "as_of": day(comparison.as_of),
        "first_selection": day(comparison.first_selection),
        "held_back_cases": comparison.held_back,
        "settings": [
            {"setting": r.setting, "current": _plain(r.current), "alternative": _plain(r.alternative),
             "changed": bool(r.changed), "note": r.note}
            for r in settings_table(comparison).itertuples(index=False)
        ],
        "totals": {r.figure: {side: int(getattr(r, side)) for side in (*SIDES, "difference")}
                   for r in totals.itertuples(index=False)},
        "dates": {r.event: {"current": iso_date(r.current), "alternative": iso_date(r.alternative),
                            "difference_days": None if pd.isna(r.difference_days) else int(r.difference_days)}
                  for r in dates.itertuples(index=False)},
        "outcomes": [
            {"outcome": r["outcome"], "reason": r["reason"] or None}
            | {side: {"cases": int(r[f"{side}_cases"]), "amount_pence": int(r[f"{side}_pence"])}
               for side in (*SIDES, "difference")}
            for r in outcomes.to_dict("records")
        ],
        "case_states": records(states_table(comparison).rename(columns=_side_names("cases"))),
        "by_scheme_and_creditor": records(schemes_table(comparison)),
        "tranches": [
            {"segment_group": r["segment_group"]}
            | {side: {"tranches": int(r[f"{side}_tranches"]), "cases": int(r[f"{side}_cases"]),
                      "first_selection": iso_date(r[f"{side}_first"]), "last_selection": iso_date(r[f"{side}_last"])}
               for side in SIDES}
            for r in tranches.to_dict("records")
        ],
        "letters": records(letters_table(comparison).rename(columns=_side_names("letters"))),
    }
    return json.dumps(document, indent=2) + "\n"


def _side_names(value: str) -> dict[str, str]:
    return {f"{side}_{value}": side for side in (*SIDES, "difference")}


def _plain(value):
    """A setting's value as JSON holds it (groups as lists)."""
    return [list(group) for group in value] if isinstance(value, tuple) else value


# --- markdown and HTML --------------------------------------------------------------------------


def _context(comparison: Comparison) -> dict:
    """What both templates show: the tables, the headline cards and the money chart."""
    settings = settings_table(comparison)
    return {
        "as_of": long_date(comparison.as_of),
        "first_selection": long_date(comparison.first_selection),
        "held_back": count(comparison.held_back),
        "changed": [
            {"setting": r.setting, "current": setting(r.setting, r.current),
             "alternative": setting(r.setting, r.alternative), "note": r.note}
            for r in settings[settings["changed"]].itertuples(index=False)
        ],
        "cards": cards(comparison),
        "bars": money_bars(comparison),
        "tables": tables(comparison),
        "assumptions": ASSUMPTIONS,
    }


def cards(comparison: Comparison) -> list[dict]:
    """The headline figures a manager reads first, each with both sides and the difference."""
    totals = totals_table(comparison).set_index("figure")
    dates = dates_table(comparison).set_index("event")
    figures = []
    for name in CARDS:
        show, signed = (pounds, signed_pounds) if name.endswith("_pence") else (count, signed_count)
        row = totals.loc[name]
        figures.append({"label": TOTAL_LABELS[name], "current": show(int(row["current"])),
                        "alternative": show(int(row["alternative"])), "difference": signed(int(row["difference"]))})
    for event in DATE_CARDS:
        row = dates.loc[event]
        figures.append({"label": DATE_LABELS[event], "current": day(row["current"]),
                        "alternative": day(row["alternative"]), "difference": signed_days(row["difference_days"])})
    return figures


def money_bars(comparison: Comparison) -> list[dict]:
    """Each outcome and reason's two amounts as bars, in whole percent of the largest amount
    (credit balances on hold draw no bar: a bar cannot show a negative)."""
    o = outcomes_table(comparison)
    o = o[(o["current_pence"] != 0) | (o["alternative_pence"] != 0)]
    largest = int(o[["current_pence", "alternative_pence"]].clip(lower=0).to_numpy().max()) if len(o) else 0
    return [
        {
            "label": ": ".join(filter(None, (_label(row.outcome, OUTCOME_LABELS), _label(row.reason, REASONS)))),
            "changed": bool(row.difference_pence),
            "sides": [
                {"side": side, "amount": pounds(int(getattr(row, f"{side}_pence"))),
                 "width": share(max(int(getattr(row, f"{side}_pence")), 0), largest, 100)}
                for side in SIDES
            ],
        }
        for row in o.itertuples(index=False)
    ]


def render_markdown(comparison: Comparison) -> str:
    """The comparison as markdown (the Prefect artifact ``forecast``)."""
    return pages().get_template("forecast/forecast.md.j2").render(_context(comparison))


def render_html(comparison: Comparison) -> str:
    """One self-contained page: inline CSS, no script, nothing fetched."""
    return pages().get_template("forecast/forecast.html.j2").render(_context(comparison))


# --- the terminal ------------------------------------------------------------------------------


def print_tables(comparison: Comparison, to: Console) -> None:
    """Every table as a rich table; rows that differ between the settings in bold."""
    to.print(Text(f"What-if forecast as of {day(comparison.as_of)}: current settings against the "
                  "alternative; rows marked * differ", style="bold"))
    for table in tables(comparison):
        rich = RichTable(title=table.title)
        rich.add_column("", justify="center")
        for header, align in zip(table.headers, table.align):
            rich.add_column(header, justify="right" if align == "r" else "left")
        for row, changed in zip(table.rows, table.changed):
            rich.add_row("*" if changed else "", *row, style="bold yellow" if changed else None)
        print_whole(to, rich)


def tables_text(comparison: Comparison) -> str:
    """The tables as plain text for a file: no colour codes, no amount cut short."""
    return as_text(print_tables, comparison)
