"""Points holds and order points (issue 15) against the real server, on SQLite
and PostgreSQL: hold, capture exactly once, release, expiry without a sweeper,
only available points spendable on every debit path, earn once per order,
keyed reversals clamped to what is left, concurrency, kill -9 with retries,
hostile input, and `verify` over all of it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial

import grpc
import pytest
from conftest import ServerProcess
from google.protobuf import timestamp_pb2
from helpers import expect_error, until_answered

from loyalty.v1 import loyalty_pb2 as pb
from loyalty.v1.loyalty_pb2_grpc import LoyaltyServiceStub
from loyalty_server.verify import verify

INVALID = grpc.StatusCode.INVALID_ARGUMENT
REFUSED = grpc.StatusCode.FAILED_PRECONDITION
ACTIVE = pb.POINTS_HOLD_STATUS_ACTIVE
CAPTURED = pb.POINTS_HOLD_STATUS_CAPTURED
RELEASED = pb.POINTS_HOLD_STATUS_RELEASED
EXPIRED = pb.POINTS_HOLD_STATUS_EXPIRED


def give(stub: LoyaltyServiceStub, customer: str, delta: str) -> pb.AdjustPointsResponse:
    response: pb.AdjustPointsResponse = stub.AdjustPoints(
        pb.AdjustPointsRequest(customer_id=customer, delta=delta), timeout=10
    )
    return response


def hold(
    stub: LoyaltyServiceStub, customer: str, points: str, timeout: float = 10, **more: object
) -> pb.HoldPointsResponse:
    response: pb.HoldPointsResponse = stub.HoldPoints(
        pb.HoldPointsRequest(customer_id=customer, points=points, **more), timeout=timeout
    )
    return response


def balance(stub: LoyaltyServiceStub, customer: str) -> tuple[str, str, str]:
    b = stub.GetPointsBalance(pb.GetPointsBalanceRequest(customer_id=customer), timeout=10)
    return b.balance, b.held, b.available


def in_(seconds: float) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(datetime.now(UTC) + timedelta(seconds=seconds))
    return ts


# -------------------------------------------------------------------- holds


def test_hold_capture_release_and_what_is_available(stub: LoyaltyServiceStub, uid: str) -> None:
    customer = f"cus_{uid}"
    give(stub, customer, "100")
    first = hold(stub, customer, "60", reference="cart", reference_id=f"cart_{uid}")
    assert first.hold.id.startswith("phold_") and first.hold.status == ACTIVE
    assert (first.available, first.hold.points, first.replayed) == ("40", "60", False)
    assert (first.hold.reference, first.hold.reference_id) == ("cart", f"cart_{uid}")
    # Unset expires_at: one hour from now.
    ttl = first.hold.expires_at.ToDatetime(tzinfo=UTC) - datetime.now(UTC)
    assert timedelta(minutes=59) < ttl <= timedelta(hours=1)
    assert balance(stub, customer) == ("100", "60", "40")

    # Held points are not the customer's to spend, on any path.
    refused = expect_error(
        stub.AdjustPoints, pb.AdjustPointsRequest(customer_id=customer, delta="-41"), REFUSED
    )
    assert refused.reason == "NOT_ALLOWED" and "40 available" in refused.message
    expect_error(
        stub.BatchAdjustPoints,
        pb.BatchAdjustPointsRequest(
            adjustments=[
                pb.BatchAdjustPointsItem(customer_id=customer, delta="-30"),
                pb.BatchAdjustPointsItem(customer_id=f"other_{uid}", delta="5"),
                pb.BatchAdjustPointsItem(customer_id=customer, delta="-11"),
            ]
        ),
        REFUSED,
    )
    with_history = expect_error(
        stub.AdjustPoints,
        pb.AdjustPointsRequest(customer_id=customer, delta="-50", include_history=True),
        REFUSED,
    )
    assert "insufficient points" in with_history.message
    second = expect_error(
        stub.HoldPoints, pb.HoldPointsRequest(customer_id=customer, points="41"), REFUSED
    )
    assert "has a balance of 100 (60 held, 40 available), cannot hold 41" in second.message
    assert balance(stub, customer) == ("100", "60", "40")
    give(stub, customer, "-40")  # exactly what is available
    assert balance(stub, customer) == ("60", "60", "0")

    captured = stub.CapturePointsHold(
        pb.CapturePointsHoldRequest(hold_id=first.hold.id, points="45", reason="cart paid"),
        timeout=10,
    )
    assert captured.hold.status == CAPTURED and captured.hold.captured_points == "45"
    assert captured.adjustment.delta == "-45" and captured.adjustment.reason == "cart paid"
    assert (
        captured.adjustment.balance_after == "15"
        and captured.hold.adjustment_id == captured.adjustment.id
    )
    # The 15 not captured went back to the customer with the hold.
    assert balance(stub, customer) == ("15", "0", "15")

    # Exactly once: capturing again replays; other points conflict; release refuses.
    again = stub.CapturePointsHold(pb.CapturePointsHoldRequest(hold_id=first.hold.id), timeout=10)
    assert again.replayed and again.adjustment == captured.adjustment
    conflict = expect_error(
        stub.CapturePointsHold,
        pb.CapturePointsHoldRequest(hold_id=first.hold.id, points="50"),
        REFUSED,
    )
    assert conflict.reason == "CONFLICT"
    assert (
        expect_error(
            stub.ReleasePointsHold, pb.ReleasePointsHoldRequest(hold_id=first.hold.id), REFUSED
        ).reason
        == "NOT_ALLOWED"
    )
    assert balance(stub, customer) == ("15", "0", "15")

    # Release gives the points back; releasing again changes nothing; a released
    # hold cannot be captured.
    small = hold(stub, customer, "10")
    assert balance(stub, customer) == ("15", "10", "5")
    released = stub.ReleasePointsHold(
        pb.ReleasePointsHoldRequest(hold_id=small.hold.id), timeout=10
    )
    assert released.status == RELEASED and balance(stub, customer) == ("15", "0", "15")
    assert (
        stub.ReleasePointsHold(pb.ReleasePointsHoldRequest(hold_id=small.hold.id), timeout=10)
        == released
    )
    assert (
        "released"
        in expect_error(
            stub.CapturePointsHold, pb.CapturePointsHoldRequest(hold_id=small.hold.id), REFUSED
        ).message
    )
    third = hold(stub, customer, "15")
    assert expect_error(
        stub.CapturePointsHold,
        pb.CapturePointsHoldRequest(hold_id=third.hold.id, points="15.5"),
        INVALID,
    ).violations == {"points": "points must be at most the 15 points held"}

    listed = stub.ListPointsHolds(pb.ListPointsHoldsRequest(customer_id=customer), timeout=10)
    assert [h.id for h in listed.holds] == [third.hold.id, small.hold.id, first.hold.id]
    assert (
        stub.GetPointsHold(pb.GetPointsHoldRequest(hold_id=first.hold.id), timeout=10)
        == captured.hold
    )
    active = stub.ListPointsHolds(
        pb.ListPointsHoldsRequest(customer_id=customer, active_only=True), timeout=10
    )
    assert [h.id for h in active.holds] == [third.hold.id]
    by_cart = stub.ListPointsHolds(
        pb.ListPointsHoldsRequest(customer_id=customer, reference_id=f"cart_{uid}"), timeout=10
    )
    assert [h.id for h in by_cart.holds] == [first.hold.id]
    page = stub.ListPointsHolds(
        pb.ListPointsHoldsRequest(customer_id=customer, page_size=2), timeout=10
    )
    rest = stub.ListPointsHolds(
        pb.ListPointsHoldsRequest(
            customer_id=customer, page_size=2, page_token=page.next_page_token
        ),
        timeout=10,
    )
    assert [h.id for h in [*page.holds, *rest.holds]] == [h.id for h in listed.holds]
    assert rest.next_page_token == ""
    history = stub.GetPointsBalance(
        pb.GetPointsBalanceRequest(customer_id=customer, include_history=True), timeout=10
    ).history
    assert [a.delta for a in history] == ["-45", "-40", "100"]  # holds and releases move no points


def test_a_refused_hold_writes_nothing(stub: LoyaltyServiceStub, uid: str) -> None:
    customer = f"cus_{uid}"
    expect_error(stub.HoldPoints, pb.HoldPointsRequest(customer_id=customer, points="1"), REFUSED)
    assert balance(stub, customer) == ("0", "0", "0")
    listed = stub.ListPointsHolds(pb.ListPointsHoldsRequest(customer_id=customer), timeout=10)
    assert list(listed.holds) == []


def test_keyed_hold_replays_and_conflicts(stub: LoyaltyServiceStub, uid: str) -> None:
    customer = f"cus_{uid}"
    give(stub, customer, "10")
    first = hold(stub, customer, "7", idempotency_key="cart-1", reference_id="cart_1")
    again = hold(stub, customer, "7", idempotency_key="cart-1", reference_id="cart_1")
    assert again.replayed and again.hold == first.hold
    assert balance(stub, customer) == ("10", "7", "3")
    conflict = expect_error(
        stub.HoldPoints,
        pb.HoldPointsRequest(customer_id=customer, points="3", idempotency_key="cart-1"),
        REFUSED,
    )
    assert conflict.reason == "CONFLICT"
    # A replay after the hold was captured shows it as it is now, and holds nothing.
    stub.CapturePointsHold(pb.CapturePointsHoldRequest(hold_id=first.hold.id), timeout=10)
    later = hold(stub, customer, "7", idempotency_key="cart-1", reference_id="cart_1")
    assert later.replayed and later.hold.status == CAPTURED
    assert balance(stub, customer) == ("3", "0", "3")


def test_an_expired_hold_stops_counting_without_anyone_calling(
    stub: LoyaltyServiceStub, uid: str
) -> None:
    customer = f"cus_{uid}"
    give(stub, customer, "50")
    short = hold(stub, customer, "50", expires_at=in_(1.5))
    assert balance(stub, customer) == ("50", "50", "0")
    expect_error(
        stub.AdjustPoints, pb.AdjustPointsRequest(customer_id=customer, delta="-1"), REFUSED
    )
    time.sleep(2.0)
    assert balance(stub, customer) == ("50", "0", "50")  # read time, nothing written
    got = stub.GetPointsHold(pb.GetPointsHoldRequest(hold_id=short.hold.id), timeout=10)
    assert got.status == EXPIRED
    assert (
        "expired"
        in expect_error(
            stub.CapturePointsHold, pb.CapturePointsHoldRequest(hold_id=short.hold.id), REFUSED
        ).message
    )
    # The debit the expired hold used to block goes through (on PostgreSQL the
    # one-statement path defers to the locking path, which settles the expiry).
    assert give(stub, customer, "-30").balance_after == "20"
    assert (
        stub.ReleasePointsHold(
            pb.ReleasePointsHoldRequest(hold_id=short.hold.id), timeout=10
        ).status
        == EXPIRED
    )
    assert balance(stub, customer) == ("20", "0", "20")


def test_concurrent_holds_never_hold_more_than_the_balance(
    stub: LoyaltyServiceStub, loyalty_server: ServerProcess, uid: str
) -> None:
    """Two carts (here 16) of one customer holding at the same moment: only as many
    as the balance covers succeed, whatever the interleaving; debits racing them
    never spend held points either."""
    customer = f"cus_{uid}"
    give(stub, customer, "100")
    barrier = threading.Barrier(24, timeout=30)

    def try_hold(n: int) -> str:
        barrier.wait()
        try:
            hold(stub, customer, "30", reference_id=f"cart_{n}")
            return "held"
        except grpc.RpcError as error:
            return error.code().name

    def try_debit(n: int) -> str:
        barrier.wait()
        try:
            give(stub, customer, "-5")
            return "debited"
        except grpc.RpcError as error:
            return error.code().name

    with ThreadPoolExecutor(24) as pool:
        futures = [pool.submit(try_hold, n) for n in range(16)]
        futures += [pool.submit(try_debit, n) for n in range(8)]
        outcomes = [f.result(timeout=60) for f in futures]
    held = outcomes.count("held")
    debited = outcomes.count("debited")
    assert set(outcomes) <= {"held", "debited", "FAILED_PRECONDITION"}, outcomes
    assert 1 <= held <= 3 and held * 30 + debited * 5 <= 100
    b, h, available = balance(stub, customer)
    assert (b, h) == (str(100 - 5 * debited), str(30 * held)) and int(available) >= 0
    assert verify(loyalty_server.database_url).ok


@pytest.mark.reliability
def test_kill_9_during_keyed_holds_and_captures_then_retries_apply_each_once(
    start_server: Callable[..., ServerProcess], uid: str
) -> None:
    """8 callers hold (keyed) and capture 40 holds of 2 points each while the
    server is killed (-9) and restarted; every caller resends until answered.
    Each hold is made once and captured once: the balance drops by exactly 80."""
    server = start_server()
    customers = [f"cus_{uid}_{n}" for n in range(4)]
    with server.channel() as channel:
        stub = LoyaltyServiceStub(channel)
        for customer in customers:
            give(stub, customer, "1000")
    answered: dict[int, str] = {}
    lock = threading.Lock()

    def caller(start: int) -> None:
        with server.channel() as channel:
            stub = LoyaltyServiceStub(channel)
            for n in range(start, 40, 8):
                request = pb.HoldPointsRequest(
                    customer_id=customers[n % 4], points="2", idempotency_key=f"k9-{n}"
                )
                made = until_answered(partial(stub.HoldPoints, request, timeout=5))
                assert isinstance(made, pb.HoldPointsResponse)
                capture = pb.CapturePointsHoldRequest(hold_id=made.hold.id)
                until_answered(partial(stub.CapturePointsHold, capture, timeout=5))
                with lock:
                    answered[n] = made.hold.id

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    server.kill()
    server.start()
    for thread in threads:
        thread.join(120)
    assert len(answered) == 40 and len(set(answered.values())) == 40
    with server.channel() as channel:
        stub = LoyaltyServiceStub(channel)
        for customer in customers:
            assert balance(stub, customer) == ("980", "0", "980")
            holds = stub.ListPointsHolds(
                pb.ListPointsHoldsRequest(customer_id=customer), timeout=10
            )
            assert len(holds.holds) == 10 and {h.status for h in holds.holds} == {CAPTURED}
    assert verify(server.database_url).ok


# ------------------------------------------------------------- order points


def test_an_order_earns_once_and_reversals_take_back_what_is_left(
    stub: LoyaltyServiceStub, loyalty_server: ServerProcess, uid: str
) -> None:
    customer, order = f"cus_{uid}", f"order_{uid}"
    earned = stub.EarnOrderPoints(
        pb.EarnOrderPointsRequest(customer_id=customer, order_id=order, points="120"), timeout=10
    )
    assert earned.adjustment.delta == "120" and earned.adjustment.reason == f"order {order}"
    assert (earned.order.earned, earned.order.reversed, earned.replayed) == ("120", "0", False)
    # The event delivered again earns nothing twice; other points are a conflict.
    again = stub.EarnOrderPoints(
        pb.EarnOrderPointsRequest(customer_id=customer, order_id=order, points="120"), timeout=10
    )
    assert again.replayed and again.adjustment == earned.adjustment
    assert (
        expect_error(
            stub.EarnOrderPoints,
            pb.EarnOrderPointsRequest(customer_id=customer, order_id=order, points="121"),
            REFUSED,
        ).reason
        == "CONFLICT"
    )
    assert balance(stub, customer) == ("120", "0", "120")

    def reverse(key: str, points: str = "") -> pb.ReverseOrderPointsResponse:
        response: pb.ReverseOrderPointsResponse = stub.ReverseOrderPoints(
            pb.ReverseOrderPointsRequest(
                customer_id=customer, order_id=order, points=points, idempotency_key=key
            ),
            timeout=10,
        )
        return response

    refund = reverse("refund_1", "30")
    assert (refund.reversed, refund.adjustment.delta, refund.order.reversed) == ("30", "-30", "30")
    assert reverse("refund_1", "30").replayed and balance(stub, customer)[0] == "90"
    assert (
        expect_error(
            stub.ReverseOrderPoints,
            pb.ReverseOrderPointsRequest(
                customer_id=customer, order_id=order, points="31", idempotency_key="refund_1"
            ),
            REFUSED,
        ).reason
        == "CONFLICT"
    )
    # The customer spends (holds) some of it; a cancel takes back only what is
    # available, never below zero.
    give(stub, customer, "-50")
    hold(stub, customer, "25")
    cancel = reverse("cancel")
    assert (cancel.reversed, cancel.order.reversed) == ("15", "45")
    assert balance(stub, customer) == ("25", "25", "0")
    nothing = reverse("refund_2", "10")
    assert nothing.reversed == "0" and not nothing.HasField("adjustment")
    got = stub.GetOrderPoints(
        pb.GetOrderPointsRequest(customer_id=customer, order_id=order), timeout=10
    )
    assert (got.earned, got.reversed) == ("120", "45")
    missing = expect_error(
        stub.ReverseOrderPoints,
        pb.ReverseOrderPointsRequest(
            customer_id=customer, order_id=f"other_{uid}", idempotency_key="cancel"
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    assert missing.reason == "NOT_FOUND"
    expect_error(
        stub.GetOrderPoints,
        pb.GetOrderPointsRequest(customer_id=customer, order_id=f"other_{uid}"),
        grpc.StatusCode.NOT_FOUND,
    )
    assert verify(loyalty_server.database_url).ok


def test_reversals_stop_at_what_the_order_earned(stub: LoyaltyServiceStub, uid: str) -> None:
    customer, order = f"cus_{uid}", f"order_{uid}"
    give(stub, customer, "1000")
    stub.EarnOrderPoints(
        pb.EarnOrderPointsRequest(customer_id=customer, order_id=order, points="10.5"), timeout=10
    )
    taken = [
        stub.ReverseOrderPoints(
            pb.ReverseOrderPointsRequest(
                customer_id=customer, order_id=order, points="4", idempotency_key=f"r{n}"
            ),
            timeout=10,
        ).reversed
        for n in range(4)
    ]
    assert taken == ["4", "4", "2.5", "0"]
    assert balance(stub, customer)[0] == "1000"


def test_a_redelivered_earn_racing_itself_earns_once(stub: LoyaltyServiceStub, uid: str) -> None:
    customer, order = f"cus_{uid}", f"order_{uid}"
    barrier = threading.Barrier(8, timeout=30)

    def earn(_: int) -> bool:
        barrier.wait()
        response = stub.EarnOrderPoints(
            pb.EarnOrderPointsRequest(customer_id=customer, order_id=order, points="5"), timeout=10
        )
        return bool(response.replayed)

    with ThreadPoolExecutor(8) as pool:
        replays = list(pool.map(earn, range(8)))
    assert replays.count(False) == 1 and balance(stub, customer)[0] == "5"


# ------------------------------------------------------------ hostile input


@pytest.mark.parametrize(
    ("request_", "field", "text"),
    [
        (
            pb.HoldPointsRequest(customer_id="", points="1"),
            "customer_id",
            "customer_id is required",
        ),
        (pb.HoldPointsRequest(customer_id=" c", points="1"), "customer_id", "white space"),
        (pb.HoldPointsRequest(customer_id="c\x01", points="1"), "customer_id", "control"),
        (pb.HoldPointsRequest(customer_id="c", points="0"), "points", "positive"),
        (pb.HoldPointsRequest(customer_id="c", points="-1"), "points", "positive"),
        (pb.HoldPointsRequest(customer_id="c", points="1e3"), "points", "positive"),
        (pb.HoldPointsRequest(customer_id="c", points="NaN"), "points", "positive"),
        (pb.HoldPointsRequest(customer_id="c", points="0.0000001"), "points", "decimal places"),
        (pb.HoldPointsRequest(customer_id="c", points="1", reference="r\x00"), "reference", "NUL"),
        (
            pb.HoldPointsRequest(customer_id="c", points="1", reference_id="x" * 256),
            "reference_id",
            "255",
        ),
        (
            pb.HoldPointsRequest(customer_id="c", points="1", idempotency_key="k\x00"),
            "idempotency_key",
            "NUL",
        ),
        (
            pb.HoldPointsRequest(customer_id="c", points="1", expires_at=in_(-1)),
            "expires_at",
            "future",
        ),
        (
            pb.HoldPointsRequest(customer_id="c", points="1", expires_at=in_(31 * 86400)),
            "expires_at",
            "30 days",
        ),
        (
            pb.HoldPointsRequest(
                customer_id="c", points="1", expires_at=timestamp_pb2.Timestamp(seconds=2**62)
            ),
            "expires_at",
            "year 1 and 9999",
        ),
        (pb.CapturePointsHoldRequest(hold_id=""), "hold_id", "required"),
        (pb.CapturePointsHoldRequest(hold_id="h", points="x"), "points", "positive"),
        (pb.CapturePointsHoldRequest(hold_id="h", reason="r" * 513), "reason", "512"),
        (pb.ReleasePointsHoldRequest(hold_id="h\n"), "hold_id", "white space"),
        (pb.GetPointsHoldRequest(hold_id="\x00"), "hold_id", "NUL"),
        (pb.ListPointsHoldsRequest(customer_id="c", page_size=-1), "page_size", "negative"),
        (pb.ListPointsHoldsRequest(customer_id="c", page_token="bogus"), "page_token", "invalid"),
        (
            pb.EarnOrderPointsRequest(customer_id="c", order_id="", points="1"),
            "order_id",
            "required",
        ),
        (
            pb.EarnOrderPointsRequest(customer_id="c", order_id="o", points="+5"),
            "points",
            "positive",
        ),
        (
            pb.EarnOrderPointsRequest(customer_id="c", order_id="o ", points="5"),
            "order_id",
            "white space",
        ),
        (
            pb.ReverseOrderPointsRequest(customer_id="c", order_id="o"),
            "idempotency_key",
            "required",
        ),
        (
            pb.ReverseOrderPointsRequest(
                customer_id="c", order_id="o", points="-1", idempotency_key="k"
            ),
            "points",
            "positive",
        ),
        (pb.GetOrderPointsRequest(customer_id="c", order_id="o\x7f"), "order_id", "control"),
    ],
)
def test_bad_input_is_invalid_argument_naming_the_field(
    stub: LoyaltyServiceStub, request_: object, field: str, text: str
) -> None:
    method = {
        pb.HoldPointsRequest: stub.HoldPoints,
        pb.CapturePointsHoldRequest: stub.CapturePointsHold,
        pb.ReleasePointsHoldRequest: stub.ReleasePointsHold,
        pb.GetPointsHoldRequest: stub.GetPointsHold,
        pb.ListPointsHoldsRequest: stub.ListPointsHolds,
        pb.EarnOrderPointsRequest: stub.EarnOrderPoints,
        pb.ReverseOrderPointsRequest: stub.ReverseOrderPoints,
        pb.GetOrderPointsRequest: stub.GetOrderPoints,
    }[type(request_)]
    error = expect_error(method, request_, INVALID)
    assert error.reason == "INVALID_DATA" and field in error.violations, error
    assert text in error.violations[field], error.violations


def test_unknown_hold_is_not_found(stub: LoyaltyServiceStub, uid: str) -> None:
    for method, request in [
        (stub.GetPointsHold, pb.GetPointsHoldRequest(hold_id=f"phold_{uid}")),
        (stub.CapturePointsHold, pb.CapturePointsHoldRequest(hold_id=f"phold_{uid}")),
        (stub.ReleasePointsHold, pb.ReleasePointsHoldRequest(hold_id=f"phold_{uid}")),
    ]:
        error = expect_error(method, request, grpc.StatusCode.NOT_FOUND)
        assert error.message == f"Points hold with id: phold_{uid} was not found"
