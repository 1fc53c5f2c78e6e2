"""Whole journeys by date (issue 4): every segment and every decision branch of the rulebook.

One hand-built legacy estate holds a case per scenario (the table below). ``world`` drives it
the way operations do, once per backend: ``extract_legacy``, ``plan``, ``advance`` as of the
dates of ``TIMELINE``, the ``record`` commands through the CLI in between, and
``dispatch-letters`` twice at the end. Each test then checks one scenario's hand-worked
outcome, audit events and letters. Amounts are pence; the extract is of 2014-06-30, so every
look-back ends on that day: "paying" means a receipt posted after 2014-03-31.

The plan from 2014-08-24 (interval 7 days, default capacity) gives one tranche per group:

| tranche | selected | segments | cases | liability end | reminder |
| --- | --- | --- | --- | --- | --- |
| T0001 | 2014-08-24 | 1 | 101 | 2015-02-24 | 2015-01-24 |
| T0002 | 2014-08-31 | 2 | 201 202 203 | 2015-02-28 | 2015-01-28 |
| T0003 | 2014-09-07 | 3, 4 | 301 401 | 2015-03-07 | 2015-02-07 |
| T0004 | 2014-09-14 | 5 | 501 502 503 504 | 2015-03-14 | 2015-02-14 |
| T0005 | 2014-09-21 | 6 | 601 to 615, 99001 | (decided at once) | |
| R20140901 | 2014-09-01 | 5 | 701 (reactive) | 2014-10-01 | none |

Case 901 has no liability and no arrears: out of scope, never selected.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from conftest import BACKENDS, create_database_url, drop_database_url
from legacy_rows import (
    cs2_case,
    cs2_day,
    cs2_pounds,
    cscs_case,
    cscs_line,
    party,
    person,
    txn,
    write_estate,
)
from sqlalchemy import Engine, delete, func, select

from csa_closure.db import engine_for
from csa_closure.logs import configure_logging
from csa_closure.service.reconcile import ReconciliationBreak, require_reconciled
from csa_closure.settings import rule_settings
from extract import legacy_schema as legacy
from extract.cs2 import CS2
from flows.advance import advance
from flows.extraction import extract_legacy
from flows.plan import plan
from load.migrate import upgrade_target
from load.schema import (
    closure_outcome,
    cms_arrears_instalment,
    cms_case,
    cms_unpaid_maintenance,
    journey_event,
    letter,
    operator_event,
    target_metadata,
    tranche,
    write_off,
)

EXTRACTED_ON = date(2014, 6, 30)
D = date
BOTH = {"PWC", "NRP"}
AWAITING_END, ON_HOLD = "AWAITING_LIABILITY_END", "ON_HOLD"
AWAITING_CHOICE, CLOSED = "AWAITING_CHOICE", "CLOSED"


# --- the estate ---------------------------------------------------------------------------------


def line(posted: date, pence: int, creditor: str = "PWC", kind: str | None = None,
         period: tuple[date, date] | None = None) -> dict:
    """A canonical ledger line: a charge when ``pence`` > 0 (a receipt when < 0) by default."""
    kind = kind or ("CHARGE" if pence > 0 else "RECEIPT")
    start, end = period or (None, None)
    return dict(posted=posted, pence=pence, creditor=creditor, kind=kind, start=start, end=end)


def charge(pence: int, start: date, end: date, creditor: str = "PWC", kind: str = "CHARGE",
           posted: date | None = None) -> dict:
    return line(posted or end + timedelta(days=1), pence, creditor, kind, (start, end))


def receipt(posted: date, pence: int, creditor: str = "PWC") -> dict:
    return line(posted, -pence, creditor, "RECEIPT")


def nrp_of(k: int, scheme: str) -> str:
    return f"P{k:07d}01" if scheme == "1993" else f"CS2-{k * 10 + 1}"


def pwc_of(k: int, scheme: str) -> str:
    return f"P{k:07d}02" if scheme == "1993" else f"CS2-{k * 10 + 2}"


def names(k: int) -> dict[str, dict[str, str]]:
    """Each parent's own, unique identifying words: name, address line, postcode, NINO."""
    return {
        role: {
            "surname": f"{word}{k:05d}",
            "forenames": "Alex" if role == "NRP" else "Sam",
            "street": f"{k:05d} {word} Street",
            "postcode": f"{role[0]}X{k:05d}",
            "nino": f"QQ{k:05d}{1 if role == 'NRP' else 2}A",
        }
        for role, word in (("NRP", "Payer"), ("PWC", "Carer"))
    }


@dataclass(frozen=True)
class Facts:
    """A case in the rulebook's words, whichever system holds it; by default its recorded
    balance agrees with its ledger."""

    status: str = "LIVE"
    start: date = D(2005, 1, 1)
    weekly: int = 2500
    payment: str = "COLLECTION"
    enforcement: str | None = None
    clerical: bool = False
    dv: bool = False
    recorded: tuple[int, int] | None = None
    lines: Sequence[dict] = ()
    nrp: dict | None = None
    pwc: dict | None = None

    @property
    def balances(self) -> tuple[int, int]:
        """The recorded (total, SoS part)."""
        if self.recorded is not None:
            return self.recorded
        total = sum(entry["pence"] for entry in self.lines)
        return total, sum(entry["pence"] for entry in self.lines if entry["creditor"] == "SOS")


def cs2_code(column: str, meaning: str | None) -> str | None:
    """The first CS2 code for a canonical one."""
    return None if meaning is None else next(code for code, m in CS2.codes[column].items() if m == meaning)


@dataclass
class Estate:
    """Legacy rows by table, built case by case with the rulebook's words (``Facts``)."""

    rows: dict = field(default_factory=lambda: defaultdict(list))

    def _parents(self, table, k: int, case: Facts, row: Callable[[str, dict], dict]) -> None:
        """Both parents' rows from their own words, with the case's changes to either."""
        who = names(k)
        for role, changes in (("NRP", case.nrp), ("PWC", case.pwc)):
            self.rows[table].append(row(role, who[role]) | (changes or {}))

    def cscs(self, k: int, **facts) -> str:
        case, ref = Facts(**facts), f"C93{k:07d}"
        self._parents(legacy.cscs_person, k, case, lambda role, n: person(
            nrp_of(k, "1993") if role == "NRP" else pwc_of(k, "1993"),
            surname=n["surname"], forenames=n["forenames"], nino=n["nino"],
            address_line1=n["street"], town="Leeds", postcode=n["postcode"],
        ))
        total, sos = case.balances
        self.rows[legacy.cscs_case].append(cscs_case(
            ref, nrp_of(k, "1993"), pwc_of(k, "1993"), case_start_date=case.start, case_status=case.status,
            weekly_liability_pence=case.weekly, payment_method=case.payment, enforcement_action=case.enforcement,
            clerical=int(case.clerical), dv_marker=int(case.dv), arrears_total_pence=total,
            arrears_sos_pence=sos, assessment_type="NIL" if case.weekly == 0 else "FULL",
        ))
        for seq, entry in enumerate(case.lines, start=1):
            self.rows[legacy.cscs_ledger].append(cscs_line(
                ref, seq, posted_date=entry["posted"], txn_type=entry["kind"],
                creditor=entry["creditor"], amount_pence=entry["pence"],
                period_from=entry["start"], period_to=entry["end"],
            ))
        return ref

    def cs2(self, k: int, **facts) -> str:
        case, ref = Facts(**facts), f"S03{k:07d}"
        self._parents(legacy.cs2_party, k, case, lambda role, n: party(
            k * 10 + (1 if role == "NRP" else 2), family_name=n["surname"],
            given_names=n["forenames"], ni_number=n["nino"], addr=f"{n['street']}|Hull",
            post_code=n["postcode"],
        ))
        total, sos = case.balances
        self.rows[legacy.cs2_case].append(cs2_case(
            k, ref, paying_party_id=k * 10 + 1, receiving_party_id=k * 10 + 2,
            effective_dt=cs2_day(case.start), state_cd=cs2_code("status", case.status),
            rate_cd="NIL" if case.weekly == 0 else "BAS", weekly_amt=cs2_pounds(case.weekly),
            collection_cd=cs2_code("payment_method", case.payment),
            enf_cd=cs2_code("enforcement_action", case.enforcement),
            offline_ind="Y" if case.clerical else "N", dv_ind="Y" if case.dv else "N",
            debt_amt=cs2_pounds(total), debt_sos_amt=cs2_pounds(sos),
        ))
        codes = {"CHARGE": "CHG", "RECEIPT": "RCP"}
        for number, entry in enumerate(case.lines, start=1):
            code = codes.get(entry["kind"]) or ("ADJ+" if entry["pence"] > 0 else "ADJ-")
            self.rows[legacy.cs2_txn].append(txn(
                k * 100 + number, k, posted_dt=cs2_day(entry["posted"]), txn_cd=code,
                owed_to="RP" if entry["creditor"] == "PWC" else "SS",
                amt=cs2_pounds(entry["pence"]), period_start_dt=cs2_day(entry["start"]),
                period_end_dt=cs2_day(entry["end"]),
            ))
        return ref


