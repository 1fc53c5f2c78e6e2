"""The journey's tables as comparable content, for tests that compare two runs."""

from __future__ import annotations

from sqlalchemy import select

from load import schema


def journey_state(target) -> dict[str, list[tuple]]:
    """Every journey table's content without surrogate keys and run ids."""
    tables = {
        "closure_outcome": select(*[c for c in schema.closure_outcome.c if c.name != "cms_case_id"]),
        "case_journey": select(schema.case_journey),
        "write_off": select(schema.write_off),
        "letter": select(*[c for c in schema.letter.c if c.name not in ("letter_id",)]),
        "journey_event": select(*[c for c in schema.journey_event.c if c.name not in ("event_id", "run_id")]),
        "cms_case": select(*[c for c in schema.cms_case.c if c.name != "cms_case_id"]),
        "cms_unpaid_maintenance": select(
            schema.cms_case.c.csa_case_ref,
            *[c for c in schema.cms_unpaid_maintenance.c if c.name not in ("id", "cms_case_id")],
        ).select_from(schema.cms_unpaid_maintenance.join(schema.cms_case)),
        "cms_arrears_instalment": select(
            schema.cms_case.c.csa_case_ref, schema.cms_unpaid_maintenance.c.creditor,
            schema.cms_arrears_instalment.c.instalment_no, schema.cms_arrears_instalment.c.due_on,
            schema.cms_arrears_instalment.c.amount_pence,
        ).select_from(schema.cms_arrears_instalment.join(schema.cms_unpaid_maintenance).join(schema.cms_case)),
    }
    with target.connect() as conn:
        return {name: sorted(map(tuple, conn.execute(query).all()), key=repr) for name, query in tables.items()}


def completed_units(target) -> list[tuple]:
    """The units of work ``batch_run`` records as completed: batch, step and due date."""
    run = schema.batch_run.c
    with target.connect() as conn:
        rows = conn.execute(select(run.batch_id, run.step, run.due_on).where(run.state == "COMPLETED"))
        return sorted(map(tuple, rows))
