"""Store credit, as the Store Credit Module of Medusa's loyalty plugin defines it:
accounts (a customer's, or anonymous with a code) and their credits and debits.

Invariants, per account: balance = credits - debits >= 0, where credits and
debits are the totals of its transactions that are not voided. All three live on
the row and move in the same transaction as the ledger rows, so every read is
one primary-key lookup (the plugin sums the ledger on each read).

A movement (CreditAccounts, DebitAccounts, DeleteAccountTransactions, and a
DebitGiftCard/CreditGiftCard on a funded card) goes through the ledger engine
(domain/ledger.py) with the face below, _CreditFace: it locks every account it
touches first, in one global order (store/store_credit.lock_accounts: by id),
then the gift cards they fund, by id: accounts always before cards, on every
path, so no two movements can deadlock.

Gift cards: the plugin funds a card through an account, crediting it with
reference "gift_card" and reference_id = the card's id. The first such credit
links account and card (when the card exists, is in the same currency, has no
transactions of its own and no other account funds it). From then on the
card's money is the account's: the card row's balance is kept equal to the
account's in the same transaction, DebitGiftCard/CreditGiftCard on the card
move the account, and `verify` checks the two agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from ..store import gift_cards as card_store
from ..store import store_credit as store
from ..store.db import AnyRow, Database, Tx
from ..store.direct import DirectPool
from . import codes, ledger, listing, validation
from .currencies import currency_code
from .errors import Duplicate, InvalidData, NotAllowed, NotFound
from .idempotency import key_columns, request_hash
from .ids import STORE_CREDIT_ACCOUNT, STORE_CREDIT_TRANSACTION, new_id
from .money import ZERO, add, format_decimal, parse_decimal, subtract
from .records import RowLike, from_row
from .store_credit_records import (
    CREDIT,
    DEBIT,
    GIFT_CARD_REFERENCE,
    TYPES,
    UPDATABLE,
    Account,
    AccountChanges,
    AccountQuery,
    AccountTransaction,
    Entry,
    Movement,
    NewAccount,
    Stats,
    TransactionQuery,
)
from .validation import Violations

AMOUNT_MESSAGE = "amount must be a positive number"


@dataclass(frozen=True)
class _ValidEntry:
    account_id: str
    amount: Decimal
    values: dict[str, Any]  # note, reference, reference_id, metadata
    key: str | None
    fingerprint: str


def account(row: RowLike) -> Account:
    return from_row(Account, row)


def _transaction(row: RowLike) -> AccountTransaction:
    return from_row(AccountTransaction, row)


def not_found(id: str | None = None, code: str | None = None) -> NotFound:
    return NotFound.record("StoreCreditAccount", id=id, code=code)


def _required_id(value: str, field: str) -> str:
    return validation.identifier(value, field)


def _optional_id(value: str | None, field: str) -> str | None:
    """Unset is None; when given, an id must not be blank."""
    return None if value is None else _required_id(value, field)


def _validate_field(name: str, value: Any, field: str) -> Any:
    if name == "customer_id":
        return _optional_id(value, field)
    if name == "code":
        return None if value is None else codes.validate(value, field)
    if name == "currency_code":
        return currency_code(value, field)
    if name == "metadata":
        return validation.metadata(value, field)
    raise InvalidData.field(field, f"{name} cannot be updated")


def _validate_entry(entry: Entry, kind: str, prefix: str, v: Violations) -> _ValidEntry | None:
    account_id = v.check(_required_id, entry.account_id, f"{prefix}account_id")
    amount = v.check(
        parse_decimal,
        entry.amount,
        f"{prefix}amount",
        message=AMOUNT_MESSAGE,
        allow_negative=False,
    )
    note = v.check(
        validation.optional_text, entry.note, f"{prefix}note", max_length=validation.MAX_NOTE
    )
    for name in ("reference", "reference_id"):
        v.check(validation.text, getattr(entry, name), prefix + name, max_length=validation.MAX_ID)
    metadata = v.check(validation.metadata, entry.metadata, f"{prefix}metadata")
    key = v.check(validation.key, entry.idempotency_key, f"{prefix}idempotency_key")
    if account_id is None or amount is None:
        return None
    values = {
        "note": note,
        "reference": entry.reference,
        "reference_id": entry.reference_id,
        "metadata": metadata,
    }
    fingerprint = request_hash(kind, account_id=account_id, amount=format_decimal(amount), **values)
    return _ValidEntry(account_id, amount, values, key or None, fingerprint)


@dataclass(frozen=True)
class _Totals:
    balance: Decimal
    credits: Decimal
    debits: Decimal


@dataclass(frozen=True)
class _Move:
    """A posting's item: a credit or debit, new (with its columns) or the voiding
    of an existing transaction."""

    kind: str
    amount: Decimal
    values: Mapping[str, Any] = field(default_factory=dict)  # note, reference, ...
    voids: AccountTransaction | None = None


class _CreditFace:
    """Store credit on the ledger engine (domain/ledger.py). Its lock also takes the
    gift cards the accounts fund (after every account, by id) and, for a credit
    that references a card, links the account to it (see the module docstring)."""

    def __init__(
        self,
        now: datetime,
        *,
        candidates: Mapping[str, str] | None = None,
        funded_card: str | None = None,
    ) -> None:
        self._now = now
        self._candidates = dict(candidates or {})
        self._funded_card = funded_card
        self.rows: dict[str, AnyRow] = {}
        self.cards: dict[str, str] = {}  # account id -> the card it funds
        self.links: dict[str, str] = {}  # new links of this request
        self.totals: dict[str, _Totals] = {}

    async def lock(self, conn: Tx, accounts: Sequence[str]) -> dict[str, _Totals]:
        self.rows = await store.lock_accounts(conn, accounts)
        if self._funded_card is not None:
            [account_id] = accounts
            row = self.rows.get(account_id)
            if row is None or row.gift_card_id != self._funded_card:
                raise Relinked
            if row.deleted_at is not None:
                raise NotAllowed(
                    f"the store-credit account {account_id} funding gift card "
                    f"{self._funded_card} is deleted"
                )
        self.cards = {id: row.gift_card_id for id, row in self.rows.items() if row.gift_card_id}
        candidates = {
            account_id: card_id
            for account_id, card_id in self._candidates.items()
            if account_id in self.rows
            and account_id not in self.cards
            and card_id not in self.cards.values()
        }
        for card_id in sorted({*self.cards.values(), *candidates.values()}):
            await card_store.lock_card(conn, id=card_id, code=None)
        for account_id, card_id in candidates.items():
            card = await card_store.get_card(conn, id=card_id, code=None)
            if (
                card is not None
                and card.currency_code == self.rows[account_id].currency_code
                and not await card_store.has_transactions(conn, card_id)
                and await store.account_funding(conn, card_id) is None
            ):
                self.links[account_id] = card_id
        self.totals = {
            id: _Totals(row.balance, row.credits, row.debits) for id, row in self.rows.items()
        }
        return dict(self.totals)

    async def replay(
        self, conn: Tx, account: str, key: str
    ) -> tuple[AccountTransaction, str | None] | None:
        row = await store.transaction_by_key(conn, account, key)
        return None if row is None else (_transaction(row), row.request_hash)

    def apply(
        self, state: _Totals | None, posting: ledger.Posting[_Move]
    ) -> tuple[_Totals, AccountTransaction]:
        account_id, move = posting.account, posting.item
        row = self.rows.get(account_id)
        if state is None or row is None or row.deleted_at is not None:
            raise not_found(account_id)
        sign = -1 if move.voids is not None else 1
        amount = sign * move.amount
        if move.kind == CREDIT:
            after = _Totals(add(state.balance, amount), add(state.credits, amount), state.debits)
        else:
            after = _Totals(
                subtract(state.balance, amount), state.credits, add(state.debits, amount)
            )
        if after.balance < 0:
            raise NotAllowed(
                f"insufficient store credit: account {account_id} has "
                f"{format_decimal(state.balance)} {row.currency_code}, cannot "
                f"{'void a credit of' if move.voids else 'debit'} {format_decimal(move.amount)}"
            )
        self.totals[account_id] = after
        if move.voids is not None:
            return after, move.voids
        entry = AccountTransaction(
            id=new_id(STORE_CREDIT_TRANSACTION),
            account_id=account_id,
            type=move.kind,
            amount=move.amount,
            created_at=self._now,
            deleted_at=None,
            **move.values,
        )
        return after, entry

    async def write(
        self,
        conn: Tx,
        states: Mapping[str, tuple[_Totals | None, _Totals]],
        entries: Sequence[tuple[ledger.Posting[_Move], AccountTransaction]],
    ) -> None:
        for account_id, card_id in self.links.items():
            if account_id in states:  # linked by an applied credit, not a replay
                await store.link_gift_card(conn, account_id, card_id)
                self.cards[account_id] = card_id
        for account_id, (_, after) in states.items():
            await store.set_totals(
                conn,
                account_id,
                balance=after.balance,
                credits=after.credits,
                debits=after.debits,
                now=self._now,
            )
            funded = self.cards.get(account_id)
            if funded is not None:  # a funded card's balance is its account's
                await store.mirror_card_balance(conn, funded, after.balance, self._now)
        new = [
            {**tx.__dict__, **key_columns(posting.key, posting.fingerprint)}
            for posting, tx in entries
            if posting.item.voids is None
        ]
        if new:
            await store.insert_transactions(conn, new)
        voided = [tx.id for posting, tx in entries if posting.item.voids is not None]
        if voided:
            await store.void_transactions(conn, voided, self._now)


class StoreCredit:
    """The store-credit use cases. Each public method is one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._stats = None if db.direct is None else store.stats_reader(db.direct)
        moves = db.debit_group_commit
        self._moves = None if moves is None else store.move_coalescer(moves)

    # -------------------------------------------------------------- accounts

    async def create(self, accounts: Sequence[NewAccount]) -> list[Account]:
        validation.batch(len(accounts), "accounts")
        v = Violations()
        rows: list[dict[str, Any]] = []
        for i, new in enumerate(accounts):
            prefix = f"accounts[{i}]."
            rows.append(
                {
                    name: v.check(_validate_field, name, getattr(new, name), prefix + name)
                    for name in UPDATABLE
                }
            )
        v.raise_if_any()
        _no_repeats(rows)

        async def work(conn: Tx) -> list[Account]:
            await _check_unique(conn, rows)
            now = datetime.now(UTC)
            values = [
                {
                    **row,
                    "id": new_id(STORE_CREDIT_ACCOUNT),
                    "balance": ZERO,
                    "credits": ZERO,
                    "debits": ZERO,
                    "gift_card_id": None,
                    "created_at": now,
                    "updated_at": now,
                    "deleted_at": None,
                }
                for row in rows
            ]
            await store.insert_accounts(conn, values)
            return [Account(**row) for row in values]

        return await self._db.run(work)

    async def update(self, updates: Sequence[AccountChanges]) -> list[Account]:
        validation.batch(len(updates), "accounts")
        v = Violations()
        checked: list[tuple[str, dict[str, Any]]] = []
        for i, item in enumerate(updates):
            prefix = f"accounts[{i}]."
            account_id = v.check(_required_id, item.id, f"{prefix}id")
            changes: dict[str, Any] = {}
            for name, raw in item.changes.items():
                if raw is None and name == "currency_code":
                    v.add(prefix + name, f"{name} cannot be cleared")
                    continue
                changes[name] = v.check(_validate_field, name, raw, prefix + name)
            checked.append((account_id or "", changes))
        v.raise_if_any()

        async def work(conn: Tx) -> list[Account]:
            locked = await store.lock_accounts(conn, [id for id, _ in checked])
            current: dict[str, Account] = {}
            for account_id, _ in checked:
                row = locked.get(account_id)
                if row is None or row.deleted_at is not None:
                    raise not_found(account_id)
                current[account_id] = account(row)
            now = datetime.now(UTC)
            for account_id, changes in checked:
                before = current[account_id]
                values = {k: val for k, val in changes.items() if getattr(before, k) != val}
                if "currency_code" in values and await store.has_transactions(conn, account_id):
                    raise NotAllowed(
                        f"StoreCreditAccount {account_id} already has transactions in "
                        f"{before.currency_code}; its currency_code cannot change"
                    )
                if not values:  # nothing changes: the row, updated_at included, stays
                    continue
                after = Account(**{**before.__dict__, **values, "updated_at": now})
                await _check_unique(conn, [after.__dict__], changed=values)
                await store.update_account(conn, account_id, {**values, "updated_at": now})
                current[account_id] = after
            return [current[account_id] for account_id, _ in checked]

        return await self._db.run(work)

    async def retrieve(self, *, id: str | None = None, code: str | None = None) -> Account:
        if (id is None) == (code is None):
            raise InvalidData.field("id", "give exactly one of id or code")
        if id is not None:
            id = _required_id(id, "id")
        else:
            code = validation.text(str(code), "code", max_length=codes.MAX_CODE, required=True)

        async def work(conn: Tx) -> Account:
            row = await store.get_account(conn, id=id, code=code)
            if row is None:
                raise not_found(id, code)
            return account(row)

        return await self._db.run(work)

    async def stats(self, account_id: str) -> Stats:
        """From the row, never a sum over the ledger (PostgreSQL: the lean pool)."""
        account_id = _required_id(account_id, "account_id")

        async def read(pool: DirectPool) -> Stats:
            # With the other reads queued meanwhile (`pool` is the reader's).
            assert self._stats is not None
            found = await self._stats.submit(account_id)
            if found is None:
                raise not_found(account_id)
            return Stats(account_id, *found)

        async def work(conn: Tx) -> Stats:
            row = await store.get_account(conn, id=account_id, code=None)
            if row is None:
                raise not_found(account_id)
            found = account(row)
            return Stats(found.id, found.balance, found.credits, found.debits)

        return await self._db.run(work, simple=read)

    async def list_accounts(self, query: AccountQuery) -> tuple[list[Account], int | None]:
        v = Violations()
        page = listing.page(
            v,
            skip=query.skip,
            take=query.take,
            order=query.order,
            sortable=store.ACCOUNT_SORTABLE,
        )
        filters = query.filters
        listing.filters(v, filters.columns(), q=filters.q)
        v.raise_if_any()
        lowered = replace(filters, currency_code=[c.lower() for c in filters.currency_code])

        listed = store.list_accounts(
            lowered.columns(),
            q=lowered.q,
            with_deleted=lowered.with_deleted,
            order=page.order,
            skip=page.skip,
            take=page.take,
            with_count=query.with_count,
        )
        return await listing.fetch(self._db, listed, account)

    async def delete(self, ids: Sequence[str]) -> list[str]:
        checked = listing.ids(ids)
        if not checked:
            return []

        async def work(conn: Tx) -> list[str]:
            await store.lock_accounts(conn, checked)
            funding = await store.funding_existing_cards(conn, checked)
            if funding:
                account_id, card_id = funding[0]
                raise NotAllowed(
                    f"StoreCreditAccount {account_id} funds gift card {card_id}: delete the "
                    "gift card first (or soft-delete the account)"
                )
            return await store.delete_accounts(conn, checked)

        return await self._db.run(work)

    async def soft_delete(self, ids: Sequence[str]) -> list[str]:
        checked = listing.ids(ids)
        if not checked:
            return []

        async def work(conn: Tx) -> list[str]:
            await store.lock_accounts(conn, checked)
            now = datetime.now(UTC)
            return await store.set_deleted_at(conn, checked, now, now)

        return await self._db.run(work)

    async def restore(self, ids: Sequence[str]) -> list[str]:
        checked = listing.ids(ids)
        if not checked:
            return []

        async def work(conn: Tx) -> list[str]:
            locked = await store.lock_accounts(conn, checked)
            deleted = [row for row in locked.values() if row.deleted_at is not None]
            pairs = [(r.customer_id, r.currency_code) for r in deleted if r.customer_id]
            _no_repeated_pairs(pairs)
            clash = await store.live_customer_accounts(conn, pairs)
            if clash:
                customer, currency = sorted(clash)[0]
                raise _duplicate_customer(customer, currency)
            return await store.set_deleted_at(conn, checked, None, datetime.now(UTC))

        return await self._db.run(work)

    # ------------------------------------------------------------- movements

    async def credit(self, entries: Sequence[Entry]) -> Movement:
        return await self._move(entries, CREDIT, "credits")

    async def debit(self, entries: Sequence[Entry]) -> Movement:
        return await self._move(entries, DEBIT, "debits")

    async def _move(self, entries: Sequence[Entry], kind: str, name: str) -> Movement:
        validation.batch(len(entries), name)
        v = Violations()
        valid = [_validate_entry(e, kind, f"{name}[{i}].", v) for i, e in enumerate(entries)]
        v.raise_if_any()
        items = [item for item in valid if item is not None]
        keys = [(i.account_id, i.key) for i in items if i.key]
        if len(set(keys)) != len(keys):
            raise InvalidData.field(
                name, "an idempotency_key appears twice for one account in this request"
            )

        simple = partial(self._move_direct, item=items[0], kind=kind) if len(items) == 1 else None

        # A credit that references a gift card may link its account to the card.
        candidates = {
            item.account_id: item.values["reference_id"]
            for item in items
            if kind == CREDIT
            and item.values["reference"] == GIFT_CARD_REFERENCE
            and item.values["reference_id"]
        }

        async def work(conn: Tx) -> Movement:
            face = _CreditFace(datetime.now(UTC), candidates=candidates)
            postings = [
                ledger.Posting(i.account_id, _Move(kind, i.amount, i.values), i.key, i.fingerprint)
                for i in items
            ]
            posted = await ledger.post(conn, face, postings, label=lambda n: f"{name}[{n}]")
            return Movement([p.entry for p in posted], replayed=all(p.replayed for p in posted))

        return await self._db.run(work, simple=simple)

    async def _move_direct(self, pool: DirectPool, item: _ValidEntry, kind: str) -> Movement | None:
        """PostgreSQL's group-committed path for one plain credit or debit (`pool`
        is not used: the batch has its own connection); None (a refusal, a replay,
        a funding account, a race: nothing written) leaves it to the locking path,
        which decides it. A credit that could fund a gift card
        always takes the locking path, which links them."""
        if kind == CREDIT and item.values["reference"] == GIFT_CARD_REFERENCE:
            return None
        tx = AccountTransaction(
            id=new_id(STORE_CREDIT_TRANSACTION),
            account_id=item.account_id,
            type=kind,
            amount=item.amount,
            created_at=datetime.now(UTC),
            deleted_at=None,
            **item.values,
        )
        row = {**tx.__dict__, **key_columns(item.key, item.fingerprint)}
        assert self._moves is not None
        applied = await self._moves.submit(row)
        return Movement([tx]) if applied else None

    async def move_funded_card(
        self,
        conn: Tx,
        account_id: str,
        card_id: str,
        kind: str,
        amount: Decimal,
        *,
        reference: str,
        reference_id: str,
        key: str | None,
        fingerprint: str,
    ) -> tuple[AccountTransaction, Decimal, bool]:
        """A DebitGiftCard/CreditGiftCard on a funded card, inside the gift card's
        transaction (its values already checked there): the movement happens on its
        account (locked first, then the card). Returns the account transaction, the
        balance after it (now, for a replay) and whether it was a replay."""
        face = _CreditFace(datetime.now(UTC), funded_card=card_id)
        values = {"note": None, "reference": reference, "reference_id": reference_id}
        move = _Move(kind, amount, {**values, "metadata": None})
        posting = ledger.Posting(account_id, move, key, fingerprint)
        [posted] = await ledger.post(conn, face, [posting])
        return posted.entry, face.totals[account_id].balance, posted.replayed

    # ---------------------------------------------------------- transactions

    async def transactions(
        self, query: TransactionQuery
    ) -> tuple[list[AccountTransaction], int | None]:
        v = Violations()
        page = listing.page(
            v,
            skip=query.skip,
            take=query.take,
            order=query.order,
            sortable=store.TRANSACTION_SORTABLE,
            default_order=("created_at", True),
        )
        filters = query.filters
        for kind in filters.type:
            if kind not in TYPES:
                v.add("type", "type must be credit or debit")
        listing.filters(v, filters.columns())
        v.raise_if_any()

        listed = store.list_transactions(
            filters.columns(),
            with_deleted=filters.with_deleted,
            order=page.order,
            skip=page.skip,
            take=page.take,
            with_count=query.with_count,
        )
        return await listing.fetch(self._db, listed, _transaction)

    async def delete_transactions(self, ids: Sequence[str]) -> list[str]:
        """Void: each transaction's amount leaves its account's balance and totals."""
        checked = listing.ids(ids)
        if not checked:
            return []

        async def work(conn: Tx) -> list[str]:
            found = await store.live_transactions(conn, checked)
            await store.lock_accounts(conn, [t.account_id for t in found])
            # Read again under the locks: a concurrent void may have taken some.
            voiding = sorted(
                (_transaction(row) for row in await store.live_transactions(conn, checked)),
                key=lambda t: t.id,
            )
            postings = [
                ledger.Posting(tx.account_id, _Move(tx.type, tx.amount, voids=tx), None, "")
                for tx in voiding
            ]
            if postings:
                await ledger.post(conn, _CreditFace(datetime.now(UTC)), postings)
            return [tx.id for tx in voiding]

        return await self._db.run(work)


