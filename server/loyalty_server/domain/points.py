"""Loyalty points: adjustments, balances and the audit trail.

Every adjustment locks the customer's account row, checks the idempotency key,
moves the balance and appends the ledger row in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from ..store import point_holds as holds_store
from ..store import points as store
from ..store.db import AnyRow, Database, Tx
from ..store.direct import DirectPool
from . import ledger, validation
from .errors import InvalidData, NotAllowed
from .idempotency import key_columns, request_hash
from .ids import ADJUSTMENT, new_id
from .money import MAX_BALANCE, ZERO, add, format_decimal, parse_decimal, subtract
from .pagination import decode_token, page_of
from .records import from_row
from .validation import Violations

HISTORY_LIMIT = 20
# The lowest balance allowed with allow_negative_balances: |balance| < 10^20.
_NEGATIVE_FLOOR = -MAX_BALANCE + Decimal("0.000001")
DELTA_MESSAGE = "delta must be a non-zero number"


@dataclass(frozen=True)
class Adjustment:
    id: str
    customer_id: str
    delta: Decimal
    reason: str
    balance_after: Decimal
    created_at: datetime


@dataclass(frozen=True)
class AdjustmentRequest:
    customer_id: str
    delta: str
    reason: str = ""
    idempotency_key: str = ""


@dataclass(frozen=True)
class AdjustResult:
    adjustment: Adjustment
    history: list[Adjustment]
    # The idempotency key matched an earlier request: its result, nothing applied now.
    replayed: bool = False


@dataclass(frozen=True)
class Balance:
    customer_id: str
    balance: Decimal
    updated_at: datetime | None
    history: list[Adjustment]
    # What unexpired holds reserve (domain/point_holds.py).
    held: Decimal = ZERO

    @property
    def available(self) -> Decimal:
        return subtract(self.balance, self.held)


@dataclass(frozen=True)
class Account:
    """A customer's points as a write sees them under the row lock: the balance
    and what unexpired holds reserve of it (expired ones already settled)."""

    balance: Decimal
    held: Decimal = ZERO

    @property
    def available(self) -> Decimal:
        return subtract(self.balance, self.held)

    def insufficient(self, customer_id: str, action: str) -> NotAllowed:
        """The one refusal wording for points a customer does not have available."""
        held = (
            f" ({format_decimal(self.held)} held, {format_decimal(self.available)} available)"
            if self.held
            else ""
        )
        return NotAllowed(
            f"insufficient points: customer {customer_id} has a balance of "
            f"{format_decimal(self.balance)}{held}, cannot {action}"
        )


@dataclass(frozen=True)
class AdjustmentPage:
    adjustments: list[Adjustment]
    next_page_token: str


@dataclass(frozen=True)
class ValidAdjustment:
    customer_id: str
    delta: Decimal
    reason: str
    idempotency_key: str | None
    request_hash: str


def adjustment_of(row: AnyRow | Mapping[str, Any]) -> Adjustment:
    """An adjustment from a ledger row, whichever path read it."""
    return from_row(Adjustment, row)


def _customer_id(value: str, field: str = "customer_id") -> str:
    return validation.identifier(value, field)


def _validate(request: AdjustmentRequest, prefix: str = "") -> ValidAdjustment:
    violations = Violations()
    customer_id = violations.check(_customer_id, request.customer_id, f"{prefix}customer_id")
    delta = violations.check(
        parse_decimal,
        request.delta,
        f"{prefix}delta",
        message=DELTA_MESSAGE,
        allow_negative=True,
    )
    reason = violations.check(validation.reason, request.reason, f"{prefix}reason")
    key = violations.check(validation.key, request.idempotency_key, f"{prefix}idempotency_key")
    violations.raise_if_any()
    assert customer_id is not None and delta is not None and reason is not None
    fingerprint = request_hash(
        "adjust_points", customer_id=customer_id, delta=format_decimal(delta), reason=reason
    )
    return ValidAdjustment(customer_id, delta, reason, key or None, fingerprint)


def posting(valid: ValidAdjustment) -> ledger.Posting[ValidAdjustment]:
    return ledger.Posting(valid.customer_id, valid, valid.idempotency_key, valid.request_hash)


class PointsFace:
    """Points on the ledger engine: an account per customer, created by its first
    adjustment; its state is the balance and what holds reserve of it."""

    def __init__(self, refusal: Callable[[Decimal, Decimal], str | None], now: datetime) -> None:
        self._refusal = refusal
        self.now = now
        # Accounts whose expired holds this transaction already settled: their
        # row's held is exact from then on (later changes are made under the lock).
        self._settled: set[str] = set()

    async def lock(self, conn: Tx, accounts: Sequence[str]) -> dict[str, Account]:
        customers = sorted(set(accounts))
        if len(customers) == 1:  # one row: lock it if it exists, create it at write
            row = await store.lock_account(conn, customers[0])
            found = {} if row is None else {customers[0]: (row.balance, row.held)}
        else:  # several: all taken in one pass, absent ones created at 0 (store/points.py)
            found = await store.lock_accounts(conn, customers, self.now)
        return {
            customer: Account(balance, await self._settle(conn, customer, held))
            for customer, (balance, held) in found.items()
        }

    async def _settle(self, conn: Tx, customer: str, held: Decimal) -> Decimal:
        """Expiry is settled here, under the lock, where something is held, once per
        transaction (a capture or an order's points lock the account, then post)."""
        if held == 0 or customer in self._settled:
            return held
        self._settled.add(customer)
        return await holds_store.settle_expired(conn, customer, self.now)

    async def replay(
        self, conn: Tx, account: str, key: str
    ) -> tuple[Adjustment, str | None] | None:
        row = await store.adjustment_by_key(conn, account, key)
        return None if row is None else (adjustment_of(row), row.request_hash)

    def apply(
        self, state: Account | None, posting: ledger.Posting[ValidAdjustment]
    ) -> tuple[Account, Adjustment]:
        valid = posting.item
        account = Account(ZERO) if state is None else state
        new_balance = add(account.balance, valid.delta)
        refusal = self._refusal(new_balance, account.held)
        if refusal == "insufficient":
            raise account.insufficient(valid.customer_id, f"apply {format_decimal(valid.delta)}")
        if refusal == "too_large":
            raise NotAllowed("the resulting balance would exceed 10^20 points")
        adjustment = Adjustment(
            id=new_id(ADJUSTMENT),
            customer_id=valid.customer_id,
            delta=valid.delta,
            reason=valid.reason,
            balance_after=new_balance,
            created_at=self.now,
        )
        return Account(new_balance, account.held), adjustment

    async def write(
        self,
        conn: Tx,
        states: Mapping[str, tuple[Account | None, Account]],
        entries: Sequence[tuple[ledger.Posting[ValidAdjustment], Adjustment]],
    ) -> None:
        for customer_id, (before, after) in states.items():
            if before is None:
                await store.create_account(conn, customer_id, after.balance, self.now)
            else:
                await store.set_balance(conn, customer_id, after.balance, self.now)
        await store.insert_adjustments(
            conn,
            [
                {
                    **adjustment.__dict__,
                    **key_columns(posting.key, posting.fingerprint),
                }
                for posting, adjustment in entries
            ],
        )


class Points:
    """The points use cases. Each public method is one transaction."""

    def __init__(self, db: Database, *, allow_negative_balances: bool = False) -> None:
        self._db = db
        self._allow_negative = allow_negative_balances
        self._floor = _NEGATIVE_FLOOR if allow_negative_balances else ZERO
        self._coalesced = (
            None
            if db.group_commit is None
            else store.adjustment_coalescer(
                db.group_commit, floor=self._floor, ceiling=MAX_BALANCE, history=HISTORY_LIMIT
            )
        )
        self._balances = None if db.direct is None else store.balance_reader(db.direct)

    async def adjust(self, request: AdjustmentRequest, *, include_history: bool) -> AdjustResult:
        valid = _validate(request)

        async def work(conn: Tx) -> AdjustResult:
            [posted] = await ledger.post(conn, self.face(), [posting(valid)])
            history = await self._history(conn, valid.customer_id) if include_history else []
            return AdjustResult(posted.entry, history, posted.replayed)

        return await self._db.run(
            work, simple=partial(self._adjust_direct, valid=valid, include_history=include_history)
        )

    async def adjust_batch(
        self, requests: list[AdjustmentRequest]
    ) -> list[ledger.Posted[Adjustment]]:
        """All or nothing, applied in request order; each item's adjustment and
        whether it was a replay of an earlier request with its key."""
        validation.batch(len(requests), "adjustments")
        violations = Violations()
        valid: list[ValidAdjustment] = []
        for index, request in enumerate(requests):
            try:
                valid.append(_validate(request, f"adjustments[{index}]."))
            except InvalidData as error:
                violations.capture(error)
        violations.raise_if_any()

        async def work(conn: Tx) -> list[ledger.Posted[Adjustment]]:
            return await ledger.post(
                conn,
                self.face(),
                [posting(v) for v in valid],
                label=lambda index: f"adjustments[{index}]",
            )

        return await self._db.run(work, simple=partial(self._adjust_batch_direct, valid=valid))

    async def _adjust_batch_direct(
        self, pool: DirectPool, valid: list[ValidAdjustment]
    ) -> list[ledger.Posted[Adjustment]] | None:
        """PostgreSQL's set-based batch for the common case (no key used before, no
        refusal: nothing is a replay); None leaves the batch to the locking path,
        which decides it."""
        keys = [(v.customer_id, v.idempotency_key) for v in valid if v.idempotency_key]
        if len(set(keys)) != len(keys):  # a key repeated inside the batch: replays
            return None
        now = datetime.now(UTC)

        def plan(accounts: dict[str, tuple[Decimal, Decimal]]) -> list[dict[str, Any]] | None:
            # The row's held counts expired holds too: a refusal it causes goes
            # to the locking path, which settles expiry and decides.
            running = {c: balance for c, (balance, _) in accounts.items()}
            rows = []
            for item in valid:
                balance = add(running.get(item.customer_id, ZERO), item.delta)
                held = accounts.get(item.customer_id, (ZERO, ZERO))[1]
                if self._refusal(balance, held) is not None:
                    return None
                running[item.customer_id] = balance
                rows.append(
                    {
                        "id": new_id(ADJUSTMENT),
                        "customer_id": item.customer_id,
                        "delta": item.delta,
                        "reason": item.reason,
                        "balance_after": balance,
                        **key_columns(item.idempotency_key, item.request_hash),
                    }
                )
            return rows

        rows = await store.adjust_batch_direct(
            pool, [v.customer_id for v in valid], keys, plan, now
        )
        if rows is None:
            return None
        return [ledger.Posted(adjustment_of({**r, "created_at": now}), False) for r in rows]

    async def _adjust_direct(
        self, pool: DirectPool, valid: ValidAdjustment, include_history: bool
    ) -> AdjustResult | None:
        """PostgreSQL's one-statement path for the common case: group commit, the
        history read in the batch's transaction; None leaves the request to the
        locking path (replays, refusals, races), which decides it."""
        assert self._coalesced is not None
        now = datetime.now(UTC)
        adjustment_id = new_id(ADJUSTMENT)
        item = {
            "id": adjustment_id,
            "customer_id": valid.customer_id,
            "delta": valid.delta,
            "reason": valid.reason,
            **key_columns(valid.idempotency_key, valid.request_hash),
            "now": now,
            "history": include_history,
        }
        applied = await self._coalesced.submit(item)
        if applied is None:
            return None
        balance, rows = applied
        adjustment = Adjustment(
            adjustment_id, valid.customer_id, valid.delta, valid.reason, balance, now
        )
        return AdjustResult(adjustment, [adjustment_of(row) for row in rows])

    def face(self) -> PointsFace:
        """The points face of the ledger engine, for one transaction (its `now`)."""
        return PointsFace(self._refusal, datetime.now(UTC))

    @property
    def allow_negative(self) -> bool:
        return self._allow_negative

    def _refusal(self, balance: Decimal, held: Decimal = ZERO) -> str | None:
        """Why a resulting balance is not allowed, or None: the one balance rule
        (the PostgreSQL one-statement path states it as its floor and ceiling).
        Held points are not the customer's to spend: the floor is on balance - held."""
        if subtract(balance, held) < 0 and not self._allow_negative:
            return "insufficient"
        if abs(balance) >= MAX_BALANCE:
            return "too_large"
        return None

    async def _history(self, conn: Tx, customer_id: str) -> list[Adjustment]:
        rows = await store.adjustments_page(conn, customer_id, before_seq=None, limit=HISTORY_LIMIT)
        return [adjustment_of(row) for row in rows]

    async def balance(self, customer_id: str, *, include_history: bool) -> Balance:
        customer_id = _customer_id(customer_id)
        now = datetime.now(UTC)

        async def read(pool: DirectPool) -> Balance:
            """PostgreSQL: balance, held and history in one statement on the lean
            pool, with the other reads queued meanwhile (`pool` is the reader's)."""
            assert self._balances is not None
            history = HISTORY_LIMIT if include_history else 0
            found = await self._balances.submit(
                {"customer_id": customer_id, "history": history, "now": now}
            )
            if found is None:
                return Balance(customer_id, ZERO, None, [])
            balance, held, updated_at, rows = found
            entries = [adjustment_of(row) for row in rows]
            return Balance(customer_id, balance, updated_at, entries, held)

        async def work(conn: Tx) -> Balance:
            account = await store.get_account(conn, customer_id)
            if account is None:
                return Balance(customer_id, ZERO, None, [])
            held = ZERO if account.held == 0 else await holds_store.held_now(conn, customer_id, now)
            history = await self._history(conn, customer_id) if include_history else []
            return Balance(customer_id, account.balance, account.updated_at, history, held)

        return await self._db.run(work, simple=read)

    async def list_adjustments(
        self, customer_id: str, *, page_size: int, page_token: str
    ) -> AdjustmentPage:
        customer_id = _customer_id(customer_id)
        limit = validation.page_size(page_size)
        before = decode_token(page_token, f"points:{customer_id}")

        async def work(conn: Tx) -> AdjustmentPage:
            rows = await store.adjustments_page(
                conn, customer_id, before_seq=before, limit=limit + 1
            )
            rows, token = page_of(rows, limit, f"points:{customer_id}", lambda row: row.seq)
            return AdjustmentPage([adjustment_of(row) for row in rows], token)

        return await self._db.run(work)
