"""LoyaltyClient against the real server: every method, paging, every error class."""

from __future__ import annotations

import pickle
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import grpc
import pytest

from loyalty_client import (
    NO_RETRY,
    UNSET,
    AdjustPointsResult,
    Conflict,
    Duplicate,
    GiftCard,
    GiftCardStatus,
    GiftCardUpdate,
    InvalidData,
    LoyaltyClient,
    LoyaltyError,
    NewGiftCard,
    NotAllowed,
    NotFound,
    Page,
    PointAdjustment,
    PointsAdjustmentInput,
    RetryPolicy,
    TransactionType,
    Unavailable,
)


@pytest.fixture
def client(loyalty_server: Any) -> Iterator[LoyaltyClient]:
    with LoyaltyClient(loyalty_server.target, timeout=10) as c:
        yield c


def aware(value: datetime | None) -> datetime:
    assert value is not None
    assert value.tzinfo is not None and value.utcoffset() == timedelta(0)
    return value


# ---------------------------------------------------------------- points


def test_adjust_points_and_balance(client: LoyaltyClient, uid: str) -> None:
    customer = f"cus_{uid}"
    assert client.get_points_balance(customer).balance == Decimal(0)
    assert client.get_points_balance(customer).updated_at is None

    first = client.adjust_points(customer, 100, reason="Welcome bonus")
    assert isinstance(first, AdjustPointsResult)
    assert first.id.startswith("adj_")
    assert first.customer_id == customer
    assert first.balance_after == Decimal(100)
    assert first.history == ()
    aware(first.updated_at)

    second = client.adjust_points(customer, "-30.5", reason="Redeemed", history=True)
    assert second.balance_after == Decimal("69.5")
    assert [a.delta for a in second.history] == [Decimal("-30.5"), Decimal(100)]
    assert second.history[0].id == second.id
    assert second.history[0].reason == "Redeemed"
    assert second.history[1].balance_after == Decimal(100)
    aware(second.history[0].created_at)

    third = client.adjust_points(customer, Decimal("0.25"))
    assert third.balance_after == Decimal("69.75")

    balance = client.get_points_balance(customer)
    assert balance.customer_id == customer
    assert balance.balance == Decimal("69.75")
    assert balance.history == ()
    assert aware(balance.updated_at) >= aware(first.updated_at)

    with_history = client.get_points_balance(customer, history=True)
    assert [a.id for a in with_history.history] == [third.id, second.id, first.id]


def test_adjust_points_same_key_applies_once(client: LoyaltyClient, uid: str) -> None:
    customer = f"cus_{uid}"
    first = client.adjust_points(customer, 10, idempotency_key=f"order-{uid}")
    replay = client.adjust_points(customer, 10, idempotency_key=f"order-{uid}")
    assert replay.id == first.id
    assert (first.replayed, replay.replayed) == (False, True)
    assert replay.balance_after == Decimal(10)
    assert client.get_points_balance(customer).balance == Decimal(10)
    with pytest.raises(Conflict) as caught:
        client.adjust_points(customer, 11, idempotency_key=f"order-{uid}")
    assert caught.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert caught.value.reason == "CONFLICT"
    # Without a key the client sends a fresh one each time: two calls, two adjustments.
    client.adjust_points(customer, 1)
    client.adjust_points(customer, 1)
    assert client.get_points_balance(customer).balance == Decimal(12)


