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

from prefect.context import FlowRunContext
from prefect.task_runners import TaskRunner

from csa_closure.settings import Settings


class LocalOrCluster(TaskRunner):
    """A flow's task runner: at the start of each run, ``local``'s, or the cluster's when
    ``CSA_DASK_ADDRESS`` is set. Prefect runs a flow's tasks on the runner ``duplicate`` gives."""

    def __init__(self, local: TaskRunner) -> None:
        super().__init__()
        self.local = local

    def duplicate(self) -> TaskRunner:
        address = Settings().dask_address
        if not address:
            return self.local.duplicate()
        from flows.cluster import ClusterTaskRunner  # Dask loads only in a run that uses it

        return ClusterTaskRunner(address=address)

    def submit(self, task, parameters, wait_for=None, dependencies=None):
        raise TypeError("a flow run's tasks go to the task runner chosen as it started (duplicate)")


def on_cluster() -> bool:
    """Whether this flow run's tasks run on a cluster."""
    context = FlowRunContext.get()
    return context is not None and getattr(context.task_runner, "on_cluster", False)
