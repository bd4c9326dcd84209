"""Store-credit accounts and their transactions. Knows SQL, not rules.

Balances and their two totals live on the account row; every movement locks the
rows it touches in one global order (account id, code points) and changes them
in the same transaction as the ledger rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from psycopg import AsyncConnection as AsyncConnectionPG
from psycopg.types.json import Json
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from . import listing
from .coalesce import MAX_BATCH, Coalescer
from .db import AnyRow
from .direct import DirectPool
from .models import GiftCard, StoreCreditAccount, StoreCreditTransaction

_accounts = cast(Table, StoreCreditAccount.__table__)
_ledger = cast(Table, StoreCreditTransaction.__table__)
_cards = cast(Table, GiftCard.__table__)
_live = _accounts.c.deleted_at.is_(None)

TRANSACTION_COLUMNS = (
    _ledger.c.id,
    _ledger.c.account_id,
    _ledger.c.type,
    _ledger.c.amount,
    _ledger.c.note,
    _ledger.c.reference,
    _ledger.c.reference_id,
    _ledger.c.metadata,
    _ledger.c.created_at,
    _ledger.c.deleted_at,
)

ACCOUNT_SORTABLE = frozenset(
    {"id", "code", "customer_id", "currency_code", "balance", "created_at", "updated_at"}
)
TRANSACTION_SORTABLE = frozenset(
    {"id", "account_id", "type", "amount", "reference", "reference_id", "created_at"}
)

_by_id = select(_accounts).where(_accounts.c.id == bindparam("id"), _live)
_by_code = select(_accounts).where(_accounts.c.code == bindparam("code"), _live)
# Every account of a movement, locked in the one global order before anything else.
_lock_many = (
    select(_accounts)
    .where(_accounts.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(_accounts.c.id)
    .with_for_update()
)
_by_key = select(*TRANSACTION_COLUMNS, _ledger.c.request_hash).where(
    _ledger.c.account_id == bindparam("account_id"),
    _ledger.c.idempotency_key == bindparam("idempotency_key"),
)
_set_totals = (
    update(_accounts)
    .where(_accounts.c.id == bindparam("account_id"))
    .values(
        balance=bindparam("new_balance"),
        credits=bindparam("new_credits"),
        debits=bindparam("new_debits"),
        updated_at=bindparam("now"),
    )
)
_mirror_card = (
    update(_cards)
    .where(_cards.c.id == bindparam("card_id"))
    .values(balance=bindparam("new_balance"), updated_at=bindparam("now"))
)
_has_transactions = (
    select(_ledger.c.seq).where(_ledger.c.account_id == bindparam("account_id")).limit(1)
)


# ------------------------------------------------------------------ accounts


async def get_account(
    conn: AsyncConnection, *, id: str | None = None, code: str | None = None
) -> AnyRow | None:
    """A live account by id or code."""
    if id is not None:
        return (await conn.execute(_by_id, {"id": id})).first()
    return (await conn.execute(_by_code, {"code": code})).first()


async def lock_accounts(conn: AsyncConnection, ids: Sequence[str]) -> dict[str, AnyRow]:
    """The accounts (live or soft-deleted) among `ids`, locked in id order until the
    transaction ends; absent ids are simply missing from the result."""
    rows = await conn.execute(_lock_many, {"ids": sorted(set(ids))})
    return {row.id: row for row in rows}


async def taken(conn: AsyncConnection, column: str, values: Sequence[Any]) -> set[Any]:
    """Which of `values` some account (live or soft-deleted) already has in `column`."""
    if not values:
        return set()
    column_ = _accounts.c[column]
    rows = await conn.execute(select(column_).where(column_.in_(list(values))))
    return {row[0] for row in rows}


async def live_customer_accounts(
    conn: AsyncConnection, pairs: Sequence[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which (customer_id, currency_code) pairs already have a live account."""
    if not pairs:
        return set()
    customers = sorted({c for c, _ in pairs})
    rows = await conn.execute(
        select(_accounts.c.customer_id, _accounts.c.currency_code).where(
            _accounts.c.customer_id.in_(customers), _live
        )
    )
    existing = {(row[0], row[1]) for row in rows}
    return existing & set(pairs)