def test_amounts_are_exact(client: LoyaltyClient, uid: str) -> None:
    customer = f"cus_{uid}"
    with pytest.raises(TypeError, match="float"):
        client.adjust_points(customer, 0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.adjust_points(customer, True)
    with pytest.raises(ValueError, match="finite"):
        client.adjust_points(customer, Decimal("NaN"))
    with pytest.raises(TypeError, match="float"):
        client.debit_gift_card(code="X", amount=1.5, currency_code="usd")  # type: ignore[arg-type]
    # Nothing reached the server.
    assert client.get_points_balance(customer).balance == Decimal(0)
    # A Decimal with an exponent goes out in plain notation.
    assert client.adjust_points(customer, Decimal("1E+2")).balance_after == Decimal(100)


def test_list_point_adjustments_pages(client: LoyaltyClient, uid: str) -> None:
    customer = f"cus_{uid}"
    ids = [client.adjust_points(customer, n).id for n in range(1, 6)]
    newest_first = ids[::-1]

    page = client.list_point_adjustments(customer, page_size=2)
    assert isinstance(page, Page)
    assert [a.id for a in page.items] == newest_first[:2]
    assert page.next_page_token
    page2 = client.list_point_adjustments(customer, page_size=2, page_token=page.next_page_token)
    assert [a.id for a in page2.items] == newest_first[2:4]
    page3 = client.list_point_adjustments(customer, page_size=2, page_token=page2.next_page_token)
    assert [a.id for a in page3.items] == newest_first[4:]
    assert page3.next_page_token == ""

    everything = list(client.iter_point_adjustments(customer, page_size=2))
    assert [a.id for a in everything] == newest_first
    assert all(isinstance(a, PointAdjustment) for a in everything)
    assert [a.balance_after for a in everything] == [Decimal(x) for x in (15, 10, 6, 3, 1)]
    assert list(client.iter_point_adjustments(f"nobody_{uid}")) == []


def test_batch_adjust_points(client: LoyaltyClient, uid: str) -> None:
    a, b = f"cus_a_{uid}", f"cus_b_{uid}"
    items = [
        PointsAdjustmentInput(a, 100, "import"),
        PointsAdjustmentInput(b, "20", "import", idempotency_key=f"b-{uid}"),
        PointsAdjustmentInput(a, Decimal("-40"), "import"),
    ]
    result = client.batch_adjust_points(items)
    assert [(r.customer_id, r.delta, r.balance_after) for r in result] == [
        (a, Decimal(100), Decimal(100)),
        (b, Decimal(20), Decimal(20)),
        (a, Decimal(-40), Decimal(60)),
    ]
    # A keyed item replays instead of applying twice.
    again = client.batch_adjust_points([items[1]])
    assert again[0].id == result[1].id
    assert client.get_points_balance(b).balance == Decimal(20)

    # All or nothing: one bad item, nothing applied.
    with pytest.raises(InvalidData) as caught:
        client.batch_adjust_points(
            [PointsAdjustmentInput(a, 5), PointsAdjustmentInput(a, "not-a-number")]
        )
    assert caught.value.field_violations
    assert client.get_points_balance(a).balance == Decimal(60)


# ------------------------------------------------------------ gift cards


def new_card(uid: str, suffix: str = "", **fields: Any) -> NewGiftCard:
    values: dict[str, Any] = {"value": 50, "currency_code": "usd", "code": f"T{uid}{suffix}"}
    values.update(fields)
    return NewGiftCard(**values)


def test_create_retrieve_update_gift_card(client: LoyaltyClient, uid: str) -> None:
    expires = datetime(2031, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    card = client.create_gift_card(
        NewGiftCard(
            value="25.50",
            currency_code="EUR",
            code=f"FULL-{uid}",
            customer_id=f"cus_{uid}",
            reference_id=f"order_{uid}",
            reference="order",
            line_item_id=f"li_{uid}",
            note="Birthday",
            expires_at=expires,
            metadata={"campaign": "spring", "n": 3, "nested": {"ok": True}},
        )
    )
    assert isinstance(card, GiftCard)
    assert card.id.startswith("gcard_")
    assert card.code == f"FULL-{uid}"
    assert card.status is GiftCardStatus.PENDING
    assert card.value == Decimal("25.50") and card.balance == Decimal("25.50")
    assert card.currency_code == "eur"
    assert (card.customer_id, card.reference_id, card.reference) == (
        f"cus_{uid}",
        f"order_{uid}",
        "order",
    )
    assert (card.line_item_id, card.note) == (f"li_{uid}", "Birthday")
    assert card.expires_at == expires
    assert aware(card.expires_at).hour == 1  # returned in UTC
    assert card.metadata == {"campaign": "spring", "n": 3, "nested": {"ok": True}}
    aware(card.created_at)
    assert card.deleted_at is None

    assert client.retrieve_gift_card(id=card.id) == card
    assert client.retrieve_gift_card(code=card.code) == card
    with pytest.raises(ValueError, match="exactly one"):
        client.retrieve_gift_card(id=card.id, code=card.code)

    # Set some fields, leave the others alone.
    updated = client.update_gift_card(
        GiftCardUpdate(id=card.id, note="Happy birthday", status=GiftCardStatus.REDEEMED)
    )
    assert updated.note == "Happy birthday"
    assert updated.status is GiftCardStatus.REDEEMED
    assert updated.customer_id == f"cus_{uid}"
    assert updated.expires_at == expires

    # None clears a field.
    cleared = client.update_gift_card(
        GiftCardUpdate(id=card.id, note=None, expires_at=None, metadata=None, status="pending")
    )
    assert cleared.note is None
    assert cleared.expires_at is None
    assert cleared.metadata is None
    assert cleared.status is GiftCardStatus.PENDING
    assert cleared.customer_id == f"cus_{uid}"
    assert GiftCardUpdate(id="x").note is UNSET

    with pytest.raises(ValueError, match="timezone-aware"):
        client.create_gift_card(new_card(uid, "naive", expires_at=datetime(2030, 1, 1)))


def test_create_many_and_update_many(client: LoyaltyClient, uid: str) -> None:
    cards = client.create_gift_cards([new_card(uid, str(n), value=n + 1) for n in range(3)])
    assert [c.code for c in cards] == [f"T{uid}{n}" for n in range(3)]
    assert [c.value for c in cards] == [Decimal(1), Decimal(2), Decimal(3)]
    generated = client.create_gift_card(NewGiftCard(value=5, currency_code="usd"))
    options = client.get_options()
    assert generated.code.startswith(options.prefix + "-")
    assert len(generated.code.split("-")) == options.sections + 1

    updated = client.update_gift_cards(
        [GiftCardUpdate(id=c.id, value=Decimal(10) + n) for n, c in enumerate(cards)]
    )
    assert [c.value for c in updated] == [Decimal(10), Decimal(11), Decimal(12)]


def test_list_gift_cards_filters_and_paging(client: LoyaltyClient, uid: str) -> None:
    owner = f"cus_list_{uid}"
    cards = client.create_gift_cards(
        [new_card(uid, f"L{n}", customer_id=owner, value=10 + n) for n in range(5)]
    )
    client.update_gift_card(GiftCardUpdate(id=cards[4].id, status="redeemed"))

    page = client.list_gift_cards(customer_id=owner, order="value ASC", take=2, with_count=True)
    assert [c.code for c in page.gift_cards] == [cards[0].code, cards[1].code]
    assert page.count == 5
    page = client.list_gift_cards(customer_id=owner, order="value ASC", skip=2, take=2)
    assert [c.code for c in page.gift_cards] == [cards[2].code, cards[3].code]
    assert page.count is None

    pending = client.list_gift_cards(customer_id=[owner], status="pending", order="value DESC")
    assert [c.code for c in pending.gift_cards] == [c.code for c in cards[3::-1]]
    by_code = client.list_gift_cards(code=[cards[0].code, cards[2].code], order="code ASC")
    assert [c.id for c in by_code.gift_cards] == [cards[0].id, cards[2].id]
    redeemed = client.list_gift_cards(customer_id=owner, status=[GiftCardStatus.REDEEMED])
    assert [c.id for c in redeemed.gift_cards] == [cards[4].id]

    every = list(client.iter_gift_cards(page_size=2, customer_id=owner, order="value ASC"))
    assert [c.id for c in every] == [c.id for c in cards]
    with pytest.raises(TypeError, match="unknown"):
        client.list_gift_cards(colour="red")  # type: ignore[call-arg]


def test_soft_delete_restore_delete(client: LoyaltyClient, uid: str) -> None:
    a, b = client.create_gift_cards([new_card(uid, "A"), new_card(uid, "B")])
    assert client.soft_delete_gift_cards([a.id]) == (a.id,)
    with pytest.raises(NotFound):
        client.retrieve_gift_card(id=a.id)
    hidden = client.list_gift_cards(code=[a.code, b.code], with_deleted=True, order="code ASC")
    assert [c.id for c in hidden.gift_cards] == [a.id, b.id]
    assert hidden.gift_cards[0].deleted_at is not None
    assert [c.id for c in client.list_gift_cards(code=[a.code, b.code]).gift_cards] == [b.id]

    assert client.restore_gift_cards([a.id]) == (a.id,)
    assert client.retrieve_gift_card(id=a.id).deleted_at is None

    assert set(client.delete_gift_cards([a.id, b.id])) == {a.id, b.id}
    with pytest.raises(NotFound):
        client.retrieve_gift_card(code=b.code)


def test_debit_credit_and_transactions(client: LoyaltyClient, uid: str) -> None:
    card = client.create_gift_card(new_card(uid, value=50))
    debit = client.debit_gift_card(
        code=card.code, amount=20, currency_code="usd", reference="order", reference_id="o1"
    )
    assert debit.balance == Decimal(30)
    assert debit.status is GiftCardStatus.PENDING
    tx = debit.transaction
    assert tx.id.startswith("gctx_")
    assert tx.type is TransactionType.DEBIT
    assert (tx.amount, tx.balance_after, tx.currency_code) == (Decimal(20), Decimal(30), "usd")
    assert (tx.gift_card_id, tx.reference, tx.reference_id) == (card.id, "order", "o1")
    aware(tx.created_at)

    # An explicit key: the same debit twice applies once.
    key = f"pay-{uid}"
    once = client.debit_gift_card(
        id=card.id, amount="5.5", currency_code="usd", idempotency_key=key
    )
    twice = client.debit_gift_card(
        id=card.id, amount="5.5", currency_code="usd", idempotency_key=key
    )
    assert twice.transaction.id == once.transaction.id
    assert twice.balance == Decimal("24.5")
    assert (debit.replayed, once.replayed, twice.replayed) == (False, False, True)

    credit = client.credit_gift_card(
        code=card.code, amount=Decimal("4.5"), currency_code="usd", idempotency_key=f"ref-{uid}"
    )
    assert credit.transaction.type is TransactionType.CREDIT
    assert credit.balance == Decimal(29)
    assert credit.replayed is False
    credit_again = client.credit_gift_card(
        code=card.code, amount=Decimal("4.5"), currency_code="usd", idempotency_key=f"ref-{uid}"
    )
    assert credit_again.replayed is True
    assert credit_again.transaction.id == credit.transaction.id
    assert credit_again.balance == Decimal(29)

    rest = client.debit_gift_card(code=card.code, amount=29, currency_code="usd")
    assert rest.balance == Decimal(0)
    assert rest.status is GiftCardStatus.REDEEMED

    page = client.list_gift_card_transactions(card.id, page_size=3)
    assert [t.type for t in page.items] == [
        TransactionType.DEBIT,
        TransactionType.CREDIT,
        TransactionType.DEBIT,
    ]
    assert page.next_page_token
    rest_page = client.list_gift_card_transactions(
        card.id, page_size=3, page_token=page.next_page_token
    )
    assert [t.id for t in rest_page.items] == [debit.transaction.id]
    assert rest_page.next_page_token == ""
    every = list(client.iter_gift_card_transactions(card.id, page_size=1))
    assert [t.id for t in every] == [t.id for t in page.items + rest_page.items]
    assert [t.balance_after for t in every] == [Decimal(x) for x in ("0", "29", "24.5", "30")]


def test_get_options(client: LoyaltyClient) -> None:
    options = client.get_options()
    # The test server runs with the server's defaults.
    assert (options.prefix, options.sections) == ("GIFT", 4)


# ---------------------------------------------------------------- errors


def test_invalid_data_keeps_field_violations(client: LoyaltyClient, uid: str) -> None:
    with pytest.raises(InvalidData) as caught:
        client.adjust_points(f"cus_{uid}", "12abc")
    error = caught.value
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == "INVALID_DATA"
    assert error.message
    assert [v.field for v in error.field_violations] == ["delta"]
    assert isinstance(error, LoyaltyError)
    assert "INVALID_DATA" in str(error)

    with pytest.raises(InvalidData) as caught:
        client.create_gift_card(NewGiftCard(value=-1, currency_code="usd"))
    assert {v.field for v in caught.value.field_violations} >= {"gift_cards[0].value"}
    # The attributes survive pickling (e.g. a worker process reporting it).
    copy = pickle.loads(pickle.dumps(caught.value))
    assert type(copy) is InvalidData
    assert copy.field_violations == caught.value.field_violations
    assert copy.code == grpc.StatusCode.INVALID_ARGUMENT


def test_not_found(client: LoyaltyClient, uid: str) -> None:
    with pytest.raises(NotFound) as caught:
        client.retrieve_gift_card(code=f"NOPE{uid}")
    assert caught.value.code == grpc.StatusCode.NOT_FOUND
    assert caught.value.reason == "NOT_FOUND"
    with pytest.raises(NotFound):
        client.debit_gift_card(code=f"NOPE{uid}", amount=1, currency_code="usd")


def test_not_allowed(client: LoyaltyClient, uid: str) -> None:
    with pytest.raises(NotAllowed) as caught:
        client.adjust_points(f"cus_{uid}", -1)
    assert caught.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert caught.value.reason == "NOT_ALLOWED"
    card = client.create_gift_card(new_card(uid, value=10))
    with pytest.raises(NotAllowed):
        client.debit_gift_card(id=card.id, amount=11, currency_code="usd")


def test_duplicate(client: LoyaltyClient, uid: str) -> None:
    client.create_gift_card(new_card(uid))
    with pytest.raises(Duplicate) as caught:
        client.create_gift_card(new_card(uid))
    assert caught.value.code == grpc.StatusCode.ALREADY_EXISTS
    assert caught.value.reason == "DUPLICATE_ERROR"


def test_conflict_on_gift_card_key(client: LoyaltyClient, uid: str) -> None:
    card = client.create_gift_card(new_card(uid, value=10))
    client.debit_gift_card(id=card.id, amount=1, currency_code="usd", idempotency_key="k")
    with pytest.raises(Conflict) as caught:
        client.debit_gift_card(id=card.id, amount=2, currency_code="usd", idempotency_key="k")
    assert caught.value.reason == "CONFLICT"


class CountingRandom(random.Random):
    """Counts the jittered waits a RetryPolicy draws: one per retry."""

    calls = 0

    def uniform(self, a: float, b: float) -> float:
        self.calls += 1
        return super().uniform(a, b)


def test_unavailable_when_nothing_listens() -> None:
    import socket

    with socket.socket() as s:  # a port that was free a moment ago
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    waits = CountingRandom()
    policy = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.02, rng=waits)
    with LoyaltyClient(f"127.0.0.1:{port}", retry=policy, timeout=5) as c:
        with pytest.raises(Unavailable) as caught:
            c.get_points_balance("cus_x")
        assert caught.value.code == grpc.StatusCode.UNAVAILABLE
        assert caught.value.reason is None  # no ErrorInfo: mapped from the code
        assert waits.calls == 2  # three attempts, two waits between them
        # A write without a key is never retried, whatever the policy.
        with pytest.raises(Unavailable):
            c.adjust_points("cus_x", 1, idempotency_key="")
        assert waits.calls == 2
    with LoyaltyClient(f"127.0.0.1:{port}", retry=NO_RETRY) as c, pytest.raises(Unavailable):
        c.adjust_points("cus_x", 1)


def test_client_options_are_checked() -> None:
    with pytest.raises(ValueError):
        LoyaltyClient("")
    with pytest.raises(ValueError):
        LoyaltyClient("127.0.0.1:1", timeout=0)
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(ValueError, match="finite"):
            LoyaltyClient("127.0.0.1:1", timeout=bad)
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(TypeError):
        LoyaltyClient("127.0.0.1:1", tls="yes")  # type: ignore[arg-type]


def test_timestamps_are_aware_utc(client: LoyaltyClient, uid: str) -> None:
    before = datetime.now(UTC) - timedelta(minutes=5)
    result = client.adjust_points(f"cus_{uid}", 1)
    assert aware(result.updated_at) > before


# ------------------------------------------------- conversions (no server)


def test_required_money_fields_are_never_read_as_zero() -> None:
    from loyalty.v1 import loyalty_pb2 as pb
    from loyalty_client import InvalidResponse
    from loyalty_client.convert import gift_card_transaction, str_to_decimal

    assert str_to_decimal("12.50", "balance") == Decimal("12.50")
    for bad in ("", "NaN", "nan", "Infinity", "-Infinity", "sNaN", "12abc"):
        with pytest.raises(InvalidResponse) as caught:
            str_to_decimal(bad, "balance")
        assert "balance" in str(caught.value)
        assert isinstance(caught.value, ValueError)
        assert isinstance(caught.value, LoyaltyError)
    with pytest.raises(InvalidResponse, match="empty amount"):
        gift_card_transaction(pb.GiftCardTransaction(id="gctx_1", balance_after="1"))


def test_metadata_is_checked_at_every_depth() -> None:
    from loyalty_client.convert import dict_to_struct

    ok = {"a": {"b": [1, 2.5, "x", None, True]}, "n": 2**53, "m": -(2**53)}
    assert dict_to_struct(ok)["a"]["b"][1] == 2.5
    with pytest.raises(ValueError, match="finite"):
        dict_to_struct({"a": {"b": [1.0, float("nan")]}})
    with pytest.raises(ValueError, match="finite"):
        dict_to_struct({"a": [{"b": float("-inf")}]})
    with pytest.raises(ValueError, match="2\\*\\*53"):
        dict_to_struct({"a": {"id": 2**53 + 1}})
    with pytest.raises(ValueError, match="2\\*\\*53"):
        dict_to_struct({"a": [-(2**60)]})
    with pytest.raises(TypeError, match="as strings"):
        dict_to_struct({"price": Decimal("9.99")})
    with pytest.raises(TypeError, match="as strings"):
        dict_to_struct({"a": {"b": [Decimal("1")]}})
    with pytest.raises(TypeError, match="keys must be str"):
        dict_to_struct({"a": {1: "x"}})
    with pytest.raises(TypeError, match="JSON-like"):
        dict_to_struct({"a": {"b": object()}})
    # The check also runs when a request is built.
    from loyalty_client.convert import create_gift_cards

    card = NewGiftCard(value=1, currency_code="usd", metadata={"a": {"b": float("inf")}})
    with pytest.raises(ValueError, match=r"metadata\['a'\]\['b'\]"):
        create_gift_cards([card])


class _FakeRpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, trailer: bytes) -> None:
        self._code, self._trailer = code, trailer

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return "boom"

    def trailing_metadata(self) -> tuple[tuple[str, bytes], ...]:
        return (("grpc-status-details-bin", self._trailer),)


