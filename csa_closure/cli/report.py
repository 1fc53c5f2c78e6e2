"""``csa-closure report``: progress, outcomes and reconciliation (CONTRACTS.md section 4), as
rich tables for the terminal, JSON for machines or one self-contained HTML page for managers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from csa_closure.cli.common import console
from csa_closure.refusal import Refusal

FORMATS = ("table", "json", "html")
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
    from csa_closure.render.report import print_tables, render_html, render_json, tables_text
    from flows.report import checked_target
    from flows.report import report as report_flow

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