async def insert_accounts(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    await conn.execute(insert(_accounts), rows)


async def update_account(conn: AsyncConnection, account_id: str, values: Mapping[str, Any]) -> None:
    await conn.execute(update(_accounts).where(_accounts.c.id == account_id).values(**values))


async def set_totals(
    conn: AsyncConnection,
    account_id: str,
    *,
    balance: Decimal,
    credits: Decimal,
    debits: Decimal,
    now: datetime,
) -> None:
    params = {
        "account_id": account_id,
        "new_balance": balance,
        "new_credits": credits,
        "new_debits": debits,
        "now": now,
    }
    await conn.execute(_set_totals, params)


async def link_gift_card(conn: AsyncConnection, account_id: str, card_id: str) -> None:
    await conn.execute(
        update(_accounts).where(_accounts.c.id == account_id).values(gift_card_id=card_id)
    )


async def mirror_card_balance(
    conn: AsyncConnection, card_id: str, balance: Decimal, now: datetime
) -> None:
    """A funded gift card's balance is its account's: kept equal in the same transaction."""
    await conn.execute(_mirror_card, {"card_id": card_id, "new_balance": balance, "now": now})


async def account_funding(conn: AsyncConnection, card_id: str) -> AnyRow | None:
    """The account (live or not) that funds the gift card, if any."""
    statement = select(_accounts).where(_accounts.c.gift_card_id == card_id)
    return (await conn.execute(statement)).first()


async def has_transactions(conn: AsyncConnection, account_id: str) -> bool:
    return (await conn.execute(_has_transactions, {"account_id": account_id})).first() is not None


def list_accounts(
    columns: Mapping[str, Sequence[str]],
    *,
    q: str,
    with_deleted: bool,
    order: Sequence[tuple[str, bool]],
    skip: int,
    take: int,
    with_count: bool,
) -> listing.PageQuery:
    return listing.PageQuery(
        _accounts,
        columns,
        order,
        skip,
        take,
        with_count,
        q=q,
        q_columns=("code", "customer_id", "id"),
        with_deleted=with_deleted,
        numeric=frozenset({"balance"}),
    )


async def delete_accounts(conn: AsyncConnection, ids: Sequence[str]) -> list[str]:
    """Hard delete, transactions included. Returns the ids that existed."""
    return await listing.delete_with_ledger(conn, _accounts, _ledger.c.account_id, ids)


async def funding_existing_cards(conn: AsyncConnection, ids: Sequence[str]) -> list[AnyRow]:
    """(account id, gift card id) of the given accounts that fund an existing card."""
    statement = (
        select(_accounts.c.id, _accounts.c.gift_card_id)
        .join(_cards, _cards.c.id == _accounts.c.gift_card_id)
        .where(_accounts.c.id.in_(list(ids)))
        .order_by(_accounts.c.id)
    )
    return list((await conn.execute(statement)).all())


async def set_deleted_at(
    conn: AsyncConnection, ids: Sequence[str], deleted_at: datetime | None, now: datetime
) -> list[str]:
    return await listing.set_deleted_at(conn, _accounts, ids, deleted_at, now)


# -------------------------------------------------------------- transactions


async def transaction_by_key(
    conn: AsyncConnection, account_id: str, idempotency_key: str
) -> AnyRow | None:
    params = {"account_id": account_id, "idempotency_key": idempotency_key}
    return (await conn.execute(_by_key, params)).first()


async def insert_transactions(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    await conn.execute(insert(_ledger), rows)


async def live_transactions(conn: AsyncConnection, ids: Sequence[str]) -> list[AnyRow]:
    """The not yet voided transactions among `ids` (their accounts: account_id)."""
    statement = select(*TRANSACTION_COLUMNS).where(
        _ledger.c.id.in_(list(ids)), _ledger.c.deleted_at.is_(None)
    )
    return list((await conn.execute(statement)).all())


async def void_transactions(conn: AsyncConnection, ids: Sequence[str], now: datetime) -> None:
    await conn.execute(
        update(_ledger)
        .where(_ledger.c.id.in_(list(ids)), _ledger.c.deleted_at.is_(None))
        .values(deleted_at=now)
    )


def list_transactions(
    columns: Mapping[str, Sequence[str]],
    *,
    with_deleted: bool,
    order: Sequence[tuple[str, bool]],
    skip: int,
    take: int,
    with_count: bool,
) -> listing.PageQuery:
    return listing.PageQuery(
        _ledger,
        columns,
        order,
        skip,
        take,
        with_count,
        with_deleted=with_deleted,
        numeric=frozenset({"amount"}),
    )


# PostgreSQL, group commit (store/coalesce.py): the single credits and debits
# queued meanwhile, several of one account included, in one statement. The
# accounts are locked in id order, as the locking path's lock_accounts takes
# them (a batch and a multi-account movement may wait, never in a cycle) after
# the account's rules (live, not funding a gift card); then per move its key
# must be unused on that account. One account's moves apply in request order
# while its balance never goes below zero along the way (the running minimum),
# and the account moves once by their sum. A move that does not apply returns
# no row and wrote nothing: its caller takes the locking path, which answers
# exactly (not found, replay, conflict, insufficient balance, a funding
# account). The key check is a subplan on the (account, key) unique index (see
# DEBIT_MANY_SQL in store/gift_cards.py for why).
MOVE_MANY_SQL = """WITH input AS (
    SELECT * FROM unnest(%(ids)s::text[], %(accounts)s::text[], %(types)s::text[],
                         %(amounts)s::numeric[], %(notes)s::text[], %(references)s::text[],
                         %(reference_ids)s::text[], %(metadata)s::json[], %(keys)s::text[],
                         %(hashes)s::text[], %(nows)s::timestamptz[])
        WITH ORDINALITY AS t(id, account_id, type, amount, note, reference, reference_id,
                             metadata, idempotency_key, request_hash, now, n)
), account AS (
    SELECT a.id, a.balance FROM store_credit_accounts AS a
    WHERE a.id = ANY(%(accounts)s::text[]) AND a.deleted_at IS NULL AND a.gift_card_id IS NULL
    ORDER BY a.id
    FOR UPDATE OF a
), running AS (
    SELECT i.*, a.balance + sum(CASE WHEN i.type = 'debit' THEN -i.amount ELSE i.amount END)
               OVER (PARTITION BY a.id ORDER BY i.n) AS after
    FROM input AS i JOIN account AS a ON a.id = i.account_id
    WHERE i.idempotency_key IS NULL
       OR NOT EXISTS (SELECT 1 FROM store_credit_transactions AS t
                      WHERE t.account_id = a.id AND t.idempotency_key = i.idempotency_key)
), applied AS (
    SELECT * FROM (
        SELECT r.*, min(r.after) OVER (PARTITION BY r.account_id ORDER BY r.n) AS lowest
        FROM running AS r
    ) AS x WHERE x.lowest >= 0
), total AS (
    SELECT account_id,
           sum(CASE WHEN type = 'credit' THEN amount ELSE 0 END) AS credits,
           sum(CASE WHEN type = 'debit' THEN amount ELSE 0 END) AS debits,
           max(now) AS now
    FROM applied GROUP BY account_id
), updated AS (
    UPDATE store_credit_accounts AS a
    SET balance = a.balance + total.credits - total.debits,
        credits = a.credits + total.credits,
        debits = a.debits + total.debits,
        updated_at = total.now
    FROM total WHERE a.id = total.account_id
    RETURNING a.id
), ledger AS (
    INSERT INTO store_credit_transactions
        (id, account_id, type, amount, note, reference, reference_id, metadata,
         idempotency_key, request_hash, created_at)
    SELECT p.id, p.account_id, p.type, p.amount, p.note, p.reference, p.reference_id,
           p.metadata, p.idempotency_key, p.request_hash, p.now
    FROM applied AS p JOIN updated AS u ON u.id = p.account_id
)
SELECT p.n FROM applied AS p JOIN updated AS u ON u.id = p.account_id"""

# A move's field (a ledger row's) -> the statement's array parameter.
_MOVE_ARRAYS = {
    "id": "ids",
    "account_id": "accounts",
    "type": "types",
    "amount": "amounts",
    "note": "notes",
    "reference": "references",
    "reference_id": "reference_ids",
    "metadata": "metadata",
    "idempotency_key": "keys",
    "request_hash": "hashes",
    "created_at": "nows",
}


async def move_many(
    conn: AsyncConnectionPG[Any], rows: list[Mapping[str, Any]]
) -> list[bool | None]:
    """True for each move (a ledger row's values: those of _MOVE_ARRAYS) applied,
    None for each not applied. No two share an account and an idempotency key.
    Raises direct.Contended (nothing written) when a concurrent request raced one."""
    params: dict[str, list[Any]] = {
        array: [row[field] for row in rows] for field, array in _MOVE_ARRAYS.items()
    }
    params["metadata"] = [None if m is None else Json(m) for m in params["metadata"]]
    cursor = await conn.execute(MOVE_MANY_SQL, params, prepare=True)
    applied: list[bool | None] = [None] * len(rows)
    for (n,) in await cursor.fetchall():
        applied[n - 1] = True
    return applied


def move_coalescer(pool: DirectPool) -> Coalescer[Mapping[str, Any], bool]:
    """Sends concurrent single credits and debits together (see MOVE_MANY_SQL);
    `pool` is Database.debit_group_commit. Two moves with one key on one account
    never share a batch (the first's ledger row decides the second: a replay)."""
    return Coalescer(
        pool,
        move_many,
        key=lambda row: (row["account_id"], row["idempotency_key"] or row["id"]),
        max_batch=MAX_BATCH,
    )


# PostgreSQL read, coalesced (store/coalesce.py): the stats of every account of
# the batch in one primary-key lookup each; an unknown or deleted account
# returns no row.
_STATS_SQL = """SELECT c.n, a.balance, a.credits, a.debits
FROM unnest(%(ids)s::text[]) WITH ORDINALITY AS c(id, n)
JOIN store_credit_accounts AS a ON a.id = c.id AND a.deleted_at IS NULL"""

#: (balance, credits, debits) of a live account.
StatsRead = tuple[Decimal, Decimal, Decimal]


async def stats_many(
    conn: AsyncConnectionPG[Any], account_ids: list[str]
) -> list[StatsRead | None]:
    """Each account's StatsRead, or None when it is not a live account."""
    cursor = await conn.execute(_STATS_SQL, {"ids": account_ids}, prepare=True)
    found: list[StatsRead | None] = [None] * len(account_ids)
    for n, balance, credits, debits in await cursor.fetchall():
        found[n - 1] = (balance, credits, debits)
    return found


def stats_reader(pool: DirectPool) -> Coalescer[str, StatsRead]:
    """Sends concurrent RetrieveAccountStats reads together (see stats_many)."""
    return Coalescer(pool, stats_many, key=None, max_batch=MAX_BATCH, group_commit=False)
