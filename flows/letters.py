"""The dispatch-letters flow: every pending letter into one print batch, with its manifest.

The print file and manifest are written under temporary names, renamed into place, and only
then are the letters marked DISPATCHED, in the same transaction that read them: a crash
leaves either no batch at all or a complete one, never a letter marked without a file, and
the guarded UPDATE never marks a letter twice.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pandas as pd
from prefect import flow

from csa_closure.db import engine_for
from csa_closure.logs import get_logger
from csa_closure.settings import Settings
from load.letters import mark_dispatched, pending_letters
from load.migrate import require_current_schema

FORM_FEED = "\f"
log = get_logger("letters")


class DispatchConflict(RuntimeError):
    """Another dispatch marked some of these letters first; this batch was abandoned."""


@dataclass(frozen=True)
class WrittenLetters:
    """What went into a print file: its letters in print order, counts and content hash."""

    letter_ids: list[int]
    per_template: dict[str, int]
    sha256: str


def print_batch_id(created_at: datetime, letter_ids: list[int]) -> str:
    """'PB' + UTC time + a short hash of the letters: readable, sortable and unique, since no
    letter is ever in two batches."""
    digest = hashlib.sha256(",".join(map(str, letter_ids)).encode()).hexdigest()[:8]
    return f"PB{created_at:%Y%m%dT%H%M%SZ}-{digest}"


def write_letters(chunks: Iterable[pd.DataFrame], path: Path) -> WrittenLetters:
    """Stream letters into ``path``, each under a header line, separated by form-feed lines;
    the bytes are hashed as they are written."""
    digest = hashlib.sha256()
    letter_ids: list[int] = []
    per_template: Counter[str] = Counter()
    with path.open("wb") as out:
        for chunk in chunks:
            for letter in chunk.itertuples(index=False):
                separator = FORM_FEED + "\n" if letter_ids else ""
                header = f"letter {letter.letter_id} | {letter.template} | {letter.recipient_role}"
                body = letter.body if letter.body.endswith("\n") else letter.body + "\n"
                data = f"{separator}{header}\n{body}".encode()
                out.write(data)
                digest.update(data)
                letter_ids.append(int(letter.letter_id))
                per_template[letter.template] += 1
        out.flush()
        os.fsync(out.fileno())
    return WrittenLetters(letter_ids, dict(sorted(per_template.items())), digest.hexdigest())


def batch_manifest(print_batch: str, created_at: datetime, written: WrittenLetters) -> dict:
    """The manifest the print house checks a batch file against."""
    return {
        "print_batch": print_batch,
        "created_at": created_at.isoformat(),
        "letters": len(written.letter_ids),
        "per_template": written.per_template,
        "file": f"{print_batch}.txt",
        "sha256": written.sha256,
        "first_letter_id": written.letter_ids[0],
        "last_letter_id": written.letter_ids[-1],
    }


def batch_paths(out_dir: Path, manifest: dict) -> tuple[Path, Path]:
    """Where a print batch's file and its manifest go."""
    return out_dir / manifest["file"], out_dir / f"{manifest['print_batch']}.manifest.json"


def publish(staged: Path, manifest: dict, text_path: Path, manifest_path: Path) -> None:
    """Rename the staged print file into place, then write the manifest beside it (via a
    temporary name too), so a manifest always describes a whole file."""
    staged_manifest = staged.with_suffix(".manifest.part")
    os.replace(staged, text_path)
    with staged_manifest.open("w", encoding="utf-8") as out:
        json.dump(manifest, out, indent=2, sort_keys=True)
        out.write("\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(staged_manifest, manifest_path)


@flow(name="dispatch-letters")
def dispatch_letters(out_dir: Path) -> dict:
    """Write every PENDING letter into one print batch in ``out_dir`` and mark them
    DISPATCHED; UNDELIVERABLE letters are never sent. Returns the batch's summary."""
    target = engine_for(Settings().target_url)
    require_current_schema(target)
    out_dir.mkdir(parents=True, exist_ok=True)
    staged = out_dir / f".dispatch-{uuid4().hex}.part"
    published: tuple[Path, ...] = ()
    try:
        with target.begin() as conn:
            written = write_letters(pending_letters(conn), staged)
            if not written.letter_ids:
                log.info("nothing to dispatch")
                return {"print_batch": None, "letters": 0, "per_template": {}}
            created_at = datetime.now(UTC)
            batch_id = print_batch_id(created_at, written.letter_ids)
            manifest = batch_manifest(batch_id, created_at, written)
            marked = mark_dispatched(conn, written.letter_ids, batch_id)
            if marked != len(written.letter_ids):
                raise DispatchConflict(
                    f"{len(written.letter_ids) - marked} letters were dispatched by another run; "
                    "nothing was dispatched, run it again"
                )
            published = batch_paths(out_dir, manifest)
            publish(staged, manifest, *published)
    except BaseException:
        for path in published:
            path.unlink(missing_ok=True)
        raise
    finally:
        staged.unlink(missing_ok=True)
        staged.with_suffix(".manifest.part").unlink(missing_ok=True)
    log.info(
        "letters dispatched",
        print_batch=manifest["print_batch"],
        letters=manifest["letters"],
        **{f"letters_{name.lower()}": count for name, count in written.per_template.items()},
    )
    return manifest | {"path": str(published[0]), "manifest_path": str(published[1])}
