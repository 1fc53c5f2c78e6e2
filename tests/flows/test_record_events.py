"""The ``record`` commands and ``import-responses`` against a real target, through the CLI."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from csa_closure.db import engine_for
from csa_closure.settings import rule_settings
from load.migrate import upgrade_target
from load.schema import (
    case_journey,
    closure_outcome,
    journey_clock,
    legacy_case,
    operator_event,
    target_metadata,
)

CLOCK = date(2015, 8, 15)
LIVE = "C930000001"  # selected 2015-05-04, liability ends 2015-11-04
CHOOSING = "C930000002"  # decided 2015-06-01, answer due by 2015-07-01
HELD = "S030000003"  # on hold: ledger PWC 30,000 and SoS 4,000; recorded 29,000 and 4,000
NRP = "P000000001"


def outcome(ref: str, state: str, **changes) -> dict:
    row = dict(
        csa_case_ref=ref, scheme="1993" if ref.startswith("C93") else "2003", segment=2,
        tranche_id="T0001", batch_id="T0001-B001", journey_state=state,
        selected_on=date(2015, 5, 4), liability_end_date=date(2015, 11, 4),
        arrears_pwc_pence=None, arrears_sos_pence=None, hold_reason=None, transferred_pence=0,
        written_off_pence=0, pending_pence=0, on_hold_pence=0, choice=None, choice_deadline=None,
        cms_case_id=None,
    )
    return row | changes


def journey(ref: str, **changes) -> dict:
    """Every row with the same keys: an insert of many rows takes its columns from the first."""
    return dict(
        csa_case_ref=ref, reminded=False, liability_ended=False, extended=False, ledger_pwc_pence=None,
        ledger_sos_pence=None,
    ) | changes


def legacy(ref: str, nrp: str, pwc: str, total: int = 0, sos: int = 0) -> dict:
    return dict(
        case_ref=ref, scheme="1993" if ref.startswith("C93") else "2003", legacy_case_id=0,
        nrp_ref=nrp, pwc_ref=pwc, case_start_date=date(2005, 1, 10), status="LIVE",
        assessment_type="FULL", weekly_liability_pence=1500, payment_method="COLLECTION",
        enforcement_action=None, clerical=False, dv_marker=False, recorded_total_pence=total,
        recorded_sos_pence=sos, nrp_deceased=False, pwc_deceased=False, nrp_untraced=False,
        pwc_untraced=False, nrp_abroad=False, pwc_abroad=False, last_receipt_on=None,
        extracted_on=date(2014, 6, 30), extract_run="E1",
    )


@pytest.fixture
def target(target_url, monkeypatch, prefect_harness):
    """A migrated target holding a live case, one awaiting a choice and one on hold."""
    monkeypatch.setenv("CSA_TARGET_URL", target_url)
    rule_settings.cache_clear()
    engine = engine_for(target_url)
    upgrade_target(engine)
    with engine.begin() as conn:
        conn.execute(insert(legacy_case), [
            legacy(LIVE, NRP, "P000000002"),
            legacy(CHOOSING, "P000000003", "P000000004", total=200_000),
            legacy(HELD, "CS2-5", "CS2-6", total=33_000, sos=4_000),
        ])
        conn.execute(insert(closure_outcome), [
            outcome(LIVE, "AWAITING_LIABILITY_END"),
            outcome(CHOOSING, "AWAITING_CHOICE", selected_on=date(2014, 12, 1),
                    liability_end_date=date(2015, 6, 1), arrears_pwc_pence=200_000,
                    arrears_sos_pence=0, pending_pence=200_000, choice_deadline=date(2015, 7, 1)),
            outcome(HELD, "ON_HOLD", hold_reason="MISMATCH", on_hold_pence=34_000),
        ])
        conn.execute(insert(case_journey), [
            journey(LIVE),
            journey(CHOOSING, liability_ended=True),
            journey(HELD, ledger_pwc_pence=30_000, ledger_sos_pence=4_000),
        ])
    return engine


@pytest.fixture
def advanced(target):
    """The target after an ``advance`` to ``CLOCK``."""
    with target.begin() as conn:
        conn.execute(insert(journey_clock), [{"clock_id": 1, "advanced_to": CLOCK}])
    return target


def contents(engine) -> dict[str, list[tuple]]:
    """Every row of every target table, to show what a command changed."""
    with engine.connect() as conn:
        return {
            table.name: sorted(map(tuple, conn.execute(select(table))), key=repr)
            for table in target_metadata.sorted_tables
        }


def stored_events(engine) -> list[dict]:
    columns = [c for c in operator_event.c if c.name not in ("event_id", "recorded_at", "applied_run")]
    with engine.connect() as conn:
        rows = conn.execute(select(*columns).order_by(operator_event.c.event_id)).mappings()
        return [{k: v for k, v in row.items() if v is not None} for row in rows]


def hold_resolution(case: str, use: str, pwc_pence: str | None = None, sos_pence: str | None = None) -> list[str]:
    """``record hold-resolution`` by a caseworker who checked, with the pence given."""
    amounts = [("--pwc-pence", pwc_pence), ("--sos-pence", sos_pence)]
    given = [part for option, value in amounts if value is not None for part in (option, value)]
    checked = ["--reason", "checked", "--by", "A Caseworker"]
    return ["record", "hold-resolution", "--case", case, "--use", use, *given, *checked]


REFUSALS = [
    (["record", "application", "--case", "C930099999", "--service", "direct-pay", "--received", "2015-06-10"],
     "refused: unknown case C930099999: not selected for closure"),
    (["record", "application", "--case", LIVE, "--service", "cash", "--received", "2015-06-10"],
     "refused: service must be direct-pay or collect-and-pay, not 'cash'"),
    (["record", "application", "--case", LIVE, "--service", "direct-pay", "--received", "10/06/2015"],
     "refused: received must be a date as YYYY-MM-DD, not '10/06/2015'"),
    (["record", "application", "--case", LIVE, "--service", "direct-pay", "--received", "2015-05-03"],
     "refused: received before the case was selected on 2015-05-04"),
    (["record", "application", "--case", LIVE, "--service", "direct-pay", "--received", "2015-08-16"],
     "refused: received 2015-08-16, after the date the journey has advanced to (2015-08-15)"),
    (["record", "new-application", "--nrp", "P000000999", "--pwc", "P000000777", "--received", "2015-06-10"],
     "refused: unknown NRP P000000999: not the paying parent of a known case"),
    (["record", "new-application", "--nrp", NRP, "--pwc", "Smith", "--received", "2015-06-10"],
     "refused: pwc must be a person reference (P + 9 digits or CS2-<digits>), not 'Smith'"),
    (["record", "extension", "--case", CHOOSING, "--received", "2015-07-02"],
     "refused: requested after the deadline 2015-07-01"),
    (["record", "extension", "--case", LIVE, "--received", "2015-06-10"],
     "refused: the case is not awaiting a choice"),
    (hold_resolution(LIVE, "ledger"), "refused: the case is not on hold"),
    (hold_resolution(HELD, "amount", pwc_pence="100"),
     "refused: an amount resolution needs both the PWC and the SoS pence"),
    (hold_resolution(HELD, "guess"), "refused: use must be ledger or recorded or amount, not 'guess'"),
    (hold_resolution(HELD, "amount", "1.5", "0"), "refused: pwc_pence must be whole pence, not '1.5'"),
    # int64's largest: once accepted, and the arithmetic wrapped
    (hold_resolution(HELD, "amount", "9223372036854775807", "0"),
     "refused: pwc_pence must be whole pence of at most 18 digits, not '9223372036854775807'"),
    (hold_resolution(HELD, "amount", "100000000000", "0"),
     "refused: pwc_pence must be at most 99999999999 pence, not 100000000000"),
    (hold_resolution(HELD, "amount", "0", "18446744073709551616"),
     "refused: sos_pence must be whole pence of at most 18 digits, not '18446744073709551616'"),
    (hold_resolution(HELD, "amount", "34101", "0"),
     "refused: pwc_pence must be at most 34100 pence for this case (its arrears on record, the larger "
     "of the ledger's and the recorded total, plus the tolerance), not 34101"),
    (hold_resolution(HELD, "amount", "0", "34101"),
     "refused: sos_pence must be at most 34100 pence for this case (its arrears on record, the larger "
     "of the ledger's and the recorded total, plus the tolerance), not 34101"),
]


@pytest.mark.parametrize(("args", "reason"), REFUSALS, ids=lambda v: v if isinstance(v, str) else v[1])
def test_each_refusal_exits_non_zero_with_its_reason_and_changes_nothing(
    backend, advanced, cli, args, reason
):
    before = contents(advanced)
    result = cli(*args)
    assert (result.exit_code, result.refused) == (2, reason)
    assert contents(advanced) == before


def test_refused_choice_adds_only_its_refused_row(backend, advanced, cli):
    before = contents(advanced)
    result = cli("record", "choice", "--case", CHOOSING, "--choice", "collect",
        "--received", "2015-07-02", "--channel", "phone",
    )
    assert (result.exit_code, result.refused) == (2, "refused: received after the deadline 2015-07-01")
    after = contents(advanced)
    assert {name: rows for name, rows in after.items() if name != "operator_event"} == {
        name: rows for name, rows in before.items() if name != "operator_event"
    }
    assert stored_events(advanced) == [
        dict(kind="CHOICE", csa_case_ref=CHOOSING, value="COLLECT", channel="phone",
             received_on=date(2015, 7, 2), status="REFUSED",
             refusal="received after the deadline 2015-07-01"),
    ]


def test_every_event_refused_before_the_journey_has_been_advanced(backend, target, cli):
    before = contents(target)
    result = cli("record", "extension", "--case", CHOOSING, "--received", "2015-06-20"
    )
    assert (result.exit_code, result.refused) == (2, "refused: the journey has not been advanced yet")
    assert contents(target) == before


def test_accepted_events_are_stored_accepted_for_the_next_advance(backend, advanced, cli):
    commands = [
        ["application", "--case", LIVE, "--service", "collect-and-pay", "--received", "2015-06-10"],
        ["new-application", "--nrp", NRP, "--pwc", "P000000777", "--received", "2015-08-15"],
        ["extension", "--case", CHOOSING, "--received", "2015-07-01"],
        ["choice", "--case", CHOOSING, "--choice", "write-off", "--received", "2015-07-29"],
        ["hold-resolution", "--case", HELD, "--use", "amount", "--pwc-pence", "29000", "--sos-pence", "4000",
         "--reason", "ledger line missing", "--by", "A Caseworker"],
    ]
    for command in commands:
        result = cli("record", *command)
        assert (result.exit_code, result.refused) == (0, ""), command
        assert result.stdout.startswith("accepted:")
    accepted = dict(status="ACCEPTED")
    assert stored_events(advanced) == [
        dict(kind="APPLICATION", csa_case_ref=LIVE, value="COLLECT_AND_PAY", received_on=date(2015, 6, 10)) | accepted,
        dict(kind="NEW_APPLICATION", nrp_ref=NRP, pwc_ref="P000000777", received_on=CLOCK) | accepted,
        dict(kind="EXTENSION", csa_case_ref=CHOOSING, received_on=date(2015, 7, 1)) | accepted,
        dict(kind="CHOICE", csa_case_ref=CHOOSING, value="WRITE_OFF", channel="post",
             received_on=date(2015, 7, 29)) | accepted,
        dict(kind="HOLD_RESOLUTION", csa_case_ref=HELD, value="amount", pwc_pence=29_000, sos_pence=4_000,
             reason="ledger line missing", caseworker="A Caseworker", received_on=CLOCK) | accepted,
    ]
    with advanced.connect() as conn:
        recorded_at = conn.execute(select(operator_event.c.recorded_at)).scalars().all()
    assert all(stamp is not None for stamp in recorded_at)


def test_second_answer_before_the_next_advance_refused(backend, advanced, cli):
    answer = ["record", "choice", "--case", CHOOSING, "--choice", "collect", "--channel", "phone"]
    assert cli(*answer, "--received", "2015-06-20").exit_code == 0
    result = cli(*answer, "--received", "2015-06-25")
    assert (result.exit_code, result.refused) == (2, "refused: already answered on 2015-06-20")
    assert [e["status"] for e in stored_events(advanced)] == ["ACCEPTED", "REFUSED"]


MIXED = """event,case,service,nrp,pwc,choice,channel,received,use,pwc_pence,sos_pence,reason,by
application,C930000001,direct-pay,,,,,2015-06-10,,,,,
choice,C930000002,,,,collect,email,2015-06-20,,,,,
choice,C930000002,,,,write-off,post,2015-06-25,,,,,
extension,C930000001,,,,,,2015-06-20,,,,,
new-application,,,P000000001,P000000777,,,2015-07-01,,,,,
hold-resolution,S030000003,,,,,,,amount,29000,,checked,A Caseworker
refund,C930000001,,,,,,2015-06-20,,,,,
"""


def test_import_stores_good_rows_reports_bad_ones_by_line_and_exits_non_zero(
    backend, advanced, tmp_path, cli
):
    responses = tmp_path / "responses.csv"
    responses.write_text(MIXED)
    result = cli("import-responses", str(responses))
    assert (result.exit_code, result.refused) == (1, "refused: 4 of 7 rows; the other 3 were stored")
    for line, reason in [
        (4, "already answered on 2015-06-20"),
        (5, "the case is not awaiting a choice"),
        (7, "an amount resolution needs both the PWC and the SoS pence"),
        (8, "event must be application"),
    ]:
        rows = result.stdout.splitlines()
        assert any(row.lstrip("│ ").startswith(f"{line} ") and reason in row for row in rows), result.stdout
    assert [(e["kind"], e["status"]) for e in stored_events(advanced)] == [
        ("APPLICATION", "ACCEPTED"),
        ("CHOICE", "ACCEPTED"),
        ("CHOICE", "REFUSED"),
        ("NEW_APPLICATION", "ACCEPTED"),
    ]


def test_import_of_good_rows_only_exits_zero(backend, advanced, tmp_path, cli):
    responses = tmp_path / "responses.csv"
    responses.write_text(
        "event,case,received,choice\nextension,C930000002,2015-06-30,\nchoice,C930000002,2015-07-20,collect\n"
    )
    result = cli("import-responses", str(responses))
    assert (result.exit_code, result.refused) == (0, "")
    assert "responses imported" in result.stdout
    assert [(e["kind"], e["status"]) for e in stored_events(advanced)] == [
        ("EXTENSION", "ACCEPTED"),
        ("CHOICE", "ACCEPTED"),
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "refused: no such file: "),
        ("case,received\nC930000001,2015-06-10\n", "refused: responses.csv has no 'event' column"),
        (b"\xff\xfe\x00\x01binary", "refused: responses.csv is not a readable CSV file"),
        ("", "refused: responses.csv is not a readable CSV file"),
    ],
    ids=["missing", "no event column", "binary", "empty"],
)
def test_malformed_file_refused_whole(backend, advanced, tmp_path, cli, content, reason):
    responses = tmp_path / "responses.csv"
    if isinstance(content, bytes):
        responses.write_bytes(content)
    elif content is not None:
        responses.write_text(content)
    before = contents(advanced)
    result = cli("import-responses", str(responses))
    assert result.exit_code == 2 and result.refused.startswith(reason) and "\n" not in result.refused
    assert contents(advanced) == before


def import_file(cli, tmp_path, content: str | bytes) -> tuple[int, str, str]:
    """``import-responses`` of ``content``: exit code, stdout and the ``refused:`` lines."""
    responses = tmp_path / "responses.csv"
    if isinstance(content, bytes):
        responses.write_bytes(content)
    else:
        responses.write_text(content, newline="")
    result = cli("import-responses", str(responses))
    return result.exit_code, result.stdout, result.refused


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (
            "event,case,Case,received\nextension,C930000002,C930000002,2015-06-30\n",
            "refused: responses.csv line 1, column 3: the header 'Case' repeats column 2 ('case')",
        ),
        (
            "event,case,received,case\nextension,C930000002,2015-06-30,C930000002\n",
            "refused: responses.csv line 1, column 4: the header 'case' repeats column 2 ('case')",
        ),
        (
            'event,case,received\nextension,"C930000002,2015-06-30\n',
            "refused: responses.csv line 2: not a CSV row: unexpected end of data",
        ),
        (
            'event,case,received\nextension,"C93"0000002,2015-06-30\n',
            "refused: responses.csv line 2: not a CSV row: ',' expected after '\"'",
        ),
        ("e\x00vent,case,received\nextension,C930000002,2015-06-30\n", "refused: responses.csv has no 'event' column"),
        ("ev\nent,case\nextension,C930000002\n", "refused: responses.csv has no 'event' column"),
    ],
    ids=[
        "headers differing in case",
        "a header twice",
        "an open quote",
        "a stray quote",
        "no event column",
        "a header broken by a newline",
    ],
)
def test_a_malformed_file_is_refused_whole_in_one_line_naming_where(backend, advanced, tmp_path, cli, content, reason):
    before = contents(advanced)
    code, _, refused = import_file(cli, tmp_path, content)
    assert (code, refused) == (2, reason)
    assert contents(advanced) == before


def test_a_file_above_the_size_limits_is_refused_whole(backend, advanced, tmp_path, monkeypatch, cli):
    import flows.record

    row = "extension,C930000002,2015-06-30\n"
    monkeypatch.setattr(flows.record, "MAX_IMPORT_ROWS", 3)
    code, _, refused = import_file(cli, tmp_path, "event,case,received\n" + row * 4)
    assert (code, refused) == (2, "refused: responses.csv has more than 3 rows: split it")
    monkeypatch.setattr(flows.record, "MAX_IMPORT_BYTES", 100)
    code, _, refused = import_file(cli, tmp_path, "event,case,received\n" + row * 3)
    assert (code, refused) == (2, "refused: responses.csv is 116 bytes, more than the 100 an import takes: split it")
    assert stored_events(advanced) == []


def test_rows_with_extra_values_huge_pence_or_control_characters_are_refused_by_line(backend, advanced, tmp_path, cli):
    content = (
        "event,case,received,choice,use,pwc_pence,sos_pence,reason,by\n"
        "extension,C930000002,2015-06-30,,,,,,,,\n"  # trailing commas: harmless
        ",,,,,,,,\n"  # an empty row: skipped
        "application,C930000001,2015-06-10,,,,,,,surprise\n"  # a value beyond the header
        "hold-resolution,S030000003,,,amount,99999999999999999999999,0,checked,A Caseworker\n"
        'choice,"C93\n\x000000002",2015-07-20,collect,,,,,\n'  # a newline and a NUL in a quoted cell
        "choice,C930000002,2015-07-20,collect,,,,,\n"
    )
    code, out, refused = import_file(cli, tmp_path, content)
    assert (code, refused) == (1, "refused: 3 of 5 rows; the other 2 were stored")
    for line, reason in [
        (4, "column 10 holds 'surprise' but has no header"),
        (5, "pwc_pence must be whole pence of at most 18 digits, not '99999999999999999999999'"),
        (6, "case must not hold control characters, not 'C93\\n\\x000000002'"),
    ]:
        assert any(row.lstrip("│ ").startswith(f"{line} ") and reason in row for row in out.splitlines()), out
    assert not any(ch in out for ch in "\x00\x0b\x0c\r"), out
    assert [(e["kind"], e["status"]) for e in stored_events(advanced)] == [
        ("EXTENSION", "ACCEPTED"),
        ("CHOICE", "REFUSED"),
        ("CHOICE", "ACCEPTED"),  # every answer is kept
    ]


def test_a_new_application_recorded_twice_is_one_event(backend, advanced, tmp_path, cli):
    content = (
        "event,nrp,pwc,received\n"
        f"new-application,{NRP},P000000777,2015-07-01\n"
        f"new-application,{NRP.lower()},p000000777,2015-07-01\n"
        f"new-application,{NRP},P000000777,2015-07-02\n"
    )
    for run in ("first", "again"):
        code, out, refused = import_file(cli, tmp_path, content)
        assert (code, refused) == (0, ""), run
        recorded_before = 1 if run == "first" else 3  # the same application twice, then all of them
        assert re.search(rf"NEW_APPLICATION +│ +{3 - recorded_before} +│ +{recorded_before} +│ +0", out), out
    assert [(e["kind"], e["received_on"]) for e in stored_events(advanced)] == [
        ("NEW_APPLICATION", date(2015, 7, 1)),
        ("NEW_APPLICATION", date(2015, 7, 2)),
    ]


def test_an_import_run_twice_records_each_event_once_and_refuses_again_what_it_refused(
    backend, advanced, tmp_path, cli
):
    content = (
        "event,case,received,choice\n"
        "extension,C930000002,2015-06-30,\n"
        "choice,C930000002,2015-07-20,collect\n"
        "choice,C930000002,2015-07-21,write-off\n"  # a second answer: refused, and kept
    )
    assert import_file(cli, tmp_path, content)[::2] == (1, "refused: 1 of 3 rows; the other 2 were stored")
    events = stored_events(advanced)
    assert [(e["kind"], e["status"]) for e in events] == [
        ("EXTENSION", "ACCEPTED"), ("CHOICE", "ACCEPTED"), ("CHOICE", "REFUSED")
    ]
    again = import_file(cli, tmp_path, content)
    assert again[::2] == (1, "refused: 1 of 3 rows; 2 were recorded before, the other 0 were stored")
    assert stored_events(advanced) == events


def test_a_record_command_repeated_changes_nothing(backend, advanced, cli):
    extension = ("record", "extension", "--case", "C930000002", "--received", "2015-06-30")
    assert cli(*extension).stdout.startswith("accepted: extension for C930000002")
    events = stored_events(advanced)
    repeated = cli(*extension)
    assert (repeated.exit_code, repeated.refused) == (0, "")
    assert repeated.stdout.startswith("already recorded: extension for C930000002; nothing changed")
    assert stored_events(advanced) == events


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.text(max_size=12), min_size=1, max_size=6), min_size=1, max_size=4))
def test_no_cell_text_makes_an_import_fail_with_a_traceback(advanced, tmp_path, cli, rows):
    """Rows of arbitrary text under a header of the known columns, quoted as CSV writers do:
    stored, refused by line or refused whole, and never a raw control character shown."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([["event", "case", "received", "pwc_pence", "nrp", "pwc"], *rows])
    (tmp_path / "responses.csv").write_text(buffer.getvalue(), newline="")
    result = cli("import-responses", str(tmp_path / "responses.csv"))
    code, out, err = result.exit_code, result.stdout, result.stderr
    assert code in (0, 1, 2)
    assert not any(unicodedata.category(ch) == "Cc" and ch != "\n" for ch in out + err), repr(out + err)
    refused = [line for line in err.splitlines() if line.startswith("refused:")]
    assert len(refused) == (code != 0)
