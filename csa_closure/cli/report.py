"""``csa-closure report``: progress, outcomes and reconciliation (CONTRACTS.md section 4), as
rich tables for the terminal, JSON for machines or one self-contained HTML page for managers."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console, RenderableType
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from csa_closure.cli.common import console
from csa_closure.refusal import Refusal

if TYPE_CHECKING:
    from transform.report import Report, Section

FORMATS = ("table", "json", "html")
STATUS_STYLES = {"PASS": "bold green", "BREAK": "bold red", "INCOMPLETE": "bold yellow"}
NOT_RECONCILED = 1
"""``report``'s exit code when the reconciliation is not PASS (BREAK or INCOMPLETE)."""

app = typer.Typer()


@app.command()
def report(
    tranche: str | None = typer.Option(None, "--tranche", help="one tranche, e.g. T0003"),
    output_format: str = typer.Option("table", "--format", help="table | json | html"),
    out: Path | None = typer.Option(None, "--out", help="write to this file instead of the terminal"),
) -> None:
    """Progress of each tranche, where the money went, holds, quarantine and reconciliation."""
    from flows.report import checked_target, report as report_flow
    from transform.report import render_html, render_json

    check_output(output_format, out)
    checked_target(tranche)
    model = report_flow(tranche)
    write_output(model, output_format, out, print_tables,
                 {"table": tables_text, "json": render_json, "html": render_html})
    if model.totals.status != "PASS":
        unfinished = "; ".join(model.totals.unfinished[:3]) or "a penny does not add up"
        print(f"reconciliation {model.totals.status}: {unfinished}", file=sys.stderr)
        raise SystemExit(NOT_RECONCILED)


def check_output(output_format: str, out: Path | None) -> None:
    """Refuse a format or an ``--out`` the command could not write, before anything is read."""
    if output_format not in FORMATS:
        raise Refusal(f"--format must be one of {' | '.join(FORMATS)}, not {output_format!r}")
    if output_format == "html" and out is None:
        raise Refusal("--format html writes a page: name it with --out FILE")
    if out is not None:
        check_writable(out)


def write_output(model, output_format: str, out: Path | None, print_to_terminal, renderings: dict) -> None:
    """The model as rich tables in the terminal, or rendered (``renderings[output_format]``) to
    standard output or to ``out``."""
    if output_format == "table" and out is None:
        print_to_terminal(model, console)
        return
    text = renderings[output_format](model)
    if out is None:
        print(text, end="")
        return
    write_atomically(out, text)
    console.print(f"written {out}")


def check_writable(out: Path) -> None:
    """Refuse an ``--out`` the report could not be written to, before anything is read."""
    folder = out.parent
    if out.is_dir():
        raise Refusal(f"--out {out} is a folder, not a file")
    if not folder.is_dir():
        raise Refusal(f"--out {out}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise Refusal(f"--out {out} is not writable")


def write_atomically(out: Path, text: str) -> None:
    """Write under a temporary name and rename, so a reader never sees half a report."""
    staged = out.with_name(f".{out.name}.part")
    staged.write_text(text, encoding="utf-8")
    os.replace(staged, out)


def print_tables(model: Report, to: Console) -> None:
    """The headline figures, then every section as a rich table."""
    from transform.report import headline, sections

    scope = f"tranche {model.tranche_id}" if model.tranche_id else "all tranches"
    to.print(Text(f"CSA case closure report: {scope}", style="bold"))
    figures = Table(show_header=False, box=None)
    for label, value in headline(model):
        figures.add_row(label, value, style=STATUS_STYLES.get(value))
    if model.advanced_to:
        figures.add_row("journey advanced to", f"{model.advanced_to:%Y-%m-%d}")
    to.print(figures)
    for section in sections(model):
        print_whole(to, rich_table(section))


def print_whole(to: Console, table: RenderableType) -> None:
    """Print a table at its natural width, past the terminal's if need be: squeezed to fit, rich
    would cut amounts short ('£7,91…'), and a cut amount misleads."""
    natural = Measurement.get(to, to.options.update_width(1_000), table).maximum
    terminal = to.width
    to.width = max(terminal, natural)
    try:
        to.print(table)
    finally:
        to.width = terminal


def rich_table(section: Section) -> Table:
    table = Table(title=section.title, show_footer=section.total is not None)
    for n, (header, align) in enumerate(zip(section.headers, section.align)):
        footer = section.total[n] if section.total else ""
        table.add_column(header, footer=footer, justify="right" if align == "r" else "left")
    for row in section.rows:
        table.add_row(*row, style=STATUS_STYLES.get(row[-1]))
    return table


def tables_text(model: Report) -> str:
    """The tables as plain text for a file: no colour codes, no amount cut short."""
    recorder = Console(record=True, width=200, file=io.StringIO(), color_system=None)
    print_tables(model, recorder)
    return recorder.export_text()
