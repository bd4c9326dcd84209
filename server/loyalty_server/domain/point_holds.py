"""Points holds: points reserved for a purpose (a cart), then captured or released.

A hold moves no points; it lowers what the customer may spend. The account row
carries `held` (the points of its active holds) beside `balance`, both changed
under the account's row lock, so every debit path, the one-statement PostgreSQL
ones included, checks `balance + delta - held >= 0`. Expiry is a time, not an
event: a hold past `expires_at` reserves nothing for any reader, and the next
write that locks the account settles it (points/PointsFace.lock), so no sweeper
is needed for correctness.

Capturing is the ledger debit, through the same engine as AdjustPoints, exactly
once per hold: the hold records its adjustment, and a second capture replays it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from ..store import point_holds as store
from ..store import points as points_store
from ..store.db import Database, Tx
from . import ledger, validation
from .errors import Conflict, InvalidData, NotAllowed, NotFound
from .idempotency import check_replay, request_hash
from .ids import new_id
from .money import ZERO, add, format_decimal, parse_decimal, subtract
from .pagination import decode_token, page_of
from .points import (
    Account,
    Adjustment,
    Points,
    PointsFace,
    ValidAdjustment,
    adjustment_of,
    posting,
)
from .validation import Violations

HOLD = "phold"
DEFAULT_HOLD_TTL = timedelta(hours=1)
MAX_HOLD_TTL = timedelta(days=30)
POINTS_MESSAGE = "points must be a positive number"


class HoldStatus(Enum):
    ACTIVE = "active"
    CAPTURED = "captured"
    RELEASED = "released"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Hold:
    id: str
    customer_id: str
    points: Decimal
    status: HoldStatus
    reference: str
    reference_id: str
    expires_at: datetime
    captured_points: Decimal | None
    adjustment_id: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class HoldRequest:
    customer_id: str
    points: str
    reference: str = ""
    reference_id: str = ""
    expires_at: datetime | None = None
    idempotency_key: str = ""


@dataclass(frozen=True)
class HoldResult:
    hold: Hold
    available: Decimal
    replayed: bool


@dataclass(frozen=True)
class CaptureResult:
    hold: Hold
    adjustment: Adjustment
    replayed: bool


@dataclass(frozen=True)
class HoldPage:
    holds: list[Hold]
    next_page_token: str


def _hold(row: Mapping[Any, Any], now: datetime) -> Hold:
    status = HoldStatus(row["status"])
    if status is HoldStatus.ACTIVE and row["expires_at"] <= now:
        status = HoldStatus.EXPIRED  # expiry is read, not written
    return Hold(
        row["id"],
        row["customer_id"],
        row["points"],
        status,
        row["reference"],
        row["reference_id"],
        row["expires_at"],
        row["captured_points"],
        row["adjustment_id"],
        row["created_at"],
        row["updated_at"],
    )


def positive_points(raw: str, field: str = "points") -> Decimal:
    return parse_decimal(raw, field, message=POINTS_MESSAGE, allow_negative=False)


def _expiry(value: datetime | None, now: datetime) -> datetime:
    if value is None:
        return now + DEFAULT_HOLD_TTL
    if value <= now:
        raise InvalidData.field("expires_at", "expires_at must be in the future")
    if value > now + MAX_HOLD_TTL:
        raise InvalidData.field("expires_at", "expires_at must be at most 30 days ahead")
    return value


async def lock_account(face: PointsFace, conn: Tx, customer_id: str) -> Account:
    """The customer's account under its row lock (created at 0 if absent: it
    vanishes with a refusal's rollback), expired holds settled."""
    await points_store.lock_accounts(conn, [customer_id], face.now)
    [account] = (await face.lock(conn, [customer_id])).values()
    return account


