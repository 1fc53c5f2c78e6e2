"""The report (CONTRACTS.md section 4): progress of each tranche, where the money went, holds,
quarantine and reconciliation, assembled from small grouped frames and rendered as JSON or as
one self-contained HTML page.

Money stays integer pence to the last character: amounts are formatted with ``divmod`` and bar
lengths are integer shares, so no float ever touches a penny. The HTML page carries its own CSS
and inline SVG charts; it loads nothing and runs no script, so it can be mailed or archived.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import groupby
from datetime import date
from html import escape

import pandas as pd

from transform.codes import JourneyState, LetterStatus, Template, WriteOffReason
from csa_closure.render.formats import long_date, pounds
from transform.reconciliation import TOTAL_COLUMNS

PASS, BREAK, INCOMPLETE = "PASS", "BREAK", "INCOMPLETE"
"""The reconciliation's verdict: every penny adds up; a penny does not; or it adds up so far but
units of work failed, or selected cases have not started their journey, so it is not the
whole story."""
STATE_ORDER = (
    JourneyState.CLOSED,
    JourneyState.AWAITING_CHOICE,
    JourneyState.AWAITING_LIABILITY_END,
    JourneyState.ON_HOLD,
)
"""Journey states from done to stuck: the order of columns, legends and stacked bars."""
STATE_LABELS = {
    JourneyState.CLOSED: "closed",
    JourneyState.AWAITING_CHOICE: "awaiting choice",
    JourneyState.AWAITING_LIABILITY_END: "awaiting liability end",
    JourneyState.ON_HOLD: "on hold",
}
STATE_COLOURS = {
    JourneyState.CLOSED: "#00703c",
    JourneyState.AWAITING_CHOICE: "#1d70b8",
    JourneyState.AWAITING_LIABILITY_END: "#b1b4b6",
    JourneyState.ON_HOLD: "#f47738",
}
TRANSFERRED, WRITTEN_OFF, PENDING, ON_HOLD = "TRANSFERRED", "WRITTEN_OFF", "PENDING", "ON_HOLD"
RECONCILED_AS = {TRANSFERRED: "transferred", WRITTEN_OFF: "written_off", PENDING: "pending", ON_HOLD: "on_hold"}
"""Each outcome's column in ``load.reconcile.money_totals``."""
OUTCOME_LABELS = {
    TRANSFERRED: "transferred to the CMS",
    WRITTEN_OFF: "written off",
    PENDING: "pending",
    ON_HOLD: "on hold",
}
REASON_LABELS = {
    "PWC": "owed to the receiving parent",
    "SOS": "owed to the Secretary of State",
    WriteOffReason.NRP_DECEASED: "paying parent died",
    WriteOffReason.IMA_1993_1995: "interim assessment 1993-95",
    WriteOffReason.SOS_NON_PAYING: "SoS part, not paying",
    WriteOffReason.PWC_DECEASED: "receiving parent died",
    WriteOffReason.BELOW_THRESHOLD: "below £65",
    WriteOffReason.NOT_COST_EFFECTIVE: "not cost-effective",
    WriteOffReason.NOT_COLLECTABLE: "not collectable",
    WriteOffReason.PWC_DECLINED: "receiving parent declined",
    WriteOffReason.NO_RESPONSE: "no answer by the deadline",
    JourneyState.AWAITING_LIABILITY_END: "decision at liability end",
    JourneyState.AWAITING_CHOICE: "awaiting the parent's choice",
    "MISMATCH": "ledger and record disagree",
    "CREDIT_BALANCE": "credit balance",
}
OUTCOME_COLOURS = {
    TRANSFERRED: ("#00703c", "#005a30"),
    WRITTEN_OFF: ("#d4351c", "#942514", "#d53880", "#912b88", "#4c2c92", "#b58840", "#6f72af", "#f499be",
                  "#a8526c"),
    PENDING: ("#1d70b8", "#5694ca"),
    ON_HOLD: ("#f47738", "#ffdd00"),
}
"""GOV.UK palette colours per outcome, one per reason in the order the reasons come."""


