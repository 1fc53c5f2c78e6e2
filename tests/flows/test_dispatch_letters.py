"""``dispatch-letters``: one print batch of every pending letter, its manifest, marked once;
a dispatch interrupted anywhere is finished by the next under the same id, never printed twice."""

from __future__ import annotations

import hashlib
import io
import json
import stat
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from legacy_rows import person, write_estate
from sqlalchemy import select

from csa_closure.db import engine_for, make_engine
from csa_closure.locks import dispatch_lock
from extract import legacy_schema as legacy
from flows import letters as letters_flow
from flows.letters import SEPARATOR, dispatch_letters, write_letters
from load.letters import insert_letters
from load.migrate import upgrade_target
from load.schema import letter, print_batch

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


def person_ref(case: str, role: str) -> str:
    return f"P0000000{case[-1]}{'1' if role == 'NRP' else '2'}"


def values(case: str, role: str) -> str:
    """A letter's values as its row keeps them: the recipient by reference."""
    return json.dumps({"scheme": "1993", "recipient_ref": person_ref(case, role), "liability_end_date": "2015-02-28"})


def parents(legacy_url: str) -> None:
    """The legacy persons the letters name, each called after its case and role."""
    people = [person(person_ref(case, role), forenames="Parent", surname=f"{case} {role}")
              for case in ("C930000001", "C930000002", "C930000003") for role in ("NRP", "PWC")]
    write_estate(make_engine(legacy_url, legacy=True, writable=True), {legacy.cscs_person: people}, date(2014, 6, 30))


def seed(target, rows) -> None:
    columns = ["case_ref", "template", "recipient_role", "status", "created_on"]
    frame = pd.DataFrame(rows, columns=columns)
    frame = frame.assign(
        journey_event=frame["template"].map(EVENTS),
        created_on=pd.to_datetime(frame["created_on"]),
        body=[values(r[0], r[2]) for r in rows],
        template_version=1,
    )
    with target.begin() as conn:
        insert_letters(conn, frame)


@pytest.fixture
def target(target_url, legacy_url, monkeypatch, prefect_harness):
    """A migrated target holding SEED, and the legacy persons its letters name; the flow reads
    their URLs from the environment."""
    parents(legacy_url)
    monkeypatch.setenv("CSA_TARGET_URL", target_url)
    monkeypatch.setenv("CSA_LEGACY_URL", legacy_url)
    engine = engine_for(target_url)
    upgrade_target(engine)
    seed(engine, SEED)
    return engine


def letter_ids(target) -> dict[tuple[str, str, str], int]:
    with target.connect() as conn:
        rows = conn.execute(
            select(letter.c.csa_case_ref, letter.c.template, letter.c.recipient_role, letter.c.letter_id)
        ).all()
    return {(r[0], r[1], r[2]): r[3] for r in rows}


def letter_rows(target) -> dict[tuple[str, str, str], tuple[str, str | None]]:
    with target.connect() as conn:
        rows = conn.execute(
            select(letter.c.csa_case_ref, letter.c.template, letter.c.recipient_role,
                   letter.c.status, letter.c.print_batch)
        ).all()
    return {(r[0], r[1], r[2]): (r[3], r[4]) for r in rows}


def printed(text_path: Path) -> list[tuple[str, str]]:
    """Each letter of a print file: its header line and its text."""
    return [tuple(part.split("\n", 1)) for part in text_path.read_text(encoding="utf-8").split(SEPARATOR)]


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
    for path in (text_path, manifest_path):
        assert stat.S_IMODE(path.stat().st_mode) & stat.S_IRWXO == 0  # not world-readable
    ids = letter_ids(target)
    assert (manifest["first_letter_id"], manifest["last_letter_id"]) == (ids[PRINT_ORDER[0]], ids[PRINT_ORDER[-1]])

    letters = printed(text_path)
    assert [header for header, _ in letters] == [f"letter {ids[key]} | {key[1]} | {key[2]}" for key in PRINT_ORDER]
    for (case, _, role), (_, text) in zip(PRINT_ORDER, letters):
        assert f"Dear Parent {case} {role}," in text and f"Case reference: {case}" in text
        words = " ".join(text.split())  # prose may wrap a date
        assert "Child Maintenance Options" in words and "28 February 2015" in words
    assert "Parent C930000001 PWC" not in text_path.read_text()  # the UNDELIVERABLE letter

    rows = letter_rows(target)
    assert [rows[key] for key in PRINT_ORDER] == [("DISPATCHED", batch)] * len(PRINT_ORDER)
    assert rows[("C930000001", "INITIAL_NOTICE", "PWC")] == ("UNDELIVERABLE", None)
    with target.connect() as conn:
        hashes = dict(conn.execute(select(letter.c.letter_id, letter.c.rendered_sha256)).all())
        state = conn.execute(select(print_batch.c.state, print_batch.c.sha256)).one()
    assert [hashes[ids[key]] for key in PRINT_ORDER] == [
        hashlib.sha256(text.encode()).hexdigest() for _, text in letters
    ]
    assert tuple(state) == ("DISPATCHED", manifest["sha256"])


