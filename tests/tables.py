"""Tables that tests declare for themselves (a fictitious legacy system's, a sample to write),
each in a line or two: what a test needs of one is its columns' names and types and its key."""

from __future__ import annotations

from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, Table
from sqlalchemy.types import TypeEngine


def table(name: str, metadata: MetaData, key: tuple[str, ...], /, **types: type[TypeEngine] | TypeEngine) -> Table:
    """``name`` on ``metadata``, with a column of each of ``types`` in their order, nullable but
    those of ``key``, its primary key (none where it is empty)."""
    columns = [Column(column, column_type) for column, column_type in types.items()]
    return Table(name, metadata, *columns, *([PrimaryKeyConstraint(*key)] if key else []))
