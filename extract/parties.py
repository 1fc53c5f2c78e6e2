"""Canonical parties by reference, for letters: the only reader of names and addresses.

A letter run names its recipients by canonical reference, each in its legacy system's format
(``P#########`` for a CSCS person, ``CS2-<party_id>`` for a CS2 party). They are read as text,
like every legacy row, in IN lists of at most ``CHUNK_SIZE`` keys, and mapped by the systems'
own party mapping.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from sqlalchemy import Engine

from extract.legacy_system import LegacySystem
from extract.reader import LegacyReader, legacy_reader, raw_select
from extract.systems import registered
from validate.canonical import PARTY_COLUMNS, empty_parties

CHUNK_SIZE = 5_000


def read_parties(legacy: Engine, person_refs: Iterable[str]) -> pd.DataFrame:
    """The canonical parties (docs/design.md) of ``person_refs``; unknown refs are absent."""
    refs = set(person_refs)
    wanted = [(system, keys) for system in registered() if (keys := system.person_keys(refs))]
    with legacy_reader(legacy) as reader:
        frames = [_read(reader, system, keys) for system, keys in wanted]
    return pd.concat(frames, ignore_index=True)[PARTY_COLUMNS] if frames else empty_parties()


def _read(reader: LegacyReader, system: LegacySystem, keys: list) -> pd.DataFrame:
    """One system's person rows for ``keys``, chunk by chunk, in the canonical model."""
    table = system.person_table
    key = table.c[system.person.key[0]]
    raw = pd.concat(
        [reader.frame(raw_select(table).where(key.in_(keys[start : start + CHUNK_SIZE])))
         for start in range(0, len(keys), CHUNK_SIZE)],
        ignore_index=True,
    )
    return system.persons_to_canonical(raw)
