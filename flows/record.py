"""The record flows: operators' events validated and stored for the next ``advance`` (section 8).

Each flow reads where the journey stands, validates and stores in one transaction: accepted
events wait as ``ACCEPTED``, refused answers are kept as ``REFUSED``, and nothing else changes.
``record_event`` takes the ``record`` commands' words; the typed ``record_<event>`` flows are
the same events as dashboard forms (``flows/deployments.py``), whose refusal fails the run.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

import pandas as pd
from prefect import flow
from prefect.runtime import flow_run
from prefect.states import Completed, Failed, State

from csa_closure.db import engine_for
from csa_closure.logs import get_logger
from csa_closure.refusal import Refusal
from csa_closure.settings import Settings, rule_settings
from csa_closure.shown import escaped
from extract.systems import person_ref_formats
from load.events import (
    insert_operator_events,
    lock_cases,
    lock_journey_clock,
    read_case_states,
    read_known_nrps,
    read_recorded_events,
)
from load.journey import bump_versions
from load.migrate import require_current_schema
from transform.events import (
    EVENT_IDENTITY,
    EventStatus,
    JourneySnapshot,
    already_recorded,
    new_applications_taken,
    operator_event_rows,
    parse_events,
    refused_again,
    validate_events,
    waiting_events,
)

log = get_logger("record")


@dataclass(frozen=True)
class Recorded:
    """What one recording did.

    ``events``: one row per event given, indexed by its line (1 for a ``record`` command):
    ``event`` (the operator's word), ``kind``, ``reference`` (case, or NRP for a new
    application), ``refusal`` (None when accepted), ``already_recorded`` (the same event was
    taken before: nothing stored). ``refusal``: why the whole input was
    refused, in which case nothing was read or stored.
    """

    COLUMNS = ("event", "kind", "reference", "refusal", "already_recorded")

    events: pd.DataFrame
    refusal: str | None = None

    @property
    def refused(self) -> pd.DataFrame:
        return self.events[self.events["refusal"].notna()]

    def outcome(self, event: str) -> str:
        """What became of one accepted event, in a line."""
        reference = self.events["reference"].iloc[0]
        if self.events["already_recorded"].iloc[0]:
            return f"already recorded: {event} for {reference}; nothing changed"
        return f"accepted: {event} for {reference}; the next advance applies it"


def _recorded_run_name() -> str:
    """``record-choice-C930000008``: the event and the case (or, for a new application, the
    NRP) it is about."""
    event = flow_run.parameters["event"]
    return f"record-{event['event']}-{event.get('case') or event.get('nrp')}"


@flow(name="record-event", flow_run_name=_recorded_run_name, validate_parameters=False)
def record_event(event: dict[str, str]) -> Recorded:
    """One event from a ``record`` command: ``event`` names it, the other keys are its options."""
    return store_event(event)


@flow(name="record-application", flow_run_name="record-application-{case}")
def record_application(case: str, service: Literal["direct-pay", "collect-and-pay"], received: date) -> State:
    """A CMS application for a case, before its liability ends.

    Args:
        case: the CSA case reference
        service: the CMS service applied for
        received: the day the application was received
    """
    return dashboard_outcome(event="application", case=case, service=service, received=received.isoformat())


@flow(name="record-new-application", flow_run_name="record-new-application-{nrp}")
def record_new_application(nrp: str, pwc: str, received: date) -> State:
    """A new CMS application that may close a case reactively.

    Args:
        nrp: the paying parent named by the application
        pwc: the receiving parent who applied
        received: the day the application was received
    """
    return dashboard_outcome(event="new-application", nrp=nrp, pwc=pwc, received=received.isoformat())


@flow(name="record-choice", flow_run_name="record-choice-{case}")
def record_choice(
    case: str, choice: Literal["collect", "write-off"], received: date, channel: str = "post"
) -> State:
    """The receiving parent's answer to the arrears choice.

    Args:
        case: the CSA case reference
        choice: collect the arrears through CMS, or write them off
        received: the day the answer was received
        channel: how the answer came, up to 40 characters
    """
    return dashboard_outcome(
        event="choice", case=case, choice=choice, received=received.isoformat(), channel=channel
    )


@flow(name="record-extension", flow_run_name="record-extension-{case}")
def record_extension(case: str, received: date) -> State:
    """A request for more time to answer the arrears choice.

    Args:
        case: the CSA case reference
        received: the day the request was received
    """
    return dashboard_outcome(event="extension", case=case, received=received.isoformat())


@flow(name="record-hold-resolution", flow_run_name="record-hold-resolution-{case}")
def record_hold_resolution(
    case: str,
    use: Literal["ledger", "recorded", "amount"],
    reason: str,
    by: str,
    pwc_pence: int | None = None,
    sos_pence: int | None = None,
) -> State:
    """A caseworker resolves a verification hold, dated the day the journey has advanced to.

    Args:
        case: the CSA case reference
        use: the ledger's balance, the legacy recorded figures, or the amounts given here
        reason: why, for the audit trail
        by: the caseworker
        pwc_pence: the receiving parent's part in whole pence, with use amount
        sos_pence: the Secretary of State's part in whole pence, with use amount
    """
    return dashboard_outcome(
        event="hold-resolution",
        case=case,
        use=use,
        reason=reason,
        by=by,
        pwc_pence="" if pwc_pence is None else str(pwc_pence),
        sos_pence="" if sos_pence is None else str(sos_pence),
    )


def dashboard_outcome(**event: str) -> State:
    """Store one event as ``record_event`` does; a refusal fails the run with its one-line
    reason, so the dashboard shows it where the caseworker looks."""
    recorded = store_event(event)
    if not recorded.refused.empty:
        reason = recorded.refused["refusal"].iloc[0]
        return Failed(message=f"refused: {reason}")
    return Completed(message=recorded.outcome(event["event"]))


@flow(name="import-responses", flow_run_name=lambda: f"import-responses-{Path(flow_run.parameters['path']).name}")
def import_responses(path: str) -> Recorded:
    """The events of a responses CSV; a file that cannot be read as one is refused whole."""
    try:
        raw = read_responses(Path(path))
    except Refusal as refusal:
        log.warning("responses file refused", file=Path(path).name)
        return Recorded(events=pd.DataFrame(columns=list(Recorded.COLUMNS)), refusal=str(refusal))
    return store_events(raw)


MAX_IMPORT_BYTES = 10_000_000
"""The largest responses file an import takes (10 MB, some 200,000 rows of events)."""
MAX_IMPORT_ROWS = 100_000
"""The most rows a responses file may hold: one import is one transaction."""
UNREAD = "UNREAD"
"""``read_responses``' column of why a row cannot be read (no header is upper case)."""


