"""A target database that cannot be reached (a wrong name, a folder that is not there) fails the
command in one line with the database's own reason, not a page of traceback."""

from __future__ import annotations

import pytest
from conftest import PG_ADMIN_URL


@pytest.mark.parametrize("command", [("init",), ("report",)], ids=" ".join)
def test_a_postgresql_target_that_is_not_there_fails_in_one_line_with_its_reason(cli, monkeypatch, command):
    monkeypatch.setenv("CSA_TARGET_URL", PG_ADMIN_URL.rsplit("/", 1)[0] + "/csa_test_never_created")

    result = cli(*command)

    assert (result.exit_code, result.exception) == (1, None)
    assert result.stderr == 'failed: the database: connection failed: connection to server at "127.0.0.1", ' \
        'port 5432 failed: FATAL:  database "csa_test_never_created" does not exist\n'


@pytest.mark.parametrize("command", [("init",), ("report",)], ids=" ".join)
def test_a_sqlite_target_whose_folder_cannot_be_made_is_refused_in_one_line(cli, monkeypatch, tmp_path, command):
    (tmp_path / "a file").write_text("not a folder")
    monkeypatch.setenv("CSA_TARGET_URL", f"sqlite:///{tmp_path / 'a file' / 'cms.db'}")

    result = cli(*command)

    assert (result.exit_code, result.exception) == (2, None)
    assert result.stderr == f"refused: the database's folder {tmp_path / 'a file'} cannot be made: File exists\n"


@pytest.mark.parametrize("command", [("report",), ("record", "extension", "--case", "C930000001",
                                                    "--received", "2015-01-01")], ids=lambda c: c[0])
def test_a_sqlite_target_that_is_not_there_is_refused_and_not_created(cli, monkeypatch, tmp_path, command):
    target = tmp_path / "cms.db"
    monkeypatch.setenv("CSA_TARGET_URL", f"sqlite:///{target}")

    result = cli(*command)

    assert (result.exit_code, result.exception) == (2, None)
    assert result.refused == f"refused: the target database {target} does not exist: run 'csa-closure init' first"
    assert not target.exists()
