"""The task runner of a flow run whose batches go to a Dask cluster (``flows.runners``): a
module of its own, so that only a run that uses a cluster loads Dask."""

from __future__ import annotations

import threading

from distributed import WorkerPlugin
from prefect_dask import DaskTaskRunner

from csa_closure.logs import configure_logging


class ClusterTaskRunner(DaskTaskRunner):
    """Prefect's Dask task runner, connecting at the first task it is given (a worker that
    rebuilds a task's flow context makes one too, and never connects), whose workers log as
    the engine does: its events in the run logs, personal data withheld."""

    on_cluster = True

    def __init__(self, address: str, **options) -> None:
        super().__init__(address=address, **options)
        self._connecting = threading.Lock()

    def submit(self, task, parameters, wait_for=None, dependencies=None):
        with self._connecting:  # a flow's lanes submit from several threads at once
            if self._client is None:
                self.client.register_plugin(EngineLogging(), name="csa-closure-logging")
        return super().submit(task, parameters, wait_for, dependencies)


class EngineLogging(WorkerPlugin):
    """Sets up the engine's logging on each worker of the cluster, as it joins."""

    def setup(self, worker) -> None:
        configure_logging()
