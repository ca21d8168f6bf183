"""Storage helpers shared by services: insert-or-ignore on a unique key, on SQLite and PostgreSQL."""
from __future__ import annotations

from typing import Any, Optional

from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

_IGNORING = {"postgresql": pg_insert, "sqlite": sqlite_insert}


def insert_ignore(session: Session, model: Any, values: dict[str, Any], returning: str = "id") -> Optional[Any]:
    """Insert a row unless a unique key already holds it; the new row's `returning` column, or None for a duplicate.

    One statement, never check-then-insert, so two deliveries of one webhook store one row.
    """
    # Through the session's connection (after a flush, as the ORM would autoflush): the ORM's bulk-insert layer
    # doubled the cost.
    session.flush()
    conn = session.connection()
    dialect_insert = _IGNORING.get(conn.dialect.name)
    stmt = dialect_insert(model).on_conflict_do_nothing() if dialect_insert else insert(model)
    row = conn.execute(stmt.returning(getattr(model, returning)), values).first()
    return row[0] if row else None
