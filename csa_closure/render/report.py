"""The report (CONTRACTS.md section 4) as people and machines read it: rich tables for the
terminal, JSON, the reconciliation's markdown (a Prefect artifact) and one self-contained HTML
page for managers.

Every output shows the same tables (``sections``); the markdown and the page are Jinja templates
in ``templates/report/``. The page carries its own CSS and inline SVG charts; it loads nothing
and runs no script, so it can be mailed or archived.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from csa_closure.render.charts import money_chart, money_items, progress_chart
from csa_closure.render.formats import iso_date, long_date, percent, pounds, records
from csa_closure.render.labels import OUTCOME_LABELS, STATE_LABELS, reason_label
from csa_closure.render.templating import pages
from csa_closure.render.terminal import as_text, print_whole
from transform.codes import JourneyState, LetterStatus, RunState
from transform.reconciliation import TOTAL_COLUMNS
from transform.report import BREAK, INCOMPLETE, PASS, STATE_ORDER, Report

STATUSES = (PASS, BREAK, INCOMPLETE, RunState.FAILED, RunState.INTERRUPTED, RunState.RUNNING)
"""The verdicts, and the states of a run that an operator looks into, marked where they stand."""
STATUS_STYLES = {
    PASS: "bold green", BREAK: "bold red", INCOMPLETE: "bold yellow",
    RunState.FAILED: "bold red", RunState.INTERRUPTED: "bold red", RunState.RUNNING: "bold yellow",
}
FOLDED_OVER = 20
"""A table of more rows than this folds away on the page, unless something in it breaks."""


@dataclass(frozen=True)
class Section:
    """One table as every output shows it: text cells, an alignment per column ('l' or 'r')."""

    key: str
    title: str
    headers: tuple[str, ...]
    align: str
    rows: list[tuple[str, ...]]
    total: tuple[str, ...] | None = None


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
        runs_section(report.runs),
        money_section(report),
        holds_section(report.holds),
        quarantine_section(report.quarantine, report.held_cases),
        letters_section(report),
        reconciliation_section(report),
    ]


def _day(value: Any) -> str:
    return iso_date(value) or ""


def progress_section(report: Report) -> Section:
    states = [s.value for s in STATE_ORDER]
    p = report.progress
    rows = [
        (r.tranche_id, r.kind, _day(r.selection_date), r.segment_group, f"{r.planned_cases:,}",
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


def runs_section(runs: pd.DataFrame) -> Section:
    """How the latest run of each command ended: a run still running here that no longer runs
    was killed, and the next run marks it interrupted."""
    rows = [
        (r.command, _day(r.as_of), _minute(r.started_at), _minute(r.finished_at), r.state)
        for r in runs.itertuples(index=False)
    ]
    return Section("runs", "Latest runs", ("command", "as of", "started (UTC)", "finished (UTC)", "state"), "lllll",
                   rows)


def _minute(instant: Any) -> str:
    """An instant to the minute, in UTC (SQLite hands back UTC without its zone)."""
    if instant is None or pd.isna(instant):
        return ""
    moment = pd.Timestamp(instant)
    return f"{moment.tz_convert('UTC') if moment.tzinfo else moment:%Y-%m-%d %H:%M}"


def money_section(report: Report) -> Section:
    rows = [
        (OUTCOME_LABELS[r.outcome], reason_label(r.reason), f"{r.cases:,}", pounds(r.pence))
        for r in report.money.itertuples(index=False)
    ]
    total = ("all", "", "", pounds(int(report.money["pence"].sum())))
    return Section("money", "Money by outcome and reason", ("outcome", "reason", "cases", "amount"), "llrr",
                   rows, total)


def holds_section(h: pd.DataFrame) -> Section:
    """``transform.report.hold_summary`` rows as a table."""
    rows = [
        (reason_label(r.hold_reason), f"{r.on_hold_cases:,}", pounds(r.on_hold_pence), f"{r.resolved_cases:,}")
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
        "runs": [
            {"command": r.command, "as_of": iso_date(r.as_of), "state": r.state}
            for r in report.runs.itertuples(index=False)
        ],
        "tranches": _nested(
            records(report.progress.assign(selection_date=report.progress["selection_date"].map(_day))),
            [s.value for s in STATE_ORDER], "cases_by_state",
        ),
        "money": records(report.money.rename(columns={"pence": "amount_pence"})),
        "holds": records(report.holds),
        "quarantine": records(report.quarantine),
        "held_cases": records(report.held_cases),
        "letters": _nested(records(report.letters), [s.value for s in LetterStatus], "letters_by_status"),
        "reconciliation": records(report.reconciliation.rename(
            columns={c: f"{c}_pence" for c in [*TOTAL_COLUMNS, "difference"]})),
    }
    return json.dumps(document, indent=2) + "\n"


def _nested(rows: list[dict[str, Any]], columns: list[str], key: str) -> list[dict[str, Any]]:
    """Counts per code moved under one key, so a record's own keys never depend on the codes."""
    return [
        {name: value for name, value in row.items() if name not in columns}
        | {key: {column: row[column] for column in columns}}
        for row in rows
    ]


