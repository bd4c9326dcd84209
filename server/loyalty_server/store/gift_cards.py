"""Gift cards and their transaction ledger.

The spend path (lock, balance update, ledger insert) uses prebuilt statements;
admin paths (filtered lists, partial updates) build theirs per call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from psycopg import AsyncConnection as AsyncConnectionPG
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from . import listing
from .coalesce import MAX_BATCH, Coalescer
from .db import AnyRow
from .direct import DirectPool
from .models import GiftCard, GiftCardTransaction

_cards = cast(Table, GiftCard.__table__)
_ledger = cast(Table, GiftCardTransaction.__table__)
_live = _cards.c.deleted_at.is_(None)
_NO_CURSOR = 2**63 - 1

TRANSACTION_COLUMNS = (
    _ledger.c.id,
    _ledger.c.gift_card_id,
    _ledger.c.type,
    _ledger.c.amount,
    _ledger.c.currency_code,
    _ledger.c.balance_after,
    _ledger.c.reference,
    _ledger.c.reference_id,
    _ledger.c.created_at,
)

_lock_by_id = select(_cards).where(_cards.c.id == bindparam("id"), _live).with_for_update()
_lock_by_code = select(_cards).where(_cards.c.code == bindparam("code"), _live).with_for_update()
_by_id = select(_cards).where(_cards.c.id == bindparam("id"), _live)
_by_code = select(_cards).where(_cards.c.code == bindparam("code"), _live)
_existing_codes = select(_cards.c.code).where(_cards.c.code.in_(bindparam("codes", expanding=True)))
_insert_cards = insert(_cards)
_set_balance = (
    update(_cards)
    .where(_cards.c.id == bindparam("card_id"))
    .values(
        balance=bindparam("new_balance"),
        status=bindparam("new_status"),
        updated_at=bindparam("now"),
    )
)
_tx_by_key = select(*TRANSACTION_COLUMNS, _ledger.c.request_hash).where(
    _ledger.c.gift_card_id == bindparam("gift_card_id"),
    _ledger.c.idempotency_key == bindparam("idempotency_key"),
)
_has_transactions = (
    select(_ledger.c.seq).where(_ledger.c.gift_card_id == bindparam("gift_card_id")).limit(1)
)
_insert_transaction = insert(_ledger)
_transactions_page = (
    select(*TRANSACTION_COLUMNS, _ledger.c.seq)
    .where(
        _ledger.c.gift_card_id == bindparam("gift_card_id"),
        _ledger.c.seq < bindparam("before"),
    )
    .order_by(_ledger.c.seq.desc())
    .limit(bindparam("limit"))
)

SORTABLE = {
    "id",
    "code",
    "status",
    "value",
    "balance",
    "currency_code",
    "expires_at",
    "created_at",
    "updated_at",
}
_NUMERIC = frozenset({"value", "balance"})


# ListGiftCards filters: each is a column matched against any of its values.
async def lock_card(conn: AsyncConnection, *, id: str | None, code: str | None) -> AnyRow | None:
    """A live (not soft-deleted) card by id or code, locked until the transaction ends."""
    if id is not None:
        return (await conn.execute(_lock_by_id, {"id": id})).first()
    return (await conn.execute(_lock_by_code, {"code": code})).first()


async def get_card(conn: AsyncConnection, *, id: str | None, code: str | None) -> AnyRow | None:
    if id is not None:
        return (await conn.execute(_by_id, {"id": id})).first()
    return (await conn.execute(_by_code, {"code": code})).first()


async def existing_codes(conn: AsyncConnection, codes: Sequence[str]) -> set[str]:
    """Which of these codes are taken, by live or soft-deleted cards."""
    if not codes:
        return set()
    rows = await conn.execute(_existing_codes, {"codes": list(codes)})
    return {row.code for row in rows}


async def insert_cards(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    await conn.execute(_insert_cards, rows)


async def update_card(conn: AsyncConnection, card_id: str, values: dict[str, Any]) -> None:
    await conn.execute(update(_cards).where(_cards.c.id == card_id).values(**values))


async def set_balance(
    conn: AsyncConnection, card_id: str, balance: Decimal, status: str, now: datetime
) -> None:
    params = {"card_id": card_id, "new_balance": balance, "new_status": status, "now": now}
    await conn.execute(_set_balance, params)


async def has_transactions(conn: AsyncConnection, card_id: str) -> bool:
    return (await conn.execute(_has_transactions, {"gift_card_id": card_id})).first() is not None


async def transaction_by_key(
    conn: AsyncConnection, card_id: str, idempotency_key: str
) -> AnyRow | None:
    params = {"gift_card_id": card_id, "idempotency_key": idempotency_key}
    return (await conn.execute(_tx_by_key, params)).first()


async def insert_transaction(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(_insert_transaction, values)


async def transactions_page(
    conn: AsyncConnection, card_id: str, *, before_seq: int | None, limit: int
) -> list[AnyRow]:
    params = {
        "gift_card_id": card_id,
        "before": _NO_CURSOR if before_seq is None else before_seq,
        "limit": limit,
    }
    return list((await conn.execute(_transactions_page, params)).all())


def list_cards(
    columns: Mapping[str, Sequence[str]],
    *,
    q: str,
    with_deleted: bool,
    order: Sequence[tuple[str, bool]],
    skip: int,
    take: int,
    with_count: bool,
) -> listing.PageQuery:
    """One page of the cards whose `columns` take any of their values (an empty
    sequence: no filter), `q` found in code or note, in the given order (column,
    descending), plus the total count if asked."""
    return listing.PageQuery(
        _cards,
        columns,
        order,
        skip,
        take,
        with_count,
        q=q,
        q_columns=("code", "note"),
        with_deleted=with_deleted,
        numeric=_NUMERIC,
    )


async def delete_cards(conn: AsyncConnection, ids: Sequence[str]) -> list[str]:
    """Hard delete, transactions included. Returns the ids that existed."""
    return await listing.delete_with_ledger(conn, _cards, _ledger.c.gift_card_id, ids)


async def set_deleted_at(
    conn: AsyncConnection, ids: Sequence[str], deleted_at: datetime | None, now: datetime
) -> list[str]:
    """Soft delete (a time) or restore (None); returns the ids whose state changed."""
    return await listing.set_deleted_at(conn, _cards, ids, deleted_at, now)


# PostgreSQL, group commit (store/coalesce.py): the debits queued meanwhile, of
# any cards, several of one card included, in one statement. The cards are
# locked in id order (every batch takes them so: no lock cycle) after the debit
# rules that are the card's (live, pending, not funded by a store-credit account,
# whose money it then is); then per debit the rules that are the request's (same
# currency, not expired at its time, key unused on that card). The debits of one
# card that pass apply in request order while their running total stays within
# the card's balance, each ledger row with the balance after it, and the card
# moves once by their sum: a hot card's debits cost one row update and one
# commit per batch, not one each. A debit that does not apply returns no row and
# wrote nothing: its caller takes the locking path, which answers exactly (not
# found, replay, conflict, the reason it is refused). The row lock and
# PostgreSQL's re-check of a locked row's newest version keep a card from being
# overdrawn by another process's batch. The key check is written `key IS NULL
# OR NOT EXISTS (...)` so it is a subplan probing the (card, key) unique index:
# as an anti-join on young statistics, PostgreSQL's plan read every transaction
# of the card and filtered on the key, which grew with a hot card's ledger.
DEBIT_MANY_SQL = """WITH input AS (
    SELECT * FROM unnest(%(ids)s::text[], %(by_code)s::boolean[], %(lookups)s::text[],
                         %(amounts)s::numeric[], %(currencies)s::text[], %(references)s::text[],
                         %(reference_ids)s::text[], %(keys)s::text[], %(hashes)s::text[],
                         %(nows)s::timestamptz[])
        WITH ORDINALITY AS t(id, by_code, lookup, amount, currency_code, reference,
                             reference_id, idempotency_key, request_hash, now, n)
), card AS (
    SELECT g.id, g.code, g.balance, g.currency_code, g.expires_at FROM gift_cards AS g
    WHERE (g.id = ANY(%(lookups)s::text[]) OR g.code = ANY(%(lookups)s::text[]))
      AND g.deleted_at IS NULL
      AND g.status = 'pending'
      AND NOT EXISTS (SELECT 1 FROM store_credit_accounts AS s WHERE s.gift_card_id = g.id)
    ORDER BY g.id
    FOR UPDATE OF g
), eligible AS (
    SELECT i.*, c.id AS card_id, c.balance AS before,
           sum(i.amount) OVER (PARTITION BY c.id ORDER BY i.n) AS running
    FROM input AS i
    JOIN card AS c ON CASE WHEN i.by_code THEN c.code ELSE c.id END = i.lookup
    WHERE i.currency_code = c.currency_code
      AND (c.expires_at IS NULL OR c.expires_at > i.now)
      AND (i.idempotency_key IS NULL
           OR NOT EXISTS (SELECT 1 FROM gift_card_transactions AS t
                          WHERE t.gift_card_id = c.id AND t.idempotency_key = i.idempotency_key))
), applied AS (
    SELECT * FROM eligible WHERE running <= before
), total AS (
    SELECT card_id, sum(amount) AS amount, max(now) AS now FROM applied GROUP BY card_id
), updated AS (
    UPDATE gift_cards AS g
    SET balance = g.balance - total.amount,
        status = CASE WHEN g.balance - total.amount = 0 THEN 'redeemed' ELSE 'pending' END,
        updated_at = total.now
    FROM total WHERE g.id = total.card_id
    RETURNING g.id
), ledger AS (
    INSERT INTO gift_card_transactions
        (id, gift_card_id, type, amount, currency_code, balance_after, reference,
         reference_id, idempotency_key, request_hash, created_at)
    SELECT a.id, a.card_id, 'debit', a.amount, a.currency_code, a.before - a.running,
           a.reference, a.reference_id, a.idempotency_key, a.request_hash, a.now
    FROM applied AS a JOIN updated AS u ON u.id = a.card_id
)
SELECT a.n, a.card_id, a.before - a.running
FROM applied AS a JOIN updated AS u ON u.id = a.card_id"""

# Item field -> the statement's array parameter.
_DEBIT_ARRAYS = {
    "id": "ids",
    "by_code": "by_code",
    "lookup": "lookups",
    "amount": "amounts",
    "currency_code": "currencies",
    "reference": "references",
    "reference_id": "reference_ids",
    "idempotency_key": "keys",
    "request_hash": "hashes",
    "now": "nows",
}


async def debit_many(
    conn: AsyncConnectionPG[Any], items: list[dict[str, Any]]
) -> list[tuple[str, Decimal] | None]:
    """Each debit's (card id, card balance after it), or None where it did not apply.

    An item has the fields of _DEBIT_ARRAYS (`lookup` is the card's code when
    `by_code`, else its id); no two items share a card and an idempotency key.
    Raises direct.Contended (nothing written) when a concurrent request raced one.
    """
    params = {array: [item[field] for item in items] for field, array in _DEBIT_ARRAYS.items()}
    cursor = await conn.execute(DEBIT_MANY_SQL, params, prepare=True)
    found: list[tuple[str, Decimal] | None] = [None] * len(items)
    for n, card_id, balance in await cursor.fetchall():
        found[n - 1] = (card_id, balance)
    return found


def debit_coalescer(pool: DirectPool) -> Coalescer[dict[str, Any], tuple[str, Decimal]]:
    """Sends concurrent one-statement debits together (see DEBIT_MANY_SQL);
    `pool` is Database.debit_group_commit. Two debits with one key on one card never
    share a batch (the first's ledger row decides the second: a replay)."""
    return Coalescer(
        pool,
        debit_many,
        key=lambda item: (item["lookup"], item["idempotency_key"] or item["id"]),
        max_batch=MAX_BATCH,
    )
