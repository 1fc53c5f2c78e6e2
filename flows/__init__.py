"""Prefect flows: orchestration only; the rules live in ``transform``.

Importing the flows sets up structured logging once, so our events reach the Prefect run logs
however a flow is started (the CLI, a deployment, a test).
"""

from csa_closure.logs import configure_logging

configure_logging()
