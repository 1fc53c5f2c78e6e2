"""The operator's command line, ``csa-closure`` (CONTRACTS.md section 4), built in one place from
the command modules.

Each command module holds a ``typer.Typer`` of its own commands and registers nothing on import;
``COMMAND_MODULES`` below is where they join the app. To add commands, write a module
``csa_closure/cli/<name>.py`` with ``app = typer.Typer()`` and its commands, and add its ``app``
to ``COMMAND_MODULES``. A module imports what a command needs inside the command, so that the
command line starts in a fraction of a second whatever runs.

A refusal exits 2 with one line that says why, and changes nothing.
"""

from __future__ import annotations

import gc
import os
import re
import sys
from pathlib import Path
from typing import NoReturn

import click
import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError  # typer 0.29 parses with a click of its own
from typer.core import TyperGroup

from csa_closure import local_server
from csa_closure.cli import forecast, journey, letters, record, report, server
from csa_closure.refusal import Refusal

COMMAND_MODULES = (
    journey.app,  # init, generate, extract, plan, advance, rerun-failed, simulate
    record.app,  # record ..., import-responses
    letters.app,  # dispatch-letters
    report.app,  # report
    forecast.app,  # forecast
    server.app,  # server start|stop|status
)

REFUSED = 2
FAILED = 1
DRIVER_PREFIX = re.compile(r"^\([\w.]+\) ")
"""The driver's error class that SQLAlchemy writes before the driver's reason."""

PREFECT_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_EXTRA_LOGGERS": "csa_closure",  # our events in the run logs on the dashboard
    # Without a server, each command starts Prefect's temporary one; on a busy machine it can take
    # longer than Prefect's default 20 s to answer, and the command would fail before it began.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    # Prefect's own console lines in the same format as ours (csa_closure/logs.py).
    "PREFECT_LOGGING_HANDLERS_CONSOLE_CLASS": "csa_closure.logs.PrefectConsoleLines",
}
"""The command line's Prefect settings, unless the environment says otherwise."""


class RefusingGroup(TyperGroup):
    """Runs a command; a refusal (or a target that needs ``init``, or options the command cannot
    take) becomes one line on stderr,
    ``refused: <why>``, and exit code 2; a fault outside the engine (a database that cannot be
    reached or cannot go on, a cluster that does not answer), one line, ``failed: <why>``, and
    exit code 1; in a terminal as under a test's runner."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except NoArgsIsHelpError:
            raise  # called bare, it shows its help
        except UsageError as error:  # an option before the command it cannot take
            _refuse_usage(error, ctx)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except NoArgsIsHelpError:
            raise  # a group called bare shows its help
        except UsageError as error:  # a missing option, a value of the wrong type, a typo
            _refuse_usage(error, ctx)
        except Exception as error:
            if isinstance(error, _refusals()):
                click.echo(f"refused: {error}", err=True)
                ctx.exit(REFUSED)
            failure = _outside_fault(error)
            if failure is None:
                raise
            click.echo(f"failed: {failure}", err=True)
            ctx.exit(FAILED)


def _refuse_usage(error: UsageError, ctx: click.Context) -> NoReturn:
    """A command line the commands cannot take: one ``refused:`` line naming the help to read."""
    where = error.ctx.command_path if error.ctx else ctx.command_path
    reason = " ".join(error.format_message().split()).rstrip(".")
    click.echo(f"refused: {reason}; see '{where} --help'", err=True)
    ctx.exit(REFUSED)


def _refusals() -> tuple[type[Exception], ...]:
    """What a command refuses with: a ``Refusal``, or the target's ``SchemaNotCurrent``, which
    only a command that has imported ``load.migrate`` can raise (and importing it costs Alembic)."""
    migrate = sys.modules.get("load.migrate")
    return (Refusal, migrate.SchemaNotCurrent) if migrate else (Refusal,)


def _outside_fault(error: Exception) -> str | None:
    """What a fault outside the engine says, in one line: a database's own reason (told without
    the statement or its values), or the cluster's. Only a command that has imported SQLAlchemy
    or the cluster's runner can raise one."""
    errors, runners = sys.modules.get("sqlalchemy.exc"), sys.modules.get("flows.runners")
    if errors is not None and isinstance(error, errors.OperationalError):
        return "the database: " + DRIVER_PREFIX.sub("", str(error).strip().splitlines()[0])
    if runners is not None and isinstance(error, runners.ClusterUnreachable):
        return str(error)
    return None


def build_app() -> typer.Typer:
    commands = typer.Typer(
        cls=RefusingGroup,
        add_completion=False,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        help="The operator's command line, csa-closure (CONTRACTS.md section 4).",
    )
    commands.callback()(_read_settings)
    for module_app in COMMAND_MODULES:
        commands.add_typer(module_app)
    return commands


def _read_settings() -> None:
    """Read the settings, the rules' too, before any command runs, so that a setting the engine
    refuses is one line however far the command would have gone; then set up the logging
    (which, once set up in a process, does not read them again)."""
    from pydantic import ValidationError

    from csa_closure.logs import configure_logging
    from csa_closure.settings import Settings, refused_setting, rule_settings

    try:
        settings = Settings()
        rule_settings()
    except ValidationError as error:
        raise refused_setting(error) from None
    configure_logging(settings.log_level, settings.log_format)


app = build_app()


def prepare_environment() -> None:
    """Settle Prefect's settings before Prefect reads them (its first import, inside a command):
    the command line's defaults, Prefect's home beside the databases' defaults (``var/prefect``,
    as ``./dev`` has it) unless ``PREFECT_HOME`` says otherwise, and the local server's address
    when one runs there and no ``PREFECT_API_URL`` is set."""
    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)
    if not os.environ.get("PREFECT_HOME"):
        home = Path("var/prefect").resolve()
        home.mkdir(parents=True, exist_ok=True)  # Prefect makes only the last folder, and warns
        os.environ["PREFECT_HOME"] = str(home)
    if not os.environ.get("PREFECT_API_URL"):
        server = local_server.running()
        if server is not None:
            os.environ["PREFECT_API_URL"] = server.api_url


def main() -> None:
    """Entry point of ``csa-closure`` and ``python -m csa_closure.cli``."""
    # A command imports a few hundred thousand objects that live as long as it does: a higher
    # threshold keeps the garbage collector from walking them again and again while they load.
    gc.set_threshold(20_000, 10, 10)
    prepare_environment()
    app()
