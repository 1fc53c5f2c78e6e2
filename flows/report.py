"""The report flow: read the target's grouped figures and assemble the report's model.

It only reads, so it records no engine run and changes nothing; the CLI renders the model.
"""

from __future__ import annotations

from prefect import flow
from prefect.runtime import flow_run
from sqlalchemy import Engine

from csa_closure.db import engine_for
from csa_closure.logs import get_logger
from csa_closure.refusal import Refusal
from csa_closure.service.reconcile import money_totals
from csa_closure.settings import Settings
from load import report as reads
from load.journey import advanced_to
from load.migrate import require_current_schema
from transform.report import Report, ReportRows, build_report

log = get_logger("report")


def checked_target(tranche_id: str | None) -> Engine:
    """The target, refused if ``init`` has not brought it up to date or the tranche is unknown.
    The CLI calls it before the flow starts, so a mistyped tranche is one line, not a failed run."""
    target = engine_for(Settings().target_url)
    require_current_schema(target)
    if tranche_id:
        with target.connect() as conn:
            if not reads.tranche_known(conn, tranche_id):
                raise Refusal(f"unknown tranche {tranche_id}")
    return target


def build_report_model(target: Engine, tranche_id: str | None) -> Report:
    """Every figure of the report, read in one snapshot, as the report's model."""
    with reads.one_snapshot(target) as conn:
        rows = ReportRows(
            tranches=reads.tranches(conn, tranche_id),
            states=reads.cases_by_state(conn, tranche_id),
            transfers=reads.transfers(conn, tranche_id),
            write_offs=reads.write_offs(conn, tranche_id),
            pending=reads.pending(conn, tranche_id),
            holds=reads.holds(conn, tranche_id),
            letters=reads.letters(conn, tranche_id),
            quarantine=reads.quarantined_records(conn),
            held_cases=reads.held_cases(conn),
            reconciliation=money_totals(conn, tranche_id),
            failed_units=reads.failed_units(conn, tranche_id),
            unstarted=reads.unstarted_cases(conn, tranche_id),
            runs=reads.latest_runs(conn),
        )
        clock = advanced_to(conn)
    return build_report(rows, tranche_id, clock)


@flow(name="report", flow_run_name=lambda: f"report-{flow_run.parameters.get('tranche_id') or 'all'}")
def report(tranche_id: str | None = None) -> Report:
    """The report of every tranche, or of one."""
    model = build_report_model(checked_target(tranche_id), tranche_id)
    log.info("report built", tranche_id=tranche_id, tranches=len(model.progress), cases=model.totals.cases,
             reconciliation=model.totals.status)
    return model
