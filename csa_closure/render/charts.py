"""The report's two charts as marks in whole pixels, which ``templates/report/chart.svg.j2``
draws as inline SVG: where the money went, and cases by journey state per tranche.

Bar lengths are integer shares of the bar's width, and the parts of a stacked bar end where
their running total ends, so the parts always sum to the bar exactly; no float touches a penny.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import NamedTuple

import pandas as pd

from csa_closure.render.formats import iso_date, percent, pounds, share, whole_pounds
from csa_closure.render.labels import OUTCOME_LABELS, STATE_LABELS, reason_label
from transform.codes import JourneyState
from transform.report import ON_HOLD, PENDING, STATE_ORDER, TRANSFERRED, WRITTEN_OFF

CHART_WIDTH = 1000
LABEL_WIDTH = 280
BAR_WIDTH = 480
ROW_HEIGHT = 28
BAR_HEIGHT = 22
STATE_COLOURS = dict(zip(STATE_ORDER, ("#00703c", "#1d70b8", "#b1b4b6", "#f47738"), strict=True))
"""GOV.UK palette colours per journey state, from done (green) to stuck (orange)."""
OUTCOME_COLOURS = {
    TRANSFERRED: ("#00703c", "#005a30"),
    WRITTEN_OFF: ("#d4351c", "#942514", "#d53880", "#912b88", "#4c2c92", "#b58840", "#6f72af", "#f499be",
                  "#a8526c"),
    PENDING: ("#1d70b8", "#5694ca"),
    ON_HOLD: ("#f47738", "#ffdd00"),
}
"""GOV.UK palette colours per outcome, one per reason in the order the reasons come."""


@dataclass(frozen=True)
class Bar:
    """A filled rectangle; its tip names what it stands for."""

    x: int
    y: int
    width: int
    height: int
    colour: str
    tip: str


@dataclass(frozen=True)
class Label:
    """A line of text, vertically centred on ``y``."""

    x: int
    y: int
    text: str
    anchor: str = "start"
    weight: str = "normal"


@dataclass(frozen=True)
class Chart:
    """An image's marks in drawing order; its title is read out in place of the image."""

    title: str
    height: int
    marks: list[Bar | Label]
    width: int = CHART_WIDTH


class MoneyItem(NamedTuple):
    """One bar of the money chart."""

    outcome: str
    reason: str
    pence: int
    colour: str


def money_items(money: pd.DataFrame) -> list[MoneyItem]:
    """The chart's bars, each reason coloured within its outcome's hue; negative amounts
    (credit balances on hold) stay in the tables, as a bar cannot show them."""
    items = []
    for outcome, group in money[money["pence"] > 0].groupby("outcome", sort=False):
        colours = OUTCOME_COLOURS[outcome]
        for n, row in enumerate(group.itertuples(index=False)):
            items.append(MoneyItem(OUTCOME_LABELS[outcome], reason_label(row.reason), int(row.pence),
                                   colours[n % len(colours)]))
    return items


def share_text(part: int, whole: int) -> str:
    """A share for a label; a sliver is '<1%', not a misleading '0%'."""
    shown = percent(part, whole)
    return "<1%" if part and not shown else f"{shown}%"


def stacked(y: int, parts: list[tuple[int, str, str]], whole: int) -> tuple[list[Bar], int]:
    """One bar of ``parts`` (count, colour, tip) drawn to the scale of ``whole``: each part ends
    where the running total ends. Returns the rectangles and where the bar ends."""
    bars, running, x = [], 0, LABEL_WIDTH
    for count, colour, tip in parts:
        running += count
        end = LABEL_WIDTH + share(running, whole, BAR_WIDTH)
        if end > x:
            bars.append(Bar(x, y, end - x, BAR_HEIGHT, colour, tip))
        x = end
    return bars, x


def money_chart(items: list[MoneyItem]) -> Chart:
    """Where the money went: all arrears as one bar split by outcome and reason, then each
    outcome with its share and a bar per reason, in pounds."""
    total = sum(item.pence for item in items)
    largest = max((item.pence for item in items), default=0)
    top, end = stacked(4, [(i.pence, i.colour, f"{i.outcome}, {i.reason}: {pounds(i.pence)}") for i in items], total)
    marks: list[Bar | Label] = [Label(LABEL_WIDTH - 10, 15, "all arrears", "end", "bold"), *top,
                                Label(end + 8, 15, whole_pounds(total), weight="bold")]
    y = 40
    for outcome, grouped in groupby(items, key=lambda item: item.outcome):
        group = list(grouped)
        subtotal = sum(item.pence for item in group)
        marks.append(Label(0, y + 11, f"{outcome}: {whole_pounds(subtotal)} ({share_text(subtotal, total)})",
                           weight="bold"))
        y += ROW_HEIGHT
        for item in group:
            bar, end = stacked(y, [(item.pence, item.colour, f"{outcome}, {item.reason}: {pounds(item.pence)}")],
                               largest)
            marks += [Label(LABEL_WIDTH - 10, y + 11, item.reason, "end"), *bar,
                      Label(end + 8, y + 11, f"{whole_pounds(item.pence)} ({share_text(item.pence, total)})")]
            y += ROW_HEIGHT
    return Chart("Where the money went", y, marks)


def legend(y: int) -> list[Bar | Label]:
    """A key of the journey states; each entry spaced by its label's length (about 7 px a
    character at the chart's font size)."""
    marks: list[Bar | Label] = []
    x = LABEL_WIDTH
    for state in STATE_ORDER:
        label = STATE_LABELS[state]
        marks += [Bar(x, y, 14, 14, STATE_COLOURS[state], label), Label(x + 20, y + 7, label)]
        x += 20 + 7 * len(label) + 24
    return marks


def progress_chart(progress: pd.DataFrame) -> Chart:
    """Cases by journey state per tranche: one stacked bar each, as long as the tranche is
    large, closed cases first so progress reads left to right."""
    selected = progress[progress["cases"] > 0]
    largest = int(selected["cases"].max()) if len(selected) else 0
    marks = legend(4)
    for n, row in enumerate(selected.itertuples(index=False)):
        y = 32 + n * ROW_HEIGHT
        parts = [
            (getattr(row, state.value), STATE_COLOURS[state],
             f"{row.tranche_id} {STATE_LABELS[state]}: {getattr(row, state.value):,}")
            for state in STATE_ORDER
        ]
        bar, end = stacked(y, parts, largest)
        closed = getattr(row, JourneyState.CLOSED.value)
        marks += [Label(LABEL_WIDTH - 10, y + 11, f"{row.tranche_id}  {iso_date(row.selection_date) or ''}", "end"),
                  *bar, Label(end + 8, y + 11, f"{row.cases:,} cases, {share_text(closed, row.cases)} closed")]
    return Chart("Cases by journey state per tranche", 32 + len(selected) * ROW_HEIGHT + 4, marks)
