"""Storage helpers shared by services: insert-or-ignore on a unique key, on SQLite and PostgreSQL, and the rows
a compare-and-set changed."""
from __future__ import annotations

from typing import Any, Optional, Union, cast

from sqlalchemy import Connection, CursorResult, Executable, Insert, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session


def changed(executor: Union[Session, Connection], statement: Executable, params: Optional[dict[str, Any]] = None,
            **options: Any) -> int:
    """Run an UPDATE or DELETE; how many rows it changed (a compare-and-set won when that is 1)."""
    result = executor.execute(statement, params, execution_options=options) if options else \
        executor.execute(statement, params)
    return cast(CursorResult[Any], result).rowcount or 0


def insert_ignore(session: Session, model: Any, values: dict[str, Any], returning: str = "id") -> Optional[Any]:
    """Insert a row unless a unique key already holds it; the new row's `returning` column, or None for a duplicate.

    One statement, never check-then-insert, so two deliveries of one webhook store one row.
    """
    # Through the session's connection (after a flush, as the ORM would autoflush): the ORM's bulk-insert layer
    # doubled the cost.
    session.flush()
    conn = session.connection()
    stmt: Insert
    if conn.dialect.name == "postgresql":
        stmt = pg_insert(model).on_conflict_do_nothing()
    elif conn.dialect.name == "sqlite":
        stmt = sqlite_insert(model).on_conflict_do_nothing()
    else:
        stmt = insert(model)
    row = conn.execute(stmt.returning(getattr(model, returning)), values).first()
    return row[0] if row else None
