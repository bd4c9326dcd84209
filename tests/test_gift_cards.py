"""Gift cards over gRPC, against the real server on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf import field_mask_pb2, struct_pb2, timestamp_pb2
from helpers import expect_error

from loyalty.v1 import loyalty_pb2 as pb
from loyalty.v1.loyalty_pb2_grpc import LoyaltyServiceStub

INVALID = grpc.StatusCode.INVALID_ARGUMENT
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
PENDING, REDEEMED = pb.GIFT_CARD_STATUS_PENDING, pb.GIFT_CARD_STATUS_REDEEMED


def ts(value: datetime) -> timestamp_pb2.Timestamp:
    t = timestamp_pb2.Timestamp()
    t.FromDatetime(value)
    return t


def create(stub: LoyaltyServiceStub, **fields: object) -> pb.GiftCard:
    fields.setdefault("value", "50")
    fields.setdefault("currency_code", "usd")
    reply = stub.CreateGiftCards(
        pb.CreateGiftCardsRequest(gift_cards=[pb.CreateGiftCardInput(**fields)]), timeout=10
    )
    return reply.gift_cards[0]


def debit(stub: LoyaltyServiceStub, amount: str, **kw: object) -> pb.DebitGiftCardResponse:
    kw.setdefault("currency_code", "usd")
    return stub.DebitGiftCard(pb.DebitGiftCardRequest(amount=amount, **kw), timeout=10)


def credit(stub: LoyaltyServiceStub, amount: str, **kw: object) -> pb.CreditGiftCardResponse:
    kw.setdefault("currency_code", "usd")
    return stub.CreditGiftCard(pb.CreditGiftCardRequest(amount=amount, **kw), timeout=10)


def test_create_with_all_fields(stub: LoyaltyServiceStub, uid: str) -> None:
    metadata = struct_pb2.Struct()
    metadata.update({"campaign": "spring", "n": 2})
    expires = datetime(2031, 1, 2, 3, 4, 5, tzinfo=UTC)
    card = create(
        stub,
        code=f"test-code-{uid}",
        value="50.25",
        currency_code="USD",
        customer_id="customer_123",
        reference_id="order_123",
        reference="order",
        line_item_id="litem_123",
        note="thanks",
        expires_at=ts(expires),
        metadata=metadata,
    )
    assert re.fullmatch(r"gcard_[0-9A-Z]{26}", card.id)
    assert (card.code, card.value, card.balance, card.currency_code) == (
        f"test-code-{uid}",
        "50.25",
        "50.25",
        "usd",
    )
    assert card.status == PENDING
    assert (card.customer_id, card.reference_id, card.reference, card.line_item_id, card.note) == (
        "customer_123",
        "order_123",
        "order",
        "litem_123",
        "thanks",
    )
    assert card.expires_at.ToDatetime(tzinfo=UTC) == expires
    assert dict(card.metadata) == {"campaign": "spring", "n": 2.0}
    assert not card.HasField("deleted_at")
    fetched = stub.RetrieveGiftCard(pb.RetrieveGiftCardRequest(id=card.id))
    assert fetched == card
    assert stub.RetrieveGiftCard(pb.RetrieveGiftCardRequest(code=card.code)) == card


def test_create_without_code_generates_one(stub: LoyaltyServiceStub) -> None:
    options = stub.GetOptions(pb.GetOptionsRequest())
    assert (options.prefix, options.sections) == ("GIFT", 4)
    card = create(stub)
    assert re.fullmatch(r"GIFT(-[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{4}){4}", card.code), card.code
    assert not card.HasField("customer_id") and not card.HasField("note")
    assert not card.HasField("expires_at") and not card.HasField("metadata")


def test_code_settings(start_server) -> None:  # type: ignore[no-untyped-def]
    server = start_server(gift_card_code_prefix="XMAS", gift_card_code_sections=2)
    with server.channel() as channel:
        stub = LoyaltyServiceStub(channel)
        assert stub.GetOptions(pb.GetOptionsRequest()).prefix == "XMAS"
        assert re.fullmatch(r"XMAS-\w{4}-\w{4}", create(stub).code)


def test_create_batch_is_all_or_nothing(stub: LoyaltyServiceStub, uid: str) -> None:
    existing = create(stub, code=f"dup-{uid}")
    error = expect_error(
        stub.CreateGiftCards,
        pb.CreateGiftCardsRequest(
            gift_cards=[
                pb.CreateGiftCardInput(code=f"new-{uid}", value="5", currency_code="usd"),
                pb.CreateGiftCardInput(code=existing.code, value="5", currency_code="usd"),
            ]
        ),
        grpc.StatusCode.ALREADY_EXISTS,
    )
    assert error.reason == "DUPLICATE_ERROR" and existing.code in error.message
    expect_error(
        stub.RetrieveGiftCard,
        pb.RetrieveGiftCardRequest(code=f"new-{uid}"),
        grpc.StatusCode.NOT_FOUND,
    )
    # Two equal codes inside one request are a duplicate too.
    error = expect_error(
        stub.CreateGiftCards,
        pb.CreateGiftCardsRequest(
            gift_cards=[pb.CreateGiftCardInput(code=f"twice-{uid}", value="5", currency_code="usd")]
            * 2
        ),
        grpc.StatusCode.ALREADY_EXISTS,
    )
    assert f"twice-{uid}" in error.message


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"value": "0"}, "value"),
        ({"value": "-5"}, "value"),
        ({"value": "abc"}, "value"),
        ({"value": ""}, "value"),
        ({"value": "1.0000001"}, "value"),
        ({"currency_code": "usdollar"}, "currency_code"),
        ({"currency_code": "xyz"}, "currency_code"),
        ({"currency_code": ""}, "currency_code"),
        ({"code": "has space"}, "code"),
        ({"code": "x" * 65}, "code"),
        ({"code": "-leading"}, "code"),
        ({"note": "n" * 2001}, "note"),
        ({"customer_id": "c" * 256}, "customer_id"),
        ({"status": 7}, "status"),
        ({"expires_at": timestamp_pb2.Timestamp(seconds=-(10**12))}, "expires_at"),
    ],
)
def test_create_rejects_bad_fields(
    stub: LoyaltyServiceStub, fields: dict[str, object], field: str
) -> None:
    values: dict[str, object] = {"value": "10", "currency_code": "usd", **fields}
    error = expect_error(
        stub.CreateGiftCards,
        pb.CreateGiftCardsRequest(gift_cards=[pb.CreateGiftCardInput(**values)]),
        INVALID,
    )
    assert error.reason == "INVALID_DATA"
    assert f"gift_cards[0].{field}" in error.violations, error.violations


def test_create_limits(stub: LoyaltyServiceStub) -> None:
    expect_error(stub.CreateGiftCards, pb.CreateGiftCardsRequest(), INVALID)
    big = struct_pb2.Struct()
    big.update({"blob": "x" * 20000})
    error = expect_error(
        stub.CreateGiftCards,
        pb.CreateGiftCardsRequest(
            gift_cards=[pb.CreateGiftCardInput(value="1", currency_code="usd", metadata=big)]
        ),
        INVALID,
    )
    assert "gift_cards[0].metadata" in error.violations


def test_retrieve_missing_uses_medusa_wording(stub: LoyaltyServiceStub) -> None:
    error = expect_error(
        stub.RetrieveGiftCard,
        pb.RetrieveGiftCardRequest(id="gcard_nope"),
        grpc.StatusCode.NOT_FOUND,
    )
    assert error.message == "Gift card with id: gcard_nope was not found"
    assert error.reason == "NOT_FOUND"
    expect_error(stub.RetrieveGiftCard, pb.RetrieveGiftCardRequest(), INVALID)


def test_list_filters_count_paging_and_order(stub: LoyaltyServiceStub, uid: str) -> None:
    ref = f"order_{uid}"
    cards = [
        create(
            stub,
            value=str(v),
            currency_code=c,
            reference_id=ref,
            reference="order",
            customer_id=cust,
            note=f"note {uid} {i}",
        )
        for i, (v, c, cust) in enumerate(
            [("5", "usd", "a"), ("50", "eur", "b"), ("20", "usd", "a"), ("9.5", "usd", "c")]
        )
    ]
    listing = stub.ListGiftCards(pb.ListGiftCardsRequest(reference_id=[ref], with_count=True))
    assert [c.id for c in listing.gift_cards] == [c.id for c in cards] and listing.count == 4
    usd = stub.ListGiftCards(
        pb.ListGiftCardsRequest(reference_id=[ref], currency_code=["USD"], order="value DESC")
    )
    assert [c.value for c in usd.gift_cards] == ["20", "9.5", "5"]
    page = stub.ListGiftCards(
        pb.ListGiftCardsRequest(
            reference_id=[ref], skip=1, take=2, with_count=True, order="created_at ASC"
        )
    )
    assert [c.id for c in page.gift_cards] == [cards[1].id, cards[2].id] and page.count == 4
    by_customer = stub.ListGiftCards(
        pb.ListGiftCardsRequest(reference_id=[ref], customer_id=["a", "c"])
    )
    assert len(by_customer.gift_cards) == 3
    assert stub.ListGiftCards(pb.ListGiftCardsRequest(reference_id=[ref])).count == 0
    q = stub.ListGiftCards(pb.ListGiftCardsRequest(q=f"NOTE {uid} 3"))
    assert [c.id for c in q.gift_cards] == [cards[3].id]
    by_code = stub.ListGiftCards(pb.ListGiftCardsRequest(code=[cards[0].code], id=[cards[0].id]))
    assert [c.id for c in by_code.gift_cards] == [cards[0].id]
    # LIKE wildcards in q are literal.
    assert not stub.ListGiftCards(pb.ListGiftCardsRequest(q=f"note_{uid}%")).gift_cards
    # A filter value longer than its column matches nothing: never a cut-down copy of it.
    usd_and_more = pb.ListGiftCardsRequest(reference_id=[ref], currency_code=["usdx"])
    assert not stub.ListGiftCards(usd_and_more).gift_cards


def test_list_default_take_is_15(stub: LoyaltyServiceStub, uid: str) -> None:
    ref = f"bulk_{uid}"
    stub.CreateGiftCards(
        pb.CreateGiftCardsRequest(
            gift_cards=[
                pb.CreateGiftCardInput(value="1", currency_code="usd", reference_id=ref)
                for _ in range(17)
            ]
        )
    )
    reply = stub.ListGiftCards(pb.ListGiftCardsRequest(reference_id=[ref], with_count=True))
    assert len(reply.gift_cards) == 15 and reply.count == 17


@pytest.mark.parametrize(
    ("request_fields", "field"),
    [
        ({"take": -1}, "take"),
        ({"take": 1001}, "take"),
        ({"skip": -1}, "skip"),
        ({"order": "value SIDEWAYS"}, "order"),
        ({"order": "password DESC"}, "order"),
        ({"order": "created_at; DROP TABLE gift_cards"}, "order"),
        ({"status": [9]}, "status"),
    ],
)
def test_list_rejects_bad_arguments(
    stub: LoyaltyServiceStub, request_fields: dict[str, object], field: str
) -> None:
    error = expect_error(stub.ListGiftCards, pb.ListGiftCardsRequest(**request_fields), INVALID)
    assert field in error.violations


def test_update_partial_and_clear(stub: LoyaltyServiceStub, uid: str) -> None:
    card = create(
        stub, note="keep", customer_id="c1", expires_at=ts(datetime(2030, 1, 1, tzinfo=UTC))
    )
    reply = stub.UpdateGiftCards(
        pb.UpdateGiftCardsRequest(gift_cards=[pb.UpdateGiftCardInput(id=card.id, note="changed")])
    )
    updated = reply.gift_cards[0]
    assert updated.note == "changed" and updated.customer_id == "c1"
    assert (
        updated.HasField("expires_at")
        and updated.updated_at.ToDatetime() >= card.updated_at.ToDatetime()
    )
    cleared = stub.UpdateGiftCards(
        pb.UpdateGiftCardsRequest(
            gift_cards=[
                pb.UpdateGiftCardInput(
                    id=card.id,
                    customer_id="c2",
                    update_mask=field_mask_pb2.FieldMask(
                        paths=["expires_at", "customer_id", "note"]
                    ),
                )
            ]
        )
    ).gift_cards[0]
    assert not cleared.HasField("expires_at") and not cleared.HasField("note")
    assert cleared.customer_id == "c2"
    assert stub.RetrieveGiftCard(pb.RetrieveGiftCardRequest(id=card.id)) == cleared


def test_update_value_moves_balance_and_status(stub: LoyaltyServiceStub) -> None:
    card = create(stub, value="50")
    debit(stub, "30", id=card.id)
    raised = stub.UpdateGiftCards(
        pb.UpdateGiftCardsRequest(gift_cards=[pb.UpdateGiftCardInput(id=card.id, value="80")])
    ).gift_cards[0]
    assert (raised.value, raised.balance) == ("80", "50")
    error = expect_error(
        stub.UpdateGiftCards,
        pb.UpdateGiftCardsRequest(gift_cards=[pb.UpdateGiftCardInput(id=card.id, value="20")]),
        PRECONDITION,
    )
    assert "already spent" in error.message
    lowered = stub.UpdateGiftCards(
        pb.UpdateGiftCardsRequest(gift_cards=[pb.UpdateGiftCardInput(id=card.id, value="30")])
    ).gift_cards[0]
    assert (lowered.balance, lowered.status) == ("0", REDEEMED)
    error = expect_error(
        stub.UpdateGiftCards,
        pb.UpdateGiftCardsRequest(
            gift_cards=[pb.UpdateGiftCardInput(id=card.id, currency_code="eur")]
        ),
        PRECONDITION,
    )
    assert "currency_code cannot change" in error.message


def test_update_is_atomic_and_checks_ids(stub: LoyaltyServiceStub) -> None:
    card = create(stub, note="before")
    error = expect_error(
        stub.UpdateGiftCards,
        pb.UpdateGiftCardsRequest(
            gift_cards=[
                pb.UpdateGiftCardInput(id=card.id, note="after"),
                pb.UpdateGiftCardInput(id="gcard_missing", note="x"),
            ]
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    assert error.message == "Gift card with id: gcard_missing was not found"
    assert stub.RetrieveGiftCard(pb.RetrieveGiftCardRequest(id=card.id)).note == "before"
    error = expect_error(
        stub.UpdateGiftCards,
        pb.UpdateGiftCardsRequest(
            gift_cards=[
                pb.UpdateGiftCardInput(
                    id=card.id, update_mask=field_mask_pb2.FieldMask(paths=["value", "bogus"])
                )
            ]
        ),
        INVALID,
    )
    assert "gift_cards[0].update_mask" in error.violations


def test_soft_delete_restore_and_delete(stub: LoyaltyServiceStub, uid: str) -> None:
    card = create(stub, reference_id=f"sd_{uid}")
    debit(stub, "1", id=card.id)
    soft = stub.SoftDeleteGiftCards(pb.SoftDeleteGiftCardsRequest(ids=[card.id, "gcard_x"]))
    assert list(soft.ids) == [card.id]
    expect_error(
        stub.RetrieveGiftCard, pb.RetrieveGiftCardRequest(id=card.id), grpc.StatusCode.NOT_FOUND
    )
    expect_error(
        stub.DebitGiftCard,
        pb.DebitGiftCardRequest(id=card.id, amount="1", currency_code="usd"),
        grpc.StatusCode.NOT_FOUND,
    )
    assert not stub.ListGiftCards(pb.ListGiftCardsRequest(reference_id=[f"sd_{uid}"])).gift_cards
    with_deleted = stub.ListGiftCards(
        pb.ListGiftCardsRequest(reference_id=[f"sd_{uid}"], with_deleted=True)
    ).gift_cards
    assert [c.id for c in with_deleted] == [card.id] and with_deleted[0].HasField("deleted_at")
    assert list(stub.RestoreGiftCards(pb.RestoreGiftCardsRequest(ids=[card.id])).ids) == [card.id]
    restored = stub.RetrieveGiftCard(pb.RetrieveGiftCardRequest(id=card.id))
    assert restored.balance == "49" and not restored.HasField("deleted_at")
    assert list(stub.DeleteGiftCards(pb.DeleteGiftCardsRequest(ids=[card.id])).ids) == [card.id]
    expect_error(
        stub.RetrieveGiftCard, pb.RetrieveGiftCardRequest(id=card.id), grpc.StatusCode.NOT_FOUND
    )
    assert not stub.DeleteGiftCards(pb.DeleteGiftCardsRequest(ids=[card.id])).ids
    # The code is free again after a hard delete.
    assert create(stub, code=card.code).code == card.code


def test_debit_until_redeemed(stub: LoyaltyServiceStub) -> None:
    card = create(stub, value="20")
    first = debit(stub, "12.5", code=card.code, reference="order", reference_id="order_1")
    assert (first.balance, first.status) == ("7.5", PENDING)
    tx = first.transaction
    assert tx.id.startswith("gctx_") and tx.type == pb.GIFT_CARD_TRANSACTION_TYPE_DEBIT
    assert (tx.amount, tx.balance_after, tx.reference_id, tx.gift_card_id) == (
        "12.5",
        "7.5",
        "order_1",
        card.id,
    )
    error = expect_error(
        stub.DebitGiftCard,
        pb.DebitGiftCardRequest(id=card.id, amount="8", currency_code="usd"),
        PRECONDITION,
    )
    assert error.reason == "NOT_ALLOWED" and "insufficient gift card balance" in error.message
    last = debit(stub, "7.5", id=card.id)
    assert (last.balance, last.status) == ("0", REDEEMED)
    assert stub.RetrieveGiftCard(pb.RetrieveGiftCardRequest(id=card.id)).status == REDEEMED
    error = expect_error(
        stub.DebitGiftCard,
        pb.DebitGiftCardRequest(id=card.id, amount="1", currency_code="usd"),
        PRECONDITION,
    )
    assert "redeemed" in error.message
    # A refund puts it back in play, up to the card's value.
    refund = credit(stub, "5", id=card.id, reference="refund")
    assert (refund.balance, refund.status) == ("5", PENDING)
    assert refund.transaction.type == pb.GIFT_CARD_TRANSACTION_TYPE_CREDIT
    error = expect_error(
        stub.CreditGiftCard,
        pb.CreditGiftCardRequest(id=card.id, amount="15.01", currency_code="usd"),
        PRECONDITION,
    )
    assert "above its value" in error.message
    txs = stub.ListGiftCardTransactions(
        pb.ListGiftCardTransactionsRequest(gift_card_id=card.id, page_size=2)
    )
    assert [t.amount for t in txs.gift_card_transactions] == ["5", "7.5"] and txs.next_page_token
    rest = stub.ListGiftCardTransactions(
        pb.ListGiftCardTransactionsRequest(gift_card_id=card.id, page_token=txs.next_page_token)
    )
    assert [t.amount for t in rest.gift_card_transactions] == ["12.5"]
    assert rest.next_page_token == ""


def test_debit_refusals(stub: LoyaltyServiceStub) -> None:
    expired = create(stub, expires_at=ts(datetime.now(UTC) - timedelta(seconds=1)))
    error = expect_error(
        stub.DebitGiftCard,
        pb.DebitGiftCardRequest(id=expired.id, amount="1", currency_code="usd"),
        PRECONDITION,
    )
    assert "expired" in error.message
    card = create(stub)
    error = expect_error(
        stub.DebitGiftCard,
        pb.DebitGiftCardRequest(id=card.id, amount="1", currency_code="eur"),
        PRECONDITION,
    )
    assert "is in usd, not eur" in error.message
    manual = create(stub, status=REDEEMED)
    expect_error(
        stub.DebitGiftCard,
        pb.DebitGiftCardRequest(id=manual.id, amount="1", currency_code="usd"),
        PRECONDITION,
    )
    for bad in [{"amount": "0"}, {"amount": "-1"}, {"amount": "1e2"}, {"currency_code": "zzz"}]:
        values = {"id": card.id, "amount": "1", "currency_code": "usd", **bad}
        error = expect_error(stub.DebitGiftCard, pb.DebitGiftCardRequest(**values), INVALID)
        assert set(error.violations) <= {"amount", "currency_code"} and error.violations
    expect_error(
        stub.DebitGiftCard,
        pb.DebitGiftCardRequest(code="nope-nope", amount="1", currency_code="usd"),
        grpc.StatusCode.NOT_FOUND,
    )
    expect_error(
        stub.DebitGiftCard, pb.DebitGiftCardRequest(amount="1", currency_code="usd"), INVALID
    )
    assert stub.RetrieveGiftCard(pb.RetrieveGiftCardRequest(id=card.id)).balance == "50"
    expect_error(
        stub.ListGiftCardTransactions,
        pb.ListGiftCardTransactionsRequest(gift_card_id="gcard_none"),
        grpc.StatusCode.NOT_FOUND,
    )


def test_debit_idempotency(stub: LoyaltyServiceStub) -> None:
    card = create(stub, value="10")
    first = debit(stub, "4", id=card.id, idempotency_key="pay-1")
    again = debit(stub, "4", code=card.code, idempotency_key="pay-1")
    assert again.transaction.id == first.transaction.id and again.balance == "6"
    assert again.replayed and not first.replayed
    assert stub.RetrieveGiftCard(pb.RetrieveGiftCardRequest(id=card.id)).balance == "6"
    error = expect_error(
        stub.DebitGiftCard,
        pb.DebitGiftCardRequest(
            id=card.id, amount="5", currency_code="usd", idempotency_key="pay-1"
        ),
        PRECONDITION,
    )
    assert error.reason == "CONFLICT"
    # A credit may not reuse a debit's key either.
    error = expect_error(
        stub.CreditGiftCard,
        pb.CreditGiftCardRequest(
            id=card.id, amount="4", currency_code="usd", idempotency_key="pay-1"
        ),
        PRECONDITION,
    )
    assert error.reason == "CONFLICT"