def scenario_estate() -> Estate:
    estate = Estate()
    yr = charge  # readability: a year's (or period's) charge
    # T0001, segment 1: nil assessed, no arrears at all; the receiving parent is untraced
    estate.cscs(101, weekly=0, payment="NONE", pwc={"address_line1": None, "town": None,
                                                    "postcode": None})
    # T0002, segment 2 (no receipt since 2014-03-31)
    estate.cs2(201, start=D(2008, 8, 31), weekly=1500, lines=[        # EXAMPLES.md B
        yr(50_000, D(2012, 1, 1), D(2012, 12, 31)), receipt(D(2013, 3, 1), 10_000)])
    estate.cs2(202, start=D(2009, 3, 1), weekly=2000, lines=[
        yr(120_000, D(2013, 1, 1), D(2013, 12, 31))])
    estate.cscs(203, start=D(2010, 2, 1), weekly=3000, dv=True, lines=[
        yr(30_000, D(2013, 1, 1), D(2013, 5, 31))])
    # T0003, segments 3 and 4 (paying)
    estate.cscs(301, start=D(2006, 4, 1), clerical=True, lines=[
        yr(30_000, D(2013, 1, 1), D(2013, 12, 31)), yr(12_000, D(2014, 1, 1), D(2014, 5, 31)),
        receipt(D(2014, 6, 15), 7_000), yr(8_000, D(2012, 4, 1), D(2012, 9, 30), "SOS")])
    estate.cs2(401, start=D(2010, 6, 1), weekly=6000, lines=[
        yr(6_000, D(2014, 4, 1), D(2014, 4, 30)), receipt(D(2014, 5, 20), 6_000)])
    # T0004, segment 5 (deduction from earnings or enforcement): the holds
    estate.cscs(501, start=D(2007, 5, 1), weekly=2000, payment="DEO", recorded=(30_500, 0),
                lines=[yr(30_000, D(2012, 3, 1), D(2013, 2, 28))])
    estate.cs2(502, start=D(2008, 6, 1), enforcement="LIABILITY_ORDER", recorded=(72_000, 0),
               lines=[yr(70_000, D(2013, 2, 1), D(2014, 1, 31))])
    estate.cscs(503, start=D(2008, 1, 15), weekly=4000, enforcement="LIABILITY_ORDER",
                recorded=(90_000, 20_000), lines=[
                    yr(80_000, D(2012, 7, 1), D(2013, 6, 30)),
                    yr(20_000, D(2011, 1, 1), D(2011, 12, 31), "SOS")])
    estate.cs2(504, start=D(2011, 1, 1), weekly=1000, payment="DEO", recorded=(0, 0), lines=[
        yr(4_000, D(2014, 4, 1), D(2014, 4, 30)), receipt(D(2014, 5, 20), 5_500)])
    # segment 5 too, but closed reactively on 2014-09-01, before T0004
    estate.cscs(701, start=D(2011, 3, 1), payment="DEO", lines=[
        yr(25_000, D(2013, 8, 1), D(2014, 1, 31))])
    # T0005, segment 6 (arrears only): decided on selection, 2014-09-21
    only = dict(status="ARREARS_ONLY", weekly=0, payment="NONE")
    estate.cscs(601, start=D(2001, 1, 1), **only, nrp={"date_of_death": D(2013, 5, 1)}, lines=[
        yr(20_000, D(2004, 1, 1), D(2004, 12, 31)), yr(5_000, D(2004, 1, 1), D(2004, 12, 31), "SOS")])
    estate.cscs(602, start=D(1993, 5, 1), **only, lines=[
        yr(30_000, D(1993, 6, 1), D(1994, 5, 31), kind="IMA_CHARGE"),   # wholly in the window
        yr(12_000, D(1995, 1, 1), D(1995, 6, 30), kind="IMA_CHARGE"),   # only partly
        yr(50_000, D(2010, 1, 1), D(2013, 12, 31)), receipt(D(2014, 6, 1), 2_000)])
    estate.cscs(603, start=D(2003, 3, 1), **only, lines=[
        yr(30_000, D(2007, 1, 1), D(2007, 12, 31), "SOS")])
    estate.cs2(604, start=D(2002, 2, 1), **only, pwc={"death_dt": "01/01/2014"}, lines=[
        yr(80_000, D(2009, 1, 1), D(2009, 12, 31)), yr(10_000, D(2009, 1, 1), D(2009, 12, 31), "SOS")])
    estate.cscs(605, start=D(2009, 1, 1), **only, lines=[yr(6_499, D(2012, 1, 1), D(2012, 12, 31))])
    estate.cscs(606, start=D(2009, 1, 1), **only, lines=[yr(6_500, D(2012, 1, 1), D(2012, 12, 31))])
    estate.cs2(607, start=D(2004, 9, 21), **only, lines=[
        yr(100_000, D(2010, 1, 1), D(2010, 12, 31))])              # 10 years old on 2014-09-21
    estate.cs2(608, start=D(2004, 9, 22), **only, lines=[
        yr(50_000, D(2010, 1, 1), D(2010, 12, 31))])               # 9 years old on 2014-09-21
    estate.cscs(609, start=D(2004, 9, 22), **only, lines=[yr(50_001, D(2010, 1, 1), D(2010, 12, 31))])
    estate.cscs(611, start=D(2000, 1, 1), **only, lines=[yr(150_000, D(2009, 1, 1), D(2009, 12, 31))],
                nrp={"address_line1": None, "town": None, "postcode": None})
    estate.cs2(612, start=D(2001, 1, 1), **only, lines=[yr(150_000, D(2009, 1, 1), D(2009, 12, 31))],
               nrp={"overseas_flag": "Y"})
    estate.cscs(614, start=D(2002, 1, 1), **only, lines=[yr(120_000, D(2009, 1, 1), D(2009, 12, 31))])
    estate.cscs(615, start=D(2002, 1, 1), **only, lines=[yr(130_000, D(2009, 1, 1), D(2009, 12, 31))])
    estate.cscs(99001, start=D(1993, 9, 1), **only, lines=[                 # EXAMPLES.md A
        yr(80_000, D(1993, 9, 1), D(1994, 8, 31), kind="IMA_CHARGE", posted=D(1994, 9, 5)),
        yr(40_000, D(1994, 9, 1), D(1995, 8, 31), kind="IMA_CHARGE", posted=D(1995, 9, 5)),
        yr(150_000, D(1995, 9, 1), D(1998, 8, 31), posted=D(1998, 9, 5)),
        yr(60_000, D(1995, 9, 1), D(1998, 8, 31), "SOS", posted=D(1998, 9, 5)),
        receipt(D(1999, 1, 10), 100_000),
        line(D(2000, 3, 1), 5_000, kind="ADJUSTMENT"),
        receipt(D(2002, 5, 1), 20_000, "SOS")])
    # out of scope: no liability, nothing owed
    estate.cscs(901, **only, lines=[])
    return estate


# --- driving the journey as operations do -------------------------------------------------------

NEW_APPLICANT = "P000079902"


def ref(k: int) -> str:
    return f"S03{k:07d}" if k in CS2_CASES else f"C93{k:07d}"


CS2_CASES = {201, 202, 401, 502, 504, 604, 607, 608, 612}


@dataclass
class World:
    """The target after the whole timeline, with what each step showed on the way."""

    target: Engine
    plan_nothing_to_do: int
    states: dict[date, dict[str, dict]]  # closure_outcome rows after each advance
    commands: dict[str, object]          # results of the CLI steps worth checking
    late_answer_before: dict
    late_answer_after: dict
    dispatches: list[dict]
    printed: dict[int, str]              # each dispatched letter's text, from the print file


def _outcomes(target: Engine) -> dict[str, dict]:
    with target.connect() as conn:
        return {row["csa_case_ref"]: dict(row) for row in conn.execute(select(closure_outcome)).mappings()}


def _contents(target: Engine) -> dict[str, list[tuple]]:
    with target.connect() as conn:
        return {
            table.name: sorted(map(tuple, conn.execute(select(table))), key=repr)
            for table in target_metadata.sorted_tables
            if table.name not in ("engine_run",)
        }


def _record(cli, *args: str) -> None:
    result = cli("record", *args)
    assert result.exit_code == 0, (args, result.stdout, result.stderr, repr(result.exception))


def _advance(as_of: date, target: Engine, states: dict) -> None:
    result = advance(as_of)
    assert isinstance(result, dict), result
    states[as_of] = _outcomes(target)


def _import(cli, folder, name: str, *events: dict) -> None:
    """Several events in one ``import-responses`` file, as operations batch them."""
    path = folder / f"{name}.csv"
    columns = ["event", "case", "service", "nrp", "pwc", "choice", "channel", "received", "use",
               "pwc_pence", "sos_pence", "reason", "by"]
    rows = [",".join(str(event.get(column, "")) for column in columns) for event in events]
    path.write_text("\n".join([",".join(columns), *rows]) + "\n")
    result = cli("import-responses", str(path))
    assert result.exit_code == 0, (result.stdout, result.stderr, repr(result.exception))