def test_garbled_status_details_fall_back_to_the_code() -> None:
    from google.protobuf import any_pb2
    from google.rpc import status_pb2  # type: ignore[import-untyped, unused-ignore]

    from loyalty_client.errors import error_from_rpc_error

    garbled = b"\xff\xff\xff\xff"
    for code, cls in (
        (grpc.StatusCode.NOT_FOUND, NotFound),
        (grpc.StatusCode.UNAVAILABLE, Unavailable),
        (grpc.StatusCode.FAILED_PRECONDITION, NotAllowed),
    ):
        error = error_from_rpc_error(_FakeRpcError(code, garbled))
        assert type(error) is cls
        assert (error.code, error.reason, error.message) == (code, None, "boom")
    # A well-formed Status whose ErrorInfo detail is garbled: that detail is skipped.
    bad_detail = any_pb2.Any(
        type_url="type.googleapis.com/google.rpc.ErrorInfo", value=b"\xff\xff\xff"
    )
    status = status_pb2.Status(code=5, message="boom", details=[bad_detail])
    error = error_from_rpc_error(
        _FakeRpcError(grpc.StatusCode.NOT_FOUND, status.SerializeToString())
    )
    assert type(error) is NotFound and error.reason is None


def test_debit_and_credit_check_their_keywords() -> None:
    from loyalty_client import convert

    good: dict[str, Any] = {"code": "GIFT-1", "amount": "1.5", "currency_code": "usd"}
    op = convert.debit_gift_card(**good, reference="order", idempotency_key="k")
    assert (op.method, op.retryable) == ("DebitGiftCard", True)
    assert (op.request.code, op.request.amount, op.request.reference) == ("GIFT-1", "1.5", "order")
    credit = convert.credit_gift_card(**good, idempotency_key="")
    assert (credit.method, credit.retryable) == ("CreditGiftCard", False)
    assert convert.credit_gift_card(**good).request.idempotency_key  # a generated key
    for fn in (convert.debit_gift_card, convert.credit_gift_card):
        unknown: Any = {**good, "amout": 1}
        with pytest.raises(TypeError, match="amout"):
            fn(**unknown)
        missing: Any = {"code": "GIFT-1", "amount": 1}
        with pytest.raises(TypeError, match="currency_code"):
            fn(**missing)
        both: Any = {**good, "id": "gcard_x"}
        with pytest.raises(ValueError, match="exactly one"):
            fn(**both)
