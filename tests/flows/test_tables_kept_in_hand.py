"""The target's vacuum and analyze beside the journey's passes: the next pass does not wait for a
round, rounds do not pile up, the block waits for the last and works the one owed, and a failed
round fails the run."""

from __future__ import annotations

import threading
import time

import pytest

import flows.context
from flows.context import TablesKeptInHand


class Rounds:
    """A stand-in for ``maintain_tables`` that holds each round until it is let go."""

    def __init__(self, fails: bool = False) -> None:
        self.started, self.finished = 0, 0
        self.go = threading.Event()
        self._fails = fails

    def __call__(self, target) -> list[str]:
        self.started += 1
        assert self.go.wait(10), "the round was never let go"
        self.finished += 1
        if self._fails:
            raise RuntimeError("VACUUM failed")
        return []


def test_a_pass_goes_on_while_a_round_works_and_rounds_do_not_pile_up(monkeypatch):
    rounds = Rounds()
    monkeypatch.setattr(flows.context, "maintain_tables", rounds)
    with TablesKeptInHand(target=None) as tables:
        tables.after_pass()
        tables.after_pass()  # the first round still works: no second one beside it
        assert rounds.finished == 0  # the passes did not wait for it
        assert rounds.started <= 1
        rounds.go.set()
    assert (rounds.started, rounds.finished) == (2, 2)  # the block waited for it, then worked the one owed


def test_a_round_after_the_last_one_finished_starts_again(monkeypatch):
    rounds = Rounds()
    rounds.go.set()
    monkeypatch.setattr(flows.context, "maintain_tables", rounds)
    with TablesKeptInHand(target=None) as tables:
        for passes in range(1, 4):
            tables.after_pass()
            deadline = time.monotonic() + 10
            while rounds.finished < passes and time.monotonic() < deadline:
                time.sleep(0.01)
    assert rounds.finished == 3


def test_a_failed_round_fails_the_run(monkeypatch):
    rounds = Rounds(fails=True)
    rounds.go.set()
    monkeypatch.setattr(flows.context, "maintain_tables", rounds)
    with pytest.raises(RuntimeError, match="VACUUM failed"), TablesKeptInHand(target=None) as tables:
        tables.after_pass()