def test_a_second_dispatch_with_nothing_pending_writes_nothing(target, tmp_path, cli):
    out = tmp_path / "letters"
    [first] = dispatch_letters(out)
    files = sorted(out.iterdir())
    assert first["letters"] == 3

    assert dispatch_letters(out) == []
    result = cli("dispatch-letters", "--out", str(out))
    assert result.exit_code == 0 and "nothing dispatched" in result.stdout
    assert sorted(out.iterdir()) == files

    seed(target, [("C930000003", "INITIAL_NOTICE", "PWC", "PENDING", "2014-09-07")])
    [later] = dispatch_letters(out)
    assert later["letters"] == 1 and later["print_batch"] != first["print_batch"]
    assert letter_rows(target)[("C930000003", "INITIAL_NOTICE", "PWC")] == ("DISPATCHED", later["print_batch"])


def interrupted_at(monkeypatch, name: str, after: bool = False) -> None:
    """The dispatch fails at ``flows.letters.<name>`` (before it, or just after it ran)."""
    real = getattr(letters_flow, name)

    def failing(*args, **kwargs):
        if after:
            real(*args, **kwargs)
        raise OSError(f"interrupted at {name}")

    monkeypatch.setattr(letters_flow, name, failing)


def test_a_dispatch_interrupted_before_its_file_is_finished_by_the_next_under_the_same_id(
    target, tmp_path, monkeypatch
):
    out = tmp_path / "letters"
    with monkeypatch.context() as patch:
        interrupted_at(patch, "publish_file")
        with pytest.raises(OSError, match="interrupted"):
            dispatch_letters(out)
    claimed = {batch for status, batch in letter_rows(target).values() if status == "PENDING"}
    assert len(claimed) == 1 and None not in claimed  # claimed, not printed
    assert list(out.iterdir()) == []

    [finished] = dispatch_letters(out)
    assert finished["print_batch"] == claimed.pop() and finished["letters"] == 3
    assert sorted(p.name for p in out.iterdir()) == [f"{finished['print_batch']}.manifest.json",
                                                    f"{finished['print_batch']}.txt"]
    assert dispatch_letters(out) == []


def test_a_dispatch_interrupted_after_publishing_is_finished_to_the_same_bytes(target, tmp_path, monkeypatch):
    out = tmp_path / "letters"
    with monkeypatch.context() as patch:
        interrupted_at(patch, "mark_dispatched")
        with pytest.raises(OSError, match="interrupted"):
            dispatch_letters(out)
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    assert len(before) == 2
    assert {status for status, _ in letter_rows(target).values()} == {"PENDING", "UNDELIVERABLE"}

    [finished] = dispatch_letters(out)
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before  # no second file
    assert [status for status, _ in letter_rows(target).values()].count("DISPATCHED") == 3
    assert finished["letters"] == 3


def test_leftover_part_files_are_removed(target, tmp_path, monkeypatch):
    out = tmp_path / "letters"
    out.mkdir()
    (out / "PB20150101T000000Z-deadbeef.txt.part").write_text("half a batch")
    dispatch_letters(out)
    assert not list(out.glob("*.part"))


