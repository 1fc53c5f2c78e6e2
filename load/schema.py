"""The target database's tables: the contract tables of CONTRACTS.md section 3 and the
engine's own control tables. Alembic migrations (``load/migrations``) create and upgrade them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

target_metadata = MetaData()


def _parent_flags() -> list[Column]:
    """Each parent's flags, as the canonical model names them: ``nrp_deceased`` .. ``pwc_abroad``."""
    flags = ("deceased", "untraced", "abroad")
    return [Column(f"{role}_{flag}", Boolean, nullable=False) for flag in flags for role in ("nrp", "pwc")]


def _pence(name: str, nullable: bool = False) -> Column:
    """An amount of money: whole pence, 64-bit, so sums of the largest amounts never wrap."""
    return Column(name, BigInteger, nullable=nullable)


def _timestamp(name: str, nullable: bool = False) -> Column:
    """An instant, kept with its time zone."""
    return Column(name, DateTime(timezone=True), nullable=nullable)


def _case_key(name: str = "csa_case_ref") -> Column:
    """The case reference that keys a table holding a row per case (or per part of one)."""
    return Column(name, Text, primary_key=True)


def _run_times() -> list[Column]:
    """When a run started, and when it finished (null while it runs, or if it died)."""
    return [_timestamp("started_at"), _timestamp("finished_at", nullable=True)]


def _tranche_and_batch() -> list[Column]:
    """The tranche and the batch that took a case."""
    return [Column("tranche_id", Text, nullable=False), Column("batch_id", Text, nullable=False)]


# --- contract tables ----------------------------------------------------------------------

quarantine = Table(
    "quarantine",
    target_metadata,
    Column("id", Integer, primary_key=True),
    Column("source_table", Text, nullable=False),
    Column("source_key", Text, nullable=False),
    Column("reasons", Text, nullable=False),
    Column("raw", Text, nullable=False),
    Column("extract_run", Text, nullable=False),
    Column("first_seen", Date, nullable=False),
    Column("last_seen", Date, nullable=False),
    Index("ux_quarantine_record", "source_table", "source_key", unique=True),
)

# --- control tables -----------------------------------------------------------------------

extract_run = Table(
    "extract_run",
    target_metadata,
    Column("extract_run", Text, primary_key=True),
    Column("scheme", Text, nullable=False),
    Column("extracted_on", Date, nullable=False),
    *_run_times(),
    Column("cases_extracted", Integer, nullable=False, default=0),
    Column("cases_clean", Integer, nullable=False, default=0),
    Column("cases_held", Integer, nullable=False, default=0),
    Column("records_quarantined", Integer, nullable=False, default=0),
    Column("segment_rules", Text),
)

legacy_case = Table(
    "legacy_case",
    target_metadata,
    _case_key("case_ref"),
    Column("scheme", Text, nullable=False),
    Column("legacy_case_id", BigInteger, nullable=False),
    Column("nrp_ref", Text, nullable=False),
    Column("pwc_ref", Text, nullable=False),
    Column("case_start_date", Date, nullable=False),
    Column("status", Text, nullable=False),
    Column("assessment_type", Text, nullable=False),
    _pence("weekly_liability_pence"),
    Column("payment_method", Text, nullable=False),
    Column("enforcement_action", Text),
    Column("clerical", Boolean, nullable=False),
    Column("dv_marker", Boolean, nullable=False),
    _pence("recorded_total_pence"),
    _pence("recorded_sos_pence"),
    *_parent_flags(),
    Column("last_receipt_on", Date),
    Column("extracted_on", Date, nullable=False),
    Column("extract_run", Text, nullable=False),
    Column("segment", SmallInteger),
    Column("selected_on", Date),
    Index("ix_legacy_case_nrp", "nrp_ref"),
    Index(
        "ix_legacy_case_unselected", "segment", "case_start_date", "case_ref",
        postgresql_where=text("selected_on IS NULL"), sqlite_where=text("selected_on IS NULL"),
    ),
)
"""The latest clean snapshot of each legacy case: what selection classifies without the ledger.
``segment`` is the case's segment as of its extract (and any later date, as the look-back ends
on the extract date); ``selected_on`` marks a case a tranche took, so a selection reads only
the cases still to take, by index."""

held_case = Table(
    "held_case",
    target_metadata,
    _case_key("case_ref"),
    Column("scheme", Text, nullable=False),
    Column("extract_run", Text, nullable=False),
    Column("held_since", Date, nullable=False),
)
"""Cases held back because a record of theirs is in quarantine for the latest extract."""

# --- contract tables: the closure journey and the CMS (CONTRACTS.md section 3) -------------

cms_case = Table(
    "cms_case",
    target_metadata,
    Column("cms_case_id", Integer, primary_key=True),
    Column("csa_case_ref", Text, nullable=False, unique=True),
    Column("origin_scheme", Text, nullable=False),
    Column("paying_parent_ref", Text, nullable=False),
    Column("receiving_parent_ref", Text, nullable=False),
    Column("service_type", Text, nullable=False),
    Column("opened_on", Date, nullable=False),
    *_tranche_and_batch(),
)

