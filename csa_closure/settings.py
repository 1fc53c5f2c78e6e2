"""Configuration: where the databases are, and every number of the rulebook.

Every bold number of RULEBOOK.md is a named rule setting with its default. Operations override
them from the environment (``CSA_RULE_<NAME>``) or a TOML file named by ``CSA_RULES_FILE``;
each run records the values it used (``RuleSettings.model_dump``).
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from csa_closure.refusal import Refusal

LARGEST_AMOUNT_PENCE = 99_999_999_999
"""The largest amount of money the engine takes, legacy or operator's (£999,999,999.99, CS2's
widest pounds): sums of such amounts stay far inside int64, so the rules' arithmetic never
wraps. A legacy amount beyond it is quarantined (``validate.checks``)."""


def first_complaint(error: ValidationError) -> tuple[str, str]:
    """Pydantic's first complaint about settings, in one line: the setting, and why it is refused."""
    first = error.errors()[0]
    return ".".join(str(part) for part in first["loc"]), f"{first['msg']}, not {first['input']!r}"


class EnvironmentSettings(BaseSettings):
    """Settings that operations write as text, in the environment."""

    @field_validator("*", mode="before")
    @classmethod
    def _whole_numbers_in_digits(cls, value: Any, info: ValidationInfo) -> Any:
        """A count, or an amount of pence, is written in digits: pydantic alone reads '65.00'
        as 65, and 65 pence is not the £65 that was meant."""
        field = cls.model_fields[info.field_name] if info.field_name else None
        if field is not None and field.annotation is int and isinstance(value, str):
            if not re.fullmatch(r"[+-]?[0-9]+", value.strip()):
                raise ValueError("must be a whole number, in digits")
        return value


class RuleSettings(EnvironmentSettings):
    """The rulebook's parameters (RULEBOOK.md), named after the rule they belong to."""

    model_config = SettingsConfigDict(env_prefix="CSA_RULE_", frozen=True, extra="forbid")

    # section 2: segments and tranche selection
    receipt_lookback_days: int = Field(91, gt=0)
    segment_groups: tuple[tuple[int, ...], ...] = ((1,), (2,), (3, 4), (5,), (6,))
    selection_interval_days: int = Field(7, gt=0)
    tranche_capacity: int = Field(7_900, gt=0)
    batch_size: int = Field(5_000, gt=0)
    # section 3: the liability journey
    liability_notice_months: int = Field(6, gt=0)
    reminder_months_before_end: int = Field(1, ge=0)
    reactive_notice_days: int = Field(30, gt=0)
    # section 5: verification
    verification_tolerance_pence: int = Field(100, ge=0)
    max_resolution_pence: int = Field(LARGEST_AMOUNT_PENCE, gt=0, le=LARGEST_AMOUNT_PENCE)
    """The ceiling of a figure a caseworker enters to resolve a hold (project rule)."""
    # section 6: the arrears decision
    below_threshold_pence: int = Field(6_500, ge=0)
    not_cost_effective_pence: int = Field(50_000, ge=0)
    not_cost_effective_old_case_pence: int = Field(100_000, ge=0)
    old_case_years: int = Field(10, gt=0)
    choice_window_days: int = Field(30, gt=0)
    # section 7: the receiving parent's choice
    extension_days: int = Field(28, gt=0)
    # section 9: instalments
    max_instalments: int = Field(36, gt=0)
    instalment_unit_pence: int = Field(500, gt=0)

    @field_validator("segment_groups")
    @classmethod
    def _every_segment_once(cls, groups: tuple[tuple[int, ...], ...]) -> tuple[tuple[int, ...], ...]:
        flat = sorted(s for group in groups for s in group)
        if flat != [1, 2, 3, 4, 5, 6]:
            raise ValueError("segment_groups must name each segment 1 to 6 exactly once")
        return groups

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        rules_file = os.environ.get("CSA_RULES_FILE")
        if rules_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(rules_file)))
        return tuple(sources)


class Settings(EnvironmentSettings):
    """Where the engine reads and writes (CONTRACTS.md section 4)."""

    model_config = SettingsConfigDict(env_prefix="CSA_", extra="ignore")

    legacy_url: str = "sqlite:///var/legacy.db"
    target_url: str = "sqlite:///var/cms.db"
    letters_dir: Path = Path("var/letters")
    extract_batch_size: int = Field(10_000, gt=0)
    """Cases per extract batch: its fixed costs (a Prefect task, a validation pass per table)
    spread over more cases, but a worker holds ~30 MB per 1,000 at its peak (on ~200 MB of its
    own), and there is a worker per core."""
    pool_from_batch_cases: int = Field(1_000, gt=0)
    """A step's batches run in the flow's process and a pool of processes beside it, one process
    per core, when there are several at once and a batch holds this many cases (the rule
    settings' batch size) or more; in the flow's threads else."""
    dask_address: str | None = None
    """The scheduler of a Dask cluster (``tcp://host:8786``) that runs the extract's batches and
    the journey's units (``flows.runners``); unset, they run on this machine."""
    log_level: str = "INFO"
    log_format: Literal["auto", "console", "json"] = "auto"
    """stderr's log lines: for reading in a terminal and JSON otherwise (auto), or as named."""

    @field_validator("legacy_url", "target_url")
    @classmethod
    def _database_url(cls, url: str, info: ValidationInfo) -> str:
        """A database the engine works on, SQLite or PostgreSQL. The URL is not repeated in the
        refusal: it may hold a password."""
        variable = f"CSA_{info.field_name}".upper()
        try:
            parsed = make_url(url)
        except (ArgumentError, ValueError):
            example = "sqlite:///FILE or postgresql+psycopg://USER@HOST/DATABASE"
            raise Refusal(f"{variable} is not a database URL ({example})") from None
        backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
        if backend not in ("sqlite", "postgresql"):
            raise Refusal(f"{variable} names a {backend} database: the engine works on SQLite and PostgreSQL")
        if backend == "postgresql" and parsed.drivername != "postgresql" and driver != "psycopg":
            raise Refusal(f"{variable} names the {driver} driver: PostgreSQL is reached with psycopg 3 "
                          "(postgresql:// or postgresql+psycopg://)")
        return url

    @model_validator(mode="after")
    def _cluster_on_postgres(self) -> Settings:
        """Workers on other machines cannot share a SQLite file: refused, in one line, wherever
        the settings are read (pydantic passes on an error that is not a ValueError as it is)."""
        if self.dask_address:
            for variable, url in (("CSA_TARGET_URL", self.target_url), ("CSA_LEGACY_URL", self.legacy_url)):
                if url.partition(":")[0].split("+")[0] == "sqlite":
                    raise Refusal(
                        f"a Dask cluster (CSA_DASK_ADDRESS) needs PostgreSQL databases, but {variable} is SQLite"
                    )
        return self


def refused_setting(error: ValidationError) -> Refusal:
    """A setting from the environment that pydantic refused, in one line that names its
    variable, as bad operator input is refused, not in pydantic's report."""
    models: dict[str, type[BaseSettings]] = {"Settings": Settings, "RuleSettings": RuleSettings}
    prefix = models[error.title].model_config.get("env_prefix", "")
    name, why = first_complaint(error)
    where = f"{prefix}{name}".upper()
    rules_file = os.environ.get("CSA_RULES_FILE")
    if error.title == "RuleSettings" and rules_file:
        where += f" (or {name} in {rules_file})"
    return Refusal(f"{where}: {why}")


@lru_cache(maxsize=1)
def rule_settings() -> RuleSettings:
    """The rule settings of this process, read once."""
    return RuleSettings()
