"""Point accounts and the adjustment ledger: prebuilt statements, one per access path."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from .db import AnyRow
from .models import PointAccount, PointAdjustment

_accounts = cast(Table, PointAccount.__table__)
_ledger = cast(Table, PointAdjustment.__table__)

ADJUSTMENT_COLUMNS = (
    _ledger.c.id,
    _ledger.c.customer_id,
    _ledger.c.delta,
    _ledger.c.reason,
    _ledger.c.balance_after,
    _ledger.c.created_at,
)
_NO_CURSOR = 2**63 - 1

_account = select(_accounts.c.balance, _accounts.c.updated_at).where(
    _accounts.c.customer_id == bindparam("customer_id")
)
_lock_account = _account.with_for_update()
_insert_account = insert(_accounts)
_set_balance = (
    update(_accounts)
    .where(_accounts.c.customer_id == bindparam("account_id"))
    .values(balance=bindparam("new_balance"), updated_at=bindparam("now"))
)
_by_key = select(*ADJUSTMENT_COLUMNS, _ledger.c.request_hash).where(
    _ledger.c.customer_id == bindparam("customer_id"),
    _ledger.c.idempotency_key == bindparam("idempotency_key"),
)
_insert_adjustment = insert(_ledger)
_page = (
    select(*ADJUSTMENT_COLUMNS, _ledger.c.seq)
    .where(_ledger.c.customer_id == bindparam("customer_id"), _ledger.c.seq < bindparam("before"))
    .order_by(_ledger.c.seq.desc())
    .limit(bindparam("limit"))
)


async def lock_account(conn: AsyncConnection, customer_id: str) -> AnyRow | None:
    """The account row, locked until the transaction ends (SQLite: already serialized)."""
    return (await conn.execute(_lock_account, {"customer_id": customer_id})).first()


async def get_account(conn: AsyncConnection, customer_id: str) -> AnyRow | None:
    return (await conn.execute(_account, {"customer_id": customer_id})).first()


async def create_account(
    conn: AsyncConnection, customer_id: str, balance: Decimal, now: datetime
) -> None:
    await conn.execute(
        _insert_account,
        {"customer_id": customer_id, "balance": balance, "created_at": now, "updated_at": now},
    )


async def set_balance(
    conn: AsyncConnection, customer_id: str, balance: Decimal, now: datetime
) -> None:
    await conn.execute(
        _set_balance, {"account_id": customer_id, "new_balance": balance, "now": now}
    )


async def adjustment_by_key(
    conn: AsyncConnection, customer_id: str, idempotency_key: str
) -> AnyRow | None:
    params = {"customer_id": customer_id, "idempotency_key": idempotency_key}
    return (await conn.execute(_by_key, params)).first()


async def insert_adjustment(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(_insert_adjustment, values)


async def adjustments_page(
    conn: AsyncConnection, customer_id: str, *, before_seq: int | None, limit: int
) -> list[AnyRow]:
    """Newest first, strictly older than `before_seq` when given."""
    params = {
        "customer_id": customer_id,
        "before": _NO_CURSOR if before_seq is None else before_seq,
        "limit": limit,
    }
    return list((await conn.execute(_page, params)).all())