def read_responses(path: Path) -> pd.DataFrame:
    """The rows of a responses CSV as text, indexed by the line each starts on (line 1 is the
    header), under the header's names in lower case.

    A file that is not UTF-8 CSV, repeats a column, has no ``event`` column or is above the
    size limits is refused whole, naming the line (and column) where it breaks. Rows of empty
    fields are skipped. Fields beyond the header's columns, or under an empty header, must be
    empty (a spreadsheet's trailing commas); a row with a value there is refused, its reason in
    the column ``UNREAD``.
    """
    if not path.is_file():
        raise Refusal(f"no such file: {path}")
    size = path.stat().st_size
    if size > MAX_IMPORT_BYTES:
        raise Refusal(f"{path.name} is {size:,} bytes, more than the {MAX_IMPORT_BYTES:,} an import takes: split it")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Refusal(f"{path.name} is not a readable CSV file: not UTF-8 text at byte {error.start}") from None
    lines, rows = _csv_rows(text, path.name)
    if not rows:
        raise Refusal(f"{path.name} is not a readable CSV file: it holds no header")
    header = [name.strip().lower() for name in rows[0]]
    first_seen: dict[str, int] = {}
    for column, name in enumerate(header, start=1):
        if name in first_seen:
            raise Refusal(
                f"{path.name} line {lines[0]}, column {column}: the header {rows[0][column - 1].strip()!r} "
                f"repeats column {first_seen[name]} ({name!r})"
            )
        if name:
            first_seen[name] = column
    if "event" not in first_seen:
        raise Refusal(f"{path.name} has no 'event' column")
    named = [(column - 1, name) for name, column in first_seen.items()]
    frame = pd.DataFrame(
        [{name: (row[at] if at < len(row) else "") for at, name in named} for row in rows[1:]],
        index=lines[1:],
        columns=[name for _, name in named],
        dtype="str",
    )
    frame[UNREAD] = pd.Series([_unread(row, header) for row in rows[1:]], index=frame.index, dtype="str")
    return frame


