"""A local Prefect server that outlives one command (``csa-closure server start|stop|status``).

Without a server, every command starts Prefect's temporary one and stops it again, which is
most of a short command's time. ``start`` runs ``prefect server start`` in the background
under ``PREFECT_HOME``, waits until it answers, and records its address and process there;
every command reports to it while it runs and no ``PREFECT_API_URL`` is set.

Only the standard library here: the command line reads the record before anything else.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

HOST = "127.0.0.1"
DEFAULT_PORT = 4200
RECORD_NAME = "csa-closure-server.json"
LOG_NAME = "csa-closure-server.log"
HEALTH_TIMEOUT_SECONDS = 5.0
SERVER_ONLY_ENVIRONMENT = ("PREFECT_API_URL", "PREFECT_LOGGING_HANDLERS_CONSOLE_CLASS")
"""Left out of the server's environment: it is the API, and it logs to its own file Prefect's way."""


class ServerDidNotStart(Exception):
    """The server process exited, or did not answer in time; its log says why."""


@dataclass(frozen=True)
class LocalServer:
    pid: int
    port: int

    @property
    def url(self) -> str:
        """The dashboard."""
        return f"http://{HOST}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    def answers(self, timeout: float = HEALTH_TIMEOUT_SECONDS) -> bool:
        try:
            with urllib.request.urlopen(f"{self.api_url}/health", timeout=timeout) as response:
                return response.status == 200
        except (OSError, urllib.error.URLError):
            return False


def prefect_home() -> Path:
    """Prefect's home folder, as Prefect reads it (its default is ``~/.prefect``)."""
    return Path(os.environ.get("PREFECT_HOME") or "~/.prefect").expanduser()


def record_path() -> Path:
    return prefect_home() / RECORD_NAME


def log_path() -> Path:
    return prefect_home() / LOG_NAME


def recorded() -> LocalServer | None:
    """The server recorded under ``PREFECT_HOME``, whether or not it still runs."""
    try:
        return LocalServer(**json.loads(record_path().read_text()))
    except (OSError, ValueError, TypeError):
        return None


def running() -> LocalServer | None:
    """The recorded server, if its process runs and it answers."""
    server = recorded()
    if server is None or not process_runs(server.pid) or not server.answers():
        return None
    return server


def start(port: int | None = None, timeout: float = 120.0) -> tuple[LocalServer, bool]:
    """The running server, started first if need be (``True`` then): on ``port``, or on
    ``DEFAULT_PORT`` if it is free, else on any free port. A stale record is replaced."""
    server = running()
    if server is not None:
        return server, False
    if recorded() is not None:
        stop()  # a record whose server died, or that no longer answers
    home = prefect_home()
    home.mkdir(parents=True, exist_ok=True)
    port = port or (DEFAULT_PORT if port_is_free(DEFAULT_PORT) else free_port())
    environment = {k: v for k, v in os.environ.items() if k not in SERVER_ONLY_ENVIRONMENT}
    environment |= {"PREFECT_HOME": str(home)}
    environment.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    with open(log_path(), "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", HOST, "--port", str(port)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=environment,
            start_new_session=True,  # its own process group, which ``stop`` ends whole
        )
    server = LocalServer(pid=process.pid, port=port)
    deadline = time.monotonic() + timeout
    while not server.answers(timeout=1.0):
        if process.poll() is not None or time.monotonic() > deadline:
            _end_group(process.pid)
            raise ServerDidNotStart(
                f"the Prefect server on port {port} did not start within {timeout:.0f} s; see {log_path()}"
                if process.poll() is None else
                f"the Prefect server exited with code {process.returncode}; see {log_path()}"
            )
        time.sleep(0.25)
    staged = record_path().with_suffix(".part")
    staged.write_text(json.dumps(asdict(server)))
    os.replace(staged, record_path())
    return server, True


def stop() -> LocalServer | None:
    """Stop the recorded server, if it still runs, and remove its record; the record, or None."""
    server = recorded()
    if server is None:
        return None
    if process_runs(server.pid):
        _end_group(server.pid)
    record_path().unlink(missing_ok=True)
    return server


def process_runs(pid: int) -> bool:
    """Whether ``pid`` is a Prefect server still running (not a process that reused its id)."""
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # another user's process: not one this record describes
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.parent.exists():
        return True  # no /proc to tell by: the id is taken as the server's
    try:
        words = cmdline.read_bytes().split(b"\0")
    except OSError:
        return False
    return b"prefect" in words and b"server" in words


def port_is_free(port: int) -> bool:
    """Whether a server could listen on ``port`` now; as the server binds, connections of one
    stopped a moment ago (TIME_WAIT) do not count."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _end_group(pid: int, grace_seconds: float = 20.0) -> None:
    """End the server's process group (it leads its own): politely, then for good."""
    for sig, wait in ((signal.SIGTERM, grace_seconds), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            _reap(pid)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


def _reap(pid: int) -> None:
    """Collect the exit of a server this process started itself, so it does not linger as a
    zombie that still seems to run."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
