"""The ``record`` commands and ``import-responses`` (CONTRACTS.md section 4).

An accepted event waits for the next ``advance``; a refused one exits non-zero with one line
that says why and changes nothing (a refused answer is kept in the audit trail, section 7).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from csa_closure.cli.common import console, without_heartbeats
from csa_closure.refusal import Refusal

if TYPE_CHECKING:
    import pandas as pd

app = typer.Typer()
record_app = typer.Typer(
    no_args_is_help=True, help="Record an operator's event for the next advance to apply."
)
app.add_typer(record_app, name="record")

SOME_REFUSED = 1
"""``import-responses`` exit code when some rows were refused (the good ones are stored)."""
CASE = typer.Option(..., "--case", help="CSA case reference")
RECEIVED = typer.Option(..., "--received", help="YYYY-MM-DD")
"""Options several events take, declared once so that they read the same in every command."""


@record_app.command()
def application(
    case: str = CASE,
    service: str = typer.Option(..., "--service", help="direct-pay | collect-and-pay"),
    received: str = RECEIVED,
) -> None:
    """A CMS application for a case, before its liability ends."""
    _record(event="application", case=case, service=service, received=received)


@record_app.command("new-application")
def new_application(
    nrp: str = typer.Option(..., "--nrp", help="the paying parent named by the application"),
    pwc: str = typer.Option(..., "--pwc", help="the receiving parent who applied"),
    received: str = RECEIVED,
) -> None:
    """A new CMS application that may close a case reactively."""
    _record(event="new-application", nrp=nrp, pwc=pwc, received=received)


@record_app.command()
def choice(
    case: str = CASE,
    choice: str = typer.Option(..., "--choice", help="collect | write-off"),
    received: str = RECEIVED,
    channel: str = typer.Option("post", "--channel", help="how the answer came, up to 40 characters"),
) -> None:
    """The receiving parent's answer to the arrears choice."""
    _record(event="choice", case=case, choice=choice, received=received, channel=channel)


@record_app.command()
def extension(
    case: str = CASE,
    received: str = RECEIVED,
) -> None:
    """A request for more time to answer the arrears choice."""
    _record(event="extension", case=case, received=received)


@record_app.command("hold-resolution")
def hold_resolution(
    case: str = CASE,
    use: str = typer.Option(..., "--use", help="ledger | recorded | amount"),
    pwc_pence: str = typer.Option("", "--pwc-pence", help="whole pence, with --use amount"),
    sos_pence: str = typer.Option("", "--sos-pence", help="whole pence, with --use amount"),
    reason: str = typer.Option(..., "--reason"),
    by: str = typer.Option(..., "--by", help="the caseworker"),
) -> None:
    """A caseworker resolves a verification hold, dated the day the journey has advanced to."""
    _record(
        event="hold-resolution",
        case=case,
        use=use,
        pwc_pence=pwc_pence,
        sos_pence=sos_pence,
        reason=reason,
        by=by,
    )


@app.command("import-responses")
def import_responses(
    file: Path = typer.Argument(..., help="CSV: a column 'event' and one per record option"),
) -> None:
    """Record events in bulk: good rows stored, bad rows reported by line; exit 1 if any refused."""
    from flows.record import import_responses as import_flow

    with without_heartbeats():
        recorded = import_flow(str(file))
    if recorded.refusal:
        raise Refusal(recorded.refusal)
    _print_summary(recorded.events)
    refused, again = recorded.refused, int(recorded.events["already_recorded"].sum())
    if not refused.empty:
        stored = len(recorded.events) - len(refused) - again
        print(
            f"refused: {len(refused)} of {len(recorded.events)} rows; "
            + (f"{again} were recorded before, " if again else "")
            + f"the other {stored} were stored",
            file=sys.stderr,
        )
        # SystemExit, not typer.Exit: the app runs outside standalone mode, where Exit is a return
        raise SystemExit(SOME_REFUSED)


def _record(**event: str) -> None:
    """Record one event; its refusal becomes the command's one-line refusal."""
    from flows.record import record_event

    with without_heartbeats():
        recorded = record_event(event)
    if not recorded.refused.empty:
        raise Refusal(recorded.refused["refusal"].iloc[0])
    console.print(recorded.outcome(event["event"]))


def _print_summary(events: pd.DataFrame) -> None:
    """Accepted, recorded before and refused per event kind, then each refused row with its line and reason
    (the operator's text with its control characters escaped)."""
    from csa_closure.shown import escaped_values

    shown = events.assign(
        kind=events["kind"].fillna("(unknown)"),
        event=escaped_values(events["event"].fillna("")),
        reference=escaped_values(events["reference"].fillna("")),
        refusal=escaped_values(events["refusal"]),
        refused=events["refusal"].notna(),
    )
    counts = Table("event", "accepted", "recorded before", "refused", title="responses imported")
    for kind, group in shown.groupby("kind", sort=True):
        before = group["already_recorded"].astype(bool)
        counts.add_row(kind, f"{(~group['refused'] & ~before).sum():,}", f"{before.sum():,}",
                       f"{group['refused'].sum():,}")
    console.print(counts)
    if shown["refused"].any():
        rows = Table("line", "event", "reference", "reason", title="refused rows")
        for line, row in shown[shown["refused"]].iterrows():
            rows.add_row(str(line), row["event"], row["reference"], row["refusal"])
        console.print(rows)
