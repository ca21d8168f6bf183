"""Storage helpers shared by services: insert-or-ignore on a unique key, on SQLite and PostgreSQL."""
from __future__ import annotations

from typing import Any, Callable, Optional

from sqlalchemy import bindparam, insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
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
    # Through the session's connection (after a flush, as the ORM would autoflush): the ORM's bulk-insert layer
    # doubled the cost.
    session.flush()
    conn = session.connection()
    prepared = driver_statement(conn.dialect, model, values, returning)
    if prepared is None:
        kind = _IGNORING.get(conn.dialect.name)
        # Values as parameters, not in the statement: one compiled statement per table, cached.
        stmt = kind(model.__table__) if kind else insert(model)
        row = conn.execute(stmt.returning(getattr(model, returning)), values).first()
    else:
        row = on_driver(conn, *prepared, lambda _driver, cursor, sql, params: cursor.execute(sql, params).fetchone())
    return row[0] if row else None


# (model, columns given, returning) -> (SQL as psycopg takes it, bind processors, column defaults), or None
_DRIVER_SQL: dict[tuple, Optional[tuple[str, dict[str, Any], dict[str, Any]]]] = {}


def driver_statement(dialect: Any, model: Any, values: dict[str, Any],
                     returning: str = "id") -> Optional[tuple[str, dict[str, Any]]]:
    """`insert_ignore`'s statement and parameters as psycopg takes them, on PostgreSQL; None elsewhere.

    A chat turn stores two messages: SQLAlchemy's execution path (compiled-cache lookup, result set-up) cost the
    web process more CPU than psycopg's own. The SQL is compiled by SQLAlchemy, once per set of columns, with the
    columns' own bind processing (JSON) and scalar defaults; None (SQLAlchemy then runs it) when a column left out
    has a default only Python can work out.
    """
    if dialect.name != "postgresql" or dialect.driver != "psycopg":
        return None
    key = (model, tuple(values), returning)
    if key not in _DRIVER_SQL:
        _DRIVER_SQL[key] = _compile(dialect, model, tuple(values), returning)
    found = _DRIVER_SQL[key]
    if found is None:
        return None
    sql, processors, defaults = found
    params = {**defaults, **values}
    for name, process in processors.items():
        params[name] = process(params[name])
    return sql, params


def _compile(dialect: Any, model: Any, given: tuple[str, ...], returning: str):
    table = model.__table__
    defaults = {}
    for column in table.columns:
        if column.key in given or column.default is None:
            continue
        if not column.default.is_scalar:
            return None
        defaults[column.key] = column.default.arg
    names = (*given, *defaults)
    stmt = _PgInsertIgnore(table).values({n: bindparam(n, type_=table.c[n].type) for n in names}) \
        .returning(table.c[returning])
    processors = {n: p for n in names if (p := table.c[n].type.bind_processor(dialect)) is not None}
    return str(stmt.compile(dialect=dialect)), processors, defaults


def on_driver(conn: Connection, statement: str, params: Any, work: Callable[..., Any]) -> Any:
    """Run `work(driver, cursor, statement, params)` on the psycopg connection under a SQLAlchemy one, as SQLAlchemy would run
    `statement`: its before/after_cursor_execute events (tracing, fault injection in the tests), its DBAPIError,
    and a dropped connection invalidated, so the pool never hands it out again."""
    driver = conn.connection.driver_connection
    try:
        with driver.cursor() as cursor:
            statement, params = _before(conn, cursor, statement, params)
            result = work(driver, cursor, statement, params)
            conn.dispatch.after_cursor_execute(conn, cursor, statement, params, None, False)
            return result
    except conn.dialect.loaded_dbapi.Error as exc:
        if conn.dialect.is_disconnect(exc, driver, None):
            conn.invalidate(exc)
        raise DBAPIError(statement, params, exc, hide_parameters=True,
                         connection_invalidated=conn.invalidated) from exc


def _before(conn: Connection, cursor: Any, statement: str, params: Any) -> tuple[str, Any]:
    for listener in conn.dispatch.before_cursor_execute:
        changed = listener(conn, cursor, statement, params, None, False)
        if isinstance(changed, tuple):  # a listener registered with retval=True may rewrite the statement
            statement, params = changed
    return statement, params
