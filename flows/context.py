"""What every flow run needs: its engines, the rule settings and a run id for the audit."""

from __future__ import annotations

import contextvars
import uuid
from concurrent.futures import Future, ThreadPoolExecutor

from prefect.runtime import flow_run

from csa_closure.db import engine_for
from csa_closure.locks import Lease
from csa_closure.logs import get_logger
from csa_closure.service.journey import Engines
from csa_closure.settings import Settings, rule_settings
from load.maintenance import maintain_tables
from load.migrate import require_current_schema

log = get_logger("maintenance")


def current_run_id() -> str:
    """The Prefect flow run's id, so the audit trail points at the dashboard's run."""
    return str(flow_run.get_id() or uuid.uuid4())


def engines_for_run(run_id: str, lease_token: int | None = None) -> Engines:
    """The engines and rules of this process (tasks call it; engines are cached per URL); with
    the journey lock's token, every write the run makes is fenced by it."""
    settings = Settings()
    return Engines(
        legacy=engine_for(settings.legacy_url, legacy=True),
        target=engine_for(settings.target_url),
        rules=rule_settings(),
        run_id=run_id,
        lease=None if lease_token is None else Lease(lease_token),
    )


def checked_engines(run_id: str) -> Engines:
    """``engines_for_run`` after refusing a target that ``init`` has not brought up to date."""
    engines = engines_for_run(run_id)
    require_current_schema(engines.target)
    return engines


def keep_tables_in_hand(target) -> None:
    """Fresh planner statistics, and dead rows reclaimed, where a run changed the target's tables
    enough (``load.maintenance``); called after units of work, never inside one's transaction."""
    maintained = maintain_tables(target)
    if maintained:
        log.info("tables analyzed, and vacuumed where rows were dead", tables=",".join(maintained))


class TablesKeptInHand:
    """``keep_tables_in_hand`` beside the journey's passes, as autovacuum would do it: a round
    in a thread of its own after a pass, or, while the last one is still going, one owed to the
    pass. Vacuum and analyze change no row and take no lock that a unit's writes wait for, so
    the next pass need not wait for them. Leaving the block waits for the last round and works
    the one owed, so the tables are in hand when the run's figures are read."""

    def __init__(self, target) -> None:
        self._target = target
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tables-kept-in-hand")
        self._round: Future | None = None
        self._owed = False

    def __enter__(self) -> TablesKeptInHand:
        return self

    def after_pass(self) -> None:
        if self._round is not None and not self._round.done():
            self._owed = True
            return
        if self._round is not None:
            self._round.result()  # a round that failed fails the run
        self._owed = False
        self._round = self._thread.submit(contextvars.copy_context().run, keep_tables_in_hand, self._target)

    def __exit__(self, *exc) -> None:
        self._thread.shutdown(wait=True)
        if exc[0] is None:
            if self._round is not None:
                self._round.result()
            if self._owed:
                keep_tables_in_hand(self._target)
