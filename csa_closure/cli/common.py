"""What the command modules share: one rich console, progress bars, and short flow runs."""

from __future__ import annotations

from contextlib import AbstractContextManager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console()


class progress_bar:
    """A rich progress bar for a long command, used as ``with progress_bar(what, total) as bar``;
    ``bar(done)`` sets the running total, ``bar(done, total)`` the total too (a run that learns
    it as it goes)."""

    def __init__(self, description: str, total: int | None = None) -> None:
        self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TimeElapsedColumn(), console=console, transient=False)
        self._task = self._bar.add_task(description, total=total)

    def __enter__(self):
        self._bar.start()
        return self._update

    def __exit__(self, *exc) -> None:
        self._bar.stop()

    def _update(self, done: int, total: int | None = None) -> None:
        self._bar.update(self._task, completed=done, total=total)  # rich keeps a total given as None


def without_heartbeats() -> AbstractContextManager:
    """For a flow run of a second or two. Prefect's heartbeats watch for crashed runs every
    180 s; on so short a run they only make its end wait for the heartbeat thread's one-second
    sleep, half a second on average."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    return temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})
