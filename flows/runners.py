"""Where a flow's batches run: on this machine, as the flow says, or on a Dask cluster.

``CSA_DASK_ADDRESS`` names the scheduler of a cluster. A flow run chooses as it starts (Prefect
enters a copy of the flow's task runner for each run), so the same flows, and their
deployments, run on whichever the environment of the process running them says. A task sent
to the cluster takes ids, dates and keys, never an engine: each worker builds its own from its
own ``CSA_*`` settings, which must be the flow's, rule settings included. A cluster needs
PostgreSQL for both databases: its workers on other machines cannot share a SQLite file, and
the settings refuse one (``Settings``).
"""

from __future__ import annotations

import threading

from distributed import WorkerPlugin
from prefect.context import FlowRunContext
from prefect.task_runners import TaskRunner
from prefect_dask import DaskTaskRunner

from csa_closure.logs import configure_logging
from csa_closure.settings import Settings


class LocalOrCluster(TaskRunner):
    """A flow's task runner: at the start of each run, ``local``'s, or the cluster's when
    ``CSA_DASK_ADDRESS`` is set. Prefect runs a flow's tasks on the runner ``duplicate`` gives."""

    def __init__(self, local: TaskRunner) -> None:
        super().__init__()
        self.local = local

    def duplicate(self) -> TaskRunner:
        address = Settings().dask_address
        return ClusterTaskRunner(address=address) if address else self.local.duplicate()

    def submit(self, task, parameters, wait_for=None, dependencies=None):
        raise TypeError("a flow run's tasks go to the task runner chosen as it started (duplicate)")


class ClusterTaskRunner(DaskTaskRunner):
    """Prefect's Dask task runner, connecting at the first task it is given (a worker that
    rebuilds a task's flow context makes one too, and never connects), whose workers log as
    the engine does: its events in the run logs, personal data withheld."""

    def __init__(self, address: str, **options) -> None:
        super().__init__(address=address, **options)
        self._connecting = threading.Lock()

    def submit(self, task, parameters, wait_for=None, dependencies=None):
        with self._connecting:  # a flow's lanes submit from several threads at once
            if self._client is None:
                try:
                    client = self.client
                except OSError as error:
                    raise ClusterUnreachable(f"the Dask cluster (CSA_DASK_ADDRESS) does not answer: {error}") from None
                client.register_plugin(EngineLogging(), name="csa-closure-logging")
        return super().submit(task, parameters, wait_for, dependencies)


class ClusterUnreachable(Exception):
    """No scheduler answers at ``CSA_DASK_ADDRESS``: the command fails in one line, not with
    distributed's traceback; its batches were not sent, and a rerun takes them up."""


class EngineLogging(WorkerPlugin):
    """Sets up the engine's logging on each worker of the cluster, as it joins."""

    def setup(self, worker) -> None:
        configure_logging()


def on_cluster() -> bool:
    """Whether this flow run's tasks run on a cluster."""
    context = FlowRunContext.get()
    return context is not None and isinstance(context.task_runner, DaskTaskRunner)
