"""The real ``csa-closure`` command line, run in the test's process."""

from __future__ import annotations

import sys

from csa_closure.cli import console, main


def run_captured(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run ``csa-closure`` in this process: exit code, stdout and stderr."""
    monkeypatch.setattr(sys, "argv", ["csa-closure", *args])
    monkeypatch.setattr(console, "width", 200)  # one table row per line
    try:
        main()
        code = 0
    except SystemExit as done:
        code = done.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run ``csa-closure`` in this process: exit code, stdout, and the 'refused' lines of stderr."""
    code, out, err = run_captured(monkeypatch, capsys, *args)
    return code, out, "\n".join(line for line in err.splitlines() if line.startswith("refused:"))
