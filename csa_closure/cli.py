"""The operator's command line, ``csa-closure`` (CONTRACTS.md section 4).

Each command runs a Prefect flow so it shows on the dashboard. A refusal exits non-zero with
one line that says why, and changes nothing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "csa_closure")  # our events in run logs
# Without a configured server, each command starts Prefect's local one; on a busy machine it can
# take longer than Prefect's default 20 s to answer, and the command would fail before it began.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

from csa_closure.db import engine_for  # noqa: E402
from csa_closure.logs import configure_logging  # noqa: E402
from csa_closure.refusal import Refusal, parse_date  # noqa: E402
from csa_closure.settings import Settings  # noqa: E402
from load.migrate import SchemaNotCurrent  # noqa: E402

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help=__doc__.splitlines()[0],
)
console = Console()
REPLACE_HELP = "overwrite a legacy database that holds no synthetic estate"


@app.callback()
def _setup() -> None:
    configure_logging(Settings().log_level)


@app.command()
def init() -> None:
    """Create or upgrade the target schema."""
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
    with _progress("generating cases", cases) as advance:
        manifest = generate_estate_flow(
            cases=cases, seed=seed, extract_date=extracted_on, progress=advance, replace=replace
        )
    table = Table("scheme", "cases", "malformed records", title="synthetic estate")
    for scheme, count in sorted(manifest["cases"].items()):
        table.add_row(scheme, f"{count:,}", f"{manifest['malformed'].get(scheme, 0):,}")
    console.print(table)


@app.command()
def extract() -> None:
    """Extract and validate both legacy systems: clean cases snapshotted, bad records quarantined."""
    from flows.extraction import extract_legacy

    print_extract_summary(extract_legacy())


@app.command()
def plan(
    start: str = typer.Option(..., "--start", help="first selection date, YYYY-MM-DD"),
    until: str | None = typer.Option(None, "--until", help="last selection date, YYYY-MM-DD"),
    capacity: int | None = typer.Option(None, "--capacity", help="cases per selection date"),
    interval_days: int | None = typer.Option(None, "--interval-days", help="days between selections"),
) -> None:
    """Record and show the tranche schedule."""
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
        console.print("nothing to do: the legacy database holds no CSCS or CS2 extract")
        return
    table = Table("tranche", "kind", "selection date", "segment group", "planned", "selected",
                  title="tranche schedule")
    for row in summary.schedule.itertuples(index=False):
        selected = "" if row.selected_cases is None or row.selected_cases != row.selected_cases else f"{int(row.selected_cases):,}"
        table.add_row(row.tranche_id, row.kind, f"{row.selection_date:%Y-%m-%d}", row.segment_group,
                      f"{row.planned_cases:,}", selected)
    console.print(table)
    console.print(f"nothing to do: {summary.nothing_to_do:,} cases; left after --until: {summary.unplanned:,}")


@app.command()
def advance(as_of: str = typer.Option(..., "--as-of", help="the business date, YYYY-MM-DD")) -> None:
    """Do everything due up to the as-of date; a later date catches up everything in between."""
    from flows.advance import advance as advance_flow

    _run_to_completion(advance_flow, parse_date(as_of, "--as-of"))
    console.print(f"advanced to {as_of}")


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
    from flows.simulate import simulate as simulate_flow

    first, last = parse_date(start, "--start"), parse_date(end, "--end")
    if last < first:
        raise Refusal(f"--end {last} is before --start {first}")
    if cases <= 0:
        raise Refusal(f"--cases must be a positive number, not {cases}")
    with _progress("simulating days", (last - first).days) as advance_to:
        summary = simulate_flow(
            cases, first, last, seed, progress=lambda done, _total: advance_to(done), replace=replace
        )
    console.print(
        f"simulated {summary['journey_days']} journey days to {summary['advanced_to']}; "
        f"{summary['responses']:,} parents' responses recorded"
    )
    print_summary_and_write_report(Settings().letters_dir.parent / "report.html")


def print_summary_and_write_report(html_path: Path) -> None:
    """The headline figures and where the money went; the whole report as one HTML page."""
    from csa_closure.cli_report import print_whole, rich_table, write_atomically
    from flows.report import report as report_flow
    from transform.report import headline, money_section, progress_section, render_html

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
    state = flow_function(*args, return_state=True)
    if state.is_completed():
        return state.result()
    error = state.result(raise_on_failure=False)
    if isinstance(error, (Refusal, SchemaNotCurrent)):
        raise error
    print(f"failed: {state.message}", file=sys.stderr)
    raise typer.Exit(1)


def print_extract_summary(summaries: list[dict]) -> None:
    table = Table("scheme", "extract run", "cases", "clean", "held back", "quarantined records",
                  title="extract and validate")
    for s in summaries:
        table.add_row(s["scheme"], s["extract_run"], f"{s['cases_extracted']:,}", f"{s['cases_clean']:,}",
                      f"{s['cases_held']:,}", f"{s['records_quarantined']:,}")
    console.print(table)


class _progress:
    """A rich progress bar whose ``advance(done)`` takes the running total."""

    def __init__(self, description: str, total: int) -> None:
        self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TimeElapsedColumn(), console=console, transient=False)
        self._task = self._bar.add_task(description, total=total)

    def __enter__(self):
        self._bar.start()
        return lambda done: self._bar.update(self._task, completed=done)

    def __exit__(self, *exc) -> None:
        self._bar.stop()


# Commands defined beside this module register themselves on ``app`` when imported.
from csa_closure import cli_forecast, cli_letters, cli_record, cli_report  # noqa: E402,F401


def main() -> None:
    """Entry point: usage errors and exit codes as click gives them; a refusal (or a target
    that needs ``init``) as one line and exit 2."""
    try:
        app()
    except (Refusal, SchemaNotCurrent) as refusal:
        print(f"refused: {refusal}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
