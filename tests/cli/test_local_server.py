"""``csa-closure server start|status|stop``: a local Prefect server under ``PREFECT_HOME`` that
every command reports to while it runs, in real processes as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import CSA_CLOSURE, in_a_process

from csa_closure import local_server
from csa_closure.db import engine_for
from load.migrate import upgrade_target


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A PREFECT_HOME of its own; whatever server the test leaves running is stopped."""
    home = tmp_path / "prefect"
    monkeypatch.setenv("PREFECT_HOME", str(home))
    yield home
    local_server.stop()


def csa_closure(home: Path, *args: str, **settings: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    return in_a_process(
        *args, env=environment | {"PREFECT_HOME": str(home), "COLUMNS": "200", "CSA_LOG_FORMAT": "json"} | settings
    )


def test_commands_report_to_the_local_server_until_it_stops(home, tmp_path):
    assert csa_closure(home, "server", "status").returncode == 1
    port = local_server.free_port()

    started = csa_closure(home, "server", "start", "--port", str(port))
    assert started.returncode == 0, started.stdout + started.stderr
    assert started.stdout.startswith("started:") and f"http://127.0.0.1:{port}" in started.stdout
    record = json.loads((home / "csa-closure-server.json").read_text())
    assert record["port"] == port and local_server.process_runs(record["pid"])
    status = csa_closure(home, "server", "status")
    assert status.returncode == 0 and status.stdout.startswith("running:")
    assert f"dashboard  http://127.0.0.1:{port}" in status.stdout
    assert csa_closure(home, "server", "start").stdout.startswith("already running:")

    target_url = f"sqlite:///{tmp_path / 'cms.db'}"
    upgrade_target(engine_for(target_url))
    refused = csa_closure(home, "record", "extension", "--case", "C930000001", "--received", "2014-07-07",
                          CSA_TARGET_URL=target_url)
    assert refused.returncode == 2 and "refused: the journey has not been advanced yet" in refused.stderr
    assert "temporary server" not in refused.stderr
    flows = httpx.post(f"http://127.0.0.1:{port}/api/flows/filter", json={}).json()
    assert "record-event" in {flow["name"] for flow in flows}
    served = {"daily", "tranche-schedule", "operations"}
    assert serves_on_the_local_server(home, port, served, CSA_TARGET_URL=target_url)

    stopped = csa_closure(home, "server", "stop")
    assert stopped.returncode == 0 and stopped.stdout.startswith("stopped:")
    assert not local_server.process_runs(record["pid"]) and not (home / "csa-closure-server.json").exists()
    assert csa_closure(home, "server", "status").stdout.startswith("not running:")


def serves_on_the_local_server(home: Path, port: int, deployments: set[str], **settings: str) -> bool:
    """Whether ``csa-closure serve`` shows ``deployments`` on the local server's dashboard."""
    environment = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    serving = subprocess.Popen([CSA_CLOSURE, "serve"], env=environment | {"PREFECT_HOME": str(home)} | settings,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and serving.poll() is None:
            shown = httpx.post(f"http://127.0.0.1:{port}/api/deployments/filter", json={}).json()
            if deployments <= {deployment["name"] for deployment in shown}:
                return True
            time.sleep(0.5)
        return False
    finally:
        serving.terminate()
        serving.wait(timeout=60)


def test_serving_refuses_a_target_that_needs_init(home, tmp_path):
    refused = csa_closure(home, "serve", CSA_TARGET_URL=f"sqlite:///{tmp_path / 'cms.db'}")
    assert refused.returncode == 2 and "refused:" in refused.stderr and "init" in refused.stderr


def test_a_stale_record_is_reported_and_stop_clears_it(home):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    home.mkdir(parents=True)
    (home / "csa-closure-server.json").write_text(json.dumps({"pid": int(finished.stdout), "port": 1}))

    status = csa_closure(home, "server", "status")
    assert status.returncode == 1 and "has stopped" in status.stdout
    stopped = csa_closure(home, "server", "stop")
    assert stopped.returncode == 0 and "removed the record" in stopped.stdout
    assert not (home / "csa-closure-server.json").exists()
