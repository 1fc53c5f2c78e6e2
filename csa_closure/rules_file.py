"""An alternative set of rule settings for the forecast: a TOML file of ``RuleSettings`` keys
laid over the current settings, or a one-line refusal that names what is wrong."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from csa_closure.refusal import Refusal
from csa_closure.settings import RuleSettings, first_complaint


def read_rules_file(path: Path) -> dict[str, Any]:
    """The settings a rules file names, as TOML gives them."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise Refusal(f"--rules {path} cannot be read: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise Refusal(f"--rules {path} is not UTF-8 text") from None
    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise Refusal(f"--rules {path} is not TOML: {error}") from None
    if not values:
        raise Refusal(f"--rules {path} names no rule setting: nothing to compare")
    return values


def alternative_rules(current: RuleSettings, overrides: dict[str, Any], source: str) -> RuleSettings:
    """The current settings with ``overrides`` laid over them, validated as the settings are.

    Refused: a key that is not a rule setting, a count or amount that is not a whole number
    (pydantic would take ``true`` for 1 and ``100.0`` for 100), a value out of its range.
    """
    fields = RuleSettings.model_fields
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        raise Refusal(f"{source}: unknown rule setting {', '.join(unknown)}")
    for name, value in overrides.items():
        if fields[name].annotation is int and (not isinstance(value, int) or isinstance(value, bool)):
            raise Refusal(f"{source}: {name} must be a whole number, not {value!r}")
    try:
        return RuleSettings.model_validate({**current.model_dump(), **overrides})  # not the environment's
    except ValidationError as error:
        name, why = first_complaint(error)
        raise Refusal(f"{source}: {name}: {why}") from None
