"""Point accounts and the adjustment ledger: prebuilt statements, one per access path."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from operator import itemgetter
from typing import Any, cast

from psycopg import AsyncConnection as AsyncConnectionPG
from sqlalchemy import Table, bindparam, false, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from .coalesce import MAX_BATCH, Coalescer
from .db import AnyRow
from .direct import DirectPool, simple_case_only
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

_account = select(_accounts.c.balance, _accounts.c.held, _accounts.c.updated_at).where(
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
_adjustment_by_id = select(*ADJUSTMENT_COLUMNS).where(_ledger.c.id == bindparam("adjustment_id"))
_page = (
    select(*ADJUSTMENT_COLUMNS, _ledger.c.seq)
    .where(_ledger.c.customer_id == bindparam("customer_id"), _ledger.c.seq < bindparam("before"))
    .order_by(_ledger.c.seq.desc())
    .limit(bindparam("limit"))
)


async def lock_account(conn: AsyncConnection, customer_id: str) -> AnyRow | None:
    """The account row, locked until the transaction ends (SQLite: already serialized)."""
    return (await conn.execute(_lock_account, {"customer_id": customer_id})).first()


def _lock_or_create_many(dialect: str) -> Any:
    """INSERT the accounts that do not exist (balance 0) and lock those that do, in
    one pass in the order given: ON CONFLICT DO UPDATE ... WHERE false updates
    nothing but locks every conflicting row (PostgreSQL's INSERT documentation)."""
    insert_ = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert_(_accounts)
    return statement.on_conflict_do_update(
        index_elements=[_accounts.c.customer_id],
        set_={"updated_at": statement.excluded.updated_at},
        where=false(),
    )


async def lock_accounts(
    conn: AsyncConnection, customer_ids: Sequence[str], now: datetime
) -> dict[str, tuple[Decimal, Decimal]]:
    """Lock (creating at balance 0 where absent) every account of a multi-customer
    write, in code-point order, before anything else of it: the one lock order every
    path follows, so no two writes can wait for each other in a cycle. Created
    accounts vanish with a rolled-back transaction. Returns (balance, held) each."""
    ordered = sorted(set(customer_ids))  # str order = code points = COLLATE "C"
    rows = [
        {"customer_id": c, "balance": Decimal(0), "created_at": now, "updated_at": now}
        for c in ordered
    ]
    await conn.execute(_lock_or_create_many(conn.dialect.name), rows)
    found = await conn.execute(
        select(_accounts.c.customer_id, _accounts.c.balance, _accounts.c.held).where(
            _accounts.c.customer_id.in_(ordered)
        )
    )
    return {row.customer_id: (row.balance, row.held) for row in found}


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


async def adjustment_by_id(conn: AsyncConnection, adjustment_id: str) -> AnyRow | None:
    return (await conn.execute(_adjustment_by_id, {"adjustment_id": adjustment_id})).first()


async def insert_adjustments(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    await conn.execute(_insert_adjustment, rows)


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


# PostgreSQL, independent adjustments in one statement (store/direct.py; at most
# one per customer; store/coalesce.py gathers them). For each item, move the
# balance only if its key is unused and the result stays within bounds, and
# append its ledger row from the RETURNING of that same upsert. A debit only
# updates an existing account, so it never creates one. An item that returns no
# row was not the simple case and wrote nothing: the caller takes the locking
# path, which gives the exact answer (replay, conflict, insufficient points,
# bounds). The floor applies to the available points, balance - held, with the
# row's held (every active hold, expired or not: never less than what is really
# reserved), so a hold's points cannot be spent here; a debit refused only
# because of an expired hold goes to the locking path, which settles expiry.
# Accounts are taken (inserted or locked) in one pass in code-point
# order, the order every multi-account write follows (batches: _LOCK_MANY_SQL and
# lock_accounts), so no cycle can form; group commit's lock_timeout (store/db.py)
# only keeps one locked row from holding up its batch-mates. The key check is a
# subplan on the (customer, key) unique index whatever the statistics (see
# DEBIT_MANY_SQL in store/gift_cards.py for what the anti-join plan did).
ADJUST_MANY_SQL = """WITH input AS (
    SELECT * FROM unnest(%(ids)s::text[], %(customers)s::text[], %(deltas)s::numeric[],
                         %(reasons)s::text[], %(keys)s::text[], %(hashes)s::text[],
                         %(nows)s::timestamptz[])
        AS t(id, customer_id, delta, reason, idempotency_key, request_hash, now)
), account AS (
    INSERT INTO point_accounts AS a (customer_id, balance, created_at, updated_at)
    SELECT i.customer_id, i.delta, i.now, i.now FROM input AS i
    WHERE (i.delta > 0
           OR EXISTS (SELECT 1 FROM point_accounts AS e WHERE e.customer_id = i.customer_id))
      AND (i.idempotency_key IS NULL
           OR NOT EXISTS (SELECT 1 FROM point_adjustments AS p
                          WHERE p.customer_id = i.customer_id
                            AND p.idempotency_key = i.idempotency_key))
    ORDER BY i.customer_id COLLATE "C"
    ON CONFLICT (customer_id) DO UPDATE
        SET balance = a.balance + excluded.balance, updated_at = excluded.updated_at
        WHERE a.balance + excluded.balance - a.held >= %(floor)s
          AND a.balance + excluded.balance < %(ceiling)s
    RETURNING a.customer_id, a.balance
), ledger AS (
    INSERT INTO point_adjustments
        (id, customer_id, delta, reason, balance_after, idempotency_key, request_hash,
         created_at)
    SELECT i.id, i.customer_id, i.delta, i.reason, account.balance, i.idempotency_key,
           i.request_hash, i.now
    FROM input AS i JOIN account ON account.customer_id = i.customer_id
)
SELECT customer_id, balance FROM account"""


# The array parameters (unnest) the set-based ledger statements share: name -> column.
_LEDGER_ARRAYS = {
    "ids": "id",
    "customers": "customer_id",
    "deltas": "delta",
    "reasons": "reason",
    "keys": "idempotency_key",
    "hashes": "request_hash",
}


def _ledger_arrays(rows: list[dict[str, Any]], **more: str) -> dict[str, list[Any]]:
    """One array per parameter, in row order: _LEDGER_ARRAYS and `more` (name=column)."""
    columns = {**_LEDGER_ARRAYS, **more}
    return {name: [row[column] for row in rows] for name, column in columns.items()}


async def _adjust_many(
    conn: AsyncConnectionPG[Any], items: list[dict[str, Any]], *, floor: Decimal, ceiling: Decimal
) -> list[Decimal | None]:
    params = {**_ledger_arrays(items, nows="now"), "floor": floor, "ceiling": ceiling}
    cursor = await conn.execute(ADJUST_MANY_SQL, params, prepare=True)
    applied: dict[str, Decimal] = dict(await cursor.fetchall())
    return [applied.get(i["customer_id"]) for i in items]


# The last N adjustments of each of several customers, newest first.
_HISTORIES_SQL = """SELECT c.customer_id, h.id, h.delta, h.reason, h.balance_after, h.created_at
FROM unnest(%(customers)s::text[]) AS c(customer_id)
CROSS JOIN LATERAL (
    SELECT id, delta, reason, balance_after, created_at, seq FROM point_adjustments
    WHERE customer_id = c.customer_id ORDER BY seq DESC LIMIT %(limit)s
) AS h
ORDER BY c.customer_id, h.seq DESC"""
_HISTORY_FIELDS = ("customer_id", "id", "delta", "reason", "balance_after", "created_at")

#: What one adjustment of adjust_many made: the balance after it and, when its
#: item asked for it, the customer's last adjustments after it (newest first).
Adjusted = tuple[Decimal, list[dict[str, Any]]]


async def adjust_many(
    conn: AsyncConnectionPG[Any],
    items: list[dict[str, Any]],
    *,
    floor: Decimal,
    ceiling: Decimal,
    history: int,
) -> list[Adjusted | None]:
    """What each item's adjustment made (see Adjusted), or None where it was not applied.

    An item has id, customer_id, delta, reason, idempotency_key, request_hash, now
    and `history` (true: also read its last `history` adjustments); no two items
    share a customer. When any item wants its history, the write and the reads
    are one transaction, the reads after the write: each history is exactly the
    state its write made (the batch holds the account's row lock until commit, and
    no other item of the batch is that customer's). Raises direct.Contended
    (nothing written) when a concurrent request raced one of them.
    """
    # The results are matched to items by customer: one each, or rows would be lost.
    assert len({i["customer_id"] for i in items}) == len(items), "one item per customer"
    if not any(i["history"] for i in items):
        balances = await _adjust_many(conn, items, floor=floor, ceiling=ceiling)
        return [None if b is None else (b, []) for b in balances]
    async with conn.transaction():
        balances = await _adjust_many(conn, items, floor=floor, ceiling=ceiling)
        wanted = [
            i["customer_id"]
            for i, b in zip(items, balances, strict=True)
            if b is not None and i["history"]
        ]
        histories: dict[str, list[dict[str, Any]]] = {c: [] for c in wanted}
        if wanted:
            params = {"customers": wanted, "limit": history}
            cursor = await conn.execute(_HISTORIES_SQL, params, prepare=True)
            for r in await cursor.fetchall():
                row = dict(zip(_HISTORY_FIELDS, r, strict=True))
                row["created_at"] = row["created_at"].astimezone(UTC)
                histories[row["customer_id"]].append(row)
    return [
        None if b is None else (b, histories.get(i["customer_id"], []))
        for i, b in zip(items, balances, strict=True)
    ]


def adjustment_coalescer(
    pool: DirectPool, *, floor: Decimal, ceiling: Decimal, history: int
) -> Coalescer[dict[str, Any], Adjusted]:
    """Sends concurrent one-statement adjustments together (see store/coalesce.py),
    those that want their history too; `pool` is Database.group_commit, whose
    lock_timeout keeps a locked row short."""
    return Coalescer(
        pool,
        partial(adjust_many, floor=floor, ceiling=ceiling, history=history),
        key=itemgetter("customer_id"),
        max_batch=MAX_BATCH,
    )


# PostgreSQL batch (store/direct.py): one transaction of four statements for up to
# 1,000 adjustments. Its first statement takes every account it touches in one
# pass in code-point order, inserting the absent ones at 0 and locking the others
# (ON CONFLICT DO UPDATE ... WHERE false locks without updating): the same order
# as the locking path and group commit, so none of them can deadlock another.
# Creating absent accounts one by one in request order used to: two batches
# naming the same new customers in other orders each waited for the other's insert.
_LOCK_MANY_SQL = """INSERT INTO point_accounts AS a (customer_id, balance, created_at, updated_at)
SELECT c, 0, %(now)s, %(now)s FROM unnest(%(ids)s::text[]) AS t(c) ORDER BY c COLLATE "C"
ON CONFLICT (customer_id) DO UPDATE SET updated_at = a.updated_at WHERE false"""
_LOCKED_SQL = """SELECT customer_id, balance, held FROM point_accounts
WHERE customer_id = ANY(%(ids)s::text[])"""
_KEYS_USED_SQL = """SELECT 1 FROM point_adjustments AS a
JOIN unnest(%(customers)s::text[], %(keys)s::text[]) AS k(customer_id, idempotency_key)
  ON a.customer_id = k.customer_id AND a.idempotency_key = k.idempotency_key
LIMIT 1"""
_UPDATE_MANY_SQL = """UPDATE point_accounts AS a SET balance = t.b, updated_at = %(now)s
FROM unnest(%(ids)s::text[], %(balances)s::numeric[]) AS t(c, b) WHERE a.customer_id = t.c"""
_INSERT_LEDGER_SQL = """INSERT INTO point_adjustments
    (id, customer_id, delta, reason, balance_after, idempotency_key, request_hash, created_at)
SELECT i, c, d, r, b, k, h, %(now)s
FROM unnest(%(ids)s::text[], %(customers)s::text[], %(deltas)s::numeric[],
            %(reasons)s::text[], %(balances)s::numeric[], %(keys)s::text[],
            %(hashes)s::text[]) WITH ORDINALITY AS t(i, c, d, r, b, k, h, n)
ORDER BY n"""


class _Rollback(Exception):
    pass


@simple_case_only
async def adjust_batch_direct(
    pool: DirectPool,
    customer_ids: list[str],
    keys: list[tuple[str, str]],
    plan: Callable[[dict[str, tuple[Decimal, Decimal]]], list[dict[str, Any]] | None],
    now: datetime,
) -> list[dict[str, Any]] | None:
    """Lock the accounts (see _LOCK_MANY_SQL), let `plan` turn their (balance, held)
    into
    ledger rows (in order, each with id, customer_id, delta, reason, balance_after,
    idempotency_key, request_hash), write them and the final balances. None, with
    nothing written, when a key was used before or `plan` refuses: the locking path
    decides those."""
    try:
        async with pool.connection() as conn, conn.transaction():
            ids = sorted(set(customer_ids))
            await conn.execute(_LOCK_MANY_SQL, {"ids": ids, "now": now})
            locked = await (await conn.execute(_LOCKED_SQL, {"ids": ids})).fetchall()
            # An account created just now reads 0, as an absent one would.
            balances = {row[0]: (row[1], row[2]) for row in locked}
            if keys:
                params = {"customers": [c for c, _ in keys], "keys": [k for _, k in keys]}
                if await (await conn.execute(_KEYS_USED_SQL, params)).fetchone():
                    raise _Rollback
            rows = plan(balances)
            if rows is None:
                raise _Rollback
            final: dict[str, Decimal] = {}
            for row in rows:
                final[row["customer_id"]] = row["balance_after"]
            await conn.execute(
                _UPDATE_MANY_SQL,
                {"ids": list(final), "balances": list(final.values()), "now": now},
            )
            await conn.execute(
                _INSERT_LEDGER_SQL,
                {**_ledger_arrays(rows, balances="balance_after"), "now": now},
            )
            return rows
    except _Rollback:
        return None


# PostgreSQL read, coalesced (store/coalesce.py): for each customer of the batch
# the balance, what unexpired holds reserve (looked up only when the row says
# something is held) and the last N adjustments (N may be 0), in one statement:
# each from one snapshot. A customer without an account returns no row.
_BALANCES_SQL = """SELECT c.n, a.balance, a.updated_at, h.id, h.delta, h.reason,
       h.balance_after, h.created_at,
       CASE WHEN a.held = 0 THEN 0 ELSE (
           SELECT COALESCE(sum(p.points), 0) FROM point_holds AS p
           WHERE p.customer_id = a.customer_id AND p.status = 'active'
             AND p.expires_at > c.now) END
FROM unnest(%(customers)s::text[], %(limits)s::int[], %(nows)s::timestamptz[])
    WITH ORDINALITY AS c(customer_id, history, now, n)
JOIN point_accounts AS a ON a.customer_id = c.customer_id
LEFT JOIN LATERAL (
    SELECT id, delta, reason, balance_after, created_at, seq FROM point_adjustments
    WHERE customer_id = a.customer_id ORDER BY seq DESC LIMIT c.history
) AS h ON true
ORDER BY c.n, h.seq DESC"""

#: A customer's (balance, held now, updated_at, last adjustments newest first).
BalanceRead = tuple[Decimal, Decimal, datetime, list[dict[str, Any]]]


async def balances_many(
    conn: AsyncConnectionPG[Any], items: list[dict[str, Any]]
) -> list[BalanceRead | None]:
    """For each item (customer_id, history: how many adjustments, now: for holds),
    what BalanceRead says, or None when the customer has no account."""
    params = {
        "customers": [i["customer_id"] for i in items],
        "limits": [i["history"] for i in items],
        "nows": [i["now"] for i in items],
    }
    cursor = await conn.execute(_BALANCES_SQL, params, prepare=True)
    found: list[BalanceRead | None] = [None] * len(items)
    for n, balance, updated_at, *entry, held in await cursor.fetchall():
        read = found[n - 1]
        if read is None:
            read = found[n - 1] = (balance, held, updated_at.astimezone(UTC), [])
        if entry[0] is not None:
            adjustment = dict(zip(_HISTORY_FIELDS[1:], entry, strict=True))
            adjustment["customer_id"] = items[n - 1]["customer_id"]
            adjustment["created_at"] = adjustment["created_at"].astimezone(UTC)
            read[3].append(adjustment)
    return found


def balance_reader(pool: DirectPool) -> Coalescer[dict[str, Any], BalanceRead]:
    """Sends concurrent GetPointsBalance reads together (see balances_many)."""
    return Coalescer(pool, balances_many, key=None, max_batch=MAX_BATCH, group_commit=False)
