"""The admin side every table shares: Medusa-style filtered lists, soft delete,
restore. One implementation for gift cards, store-credit accounts and their
transactions, so a fix to paging or ordering lands everywhere at once."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    Column,
    ColumnElement,
    Float,
    Integer,
    Select,
    String,
    Table,
    Text,
    any_,
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import psycopg as postgresql_psycopg
from sqlalchemy.ext.asyncio import AsyncConnection

from .direct import DirectPool
from .types import UTCDateTime


@dataclass(frozen=True)
class PageQuery:
    """One page of `table`: each filter matches any of its values (an empty one is
    no filter); `q` is a case-insensitive substring of any of `q_columns`;
    soft-deleted rows are left out unless `with_deleted`; in `order` (column,
    descending) then id, so pages never overlap; the total count if asked.
    `numeric` columns are money: SQLite keeps them as text, so it sorts them by
    magnitude instead.

    It runs on the engine (`run`, in a transaction of Database.run) or, on
    PostgreSQL, on the direct pool (`run_direct`): there its SQL is compiled once
    per shape of query and prepared once per connection, without the engine's
    per-call work (in bench/run.py that work was most of ListGiftCards' server
    time). Both run the statement `_statements` builds.
    """

    table: Table
    filters: Mapping[str, Sequence[Any]]
    order: Sequence[tuple[str, bool]]
    skip: int
    take: int
    with_count: bool
    q: str = ""
    q_columns: tuple[str, ...] = ()
    with_deleted: bool = False
    numeric: frozenset[str] = frozenset()

    def _shape(self) -> _Shape:
        return _Shape(
            self.table,
            tuple(name for name, values in self.filters.items() if values),
            self.q_columns if self.q else (),
            self.with_deleted,
            tuple(self.order),
            self.numeric,
        )

    def _params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            f"f_{name}": list(values) for name, values in self.filters.items() if values
        }
        if self.q:
            escaped = self.q.replace("/", "//").replace("%", "/%").replace("_", "/_")
            params["q"] = f"%{escaped}%"
        return {**params, "skip": self.skip, "take": self.take}

    async def run(self, conn: AsyncConnection) -> tuple[list[Mapping[str, Any]], int | None]:
        page, counting = _statements(self._shape(), conn.dialect.name)
        params = self._params()
        rows: list[Mapping[str, Any]] = list((await conn.execute(page, params)).mappings())
        count = None
        if self.with_count:
            count = int((await conn.execute(counting, params)).scalar_one())
        return rows, count

    async def run_direct(self, pool: DirectPool) -> tuple[list[Mapping[str, Any]], int | None]:
        page, counting = _compiled(self._shape())
        params = self._params()
        names = [c.name for c in self.table.columns]
        times = {c.name for c in self.table.columns if isinstance(c.type, UTCDateTime)}
        async with pool.connection() as conn:
            cursor = await conn.execute(page, params, prepare=True)
            found = await cursor.fetchall()
            count = None
            if self.with_count:
                counted = await (await conn.execute(counting, params, prepare=True)).fetchone()
                count = int(counted[0]) if counted else 0
        rows: list[Mapping[str, Any]] = []
        for values in found:
            row = dict(zip(names, values, strict=True))
            for name in times:
                if row[name] is not None:
                    row[name] = row[name].astimezone(UTC)
            rows.append(row)
        return rows, count


class _Shape(NamedTuple):
    """What the SQL of a PageQuery depends on (the values are parameters)."""

    table: Table
    filtered: tuple[str, ...]
    q_columns: tuple[str, ...]
    with_deleted: bool
    order: tuple[tuple[str, bool], ...]
    numeric: frozenset[str]


@functools.lru_cache(maxsize=512)
def _statements(shape: _Shape, dialect: str) -> tuple[Select[Any], Select[Any]]:
    """The page and count statements of a shape, parameters bound by name."""
    table = shape.table
    where: list[ColumnElement[bool]] = []
    for name in shape.filtered:
        if dialect == "postgresql":  # one array parameter: one SQL text for any count
            # text[], not the column's varchar(n)[]: that cast would cut a long
            # value down to one that matches.
            where.append(table.c[name] == any_(bindparam(f"f_{name}", type_=ARRAY(Text()))))
        else:
            where.append(table.c[name].in_(bindparam(f"f_{name}", expanding=True)))
    if shape.q_columns:
        q = bindparam("q", type_=String)
        where.append(or_(*(table.c[c].ilike(q, escape="/") for c in shape.q_columns)))
    if not shape.with_deleted:
        where.append(table.c.deleted_at.is_(None))
    ordering = []
    for name, descending in shape.order:
        column: ColumnElement[Any] = table.c[name]
        if name in shape.numeric and dialect == "sqlite":
            column = sql_cast(column, Float)
        ordering.append(column.desc() if descending else column.asc())
    ordering.append(table.c.id.asc())  # a total order, so pages never overlap
    page = (
        select(table)
        .where(*where)
        .order_by(*ordering)
        .offset(bindparam("skip", type_=Integer))
        .limit(bindparam("take", type_=Integer))
    )
    return page, select(func.count()).select_from(table).where(*where)


_PG = postgresql_psycopg.dialect()  # type: ignore[no-untyped-call]


@functools.lru_cache(maxsize=512)
def _compiled(shape: _Shape) -> tuple[str, str]:
    """A shape's statements as psycopg SQL text (named %(x)s parameters)."""
    page, counting = _statements(shape, "postgresql")
    return str(page.compile(dialect=_PG)), str(counting.compile(dialect=_PG))


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