cms_unpaid_maintenance = Table(
    "cms_unpaid_maintenance",
    target_metadata,
    Column("id", Integer, primary_key=True),
    Column("cms_case_id", Integer, ForeignKey("cms_case.cms_case_id"), nullable=False),
    Column("creditor", Text, nullable=False),
    _pence("amount_pence"),
    Column("origin_scheme", Text, nullable=False),
    Column("accrued_from", Date, nullable=False),
    Column("accrued_to", Date, nullable=False),
    Column("transferred_on", Date, nullable=False),
    Column("batch_id", Text, nullable=False),
    UniqueConstraint("cms_case_id", "creditor"),
    CheckConstraint("amount_pence > 0", name="ck_cms_unpaid_maintenance_amount_positive"),
)

cms_arrears_instalment = Table(
    "cms_arrears_instalment",
    target_metadata,
    Column(
        "unpaid_maintenance_id",
        Integer,
        ForeignKey("cms_unpaid_maintenance.id"),
        primary_key=True,
    ),
    Column("instalment_no", Integer, primary_key=True),
    Column("due_on", Date, nullable=False),
    _pence("amount_pence"),
)

closure_outcome = Table(
    "closure_outcome",
    target_metadata,
    _case_key(),
    Column("scheme", Text, nullable=False),
    Column("segment", Integer, nullable=False),
    *_tranche_and_batch(),
    Column("journey_state", Text, nullable=False),
    Column("selected_on", Date, nullable=False),
    Column("liability_end_date", Date),
    _pence("arrears_pwc_pence", nullable=True),
    _pence("arrears_sos_pence", nullable=True),
    Column("hold_reason", Text),
    _pence("transferred_pence"),
    _pence("written_off_pence"),
    _pence("pending_pence"),
    _pence("on_hold_pence"),
    Column("choice", Text),
    Column("choice_deadline", Date),
    Column("cms_case_id", Integer),
    Index("ix_closure_outcome_batch", "batch_id"),
    Index("ix_closure_outcome_tranche", "tranche_id"),
    Index("ix_closure_outcome_state", "journey_state"),
    Index(
        "ix_closure_outcome_deadlines", "choice_deadline",
        postgresql_where=text("journey_state = 'AWAITING_CHOICE'"),
        sqlite_where=text("journey_state = 'AWAITING_CHOICE'"),
    ),
)

write_off = Table(
    "write_off",
    target_metadata,
    _case_key(),
    Column("creditor", Text, primary_key=True),
    Column("reason", Text, primary_key=True),
    _pence("amount_pence"),
    Column("decided_on", Date, nullable=False),
)

