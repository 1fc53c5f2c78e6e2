"""The dispatch-letters flow: every pending letter into one print batch, with its manifest.

A print batch is claimed in the target first (its id and letters, state ``CLAIMED``), then its
file is written under that id and published (a temporary name renamed into place, the manifest
after it), and only then are its letters marked ``DISPATCHED``. A dispatch interrupted anywhere
is finished by the next one, which writes the same batch again under the same id, to the same
bytes while legacy holds the same names and addresses: whatever the point of the kill, a letter
is in at most one print file. Leftover ``.part`` files are removed; print files are readable by
their owner and group only.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from uuid import uuid4

import pandas as pd
from prefect import flow

from csa_closure.db import engine_for
from csa_closure.locks import dispatch_lock
from csa_closure.logs import get_logger
from csa_closure.render.letters import PartyReader, render_letters
from csa_closure.settings import Settings
from extract.parties import read_parties
from flows.context import current_run_id, show_crashed_on_dashboard
from load.letters import claim_pending, claimed_batches, claimed_letters, mark_dispatched
from load.migrate import require_current_schema

SEPARATOR = "\f\n"
"""Between letters: a form feed no letter's text can hold (values print on one line)."""
FILE_MODE = 0o640
PART = ".part"
log = get_logger("letters")


@dataclass
class WrittenLetters:
    """What went into a print file: its letters' ids and hashes, counts and the file's hash."""

    letter_ids: list[int] = field(default_factory=list)
    sha256s: list[str] = field(default_factory=list)
    undeliverable_ids: list[int] = field(default_factory=list)
    """Letters not printed: their recipient has died or has no address now."""
    per_template: Counter[str] = field(default_factory=Counter)
    sha256: str = ""


def new_batch_id(claimed_at: datetime) -> str:
    """'PB' + UTC time + a random part: readable, sortable and unique."""
    return f"PB{claimed_at:%Y%m%dT%H%M%SZ}-{uuid4().hex[:8]}"


def write_letters(chunks: Iterable[pd.DataFrame], out, read_parties: PartyReader) -> WrittenLetters:
    """Render letters chunk by chunk into ``out`` (a binary file), each under a header line,
    separated by ``SEPARATOR``, with the parties they name read chunk by chunk; the bytes are
    hashed as they are written, and each letter's text on its own."""
    written = WrittenLetters()
    digest = hashlib.sha256()
    for chunk in chunks:
        for letter, text in zip(chunk.itertuples(index=False), render_letters(chunk, read_parties)):
            if text is None:
                written.undeliverable_ids.append(int(letter.letter_id))
                continue
            body = (text if text.endswith("\n") else text + "\n").encode()
            header = f"letter {letter.letter_id} | {letter.template} | {letter.recipient_role}\n"
            data = (SEPARATOR if written.letter_ids else "").encode() + header.encode() + body
            out.write(data)
            digest.update(data)
            written.letter_ids.append(int(letter.letter_id))
            written.sha256s.append(hashlib.sha256(body).hexdigest())
            written.per_template[letter.template] += 1
    written.sha256 = digest.hexdigest()
    return written


def batch_manifest(batch: dict, written: WrittenLetters) -> dict:
    """The manifest the print house checks a batch file against."""
    return {
        "print_batch": batch["print_batch"],
        "created_at": _utc(batch["claimed_at"]).isoformat(),
        "letters": len(written.letter_ids),
        "per_template": dict(sorted(written.per_template.items())),
        "file": f"{batch['print_batch']}.txt",
        "sha256": written.sha256,
        "first_letter_id": written.letter_ids[0] if written.letter_ids else None,
        "last_letter_id": written.letter_ids[-1] if written.letter_ids else None,
        "undeliverable": len(written.undeliverable_ids),
    }


def publish_file(path: Path, write) -> None:
    """Write ``path`` through a ``.part`` file (owner and group may read it), flushed to disk,
    then renamed into place: a reader sees the whole file or none."""
    staged = path.with_name(path.name + PART)
    descriptor = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(descriptor, FILE_MODE)
    with os.fdopen(descriptor, "wb") as out:
        write(out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(staged, path)


def remove_leftovers(out_dir: Path) -> None:
    """``.part`` files an interrupted dispatch left: never published, never printed."""
    for leftover in out_dir.glob(f"PB*{PART}"):
        leftover.unlink(missing_ok=True)


def write_batch(target, legacy, out_dir: Path, batch: dict) -> dict:
    """Write a claimed batch's print file and manifest, then mark its letters dispatched; the
    names and addresses are read from ``legacy`` as the file is written."""
    batch_id = batch["print_batch"]
    text_path, manifest_path = out_dir / f"{batch_id}.txt", out_dir / f"{batch_id}.manifest.json"
    written = WrittenLetters()

    def write_text(out) -> None:
        nonlocal written
        with target.connect() as conn:
            written = write_letters(claimed_letters(conn, batch_id), out, partial(read_parties, legacy))

    publish_file(text_path, write_text)
    manifest = batch_manifest(batch, written)
    publish_file(manifest_path, lambda out: out.write((json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()))
    _sync_folder(out_dir)
    rendered = pd.DataFrame({"letter_id": written.letter_ids, "rendered_sha256": written.sha256s})
    with target.begin() as conn:
        mark_dispatched(conn, batch_id, rendered, written.undeliverable_ids, written.sha256, datetime.now(UTC))
    log.info(
        "letters dispatched",
        print_batch=batch_id,
        letters=manifest["letters"],
        **{f"letters_{name.lower()}": count for name, count in manifest["per_template"].items()},
    )
    return manifest | {"path": str(text_path), "manifest_path": str(manifest_path)}


@flow(name="dispatch-letters", flow_run_name=lambda: f"dispatch-letters-{datetime.now(UTC):%Y-%m-%d}")
def dispatch_letters(out_dir: Path) -> list[dict]:
    """Write every PENDING letter into one print batch in ``out_dir`` and mark them
    DISPATCHED; UNDELIVERABLE letters are never sent. A batch an interrupted dispatch claimed
    is finished first, under its own id. Returns each batch's manifest and paths."""
    settings = Settings()
    target, legacy = engine_for(settings.target_url), engine_for(settings.legacy_url, legacy=True)
    require_current_schema(target)
    run_id = current_run_id()
    with dispatch_lock(target, run_id) as lease:
        show_crashed_on_dashboard(target, [], lease, run_id)
        out_dir.mkdir(parents=True, exist_ok=True)
        remove_leftovers(out_dir)
        with target.connect() as conn:
            unfinished = claimed_batches(conn)
        for batch in unfinished:
            log.info("finishing an interrupted print batch", print_batch=batch["print_batch"])
        claimed_at = datetime.now(UTC)
        batch_id = new_batch_id(claimed_at)
        with target.begin() as conn:
            claimed = claim_pending(conn, batch_id, claimed_at)
        batches = unfinished + ([{"print_batch": batch_id, "claimed_at": claimed_at}] if claimed else [])
        if not batches:
            log.info("nothing to dispatch")
        return [write_batch(target, legacy, out_dir, batch) for batch in batches]


def _utc(moment: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _sync_folder(folder: Path) -> None:
    """The renames themselves made durable."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