@dataclass(frozen=True)
class ReportRows:
    """What ``load.report`` and ``load.reconcile.money_totals`` read, one small frame each."""

    tranches: pd.DataFrame
    states: pd.DataFrame
    transfers: pd.DataFrame
    write_offs: pd.DataFrame
    pending: pd.DataFrame
    holds: pd.DataFrame
    letters: pd.DataFrame
    quarantine: pd.DataFrame
    held_cases: pd.DataFrame
    reconciliation: pd.DataFrame
    failed_units: pd.DataFrame
    """Units of work whose last attempt failed: ``batch_id``, ``step``, ``due_on``, ``last_error``."""
    unstarted: pd.DataFrame
    """Selected cases with no outcome yet, by batch: ``batch_id``, ``cases``."""


@dataclass(frozen=True)
class Totals:
    """The headline figures: cases by state, and every penny of arrears by where it is."""

    cases: int
    by_state: dict[str, int]
    arrears_pence: int
    transferred_pence: int
    written_off_pence: int
    pending_pence: int
    on_hold_pence: int
    difference_pence: int
    reconciled: bool
    unfinished: tuple[str, ...] = ()
    """The work that failed or has not started, named (``start T0001-B002 2014-07-07``)."""

    @property
    def status(self) -> str:
        if not self.reconciled:
            return BREAK
        return INCOMPLETE if self.unfinished else PASS


@dataclass(frozen=True)
class Report:
    """The report's model: the frames each output shows, and their totals."""

    tranche_id: str | None
    advanced_to: date | None
    progress: pd.DataFrame
    money: pd.DataFrame
    holds: pd.DataFrame
    quarantine: pd.DataFrame
    held_cases: pd.DataFrame
    letters: pd.DataFrame
    reconciliation: pd.DataFrame
    totals: Totals


@dataclass(frozen=True)
class Section:
    """One table as every output shows it: text cells, an alignment per column ('l' or 'r')."""

    key: str
    title: str
    headers: tuple[str, ...]
    align: str
    rows: list[tuple[str, ...]]
    total: tuple[str, ...] | None = None


# --- the model --------------------------------------------------------------------------------


def build_report(rows: ReportRows, tranche_id: str | None, advanced_to: date | None) -> Report:
    """The report's model from the grouped frames; the totals cross-check two independent reads
    of the same money (the outcome tables and the reconciliation's per-case rows)."""
    progress = tranche_progress(rows.tranches, rows.states)
    money = money_by_outcome(rows.transfers, rows.write_offs, rows.pending, rows.holds)
    reconciliation = reconciliation_status(rows.reconciliation)
    return Report(
        tranche_id=tranche_id,
        advanced_to=advanced_to,
        progress=progress,
        money=money,
        holds=hold_summary(rows.holds),
        quarantine=quarantine_by_check(rows.quarantine),
        held_cases=rows.held_cases.sort_values("scheme", ignore_index=True),
        letters=letters_by_template(rows.letters),
        reconciliation=reconciliation,
        totals=report_totals(progress, money, reconciliation, unfinished_work(rows.failed_units, rows.unstarted)),
    )


def tranche_progress(tranches: pd.DataFrame, states: pd.DataFrame) -> pd.DataFrame:
    """One row per tranche: the schedule and its cases by journey state (planned tranches not
    selected yet show no cases)."""
    counts = (
        states.pivot_table(index="tranche_id", columns="journey_state", values="cases", aggfunc="sum")
        .reindex(columns=[s.value for s in STATE_ORDER])
        .fillna(0)
        .astype("int64")
        .reset_index()
    )
    counts.columns.name = None
    progress = tranches.merge(counts, on="tranche_id", how="outer")
    state_columns = [s.value for s in STATE_ORDER]
    progress[state_columns] = progress[state_columns].fillna(0).astype("int64")
    progress["planned_cases"] = progress["planned_cases"].fillna(0).astype("int64")
    progress["cases"] = progress[state_columns].sum(axis=1).astype("int64")
    columns = ["tranche_id", "kind", "selection_date", "segment_group", "planned_cases", "cases", *state_columns]
    return progress.sort_values(["selection_date", "tranche_id"], ignore_index=True)[columns]


