"""Where a pass's units of work run: with several large batches, the flow's process and the pool's
workers each take a share, so every core works one; otherwise the flow's own task runner."""

from __future__ import annotations

import os

import pytest
from prefect import flow, task
from prefect.task_runners import ThreadPoolTaskRunner

from csa_closure.settings import RuleSettings
from flows.advance import UnitRunner
from flows.workers import POOL_WORKERS


@task
def process_of(unit: int) -> int:
    """The process a unit ran in."""
    return os.getpid()


@flow(task_runner=ThreadPoolTaskRunner(max_workers=2))
def one_pass(units: int, batch_size: int) -> list[int]:
    with UnitRunner(RuleSettings(batch_size=batch_size)) as runner:
        futures = runner.submit_pass([(process_of, {"unit": unit}) for unit in range(units)])
        return [future.result() for future in futures]


def test_a_pass_of_large_batches_is_shared_by_the_flows_process_and_the_pool(prefect_harness, monkeypatch):
    monkeypatch.setenv("CSA_POOL_FROM_BATCH_CASES", "1000")
    units = 2 * (POOL_WORKERS + 1)
    processes = one_pass(units, batch_size=5_000)
    here = [unit for unit, pid in enumerate(processes) if pid == os.getpid()]
    assert here == list(range(0, units, POOL_WORKERS + 1))  # the flow's process takes one unit in turn
    assert len(set(processes) - {os.getpid()}) >= 1  # the pool's workers the others


@pytest.mark.parametrize(("units", "batch_size"), [(1, 5_000), (3, 50)])
def test_one_unit_or_small_batches_stay_in_the_flows_process(prefect_harness, monkeypatch, units, batch_size):
    monkeypatch.setenv("CSA_POOL_FROM_BATCH_CASES", "1000")
    assert one_pass(units, batch_size) == [os.getpid()] * units
