"""Loyalty points over gRPC, against the real server on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import grpc
import pytest
from helpers import expect_error

from loyalty.v1 import loyalty_pb2 as pb
from loyalty.v1.loyalty_pb2_grpc import LoyaltyServiceStub

INVALID = grpc.StatusCode.INVALID_ARGUMENT


def adjust(
    stub: LoyaltyServiceStub, customer: str, delta: str, **kw: object
) -> pb.AdjustPointsResponse:
    return stub.AdjustPoints(
        pb.AdjustPointsRequest(customer_id=customer, delta=delta, **kw), timeout=10
    )


def balance(stub: LoyaltyServiceStub, customer: str) -> str:
    return stub.GetPointsBalance(
        pb.GetPointsBalanceRequest(customer_id=customer), timeout=10
    ).balance


def test_welcome_bonus_then_redeem_with_history(stub: LoyaltyServiceStub, uid: str) -> None:
    customer = f"cus_{uid}"
    first = adjust(stub, customer, "100", reason="Welcome bonus")
    assert first.id.startswith("adj_") and len(first.id) == 30
    assert (first.customer_id, first.balance_after) == (customer, "100")
    assert not first.history

    second = adjust(stub, customer, "-50", reason="Redeemed for discount", include_history=True)
    assert second.balance_after == "50"
    assert [(h.id, h.delta, h.reason, h.balance_after) for h in second.history] == [
        (second.id, "-50", "Redeemed for discount", "50"),
        (first.id, "100", "Welcome bonus", "100"),
    ]
    assert second.history[0].created_at == second.updated_at
    assert second.updated_at.ToDatetime() >= first.updated_at.ToDatetime()


def test_overdraft_is_refused_and_changes_nothing(stub: LoyaltyServiceStub, uid: str) -> None:
    customer = f"cus_{uid}"
    adjust(stub, customer, "50")
    error = expect_error(
        stub.AdjustPoints,
        pb.AdjustPointsRequest(customer_id=customer, delta="-60"),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert error.reason == "NOT_ALLOWED"
    assert "insufficient points" in error.message
    assert balance(stub, customer) == "50"
    page = stub.ListPointAdjustments(pb.ListPointAdjustmentsRequest(customer_id=customer))
    assert len(page.point_adjustments) == 1


def test_first_adjustment_cannot_be_negative(stub: LoyaltyServiceStub, uid: str) -> None:
    expect_error(
        stub.AdjustPoints,
        pb.AdjustPointsRequest(customer_id=f"cus_{uid}", delta="-1"),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert balance(stub, f"cus_{uid}") == "0"


@pytest.mark.parametrize(
    "delta",
    [
        "",
        "0",
        "-0",
        "0.000",
        "abc",
        "NaN",
        "nan",
        "Infinity",
        "-inf",
        "1e3",
        "1E+2",
        " 5",
        "5 ",
        "+5",
        "1,000",
        "0x10",
        "1.1234567",
        "1000000000000000",
        "-1000000000000000",
        "٣",
        "1_000",
        "--1",
        ".",
        "-",
    ],
)
def test_invalid_deltas(stub: LoyaltyServiceStub, uid: str, delta: str) -> None:
    error = expect_error(
        stub.AdjustPoints, pb.AdjustPointsRequest(customer_id=f"cus_{uid}", delta=delta), INVALID
    )
    assert error.reason == "INVALID_DATA"
    assert error.message.startswith("delta must be a non-zero number")
    assert "delta" in error.violations
    assert balance(stub, f"cus_{uid}") == "0"


def test_exact_decimals(stub: LoyaltyServiceStub, uid: str) -> None:
    customer = f"cus_{uid}"
    for delta in ["0.1", "0.2", "0.000001", "999999999999999.999999", "-0.300001"]:
        adjust(stub, customer, delta)
    expected = (
        Decimal("0.1")
        + Decimal("0.2")
        + Decimal("0.000001")
        + Decimal("999999999999999.999999")
        - Decimal("0.300001")
    )
    assert Decimal(balance(stub, customer)) == expected
    assert balance(stub, customer) == "999999999999999.999999"
    # Trailing zeros are not precision: 1.5000000 is 1.5.
    assert adjust(stub, customer, "1.5000000").balance_after == "1000000000000001.499999"


def test_missing_and_oversized_fields(stub: LoyaltyServiceStub) -> None:
    error = expect_error(stub.AdjustPoints, pb.AdjustPointsRequest(delta="5"), INVALID)
    assert error.violations == {"customer_id": "customer_id is required"}
    error = expect_error(
        stub.AdjustPoints,
        pb.AdjustPointsRequest(customer_id="x" * 256, delta="5", reason="r" * 513),
        INVALID,
    )
    assert set(error.violations) == {"customer_id", "reason"}
    error = expect_error(
        stub.AdjustPoints, pb.AdjustPointsRequest(customer_id="a\x00b", delta="5"), INVALID
    )
    assert "NUL" in error.violations["customer_id"]


def test_balance_of_unknown_customer_is_zero(stub: LoyaltyServiceStub, uid: str) -> None:
    reply = stub.GetPointsBalance(
        pb.GetPointsBalanceRequest(customer_id=f"nobody_{uid}", include_history=True)
    )
    assert reply.balance == "0" and not reply.history and not reply.HasField("updated_at")


def test_balance_read_changes_nothing(stub: LoyaltyServiceStub, uid: str) -> None:
    customer = f"cus_{uid}"
    adjust(stub, customer, "7", reason="a")
    for _ in range(3):
        reply = stub.GetPointsBalance(
            pb.GetPointsBalanceRequest(customer_id=customer, include_history=True)
        )
    assert reply.balance == "7" and len(reply.history) == 1


def test_history_is_capped_at_20_newest_first(stub: LoyaltyServiceStub, uid: str) -> None:
    customer = f"cus_{uid}"
    ids = [adjust(stub, customer, "1", reason=f"r{i}").id for i in range(24)]
    last = adjust(stub, customer, "1", reason="last", include_history=True)
    assert len(last.history) == 20
    assert [h.id for h in last.history] == [last.id, *reversed(ids[-19:])]
    assert [h.balance_after for h in last.history] == [str(25 - i) for i in range(20)]


def test_list_adjustments_pages_through_everything(stub: LoyaltyServiceStub, uid: str) -> None:
    customer = f"cus_{uid}"
    ids = [adjust(stub, customer, str(i + 1)).id for i in range(12)]
    seen, token, pages = [], "", 0
    while True:
        page = stub.ListPointAdjustments(
            pb.ListPointAdjustmentsRequest(customer_id=customer, page_size=5, page_token=token)
        )
        seen += [a.id for a in page.point_adjustments]
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert seen == list(reversed(ids)) and pages == 3
    everything = stub.ListPointAdjustments(pb.ListPointAdjustmentsRequest(customer_id=customer))
    assert len(everything.point_adjustments) == 12 and everything.next_page_token == ""


def test_list_adjustments_bad_paging(stub: LoyaltyServiceStub, uid: str) -> None:
    error = expect_error(
        stub.ListPointAdjustments,
        pb.ListPointAdjustmentsRequest(customer_id=f"cus_{uid}", page_size=-1),
        INVALID,
    )
    assert "page_size" in error.violations
    for token in ["garbage", "djE6YWJjOjE"]:
        expect_error(
            stub.ListPointAdjustments,
            pb.ListPointAdjustmentsRequest(customer_id=f"cus_{uid}", page_token=token),
            INVALID,
        )
    # A token from one customer's list is refused on another's.
    customer = f"cus_{uid}_a"
    for _ in range(3):
        adjust(stub, customer, "1")
    token = stub.ListPointAdjustments(
        pb.ListPointAdjustmentsRequest(customer_id=customer, page_size=1)
    ).next_page_token
    assert token
    expect_error(
        stub.ListPointAdjustments,
        pb.ListPointAdjustmentsRequest(customer_id=f"cus_{uid}_b", page_token=token),
        INVALID,
    )


def test_huge_page_size_is_capped(stub: LoyaltyServiceStub, uid: str) -> None:
    customer = f"cus_{uid}"
    for _ in range(3):
        adjust(stub, customer, "1")
    reply = stub.ListPointAdjustments(
        pb.ListPointAdjustmentsRequest(customer_id=customer, page_size=2_000_000_000)
    )
    assert len(reply.point_adjustments) == 3 and reply.next_page_token == ""


def test_idempotency_key_replays_first_result(stub: LoyaltyServiceStub, uid: str) -> None:
    customer = f"cus_{uid}"
    first = adjust(stub, customer, "10", reason="order 1", idempotency_key="k1")
    again = adjust(stub, customer, "10", reason="order 1", idempotency_key="k1")
    assert again.id == first.id and again.balance_after == "10"
    assert again.replayed and not first.replayed
    assert balance(stub, customer) == "10"
    # The same key on another customer is another operation.
    other = adjust(stub, f"{customer}_2", "10", reason="order 1", idempotency_key="k1")
    assert other.id != first.id


def test_idempotency_key_with_other_body_conflicts(stub: LoyaltyServiceStub, uid: str) -> None:
    customer = f"cus_{uid}"
    adjust(stub, customer, "10", reason="order 1", idempotency_key="k1")
    for changed in [{"delta": "11"}, {"reason": "order 2"}]:
        request = pb.AdjustPointsRequest(
            customer_id=customer, delta="10", reason="order 1", idempotency_key="k1"
        )
        for name, value in changed.items():
            setattr(request, name, value)
        error = expect_error(stub.AdjustPoints, request, grpc.StatusCode.FAILED_PRECONDITION)
        assert (
            error.reason == "CONFLICT" and "already used with a different request" in error.message
        )
    assert balance(stub, customer) == "10"


def test_batch_adjust_all_or_nothing(stub: LoyaltyServiceStub, uid: str) -> None:
    a, b = f"cus_{uid}_a", f"cus_{uid}_b"
    reply = stub.BatchAdjustPoints(
        pb.BatchAdjustPointsRequest(
            adjustments=[
                pb.BatchAdjustPointsItem(customer_id=a, delta="10", reason="import"),
                pb.BatchAdjustPointsItem(customer_id=b, delta="5"),
                pb.BatchAdjustPointsItem(customer_id=a, delta="-3", idempotency_key="x"),
            ]
        )
    )
    assert [r.balance_after for r in reply.adjustments] == ["10", "5", "7"]
    # One refused item (overdraft) rolls back the whole batch.
    error = expect_error(
        stub.BatchAdjustPoints,
        pb.BatchAdjustPointsRequest(
            adjustments=[
                pb.BatchAdjustPointsItem(customer_id=a, delta="100"),
                pb.BatchAdjustPointsItem(customer_id=b, delta="-6"),
            ]
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert error.message.startswith("adjustments[1]: insufficient points")
    assert (balance(stub, a), balance(stub, b)) == ("7", "5")
    error = expect_error(
        stub.BatchAdjustPoints,
        pb.BatchAdjustPointsRequest(
            adjustments=[
                pb.BatchAdjustPointsItem(customer_id=a, delta="1"),
                pb.BatchAdjustPointsItem(customer_id="", delta="zero"),
            ]
        ),
        INVALID,
    )
    assert set(error.violations) == {"adjustments[1].customer_id", "adjustments[1].delta"}
    expect_error(stub.BatchAdjustPoints, pb.BatchAdjustPointsRequest(), INVALID)
    assert balance(stub, a) == "7"


def test_negative_balances_when_allowed(start_server, uid: str) -> None:  # type: ignore[no-untyped-def]
    server = start_server(allow_negative_balances=True)
    with server.channel() as channel:
        stub = LoyaltyServiceStub(channel)
        assert adjust(stub, f"cus_{uid}", "-5").balance_after == "-5"


def test_undecodable_request_is_invalid_argument(channel: grpc.Channel) -> None:
    # A string field carrying invalid UTF-8 cannot be parsed as the proto.
    call = channel.unary_unary("/loyalty.v1.LoyaltyService/AdjustPoints")
    bad = b"\x0a\x02\xff\xfe\x12\x01\x31"  # customer_id = b"\xff\xfe", delta = "1"
    with pytest.raises(grpc.RpcError) as raised:
        call(bad, timeout=10)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_batch_says_which_items_were_replays(stub: LoyaltyServiceStub, uid: str) -> None:
    """A re-sent batch answers each keyed item with its first entry and says so per
    item (the CLI's re-import count rests on this, not on clocks)."""
    customer = f"cus_{uid}"

    def batch(*items: tuple[str, str]) -> pb.BatchAdjustPointsResponse:
        response: pb.BatchAdjustPointsResponse = stub.BatchAdjustPoints(
            pb.BatchAdjustPointsRequest(
                adjustments=[
                    pb.BatchAdjustPointsItem(customer_id=customer, delta=d, idempotency_key=k)
                    for d, k in items
                ]
            ),
            timeout=10,
        )
        return response

    first = batch(("5", "a"), ("7", "b"))
    assert list(first.replayed) == [False, False]
    again = batch(("5", "a"), ("3", ""), ("7", "b"), ("1", "c"))
    assert list(again.replayed) == [True, False, True, False]
    assert again.adjustments[0] == first.adjustments[0]
    assert again.adjustments[2] == first.adjustments[1]
    assert again.adjustments[3].balance_after == "16"  # 5 + 7 + 3 + 1: replays add nothing
