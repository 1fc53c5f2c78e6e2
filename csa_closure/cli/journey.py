"""The journey's commands (CONTRACTS.md section 4): ``init``, ``generate``, ``extract``, ``plan``,
``advance``, ``rerun-failed`` and ``simulate``.

Each runs a Prefect flow so it shows on the dashboard, importing it when it runs: the command
line starts in a fraction of a second whatever it does.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import typer
from rich.table import Table

from csa_closure.cli.common import console, progress_bar
from csa_closure.refusal import Refusal, parse_date

app = typer.Typer()
REPLACE_HELP = "overwrite a legacy database that holds no synthetic estate"


@app.command()
def init() -> None:
    """Create or upgrade the target schema."""
    from csa_closure.db import engine_for
    from csa_closure.settings import Settings
    from load.migrate import upgrade_target

    revision = upgrade_target(engine_for(Settings().target_url))
    console.print(f"target schema at revision {revision}")


@app.command()
def generate(
    cases: int = typer.Option(..., "--cases", help="how many cases, both schemes together"),
    seed: int = typer.Option(1, "--seed"),
    extract_date: str = typer.Option("2014-06-30", "--extract-date", help="YYYY-MM-DD"),
    replace: bool = typer.Option(False, "--replace", help=REPLACE_HELP),
) -> None:
    """Write a synthetic legacy estate of both schemes (CONTRACTS.md section 5)."""
    from flows.estate import generate_estate_flow

    if cases <= 0:
        raise Refusal(f"--cases must be a positive number, not {cases}")
    extracted_on = parse_date(extract_date, "--extract-date")
    with progress_bar("generating cases", cases) as generated:
        manifest = generate_estate_flow(
            cases=cases, seed=seed, extract_date=extracted_on, progress=generated, replace=replace
        )
    table = Table("scheme", "cases", "malformed records", title="synthetic estate")
    for scheme, count in sorted(manifest["cases"].items()):
        table.add_row(scheme, f"{count:,}", f"{manifest['malformed'].get(scheme, 0):,}")
    console.print(table)


@app.command()
def extract() -> None:
    """Extract and validate every legacy system: clean cases snapshotted, bad records quarantined."""
    from flows.extraction import extract_legacy
    from flows.progress import extract_batches

    with progress_bar("extracting batches") as batches:
        reporting = extract_batches.set(batches)
        try:
            summaries = extract_legacy()
        finally:
            extract_batches.reset(reporting)
    print_extract_summary(summaries)


@app.command()
def plan(
    start: str = typer.Option(..., "--start", help="first selection date, YYYY-MM-DD"),
    until: str | None = typer.Option(None, "--until", help="last selection date, YYYY-MM-DD"),
    capacity: int | None = typer.Option(None, "--capacity", help="cases per selection date"),
    interval_days: int | None = typer.Option(None, "--interval-days", help="days between selections"),
) -> None:
    """Record and show the tranche schedule (extracting first when the legacy extract is newer)."""
    import pandas as pd

    from flows.extraction import legacy_empty
    from flows.plan import plan as plan_flow

    first = parse_date(start, "--start")
    last = parse_date(until, "--until") if until else None
    if last is not None and last < first:
        raise Refusal(f"--until {last} is before --start {first}")
    for option, value in (("--capacity", capacity), ("--interval-days", interval_days)):
        if value is not None and value <= 0:
            raise Refusal(f"{option} must be a positive number, not {value}")
    summary = plan_flow(first, last, capacity, interval_days)
    if summary.legacy_empty:
        console.print(f"nothing to do: {legacy_empty()}")
        return
    table = Table("tranche", "kind", "selection date", "segment group", "planned", "selected",
                  title="tranche schedule")
    for row in summary.schedule.itertuples(index=False):
        selected = "" if pd.isna(row.selected_cases) else f"{int(row.selected_cases):,}"
        table.add_row(row.tranche_id, row.kind, f"{row.selection_date:%Y-%m-%d}", row.segment_group,
                      f"{row.planned_cases:,}", selected)
    console.print(table)
    console.print(f"nothing to do: {summary.nothing_to_do:,} cases; left after --until: {summary.unplanned:,}")


@app.command()
def advance(as_of: str = typer.Option(..., "--as-of", help="the business date, YYYY-MM-DD")) -> None:
    """Do everything due up to the as-of date; a later date catches up everything in between."""
    from csa_closure.logs import follow_events
    from flows.advance import advance as advance_flow

    day = parse_date(as_of, "--as-of")
    with progress_bar("advancing days") as days, follow_events(_DaysWorked(days)):
        summary = _run_to_completion(advance_flow, day)
    if summary["advanced_to"] == day.isoformat():
        console.print(f"advanced to {day}")
    else:
        console.print(f"the journey had already advanced to {summary['advanced_to']}: nothing was due up to {day}")


class _DaysWorked:
    """Follows an advance run's events: the days from the journey's date (or, on the first run,
    the first unit's due date) to the as-of date, and how far its units of work have got."""

    def __init__(self, show) -> None:
        self._show = show
        self._as_of: date | None = None
        self._first: date | None = None

    def __call__(self, event: dict) -> None:
        if event["event"] == "advance started":
            self._as_of = date.fromisoformat(event["as_of"])
            if event["advanced_to"]:
                self._start(date.fromisoformat(event["advanced_to"]))
        elif event["event"] == "unit of work done" and self._as_of is not None:
            due_on = date.fromisoformat(event["due_on"])
            if self._first is None:
                self._start(due_on)
            self._show((due_on - self._first).days)
        elif event["event"] == "run finished" and self._first is not None:
            self._show(max((self._as_of - self._first).days, 0))

    def _start(self, first: date) -> None:
        self._first = first
        self._show(0, max((self._as_of - first).days, 0))


@app.command("rerun-failed")
def rerun_failed(tranche: str | None = typer.Option(None, "--tranche", help="e.g. T0007")) -> None:
    """Run again every batch whose last attempt failed; completed batches are skipped."""
    from flows.advance import rerun_failed as rerun_flow

    summary = _run_to_completion(rerun_flow, tranche)
    console.print(f"reran failed work up to {summary['as_of']}")


@app.command()
def simulate(
    cases: int = typer.Option(..., "--cases", help="how many cases, both schemes together"),
    start: str = typer.Option(..., "--start", help="first selection date, YYYY-MM-DD"),
    end: str = typer.Option(..., "--end", help="the last day simulated, YYYY-MM-DD"),
    seed: int = typer.Option(1, "--seed"),
    replace: bool = typer.Option(False, "--replace", help=REPLACE_HELP),
) -> None:
    """The whole journey on a synthetic estate with simulated parents' responses, day by day."""
    from csa_closure.logs import follow_events
    from csa_closure.settings import Settings
    from flows.simulate import simulate as simulate_flow

    first, last = parse_date(start, "--start"), parse_date(end, "--end")
    if last < first:
        raise Refusal(f"--end {last} is before --start {first}")
    if cases <= 0:
        raise Refusal(f"--cases must be a positive number, not {cases}")
    with progress_bar("simulating days", (last - first).days) as days, follow_events(
        lambda event: days(event["days_done"], event["days"]) if event["event"] == "day simulated" else None
    ):
        summary = simulate_flow(cases, first, last, seed, replace=replace)
    console.print(
        f"simulated {summary['journey_days']} journey days to {summary['advanced_to']}; "
        f"{summary['responses']:,} parents' responses recorded"
    )
    print_summary_and_write_report(Settings().letters_dir.parent / "report.html")


def print_summary_and_write_report(html_path: Path) -> None:
    """The headline figures and where the money went; the whole report as one HTML page."""
    from csa_closure.cli.report import write_atomically
    from csa_closure.render.report import headline, money_section, progress_section, render_html, rich_table
    from csa_closure.render.terminal import print_whole
    from flows.report import report as report_flow

    model = report_flow(None)
    figures = Table(show_header=False, box=None, title="summary")
    for label, value in headline(model):
        figures.add_row(label, value)
    console.print(figures)
    print_whole(console, rich_table(progress_section(model)))
    print_whole(console, rich_table(money_section(model)))
    html_path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(html_path, render_html(model))
    console.print(f"report written to {html_path}")


def _run_to_completion(flow_function, *args):
    """Run a flow; a refusal inside it is a refusal here, any other failure exits 1."""
    from load.migrate import SchemaNotCurrent

    state = flow_function(*args, return_state=True)
    if state.is_completed():
        return state.result()
    error = state.result(raise_on_failure=False)
    if isinstance(error, (Refusal, SchemaNotCurrent)):
        raise error
    reason = str(state.message or state.name).strip().splitlines()  # a database's error adds its statement
    print(f"failed: {reason[0] if reason else state.name}", file=sys.stderr)
    raise typer.Exit(1)


def print_extract_summary(summaries: list[dict]) -> None:
    table = Table("scheme", "extract run", "cases", "clean", "held back", "quarantined records",
                  title="extract and validate")
    for s in summaries:
        table.add_row(s["scheme"], s["extract_run"], f"{s['cases_extracted']:,}", f"{s['cases_clean']:,}",
                      f"{s['cases_held']:,}", f"{s['records_quarantined']:,}")
    console.print(table)