def money_by_outcome(
    transfers: pd.DataFrame, write_offs: pd.DataFrame, pending: pd.DataFrame, holds: pd.DataFrame
) -> pd.DataFrame:
    """Where the money is: ``outcome``, ``reason``, ``cases``, ``pence``, one row per reason
    (transfers by creditor, pending by what it waits for, holds by why), zero rows left out; a
    credit balance on hold is negative."""
    on_hold = holds[holds["journey_state"] == JourneyState.ON_HOLD]
    parts = [
        (TRANSFERRED, transfers.rename(columns={"creditor": "reason"})),
        (WRITTEN_OFF, write_offs),
        (PENDING, pending.rename(columns={"journey_state": "reason"})),
        (ON_HOLD, on_hold.rename(columns={"hold_reason": "reason"})),
    ]
    money = pd.concat(
        [part[["reason", "cases", "pence"]].assign(outcome=outcome) for outcome, part in parts],
        ignore_index=True,
    )
    money = money.groupby(["outcome", "reason"], as_index=False, sort=False)[["cases", "pence"]].sum()
    money[["cases", "pence"]] = money[["cases", "pence"]].astype("int64")
    order = {outcome: n for n, outcome in enumerate(OUTCOME_LABELS)}
    money = money[money["pence"] != 0].sort_values(
        ["outcome", "pence"], key=lambda c: c.map(order) if c.name == "outcome" else -c, ignore_index=True
    )
    return money[["outcome", "reason", "cases", "pence"]]


def hold_summary(holds: pd.DataFrame) -> pd.DataFrame:
    """Per hold reason: cases on hold now and their pence, and cases whose hold was resolved."""
    now = holds["journey_state"] == JourneyState.ON_HOLD
    summary = pd.DataFrame({
        "hold_reason": holds["hold_reason"],
        "on_hold_cases": holds["cases"].where(now, 0),
        "on_hold_pence": holds["pence"].where(now, 0),
        "resolved_cases": holds["cases"].where(~now, 0),
    })
    return summary.groupby("hold_reason", as_index=False).sum().astype(
        {"on_hold_cases": "int64", "on_hold_pence": "int64", "resolved_cases": "int64"}
    )


def quarantine_by_check(quarantine: pd.DataFrame) -> pd.DataFrame:
    """Quarantined records per source table and check; a record failing several checks counts
    under each, once."""
    checks = quarantine["reasons"].map(lambda reasons: sorted({r["check"] for r in json.loads(reasons)}))
    exploded = quarantine.assign(check=checks).explode("check")
    return (
        exploded.groupby(["source_table", "check"], as_index=False)["records"].sum()
        .astype({"records": "int64"})
        .sort_values(["source_table", "records"], ascending=[True, False], ignore_index=True)
    )


def letters_by_template(letters: pd.DataFrame) -> pd.DataFrame:
    """One row per template in the journey's order, a column per status and the total."""
    statuses = [s.value for s in LetterStatus]
    table = (
        letters.pivot_table(index="template", columns="status", values="letters", aggfunc="sum")
        .reindex(index=[t.value for t in Template], columns=statuses)
        .fillna(0)
        .astype("int64")
    )
    table["total"] = table.sum(axis=1)
    table = table[table["total"] > 0].reset_index()
    table.columns.name = None
    return table


def reconciliation_status(totals: pd.DataFrame) -> pd.DataFrame:
    """``load.reconcile.money_totals`` with a PASS or BREAK per row."""
    frame = totals.sort_values(["tranche_id", "segment", "scheme", "creditor"], ignore_index=True)
    return frame.assign(status=frame["difference"].map(lambda d: PASS if d == 0 else BREAK))