def run_timeline(target: Engine, folder, cli) -> World:
    """Everything operations do, in date order; returns what the tests look at."""
    states: dict[date, dict[str, dict]] = {}
    commands: dict[str, object] = {}
    extract_legacy()
    summary = plan(D(2014, 8, 24))
    _advance(D(2014, 8, 24), target, states)
    _advance(D(2014, 9, 1), target, states)
    # new CMS applications: one names the NRP of an open unselected case, one of a selected case
    _record(cli, "new-application", "--nrp", nrp_of(701, "1993"), "--pwc", NEW_APPLICANT,
            "--received", "2014-09-01")
    _import(cli, folder, "applications-0901", dict(event="new-application", nrp=nrp_of(203, "1993"),
                                              pwc="P000079903", received="2014-09-01"))
    _advance(D(2014, 9, 21), target, states)
    _advance(D(2014, 10, 10), target, states)
    _import(
        cli, folder, "answers-1010",
        dict(event="choice", case=ref(611), choice="collect", received="2014-10-01"),
        dict(event="choice", case=ref(609), choice="write-off", received="2014-10-05"),
        dict(event="choice", case=ref(612), choice="collect", received="2014-10-08", channel="phone"),
        dict(event="choice", case=ref(99001), choice="collect", received="2014-10-10"),
    )
    _advance(D(2014, 10, 21), target, states)  # the deadline of T0005's choices: still open
    _record(cli, "extension", "--case", ref(615), "--received", "2014-10-20")
    _advance(D(2014, 11, 5), target, states)
    before = _contents(target)
    commands["late_answer"] = cli("record", "choice", "--case", ref(614), "--choice", "collect",
                              "--received", "2014-10-25")
    after = _contents(target)
    _record(cli, "choice", "--case", ref(615), "--choice", "collect", "--received", "2014-11-05")
    _advance(D(2014, 12, 10), target, states)
    _record(cli, "application", "--case", ref(201), "--service", "direct-pay", "--received", "2014-12-10")
    _import(
        cli, folder, "events-1210",
        dict(event="application", case=ref(202), service="collect-and-pay", received="2014-12-10"),
        dict(event="hold-resolution", case=ref(502), use="recorded",
             reason="recorded balance includes a late charge", by="caseworker 7"),
    )
    _advance(D(2015, 3, 10), target, states)  # one run catches up three months
    _record(cli, "choice", "--case", ref(202), "--choice", "collect", "--received", "2015-03-10")
    _advance(D(2015, 3, 31), target, states)
    _record(cli, "hold-resolution", "--case", ref(503), "--use", "amount", "--pwc-pence", "85000",
            "--sos-pence", "20000", "--reason", "agreed with both parents", "--by", "caseworker 9")
    _import(cli, folder, "resolutions-0331", dict(event="hold-resolution", case=ref(501), use="ledger",
                                             reason="ledger checked", by="caseworker 7"))
    _advance(D(2015, 4, 20), target, states)
    dispatches = []
    letters_dir = folder / "letters"
    for _ in range(2):
        result = cli("dispatch-letters", "--out", str(letters_dir))
        assert result.exit_code == 0, (result.stdout, result.stderr, repr(result.exception))
        dispatches.append({"output": result.stdout, "files": sorted(p.name for p in letters_dir.iterdir())})
    printed = {}
    for print_file in letters_dir.glob("PB*.txt"):
        for part in print_file.read_text(encoding="utf-8").split("\f\n"):
            header, text = part.split("\n", 1)
            printed[int(header.split(" | ")[0].removeprefix("letter "))] = text
    return World(target, summary.nothing_to_do, states, commands, before, after, dispatches, printed)


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request) -> str:
    """Module-scoped here: the timeline runs once per backend, the tests only read it."""
    return request.param


@pytest.fixture(scope="module")
def world(backend, tmp_path_factory, prefect_harness, cli):
    folder = tmp_path_factory.mktemp(f"journey-{backend}")
    legacy_url = create_database_url(backend, folder, "legacy")
    target_url = create_database_url(backend, folder, "target")
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("CSA_LEGACY_URL", legacy_url)
            env.setenv("CSA_TARGET_URL", target_url)
            rule_settings.cache_clear()
            configure_logging()  # before the first CliRunner, whose streams close after it
            write_estate(engine_for(legacy_url, legacy=True, writable=True), scenario_estate().rows, EXTRACTED_ON)
            target = engine_for(target_url)
            upgrade_target(target)
            yield run_timeline(target, folder, cli)
    finally:
        rule_settings.cache_clear()
        for url in (legacy_url, target_url):
            drop_database_url(url)


# --- reading the target -------------------------------------------------------------------------


def outcome(world: World, k: int, on: date | None = None) -> dict:
    rows = world.states[on] if on else world.states[max(world.states)]
    return rows[ref(k)]


def letters(world: World, k: int) -> set[tuple]:
    """(journey event, template, recipient, status, created on) of a case's letters."""
    with world.target.connect() as conn:
        rows = conn.execute(
            select(letter.c.journey_event, letter.c.template, letter.c.recipient_role,
                   letter.c.status, letter.c.created_on).where(letter.c.csa_case_ref == ref(k))
        ).all()
    return {tuple(row) for row in rows}


def liability_letters(selected: date, reminder: date | None, ended: date,
                      to=BOTH, status: str = "DISPATCHED") -> set[tuple]:
    out = set()
    for role in to:
        out |= {("SELECTION", "INITIAL_NOTICE", role, status, selected),
                ("LIABILITY_END", "LIABILITY_ENDED", role, status, ended)}
        if reminder:
            out.add(("REMINDER", "REMINDER", role, status, reminder))
    return out


def decision_letters(event: str, template: str, on: date, to=BOTH, status="DISPATCHED") -> set[tuple]:
    return {(event, template, role, status, on) for role in to}


def events(world: World, k: int) -> list[tuple]:
    """(from, to, effective date, cause) of a case's audit trail, in the order written."""
    with world.target.connect() as conn:
        rows = conn.execute(
            select(journey_event.c.from_state, journey_event.c.to_state,
                   journey_event.c.effective_date, journey_event.c.cause)
            .where(journey_event.c.csa_case_ref == ref(k)).order_by(journey_event.c.event_id)
        ).all()
    return [tuple(row) for row in rows]


def write_offs(world: World, k: int) -> dict[tuple[str, str], tuple[int, date]]:
    with world.target.connect() as conn:
        rows = conn.execute(
            select(write_off.c.creditor, write_off.c.reason, write_off.c.amount_pence,
                   write_off.c.decided_on).where(write_off.c.csa_case_ref == ref(k))
        ).all()
    return {(c, r): (a, d) for c, r, a, d in rows}


def cms(world: World, k: int) -> dict | None:
    """The case's CMS case, its lines by creditor and each line's instalments."""
    with world.target.connect() as conn:
        case = conn.execute(select(cms_case).where(cms_case.c.csa_case_ref == ref(k))).mappings().first()
        if case is None:
            return None
        lines = {}
        for row in conn.execute(select(cms_unpaid_maintenance).where(
                cms_unpaid_maintenance.c.cms_case_id == case["cms_case_id"])).mappings():
            instalments = conn.execute(
                select(cms_arrears_instalment.c.instalment_no, cms_arrears_instalment.c.due_on,
                       cms_arrears_instalment.c.amount_pence)
                .where(cms_arrears_instalment.c.unpaid_maintenance_id == row["id"])
                .order_by(cms_arrears_instalment.c.instalment_no)
            ).all()
            lines[row["creditor"]] = dict(row) | {"instalments": [tuple(i) for i in instalments]}
    return dict(case) | {"lines": lines}


def money(row: dict) -> tuple:
    return (row["journey_state"], row["arrears_pwc_pence"], row["arrears_sos_pence"],
            row["transferred_pence"], row["written_off_pence"], row["pending_pence"],
            row["on_hold_pence"])


def transfer(line: dict) -> tuple:
    """What a CMS line took over: its amount, the period it accrued in, and when."""
    return (line["amount_pence"], line["accrued_from"], line["accrued_to"], line["transferred_on"])


def pwc_line(world: World, k: int) -> tuple[tuple, tuple, list[tuple]]:
    """The case's CMS opening (service, date, scheme), what its PWC line took over, and the
    line's instalments."""
    case = cms(world, k)
    line = case["lines"]["PWC"]
    return (case["service_type"], case["opened_on"], case["origin_scheme"]), transfer(line), line["instalments"]


