"""Gift cards as Medusa's Loyalty Module defines them, plus a spendable balance.

Invariant: balance = value - debits + credits, 0 <= balance <= value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from ..store import gift_cards as store
from ..store import store_credit as credit_store
from ..store.db import Database, Tx
from ..store.direct import DirectPool
from . import codes, ledger, listing, store_credit, validation
from .errors import Duplicate, NotAllowed
from .gift_card_records import (
    CREDIT,
    DEBIT,
    PENDING,
    REDEEMED,
    GiftCard,
    GiftCardChanges,
    ListQuery,
    NewGiftCard,
    Options,
    Spend,
    SpendResult,
    Transaction,
    TransactionPage,
)
from .gift_card_rules import (
    OPTIONAL_TEXT_FIELDS,
    card_lookup,
    check_currency,
    check_not_expired,
    not_found,
    status,
    status_after,
    validate_field,
    validate_spend,
)
from .idempotency import key_columns
from .ids import GIFT_CARD, GIFT_CARD_TRANSACTION, new_id
from .money import ZERO, add, format_decimal, subtract
from .pagination import decode_token, page_of
from .records import RowLike, from_row
from .validation import Violations


def _card(row: RowLike) -> GiftCard:
    return from_row(GiftCard, row)


def _transaction(row: RowLike) -> Transaction:
    return from_row(Transaction, row)


class _CardFace:
    """Gift cards on the ledger engine: the card is the account; one debit or credit
    per request, with the card's rules (currency, status, expiry, 0..value)."""

    def __init__(
        self, kind: str, amount: Decimal, currency: str, spend: Spend, now: datetime
    ) -> None:
        self._kind = kind
        self._amount = amount
        self._currency = currency
        self._spend = spend
        self._now = now

    async def lock(self, conn: Tx, accounts: Sequence[str]) -> dict[str, GiftCard]:
        [card_id] = accounts
        row = await store.lock_card(conn, id=card_id, code=None)
        if row is None:
            raise not_found(id=card_id)
        if await credit_store.account_funding(conn, card_id) is not None:
            raise store_credit.Relinked  # funded meanwhile: its account is locked first
        return {card_id: _card(row)}

    async def replay(
        self, conn: Tx, account: str, key: str
    ) -> tuple[Transaction, str | None] | None:
        row = await store.transaction_by_key(conn, account, key)
        return None if row is None else (_transaction(row), row.request_hash)

    def apply(
        self, state: GiftCard | None, posting: ledger.Posting[None]
    ) -> tuple[GiftCard, Transaction]:
        assert state is not None  # lock() raised NotFound otherwise
        balance = GiftCards.new_balance(state, self._kind, self._amount, self._currency, self._now)
        tx = Transaction(
            id=new_id(GIFT_CARD_TRANSACTION),
            gift_card_id=state.id,
            type=self._kind,
            amount=self._amount,
            currency_code=self._currency,
            balance_after=balance,
            reference=self._spend.reference,
            reference_id=self._spend.reference_id,
            created_at=self._now,
        )
        after = replace(state, balance=balance, status=status_after(balance), updated_at=self._now)
        return after, tx

    async def write(
        self,
        conn: Tx,
        states: Mapping[str, tuple[GiftCard | None, GiftCard]],
        entries: Sequence[tuple[ledger.Posting[None], Transaction]],
    ) -> None:
        for card_id, (_, after) in states.items():
            await store.set_balance(conn, card_id, after.balance, after.status, self._now)
        for posting, tx in entries:
            await store.insert_transaction(
                conn, {**tx.__dict__, **key_columns(posting.key, posting.fingerprint)}
            )


