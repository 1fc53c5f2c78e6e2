"""What a command writes to stderr: one JSON object a line (``CSA_LOG_FORMAT=json``, or stderr
not a terminal), or lines for reading (``console``); each event once, Prefect's lines included,
and never personal data."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
from datetime import date

import pytest
from conftest import in_a_process

from csa_closure.logs import configure_logging, get_logger, render

FIRST_WEEK = date(2014, 7, 14)
CONSOLE_LINE = re.compile(r"^\d\d:\d\d:\d\d \[(debug|info|warning|error|critical) *\] \S")


@pytest.fixture
def backend() -> str:
    """Logging is the same on both backends: SQLite only."""
    return "sqlite"


def advance_in_a_process(log_format: str) -> subprocess.CompletedProcess:
    """``csa-closure advance`` as an operator runs it, reporting to the session's server."""
    from prefect.settings import PREFECT_API_URL

    return in_a_process("advance", "--as-of", FIRST_WEEK.isoformat(),
                        env=os.environ | {"PREFECT_API_URL": PREFECT_API_URL.value(), "CSA_LOG_FORMAT": log_format})


def test_json_format_writes_one_json_object_a_line_each_event_once(planned_target):
    result = advance_in_a_process("json")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    events = [json.loads(line) for line in lines]
    assert all(isinstance(event, dict) for event in events)
    units = [e for e in events if e["event"] == "unit of work done"]
    assert {(e["step"], e["batch_id"]) for e in units} >= {("SELECT", "T0001"), ("START", "T0001-B001")}
    assert len(units) == len({(e["step"], e["batch_id"], e["due_on"]) for e in units})
    flow_run_lines = [e for e in events if e.get("logger") == "prefect.flow_runs"]
    assert any(e["event"] == "Finished in state Completed()" for e in flow_run_lines)
    assert not [e for e in events if e.get("logger") == "prefect.task_runs"]  # the units' events say it
    assert len(lines) == len(set(lines))


def test_console_format_renders_readable_lines_with_the_references(planned_target):
    result = advance_in_a_process("console")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines and all(CONSOLE_LINE.match(line) for line in lines), result.stderr
    started = [line for line in lines if "unit of work done" in line and "step=START" in line]
    assert any("batch_id=T0001-B001" in line and "due_on=2014-07-07" in line for line in started)
    assert not any("{" in line for line in lines)
    without_time = [line[9:] for line in lines]
    assert len(without_time) == len(set(without_time))


@pytest.mark.filterwarnings("ignore:Logger 'csa_closure.test' attempted to send logs to the API")
def test_personal_data_is_withheld_in_both_formats():
    configure_logging()
    records: list[logging.LogRecord] = []
    catch = logging.Handler()
    catch.emit = records.append
    engine_logger = logging.getLogger("csa_closure")
    engine_logger.addHandler(catch)
    try:
        get_logger("test").info("case read", case_ref="C930000001", surname="Smith", nino="QQ123456C")
    finally:
        engine_logger.removeHandler(catch)
    [record] = records
    for log_format in ("json", "console"):
        line = render(record, log_format)
        assert "C930000001" in line and "[withheld]" in line
        assert "Smith" not in line and "QQ123456C" not in line
    assert "Smith" not in record.getMessage()  # the JSON Prefect ships to the run logs