def unfinished_work(failed_units: pd.DataFrame, unstarted: pd.DataFrame) -> tuple[str, ...]:
    """Every failed unit of work, and every batch whose selected cases have not started their
    journey, named as an operator looks them up."""
    failed = [
        f"{unit.step.lower()} {unit.batch_id} {_date(unit.due_on)} failed"
        for unit in failed_units.sort_values(["due_on", "batch_id", "step"]).itertuples(index=False)
    ]
    waiting = [
        f"{batch.batch_id}: {batch.cases:,} selected case(s) with no outcome"
        for batch in unstarted.sort_values("batch_id").itertuples(index=False)
    ]
    return tuple(failed + waiting)


def report_totals(
    progress: pd.DataFrame, money: pd.DataFrame, reconciliation: pd.DataFrame, unfinished: tuple[str, ...] = ()
) -> Totals:
    """The headline figures; reconciled only when every row balances and the outcome tables
    agree with the reconciliation to the penny."""
    by_outcome = money.groupby("outcome")["pence"].sum()
    outcome = {name: int(by_outcome.get(name, 0)) for name in OUTCOME_LABELS}
    reconciled_sums = {column: int(reconciliation[column].sum()) for column in TOTAL_COLUMNS + ["difference"]}
    agree = all(outcome[name] == reconciled_sums[column] for name, column in RECONCILED_AS.items())
    return Totals(
        cases=int(progress["cases"].sum()),
        by_state={state.value: int(progress[state.value].sum()) for state in STATE_ORDER},
        arrears_pence=reconciled_sums["arrears"],
        transferred_pence=outcome[TRANSFERRED],
        written_off_pence=outcome[WRITTEN_OFF],
        pending_pence=outcome[PENDING],
        on_hold_pence=outcome[ON_HOLD],
        difference_pence=reconciled_sums["difference"],
        reconciled=agree and bool((reconciliation["status"] == PASS).all()),
        unfinished=unfinished,
    )


# --- formatting -------------------------------------------------------------------------------


def whole_pounds(pence: int) -> str:
    """Pence as pounds rounded half up to the pound, for charts: 123450 -> '£1,235'."""
    return f"{'-' if pence < 0 else ''}£{(abs(int(pence)) + 50) // 100:,}"


def percent(part: int, whole: int) -> int:
    """``part`` as a whole percentage of ``whole``, rounded half up with integers only."""
    return (200 * part + whole) // (2 * whole) if whole else 0


def share(part: int, whole: int, width: int) -> int:
    """The length, in whole pixels, of ``part`` out of ``whole`` drawn ``width`` long."""
    return part * width // whole if whole else 0


def _date(day) -> str:
    return "" if pd.isna(day) else f"{pd.Timestamp(day):%Y-%m-%d}"


def _label(code: str) -> str:
    return REASON_LABELS.get(code, code.replace("_", " ").lower())


# --- the tables every output shows -----------------------------------------------------------


def headline(report: Report) -> list[tuple[str, str]]:
    """The figures a manager reads first, as (label, value)."""
    t = report.totals
    closed = t.by_state[JourneyState.CLOSED]
    return [
        ("cases selected", f"{t.cases:,}"),
        ("cases closed", f"{closed:,} ({percent(closed, t.cases)}%)"),
        ("arrears", pounds(t.arrears_pence)),
        ("transferred to the CMS", pounds(t.transferred_pence)),
        ("written off", pounds(t.written_off_pence)),
        ("pending", pounds(t.pending_pence)),
        ("on hold", pounds(t.on_hold_pence)),
        ("reconciliation", t.status),
    ]


def sections(report: Report) -> list[Section]:
    """Every table of the report, in reading order."""
    return [
        progress_section(report),
        *([unfinished_section(report)] if report.totals.unfinished else []),
        money_section(report),
        holds_section(report.holds),
        quarantine_section(report.quarantine, report.held_cases),
        letters_section(report),
        reconciliation_section(report),
    ]


