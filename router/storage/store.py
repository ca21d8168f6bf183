"""Storage helpers shared by services: insert-or-ignore on a unique key, on SQLite and PostgreSQL, and the rows
a compare-and-set changed."""
from __future__ import annotations

from typing import Any, Optional, Union, cast

from sqlalchemy import (
    Column,
    ColumnDefault,
    Connection,
    CursorResult,
    Executable,
    Table,
    TextualSelect,
    bindparam,
    text,
)
from sqlalchemy.engine import Dialect
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
    table = model.__table__
    row = conn.execute(_ignoring(conn.dialect, table, returning), _with_defaults(table, values)).first()
    return row[0] if row else None


# (dialect, table, returning column) -> the statement. SQLAlchemy does not cache the compiled form of its dialects'
# ON CONFLICT constructs (a turn compiled two such INSERTs: a seventh of the router's CPU under load, py-spy); a
# text statement with typed binds is cached like any other.
_IGNORING: dict[tuple[str, str, str], TextualSelect] = {}


def _ignoring(dialect: Dialect, table: Table, returning: str) -> TextualSelect:
    """INSERT of every column but a generated key, doing nothing on a unique conflict, returning one column."""
    key = (dialect.name, table.name, returning)
    stmt = _IGNORING.get(key)
    if stmt is None:
        if dialect.name not in ("postgresql", "sqlite"):
            raise NotImplementedError(f"insert_ignore on {dialect.name}")
        quote = dialect.identifier_preparer.quote
        columns = _columns(table)
        stmt = text(f"INSERT INTO {quote(table.name)} ({', '.join(quote(c.name) for c in columns)}) "
                    f"VALUES ({', '.join(':' + c.key for c in columns)}) ON CONFLICT DO NOTHING "
                    f"RETURNING {quote(table.c[returning].name)}") \
            .bindparams(*(bindparam(c.key, type_=c.type) for c in columns)).columns(table.c[returning])
        _IGNORING[key] = stmt
    return stmt


def _columns(table: Table) -> list[Column[Any]]:
    """The columns an insert names: all but an integer primary key the database generates."""
    generated = table.autoincrement_column
    return [c for c in table.columns if c is not generated]


def _with_defaults(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """The values with each missing column's Python-side default (`default=`), else NULL (a server default or a
    nullable column: the statement names every column)."""
    row = dict(values)
    for column in _columns(table):
        if column.key in row:
            continue
        default = column.default
        if isinstance(default, ColumnDefault) and default.is_callable:
            row[column.key] = default.arg(None)  # the column's zero-argument function (utcnow, dict, list)
        elif isinstance(default, ColumnDefault) and default.is_scalar:
            row[column.key] = default.arg
        elif column.server_default is not None:
            raise ValueError(f"insert_ignore needs a value for {table.name}.{column.key} (it has a server default)")
        else:
            row[column.key] = None
    return row