def monthly(first: date, count: int) -> list[date]:
    return [D(first.year + (first.month - 1 + i) // 12, (first.month - 1 + i) % 12 + 1, 1)
            for i in range(count)]


def schedule(first_due: date, amount: int, count: int) -> list[tuple]:
    each = amount // count
    amounts = [each] * (count - 1) + [amount - each * (count - 1)]
    return [(n + 1, due, pence) for n, (due, pence) in enumerate(zip(monthly(first_due, count), amounts))]


# --- segments and selection -----------------------------------------------------------------------


@dataclass(frozen=True)
class OwnJourney:
    """A hand-built estate of a test's own, extracted on ``EXTRACTED_ON``, in databases of its
    own that the commands use (``CSA_LEGACY_URL``, ``CSA_TARGET_URL``)."""

    legacy: Engine
    target: Engine


@pytest.fixture
def own_journey(database_url_factory, monkeypatch, prefect_harness) -> Callable[..., OwnJourney]:
    """Writes ``estate`` as a legacy estate and an empty target, with rule settings of the test's
    own (``CSA_RULE_<NAME>``)."""
    def build(estate: Estate, **rules: str) -> OwnJourney:
        legacy_url, target_url = database_url_factory("legacy"), database_url_factory("target")
        settings = {"CSA_LEGACY_URL": legacy_url, "CSA_TARGET_URL": target_url}
        for name, value in (settings | {f"CSA_RULE_{rule.upper()}": v for rule, v in rules.items()}).items():
            monkeypatch.setenv(name, value)
        rule_settings.cache_clear()
        journey = OwnJourney(engine_for(legacy_url, legacy=True, writable=True), engine_for(target_url))
        write_estate(journey.legacy, estate.rows, EXTRACTED_ON)
        upgrade_target(journey.target)
        return journey

    yield build
    rule_settings.cache_clear()


def test_each_segment_group_is_selected_in_order_on_its_own_date_within_capacity(own_journey):
    """[[1], [2], [3, 4], [5], [6]] on successive dates; capacity 2 cuts group 2 in two
    tranches (oldest start first, then reference), and 3 and 4 share one."""
    estate = Estate()
    paid = [charge(6_000, D(2014, 4, 1), D(2014, 4, 30)), receipt(D(2014, 5, 20), 6_000)]
    estate.cscs(1, weekly=0, payment="NONE")                                   # segment 1
    estate.cs2(2, start=D(2005, 1, 1))                                         # segment 2
    estate.cscs(4, start=D(2004, 1, 1))                                        # segment 2
    estate.cscs(3, start=D(2004, 1, 1))                                        # segment 2
    estate.cscs(5, clerical=True, lines=paid)                                  # segment 3
    estate.cs2(6, weekly=6000, lines=paid)                                     # segment 4
    estate.cscs(7, lines=paid, enforcement="CHARGING_ORDER")                   # segment 5
    estate.cs2(8, status="ARREARS_ONLY", weekly=0, payment="NONE",             # segment 6
               lines=[charge(9_000, D(2010, 1, 1), D(2010, 12, 31))])
    estate.cscs(9, status="ARREARS_ONLY", weekly=0, payment="NONE")            # out of scope
    target = own_journey(estate, tranche_capacity="2").target
    extract_legacy()
    summary = plan(D(2014, 8, 24))
    assert summary.nothing_to_do == 1 and summary.unplanned == 0
    advance(D(2014, 9, 28))  # one run selects every tranche, in date order

    with target.connect() as conn:
        tranches = conn.execute(
            select(tranche.c.tranche_id, tranche.c.selection_date, tranche.c.segment_group,
                   tranche.c.selected_cases).order_by(tranche.c.tranche_id)).all()
        selected = {row.csa_case_ref: (row.tranche_id, row.batch_id, row.selected_on, row.segment)
                    for row in conn.execute(select(closure_outcome))}
    assert [tuple(row) for row in tranches] == [
        ("T0001", D(2014, 8, 24), "1", 1),
        ("T0002", D(2014, 8, 31), "2", 2),
        ("T0003", D(2014, 9, 7), "2", 1),
        ("T0004", D(2014, 9, 14), "3,4", 2),
        ("T0005", D(2014, 9, 21), "5", 1),
        ("T0006", D(2014, 9, 28), "6", 1),
    ]
    assert selected == {
        "C930000001": ("T0001", "T0001-B001", D(2014, 8, 24), 1),
        "C930000003": ("T0002", "T0002-B001", D(2014, 8, 31), 2),
        "C930000004": ("T0002", "T0002-B001", D(2014, 8, 31), 2),
        "S030000002": ("T0003", "T0003-B001", D(2014, 9, 7), 2),
        "C930000005": ("T0004", "T0004-B001", D(2014, 9, 14), 3),
        "S030000006": ("T0004", "T0004-B001", D(2014, 9, 14), 4),
        "C930000007": ("T0005", "T0005-B001", D(2014, 9, 21), 5),
        "S030000008": ("T0006", "T0006-B001", D(2014, 9, 28), 6),
    }  # C930000009 (no liability, nothing owed) is never selected


def test_a_group_a_newer_extract_made_larger_is_walked_as_it_now_is_not_as_planned(own_journey):
    """Section 2, step 3: the walk stays on a group until it has no unselected case left. A
    newer extract moves a case into group 2 after the plan: group 2 then takes one more date,
    and group 3,4 waits for it rather than sharing a tranche with it."""
    estate = Estate()
    paid_on = lambda day: [charge(6_000, D(2014, 3, 1), D(2014, 3, 31)), receipt(day, 6_000)]  # noqa: E731
    estate.cscs(1, weekly=0, payment="NONE")                                   # segment 1
    estate.cscs(2, start=D(2002, 1, 1))                                        # segment 2
    estate.cscs(3, start=D(2003, 1, 1))                                        # segment 2
    estate.cscs(4, start=D(2001, 1, 1), lines=paid_on(D(2014, 5, 1)))          # 4, then 2 from 2014-08-05
    estate.cscs(5, start=D(2004, 1, 1), lines=paid_on(D(2014, 6, 1)))          # segment 4
    estate.cscs(6, start=D(2005, 1, 1), lines=paid_on(D(2014, 6, 1)))          # segment 4
    journey = own_journey(estate, tranche_capacity="2")
    plan(D(2014, 8, 1))
    advance(D(2014, 8, 2))
    with journey.legacy.begin() as conn:  # the same rows extracted again on 2014-08-05: case 4's
        conn.execute(legacy.cscs_extract.update().values(extracted_on=D(2014, 8, 5)))  # receipt is
        conn.execute(legacy.cs2_extract.update().values(extract_dt="05/08/2014"))  # now 96 days old
    advance(D(2014, 9, 1))

    with journey.target.connect() as conn:
        tranches = conn.execute(select(tranche.c.tranche_id, tranche.c.segment_group, tranche.c.selected_cases)
                                .order_by(tranche.c.tranche_id)).all()
        taken = dict(conn.execute(select(closure_outcome.c.csa_case_ref, closure_outcome.c.tranche_id)).all())
    assert [tuple(row) for row in tranches] == [
        ("T0001", "1", 1), ("T0002", "2", 2), ("T0003", "2", 1), ("T0004", "3,4", 2)
    ]
    assert taken == {"C930000001": "T0001", "C930000004": "T0002", "C930000002": "T0002",
                     "C930000003": "T0003", "C930000005": "T0004", "C930000006": "T0004"}


def test_a_run_catching_up_after_a_newer_extract_verifies_against_that_extract_whole(own_journey):
    """A tranche dated before a newer extract, selected by the run that caught up after it:
    the case's recorded balance counts a charge posted after the tranche's date, and so does
    its ledger balance, so the case is verified, not held (section 5)."""
    estate = Estate()
    estate.cscs(1, weekly=0, payment="NONE")                                   # segment 1: T0001
    estate.cscs(2, status="ARREARS_ONLY", weekly=0, payment="NONE",            # segment 6: T0002
                lines=[charge(90_000, D(2010, 1, 1), D(2010, 12, 31))])
    journey = own_journey(estate)
    plan(D(2014, 8, 1))
    advance(D(2014, 8, 1))
    with journey.legacy.begin() as conn:  # extracted again on 2014-09-30, with a charge of 2014-09-15
        conn.execute(legacy.cscs_ledger.insert().values(cscs_line(
            "C930000002", 9, posted_date=D(2014, 9, 15), amount_pence=5_000,
            period_from=D(2011, 1, 1), period_to=D(2011, 1, 31))))
        conn.execute(legacy.cscs_case.update().where(legacy.cscs_case.c.case_ref == "C930000002")
                     .values(arrears_total_pence=95_000))
        conn.execute(legacy.cscs_extract.update().values(extracted_on=D(2014, 9, 30)))
        conn.execute(legacy.cs2_extract.update().values(extract_dt="30/09/2014"))
    advance(D(2014, 10, 1))

    o = closure_outcome.c
    with journey.target.connect() as conn:
        got = conn.execute(select(o.tranche_id, o.selected_on, o.journey_state, o.hold_reason, o.arrears_pwc_pence)
                           .where(o.csa_case_ref == "C930000002")).one()
    assert tuple(got) == ("T0002", D(2014, 8, 8), "CLOSED", None, 95_000)  # no answer by the deadline


def test_scenario_plan_gives_one_tranche_per_group_and_leaves_out_of_scope_cases_alone(world):
    final = world.states[max(world.states)]
    by_tranche = defaultdict(set)
    for case_ref, row in final.items():
        by_tranche[(row["tranche_id"], row["selected_on"], row["segment"])].add(case_ref)
    assert dict(by_tranche) == {
        ("T0001", D(2014, 8, 24), 1): {ref(101)},
        ("T0002", D(2014, 8, 31), 2): {ref(201), ref(202), ref(203)},
        ("T0003", D(2014, 9, 7), 3): {ref(301)},
        ("T0003", D(2014, 9, 7), 4): {ref(401)},
        ("T0004", D(2014, 9, 14), 5): {ref(501), ref(502), ref(503), ref(504)},
        ("R20140901", D(2014, 9, 1), 5): {ref(701)},
        ("T0005", D(2014, 9, 21), 6): {ref(k) for k in (601, 602, 603, 604, 605, 606, 607, 608,
                                                         609, 611, 612, 614, 615, 99001)},
    }
    assert {row["batch_id"] for row in final.values()} == {
        "T0001-B001", "T0002-B001", "T0003-B001", "T0004-B001", "T0005-B001", "R20140901-B001"}
    assert ref(901) not in final
    assert world.plan_nothing_to_do == 1


# --- the liability journey (segments 1 to 5) -------------------------------------------------------


def test_liability_letters_go_to_both_parents_on_their_own_dates_though_one_run_caught_up_months(world):
    """S = 2014-08-31 → E = 2015-02-28 (no 31 February), reminder 2015-01-28; the run as of
    2015-03-10 did the reminder, the end and the decision, each letter dated its own day."""
    assert outcome(world, 203)["liability_end_date"] == D(2015, 2, 28)
    assert letters(world, 203) == liability_letters(D(2014, 8, 31), D(2015, 1, 28), D(2015, 2, 28)) | \
        decision_letters("DECISION", "ARREARS_WRITTEN_OFF", D(2015, 2, 28))
    assert outcome(world, 301)["liability_end_date"] == D(2015, 3, 7)
    assert {letter for letter in letters(world, 301) if letter[0] != "DECISION"} == liability_letters(
        D(2014, 9, 7), D(2015, 2, 7), D(2015, 3, 7))
    # before the catch-up run only the initial notices had gone
    assert outcome(world, 203, D(2014, 12, 10))["journey_state"] == AWAITING_END


def test_zero_verified_arrears_close_the_case_with_no_decision_and_no_decision_letters(world):
    for k, selected, _reminder, ended in ((101, D(2014, 8, 24), D(2015, 1, 24), D(2015, 2, 24)),
                                         (401, D(2014, 9, 7), D(2015, 2, 7), D(2015, 3, 7))):
        assert money(outcome(world, k)) == (CLOSED, 0, 0, 0, 0, 0, 0)
        assert outcome(world, k)["cms_case_id"] is None and cms(world, k) is None
        assert write_offs(world, k) == {}
        assert {letter[0] for letter in letters(world, k)} == {"SELECTION", "REMINDER", "LIABILITY_END"}
        assert events(world, k) == [(None, AWAITING_END, selected, "SELECTION"),
                                    (AWAITING_END, CLOSED, ended, "DECISION")]


# --- the arrears decision (section 6) -------------------------------------------------------------


def test_nrp_deceased_writes_off_both_creditors_with_a_letter_to_the_pwc_only(world):
    assert money(outcome(world, 601)) == (CLOSED, 20_000, 5_000, 0, 25_000, 0, 0)
    assert write_offs(world, 601) == {("PWC", "NRP_DECEASED"): (20_000, D(2014, 9, 21)),
                                      ("SOS", "NRP_DECEASED"): (5_000, D(2014, 9, 21))}
    assert letters(world, 601) == decision_letters("DECISION", "ARREARS_WRITTEN_OFF",
                                                   D(2014, 9, 21), to={"PWC"})
    assert events(world, 601) == [(None, CLOSED, D(2014, 9, 21), "DECISION")]


def test_outstanding_interim_charges_wholly_in_the_1993_95_window_are_written_off_and_not_transferred(world):
    """The 2,000 receipt pays the oldest debit: the window charge keeps 28,000 outstanding,
    written off; the charge running past 1995-04-18 stays. Paying, so the rest (62,000) goes
    to the CMS, accrued from 1995-01-01 (not 1993) to 2013-12-31."""
    decided = D(2014, 9, 21)
    assert money(outcome(world, 602)) == (CLOSED, 90_000, 0, 62_000, 28_000, 0, 0)
    assert write_offs(world, 602) == {("PWC", "IMA_1993_1995"): (28_000, decided)}
    opened, taken, instalments = pwc_line(world, 602)
    assert opened == ("ARREARS_ONLY", decided, "1993")
    assert taken == (62_000, D(1995, 1, 1), D(2013, 12, 31), decided)
    assert instalments == schedule(D(2014, 10, 1), 62_000, 36)  # 35 × 1,722 + 1,730
    assert instalments[-1] == (36, D(2017, 9, 1), 1_730)
    assert set(cms(world, 602)["lines"]) == {"PWC"}
    assert letters(world, 602) == decision_letters("DECISION", "ARREARS_TRANSFERRED", decided)


def test_a_paying_case_transfers_both_creditors_to_an_arrears_only_cms_case_opened_on_the_transfer_date(world):
    """301: receipt 2014-06-15; PWC 30,000 + 12,000 − 7,000 (off the oldest charge) = 35,000
    accrued 2013-01-01 to 2014-05-31; SoS 8,000 accrued 2012-04-01 to 2012-09-30."""
    ended = D(2015, 3, 7)
    assert money(outcome(world, 301)) == (CLOSED, 35_000, 8_000, 43_000, 0, 0, 0)
    case = cms(world, 301)
    assert (case["service_type"], case["opened_on"], case["tranche_id"], case["batch_id"]) == (
        "ARREARS_ONLY", ended, "T0003", "T0003-B001")
    assert outcome(world, 301)["cms_case_id"] == case["cms_case_id"]
    lines = {c: (line["amount_pence"], line["accrued_from"], line["accrued_to"], line["transferred_on"],
                 line["origin_scheme"]) for c, line in case["lines"].items()}
    assert lines == {"PWC": (35_000, D(2013, 1, 1), D(2014, 5, 31), ended, "1993"),
                     "SOS": (8_000, D(2012, 4, 1), D(2012, 9, 30), ended, "1993")}
    assert case["lines"]["PWC"]["instalments"] == schedule(D(2015, 4, 1), 35_000, 36)  # 35 × 972 + 980
    assert case["lines"]["SOS"]["instalments"] == schedule(D(2015, 4, 1), 8_000, 16)  # 16 × 500
    assert write_offs(world, 301) == {}
    assert {letter for letter in letters(world, 301) if letter[0] == "DECISION"} == decision_letters(
        "DECISION", "ARREARS_TRANSFERRED", ended)


@pytest.mark.parametrize(("k", "pwc", "sos", "written_off"), [
    pytest.param(603, 0, 30_000, {("SOS", "SOS_NON_PAYING"): 30_000}, id="sos_part_of_a_non_paying_case"),
    pytest.param(604, 80_000, 10_000, {("SOS", "SOS_NON_PAYING"): 10_000, ("PWC", "PWC_DECEASED"): 80_000},
                 id="a_deceased_pwcs_part"),
])
def test_written_off_arrears_are_told_to_the_nrp_only(world, k, pwc, sos, written_off):
    """The SoS part of a non-paying case (603), and a deceased PWC's part beside it (604): written
    off on the decision date, with the letter to the NRP only."""
    decided = D(2014, 9, 21)
    assert money(outcome(world, k)) == (CLOSED, pwc, sos, 0, pwc + sos, 0, 0)
    assert write_offs(world, k) == {part: (pence, decided) for part, pence in written_off.items()}
    assert letters(world, k) == decision_letters("DECISION", "ARREARS_WRITTEN_OFF", decided, to={"NRP"})


def test_thresholds_below_6500_no_letter_then_not_cost_effective_up_to_500_or_1000_pounds(world):
    decided = D(2014, 9, 21)
    assert write_offs(world, 605) == {("PWC", "BELOW_THRESHOLD"): (6_499, decided)}
    assert letters(world, 605) == set()
    for k, pence in ((606, 6_500), (608, 50_000), (607, 100_000)):  # 607 is 10 years old that day
        assert money(outcome(world, k)) == (CLOSED, pence, 0, 0, pence, 0, 0), k
        assert write_offs(world, k) == {("PWC", "NOT_COST_EFFECTIVE"): (pence, decided)}, k
        assert letters(world, k) == decision_letters("DECISION", "ARREARS_WRITTEN_OFF", decided), k
    # one penny over £500 on a 9-year-old case: the receiving parent is asked
    assert outcome(world, 609, decided)["journey_state"] == AWAITING_CHOICE


def test_arrears_over_the_thresholds_ask_the_pwc_by_a_deadline_30_days_after_the_decision(world):
    on_selection = world.states[D(2014, 9, 21)]
    for k, pending in ((609, 50_001), (611, 150_000), (612, 150_000), (614, 120_000),
                       (615, 130_000), (99001, 175_000)):
        row = on_selection[ref(k)]
        assert (row["journey_state"], row["pending_pence"], row["choice_deadline"]) == (
            AWAITING_CHOICE, pending, D(2014, 10, 21)), k
        assert ("DECISION", "ARREARS_CHOICE", "PWC", "DISPATCHED", D(2014, 9, 21)) in letters(world, k)
        assert not any(letter[1] == "ARREARS_CHOICE" and letter[2] == "NRP" for letter in letters(world, k))


# --- the receiving parent's choice (section 7) --------------------------------------------------


def test_collect_with_a_collectable_nrp_transfers_on_the_day_received_as_in_example_a(world):
    received = D(2014, 10, 10)
    row = outcome(world, 99001)
    assert money(row) == (CLOSED, 175_000, 40_000, 175_000, 40_000, 0, 0)
    assert row["choice"] == "COLLECT"
    assert write_offs(world, 99001) == {("SOS", "SOS_NON_PAYING"): (40_000, D(2014, 9, 21))}
    case = cms(world, 99001)
    assert (case["service_type"], case["opened_on"]) == ("ARREARS_ONLY", received)
    pwc = case["lines"]["PWC"]
    assert transfer(pwc) == (175_000, D(1994, 9, 1), D(2000, 3, 1), received)
    assert pwc["instalments"] == schedule(D(2014, 11, 1), 175_000, 36)
    assert pwc["instalments"][0][2] == 4_861 and pwc["instalments"][-1] == (36, D(2017, 10, 1), 4_865)
    assert letters(world, 99001) == (
        decision_letters("DECISION", "ARREARS_WRITTEN_OFF", D(2014, 9, 21), to={"NRP"})
        | decision_letters("DECISION", "ARREARS_CHOICE", D(2014, 9, 21), to={"PWC"})
        | decision_letters("CHOICE_OUTCOME", "ARREARS_TRANSFERRED", received)
    )


def test_collect_from_an_untraced_or_overseas_nrp_is_written_off_as_not_collectable(world):
    for k, received, nrp_status in ((611, D(2014, 10, 1), "UNDELIVERABLE"),
                                    (612, D(2014, 10, 8), "DISPATCHED")):
        assert money(outcome(world, k)) == (CLOSED, 150_000, 0, 0, 150_000, 0, 0), k
        assert outcome(world, k)["choice"] == "COLLECT"
        assert write_offs(world, k) == {("PWC", "NOT_COLLECTABLE"): (150_000, received)}, k
        assert cms(world, k) is None
        outcome_letters = {letter for letter in letters(world, k) if letter[0] == "CHOICE_OUTCOME"}
        assert outcome_letters == {
            ("CHOICE_OUTCOME", "ARREARS_WRITTEN_OFF", "PWC", "DISPATCHED", received),
            ("CHOICE_OUTCOME", "ARREARS_WRITTEN_OFF", "NRP", nrp_status, received),
        }, k


def test_a_write_off_answer_writes_the_pwc_part_off_as_declined(world):
    received = D(2014, 10, 5)
    assert money(outcome(world, 609)) == (CLOSED, 50_001, 0, 0, 50_001, 0, 0)
    assert outcome(world, 609)["choice"] == "WRITE_OFF"
    assert write_offs(world, 609) == {("PWC", "PWC_DECLINED"): (50_001, received)}
    assert {letter for letter in letters(world, 609) if letter[0] == "CHOICE_OUTCOME"} == decision_letters(
        "CHOICE_OUTCOME", "ARREARS_WRITTEN_OFF", received)


def test_no_answer_is_written_off_by_the_first_run_after_the_deadline_dated_the_day_after(world):
    assert outcome(world, 614, D(2014, 10, 21))["journey_state"] == AWAITING_CHOICE  # deadline day
    assert money(outcome(world, 614, D(2014, 11, 5))) == (CLOSED, 120_000, 0, 0, 120_000, 0, 0)
    assert outcome(world, 614)["choice"] is None
    assert write_offs(world, 614) == {("PWC", "NO_RESPONSE"): (120_000, D(2014, 10, 22))}
    assert {letter for letter in letters(world, 614) if letter[0] == "CHOICE_OUTCOME"} == decision_letters(
        "CHOICE_OUTCOME", "ARREARS_WRITTEN_OFF", D(2014, 10, 22))
    assert events(world, 614) == [(None, AWAITING_CHOICE, D(2014, 9, 21), "DECISION"),
                                  (AWAITING_CHOICE, CLOSED, D(2014, 10, 22), "NO_RESPONSE")]


def test_an_extension_adds_28_days_and_an_answer_inside_them_is_taken(world):
    assert outcome(world, 615, D(2014, 11, 5))["choice_deadline"] == D(2014, 11, 18)
    assert outcome(world, 615, D(2014, 11, 5))["journey_state"] == AWAITING_CHOICE
    received = D(2014, 11, 5)
    assert money(outcome(world, 615)) == (CLOSED, 130_000, 0, 130_000, 0, 0, 0)
    case = cms(world, 615)
    assert (case["service_type"], case["opened_on"]) == ("ARREARS_ONLY", received)
    assert case["lines"]["PWC"]["transferred_on"] == received
    assert case["lines"]["PWC"]["instalments"] == schedule(D(2014, 12, 1), 130_000, 36)
    assert {letter for letter in letters(world, 615) if letter[0] == "CHOICE_OUTCOME"} == decision_letters(
        "CHOICE_OUTCOME", "ARREARS_TRANSFERRED", received)


def test_an_answer_after_the_deadline_is_refused_and_only_the_refused_answer_is_kept(world):
    result = world.commands["late_answer"]
    assert (result.exit_code, result.refused) == (
        2, "refused: received after the deadline 2014-10-21: the case is closed"
    )
    before, after = world.late_answer_before, world.late_answer_after
    assert {name: rows for name, rows in after.items() if name != "operator_event"} == {
        name: rows for name, rows in before.items() if name != "operator_event"}
    added = set(after["operator_event"]) - set(before["operator_event"])
    with world.target.connect() as conn:
        refused = conn.execute(select(operator_event.c.kind, operator_event.c.csa_case_ref,
                                      operator_event.c.received_on, operator_event.c.status)
                               .where(operator_event.c.status == "REFUSED")).all()
    assert len(added) == 1
    assert [tuple(r) for r in refused] == [("CHOICE", ref(614), D(2014, 10, 25), "REFUSED")]


# --- CMS applications (section 3) -------------------------------------------------------------------


def test_a_direct_pay_application_opens_its_cms_case_on_liability_end_with_nothing_transferred(world):
    """EXAMPLES.md B: 40,000, not paying, 6 years old: written off as not cost-effective."""
    ended = D(2015, 2, 28)
    assert money(outcome(world, 201)) == (CLOSED, 40_000, 0, 0, 40_000, 0, 0)
    assert write_offs(world, 201) == {("PWC", "NOT_COST_EFFECTIVE"): (40_000, ended)}
    case = cms(world, 201)
    assert (case["service_type"], case["opened_on"], case["lines"]) == ("DIRECT_PAY", ended, {})
    assert (case["paying_parent_ref"], case["receiving_parent_ref"]) == ("CS2-2011", "CS2-2012")
    assert outcome(world, 201)["cms_case_id"] == case["cms_case_id"]
    assert letters(world, 201) == liability_letters(D(2014, 8, 31), D(2015, 1, 28), ended) | \
        decision_letters("DECISION", "ARREARS_WRITTEN_OFF", ended)


def test_collect_and_pay_application_receives_the_arrears_the_pwc_later_chose_to_collect(world):
    ended, received = D(2015, 2, 28), D(2015, 3, 10)
    assert outcome(world, 202, D(2015, 3, 10))["choice_deadline"] == D(2015, 3, 30)
    assert money(outcome(world, 202)) == (CLOSED, 120_000, 0, 120_000, 0, 0, 0)
    opened, taken, instalments = pwc_line(world, 202)
    assert opened == ("COLLECT_AND_PAY", ended, "2003")
    assert taken == (120_000, D(2013, 1, 1), D(2013, 12, 31), received)
    assert instalments == schedule(D(2015, 4, 1), 120_000, 36)  # 35 × 3,333 + 3,345
    assert instalments[-1] == (36, D(2018, 3, 1), 3_345)
    with world.target.connect() as conn:
        assert conn.execute(select(cms_case.c.cms_case_id).where(
            cms_case.c.csa_case_ref == ref(202))).scalars().all() == [cms(world, 202)["cms_case_id"]]


# --- holds (section 5) ----------------------------------------------------------------------------


def test_a_mismatch_holds_the_arrears_but_not_the_liability_letters(world):
    selected, ended = D(2014, 9, 14), D(2015, 3, 14)
    held = outcome(world, 501, D(2014, 9, 21))
    assert money(held) == (ON_HOLD, None, None, 0, 0, 0, 30_000)
    assert held["hold_reason"] == "MISMATCH"
    assert money(outcome(world, 501, D(2015, 3, 31))) == (ON_HOLD, None, None, 0, 0, 0, 30_000)
    assert {letter for letter in letters(world, 501) if letter[0] != "DECISION"} == liability_letters(
        selected, D(2015, 2, 14), ended)


def test_a_hold_resolved_after_liability_end_is_decided_as_of_the_run_that_applies_it(world):
    """Resolved on 2015-03-31 (the clock), applied by the run as of 2015-04-20."""
    run = D(2015, 4, 20)
    assert money(outcome(world, 501)) == (CLOSED, 30_000, 0, 0, 30_000, 0, 0)
    assert outcome(world, 501)["hold_reason"] == "MISMATCH"  # the last hold, kept
    assert write_offs(world, 501) == {("PWC", "NOT_COST_EFFECTIVE"): (30_000, run)}
    assert {letter for letter in letters(world, 501) if letter[0] == "DECISION"} == decision_letters(
        "DECISION", "ARREARS_WRITTEN_OFF", run)
    # the amount resolution: SoS 20,000 off (not paying), PWC 85,000 asked, deadline run + 30
    row = outcome(world, 503)
    assert money(row) == (AWAITING_CHOICE, 85_000, 20_000, 0, 20_000, 85_000, 0)
    assert row["choice_deadline"] == D(2015, 5, 20)
    assert write_offs(world, 503) == {("SOS", "SOS_NON_PAYING"): (20_000, run)}
    assert {letter for letter in letters(world, 503) if letter[0] == "DECISION"} == (
        decision_letters("DECISION", "ARREARS_WRITTEN_OFF", run, to={"NRP"})
        | decision_letters("DECISION", "ARREARS_CHOICE", run, to={"PWC"}))
    assert events(world, 503) == [(None, ON_HOLD, D(2014, 9, 14), "SELECTION"),
                                  (ON_HOLD, AWAITING_CHOICE, run, "HOLD_RESOLUTION")]


def test_a_hold_resolved_before_liability_end_is_decided_on_liability_end(world):
    """502 resolved to its recorded 72,000 on 2014-12-10; decided on 2015-03-14, asked, and
    written off for no response on 2015-04-14."""
    assert events(world, 502) == [
        (None, ON_HOLD, D(2014, 9, 14), "SELECTION"),
        (ON_HOLD, AWAITING_END, D(2014, 12, 10), "HOLD_RESOLUTION"),
        (AWAITING_END, AWAITING_CHOICE, D(2015, 3, 14), "DECISION"),
        (AWAITING_CHOICE, CLOSED, D(2015, 4, 14), "NO_RESPONSE"),
    ]
    assert outcome(world, 502, D(2015, 3, 31))["choice_deadline"] == D(2015, 4, 13)
    assert money(outcome(world, 502)) == (CLOSED, 72_000, 0, 0, 72_000, 0, 0)
    assert write_offs(world, 502) == {("PWC", "NO_RESPONSE"): (72_000, D(2015, 4, 14))}


def test_a_credit_balance_stays_on_hold_with_its_ledger_balance(world):
    row = outcome(world, 504)
    assert money(row) == (ON_HOLD, None, None, 0, 0, 0, -1_500)
    assert row["hold_reason"] == "CREDIT_BALANCE"
    assert {letter[0] for letter in letters(world, 504)} == {"SELECTION", "REMINDER", "LIABILITY_END"}


# --- reactive closure (section 3) -----------------------------------------------------------------


def test_a_new_application_naming_an_open_cases_nrp_closes_it_reactively(world):
    received, ended = D(2014, 9, 1), D(2014, 10, 1)
    row = outcome(world, 701)
    assert (row["tranche_id"], row["batch_id"], row["selected_on"], row["liability_end_date"],
            row["segment"]) == ("R20140901", "R20140901-B001", received, ended, 5)
    assert money(row) == (CLOSED, 25_000, 0, 0, 25_000, 0, 0)
    assert letters(world, 701) == liability_letters(received, None, ended) | decision_letters(
        "DECISION", "ARREARS_WRITTEN_OFF", ended)
    assert events(world, 701) == [(None, AWAITING_END, received, "SELECTION"),
                                  (AWAITING_END, CLOSED, ended, "DECISION")]


def test_a_new_application_naming_a_selected_cases_nrp_is_recorded_but_closes_nothing(world):
    with world.target.connect() as conn:
        applications = conn.execute(
            select(operator_event.c.nrp_ref, operator_event.c.status).where(
                operator_event.c.kind == "NEW_APPLICATION").order_by(operator_event.c.event_id)).all()
        reactive = conn.execute(select(tranche.c.tranche_id, tranche.c.selected_cases).where(
            tranche.c.kind == "REACTIVE")).all()
    assert [tuple(a) for a in applications] == [(nrp_of(701, "1993"), "APPLIED"),
                                                (nrp_of(203, "1993"), "APPLIED")]
    assert [tuple(r) for r in reactive] == [("R20140901", 1)]
    assert (outcome(world, 203)["tranche_id"], outcome(world, 203)["selected_on"]) == (
        "T0002", D(2014, 8, 31))


def test_an_application_recorded_after_its_days_reactive_batch_started_closes_its_case_too(own_journey, cli):
    """Section 8: an event recorded days late is applied dated the day it was received. A
    second application of 2014-08-25, recorded after that day's reactive batch had started,
    closes its case in a batch of its own in the same tranche, not in the started one."""
    estate = Estate()
    paying = [charge(2_001, D(2014, 1, 1), D(2014, 1, 31)), receipt(D(2014, 6, 1), 1_000)]  # segment 4
    estate.cscs(1, start=D(2005, 1, 1), lines=paying)
    estate.cscs(2, start=D(2005, 1, 1), lines=paying)
    journey = own_journey(estate)
    plan(D(2014, 8, 31))
    advance(D(2014, 8, 26))
    for k, as_of in ((1, D(2014, 8, 27)), (2, D(2014, 8, 28))):
        _record(cli, "new-application", "--nrp", nrp_of(k, "1993"), "--pwc", f"P99999990{k}",
                "--received", "2014-08-25")
        advance(as_of)

    with journey.target.connect() as conn:
        reactive = conn.execute(select(tranche.c.tranche_id, tranche.c.segment_group, tranche.c.selected_cases)
                                .where(tranche.c.kind == "REACTIVE")).all()
        taken = conn.execute(select(closure_outcome.c.csa_case_ref, closure_outcome.c.batch_id,
                                    closure_outcome.c.selected_on, closure_outcome.c.liability_end_date)
                             .order_by(closure_outcome.c.csa_case_ref)).all()
        notices = conn.execute(select(letter.c.csa_case_ref, func.count()).where(
            letter.c.template == "INITIAL_NOTICE").group_by(letter.c.csa_case_ref)).all()
    assert [tuple(row) for row in reactive] == [("R20140825", "4", 2)]
    assert [tuple(row) for row in taken] == [
        ("C930000001", "R20140825-B001", D(2014, 8, 25), D(2014, 9, 24)),
        ("C930000002", "R20140825-B002", D(2014, 8, 25), D(2014, 9, 24)),
    ]
    assert dict(notices) == {"C930000001": 2, "C930000002": 2}


def test_an_answer_recorded_after_a_later_received_one_decides_as_the_first(own_journey, cli):
    """Section 7, the first answer decides, by the day it was received: a write-off received on
    08-20 is recorded first, a collect received on 08-10 after it; the collect decides, and the
    write-off is refused as the run applies them in date order."""
    estate = Estate()
    estate.cscs(1, status="ARREARS_ONLY", weekly=0, payment="NONE",  # segment 6: asked at selection
                lines=[charge(200_000, D(2009, 1, 1), D(2009, 12, 31))])
    journey = own_journey(estate)
    plan(D(2014, 8, 1))
    advance(D(2014, 8, 20))
    _record(cli, "choice", "--case", ref(1), "--choice", "write-off", "--received", "2014-08-20")
    _record(cli, "choice", "--case", ref(1), "--choice", "collect", "--received", "2014-08-10")
    advance(D(2014, 8, 21))

    with journey.target.connect() as conn:
        decided = conn.execute(select(closure_outcome.c.choice, closure_outcome.c.transferred_pence)
                               .where(closure_outcome.c.csa_case_ref == ref(1))).one()
        answers = conn.execute(select(operator_event.c.value, operator_event.c.status)
                               .where(operator_event.c.kind == "CHOICE").order_by(operator_event.c.received_on)).all()
    assert tuple(decided) == ("COLLECT", 200_000)
    assert [tuple(answer) for answer in answers] == [("COLLECT", "APPLIED"), ("WRITE_OFF", "REFUSED")]


# --- safeguarding in letters (section 10) --------------------------------------------------------


def _bodies(world: World, k: int) -> dict[str, list[str]]:
    """The case's letters as printed, by recipient."""
    with world.target.connect() as conn:
        rows = conn.execute(select(letter.c.recipient_role, letter.c.letter_id).where(
            letter.c.csa_case_ref == ref(k), letter.c.status == "DISPATCHED")).all()
    out = defaultdict(list)
    for role, letter_id in rows:
        out[role].append(world.printed[letter_id])
    return out


def test_letters_never_name_or_locate_the_other_parent_on_a_domestic_abuse_case(world):
    who = names(203)
    bodies = _bodies(world, 203)
    assert len(bodies["PWC"]) == len(bodies["NRP"]) == 4
    for role, other in (("PWC", "NRP"), ("NRP", "PWC")):
        for body in bodies[role]:
            assert who[role]["surname"] in body and who[role]["street"] in body
            for word in (who[other]["surname"], who[other]["street"], who[other]["postcode"]):
                assert word not in body
    # without the marker, the other parent is named (but never located)
    plain = _bodies(world, 301)["PWC"]
    assert any(names(301)["NRP"]["surname"] in body for body in plain)
    assert not any(names(301)["NRP"]["street"] in body for body in plain)


def test_a_marker_a_newer_extract_records_after_the_notices_were_made_keeps_the_other_parent_off_them(
    own_journey, cli, tmp_path
):
    """Section 10, whenever the marker arrives: the initial notices were made naming the other
    parent; a newer extract then carries a domestic-abuse marker, and the notices print without
    the other parent."""
    estate = Estate()
    estate.cscs(1, weekly=0, payment="NONE")  # segment 1
    journey = own_journey(estate)
    plan(D(2014, 8, 1))
    advance(D(2014, 8, 1))
    with journey.legacy.begin() as conn:
        conn.execute(legacy.cscs_case.update().values(dv_marker=1))
        conn.execute(legacy.cscs_extract.update().values(extracted_on=D(2014, 8, 5)))
    extract_legacy()
    result = cli("dispatch-letters", "--out", str(tmp_path))
    assert result.exit_code == 0, (result.stdout, result.stderr)

    [print_file] = tmp_path.glob("PB*.txt")
    notices = print_file.read_text(encoding="utf-8").split("\f\n")
    who = names(1)
    assert len(notices) == 2
    for notice in notices:
        role = notice.split(" | ")[2].split("\n")[0]
        other = "PWC" if role == "NRP" else "NRP"
        assert who[role]["surname"] in notice
        assert who[other]["surname"] not in notice and who[other]["street"] not in notice


def test_a_letter_row_keeps_its_parents_references_never_their_names_or_addresses(world):
    with world.target.connect() as conn:
        kept = conn.execute(select(letter.c.body).where(letter.c.csa_case_ref.in_([ref(203), ref(301)]))).scalars()
        kept = list(kept)
    assert kept and all('"recipient_ref"' in body for body in kept)
    for k in (203, 301):
        for who in names(k).values():
            assert not any(who[detail] in body for body in kept for detail in ("surname", "street", "postcode"))


def test_untraced_parents_letters_are_undeliverable_and_the_dead_get_none(world):
    assert {(letter[2], letter[3]) for letter in letters(world, 101)} == {
        ("PWC", "UNDELIVERABLE"), ("NRP", "DISPATCHED")}
    assert {(letter[2], letter[3]) for letter in letters(world, 611)} == {
        ("PWC", "DISPATCHED"),
        ("NRP", "UNDELIVERABLE"),
    }
    with world.target.connect() as conn:
        undeliverable = (
            conn.execute(select(letter.c.print_batch).where(letter.c.status == "UNDELIVERABLE")).scalars().all()
        )
    assert len(undeliverable) == 4 and set(undeliverable) == {None}  # 101's three, 611's one
    assert not any(letter[2] == "NRP" for letter in letters(world, 601))
    assert not any(letter[2] == "PWC" for letter in letters(world, 604))


def test_no_letter_shows_a_national_insurance_number(world):
    with world.target.connect() as conn:
        kept = conn.execute(select(letter.c.body)).scalars().all()
        dispatched = conn.execute(select(func.count()).where(letter.c.status == "DISPATCHED")).scalar_one()
    printed = list(world.printed.values())
    assert len(printed) == dispatched > 50
    nino = re.compile(r"\bQQ\d{6}[A-D]\b")
    assert not any(nino.search(text) for text in printed + kept)
    assert all("Child Maintenance Options" in text for text in printed)


# --- audit and conservation (section 11) ---------------------------------------------------------


def test_the_audit_trail_tells_each_cases_history_in_order(world):
    assert events(world, 202) == [
        (None, AWAITING_END, D(2014, 8, 31), "SELECTION"),
        (AWAITING_END, AWAITING_CHOICE, D(2015, 2, 28), "DECISION"),
        (AWAITING_CHOICE, CLOSED, D(2015, 3, 10), "CHOICE"),
    ]
    assert events(world, 501) == [
        (None, ON_HOLD, D(2014, 9, 14), "SELECTION"),
        (ON_HOLD, CLOSED, D(2015, 4, 20), "HOLD_RESOLUTION"),
    ]
    assert events(world, 615) == [
        (None, AWAITING_CHOICE, D(2014, 9, 21), "DECISION"),
        (AWAITING_CHOICE, CLOSED, D(2014, 11, 5), "CHOICE"),
    ]
    assert events(world, 504) == [(None, ON_HOLD, D(2014, 9, 14), "SELECTION")]
    for case_ref in world.states[max(world.states)]:
        trail = events(world, int(case_ref[3:]))
        assert trail[0][0] is None
        assert all(earlier[1] == later[0] for earlier, later in zip(trail, trail[1:])), case_ref
        assert [e[2] for e in trail] == sorted(e[2] for e in trail), case_ref
        assert trail[-1][1] == world.states[max(world.states)][case_ref]["journey_state"], case_ref


def test_every_case_conserves_its_arrears_to_the_penny(world):
    final = world.states[max(world.states)]
    assert len(final) == 25
    for case_ref, row in final.items():
        k = int(case_ref[3:])
        written = sum(amount for amount, _ in write_offs(world, k).values())
        case = cms(world, k)
        lines = case["lines"].values() if case else []
        assert row["written_off_pence"] == written, case_ref
        assert row["transferred_pence"] == sum(line["amount_pence"] for line in lines), case_ref
        for line in lines:
            assert sum(i[2] for i in line["instalments"]) == line["amount_pence"], case_ref
        if row["journey_state"] == ON_HOLD:
            assert row["arrears_pwc_pence"] is None and row["arrears_sos_pence"] is None
            assert row["transferred_pence"] == row["written_off_pence"] == row["pending_pence"] == 0
        else:
            arrears = row["arrears_pwc_pence"] + row["arrears_sos_pence"]
            assert arrears == row["transferred_pence"] + row["written_off_pence"] + row["pending_pence"], case_ref
            assert row["on_hold_pence"] == 0, case_ref
        if row["journey_state"] == CLOSED:
            assert row["pending_pence"] == 0, case_ref


def test_a_batch_without_a_decision_letter_its_rows_call_for_does_not_reconcile(world):
    """Reconciliation checks the decision letters (the other letters follow the clock, not the
    money): a batch missing case 202's arrears choice breaks, one missing its notice does not."""
    with world.target.connect() as conn:
        batch = conn.execute(select(closure_outcome.c.batch_id).where(closure_outcome.c.csa_case_ref == ref(202)))
        batch_id = batch.scalar_one()
        conn.rollback()
        for template, breaks in (("INITIAL_NOTICE", False), ("ARREARS_CHOICE", True)):
            missing = conn.begin()
            try:
                conn.execute(delete(letter).where(letter.c.csa_case_ref == ref(202), letter.c.template == template))
                if breaks:
                    with pytest.raises(ReconciliationBreak, match=f"case {ref(202)}: no ARREARS_CHOICE letter"):
                        require_reconciled(conn, batch_id)
                else:
                    require_reconciled(conn, batch_id)
            finally:
                missing.rollback()


def test_dispatch_prints_every_pending_letter_once_and_a_second_dispatch_writes_nothing(world):
    first, second = world.dispatches
    assert "no pending letters" not in first["output"]
    assert "no pending letters" in second["output"]
    assert second["files"] == first["files"] and len(first["files"]) == 2  # one batch + manifest
    with world.target.connect() as conn:
        statuses = conn.execute(select(letter.c.status, letter.c.print_batch)).all()
    assert {status for status, _ in statuses} == {"DISPATCHED", "UNDELIVERABLE"}
    assert len({batch for status, batch in statuses if status == "DISPATCHED"}) == 1