def progress_section(report: Report) -> Section:
    states = [s.value for s in STATE_ORDER]
    p = report.progress
    rows = [
        (r.tranche_id, r.kind, _date(r.selection_date), r.segment_group, f"{r.planned_cases:,}",
         f"{r.cases:,}", *(f"{getattr(r, s):,}" for s in states))
        for r in p.itertuples(index=False)
    ]
    total = ("all", "", "", "", f"{p['planned_cases'].sum():,}", f"{report.totals.cases:,}",
             *(f"{report.totals.by_state[s]:,}" for s in states))
    headers = ("tranche", "kind", "selected on", "segments", "planned", "cases",
               *(STATE_LABELS[s] for s in STATE_ORDER))
    return Section("progress", "Tranche progress", headers, "llll" + "r" * (2 + len(states)), rows, total)


def unfinished_section(report: Report) -> Section:
    """What keeps the reconciliation from being the whole story: run ``rerun-failed``."""
    rows = [(item,) for item in report.totals.unfinished]
    return Section("unfinished", "Unfinished work (csa-closure rerun-failed)", ("unit or batch",), "l", rows)


def money_section(report: Report) -> Section:
    rows = [
        (OUTCOME_LABELS[r.outcome], _label(r.reason), f"{r.cases:,}", pounds(r.pence))
        for r in report.money.itertuples(index=False)
    ]
    total = ("all", "", "", pounds(int(report.money["pence"].sum())))
    return Section("money", "Money by outcome and reason", ("outcome", "reason", "cases", "amount"), "llrr",
                   rows, total)


def holds_section(h: pd.DataFrame) -> Section:
    """``hold_summary`` rows as a table."""
    rows = [
        (_label(r.hold_reason), f"{r.on_hold_cases:,}", pounds(r.on_hold_pence), f"{r.resolved_cases:,}")
        for r in h.itertuples(index=False)
    ]
    total = ("all", f"{h['on_hold_cases'].sum():,}", pounds(int(h["on_hold_pence"].sum())),
             f"{h['resolved_cases'].sum():,}")
    return Section("holds", "Verification holds", ("hold reason", "on hold now", "amount on hold", "resolved"),
                   "lrrr", rows, total)


def quarantine_section(q: pd.DataFrame, held: pd.DataFrame) -> Section:
    """Quarantined records by table and check, then the cases they hold back (whole estate)."""
    rows = [(r.source_table, r.check, f"{r.records:,}") for r in q.itertuples(index=False)]
    rows += [(f"cases held back ({r.scheme})", "", f"{r.cases:,}") for r in held.itertuples(index=False)]
    return Section("quarantine", "Quarantine (latest extract, whole estate)", ("source table", "check", "records"),
                   "llr", rows)


def letters_section(report: Report) -> Section:
    statuses = [s.value for s in LetterStatus]
    lt = report.letters
    rows = [(r.template, *(f"{getattr(r, s):,}" for s in statuses), f"{r.total:,}") for r in lt.itertuples(index=False)]
    total = ("all", *(f"{lt[s].sum():,}" for s in statuses), f"{lt['total'].sum():,}")
    return Section("letters", "Letters", ("template", *(s.lower() for s in statuses), "total"), "lrrrr", rows, total)


def reconciliation_section(report: Report) -> Section:
    r, t = report.reconciliation, report.totals
    money_columns = [*TOTAL_COLUMNS, "difference"]
    rows = [
        (row.tranche_id, str(row.segment), row.scheme, row.creditor,
         *(pounds(getattr(row, c)) for c in money_columns), row.status)
        for row in r.itertuples(index=False)
    ]
    total = ("all", "", "", "", *(pounds(int(r[c].sum())) for c in money_columns), t.status)
    headers = ("tranche", "segment", "scheme", "creditor", "arrears", "transferred", "written off", "pending",
               "on hold", "difference", "status")
    return Section("reconciliation", "Reconciliation to the penny", headers, "llll" + "r" * 6 + "l", rows, total)


def section_records(section: Section) -> list[dict[str, str]]:
    """A section as rows keyed by its headers (a Prefect table artifact), total row last."""
    rows = section.rows + ([section.total] if section.total else [])
    return [dict(zip(section.headers, row)) for row in rows]


