"""Point accounts and the adjustment ledger: prebuilt statements, one per access path."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from .db import AnyRow
from .direct import DirectPool
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


# PostgreSQL, one statement (store/direct.py): move the balance only if the key
# is unused and the result stays within bounds, and append the ledger row from
# the RETURNING of that same update. A positive delta upserts (first-time
# accounts); a negative one only updates, so it can never create an account.
# No row back means "not the simple case": the caller takes the locking path,
# which gives the exact answer (replay, conflict, insufficient points, bounds).
_KEY_UNUSED = """NOT EXISTS (
        SELECT 1 FROM point_adjustments
        WHERE customer_id = %(customer_id)s::text
          AND idempotency_key = %(idempotency_key)s::text)"""
_LEDGER_FROM_ACCOUNT = """, ledger AS (
    INSERT INTO point_adjustments
        (id, customer_id, delta, reason, balance_after, idempotency_key, request_hash,
         created_at)
    SELECT %(id)s::text, %(customer_id)s::text, %(delta)s, %(reason)s::text, account.balance,
           %(idempotency_key)s::text, %(request_hash)s::text, %(now)s
    FROM account
)
SELECT balance FROM account"""
ADJUST_CREDIT_SQL = (
    """WITH account AS (
    INSERT INTO point_accounts AS a (customer_id, balance, created_at, updated_at)
    SELECT %(customer_id)s::text, %(delta)s, %(now)s, %(now)s
    WHERE """
    + _KEY_UNUSED
    + """
    ON CONFLICT (customer_id) DO UPDATE
        SET balance = a.balance + excluded.balance, updated_at = excluded.updated_at
        WHERE a.balance + excluded.balance < %(ceiling)s
    RETURNING a.balance
)"""
    + _LEDGER_FROM_ACCOUNT
)
ADJUST_DEBIT_SQL = (
    """WITH account AS (
    UPDATE point_accounts AS a
    SET balance = a.balance + %(delta)s, updated_at = %(now)s
    WHERE a.customer_id = %(customer_id)s::text
      AND a.balance + %(delta)s >= %(floor)s
      AND """
    + _KEY_UNUSED
    + """
    RETURNING a.balance
)"""
    + _LEDGER_FROM_ACCOUNT
)


_HISTORY_SQL = """SELECT id, customer_id, delta, reason, balance_after, created_at
FROM point_adjustments WHERE customer_id = %(customer_id)s::text
ORDER BY seq DESC LIMIT %(limit)s"""
_HISTORY_FIELDS = ("id", "customer_id", "delta", "reason", "balance_after", "created_at")


async def adjust_direct(
    pool: DirectPool, params: dict[str, Any], *, history: int
) -> tuple[Decimal, list[dict[str, Any]]] | None:
    """The one-statement adjustment; None when it did not apply (see ADJUST_*_SQL).

    With `history`, the statement and the read of the last `history` adjustments
    share one transaction, so the history is exactly the state this write made.
    Raises direct.Contended when a concurrent request raced it.
    """
    query = ADJUST_CREDIT_SQL if params["delta"] > 0 else ADJUST_DEBIT_SQL
    async with pool.connection() as conn:
        if not history:
            row = await (await conn.execute(query, params, prepare=True)).fetchone()
            return None if row is None else (row[0], [])
        async with conn.transaction():
            row = await (await conn.execute(query, params, prepare=True)).fetchone()
            if row is None:
                return None
            cursor = await conn.execute(
                _HISTORY_SQL, {"customer_id": params["customer_id"], "limit": history}, prepare=True
            )
            rows = [dict(zip(_HISTORY_FIELDS, r, strict=True)) for r in await cursor.fetchall()]
        for item in rows:
            item["created_at"] = item["created_at"].astimezone(UTC)
        return row[0], rows
