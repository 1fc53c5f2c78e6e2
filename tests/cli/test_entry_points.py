"""``csa-closure`` (the console script) and ``python -m csa_closure.cli`` are the same command
line: each, run as an operator runs it, in a process, lists every command of CONTRACTS.md
section 4 (and ``server``); and each command's help shows the options the contract names."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from conftest import CSA_CLOSURE

ENTRY_POINTS = {
    "console script": [CSA_CLOSURE],
    "python -m": [sys.executable, "-m", "csa_closure.cli"],
}

COMMANDS = {
    "init": [],
    "generate": ["--cases", "--seed", "--extract-date", "--replace"],
    "extract": [],
    "plan": ["--start", "--until", "--capacity", "--interval-days"],
    "advance": ["--as-of"],
    "record application": ["--case", "--service", "--received"],
    "record new-application": ["--nrp", "--pwc", "--received"],
    "record choice": ["--case", "--choice", "--received", "--channel"],
    "record extension": ["--case", "--received"],
    "record hold-resolution": ["--case", "--use", "--pwc-pence", "--sos-pence", "--reason", "--by"],
    "import-responses": [],
    "dispatch-letters": ["--out"],
    "report": ["--tranche", "--format", "--out"],
    "rerun-failed": ["--tranche"],
    "simulate": ["--cases", "--start", "--end", "--seed", "--replace"],
    "forecast": ["--rules", "--as-of", "--format", "--out"],
    "server start": ["--port", "--timeout"],
    "server status": [],
    "server stop": [],
    "serve": [],
}
"""Every command and the options it takes."""


def run(entry_point: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*ENTRY_POINTS[entry_point], *args], capture_output=True, text=True, timeout=120,
        env=os.environ | {"COLUMNS": "200"},  # one help row a line
    )


def panel_rows(help_text: str, panel: str) -> list[str]:
    """The first word of each row of one of the help's panels ("Commands", "Options")."""
    rows, inside = [], False
    for line in help_text.splitlines():
        if f"─ {panel} ─" in line:
            inside = True
        elif inside and line.startswith("╰"):
            break
        elif inside and (row := re.match(r"│ (?:\* +| +)?(\S+)", line)):
            rows.append(row.group(1))
    return rows


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_the_help_lists_every_command(entry_point):
    result = run(entry_point, "--help")
    assert result.returncode == 0, result.stderr
    assert sorted(panel_rows(result.stdout, "Commands")) == sorted({c.split()[0] for c in COMMANDS})


@pytest.mark.parametrize("group", ["record", "server"])
@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_a_group_lists_its_commands(entry_point, group):
    result = run(entry_point, group, "--help")
    assert result.returncode == 0, result.stderr
    assert sorted(panel_rows(result.stdout, "Commands")) == sorted(
        c.split()[1] for c in COMMANDS if c.startswith(f"{group} ")
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_shows_its_options(cli, monkeypatch, command):
    monkeypatch.setenv("COLUMNS", "200")
    result = cli(*command.split(), "--help")
    assert result.exit_code == 0, result.stderr
    assert f" {command} [OPTIONS]" in result.stdout
    assert panel_rows(result.stdout, "Options") == [*COMMANDS[command], "--help"]


@pytest.mark.parametrize(
    ("args", "refusal", "command"),
    [
        (("advance",), "refused: Missing option '--as-of'; see '", "advance"),
        (("record", "choice", "--case", "C930000001", "--choice", "collect"), "refused: Missing option '--received'",
         "record choice"),
        (("plan", "--start", "2014-07-07", "--capacity", "many"), "refused: Invalid value for '--capacity'", "plan"),
        (("plan", "--start", "2014-07-07", "--capcity", "5"), "refused: No such option: --capcity", "plan"),
        (("close-everything",), "refused: No such command 'close-everything'", ""),
        (("--version",), "refused: No such option: --version", ""),
    ],
    ids=["missing option", "missing option of a group's command", "not a number", "misspelt option",
         "unknown command", "option before any command"],
)
def test_a_command_line_the_commands_cannot_take_is_refused_in_one_line(cli, args, refusal, command):
    result = cli(*args)
    assert (result.exit_code, result.exception, result.stdout) == (2, None, "")
    assert result.stderr.startswith(refusal) and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.endswith(" ".join(["", *command.split(), "--help'\n"])), result.stderr  # where to look


def test_a_group_named_alone_shows_its_commands(cli):
    result = cli("record")
    assert result.exit_code == 2 and "Commands" in result.stdout + result.stderr


def test_a_flow_that_fails_with_a_database_error_is_one_failed_line(prefect_harness, capsys):
    """A unit's database error carries its statement on further lines: the command prints the
    first (``batch_run.last_error`` keeps it whole) and exits 1."""
    import typer
    from prefect import flow

    from csa_closure.cli.journey import _run_to_completion

    @flow
    def failing() -> None:
        raise RuntimeError("1 unit(s) of work failed; first: (sqlite3.IntegrityError) x\n[SQL: INSERT INTO write_off]")

    with pytest.raises(typer.Exit) as exit_info:
        _run_to_completion(failing)
    assert exit_info.value.exit_code == 1
    lines = capsys.readouterr().err.splitlines()  # the run's own log lines too
    [at] = [n for n, line in enumerate(lines) if line.startswith("failed: ")]
    assert "(sqlite3.IntegrityError) x" in lines[at]
    assert not lines[at + 1:], "the failure's reason went on past its line"
