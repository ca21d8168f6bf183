"""Storage helpers shared by services: insert-or-ignore on a unique key, on SQLite and PostgreSQL."""
from __future__ import annotations

from typing import Any, Optional

from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import dml as pg_dml
from sqlalchemy.dialects.sqlite import dml as sqlite_dml
from sqlalchemy.orm import Session


# The dialects' INSERT … ON CONFLICT classes opt out of SQLAlchemy's statement cache (their clause can name any
# target), so every stored message was compiled afresh: about half a millisecond a turn. These subclasses only
# ever carry a bare DO NOTHING, so their class alone tells their SQL apart and the cache is safe to use.
class _PgDoNothing(pg_dml.OnConflictDoNothing):
    inherit_cache = True
    _traverse_internals = []  # no target, no WHERE: nothing inside that could differ


class _PgInsertIgnore(pg_dml.Insert):
    inherit_cache = True

    def __init__(self, table: Any) -> None:
        super().__init__(table)
        self._post_values_clause = _PgDoNothing()


class _SqliteDoNothing(sqlite_dml.OnConflictDoNothing):
    inherit_cache = True
    _traverse_internals = []


class _SqliteInsertIgnore(sqlite_dml.Insert):
    inherit_cache = True

    def __init__(self, table: Any) -> None:
        super().__init__(table)
        self._post_values_clause = _SqliteDoNothing()


_IGNORING = {"postgresql": _PgInsertIgnore, "sqlite": _SqliteInsertIgnore}


def insert_ignore(session: Session, model: Any, values: dict[str, Any], returning: str = "id") -> Optional[Any]:
    """Insert a row unless a unique key already holds it; the new row's `returning` column, or None for a duplicate.

    One statement, never check-then-insert, so two deliveries of one webhook store one row.
    """
    kind = _IGNORING.get(session.get_bind().dialect.name)
    stmt = kind(model.__table__) if kind else insert(model)
    # Values as parameters, not in the statement: one compiled statement per table, cached. Through the session's
    # connection (after a flush, as the ORM would autoflush): the ORM's bulk-insert layer doubled the cost.
    session.flush()
    result = session.connection().execute(stmt.returning(getattr(model, returning)), values)
    row = result.first()
    return row[0] if row else None
