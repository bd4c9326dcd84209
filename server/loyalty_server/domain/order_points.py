"""Points an order earns, and taking them back when it is canceled or refunded.

An order earns once per (customer, order): the earn entry is the idempotency
record, so a redelivered "order placed" event earns nothing twice. Reversals
are keyed by the caller ("cancel", a refund's id) and take back at most what the
order has left, and, unless the server allows negative balances, at most the
customer's available points: a customer who already spent the points keeps the
rest (the entry records what was asked and what moved). Every step runs under
the account's row lock, through the same ledger engine as AdjustPoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ..store import point_holds as store
from ..store import points as points_store
from ..store.db import AnyRow, Database, Tx
from . import ledger, validation
from .errors import Conflict, NotFound
from .idempotency import check_replay, request_hash
from .money import ZERO, add, format_decimal, subtract
from .point_holds import lock_account, positive_points
from .points import Adjustment, Points, ValidAdjustment, adjustment_of, posting
from .validation import Violations

EARN = "earn"
REVERSE = "reverse"


@dataclass(frozen=True)
class OrderPoints:
    customer_id: str
    order_id: str
    earned: Decimal
    reversed: Decimal
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class EarnResult:
    adjustment: Adjustment
    order: OrderPoints
    replayed: bool


@dataclass(frozen=True)
class ReverseResult:
    reversed: Decimal
    adjustment: Adjustment | None
    order: OrderPoints
    replayed: bool


def _summary(customer_id: str, order_id: str, entries: list[AnyRow]) -> OrderPoints:
    earned = sum((e.points for e in entries if e.kind == EARN), ZERO)
    reversed_ = sum((e.points for e in entries if e.kind == REVERSE), ZERO)
    return OrderPoints(
        customer_id, order_id, earned, reversed_, entries[0].created_at, entries[-1].created_at
    )


def _ids(customer_id: str, order_id: str) -> tuple[str, str]:
    violations = Violations()
    customer = violations.check(validation.identifier, customer_id, "customer_id")
    order = violations.check(validation.identifier, order_id, "order_id")
    violations.raise_if_any()
    assert customer is not None and order is not None
    return customer, order


class OrderPointsService:
    """Earning and reversing by order. Each public method is one transaction."""

    def __init__(self, db: Database, points: Points) -> None:
        self._db = db
        self._points = points

    async def earn(self, customer_id: str, order_id: str, points: str, reason: str) -> EarnResult:
        violations = Violations()
        ids = violations.check(_ids, customer_id, order_id)
        amount = violations.check(positive_points, points)
        reason_ = violations.check(validation.reason, reason, "reason")
        violations.raise_if_any()
        assert ids is not None and amount is not None and reason_ is not None
        customer, order = ids
        fingerprint = request_hash("earn_order_points", points=format_decimal(amount))

        async def work(conn: Tx) -> EarnResult:
            face = self._points.face()
            await lock_account(face, conn, customer)
            entries = await store.order_entries(conn, customer, order)
            earned = next((e for e in entries if e.kind == EARN), None)
            if earned is not None:
                if earned.request_hash != fingerprint:
                    raise Conflict(
                        f"order {order} already earned {format_decimal(earned.points)} points "
                        f"for customer {customer}",
                        metadata={"order_id": order[:64]},
                    )
                found = await points_store.adjustment_by_id(conn, earned.adjustment_id)
                assert found is not None, "an earn entry's adjustment is in the ledger"
                return EarnResult(
                    adjustment_of(found), _summary(customer, order, entries), replayed=True
                )
            valid = ValidAdjustment(customer, amount, reason_ or f"order {order}", None, "")
            [posted] = await ledger.post(conn, face, [posting(valid)])
            await store.insert_order_entry(
                conn,
                {
                    "customer_id": customer,
                    "order_id": order,
                    "kind": EARN,
                    "entry_key": "",
                    "requested": format_decimal(amount),
                    "points": amount,
                    "adjustment_id": posted.entry.id,
                    "request_hash": fingerprint,
                    "created_at": face.now,
                },
            )
            entries = await store.order_entries(conn, customer, order)
            return EarnResult(posted.entry, _summary(customer, order, entries), replayed=False)

        return await self._db.run(work)

    async def reverse(
        self, customer_id: str, order_id: str, points: str, reason: str, idempotency_key: str
    ) -> ReverseResult:
        violations = Violations()
        ids = violations.check(_ids, customer_id, order_id)
        amount = violations.check(positive_points, points) if points else None
        reason_ = violations.check(validation.reason, reason, "reason")
        key = violations.check(validation.key, idempotency_key, "idempotency_key", required=True)
        violations.raise_if_any()
        assert ids is not None and reason_ is not None and key is not None
        customer, order = ids
        requested = "" if amount is None else format_decimal(amount)
        fingerprint = request_hash("reverse_order_points", points=requested, reason=reason_)

        async def work(conn: Tx) -> ReverseResult:
            face = self._points.face()
            account = await lock_account(face, conn, customer)
            entries = await store.order_entries(conn, customer, order)
            if not any(e.kind == EARN for e in entries):
                raise NotFound(
                    f"order {order} earned no points for customer {customer}",
                    metadata={"order_id": order[:64]},
                )
            done = next((e for e in entries if e.kind == REVERSE and e.entry_key == key), None)
            if done is not None:
                check_replay(done.request_hash, fingerprint, key)
                found = (
                    None
                    if done.adjustment_id is None
                    else await points_store.adjustment_by_id(conn, done.adjustment_id)
                )
                return ReverseResult(
                    done.points,
                    None if found is None else adjustment_of(found),
                    _summary(customer, order, entries),
                    replayed=True,
                )
            summary = _summary(customer, order, entries)
            left = subtract(summary.earned, summary.reversed)
            take = left if amount is None else min(amount, left)
            if not self._points.allow_negative:
                take = min(take, max(account.available, ZERO))
            adjustment = None
            if take > 0:
                valid = ValidAdjustment(
                    customer, -take, reason_ or f"order {order} reversed", None, ""
                )
                [posted] = await ledger.post(conn, face, [posting(valid)])
                adjustment = posted.entry
            await store.insert_order_entry(
                conn,
                {
                    "customer_id": customer,
                    "order_id": order,
                    "kind": REVERSE,
                    "entry_key": key,
                    "requested": requested,
                    "points": take,
                    "adjustment_id": None if adjustment is None else adjustment.id,
                    "request_hash": fingerprint,
                    "created_at": face.now,
                },
            )
            after = OrderPoints(
                customer,
                order,
                summary.earned,
                add(summary.reversed, take),
                summary.created_at,
                face.now,
            )
            return ReverseResult(take, adjustment, after, replayed=False)

        return await self._db.run(work)

    async def get(self, customer_id: str, order_id: str) -> OrderPoints:
        customer, order = _ids(customer_id, order_id)

        async def work(conn: Tx) -> OrderPoints:
            entries = await store.order_entries(conn, customer, order)
            if not any(e.kind == EARN for e in entries):
                raise NotFound(
                    f"order {order} earned no points for customer {customer}",
                    metadata={"order_id": order[:64]},
                )
            return _summary(customer, order, entries)

        return await self._db.run(work)
