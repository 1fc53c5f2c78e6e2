"""``csa-closure forecast``: the rulebook over the cases not closed yet, under the current rule
settings and an alternative from a TOML file, side by side; the journey is not touched."""

from __future__ import annotations

from pathlib import Path

import typer

from csa_closure.refusal import parse_date

app = typer.Typer()


@app.command()
def forecast(
    rules: Path = typer.Option(..., "--rules", help="a TOML file of rule settings to compare with the current ones"),
    as_of: str | None = typer.Option(
        None, "--as-of", help="YYYY-MM-DD; default the date the journey has advanced to, else the extract date"
    ),
    output_format: str = typer.Option("table", "--format", help="table | json | html"),
    out: Path | None = typer.Option(None, "--out", help="write to this file instead of the terminal"),
) -> None:
    """What-if: where the cases not closed yet would go under other rule settings."""
    from csa_closure.cli.report import check_output, write_output
    from csa_closure.db import engine_for
    from csa_closure.render.forecast import print_tables, render_html, render_json, tables_text
    from csa_closure.rules_file import alternative_rules, read_rules_file
    from csa_closure.settings import Settings, rule_settings
    from flows.forecast import forecast as forecast_flow
    from flows.forecast import forecast_as_of

    check_output(output_format, out)
    overrides = read_rules_file(rules)
    alternative_rules(rule_settings(), overrides, f"--rules {rules}")
    day = forecast_as_of(engine_for(Settings().target_url), parse_date(as_of, "--as-of") if as_of else None)
    comparison = forecast_flow(overrides, day)
    write_output(comparison, output_format, out, print_tables,
                 {"table": tables_text, "json": render_json, "html": render_html})
