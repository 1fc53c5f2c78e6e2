"""The extract flow's batch lanes, with batches that are plain functions: who works what, what
a failure does, and leaving the block early."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from extract.batches import BatchRange, KnownDuplicates
from flows.extraction import BatchLanes, OpenedScheme

NO_DUPLICATES = KnownDuplicates(frozenset(), frozenset())


def scheme(run: str, batches: int) -> OpenedScheme:
    return OpenedScheme(run[:4], run, date(2014, 6, 30), NO_DUPLICATES,
                        [BatchRange(number, None, None) for number in range(1, batches + 1)])


class Worked:
    """Records which lane ran which batch; a batch of ``fails`` raises."""

    def __init__(self, fails: frozenset[tuple[str, int]] = frozenset()) -> None:
        self.by = []
        self._fails = fails
        self._lock = threading.Lock()

    def lane(self, name: str):
        def run(opened: OpenedScheme, batch: BatchRange) -> int:
            with self._lock:
                self.by.append((name, opened.run, batch.number))
            if (opened.run, batch.number) in self._fails:
                raise RuntimeError(f"batch {batch.number} of {opened.run} failed")
            return 10 * batch.number
        return run


def test_every_batch_of_every_scheme_is_worked_once_and_counted_by_run():
    worked = Worked()
    with BatchLanes(2, run_pooled=worked.lane("pool"), run_here=worked.lane("flow")) as lanes:
        lanes.put(scheme("1993-20140630", 3))
        lanes.put(scheme("2003-20140630", 5))
        cases_read = lanes.work_until_done()
    assert sorted((run, number) for _, run, number in worked.by) == sorted(
        [("1993-20140630", n) for n in range(1, 4)] + [("2003-20140630", n) for n in range(1, 6)]
    )
    assert cases_read == {"1993-20140630": 60, "2003-20140630": 150}


def test_without_a_pool_the_flow_works_every_batch_itself():
    worked = Worked()
    with BatchLanes(0, run_pooled=worked.lane("pool"), run_here=worked.lane("flow")) as lanes:
        lanes.put(scheme("2003-20140630", 2))
        assert lanes.work_until_done() == {"2003-20140630": 30}
    assert {lane for lane, _, _ in worked.by} == {"flow"}


def test_a_failed_batch_does_not_stop_the_others_and_fails_the_lanes_once_all_are_done():
    worked = Worked(fails=frozenset({("2003-20140630", 2)}))
    with pytest.raises(RuntimeError, match="batch 2 of 2003-20140630 failed"):
        with BatchLanes(1, run_pooled=worked.lane("pool"), run_here=worked.lane("flow")) as lanes:
            lanes.put(scheme("2003-20140630", 6))
            lanes.work_until_done()
    assert sorted(number for _, _, number in worked.by) == [1, 2, 3, 4, 5, 6]


def test_leaving_early_stops_a_pool_lane_that_waits_for_the_next_scheme():
    """The first scheme's one batch is done and the pool's lane waits for more when opening
    the next scheme fails: the block ends with that error instead of waiting for ever."""
    worked = Worked()
    batch_done = threading.Event()

    def pooled(opened: OpenedScheme, batch: BatchRange) -> int:
        cases = worked.lane("pool")(opened, batch)
        batch_done.set()
        return cases

    raised: list[BaseException] = []

    def extract() -> None:
        try:
            with BatchLanes(1, run_pooled=pooled, run_here=worked.lane("flow")) as lanes:
                lanes.put(scheme("1993-20140630", 1))
                assert batch_done.wait(10)
                raise LookupError("no extract date for 2003")
        except LookupError as error:
            raised.append(error)

    flow = threading.Thread(target=extract, daemon=True)
    flow.start()
    flow.join(timeout=10)
    assert not flow.is_alive(), "the block waited for a lane that waits for batches"
    assert [str(error) for error in raised] == ["no extract date for 2003"]
    assert worked.by == [("pool", "1993-20140630", 1)]
