"""Faults while a run works: a caseworker records answers as an ``advance`` works the very
cases; the run loses its journey lock and another run takes the journey. Nothing may be lost,
nothing done twice, and the pennies must add up."""

from __future__ import annotations

from datetime import timedelta

from conftest import _pg_admin
from fault_world import (  # noqa: F401
    AS_OF,
    accepted,
    awaiting_choice,
    backend,
    invariant_breaks,
    released,
    run_interrupted,
    target_of,
    world,
)
from journey_tables import journey_state
from sqlalchemy import select, text

from csa_closure.db import engine_for
from csa_closure.locks import JOURNEY_LOCK_KEY
from flows.advance import advance
from load.schema import closure_outcome, letter, operator_event, write_off


def test_answers_recorded_while_the_deadline_unit_works_their_batch_are_applied_not_lapsed(
    world, target_of, tmp_path, cli
):
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
    accepted(cli("record", "choice", "--case", answered, "--choice", "write-off", "--received", AS_OF.isoformat()))
    responses = tmp_path / "responses.csv"
    responses.write_text(f"event,case,received\nextension,{extended},{AS_OF.isoformat()}\n")
    accepted(cli("import-responses", str(responses)))
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
