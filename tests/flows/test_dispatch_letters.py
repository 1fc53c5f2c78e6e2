"""``dispatch-letters``: one print batch of every pending letter, its manifest, marked once."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from csa_closure.db import engine_for
from flows import letters as letters_flow
from flows.letters import DispatchConflict, dispatch_letters
from load.letters import insert_letters
from load.migrate import upgrade_target
from load.schema import letter

SEED = [
    # case, template, role, status, created_on
    ("C930000002", "INITIAL_NOTICE", "PWC", "PENDING", "2014-08-31"),
    ("C930000001", "REMINDER", "NRP", "PENDING", "2015-01-28"),
    ("C930000001", "INITIAL_NOTICE", "NRP", "PENDING", "2014-08-31"),
    ("C930000001", "INITIAL_NOTICE", "PWC", "UNDELIVERABLE", "2014-08-31"),
]
EVENTS = {"INITIAL_NOTICE": "SELECTION", "REMINDER": "REMINDER"}
PRINT_ORDER = [  # the pending letters by (created_on, case, letter_id)
    ("C930000001", "INITIAL_NOTICE", "NRP"),
    ("C930000002", "INITIAL_NOTICE", "PWC"),
    ("C930000001", "REMINDER", "NRP"),
]


def seed(target, rows) -> None:
    columns = ["case_ref", "template", "recipient_role", "status", "created_on"]
    frame = pd.DataFrame(rows, columns=columns)
    frame = frame.assign(
        journey_event=frame["template"].map(EVENTS),
        created_on=pd.to_datetime(frame["created_on"]),
        body=[f"Dear parent,\n{r[0]} {r[1]} to {r[2]}: £1,750.00\n" for r in rows],
    )
    with target.begin() as conn:
        insert_letters(conn, frame)


@pytest.fixture
def target(target_url, monkeypatch, prefect_harness):
    """A migrated target holding SEED; the flow reads its URL from the environment."""
    monkeypatch.setenv("CSA_TARGET_URL", target_url)
    engine = engine_for(target_url)
    upgrade_target(engine)
    seed(engine, SEED)
    return engine


def letter_ids(target) -> dict[tuple[str, str, str], int]:
    with target.connect() as conn:
        rows = conn.execute(
            select(letter.c.csa_case_ref, letter.c.template, letter.c.recipient_role,
                   letter.c.letter_id)
        ).all()
    return {(r[0], r[1], r[2]): r[3] for r in rows}


def letter_rows(target) -> dict[tuple[str, str, str], tuple[str, str | None]]:
    with target.connect() as conn:
        rows = conn.execute(
            select(letter.c.csa_case_ref, letter.c.template, letter.c.recipient_role,
                   letter.c.status, letter.c.print_batch)
        ).all()
    return {(r[0], r[1], r[2]): (r[3], r[4]) for r in rows}


def test_dispatch_writes_one_batch_with_its_manifest_and_marks_its_letters(target, tmp_path, cli):
    out = tmp_path / "letters"
    result = cli("dispatch-letters", "--out", str(out))
    assert result.exit_code == 0, result.stdout

    manifest_path, text_path = sorted(out.iterdir())
    manifest = json.loads(manifest_path.read_text())
    batch = manifest["print_batch"]
    assert batch.startswith("PB") and batch in result.stdout
    assert manifest_path.name == f"{batch}.manifest.json" and text_path.name == f"{batch}.txt"
    assert manifest["file"] == text_path.name
    assert manifest["sha256"] == hashlib.sha256(text_path.read_bytes()).hexdigest()
    assert manifest["letters"] == 3
    assert manifest["per_template"] == {"INITIAL_NOTICE": 2, "REMINDER": 1}
    ids = letter_ids(target)
    assert (manifest["first_letter_id"], manifest["last_letter_id"]) == (
        ids[PRINT_ORDER[0]], ids[PRINT_ORDER[-1]]
    )

    text = text_path.read_text(encoding="utf-8")
    letters = text.split("\f\n")
    assert [body.splitlines()[0] for body in letters] == [
        f"letter {ids[key]} | {key[1]} | {key[2]}" for key in PRINT_ORDER
    ]
    assert [body.splitlines()[2].split(":")[0] for body in letters] == [
        f"{case} {template} to {role}" for case, template, role in PRINT_ORDER
    ]
    assert "C930000001 INITIAL_NOTICE to PWC" not in text  # the UNDELIVERABLE letter

    rows = letter_rows(target)
    assert [rows[key] for key in PRINT_ORDER] == [("DISPATCHED", batch)] * len(PRINT_ORDER)
    assert rows[("C930000001", "INITIAL_NOTICE", "PWC")] == ("UNDELIVERABLE", None)


def test_a_second_dispatch_with_nothing_pending_writes_nothing(target, tmp_path, cli):
    out = tmp_path / "letters"
    first = dispatch_letters(out)
    files = sorted(out.iterdir())
    assert first["letters"] == 3

    assert dispatch_letters(out) == {"print_batch": None, "letters": 0, "per_template": {}}
    result = cli("dispatch-letters", "--out", str(out))
    assert result.exit_code == 0 and "nothing dispatched" in result.stdout
    assert sorted(out.iterdir()) == files

    seed(target, [("C930000003", "INITIAL_NOTICE", "PWC", "PENDING", "2014-09-07")])
    later = dispatch_letters(out)
    assert later["letters"] == 1 and later["print_batch"] != first["print_batch"]
    new_letter = letter_rows(target)[("C930000003", "INITIAL_NOTICE", "PWC")]
    assert new_letter == ("DISPATCHED", later["print_batch"])


def test_a_batch_another_dispatch_got_to_first_is_abandoned_whole(target, tmp_path, monkeypatch):
    monkeypatch.setattr(letters_flow, "mark_dispatched", lambda conn, ids, batch: len(ids) - 1)
    out = tmp_path / "letters"
    with pytest.raises(DispatchConflict):
        dispatch_letters(out)
    assert list(out.iterdir()) == []
    assert {status for status, _ in letter_rows(target).values()} == {"PENDING", "UNDELIVERABLE"}


def test_a_failure_after_the_files_are_in_place_removes_them_and_marks_nothing(
    target, tmp_path, monkeypatch
):
    real_publish = letters_flow.publish

    def publish_then_fail(*args) -> None:
        real_publish(*args)
        raise OSError("disk gone")

    monkeypatch.setattr(letters_flow, "publish", publish_then_fail)
    out = tmp_path / "letters"
    with pytest.raises(OSError, match="disk gone"):
        dispatch_letters(out)
    assert list(out.iterdir()) == []
    assert {status for status, _ in letter_rows(target).values()} == {"PENDING", "UNDELIVERABLE"}


def test_an_out_path_that_is_not_a_folder_is_refused(target, tmp_path, cli):
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    result = cli("dispatch-letters", "--out", str(not_a_folder))
    assert result.exit_code == 2 and result.refused == f"refused: --out {not_a_folder} is not a folder"
    assert {status for status, _ in letter_rows(target).values()} == {"PENDING", "UNDELIVERABLE"}


def test_out_defaults_to_the_letters_dir_setting(target, tmp_path, cli, monkeypatch):
    monkeypatch.setenv("CSA_LETTERS_DIR", str(tmp_path / "default"))
    result = cli("dispatch-letters")
    assert result.exit_code == 0, result.stdout
    assert len(list(Path(tmp_path / "default").glob("PB*.txt"))) == 1
