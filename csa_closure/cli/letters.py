"""``csa-closure dispatch-letters``: every pending letter into one print batch (CONTRACTS.md 4)."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.table import Table

from csa_closure.cli.common import console
from csa_closure.refusal import Refusal

app = typer.Typer()


@app.command("dispatch-letters")
def dispatch_letters_command(
    out: Path | None = typer.Option(
        None, "--out", help="folder for the print batch; default CSA_LETTERS_DIR"
    ),
) -> None:
    """Write every pending letter into one print batch with a manifest."""
    from csa_closure.settings import Settings
    from flows.letters import dispatch_letters

    folder = writable_folder(out or Settings().letters_dir)
    batches = dispatch_letters(folder)
    if not batches:
        console.print("no pending letters: nothing dispatched")
        return
    table = Table("print batch", "template", "letters", title="dispatch letters")
    for batch in batches:
        for template, count in batch["per_template"].items():
            table.add_row(batch["print_batch"], template, f"{count:,}")
        table.add_row(batch["print_batch"], "all", f"{batch['letters']:,}", style="bold")
    console.print(table)
    for batch in batches:
        console.print(f"written {batch['path']} and {batch['manifest_path']}")
        if batch["undeliverable"]:
            console.print(
                f"{batch['undeliverable']:,} letter(s) of {batch['print_batch']} not sent: their recipient has died "
                "or has no address now (recorded UNDELIVERABLE)"
            )


def writable_folder(folder: Path) -> Path:
    """``--out`` as a folder the engine can write into or create, or a refusal; checked without
    creating anything, since a refused command changes nothing (the flow creates it)."""
    existing = next(path for path in (folder.absolute(), *folder.absolute().parents) if path.exists())
    if existing == folder.absolute():
        if not folder.is_dir():
            raise Refusal(f"--out {folder} is not a folder")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise Refusal(f"--out {folder} is not writable")
        return folder
    if not existing.is_dir():
        raise Refusal(f"--out {folder} cannot be created: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise Refusal(f"--out {folder} cannot be created: {existing} is not writable")
    return folder
