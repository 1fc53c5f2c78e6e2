"""``csa-closure server start|stop|status``: the local Prefect server every command reports to
while it runs (``csa_closure/local_server.py``); ``csa-closure serve``: the deployments
operations run from its dashboard."""

from __future__ import annotations

import sys

import typer

from csa_closure import local_server
from csa_closure.cli.common import console
from csa_closure.refusal import Refusal

app = typer.Typer()
server_app = typer.Typer(
    no_args_is_help=True,
    help="The local Prefect server every command reports to while it runs, with its dashboard.",
)
app.add_typer(server_app, name="server")

NOT_RUNNING = 1
"""``status`` exit code when no recorded server runs; ``start`` exits with it if none would start."""


@server_app.command()
def start(
    port: int | None = typer.Option(None, "--port", help="default 4200, or any free port if it is taken"),
    timeout: float = typer.Option(120.0, "--timeout", help="seconds to wait for it to answer"),
) -> None:
    """Start the local Prefect server in the background, unless it runs already."""
    if port is not None and local_server.running() is None and not local_server.port_is_free(port):
        raise Refusal(f"--port {port} is taken by another program")
    try:
        server, started = local_server.start(port, timeout)
    except local_server.ServerDidNotStart as failure:
        print(f"failed: {failure}", file=sys.stderr)
        raise SystemExit(NOT_RUNNING) from None
    console.print(f"{'started' if started else 'already running'}: {_where(server)}")
    console.print("commands with this PREFECT_HOME report to it; `csa-closure server stop` stops it")


@server_app.command()
def status() -> None:
    """Whether the local Prefect server runs, and where its dashboard is."""
    server = local_server.recorded()
    if server is None:
        console.print(f"not running: no local server recorded under {local_server.prefect_home()}; "
                      "commands start a temporary one each")
        raise SystemExit(NOT_RUNNING)
    if not local_server.process_runs(server.pid):
        console.print(f"not running: the server recorded in {local_server.record_path()} (pid {server.pid}) "
                      "has stopped; `csa-closure server start` starts it again")
        raise SystemExit(NOT_RUNNING)
    if not server.answers():
        console.print(f"not answering: pid {server.pid} on port {server.port}; see {local_server.log_path()}")
        raise SystemExit(NOT_RUNNING)
    console.print(f"running: {_where(server)}")


@server_app.command()
def stop() -> None:
    """Stop the local Prefect server, and forget it (a stale record too)."""
    server = local_server.recorded()
    if server is None:
        console.print(f"not running: no local server recorded under {local_server.prefect_home()}")
        return
    was_running = local_server.process_runs(server.pid)
    local_server.stop()
    if was_running:
        console.print(f"stopped: the server on port {server.port} (pid {server.pid})")
    else:
        console.print(f"not running: removed the record of pid {server.pid}, which had stopped")


@app.command()
def serve() -> None:
    """Serve the deployments operations run from the dashboard, until stopped (Ctrl-C)."""
    from flows.deployments import serve_deployments

    serve_deployments()


def _where(server: local_server.LocalServer) -> str:
    return (f"the local Prefect server (pid {server.pid}) under {local_server.prefect_home()}\n"
            f"  dashboard  {server.url}\n  API        {server.api_url}")
