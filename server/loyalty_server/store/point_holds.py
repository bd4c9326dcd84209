"""Points holds and order entries: prebuilt statements for domain/point_holds.py
and domain/order_points.py. Callers hold the account's row lock for every write."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from .db import AnyRow
from .models import OrderPointsEntry, PointAccount, PointsHold

_accounts = cast(Table, PointAccount.__table__)
_holds = cast(Table, PointsHold.__table__)
_entries = cast(Table, OrderPointsEntry.__table__)

ACTIVE = "active"
EXPIRED = "expired"
_NO_CURSOR = 2**63 - 1

_by_id = select(_holds).where(_holds.c.id == bindparam("hold_id"))
_lock_by_id = _by_id.with_for_update()
_by_key = select(_holds).where(
    _holds.c.customer_id == bindparam("customer_id"),
    _holds.c.idempotency_key == bindparam("idempotency_key"),
)
_active_points = select(_holds.c.points, _holds.c.expires_at).where(
    _holds.c.customer_id == bindparam("customer_id"), _holds.c.status == ACTIVE
)
_expire = (
    update(_holds)
    .where(
        _holds.c.customer_id == bindparam("account_id"),
        _holds.c.status == ACTIVE,
        _holds.c.expires_at <= bindparam("now"),
    )
    .values(status=EXPIRED, updated_at=bindparam("now"))
)
_set_held = (
    update(_accounts)
    .where(_accounts.c.customer_id == bindparam("account_id"))
    .values(held=bindparam("new_held"))
)
_entries_of = (
    select(_entries)
    .where(
        _entries.c.customer_id == bindparam("customer_id"),
        _entries.c.order_id == bindparam("order_id"),
    )
    .order_by(_entries.c.seq)
)


def unexpired(rows: Sequence[AnyRow], now: datetime) -> Decimal:
    """The points that active holds reserve at `now` (Python sums: SQLite stores
    amounts as text)."""
    return sum((r.points for r in rows if r.expires_at > now), Decimal(0))


async def held_now(conn: AsyncConnection, customer_id: str, now: datetime) -> Decimal:
    """What the customer's holds reserve at `now`, for a read (nothing written)."""
    rows = (await conn.execute(_active_points, {"customer_id": customer_id})).all()
    return unexpired(rows, now)


async def settle_expired(conn: AsyncConnection, customer_id: str, now: datetime) -> Decimal:
    """Mark the customer's active holds past their expiry "expired" and bring the
    account's held down to what the others reserve, which it returns. Under the
    account's row lock, so held stays the sum of the active holds."""
    await conn.execute(_expire, {"account_id": customer_id, "now": now})
    held = await held_now(conn, customer_id, now)
    await set_held(conn, customer_id, held)
    return held


async def set_held(conn: AsyncConnection, customer_id: str, held: Decimal) -> None:
    await conn.execute(_set_held, {"account_id": customer_id, "new_held": held})


async def get_hold(conn: AsyncConnection, hold_id: str, *, lock: bool = False) -> AnyRow | None:
    statement = _lock_by_id if lock else _by_id
    return (await conn.execute(statement, {"hold_id": hold_id})).first()


async def hold_by_key(conn: AsyncConnection, customer_id: str, key: str) -> AnyRow | None:
    params = {"customer_id": customer_id, "idempotency_key": key}
    return (await conn.execute(_by_key, params)).first()


async def insert_hold(conn: AsyncConnection, row: dict[str, Any]) -> None:
    await conn.execute(insert(_holds), row)


async def update_hold(conn: AsyncConnection, hold_id: str, **values: Any) -> None:
    await conn.execute(update(_holds).where(_holds.c.id == hold_id).values(**values))


async def holds_page(
    conn: AsyncConnection,
    customer_id: str,
    *,
    reference_id: str | None,
    active_at: datetime | None,
    before_seq: int | None,
    limit: int,
) -> list[AnyRow]:
    """Newest first; only for `reference_id` and only those active at `active_at`
    when given."""
    query = select(_holds).where(
        _holds.c.customer_id == customer_id,
        _holds.c.seq < (_NO_CURSOR if before_seq is None else before_seq),
    )
    if reference_id is not None:
        query = query.where(_holds.c.reference_id == reference_id)
    if active_at is not None:
        query = query.where(_holds.c.status == ACTIVE, _holds.c.expires_at > active_at)
    query = query.order_by(_holds.c.seq.desc()).limit(limit)
    return list((await conn.execute(query)).all())


async def order_entries(conn: AsyncConnection, customer_id: str, order_id: str) -> list[AnyRow]:
    params = {"customer_id": customer_id, "order_id": order_id}
    return list((await conn.execute(_entries_of, params)).all())


async def insert_order_entry(conn: AsyncConnection, row: dict[str, Any]) -> None:
    await conn.execute(insert(_entries), row)
