"""Faults while a run works: a caseworker records answers as an ``advance`` works the very
cases; the run loses its journey lock and another run takes the journey; the database drops a
connection mid-transaction; a transient fault strikes just after a unit commits. Nothing may be
lost, nothing done twice, and the pennies must add up."""

from __future__ import annotations

from datetime import date, timedelta

from conftest import _pg_admin
from fault_world import AS_OF, backend, invariant_breaks, released, run_interrupted, target_of, world  # noqa: F401
from journey_tables import journey_state
from sqlalchemy import func, select, text
from typer.testing import CliRunner

import csa_closure.service.journey
import flows.advance
from csa_closure.cli import app
from csa_closure.db import engine_for
from csa_closure.locks import JOURNEY_LOCK_KEY
from csa_closure.retry import TransientFault
from csa_closure.service.reconcile import money_totals
from flows.advance import advance
from load.schema import batch_run, case_journey, closure_outcome, letter, operator_event, write_off


def cli(*args: str) -> None:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (result.output, repr(result.exception))


def awaiting_choice(target, on_or_after: date) -> list[tuple[str, date, str]]:
    """Cases awaiting an answer with a deadline on or after a day: (case, deadline, batch)."""
    with target.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(closure_outcome.c.csa_case_ref, closure_outcome.c.choice_deadline, closure_outcome.c.batch_id)
                .where(
                    closure_outcome.c.journey_state == "AWAITING_CHOICE",
                    closure_outcome.c.choice_deadline >= on_or_after,
                )
                .order_by(closure_outcome.c.choice_deadline, closure_outcome.c.batch_id, closure_outcome.c.csa_case_ref)
            )
        ]


def test_answers_recorded_while_the_deadline_unit_works_their_batch_are_applied_not_lapsed(world, target_of, tmp_path):
    """Defect 3: the deadline unit read its cases, an answer and an extension were accepted for
    two of them, then the unit wrote them off as not answered."""
    url = target_of(world.advanced, "answers")
    target = engine_for(url)
    (answered, deadline, batch), *rest = awaiting_choice(target, AS_OF)
    extended = next(case for case, due, of in rest if (due, of) == (deadline, batch))
    lapse_day = deadline + timedelta(days=1)
    run = run_interrupted(
        url,
        world,
        "unit-before-write",
        "advance",
        "--as-of",
        lapse_day.isoformat(),
        case=answered,
        action="pause",
        folder=tmp_path,
    )
    cli("record", "choice", "--case", answered, "--choice", "write-off", "--received", AS_OF.isoformat())
    responses = tmp_path / "responses.csv"
    responses.write_text(f"event,case,received\nextension,{extended},{AS_OF.isoformat()}\n")
    cli("import-responses", str(responses))
    code, stderr = released(run, tmp_path)
    assert code == 0, stderr

    with target.connect() as conn:
        rows = {
            r.csa_case_ref: r
            for r in conn.execute(
                select(closure_outcome).where(closure_outcome.c.csa_case_ref.in_([answered, extended]))
            )
        }
        reasons = set(conn.execute(select(write_off.c.reason).where(write_off.c.csa_case_ref == answered)).scalars())
        letters = conn.execute(
            select(letter.c.template, letter.c.recipient_role).where(
                letter.c.csa_case_ref == answered, letter.c.journey_event == "CHOICE_OUTCOME"
            )
        ).all()
        statuses = set(
            conn.execute(
                select(operator_event.c.status).where(operator_event.c.csa_case_ref.in_([answered, extended]))
            ).scalars()
        )
    assert (rows[answered].journey_state, rows[answered].choice) == ("CLOSED", "WRITE_OFF")
    assert "PWC_DECLINED" in reasons and "NO_RESPONSE" not in reasons
    assert sorted(letters) == [("ARREARS_WRITTEN_OFF", "NRP"), ("ARREARS_WRITTEN_OFF", "PWC")]
    assert rows[extended].journey_state == "AWAITING_CHOICE"
    assert rows[extended].choice_deadline == deadline + timedelta(days=7)
    assert statuses == {"APPLIED"}
    assert invariant_breaks(target) == []


def take_the_lock_away(backend: str, url: str) -> None:
    """What an administrator or a cleaner does: the lock's session ended, its file removed."""
    if backend == "sqlite":
        engine_for(url).dispose()
        import pathlib

        pathlib.Path(url.removeprefix("sqlite:///") + ".journey.lock").unlink()
        return
    admin = _pg_admin()
    with admin.connect() as conn:
        ended = (
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                    "WHERE l.locktype = 'advisory' AND l.objid = :key AND d.datname = :name"
                ),
                {"key": JOURNEY_LOCK_KEY, "name": url.rsplit("/", 1)[1]},
            )
            .scalars()
            .all()
        )
    admin.dispose()
    assert ended == [True]