def section_markdown(section: Section) -> str:
    """A section as a markdown table under its title (a Prefect markdown artifact)."""
    rule = ["---:" if a == "r" else "---" for a in section.align]
    lines = [f"### {section.title}", "", "| " + " | ".join(section.headers) + " |", "| " + " | ".join(rule) + " |"]
    rows = section.rows + ([tuple(f"**{cell}**" if cell else "" for cell in section.total)] if section.total else [])
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# --- JSON -------------------------------------------------------------------------------------


def render_json(report: Report) -> str:
    """The report for machines: fixed keys, integer pence, ISO dates."""
    t = report.totals
    document = {
        "tranche": report.tranche_id,
        "advanced_to": report.advanced_to.isoformat() if report.advanced_to else None,
        "totals": {
            "cases": t.cases,
            "cases_by_state": t.by_state,
            "arrears_pence": t.arrears_pence,
            "transferred_pence": t.transferred_pence,
            "written_off_pence": t.written_off_pence,
            "pending_pence": t.pending_pence,
            "on_hold_pence": t.on_hold_pence,
            "difference_pence": t.difference_pence,
        },
        "reconciliation_status": t.status,
        "unfinished": list(t.unfinished),
        "tranches": _nested(
            _records(report.progress.assign(selection_date=report.progress["selection_date"].map(_date))),
            [s.value for s in STATE_ORDER], "cases_by_state",
        ),
        "money": _records(report.money.rename(columns={"pence": "amount_pence"})),
        "holds": _records(report.holds),
        "quarantine": _records(report.quarantine),
        "held_cases": _records(report.held_cases),
        "letters": _nested(_records(report.letters), [s.value for s in LetterStatus], "letters_by_status"),
        "reconciliation": _records(report.reconciliation.rename(
            columns={c: f"{c}_pence" for c in [*TOTAL_COLUMNS, "difference"]})),
    }
    return json.dumps(document, indent=2) + "\n"


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as plain dicts of Python ints and strings (never numpy scalars)."""
    return [
        {key: value.item() if hasattr(value, "item") else value for key, value in row.items()}
        for row in frame.to_dict("records")
    ]


def _nested(records: list[dict], columns: list[str], key: str) -> list[dict]:
    """Counts per code moved under one key, so a record's own keys never depend on the codes."""
    return [
        {name: value for name, value in record.items() if name not in columns}
        | {key: {column: record[column] for column in columns}}
        for record in records
    ]


# --- SVG charts -------------------------------------------------------------------------------

CHART_WIDTH = 1000
LABEL_WIDTH = 280
BAR_WIDTH = 480
ROW_HEIGHT = 28