class PointHolds:
    """The hold use cases. Each public method is one transaction."""

    def __init__(self, db: Database, points: Points) -> None:
        self._db = db
        self._points = points

    async def hold(self, request: HoldRequest) -> HoldResult:
        now = datetime.now(UTC)
        violations = Violations()
        check = violations.check
        customer_id = check(validation.identifier, request.customer_id, "customer_id")
        points = check(positive_points, request.points)
        reference = check(validation.label, request.reference, "reference")
        reference_id = check(validation.label, request.reference_id, "reference_id")
        expires_at = check(_expiry, request.expires_at, now)
        key = check(validation.key, request.idempotency_key, "idempotency_key")
        violations.raise_if_any()
        assert customer_id is not None and points is not None and expires_at is not None
        fingerprint = request_hash(
            "hold_points",
            customer_id=customer_id,
            points=format_decimal(points),
            reference=reference,
            reference_id=reference_id,
            expires_at=request.expires_at.isoformat() if request.expires_at else "",
        )

        async def work(conn: Tx) -> HoldResult:
            face = self._points.face()
            account = await lock_account(face, conn, customer_id)
            if key:
                found = await store.hold_by_key(conn, customer_id, key)
                if found is not None:
                    check_replay(found.request_hash, fingerprint, key)
                    hold = _hold(found._mapping, face.now)
                    return HoldResult(hold, account.available, replayed=True)
            if points > account.available:
                raise account.insufficient(customer_id, f"hold {format_decimal(points)}")
            row = {
                "id": new_id(HOLD),
                "customer_id": customer_id,
                "points": points,
                "status": HoldStatus.ACTIVE.value,
                "reference": reference,
                "reference_id": reference_id,
                "expires_at": expires_at,
                "captured_points": None,
                "adjustment_id": None,
                "idempotency_key": key or None,
                "request_hash": fingerprint if key else None,
                "created_at": face.now,
                "updated_at": face.now,
            }
            await store.insert_hold(conn, row)
            await store.set_held(conn, customer_id, add(account.held, points))
            hold = _hold(row, face.now)
            return HoldResult(hold, subtract(account.available, points), replayed=False)

        return await self._db.run(work)

    async def capture(self, hold_id: str, points: str, reason: str) -> CaptureResult:
        violations = Violations()
        hold_id_ = violations.check(validation.identifier, hold_id, "hold_id")
        amount = violations.check(positive_points, points) if points else None
        reason_ = violations.check(validation.reason, reason, "reason")
        violations.raise_if_any()
        assert hold_id_ is not None and reason_ is not None

        async def work(conn: Tx) -> CaptureResult:
            face = self._points.face()
            hold, account = await self._locked_hold(conn, face, hold_id_)
            if hold.status is HoldStatus.CAPTURED:
                if amount is not None and amount != hold.captured_points:
                    raise Conflict(
                        f"points hold {hold.id} was already captured with "
                        f"{format_decimal(hold.captured_points or ZERO)} points",
                        metadata={"hold_id": hold.id},
                    )
                assert hold.adjustment_id is not None
                found = await points_store.adjustment_by_id(conn, hold.adjustment_id)
                assert found is not None, "a captured hold's adjustment is in the ledger"
                return CaptureResult(hold, adjustment_of(found), replayed=True)
            _refuse_unless_active(hold)
            take = hold.points if amount is None else amount
            if take > hold.points:
                raise InvalidData.field(
                    "points",
                    f"points must be at most the {format_decimal(hold.points)} points held",
                )
            # Un-reserve the whole hold first (what is not captured is released),
            # then debit through the engine, whose lock re-reads the account.
            await store.set_held(conn, hold.customer_id, subtract(account.held, hold.points))
            valid = ValidAdjustment(
                hold.customer_id,
                -take,
                reason_ or f"points hold {hold.id} captured",
                None,
                "",
            )
            [posted] = await ledger.post(conn, face, [posting(valid)])
            await store.update_hold(
                conn,
                hold.id,
                status=HoldStatus.CAPTURED.value,
                captured_points=take,
                adjustment_id=posted.entry.id,
                updated_at=face.now,
            )
            captured = await store.get_hold(conn, hold.id)
            assert captured is not None
            return CaptureResult(_hold(captured._mapping, face.now), posted.entry, replayed=False)

        return await self._db.run(work)

    async def release(self, hold_id: str) -> Hold:
        hold_id = validation.identifier(hold_id, "hold_id")

        async def work(conn: Tx) -> Hold:
            face = self._points.face()
            hold, account = await self._locked_hold(conn, face, hold_id)
            if hold.status is HoldStatus.CAPTURED:
                raise NotAllowed(
                    f"points hold {hold.id} was captured and cannot be released",
                    metadata={"hold_id": hold.id},
                )
            if hold.status is not HoldStatus.ACTIVE:
                return hold  # released or expired: nothing is reserved any more
            await store.set_held(conn, hold.customer_id, subtract(account.held, hold.points))
            await store.update_hold(
                conn, hold.id, status=HoldStatus.RELEASED.value, updated_at=face.now
            )
            released = await store.get_hold(conn, hold.id)
            assert released is not None
            return _hold(released._mapping, face.now)

        return await self._db.run(work)

    async def get(self, hold_id: str) -> Hold:
        hold_id = validation.identifier(hold_id, "hold_id")
        now = datetime.now(UTC)

        async def work(conn: Tx) -> Hold:
            row = await store.get_hold(conn, hold_id)
            if row is None:
                raise NotFound.record("Points hold", id=hold_id)
            return _hold(row._mapping, now)

        return await self._db.run(work)

    async def list(
        self,
        customer_id: str,
        *,
        reference_id: str,
        active_only: bool,
        page_size: int,
        page_token: str,
    ) -> HoldPage:
        now = datetime.now(UTC)
        violations = Violations()
        customer = violations.check(validation.identifier, customer_id, "customer_id")
        reference = violations.check(validation.label, reference_id, "reference_id")
        limit = violations.check(validation.page_size, page_size)
        violations.raise_if_any()
        assert customer is not None and limit is not None
        scope = f"holds:{customer}:{reference}:{int(active_only)}"
        before = decode_token(page_token, scope)

        async def work(conn: Tx) -> HoldPage:
            rows = await store.holds_page(
                conn,
                customer,
                reference_id=reference or None,
                active_at=now if active_only else None,
                before_seq=before,
                limit=limit + 1,
            )
            rows, token = page_of(rows, limit, scope, lambda row: row.seq)
            return HoldPage([_hold(row._mapping, now) for row in rows], token)

        return await self._db.run(work)

    async def _locked_hold(self, conn: Tx, face: PointsFace, hold_id: str) -> tuple[Hold, Account]:
        """The hold, read again under its account's lock and its own (account
        first: the order every points write takes), and the account."""
        row = await store.get_hold(conn, hold_id)
        if row is None:
            raise NotFound.record("Points hold", id=hold_id)
        account = await lock_account(face, conn, row.customer_id)
        locked = await store.get_hold(conn, hold_id, lock=True)
        assert locked is not None  # holds are never deleted
        return _hold(locked._mapping, face.now), account


def _refuse_unless_active(hold: Hold) -> None:
    if hold.status is HoldStatus.RELEASED:
        raise NotAllowed(f"points hold {hold.id} was released", metadata={"hold_id": hold.id})
    if hold.status is HoldStatus.EXPIRED:
        raise NotAllowed(
            f"points hold {hold.id} expired at {hold.expires_at.isoformat()}",
            metadata={"hold_id": hold.id},
        )
