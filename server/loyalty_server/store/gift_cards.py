"""Gift cards and their transaction ledger.

The spend path (lock, balance update, ledger insert) uses prebuilt statements;
admin paths (filtered lists, partial updates) build theirs per call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from . import listing
from .db import AnyRow
from .direct import DirectPool, simple_case_only
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


# PostgreSQL, one statement (store/direct.py): the debit rules as a conditional
# update (live, same currency, pending, not expired, enough balance, not funded
# by a store-credit account (whose money it then is), key unused)
# plus the ledger row from its RETURNING. The row lock taken by the UPDATE and
# PostgreSQL's re-check of the WHERE on the newest row version keep a hot card
# from being overdrawn. No row back: the caller takes the locking path, which
# answers exactly (not found, replay, conflict, the reason a debit is refused).
_DEBIT_SQL = """WITH card AS (
    UPDATE gift_cards AS g
    SET balance = g.balance - %(amount)s,
        status = CASE WHEN g.balance - %(amount)s = 0 THEN 'redeemed' ELSE 'pending' END,
        updated_at = %(now)s
    WHERE g.{lookup} = %(lookup)s::text
      AND g.deleted_at IS NULL
      AND g.currency_code = %(currency_code)s::text
      AND g.status = 'pending'
      AND (g.expires_at IS NULL OR g.expires_at > %(now)s)
      AND g.balance >= %(amount)s
      AND NOT EXISTS (SELECT 1 FROM store_credit_accounts s WHERE s.gift_card_id = g.id)
      AND NOT EXISTS (
        SELECT 1 FROM gift_card_transactions t
        WHERE t.gift_card_id = g.id AND t.idempotency_key = %(idempotency_key)s::text)
    RETURNING g.id, g.balance, g.status
), ledger AS (
    INSERT INTO gift_card_transactions
        (id, gift_card_id, type, amount, currency_code, balance_after, reference,
         reference_id, idempotency_key, request_hash, created_at)
    SELECT %(id)s::text, card.id, 'debit', %(amount)s, %(currency_code)s::text, card.balance,
           %(reference)s::text, %(reference_id)s::text, %(idempotency_key)s::text,
           %(request_hash)s::text, %(now)s
    FROM card
)
SELECT id, balance, status FROM card"""
DEBIT_BY_ID_SQL = _DEBIT_SQL.format(lookup="id")
DEBIT_BY_CODE_SQL = _DEBIT_SQL.format(lookup="code")


@simple_case_only
async def debit_direct(
    pool: DirectPool, params: dict[str, Any], *, by_code: bool
) -> tuple[str, Decimal, str] | None:
    """(card id, balance, status) after the one-statement debit, or None when it did
    not apply (a concurrent request that raced it included)."""
    query = DEBIT_BY_CODE_SQL if by_code else DEBIT_BY_ID_SQL
    row = await pool.fetchone(query, params, row=("gift_card", by_code, params["lookup"]))
    return None if row is None else (row[0], row[1], row[2])
