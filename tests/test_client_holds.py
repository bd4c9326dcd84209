"""The Python clients (sync and async) on points holds and order points, against the real
server: typed results, replays, and errors mapped as for every other method."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from loyalty_client import (
    AsyncLoyaltyClient,
    CapturePointsHoldResult,
    Conflict,
    EarnOrderPointsResult,
    HoldPointsResult,
    InvalidData,
    LoyaltyClient,
    NotAllowed,
    NotFound,
    OrderPoints,
    PointsHold,
    PointsHoldStatus,
    ReverseOrderPointsResult,
)


@pytest.fixture
def client(loyalty_server: Any) -> Iterator[LoyaltyClient]:
    with LoyaltyClient(loyalty_server.target, timeout=10) as c:
        yield c


def test_hold_capture_release_and_balance(client: LoyaltyClient, uid: str) -> None:
    customer = f"cus_{uid}"
    client.adjust_points(customer, 100)
    held = client.hold_points(
        customer, 30, reference="cart", reference_id=f"cart_{uid}", idempotency_key=f"h-{uid}"
    )
    assert isinstance(held, HoldPointsResult) and isinstance(held.hold, PointsHold)
    hold = held.hold
    assert hold.id.startswith("phold_")
    assert (hold.customer_id, hold.points, hold.status) == (
        customer,
        Decimal(30),
        PointsHoldStatus.ACTIVE,
    )
    assert (hold.reference, hold.reference_id) == ("cart", f"cart_{uid}")
    assert hold.captured_points is None and hold.adjustment_id is None
    assert hold.expires_at is not None and hold.expires_at > datetime.now(UTC)
    assert (held.available, held.replayed) == (Decimal(70), False)

    again = client.hold_points(
        customer, 30, reference="cart", reference_id=f"cart_{uid}", idempotency_key=f"h-{uid}"
    )
    assert again.replayed and again.hold.id == hold.id
    with pytest.raises(Conflict):  # the same key, another body
        client.hold_points(customer, 31, idempotency_key=f"h-{uid}")

    balance = client.get_points_balance(customer)
    assert (balance.balance, balance.held, balance.available) == (100, 30, 70)

    # More than is available: NotAllowed, as for any rule's refusal.
    with pytest.raises(NotAllowed):
        client.hold_points(customer, 71)

    captured = client.capture_points_hold(hold.id, points=20, reason="order placed")
    assert isinstance(captured, CapturePointsHoldResult) and not captured.replayed
    assert captured.hold.status is PointsHoldStatus.CAPTURED
    assert captured.hold.captured_points == Decimal(20)
    assert captured.hold.adjustment_id == captured.adjustment.id
    assert (captured.adjustment.delta, captured.adjustment.balance_after) == (-20, 80)
    assert client.capture_points_hold(hold.id).replayed  # once per hold
    assert client.get_points_balance(customer).available == Decimal(80)

    # A captured hold cannot be released.
    with pytest.raises(NotAllowed):
        client.release_points_hold(hold.id)

    second = client.hold_points(customer, "12.5", expires_at=datetime.now(UTC) + timedelta(days=1))
    released = client.release_points_hold(second.hold.id)
    assert released.status is PointsHoldStatus.RELEASED
    assert client.release_points_hold(second.hold.id) == released  # unchanged
    assert client.get_points_hold(second.hold.id) == released

    listed = client.list_points_holds(customer, page_size=1)
    assert len(listed.items) == 1 and listed.next_page_token
    every = list(client.iter_points_holds(customer, page_size=1))
    assert [h.id for h in every] == [second.hold.id, hold.id]  # newest first
    assert list(client.iter_points_holds(customer, active_only=True)) == []
    assert [h.id for h in client.iter_points_holds(customer, reference_id=f"cart_{uid}")] == [
        hold.id
    ]


def test_hold_errors(client: LoyaltyClient, uid: str) -> None:
    with pytest.raises(NotFound):
        client.get_points_hold("phold_01J0000000000000000000000")
    with pytest.raises(InvalidData) as bad:
        client.hold_points(f"cus_{uid}", "1e3")
    assert [v.field for v in bad.value.field_violations] == ["points"]
    with pytest.raises(ValueError, match="timezone-aware"):
        client.hold_points(f"cus_{uid}", 1, expires_at=datetime(2030, 1, 1))
    with pytest.raises(TypeError):
        client.hold_points(f"cus_{uid}", 1.5)  # type: ignore[arg-type]


def test_order_points_earn_reverse_get(client: LoyaltyClient, uid: str) -> None:
    customer, order = f"cus_{uid}", f"order_{uid}"
    earned = client.earn_order_points(customer, order, 50, reason="order placed")
    assert isinstance(earned, EarnOrderPointsResult) and not earned.replayed
    assert (earned.adjustment.delta, earned.adjustment.balance_after) == (50, 50)
    assert isinstance(earned.order, OrderPoints)
    assert (earned.order.order_id, earned.order.earned, earned.order.reversed) == (order, 50, 0)
    again = client.earn_order_points(customer, order, 50)
    assert again.replayed and again.adjustment.id == earned.adjustment.id
    with pytest.raises(Conflict):
        client.earn_order_points(customer, order, 60)

    refund = client.reverse_order_points(
        customer, order, points=20, idempotency_key="refund_1", reason="refund"
    )
    assert isinstance(refund, ReverseOrderPointsResult) and not refund.replayed
    assert refund.reversed == Decimal(20) and refund.adjustment is not None
    assert refund.adjustment.delta == Decimal(-20)
    replay = client.reverse_order_points(
        customer, order, points=20, idempotency_key="refund_1", reason="refund"
    )
    assert replay.replayed and replay.reversed == Decimal(20)
    cancel = client.reverse_order_points(customer, order, idempotency_key="cancel")
    assert cancel.reversed == Decimal(30)
    nothing = client.reverse_order_points(customer, order, idempotency_key="cancel-2")
    assert (nothing.reversed, nothing.adjustment) == (Decimal(0), None)

    got = client.get_order_points(customer, order)
    assert (got.earned, got.reversed) == (Decimal(50), Decimal(50))
    assert client.get_points_balance(customer).balance == 0
    with pytest.raises(NotFound):
        client.get_order_points(customer, f"order_{uid}_none")


def test_async_client_has_the_same_methods(loyalty_server: Any, uid: str) -> None:
    customer, order = f"cus_a{uid}", f"order_a{uid}"

    async def scenario() -> None:
        async with AsyncLoyaltyClient(loyalty_server.target, timeout=10) as c:
            await c.adjust_points(customer, 10)
            held = await c.hold_points(customer, 4, reference_id="cart_a")
            assert held.available == Decimal(6)
            assert (await c.get_points_hold(held.hold.id)).status is PointsHoldStatus.ACTIVE
            assert [h.id async for h in c.iter_points_holds(customer)] == [held.hold.id]
            page = await c.list_points_holds(customer, active_only=True)
            assert [h.id for h in page.items] == [held.hold.id]
            captured = await c.capture_points_hold(held.hold.id)
            assert captured.adjustment.balance_after == Decimal(6)
            other = await c.hold_points(customer, 1)
            assert (await c.release_points_hold(other.hold.id)).status is (
                PointsHoldStatus.RELEASED
            )
            with pytest.raises(NotAllowed):
                await c.hold_points(customer, 7)
            earned = await c.earn_order_points(customer, order, 5)
            assert earned.order.earned == Decimal(5)
            reversed_ = await c.reverse_order_points(customer, order, idempotency_key="cancel")
            assert reversed_.reversed == Decimal(5)
            assert (await c.get_order_points(customer, order)).reversed == Decimal(5)
            balance = await c.get_points_balance(customer)
            assert (balance.balance, balance.held, balance.available) == (6, 0, 6)

    asyncio.run(scenario())

    sync_methods = {n for n in dir(LoyaltyClient) if not n.startswith("_")}
    async_methods = {n for n in dir(AsyncLoyaltyClient) if not n.startswith("_")}
    for name in (
        "hold_points",
        "capture_points_hold",
        "release_points_hold",
        "get_points_hold",
        "list_points_holds",
        "iter_points_holds",
        "earn_order_points",
        "reverse_order_points",
        "get_order_points",
    ):
        assert name in sync_methods and name in async_methods, name
