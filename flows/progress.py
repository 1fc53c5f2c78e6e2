"""How far a long flow run has got, for whoever runs it in this process (the command line's
progress bars), set around the call.

Apart from the flows: a flow run's function travels to the extract's batch workers together with
the globals it names, and a context variable cannot travel; a module can (by name).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

extract_batches: ContextVar[Callable[[int, int], None] | None] = ContextVar("extract_batches", default=None)
"""Told the batches done and the batches in all as each batch of an extract is done."""
