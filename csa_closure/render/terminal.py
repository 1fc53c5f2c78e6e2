"""Tables for the terminal (rich), and the same tables as plain text for a file."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TypeVar

from rich.console import Console, RenderableType
from rich.measure import Measurement

Model = TypeVar("Model")


def print_whole(to: Console, table: RenderableType) -> None:
    """Print a table at its natural width, past the terminal's if need be: squeezed to fit, rich
    would cut amounts short ('£7,91…'), and a cut amount misleads."""
    natural = Measurement.get(to, to.options.update_width(1_000), table).maximum
    terminal = to.width
    to.width = max(terminal, natural)
    try:
        to.print(table)
    finally:
        to.width = terminal


def as_text(print_tables: Callable[[Model, Console], None], model: Model) -> str:
    """What ``print_tables`` shows, as plain text for a file: no colour codes, no amount cut short."""
    recorder = Console(record=True, width=200, file=io.StringIO(), color_system=None)
    print_tables(model, recorder)
    return recorder.export_text()
