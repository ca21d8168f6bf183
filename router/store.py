"""Storage helpers shared by services: insert-or-ignore on a unique key, on SQLite and PostgreSQL."""
from __future__ import annotations

from typing import Any, Optional

from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session


def insert_ignore(session: Session, model: Any, values: dict[str, Any], returning: str = "id") -> Optional[Any]:
    """Insert a row unless a unique key already holds it; the new row's `returning` column, or None for a duplicate.

    One statement, never check-then-insert, so two deliveries of one webhook store one row.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt = pg_insert(model).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite_insert(model).on_conflict_do_nothing()
    else:  # pragma: no cover - other backends are not supported
        stmt = insert(model)
    # Values as parameters, not in the statement: one compiled statement per table, cached. Through the session's
    # connection (after a flush, as the ORM would autoflush): the ORM's bulk-insert layer doubled the cost.
    session.flush()
    result = session.connection().execute(stmt.returning(getattr(model, returning)), values)
    row = result.first()
    return row[0] if row else None