def _csv_rows(text: str, name: str) -> tuple[list[int], list[list[str]]]:
    """The rows that hold anything, with the line each starts on; strict CSV (a stray or an
    unclosed quote is refused, naming its line)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    lines, rows, line = [], [], 1
    try:
        for row in reader:
            if any(field.strip() for field in row):
                if len(rows) > MAX_IMPORT_ROWS:
                    raise Refusal(f"{name} has more than {MAX_IMPORT_ROWS:,} rows: split it")
                lines.append(line)
                rows.append(row)
            line = reader.line_num + 1
    except csv.Error as error:
        raise Refusal(f"{name} line {line}: not a CSV row: {error}") from None
    return lines, rows


def _unread(row: list[str], header: list[str]) -> str | None:
    """Why a row cannot be read: a value in a column that has no header (None if none has)."""
    for at, value in enumerate(row):
        if value.strip() and (at >= len(header) or not header[at]):
            return f"column {at + 1} holds '{escaped(value)}' but has no header"
    return None


def store_event(event: dict[str, str]) -> Recorded:
    """One event, stored as line 1 of a batch of one."""
    return store_events(pd.DataFrame([event], index=[1]))


def store_events(raw: pd.DataFrame) -> Recorded:
    """Validate the events against the journey and store them, all in one transaction."""
    events = parse_events(raw, person_ref_formats())
    if UNREAD in raw:
        events["refusal"] = raw[UNREAD].where(raw[UNREAD].notna(), events["refusal"])
    target = engine_for(Settings().target_url)
    require_current_schema(target)
    with target.begin() as conn:
        advanced_to = lock_journey_clock(conn)
        case_refs = events["csa_case_ref"].dropna()
        lock_cases(conn, case_refs)
        nrp_refs = events["nrp_ref"].dropna()
        recorded = read_recorded_events(conn, case_refs, nrp_refs, [*EVENT_IDENTITY, "status"])
        journey = JourneySnapshot(
            advanced_to=None if advanced_to is None else pd.Timestamp(advanced_to),
            cases=read_case_states(conn, case_refs),
            known_nrps=read_known_nrps(conn, nrp_refs),
            pending=waiting_events(recorded),
            new_applications=new_applications_taken(recorded),
        )
        checked = validate_events(events, journey, rule_settings())
        again = already_recorded(checked, recorded)
        checked["refusal"] = checked["refusal"].where(~again, None)
        stored = operator_event_rows(checked[~again & ~refused_again(checked, recorded)])
        insert_operator_events(conn, stored, recorded_at=datetime.now(UTC))
        bump_versions(conn, stored.loc[stored["status"] == EventStatus.ACCEPTED, "csa_case_ref"].dropna())
    refused = checked["refusal"].notna()
    log.info(
        "events recorded",
        accepted=int((~refused & ~again).sum()),
        already_recorded=int(again.sum()),
        refused=int(refused.sum()),
        refused_answers_kept=int((stored["status"] == EventStatus.REFUSED).sum()),
        clock=None if advanced_to is None else advanced_to.isoformat(),
    )
    return Recorded(
        events=pd.DataFrame(
            {
                "event": raw["event"].fillna("").astype(str).str.strip(),
                "kind": checked["kind"],
                "reference": checked["csa_case_ref"].fillna(checked["nrp_ref"]),
                "refusal": checked["refusal"],
                "already_recorded": again,
            }
        )
    )
