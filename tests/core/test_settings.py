"""Settings from the environment that the engine cannot use are bad operator input: refused in
one line that names the variable, before any command reads or writes a database."""

from __future__ import annotations

import pytest

from csa_closure.settings import rule_settings

REFUSALS = {
    "CSA_TARGET_URL=notaurl": (
        "refused: CSA_TARGET_URL is not a database URL (sqlite:///FILE or "
        "postgresql+psycopg://USER@HOST/DATABASE)"
    ),
    "CSA_LEGACY_URL=mysql://csa@127.0.0.1/legacy": (
        "refused: CSA_LEGACY_URL names a mysql database: the engine works on SQLite and PostgreSQL"
    ),
    "CSA_TARGET_URL=postgresql+psycopg2://postgres@127.0.0.1/cms": (
        "refused: CSA_TARGET_URL names the psycopg2 driver: PostgreSQL is reached with psycopg 3 "
        "(postgresql:// or postgresql+psycopg://)"
    ),
    "CSA_EXTRACT_BATCH_SIZE=0": "refused: CSA_EXTRACT_BATCH_SIZE: Input should be greater than 0, not '0'",
    "CSA_LOG_FORMAT=xml": "refused: CSA_LOG_FORMAT: Input should be 'auto', 'console' or 'json', not 'xml'",
    "CSA_RULE_TRANCHE_CAPACITY=-3": "refused: CSA_RULE_TRANCHE_CAPACITY: Input should be greater than 0, not '-3'",
    "CSA_RULE_BELOW_THRESHOLD_PENCE=65.00": (  # pounds where pence are asked: not 65 pence
        "refused: CSA_RULE_BELOW_THRESHOLD_PENCE: Value error, must be a whole number, in digits, not '65.00'"
    ),
    "CSA_RULE_MAX_INSTALMENTS=ten": (
        "refused: CSA_RULE_MAX_INSTALMENTS: Value error, must be a whole number, in digits, not 'ten'"
    ),
}


@pytest.fixture
def clean_rules():
    rule_settings.cache_clear()
    yield
    rule_settings.cache_clear()


@pytest.mark.parametrize("setting", REFUSALS)
def test_a_setting_the_engine_cannot_use_is_refused_in_one_line_and_nothing_is_touched(
    setting, cli, tmp_path, monkeypatch, clean_rules
):
    target, legacy = tmp_path / "cms.db", tmp_path / "legacy.db"
    monkeypatch.setenv("CSA_TARGET_URL", f"sqlite:///{target}")
    monkeypatch.setenv("CSA_LEGACY_URL", f"sqlite:///{legacy}")
    monkeypatch.setenv(*setting.split("=", 1))

    result = cli("advance", "--as-of", "2014-07-07")

    assert (result.exit_code, result.refused) == (2, REFUSALS[setting])
    assert result.stderr.strip() == REFUSALS[setting]
    assert not target.exists() and not legacy.exists()


def test_a_url_that_does_not_parse_is_not_repeated_for_it_may_hold_a_password(cli, monkeypatch, clean_rules):
    monkeypatch.setenv("CSA_TARGET_URL", "postgresql+psycopg://csa:s3cret@127.0.0.1:notaport/cms")

    result = cli("report")

    assert result.exit_code == 2 and result.refused.startswith("refused: CSA_TARGET_URL is not a database URL")
    assert "s3cret" not in result.stdout + result.stderr


def test_a_rule_setting_refused_names_the_rules_file_too_when_there_is_one(cli, monkeypatch, tmp_path, clean_rules):
    rules = tmp_path / "rules.toml"
    rules.write_text("tranche_capacity = 0\n", encoding="utf-8")
    monkeypatch.setenv("CSA_RULES_FILE", str(rules))

    result = cli("report")

    assert (result.exit_code, result.refused) == (
        2, f"refused: CSA_RULE_TRANCHE_CAPACITY (or tranche_capacity in {rules}): Input should be greater than 0, not 0"
    )