def test_a_second_dispatch_is_refused_while_one_runs(target, tmp_path, cli):
    with dispatch_lock(target):
        result = cli("dispatch-letters", "--out", str(tmp_path / "letters"))
    assert result.exit_code == 2
    assert result.refused == "refused: another dispatch of letters is running; try again when it has finished"
    assert {status for status, _ in letter_rows(target).values()} == {"PENDING", "UNDELIVERABLE"}
    assert not (tmp_path / "letters").exists()


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.text(), st.lists(st.text(), max_size=3)), min_size=1, max_size=5))
def test_no_value_can_forge_a_letter_in_the_print_file(recipients):
    """Whatever names and addresses hold (form feeds, fake ``letter N | ...`` headers), the
    print file splits into exactly its letters, each under its own header."""
    chunk = pd.DataFrame(
        {
            "letter_id": range(1, len(recipients) + 1),
            "csa_case_ref": "C930000001",
            "template": "LIABILITY_ENDED",
            "template_version": 1,
            "recipient_role": "PWC",
            "created_on": pd.Timestamp("2015-02-28"),
            "body": [json.dumps({"scheme": "1993", "recipient_ref": f"P{n:09d}", "liability_end_date": "2015-02-28"})
                     for n in range(1, len(recipients) + 1)],
            "dv_marker": False,
        }
    )
    people = pd.DataFrame({
        "person_ref": [f"P{n:09d}" for n in range(1, len(recipients) + 1)],
        "surname": [name for name, _ in recipients],
        "forenames": None,
        "address": ["\n".join(lines) if lines else None for _, lines in recipients],
        "postcode": None,
        "deceased": False,
        "untraced": False,
    })
    out = io.BytesIO()
    written = write_letters([chunk], out, lambda refs: people)
    parts = out.getvalue().decode().split(SEPARATOR)
    assert len(parts) == len(recipients) == len(written.letter_ids)
    assert [part.split("\n", 1)[0] for part in parts] == [
        f"letter {n} | LIABILITY_ENDED | PWC" for n in range(1, len(recipients) + 1)
    ]


@pytest.mark.parametrize(
    "since",
    [{"address_line1": None, "address_line2": None, "town": None, "postcode": None},
     {"date_of_death": date(2015, 1, 1)}],
    ids=["no address now", "died since"],
)
def test_a_recipient_unreachable_since_the_letter_was_made_is_sent_nothing_and_it_is_undeliverable(
    target, legacy_url, tmp_path, cli, since
):
    """Section 10 as the letter is printed: a parent who has died, or who has no address now,
    is not sent the letter made for them before; it is recorded UNDELIVERABLE, once."""
    gone = person_ref("C930000002", "PWC")
    with make_engine(legacy_url, legacy=True, writable=True).begin() as conn:
        conn.execute(legacy.cscs_person.update().where(legacy.cscs_person.c.person_ref == gone).values(**since))
    out = tmp_path / "letters"
    first = cli("dispatch-letters", "--out", str(out))
    assert first.exit_code == 0 and "1 letter(s) of PB" in first.stdout, first.stdout
    assert cli("dispatch-letters", "--out", str(out)).exit_code == 0

    [manifest_path] = out.glob("*.manifest.json")
    manifest = json.loads(manifest_path.read_text())
    assert (manifest["letters"], manifest["undeliverable"]) == (2, 1)
    text = (out / manifest["file"]).read_text()
    assert "Parent C930000002 PWC" not in text and text.count("Parent C930000001 NRP") >= 2
    rows = letter_rows(target)
    assert rows[("C930000002", "INITIAL_NOTICE", "PWC")] == ("UNDELIVERABLE", manifest["print_batch"])
    assert [status for key, (status, _) in rows.items() if key[0] == "C930000001" and key[2] == "NRP"] == [
        "DISPATCHED", "DISPATCHED"]


def test_an_out_path_that_is_not_a_folder_is_refused(target, tmp_path, cli):
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    result = cli("dispatch-letters", "--out", str(not_a_folder))
    assert result.exit_code == 2 and result.refused == f"refused: --out {not_a_folder} is not a folder"
    assert {status for status, _ in letter_rows(target).values()} == {"PENDING", "UNDELIVERABLE"}


def test_an_out_folder_that_cannot_be_created_is_refused_and_nothing_is_made(target, tmp_path, cli):
    (tmp_path / "file.txt").write_text("x")
    out = tmp_path / "new" / "print"
    result = cli("dispatch-letters", "--out", str(tmp_path / "file.txt" / "print"))
    assert result.exit_code == 2
    assert result.refused == (
        f"refused: --out {tmp_path / 'file.txt' / 'print'} cannot be created: {tmp_path / 'file.txt'} is not a folder"
    )
    assert cli("dispatch-letters", "--out", str(out)).exit_code == 0
    assert len(list(out.glob("PB*.txt"))) == 1


def test_out_defaults_to_the_letters_dir_setting(target, tmp_path, cli, monkeypatch):
    monkeypatch.setenv("CSA_LETTERS_DIR", str(tmp_path / "default"))
    result = cli("dispatch-letters")
    assert result.exit_code == 0, result.stdout
    assert len(list(Path(tmp_path / "default").glob("PB*.txt"))) == 1
