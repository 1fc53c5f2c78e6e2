"""The journey's tables as comparable content, for tests that compare two runs."""

from __future__ import annotations

from sqlalchemy import select

from load.schema import (
    case_journey,
    closure_outcome,
    cms_arrears_instalment,
    cms_case,
    cms_unpaid_maintenance,
    journey_event,
    letter,
    write_off,
)


def journey_state(target) -> dict[str, list[tuple]]:
    """Every journey table's content without surrogate keys and run ids."""
    tables = {
        "closure_outcome": select(*[c for c in closure_outcome.c if c.name != "cms_case_id"]),
        "case_journey": select(case_journey),
        "write_off": select(write_off),
        "letter": select(*[c for c in letter.c if c.name not in ("letter_id",)]),
        "journey_event": select(*[c for c in journey_event.c if c.name not in ("event_id", "run_id")]),
        "cms_case": select(*[c for c in cms_case.c if c.name != "cms_case_id"]),
        "cms_unpaid_maintenance": select(
            cms_case.c.csa_case_ref,
            *[c for c in cms_unpaid_maintenance.c if c.name not in ("id", "cms_case_id")],
        ).select_from(cms_unpaid_maintenance.join(cms_case)),
        "cms_arrears_instalment": select(
            cms_case.c.csa_case_ref, cms_unpaid_maintenance.c.creditor,
            cms_arrears_instalment.c.instalment_no, cms_arrears_instalment.c.due_on,
            cms_arrears_instalment.c.amount_pence,
        ).select_from(cms_arrears_instalment.join(cms_unpaid_maintenance).join(cms_case)),
    }
    with target.connect() as conn:
        return {name: sorted(map(tuple, conn.execute(query).all()), key=repr) for name, query in tables.items()}