class GiftCards:
    """The gift card use cases. Each public method is one transaction."""

    def __init__(
        self,
        db: Database,
        *,
        code_prefix: str = "GIFT",
        code_sections: int = 4,
        credit: store_credit.StoreCredit | None = None,
    ) -> None:
        self._db = db
        # Funded cards move their store-credit account (see domain/store_credit.py).
        self._store_credit = credit or store_credit.StoreCredit(db)
        self.options = Options(code_prefix, code_sections)
        pool = db.debit_group_commit
        self._debits = None if pool is None else store.debit_coalescer(pool)

    # ------------------------------------------------------------ create

    def _validate_new(self, card: NewGiftCard, prefix: str, v: Violations) -> dict[str, Any]:
        row: dict[str, Any] = {
            "code": v.check(codes.validate, card.code, f"{prefix}code") if card.code else None,
            "status": PENDING
            if card.status is None
            else v.check(status, card.status, f"{prefix}status"),
            "expires_at": card.expires_at,
        }
        for name in ("value", "currency_code", "note", "metadata", *OPTIONAL_TEXT_FIELDS):
            row[name] = v.check(validate_field, name, getattr(card, name), f"{prefix}{name}")
        return row

    async def create(self, cards: Sequence[NewGiftCard]) -> list[GiftCard]:
        validation.batch(len(cards), "gift_cards")
        violations = Violations()
        rows = [
            self._validate_new(card, f"gift_cards[{i}].", violations)
            for i, card in enumerate(cards)
        ]
        violations.raise_if_any()
        given = [row["code"] for row in rows if row["code"]]
        repeated = sorted({c for c in given if given.count(c) > 1})
        if repeated:
            raise Duplicate(
                f"Gift card with code: {repeated[0]} appears twice in the request",
                metadata={"code": repeated[0]},
            )

        async def work(conn: Tx) -> list[GiftCard]:
            taken = await store.existing_codes(conn, given)
            if taken:
                code = sorted(taken)[0]
                raise Duplicate(
                    f"Gift card with code: {code} already exists", metadata={"code": code}
                )
            now = datetime.now(UTC)
            values = [await self._complete(conn, row, now) for row in rows]
            await store.insert_cards(conn, values)
            return [GiftCard(**value) for value in values]

        return await self._db.run(work)

    async def _complete(self, conn: Tx, row: dict[str, Any], now: datetime) -> dict[str, Any]:
        code = row["code"]
        while code is None:
            # 31^16 codes make a clash vanishingly rare; checking costs one indexed read.
            candidate = codes.generate(self.options.prefix, self.options.sections)
            if not await store.existing_codes(conn, [candidate]):
                code = candidate
        return {
            **row,
            "id": new_id(GIFT_CARD),
            "code": code,
            "balance": row["value"],
            "created_at": now,
            "updated_at": now,
            "deleted_at": None,
        }

    # ------------------------------------------------------------ update

    async def update(self, updates: Sequence[GiftCardChanges]) -> list[GiftCard]:
        validation.batch(len(updates), "gift_cards")
        violations = Violations()
        checked: list[tuple[str, dict[str, Any]]] = []
        for i, item in enumerate(updates):
            prefix = f"gift_cards[{i}]."
            card_id = violations.check(validation.identifier, item.id, f"{prefix}id")
            changes: dict[str, Any] = {}
            for name, raw in item.changes.items():
                if raw is None and name in {"value", "currency_code", "status"}:
                    violations.add(f"{prefix}{name}", f"{name} cannot be cleared")
                    continue
                changes[name] = violations.check(validate_field, name, raw, f"{prefix}{name}")
            checked.append((card_id or "", changes))
        violations.raise_if_any()

        async def work(conn: Tx) -> list[GiftCard]:
            # Lock in id order so two overlapping batches cannot deadlock.
            locked = {}
            for card_id in sorted({card_id for card_id, _ in checked}):
                row = await store.lock_card(conn, id=card_id, code=None)
                if row is None:
                    raise not_found(id=card_id)
                locked[card_id] = _card(row)
            now = datetime.now(UTC)
            for card_id, changes in checked:
                card = locked[card_id]
                values = await self._apply_changes(conn, card, changes)
                await store.update_card(conn, card_id, {**values, "updated_at": now})
                locked[card_id] = GiftCard(**{**card.__dict__, **values, "updated_at": now})
            return [locked[card_id] for card_id, _ in checked]

        return await self._db.run(work)

    async def _apply_changes(
        self, conn: Tx, card: GiftCard, changes: dict[str, Any]
    ) -> dict[str, Any]:
        values = dict(changes)
        changes_currency = values.get("currency_code", card.currency_code) != card.currency_code
        if changes_currency and await store.has_transactions(conn, card.id):
            raise NotAllowed(
                f"Gift card {card.id} already has transactions in {card.currency_code}; "
                "its currency_code cannot change"
            )
        funding = await credit_store.account_funding(conn, card.id)
        if funding is not None:
            # A funded card's balance is its account's: value is only the face value,
            # and its currency is the account's.
            if changes_currency:
                raise NotAllowed(
                    f"Gift card {card.id} is funded by store-credit account {funding.id} in "
                    f"{card.currency_code}; its currency_code cannot change"
                )
            return values
        if "value" in values:
            spent = subtract(card.value, card.balance)
            balance = subtract(values["value"], spent)
            if balance < 0:
                raise NotAllowed(
                    f"value cannot be lower than what was already spent from gift card "
                    f"{card.id} ({format_decimal(spent)})"
                )
            values["balance"] = balance
            if "status" not in values:
                if balance == 0:
                    values["status"] = REDEEMED
                elif card.balance == 0:
                    values["status"] = PENDING
        balance = values.get("balance", card.balance)
        if values.get("status") == PENDING and balance == 0:
            raise NotAllowed(f"Gift card {card.id} has a zero balance and cannot be pending")
        return values

    # ------------------------------------------------------------ reads

    async def retrieve(self, *, id: str | None = None, code: str | None = None) -> GiftCard:
        card_id, card_code = card_lookup(id, code)

        async def work(conn: Tx) -> GiftCard:
            row = await store.get_card(conn, id=card_id, code=card_code)
            if row is None:
                raise not_found(card_id, card_code)
            return _card(row)

        return await self._db.run(work)

    async def list_cards(self, query: ListQuery) -> tuple[list[GiftCard], int | None]:
        v = Violations()
        page = listing.page(
            v, skip=query.skip, take=query.take, order=query.order, sortable=store.SORTABLE
        )
        filters = query.filters
        for value in filters.status:
            v.check(status, value, "status")
        listing.filters(v, filters.columns(), q=filters.q)
        v.raise_if_any()
        filters = replace(filters, currency_code=[c.lower() for c in filters.currency_code])

        listed = store.list_cards(
            filters.columns(),
            q=filters.q,
            with_deleted=filters.with_deleted,
            order=page.order,
            skip=page.skip,
            take=page.take,
            with_count=query.with_count,
        )
        return await listing.fetch(self._db, listed, _card)

    # ------------------------------------------------------------ delete

    async def delete(self, ids: Sequence[str]) -> list[str]:
        return await self._by_ids(ids, store.delete_cards)

    async def soft_delete(self, ids: Sequence[str]) -> list[str]:
        async def soft(conn: Tx, ids: Sequence[str]) -> list[str]:
            now = datetime.now(UTC)
            return await store.set_deleted_at(conn, ids, now, now)

        return await self._by_ids(ids, soft)

    async def restore(self, ids: Sequence[str]) -> list[str]:
        async def restore(conn: Tx, ids: Sequence[str]) -> list[str]:
            return await store.set_deleted_at(conn, ids, None, datetime.now(UTC))

        return await self._by_ids(ids, restore)

    async def _by_ids(self, ids: Sequence[str], action: Any) -> list[str]:
        checked = listing.ids(ids)
        if not checked:
            return []

        async def work(conn: Tx) -> list[str]:
            changed: list[str] = await action(conn, checked)
            return changed

        return await self._db.run(work)

    # ------------------------------------------------------------ spending

    async def debit(self, spend: Spend) -> SpendResult:
        return await self._spend(spend, DEBIT)

    async def credit(self, spend: Spend) -> SpendResult:
        return await self._spend(spend, CREDIT)

    async def _spend(self, spend: Spend, kind: str) -> SpendResult:
        valid = validate_spend(spend, kind)
        lookup, amount, currency = valid.lookup, valid.amount, valid.currency
        key, fingerprint = valid.key, valid.fingerprint

        def transaction(card_id: str, balance: Decimal, now: datetime) -> Transaction:
            return Transaction(
                id=new_id(GIFT_CARD_TRANSACTION),
                gift_card_id=card_id,
                type=kind,
                amount=amount,
                currency_code=currency,
                balance_after=balance,
                reference=spend.reference,
                reference_id=spend.reference_id,
                created_at=now,
            )

        # A debit has a one-statement path (PostgreSQL) for the common case.
        simple = (
            partial(
                self._debit_direct,
                lookup=lookup,
                draft=transaction(card_id="", balance=ZERO, now=datetime.now(UTC)),
                keys=key_columns(key, fingerprint),
            )
            if kind == DEBIT
            else None
        )

        async def work(conn: Tx) -> SpendResult:
            found = await store.get_card(conn, id=lookup[0], code=lookup[1])
            if found is None:
                raise not_found(*lookup)
            funding = await credit_store.account_funding(conn, found.id)
            if funding is not None:
                return await self._spend_funded(
                    conn, _card(found), funding.id, kind, amount, currency, spend, fingerprint
                )
            face = _CardFace(kind, amount, currency, spend, datetime.now(UTC))
            [posted] = await ledger.post(
                conn, face, [ledger.Posting(found.id, None, key or None, fingerprint)]
            )
            tx = posted.entry
            balance = tx.balance_after
            return SpendResult(tx, balance, status_after(balance), replayed=posted.replayed)

        for _ in range(3):
            try:
                return await self._db.run(work, simple=simple)
            except store_credit.Relinked:
                simple = None  # that path was tried; the next attempt sees the new funding
        return await self._db.run(work)

    async def _spend_funded(
        self,
        conn: Tx,
        card: GiftCard,
        account_id: str,
        kind: str,
        amount: Decimal,
        currency: str,
        spend: Spend,
        fingerprint: str,
    ) -> SpendResult:
        """A funded card's money is its account's (domain/store_credit.py): the
        movement happens there. The card's own rules that still hold: its currency,
        and for a debit its expiry; its status is its owner's (the plugin sets
        "redeemed" for funded) and does not follow the balance."""
        check_currency(card, currency)
        if kind == DEBIT:
            check_not_expired(card, datetime.now(UTC))
        try:
            tx, balance, replayed = await self._store_credit.move_funded_card(
                conn,
                account_id,
                card.id,
                kind,
                amount,
                reference=spend.reference,
                reference_id=spend.reference_id,
                key=spend.idempotency_key or None,
                fingerprint=fingerprint,
            )
        except NotAllowed as error:
            raise NotAllowed(f"Gift card {card.code}: {error.message}") from error
        return SpendResult(
            Transaction(
                id=tx.id,
                gift_card_id=card.id,
                type=kind,
                amount=tx.amount,
                currency_code=card.currency_code,
                balance_after=balance,
                reference=tx.reference,
                reference_id=tx.reference_id,
                created_at=tx.created_at,
            ),
            balance,
            card.status,
            replayed=replayed,
        )

    async def _debit_direct(
        self,
        pool: DirectPool,
        lookup: tuple[str | None, str | None],
        draft: Transaction,
        keys: dict[str, str | None],
    ) -> SpendResult | None:
        """PostgreSQL's group-committed debit for the common case (`pool` is not
        used: the batch has its own connection). None (a refusal, a replay, a
        race: nothing written) leaves the request to the locking path."""
        assert self._debits is not None
        card_id, code = lookup
        done = await self._debits.submit(
            {
                "id": draft.id,
                "by_code": card_id is None,
                "lookup": card_id if card_id is not None else code,
                "amount": draft.amount,
                "currency_code": draft.currency_code,
                "reference": draft.reference,
                "reference_id": draft.reference_id,
                "now": draft.created_at,
                **keys,
            }
        )
        if done is None:
            return None
        found_id, balance = done
        tx = replace(draft, gift_card_id=found_id, balance_after=balance)
        return SpendResult(tx, balance, status_after(balance))

    @staticmethod
    def new_balance(
        card: GiftCard, kind: str, amount: Decimal, currency: str, now: datetime
    ) -> Decimal:
        """The rules of spending; raises NotAllowed with the reason a cashier can act on."""
        check_currency(card, currency)
        if kind == CREDIT:
            balance = add(card.balance, amount)
            if balance > card.value:
                raise NotAllowed(
                    f"credit would raise gift card {card.code} above its value of "
                    f"{format_decimal(card.value)} (balance {format_decimal(card.balance)})"
                )
            return balance
        if card.status == REDEEMED:
            raise NotAllowed(f"Gift card {card.code} has already been redeemed")
        check_not_expired(card, now)
        if amount > card.balance:
            raise NotAllowed(
                f"insufficient gift card balance: {card.code} has {format_decimal(card.balance)} "
                f"{card.currency_code}, cannot debit {format_decimal(amount)}"
            )
        return subtract(card.balance, amount)

    async def transactions(
        self, gift_card_id: str, *, page_size: int, page_token: str
    ) -> TransactionPage:
        card_id = validation.identifier(gift_card_id, "gift_card_id")
        limit = validation.page_size(page_size)
        before = decode_token(page_token, f"gift_card:{card_id}")

        async def work(conn: Tx) -> TransactionPage:
            if await store.get_card(conn, id=card_id, code=None) is None:
                raise not_found(id=card_id)
            rows = await store.transactions_page(conn, card_id, before_seq=before, limit=limit + 1)
            rows, token = page_of(rows, limit, f"gift_card:{card_id}", lambda row: row.seq)
            return TransactionPage([_transaction(row) for row in rows], token)

        return await self._db.run(work)