letter = Table(
    "letter",
    target_metadata,
    Column("letter_id", Integer, primary_key=True),
    Column("csa_case_ref", Text, nullable=False),
    Column("journey_event", Text, nullable=False),
    Column("template", Text, nullable=False),
    Column("recipient_role", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("created_on", Date, nullable=False),
    Column("print_batch", Text),
    Column("body", Text, nullable=False),
    Column("template_version", Integer, nullable=False, server_default="0"),
    Column("rendered_sha256", Text),
    UniqueConstraint("csa_case_ref", "journey_event", "template", "recipient_role"),
    Index("ix_letter_status", "status"),
    Index("ix_letter_print_batch", "print_batch"),
)
"""A letter is kept as data: ``body`` holds the values that fill its template (JSON), and
``template_version`` says which wording; the text is rendered when its print batch is
written, and ``rendered_sha256`` records what was printed. Version 0 is a body kept as text
by an earlier engine, printed as it is."""

print_batch = Table(
    "print_batch",
    target_metadata,
    Column("print_batch", Text, primary_key=True),
    Column("state", Text, nullable=False),
    _timestamp("claimed_at"),
    _timestamp("dispatched_at", nullable=True),
    Column("letters", Integer, nullable=False),
    Column("sha256", Text),
)
"""A print batch is claimed (its letters named by ``letter.print_batch``) before its file is
written, and dispatched once the file is in place: an interrupted dispatch is finished under
the same id, so no letter is ever printed twice."""

# --- control tables: the journey's schedule, progress and audit ---------------------------

journey_clock = Table(
    "journey_clock",
    target_metadata,
    Column("clock_id", Integer, primary_key=True),
    Column("advanced_to", Date, nullable=False),
)
"""One row: the latest as-of date the engine has advanced to."""

journey_lease = Table(
    "journey_lease",
    target_metadata,
    Column("lease_id", Integer, primary_key=True),
    Column("token", BigInteger, nullable=False),
    Column("holder", Text),
    _timestamp("acquired_at", nullable=True),
    Column("run_id", Text),
    Column("runs_to_check", Text),
)
"""A row per lock: the journey's (1) and the dispatch's (2). Each run that takes the journey
lock raises its fencing token; every write of a run checks it, so a run that lost its lock
commits nothing more. ``run_id`` is the flow run that took a lock last (the next holder checks
how that run ended); ``runs_to_check`` (a JSON list) the earlier holders it has not yet checked,
so a holder killed before checking them passes them on."""

engine_run = Table(
    "engine_run",
    target_metadata,
    Column("run_id", Text, primary_key=True),
    Column("command", Text, nullable=False),
    Column("as_of", Date),
    *_run_times(),
    Column("state", Text, nullable=False),
    Column("rule_settings", Text, nullable=False),
)
"""Every run of a command, with the rule settings it used."""

tranche = Table(
    "tranche",
    target_metadata,
    Column("tranche_id", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("selection_date", Date, nullable=False),
    Column("segment_group", Text, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("planned_cases", Integer, nullable=False),
    Column("selected_cases", Integer),
)
"""The tranche schedule: planned tranches from ``plan``, reactive ones as they happen."""

selection = Table(
    "selection",
    target_metadata,
    _case_key(),
    *_tranche_and_batch(),
    Column("segment", Integer, nullable=False),
    Column("selected_on", Date, nullable=False),
    Column("liability_end_date", Date),
    Index("ix_selection_batch", "batch_id"),
)
"""Which tranche and batch took each case: written when a tranche is selected, before its
batches are worked, so a rerun works the same cases."""

batch = Table(
    "batch",
    target_metadata,
    Column("batch_id", Text, primary_key=True),
    Column("tranche_id", Text, nullable=False),
    Column("case_count", Integer, nullable=False),
    Column("started", Boolean, nullable=False, server_default=false()),
)

batch_run = Table(
    "batch_run",
    target_metadata,
    Column("batch_id", Text, primary_key=True),
    Column("step", Text, primary_key=True),
    Column("due_on", Date, primary_key=True),
    Column("state", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("run_id", Text),
    _timestamp("updated_at"),
)
"""One row per unit of work (a step of one batch on one date): completed ones are skipped by
key on a rerun, failed ones are what ``rerun-failed`` runs again."""

case_journey = Table(
    "case_journey",
    target_metadata,
    _case_key(),
    Column("reminder_on", Date),
    Column("reminded", Boolean, nullable=False),
    Column("liability_ended", Boolean, nullable=False),
    _pence("ledger_pwc_pence", nullable=True),
    _pence("ledger_sos_pence", nullable=True),
    Column("resolved_on", Date),
    _pence("adjust_pwc_pence", nullable=True),
    _pence("adjust_sos_pence", nullable=True),
    Column("pwc_accrued_from", Date),
    Column("pwc_accrued_to", Date),
    Column("extended", Boolean, nullable=False),
    Column("application_service", Text),
    Column("application_received_on", Date),
    Column("choice_received_on", Date),
    Column("choice_channel", Text),
    Column("version", Integer, nullable=False, server_default="0"),
    Column("liability_end_date", Date),
    Index(
        "ix_case_journey_reminders", "reminder_on",
        postgresql_where=text("NOT reminded AND NOT liability_ended AND reminder_on IS NOT NULL"),
        sqlite_where=text("NOT reminded AND NOT liability_ended AND reminder_on IS NOT NULL"),
    ),
    Index(
        "ix_case_journey_liability_ends", "liability_end_date",
        postgresql_where=text("NOT liability_ended AND liability_end_date IS NOT NULL"),
        sqlite_where=text("NOT liability_ended AND liability_end_date IS NOT NULL"),
    ),
)
"""What the journey needs beyond ``closure_outcome``: where each selected case stands.
``version`` rises with every change of the case's journey or events, so a unit of work commits
only if the cases it read are as it read them."""

journey_event = Table(
    "journey_event",
    target_metadata,
    Column("event_id", Integer, primary_key=True),
    Column("csa_case_ref", Text, nullable=False),
    Column("from_state", Text),
    Column("to_state", Text, nullable=False),
    Column("effective_date", Date, nullable=False),
    Column("cause", Text, nullable=False),
    Column("run_id", Text, nullable=False),
    Index("ix_journey_event_case", "csa_case_ref"),
)
"""The append-only audit trail: every change of a case's journey state."""

operator_event = Table(
    "operator_event",
    target_metadata,
    Column("event_id", Integer, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("csa_case_ref", Text),
    Column("nrp_ref", Text),
    Column("pwc_ref", Text),
    Column("value", Text),
    _pence("pwc_pence", nullable=True),
    _pence("sos_pence", nullable=True),
    Column("reason", Text),
    Column("caseworker", Text),
    Column("channel", Text),
    Column("received_on", Date, nullable=False),
    _timestamp("recorded_at"),
    Column("status", Text, nullable=False),
    Column("refusal", Text),
    Column("applied_run", Text),
    Index("ix_operator_event_status", "status"),
    Index("ix_operator_event_case", "csa_case_ref"),
    Index(
        "ix_operator_event_waiting", "received_on",
        postgresql_where=text("status = 'ACCEPTED'"), sqlite_where=text("status = 'ACCEPTED'"),
    ),
)
"""Every event operations recorded, refused ones included (section 8)."""