class Relinked(Exception):
    """The card's funding changed between the unlocked look-up and the locks: rerun."""


def _duplicate_customer(customer_id: str, currency: str) -> Duplicate:
    return Duplicate(
        f"StoreCreditAccount for customer {customer_id} in {currency} already exists",
        metadata={"customer_id": customer_id[:64], "currency_code": currency},
    )


def _no_repeated_pairs(pairs: Sequence[tuple[str, str]]) -> None:
    seen: set[tuple[str, str]] = set()
    for pair in pairs:
        if pair in seen:
            raise _duplicate_customer(*pair)
        seen.add(pair)


def _no_repeats(rows: Sequence[Mapping[str, Any]]) -> None:
    codes_given = [r["code"] for r in rows if r["code"]]
    repeated = sorted({c for c in codes_given if codes_given.count(c) > 1})
    if repeated:
        raise Duplicate(
            f"StoreCreditAccount with code: {repeated[0]} appears twice in the request",
            metadata={"code": repeated[0]},
        )
    _no_repeated_pairs([(r["customer_id"], r["currency_code"]) for r in rows if r["customer_id"]])


async def _check_unique(
    conn: Tx,
    rows: Sequence[Mapping[str, Any]],
    *,
    changed: Mapping[str, Any] | None = None,
) -> None:
    """Codes unique; one live account per (customer_id, currency_code)."""
    check_code = changed is None or "code" in changed
    check_pair = changed is None or "customer_id" in changed or "currency_code" in changed
    if check_code:
        taken = await store.taken(conn, "code", [r["code"] for r in rows if r["code"]])
        if taken:
            code = sorted(taken)[0]
            raise Duplicate(
                f"StoreCreditAccount with code: {code} already exists", metadata={"code": code}
            )
    if check_pair:
        pairs = [(r["customer_id"], r["currency_code"]) for r in rows if r["customer_id"]]
        clash = await store.live_customer_accounts(conn, pairs)
        if clash:
            raise _duplicate_customer(*sorted(clash)[0])
