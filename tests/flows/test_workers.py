"""A pool's worker process ends with the flow process that started it, however that one ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

FLOW_PROCESS = """
import os, sys, time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from flows.workers import configure_worker

if __name__ == "__main__":
    pool = ProcessPoolExecutor(1, mp_context=get_context("spawn"), initializer=configure_worker)
    print(pool.submit(os.getpid).result(), flush=True)
    time.sleep(600)
"""


def alive(pid: int) -> bool:
    """Running, or sleeping: not gone, and not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_worker_ends_when_its_flow_process_is_killed(tmp_path):
    script = tmp_path / "flow_process.py"
    script.write_text(FLOW_PROCESS)
    flow_process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    worker = int(flow_process.stdout.readline())
    assert alive(worker)

    flow_process.send_signal(signal.SIGKILL)
    flow_process.wait()
    deadline = time.monotonic() + 30
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    try:
        assert not alive(worker), "the worker outlived its flow process"
    finally:
        if alive(worker):
            os.kill(worker, signal.SIGKILL)