def test_a_run_that_lost_its_lock_commits_nothing_more_while_another_works_the_journey(world, target_of, tmp_path):
    """Defect 5: the lock's session was terminated; a second advance worked the same units and
    the first went on committing them too."""
    url = target_of(world.planned, "lock")
    run = run_interrupted(
        url, world, "unit-before-write", "advance", "--as-of", AS_OF.isoformat(), nth=3, action="pause", folder=tmp_path
    )
    take_the_lock_away(world.backend, url)
    advance(AS_OF)  # another run takes the journey, and finishes it
    code, stderr = released(run, tmp_path)
    assert code != 0 and "lock" in stderr

    target = engine_for(url)
    assert journey_state(target) == world.reference
    assert invariant_breaks(target) == []


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


def operators_journey(target) -> None:
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
    cli("record", "application", "--case", started, "--service", "direct-pay", "--received", "2014-07-07")
    cli("record", "new-application", "--nrp", unselected_nrp, "--pwc", "P000000001", "--received", "2014-07-07")
    advance(date(2014, 8, 12))
    (answered, *_), (extended, *_) = awaiting_choice(target, date(2014, 8, 12))[:2]
    cli("record", "choice", "--case", answered, "--choice", "collect", "--received", "2014-08-12")
    cli("record", "extension", "--case", extended, "--received", "2014-08-12")
    advance(AS_OF)


def test_a_transient_fault_just_after_each_kind_of_unit_commits_is_retried_without_doing_it_twice(
    world, target_of, monkeypatch
):
    """Defect 6: a retried selection selected again. Each kind of unit fails once just after its
    commit; Prefect's retry finds its work done."""
    operators_journey(engine_for(target_of(world.planned, "calm")))
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
    operators_journey(target)
    assert sorted(faulted) == sorted(STEPS)
    assert journey_state(target) == expected
    assert invariant_breaks(target) == []
    with target.connect() as conn:
        assert conn.execute(select(func.max(case_journey.c.version))).scalar_one() >= 1


def test_a_batch_corrupted_before_its_commit_fails_alone_and_loads_nothing(world, target_of, monkeypatch):
    """Reconciliation inside the unit's transaction: one penny wrong, and the batch fails whole."""
    target = engine_for(target_of(world.planned, "corrupted"))
    victim = {}
    write = csa_closure.service.journey.write_changes

    def write_then_corrupt(conn, changes, *args, **kwargs):
        """Write as usual, then add a penny to one write-off of the first deciding batch."""
        write(conn, changes, *args, **kwargs)
        if not victim and len(changes.write_offs):
            case_ref = changes.write_offs["case_ref"].iloc[0]
            victim.update(case_ref=case_ref, batch_id=changes.outcomes.set_index("case_ref").at[case_ref, "batch_id"])
            conn.execute(
                write_off.update()
                .where(write_off.c.csa_case_ref == case_ref)
                .values(amount_pence=write_off.c.amount_pence + 1)
            )

    monkeypatch.setattr(csa_closure.service.journey, "write_changes", write_then_corrupt)
    state = advance(AS_OF, return_state=True)
    assert state.is_failed()
    with target.connect() as conn:
        runs = conn.execute(select(batch_run.c.batch_id, batch_run.c.state, batch_run.c.last_error)).all()
        decided = conn.execute(
            select(func.count()).select_from(write_off).where(write_off.c.csa_case_ref == victim["case_ref"])
        ).scalar_one()
        totals = money_totals(conn)
    failed = [(batch, error) for batch, run_state, error in runs if run_state == "FAILED"]
    assert [batch for batch, _ in failed] == [victim["batch_id"]]
    assert f"case {victim['case_ref']}" in failed[0][1] and "reconciliation" in failed[0][1]
    assert sum(1 for _, run_state, _ in runs if run_state == "COMPLETED") > 10
    assert decided == 0  # the failed unit was rolled back whole: nothing of it loaded
    assert len(totals) and (totals["difference"] == 0).all()  # what did load reconciles


def test_units_worked_by_a_pool_of_processes_leave_what_threads_leave(world, target_of, monkeypatch):
    """A step's batches run in processes when they are large enough (here: any)."""
    monkeypatch.setenv("CSA_POOL_FROM_BATCH_CASES", "1")
    pools = []
    real_pool = flows.advance.process_pool
    monkeypatch.setattr(flows.advance, "process_pool", lambda: pools.append(real_pool()) or pools[-1])
    target = engine_for(target_of(world.planned, "pooled"))
    state = advance(AS_OF, return_state=True)
    assert state.is_completed(), state.message
    assert len(pools) == 1  # started once, for the run
    assert journey_state(target) == world.reference
    assert invariant_breaks(target) == []
