"""The admin side every table shares: Medusa-style filtered lists, soft delete,
restore. One implementation for gift cards, store-credit accounts and their
transactions, so a fix to paging or ordering lands everywhere at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ColumnElement, Float, Table, delete, func, or_, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncConnection

from .db import AnyRow


def conditions(
    table: Table,
    filters: Mapping[str, Sequence[Any]],
    *,
    q: str = "",
    q_columns: Sequence[str] = (),
    with_deleted: bool = False,
) -> list[ColumnElement[bool]]:
    """Each filter matches any of its values (an empty one is no filter); `q` is a
    case-insensitive substring of any of `q_columns`; soft-deleted rows are left
    out unless `with_deleted`."""
    found: list[ColumnElement[bool]] = [
        table.c[name].in_(list(values)) for name, values in filters.items() if values
    ]
    if q:
        found.append(or_(*(table.c[c].icontains(q, autoescape=True) for c in q_columns)))
    if not with_deleted:
        found.append(table.c.deleted_at.is_(None))
    return found


async def list_rows(
    conn: AsyncConnection,
    table: Table,
    where: Sequence[ColumnElement[bool]],
    *,
    order: Sequence[tuple[str, bool]],
    skip: int,
    take: int,
    with_count: bool,
    numeric: frozenset[str] = frozenset(),
) -> tuple[list[AnyRow], int | None]:
    """One page in the given order (column, descending), plus the total count if
    asked. `numeric` columns are money: SQLite keeps them as text, so it sorts
    them by magnitude instead."""
    ordering = []
    for name, descending in order:
        column: ColumnElement[Any] = table.c[name]
        if name in numeric and conn.dialect.name == "sqlite":
            column = sql_cast(column, Float)
        ordering.append(column.desc() if descending else column.asc())
    ordering.append(table.c.id.asc())  # a total order, so pages never overlap
    statement = select(table).where(*where).order_by(*ordering).offset(skip).limit(take)
    rows = list((await conn.execute(statement)).all())
    count = None
    if with_count:
        counting = select(func.count()).select_from(table).where(*where)
        count = int((await conn.execute(counting)).scalar_one())
    return rows, count


async def set_deleted_at(
    conn: AsyncConnection,
    table: Table,
    ids: Sequence[str],
    deleted_at: datetime | None,
    now: datetime,
) -> list[str]:
    """Soft delete (a time) or restore (None); returns the ids whose state changed."""
    changing = table.c.deleted_at.is_(None) if deleted_at else table.c.deleted_at.is_not(None)
    result = await conn.execute(
        update(table)
        .where(table.c.id.in_(list(ids)), changing)
        .values(deleted_at=deleted_at, updated_at=now)
        .returning(table.c.id)
    )
    return [row.id for row in result]


async def delete_with_ledger(
    conn: AsyncConnection, table: Table, ledger_owner: Column[str], ids: Sequence[str]
) -> list[str]:
    """Hard delete of rows and their ledger rows (`ledger_owner` is the ledger's
    column that names the row); returns the ids that existed."""
    await conn.execute(delete(ledger_owner.table).where(ledger_owner.in_(list(ids))))
    result = await conn.execute(
        delete(table).where(table.c.id.in_(list(ids))).returning(table.c.id)
    )
    return [row.id for row in result]