# --- markdown and HTML ------------------------------------------------------------------------


@dataclass(frozen=True)
class Fold:
    """How a long table folds away: its summary line, and whether it shows open."""

    summary: str
    open: bool


def fold(section: Section) -> Fold | None:
    """Long tables fold away under how many rows they have and, if they check anything, the
    verdict; a table in which something breaks shows open."""
    if len(section.rows) <= FOLDED_OVER:
        return None
    breaks = sum(BREAK in row for row in section.rows)
    checked = breaks or any(PASS in row for row in section.rows)
    verdict = (f": {breaks:,} break" if breaks else ": all pass") if checked else ""
    return Fold(f"{len(section.rows):,} rows{verdict}", bool(breaks))


def reconciliation_markdown(report: Report) -> str:
    """The reconciliation under its verdict, as markdown (the Prefect artifact of a tranche)."""
    return pages().get_template("report/reconciliation.md.j2").render(
        tranche_id=report.tranche_id, status=report.totals.status, section=reconciliation_section(report)
    )


def render_html(report: Report) -> str:
    """One self-contained page: inline CSS and SVG, no script, nothing fetched."""
    clock = (f"journey advanced to {long_date(pd.Timestamp(report.advanced_to))}" if report.advanced_to
             else "journey not advanced yet")
    return pages().get_template("report/report.html.j2").render(
        scope=f"Tranche {report.tranche_id}" if report.tranche_id else "All tranches",
        clock=clock,
        statuses=STATUSES,
        headline=headline(report),
        money_chart=money_chart(money_items(report.money)),
        progress_chart=progress_chart(report.progress),
        sections=[(section, fold(section)) for section in sections(report)],
    )


# --- the terminal -----------------------------------------------------------------------------


def print_tables(report: Report, to: Console) -> None:
    """The headline figures, then every section as a rich table."""
    scope = f"tranche {report.tranche_id}" if report.tranche_id else "all tranches"
    to.print(Text(f"CSA case closure report: {scope}", style="bold"))
    figures = Table(show_header=False, box=None)
    for label, value in headline(report):
        figures.add_row(label, value, style=STATUS_STYLES.get(value))
    if report.advanced_to:
        figures.add_row("journey advanced to", f"{report.advanced_to:%Y-%m-%d}")
    to.print(figures)
    for section in sections(report):
        print_whole(to, rich_table(section))


def rich_table(section: Section) -> Table:
    table = Table(title=section.title, show_footer=section.total is not None)
    for n, (header, align) in enumerate(zip(section.headers, section.align)):
        footer = section.total[n] if section.total else ""
        table.add_column(header, footer=footer, justify="right" if align == "r" else "left")
    for row in section.rows:
        table.add_row(*row, style=STATUS_STYLES.get(row[-1]))
    return table


def tables_text(report: Report) -> str:
    """The tables as plain text for a file: no colour codes, no amount cut short."""
    return as_text(print_tables, report)
