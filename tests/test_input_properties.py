"""Random input against the real server: every answer is OK or a clean INVALID_ARGUMENT
(with a field violation) or a rule refusal, never INTERNAL or UNKNOWN."""

from __future__ import annotations

import uuid

import grpc
from google.protobuf import struct_pb2, timestamp_pb2
from helpers import rich_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty.v1 import loyalty_pb2 as pb
from loyalty.v1.loyalty_pb2_grpc import LoyaltyServiceStub

ALLOWED = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS,
}
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
nasty_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "'; DROP TABLE gift_cards; --",
            "%",
            "_",
            "\\",
            "\x00",
            "a\x00b",
            "x" * 300,
            "🎁" * 70,
            "Robert'); --",
            "1e9",
            "NaN",
            "-0",
        ]
    ),
)
decimal_text = st.one_of(
    nasty_text,
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers(min_value=-(10**17), max_value=10**17).map(str),
)


def call(method, request):  # type: ignore[no-untyped-def]
    """Returns the reply or the unpacked error, asserting the error is a clean one."""
    try:
        return method(request, timeout=10)
    except grpc.RpcError as error:
        rich = rich_error(error)
        assert rich.code in ALLOWED, f"{rich.code}: {rich.message} for {request}"
        assert rich.domain == "loyalty.v1" and rich.reason
        if rich.code == grpc.StatusCode.INVALID_ARGUMENT:
            assert rich.violations, rich
        return rich


@SETTINGS
@given(customer=nasty_text, delta=decimal_text, reason=nasty_text, key=nasty_text)
def test_adjust_points_inputs(
    stub: LoyaltyServiceStub, customer: str, delta: str, reason: str, key: str
) -> None:
    call(
        stub.AdjustPoints,
        pb.AdjustPointsRequest(
            customer_id=customer, delta=delta, reason=reason, idempotency_key=key
        ),
    )
    call(stub.GetPointsBalance, pb.GetPointsBalanceRequest(customer_id=customer))


@SETTINGS
@given(
    code=st.one_of(st.none(), nasty_text),
    value=decimal_text,
    currency=st.one_of(nasty_text, st.sampled_from(["usd", "EUR", "jpy", "us", "usdd"])),
    note=st.one_of(st.none(), nasty_text, st.just("n" * 3000)),
    seconds=st.one_of(st.none(), st.integers(min_value=-(10**13), max_value=10**13)),
    metadata_size=st.sampled_from([0, 10, 20_000]),
)
def test_create_gift_card_inputs(
    stub: LoyaltyServiceStub,
    code: str | None,
    value: str,
    currency: str,
    note: str | None,
    seconds: int | None,
    metadata_size: int,
) -> None:
    card = pb.CreateGiftCardInput(value=value, currency_code=currency)
    if code is not None:
        card.code = code + uuid.uuid4().hex[:6] if code else code
    if note is not None:
        card.note = note
    if seconds is not None:
        card.expires_at.CopyFrom(timestamp_pb2.Timestamp(seconds=seconds))
    if metadata_size:
        metadata = struct_pb2.Struct()
        metadata.update({"k": "v" * metadata_size})
        card.metadata.CopyFrom(metadata)
    call(stub.CreateGiftCards, pb.CreateGiftCardsRequest(gift_cards=[card]))


@SETTINGS
@given(
    lookup=nasty_text,
    amount=decimal_text,
    currency=nasty_text,
    reference=nasty_text,
    by_code=st.booleans(),
)
def test_debit_inputs(
    stub: LoyaltyServiceStub, lookup: str, amount: str, currency: str, reference: str, by_code: bool
) -> None:
    request = pb.DebitGiftCardRequest(amount=amount, currency_code=currency, reference=reference)
    if by_code:
        request.code = lookup
    else:
        request.id = lookup
    call(stub.DebitGiftCard, request)


@SETTINGS
@given(
    filters=st.lists(nasty_text, max_size=3),
    q=nasty_text,
    order=st.one_of(nasty_text, st.sampled_from(["value desc", "code", "created_at DESC, id"])),
    skip=st.integers(min_value=-5, max_value=10**9),
    take=st.one_of(st.none(), st.integers(min_value=-5, max_value=5000)),
)
def test_list_gift_cards_inputs(
    stub: LoyaltyServiceStub, filters: list[str], q: str, order: str, skip: int, take: int | None
) -> None:
    request = pb.ListGiftCardsRequest(
        code=filters, customer_id=filters, q=q, order=order, skip=skip, with_count=True
    )
    if take is not None:
        request.take = take
    call(stub.ListGiftCards, request)
