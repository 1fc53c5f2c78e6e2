"""The operator's command line, ``csa-closure`` (CONTRACTS.md section 4).

Each command runs a Prefect flow so it shows on the dashboard. A refusal exits non-zero with
one line that says why, and changes nothing.
"""

from __future__ import annotations

import os
import sys
from datetime import date, datetime

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from csa_closure.db import engine_for  # noqa: E402
from csa_closure.logs import configure_logging  # noqa: E402
from csa_closure.settings import Settings  # noqa: E402

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__.splitlines()[0])
console = Console()


class Refusal(Exception):
    """Bad operator input: reported in one line, nothing changed."""


def parse_date(value: str, option: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise Refusal(f"{option} must be a date as YYYY-MM-DD, not {value!r}") from None


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
) -> None:
    """Write a synthetic legacy estate of both schemes (CONTRACTS.md section 5)."""
    from flows.estate import generate_estate_flow

    if cases <= 0:
        raise Refusal(f"--cases must be a positive number, not {cases}")
    extracted_on = parse_date(extract_date, "--extract-date")
    with _progress("generating cases", cases) as advance:
        manifest = generate_estate_flow(cases=cases, seed=seed, extract_date=extracted_on, progress=advance)
    table = Table("scheme", "cases", "malformed records", title="synthetic estate")
    for scheme, count in sorted(manifest["cases"].items()):
        table.add_row(scheme, f"{count:,}", f"{manifest['malformed'].get(scheme, 0):,}")
    console.print(table)


@app.command()
def extract() -> None:
    """Extract and validate both legacy systems: clean cases snapshotted, bad records quarantined."""
    from flows.extract import extract_legacy

    print_extract_summary(extract_legacy())


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


def main() -> None:
    """Entry point: run the app, turning refusals into one line and a non-zero exit."""
    try:
        app(standalone_mode=False)
    except Refusal as refusal:
        print(f"refused: {refusal}", file=sys.stderr)
        sys.exit(2)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except Exception as error:  # click usage errors and schema refusals arrive here
        from click import ClickException

        from load.migrate import SchemaNotCurrent

        if isinstance(error, ClickException):
            print(f"refused: {error.format_message()}", file=sys.stderr)
            sys.exit(2)
        if isinstance(error, SchemaNotCurrent):
            print(f"refused: {error}", file=sys.stderr)
            sys.exit(2)
        raise
