"""Canonical parties by reference, for letters: the only reader of names and addresses.

A letter run names its recipients by canonical reference (``P#########`` for a CSCS person,
``CS2-<party_id>`` for a CS2 party). They are read as text, like every legacy row, in IN lists
of at most ``CHUNK_SIZE`` keys, and mapped by the adapters' own party mapping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pandas as pd
from sqlalchemy import Engine

from extract.cs2 import CS2, PARTY_PREFIX, parties_to_canonical
from extract.cscs import CSCS, persons_to_canonical
from extract.reader import LegacyReader, legacy_reader, raw_select
from extract.systems import PARTY_COLUMNS, LegacySystem

CHUNK_SIZE = 5_000


def read_parties(legacy: Engine, person_refs: Iterable[str]) -> pd.DataFrame:
    """The canonical parties (docs/design.md) of ``person_refs``; unknown refs are absent."""
    refs = set(person_refs)
    cs2_ids = [ref.removeprefix(PARTY_PREFIX) for ref in refs if ref.startswith(PARTY_PREFIX)]
    cscs_refs = [ref for ref in refs if not ref.startswith(PARTY_PREFIX)]
    with legacy_reader(legacy) as reader:
        frames = [
            _read(reader, CSCS, cscs_refs, persons_to_canonical),
            _read(reader, CS2, cs2_ids, parties_to_canonical),
        ]
    return pd.concat(frames, ignore_index=True)[PARTY_COLUMNS]


def _read(
    reader: LegacyReader,
    system: LegacySystem,
    keys: list[str],
    to_canonical: Callable[[pd.DataFrame], pd.DataFrame],
) -> pd.DataFrame:
    """One system's person rows for ``keys``, chunk by chunk, in the canonical model."""
    table = system.person_table
    key = table.c[system.person.key[0]]
    lookup = system.person_lookup_keys(keys)
    raw = pd.concat(
        [reader.frame(raw_select(table).where(key.in_(chunk))) for chunk in _chunks(lookup)],
        ignore_index=True,
    )
    return to_canonical(raw)


def _chunks(keys: list) -> list[list]:
    """IN lists of at most ``CHUNK_SIZE`` keys; one empty list for none, so columns still come."""
    return [keys[start : start + CHUNK_SIZE] for start in range(0, len(keys), CHUNK_SIZE)] or [[]]
