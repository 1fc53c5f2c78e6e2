"""The registry of legacy systems: the one place that names them.

A system is one module of ``extract/`` declaring a ``LegacySystem`` (``extract/legacy_system.py``);
it is extracted, re-read, written to letters and checked in operators' events once it is
registered here. ``BUILT_IN`` are registered as this module is imported, in every process (the
extract's batch workers too). ``register`` adds one at run time, to this process only: its
batches must run here (a test's system, say).
"""

from __future__ import annotations

from extract.cs2 import CS2
from extract.cscs import CSCS
from extract.legacy_system import LegacySystem
from transform.references import PersonRefFormat

BUILT_IN = (CSCS, CS2)

_registered: dict[str, LegacySystem] = {}


def register(system: LegacySystem) -> LegacySystem:
    """Add ``system``, whose scheme must be new. Its case and person references must not
    match another system's formats: a reference names one system's case or person."""
    if system.scheme in _registered:
        raise ValueError(f"a legacy system of scheme {system.scheme} is registered already")
    _registered[system.scheme] = system
    return system


def unregister(scheme: str) -> None:
    del _registered[scheme]


def registered() -> tuple[LegacySystem, ...]:
    """Every registered system, in the order of registration."""
    return tuple(_registered.values())


def schemes() -> tuple[str, ...]:
    return tuple(_registered)


def system_of(scheme: str) -> LegacySystem:
    try:
        return _registered[scheme]
    except KeyError:
        raise KeyError(f"no legacy system of scheme {scheme} is registered") from None


def person_ref_formats() -> tuple[PersonRefFormat, ...]:
    """How a person of each system is named: what an operator's event may name a parent by."""
    return tuple(system.person_refs for system in registered())


def names() -> str:
    """The registered systems' names for a sentence: ``CSCS or CS2``."""
    return " or ".join(system.name for system in registered())


for _system in BUILT_IN:
    register(_system)
