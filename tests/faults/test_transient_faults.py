"""Transient faults: the database drops a connection mid-transaction, or a fault strikes just
after a unit commits. Prefect's retries must reach the uninterrupted state, doing nothing twice."""

from __future__ import annotations

from datetime import date

from conftest import _pg_admin
from fault_world import AS_OF, accepted, awaiting_choice, backend, invariant_breaks, target_of, world  # noqa: F401
from journey_tables import journey_state
from sqlalchemy import func, select, text

import csa_closure.service.journey
from csa_closure.db import engine_for
from csa_closure.retry import TransientFault
from flows.advance import advance
from load.schema import case_journey, closure_outcome


def test_a_connection_dropped_mid_transaction_is_retried_to_the_uninterrupted_state(world, target_of, monkeypatch):
    url = target_of(world.planned, "dropped")
    reconcile = csa_closure.service.journey.require_reconciled
    dropped = []

    def drop_then_reconcile(conn, batch_id, case_refs):
        if len(dropped) < 2 and batch_id.endswith("B001"):  # two units lose their connection
            dropped.append(batch_id)
            if world.backend == "sqlite":
                conn.connection.driver_connection.close()
            else:
                pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
                admin = _pg_admin()
                with admin.connect() as other:
                    other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                admin.dispose()
        return reconcile(conn, batch_id, case_refs)

    monkeypatch.setattr(csa_closure.service.journey, "require_reconciled", drop_then_reconcile)
    state = advance(AS_OF, return_state=True)
    assert state.is_completed(), state.message
    assert len(dropped) == 2
    target = engine_for(url)
    assert journey_state(target) == world.reference
    assert invariant_breaks(target) == []


STEPS = [
    "select_tranche",
    "start_batch",
    "remind_batch",
    "end_batch",
    "lapse_batch",
    "apply_batch_events",
    "close_reactively",
]


def operators_journey(target, cli) -> None:
    """The journey with every kind of unit: events and a reactive closure as well."""
    advance(date(2014, 7, 7))
    with target.connect() as conn:
        started = (
            conn.execute(
                select(closure_outcome.c.csa_case_ref)
                .where(closure_outcome.c.liability_end_date.isnot(None))
                .order_by(closure_outcome.c.csa_case_ref)
            )
            .scalars()
            .first()
        )
        unselected_nrp = (
            conn.execute(
                text(
                    "SELECT nrp_ref FROM legacy_case WHERE status = 'LIVE' AND case_ref NOT IN "
                    "(SELECT csa_case_ref FROM selection) ORDER BY case_ref"
                )
            )
            .scalars()
            .first()
        )
    accepted(cli("record", "application", "--case", started, "--service", "direct-pay", "--received", "2014-07-07"))
    accepted(cli("record", "new-application", "--nrp", unselected_nrp, "--pwc", "P000000001",
                 "--received", "2014-07-07"))
    advance(date(2014, 8, 12))
    (answered, *_), (extended, *_) = awaiting_choice(target, date(2014, 8, 12))[:2]
    accepted(cli("record", "choice", "--case", answered, "--choice", "collect", "--received", "2014-08-12"))
    accepted(cli("record", "extension", "--case", extended, "--received", "2014-08-12"))
    advance(AS_OF)


def test_a_transient_fault_just_after_each_kind_of_unit_commits_is_retried_without_doing_it_twice(
    world, target_of, monkeypatch, cli
):
    """Defect 6: a retried selection selected again. Each kind of unit fails once just after its
    commit; Prefect's retry finds its work done."""
    operators_journey(engine_for(target_of(world.planned, "calm")), cli)
    expected = journey_state(engine_for(world.made[-1]))

    faulted = []
    for name in STEPS:
        real = getattr(csa_closure.service.journey, name)

        def commit_then_fault(*args, real=real, name=name, **kwargs):
            result = real(*args, **kwargs)
            if name not in faulted:
                faulted.append(name)
                raise TransientFault(f"connection lost after {name} committed")
            return result

        monkeypatch.setattr(csa_closure.service.journey, name, commit_then_fault)
    target = engine_for(target_of(world.planned, "faulted"))
    operators_journey(target, cli)
    assert sorted(faulted) == sorted(STEPS)
    assert journey_state(target) == expected
    assert invariant_breaks(target) == []
    with target.connect() as conn:
        assert conn.execute(select(func.max(case_journey.c.version))).scalar_one() >= 1