def _svg(height: int, title: str, body: list[str]) -> str:
    """An inline SVG (no namespace URL: the HTML parser supplies it)."""
    return (
        f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {CHART_WIDTH} {height}" '
        f'width="{CHART_WIDTH}" height="{height}"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def _text(x: int, y: int, text: str, anchor: str = "start", weight: str = "normal") -> str:
    return (f'<text x="{x}" y="{y}" text-anchor="{anchor}" font-weight="{weight}" '
            f'dominant-baseline="middle">{escape(text)}</text>')


def _rect(x: int, y: int, width: int, height: int, colour: str, tip: str) -> str:
    return (f'<rect x="{x}" y="{y}" width="{width}" height="{height}" fill="{colour}">'
            f"<title>{escape(tip)}</title></rect>")


def money_items(money: pd.DataFrame) -> list[tuple[str, str, int, str]]:
    """The chart's bars: (outcome, reason, pence, colour), each reason coloured within its
    outcome's hue; negative amounts (credit balances on hold) stay in the tables, as a bar
    cannot show them."""
    items = []
    for outcome, group in money[money["pence"] > 0].groupby("outcome", sort=False):
        colours = OUTCOME_COLOURS[outcome]
        for n, row in enumerate(group.itertuples(index=False)):
            items.append((OUTCOME_LABELS[outcome], _label(row.reason), int(row.pence), colours[n % len(colours)]))
    return items


def _share_text(part: int, whole: int) -> str:
    """A share for a label; a sliver is '<1%', not a misleading '0%'."""
    shown = percent(part, whole)
    return "<1%" if part and not shown else f"{shown}%"


def _stacked(y: int, parts: list[tuple[int, str, str]], whole: int) -> tuple[list[str], int]:
    """One bar of ``parts`` (count, colour, tooltip) drawn to the scale of ``whole``: each
    part ends where the running total ends, so the parts always sum to the bar exactly.
    Returns the rectangles and where the bar ends."""
    rects, running, x = [], 0, LABEL_WIDTH
    for count, colour, tip in parts:
        running += count
        end = LABEL_WIDTH + share(running, whole, BAR_WIDTH)
        if end > x:
            rects.append(_rect(x, y, end - x, 22, colour, tip))
        x = end
    return rects, x


def money_chart(items: list[tuple[str, str, int, str]]) -> str:
    """Where the money went: all arrears as one bar split by outcome and reason, then each
    outcome with its share and a bar per reason, in pounds."""
    total = sum(pence for _, _, pence, _ in items)
    largest = max((pence for _, _, pence, _ in items), default=0)
    top, end = _stacked(4, [(p, c, f"{o}, {r}: {pounds(p)}") for o, r, p, c in items], total)
    body = [_text(LABEL_WIDTH - 10, 15, "all arrears", "end", "bold"), *top,
            _text(end + 8, 15, whole_pounds(total), weight="bold")]
    y = 40
    for outcome, group in groupby(items, key=lambda item: item[0]):
        group = list(group)
        subtotal = sum(pence for _, _, pence, _ in group)
        body.append(_text(0, y + 11, f"{outcome}: {whole_pounds(subtotal)} ({_share_text(subtotal, total)})",
                          weight="bold"))
        y += ROW_HEIGHT
        for _, reason, pence, colour in group:
            bar, end = _stacked(y, [(pence, colour, f"{outcome}, {reason}: {pounds(pence)}")], largest)
            body += [_text(LABEL_WIDTH - 10, y + 11, reason, "end"), *bar,
                     _text(end + 8, y + 11, f"{whole_pounds(pence)} ({_share_text(pence, total)})")]
            y += ROW_HEIGHT
    return _svg(y, "Where the money went", body)


def _legend(y: int) -> list[str]:
    """A key of the journey states; each entry spaced by its label's length (about 7 px a
    character at the chart's font size)."""
    body, x = [], LABEL_WIDTH
    for state in STATE_ORDER:
        label = STATE_LABELS[state]
        body += [_rect(x, y, 14, 14, STATE_COLOURS[state], label), _text(x + 20, y + 7, label)]
        x += 20 + 7 * len(label) + 24
    return body


def progress_chart(progress: pd.DataFrame) -> str:
    """Cases by journey state per tranche: one stacked bar each, as long as the tranche is
    large, closed cases first so progress reads left to right."""
    selected = progress[progress["cases"] > 0]
    largest = int(selected["cases"].max()) if len(selected) else 0
    body = _legend(4)
    for n, row in enumerate(selected.itertuples(index=False)):
        y = 32 + n * ROW_HEIGHT
        parts = [
            (getattr(row, state.value), STATE_COLOURS[state],
             f"{row.tranche_id} {STATE_LABELS[state]}: {getattr(row, state.value):,}")
            for state in STATE_ORDER
        ]
        bar, end = _stacked(y, parts, largest)
        closed = getattr(row, JourneyState.CLOSED.value)
        body += [_text(LABEL_WIDTH - 10, y + 11, f"{row.tranche_id}  {_date(row.selection_date)}", "end"), *bar,
                 _text(end + 8, y + 11, f"{row.cases:,} cases, {_share_text(closed, row.cases)} closed")]
    return _svg(32 + len(selected) * ROW_HEIGHT + 4, "Cases by journey state per tranche", body)


# --- HTML -------------------------------------------------------------------------------------

STYLE = """
body{font-family:"GDS Transport",arial,sans-serif;color:#0b0c0c;background:#fff;margin:0;font-size:16px}
header{background:#0b0c0c;color:#fff;padding:12px 30px;border-bottom:10px solid #1d70b8}
header h1{margin:0;font-size:28px}header p{margin:4px 0 0}
main{max-width:1200px;padding:10px 30px 40px}
h2{font-size:24px;margin:36px 0 12px}
.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:12px;margin-top:20px;max-width:1000px}
.card{border-left:5px solid #1d70b8;background:#f3f2f1;padding:10px 14px}
.card .label{font-size:14px;color:#505a5f}.card .value{font-size:22px;font-weight:bold}
.card.PASS{border-color:#00703c;color:#00703c}.card.BREAK{border-color:#d4351c;color:#d4351c}
.card.INCOMPLETE{border-color:#f47738;color:#f47738}
table{border-collapse:collapse;margin-bottom:12px;font-size:14px}
th,td{border-bottom:1px solid #b1b4b6;padding:6px 12px 6px 0;text-align:left;vertical-align:top}
th{font-weight:bold}td.r,th.r{text-align:right}
tfoot td{font-weight:bold;border-top:2px solid #0b0c0c}
.tag{display:inline-block;padding:2px 8px;font-weight:bold;color:#fff}
.tag.PASS{background:#00703c}.tag.BREAK{background:#d4351c}.tag.INCOMPLETE{background:#f47738}
svg text{font-family:"GDS Transport",arial,sans-serif;font-size:14px;fill:#0b0c0c}
details summary{cursor:pointer;color:#1d70b8;text-decoration:underline;margin-bottom:8px}
"""


def _cell(tag: str, text: str, align: str) -> str:
    content = f'<span class="tag {text}">{text}</span>' if text in (PASS, BREAK, INCOMPLETE) else escape(text)
    return f'<{tag} class="{align}">{content}</{tag}>'


def html_table(section: Section) -> str:
    """A section as an HTML table; long ones fold away unless something in them breaks."""
    head = "".join(_cell("th", h, a) for h, a in zip(section.headers, section.align))
    body = "".join(
        "<tr>" + "".join(_cell("td", c, a) for c, a in zip(row, section.align)) + "</tr>" for row in section.rows
    )
    foot = ("<tfoot><tr>" + "".join(_cell("td", c, a) for c, a in zip(section.total, section.align))
            + "</tr></tfoot>") if section.total else ""
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>{foot}</table>"
    if len(section.rows) <= 20:
        return table
    breaks = sum(BREAK in row for row in section.rows)
    checked = breaks or any(PASS in row for row in section.rows)
    verdict = (f": {breaks:,} break" if breaks else ": all pass") if checked else ""
    opened = " open" if breaks else ""
    return f"<details{opened}><summary>{len(section.rows):,} rows{verdict}</summary>{table}</details>"


def render_html(report: Report) -> str:
    """One self-contained page: inline CSS and SVG, no script, nothing fetched."""
    scope = f"Tranche {report.tranche_id}" if report.tranche_id else "All tranches"
    clock = f"journey advanced to {long_date(pd.Timestamp(report.advanced_to))}" if report.advanced_to else (
        "journey not advanced yet")
    cards = "".join(
        f'<div class="card {value if value in (PASS, BREAK, INCOMPLETE) else ""}"><div class="label">{escape(label)}</div>'
        f'<div class="value">{escape(value)}</div></div>'
        for label, value in headline(report)
    )
    parts = [
        f'<section class="cards">{cards}</section>',
        "<h2>Where the money went</h2>", money_chart(money_items(report.money)),
        "<h2>Cases by journey state</h2>", progress_chart(report.progress),
    ]
    for section in sections(report):
        parts += [f'<h2 id="{section.key}">{escape(section.title)}</h2>', html_table(section)]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>CSA case closure report: {escape(scope)}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>CSA case closure report</h1><p>{escape(scope)}, {escape(clock)}</p></header>"
        f"<main>{''.join(parts)}</main></body></html>\n"
    )
