"""Prefect artifacts with stable keys, so the dashboard always shows the latest figures:
per tranche a table (cases by state, money by outcome) and its reconciliation in markdown;
one holds-and-quarantine table; and a progress artifact while a long run works."""

from __future__ import annotations

from datetime import date

from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from sqlalchemy import Engine

from csa_closure.render.report import (
    holds_section,
    money_section,
    progress_section,
    quarantine_section,
    reconciliation_markdown,
    section_records,
)
from flows.report import build_report_model
from load import report as reads
from transform.report import hold_summary, quarantine_by_check


def artifact_key(*parts: str) -> str:
    """Artifact keys allow lower-case letters, digits and dashes only."""
    return "-".join(part.lower() for part in parts)


def one_table(*parts: list[dict[str, str]]) -> list[dict[str, str]]:
    """Rows of several sections under every column any of them has: the dashboard takes a
    table's columns from its first row."""
    columns = list(dict.fromkeys(column for rows in parts for row in rows for column in row))
    return [{column: row.get(column, "") for column in columns} for rows in parts for row in rows]


def publish_tranche(target: Engine, tranche_id: str) -> None:
    """The tranche's table (cases by state, money by outcome) and its reconciliation."""
    report = build_report_model(target, tranche_id)
    status = report.totals.status
    create_table_artifact(
        key=artifact_key("tranche", tranche_id),
        table=one_table(section_records(progress_section(report)), section_records(money_section(report))),
        description=f"Tranche {tranche_id}: cases by journey state and money by outcome",
    )
    create_markdown_artifact(
        key=artifact_key("tranche", tranche_id, "reconciliation"),
        markdown=reconciliation_markdown(report),
        description=f"Tranche {tranche_id} reconciled to the penny: {status}",
    )


def publish_holds_and_quarantine(target: Engine) -> None:
    """Cases on hold by reason and quarantined records: read on their own, not the whole report."""
    with reads.one_snapshot(target) as conn:
        holds = hold_summary(reads.holds(conn, None))
        quarantine = quarantine_section(
            quarantine_by_check(reads.quarantined_records(conn)), reads.held_cases(conn)
        )
    create_table_artifact(
        key="holds-and-quarantine",
        table=one_table(section_records(holds_section(holds)), section_records(quarantine)),
        description="Cases on hold by reason, and quarantined records by table and check",
    )


class RunProgress:
    """A progress artifact for a long run: the share of the days between its start and its
    as-of date that it has worked through."""

    def __init__(self, first_day: date, as_of: date) -> None:
        self.first_day, self.as_of = first_day, as_of
        self.artifact_id = create_progress_artifact(
            progress=0.0, key=artifact_key("progress", f"{as_of:%Y%m%d}"),
            description=f"Working through the journey to {as_of:%Y-%m-%d}",
        )

    def reached(self, day: date) -> None:
        span = (self.as_of - self.first_day).days
        done = min(max((day - self.first_day).days, 0), span)
        update_progress_artifact(self.artifact_id, progress=100.0 * done / span if span else 100.0)
