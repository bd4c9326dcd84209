"""Hostile input (issue 6): SQL metacharacters, oversized strings, NUL and invalid UTF-8
at every string field of every RPC, on SQLite and PostgreSQL; and the request-size,
page and batch limits. Whatever arrives, the answer is never INTERNAL."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
import pytest
from conftest import ServerProcess
from google.protobuf import struct_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from helpers import expect_error

from loyalty.v1 import loyalty_pb2 as pb
from loyalty.v1.loyalty_pb2_grpc import LoyaltyServiceStub

SERVICE = pb.DESCRIPTOR.services_by_name["LoyaltyService"]
INVALID = grpc.StatusCode.INVALID_ARGUMENT
NEVER = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.UNAVAILABLE}

SQL = [
    "'; DROP TABLE gift_cards; --",
    "' OR '1'='1",
    '" OR 1=1 --',
    "x'); DELETE FROM points_accounts; --",
    "%_\\%",
    "1; SELECT pg_sleep(5)",
    "$1 :name ? %s",
]
OVERSIZED = "x" * 70_000  # past every string bound, well under the 1 MiB message limit
WEIRD = ["a\x00b", "\u202e\U0001f381 \ufeff", " ", ""]

# ------------------------------------------------------- the fields


@dataclass(frozen=True)
class StringField:
    """One string field reachable in a request: a path such as gift_cards[0].note,
    metadata{value} (a Struct string value) or metadata{key} (a Struct key)."""

    path: tuple[str, ...]

    def __str__(self) -> str:
        return ".".join(self.path)


def string_fields(descriptor: Descriptor, prefix: tuple[str, ...] = ()) -> list[StringField]:
    found: list[StringField] = []
    for field in descriptor.fields:
        path = (*prefix, field.name)
        if field.type == FieldDescriptor.TYPE_STRING:
            found.append(StringField(path))
        elif field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type is not None:
            full = field.message_type.full_name
            if full == "google.protobuf.Struct":
                found += [StringField((*path, "{value}")), StringField((*path, "{key}"))]
            elif full == "google.protobuf.FieldMask":
                found.append(StringField((*path, "paths")))
            elif full.startswith("loyalty.v1."):
                found += string_fields(field.message_type, path)
    return found


def set_field(message: Message, path: tuple[str, ...], value: str) -> None:
    """Put ``value`` at ``path`` in ``message`` (first element of repeated messages)."""
    name, rest = path[0], path[1:]
    field = message.DESCRIPTOR.fields_by_name[name]
    repeated = field.is_repeated
    if not rest:
        if repeated:
            container = getattr(message, name)
            del container[:]
            container.append(value)
        else:
            setattr(message, name, value)
        return
    if rest == ("{value}",) or rest == ("{key}",):
        struct: struct_pb2.Struct = getattr(message, name)
        struct.Clear()
        if rest == ("{value}",):
            struct["k"] = value
        else:
            struct[value] = "v"
        return
    if repeated:
        container = getattr(message, name)
        child = container[0] if len(container) else container.add()
    else:
        child = getattr(message, name)
    set_field(child, rest, value)


RPCS = sorted(m.name for m in SERVICE.methods)
FIELDS = {name: string_fields(SERVICE.methods_by_name[name].input_type) for name in RPCS}


# ------------------------------------------------------ the baselines

ACCOUNT = "sc_acc_hostile_input"


@pytest.fixture
def card(stub: LoyaltyServiceStub, uid: str) -> pb.GiftCard:
    created = stub.CreateGiftCards(
        pb.CreateGiftCardsRequest(
            gift_cards=[pb.CreateGiftCardInput(value="100", currency_code="usd", note=uid)]
        ),
        timeout=10,
    )
    result: pb.GiftCard = created.gift_cards[0]
    return result


def baseline(rpc: str, card: pb.GiftCard, uid: str) -> Message:
    """A valid request, so that the field under test is the only thing wrong with it."""
    customer = f"cus_in_{uid}"
    requests: dict[str, Message] = {
        "AdjustPoints": pb.AdjustPointsRequest(
            customer_id=customer, delta="5", reason="r", idempotency_key=f"k_{uid}"
        ),
        "BatchAdjustPoints": pb.BatchAdjustPointsRequest(
            adjustments=[
                pb.BatchAdjustPointsItem(
                    customer_id=customer, delta="1", reason="r", idempotency_key=f"b_{uid}"
                )
            ]
        ),
        "GetPointsBalance": pb.GetPointsBalanceRequest(customer_id=customer),
        "ListPointAdjustments": pb.ListPointAdjustmentsRequest(customer_id=customer),
        # Holds and order points: the hold or order may not exist (NOT_FOUND and
        # NOT_ALLOWED are answers too); fields are checked before any look-up.
        "HoldPoints": pb.HoldPointsRequest(
            customer_id=customer,
            points="1",
            reference="cart",
            reference_id="cart_1",
            idempotency_key=f"h_{uid}",
        ),
        "CapturePointsHold": pb.CapturePointsHoldRequest(hold_id="phold_none", reason="r"),
        "ReleasePointsHold": pb.ReleasePointsHoldRequest(hold_id="phold_none"),
        "GetPointsHold": pb.GetPointsHoldRequest(hold_id="phold_none"),
        "ListPointsHolds": pb.ListPointsHoldsRequest(customer_id=customer, reference_id="c"),
        "EarnOrderPoints": pb.EarnOrderPointsRequest(
            customer_id=customer, order_id=f"order_{uid}", points="1", reason="r"
        ),
        "ReverseOrderPoints": pb.ReverseOrderPointsRequest(
            customer_id=customer, order_id=f"order_{uid}", reason="r", idempotency_key="k"
        ),
        "GetOrderPoints": pb.GetOrderPointsRequest(customer_id=customer, order_id="o"),
        "CreateGiftCards": pb.CreateGiftCardsRequest(
            gift_cards=[
                pb.CreateGiftCardInput(
                    value="10",
                    currency_code="usd",
                    customer_id=customer,
                    reference_id="ord_1",
                    reference="order",
                    line_item_id="li_1",
                    note="n",
                )
            ]
        ),
        "UpdateGiftCards": pb.UpdateGiftCardsRequest(
            gift_cards=[pb.UpdateGiftCardInput(id=card.id, note="n")]
        ),
        "RetrieveGiftCard": pb.RetrieveGiftCardRequest(id=card.id),
        "ListGiftCards": pb.ListGiftCardsRequest(take=5),
        "DeleteGiftCards": pb.DeleteGiftCardsRequest(ids=[card.id]),
        "SoftDeleteGiftCards": pb.SoftDeleteGiftCardsRequest(ids=[card.id]),
        "RestoreGiftCards": pb.RestoreGiftCardsRequest(ids=[card.id]),
        "DebitGiftCard": pb.DebitGiftCardRequest(
            id=card.id, amount="1", currency_code="usd", reference="r", reference_id="ref"
        ),
        "CreditGiftCard": pb.CreditGiftCardRequest(
            id=card.id, amount="1", currency_code="usd", reference="r", reference_id="ref"
        ),
        "ListGiftCardTransactions": pb.ListGiftCardTransactionsRequest(gift_card_id=card.id),
        "GetOptions": pb.GetOptionsRequest(),
        # Store credit: the account may not exist (NOT_FOUND is an answer too); every
        # field is checked before any look-up, so bad input is INVALID_ARGUMENT first.
        "CreateStoreCreditAccounts": pb.CreateStoreCreditAccountsRequest(
            accounts=[
                pb.CreateStoreCreditAccountInput(
                    customer_id=customer, code=f"SC{uid}"[:60], currency_code="usd"
                )
            ]
        ),
        "UpdateStoreCreditAccounts": pb.UpdateStoreCreditAccountsRequest(
            accounts=[pb.UpdateStoreCreditAccountInput(id=ACCOUNT, customer_id=customer)]
        ),
        "RetrieveStoreCreditAccount": pb.RetrieveStoreCreditAccountRequest(id=ACCOUNT),
        "ListStoreCreditAccounts": pb.ListStoreCreditAccountsRequest(take=5),
        "DeleteStoreCreditAccounts": pb.DeleteStoreCreditAccountsRequest(ids=[ACCOUNT]),
        "SoftDeleteStoreCreditAccounts": pb.SoftDeleteStoreCreditAccountsRequest(ids=[ACCOUNT]),
        "RestoreStoreCreditAccounts": pb.RestoreStoreCreditAccountsRequest(ids=[ACCOUNT]),
        "CreditAccounts": pb.CreditAccountsRequest(
            credits=[
                pb.AccountEntryInput(
                    account_id=ACCOUNT,
                    amount="1",
                    note="n",
                    reference="r",
                    reference_id="ref",
                    idempotency_key=f"c_{uid}",
                )
            ]
        ),
        "DebitAccounts": pb.DebitAccountsRequest(
            debits=[
                pb.AccountEntryInput(
                    account_id=ACCOUNT,
                    amount="1",
                    note="n",
                    reference="r",
                    reference_id="ref",
                    idempotency_key=f"d_{uid}",
                )
            ]
        ),
        "RetrieveAccountStats": pb.RetrieveAccountStatsRequest(account_id=ACCOUNT),
        "ListAccountTransactions": pb.ListAccountTransactionsRequest(take=5),
        "DeleteAccountTransactions": pb.DeleteAccountTransactionsRequest(ids=["sc_trx_none"]),
    }
    return requests[rpc]


def outcome(channel: grpc.Channel, rpc: str, request: Message | bytes) -> grpc.StatusCode:
    try:
        if isinstance(request, bytes):  # sent as is, not serialized
            channel.unary_unary(f"/{SERVICE.full_name}/{rpc}")(request, timeout=10)
        else:
            getattr(LoyaltyServiceStub(channel), rpc)(request, timeout=10)
    except grpc.RpcError as error:
        assert isinstance(error, grpc.Call)
        return error.code()
    return grpc.StatusCode.OK


def with_invalid_utf8(message: Message, field: StringField) -> bytes:
    """The serialized message with the field's value replaced by invalid UTF-8 bytes
    (protobuf refuses to build such a message, so the bytes are patched)."""
    placeholder = "QZ7PLACEHOLDER7ZQ"
    set_field(message, field.path, placeholder)
    data = message.SerializeToString()
    bad = b"\xff\xfe\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc\xed\xa0\x80Z"
    assert len(bad) == len(placeholder) and data.count(placeholder.encode()) == 1
    return data.replace(placeholder.encode(), bad)


# ---------------------------------------------------------- the tests


def test_every_rpc_has_string_fields_enumerated() -> None:
    assert {rpc for rpc, fields in FIELDS.items() if not fields} == {"GetOptions"}
    assert "gift_cards.metadata.{value}" in {str(f) for f in FIELDS["CreateGiftCards"]}
    assert "gift_cards.update_mask.paths" in {str(f) for f in FIELDS["UpdateGiftCards"]}
    assert {str(f) for f in FIELDS["ListGiftCards"]} >= {
        "id",
        "code",
        "currency_code",
        "reference",
        "reference_id",
        "customer_id",
        "q",
        "order",
    }


@pytest.mark.parametrize("rpc", [r for r in RPCS if FIELDS[r]])
def test_hostile_strings_at_every_field(
    stub: LoyaltyServiceStub, channel: grpc.Channel, card: pb.GiftCard, uid: str, rpc: str
) -> None:
    problems: list[str] = []
    for n, field in enumerate(FIELDS[rpc]):
        cases: list[tuple[str, Message | bytes]] = []
        for kind, value in [*(("sql", v) for v in SQL), ("oversized", OVERSIZED)] + [
            ("weird", w) for w in WEIRD
        ]:
            request = baseline(rpc, card, f"{uid}_{n}_{len(cases)}")
            set_field(request, field.path, value)
            cases.append((kind, request))
        cases.append(("utf8", with_invalid_utf8(baseline(rpc, card, f"{uid}_{n}_u"), field)))
        for kind, sent in cases:
            code = outcome(channel, rpc, sent)
            if code in NEVER:
                problems.append(f"{field} {kind}: {code.name}")
            if kind in ("oversized", "utf8") and code != INVALID:
                problems.append(f"{field} {kind}: {code.name}, expected INVALID_ARGUMENT")
    # the tables are all still there and answer
    stub.GetPointsBalance(pb.GetPointsBalanceRequest(customer_id=f"cus_in_{uid}"), timeout=10)
    stub.ListGiftCards(pb.ListGiftCardsRequest(take=1), timeout=10)
    stub.RetrieveGiftCard(pb.RetrieveGiftCardRequest(id=card.id), timeout=10)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("rpc", [r for r in RPCS if FIELDS[r]])
def test_nul_is_refused_at_every_string_field(
    channel: grpc.Channel, card: pb.GiftCard, uid: str, rpc: str
) -> None:
    """The documented rule, everywhere: NUL in any string (metadata keys and values
    included) is INVALID_ARGUMENT; PostgreSQL text cannot store it."""
    wrong = []
    for n, field in enumerate(FIELDS[rpc]):
        request = baseline(rpc, card, f"{uid}_nul_{n}")
        set_field(request, field.path, "a\x00b")
        code = outcome(channel, rpc, request)
        if code != INVALID:
            wrong.append(f"{field}: {code.name}")
    assert not wrong, wrong


# ------------------------------------------------ bound parameters only


def test_sql_metacharacters_round_trip_verbatim(stub: LoyaltyServiceStub, uid: str) -> None:
    """Stored and read back byte for byte: values are bound parameters, never SQL text."""
    customer = f"{SQL[0]}{uid}"
    for n, reason in enumerate(SQL):
        stub.AdjustPoints(
            pb.AdjustPointsRequest(customer_id=customer, delta=str(n + 1), reason=reason),
            timeout=10,
        )
    balance = stub.GetPointsBalance(
        pb.GetPointsBalanceRequest(customer_id=customer, include_history=True), timeout=10
    )
    assert balance.customer_id == customer
    assert balance.balance == str(sum(range(1, len(SQL) + 1)))
    assert [a.reason for a in balance.history] == SQL[::-1]

    created = stub.CreateGiftCards(
        pb.CreateGiftCardsRequest(
            gift_cards=[
                pb.CreateGiftCardInput(
                    value="10",
                    currency_code="usd",
                    customer_id=customer,
                    note=f"{value} {uid}",
                    reference=value,
                    reference_id=value,
                    line_item_id=value,
                    metadata=struct_pb2.Struct(
                        fields={value: struct_pb2.Value(string_value=value)}
                    ),
                )
                for value in SQL
            ]
        ),
        timeout=10,
    ).gift_cards
    for value, card in zip(SQL, created, strict=True):
        got = stub.RetrieveGiftCard(pb.RetrieveGiftCardRequest(id=card.id), timeout=10)
        assert (got.note, got.reference, got.reference_id, got.line_item_id) == (
            f"{value} {uid}",
            value,
            value,
            value,
        )
        assert dict(got.metadata) == {value: value}
        found = stub.ListGiftCards(
            pb.ListGiftCardsRequest(customer_id=[customer], reference=[value], take=50),
            timeout=10,
        ).gift_cards
        assert [c.id for c in found] == [card.id]
    # LIKE wildcards in q are literal characters, not patterns
    percent = stub.ListGiftCards(
        pb.ListGiftCardsRequest(customer_id=[customer], q="%_\\%", take=50), timeout=10
    ).gift_cards
    assert [c.note for c in percent] == [f"%_\\% {uid}"]
    nothing = stub.ListGiftCards(
        pb.ListGiftCardsRequest(customer_id=[customer], q="%%%%", take=50), timeout=10
    ).gift_cards
    assert list(nothing) == []


# ------------------------------------------------------------ limits


def test_request_over_one_mebibyte_is_resource_exhausted(
    stub: LoyaltyServiceStub, loyalty_server: ServerProcess
) -> None:
    big = pb.AdjustPointsRequest(customer_id="c", delta="1", reason="x" * (1024 * 1024))
    with pytest.raises(grpc.RpcError) as caught:
        stub.AdjustPoints(big, timeout=10)
    error = caught.value
    assert isinstance(error, grpc.Call)
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    details = error.details() or ""
    assert "larger than max" in details and "1048576" in details, details
    # just under the limit is an ordinary, bounded-field INVALID_ARGUMENT
    rich = expect_error(
        stub.AdjustPoints,
        pb.AdjustPointsRequest(customer_id="c", delta="1", reason="x" * (1024 * 1024 - 100)),
        INVALID,
    )
    assert rich.violations == {"reason": "reason must be at most 512 characters"}


@pytest.mark.parametrize(
    ("rpc", "request_", "field"),
    [
        (
            "BatchAdjustPoints",
            pb.BatchAdjustPointsRequest(
                adjustments=[pb.BatchAdjustPointsItem(customer_id="c", delta="1")] * 1001
            ),
            "adjustments",
        ),
        (
            "CreateGiftCards",
            pb.CreateGiftCardsRequest(
                gift_cards=[pb.CreateGiftCardInput(value="1", currency_code="usd")] * 1001
            ),
            "gift_cards",
        ),
        (
            "UpdateGiftCards",
            pb.UpdateGiftCardsRequest(gift_cards=[pb.UpdateGiftCardInput(id="gcard_x")] * 1001),
            "gift_cards",
        ),
        ("DeleteGiftCards", pb.DeleteGiftCardsRequest(ids=["gcard_x"] * 1001), "ids"),
        ("SoftDeleteGiftCards", pb.SoftDeleteGiftCardsRequest(ids=["gcard_x"] * 1001), "ids"),
        ("RestoreGiftCards", pb.RestoreGiftCardsRequest(ids=["gcard_x"] * 1001), "ids"),
        ("ListGiftCards", pb.ListGiftCardsRequest(id=["gcard_x"] * 1001), "id"),
        ("ListGiftCards", pb.ListGiftCardsRequest(take=1001), "take"),
        (
            "ListPointAdjustments",
            pb.ListPointAdjustmentsRequest(customer_id="c", page_size=-1),
            "page_size",
        ),
        (
            "ListGiftCardTransactions",
            pb.ListGiftCardTransactionsRequest(gift_card_id="gcard_x", page_size=-1),
            "page_size",
        ),
    ],
    ids=[
        "batch-adjust",
        "create",
        "update",
        "delete",
        "soft-delete",
        "restore",
        "list-ids",
        "list-take",
        "adjustments-page",
        "transactions-page",
    ],
)
def test_batch_and_page_bounds(
    stub: LoyaltyServiceStub, rpc: str, request_: Message, field: str
) -> None:
    rich = expect_error(getattr(stub, rpc), request_, INVALID)
    assert rich.reason == "INVALID_DATA"
    assert field in rich.violations, rich
    assert "1000" in rich.violations[field] or "negative" in rich.violations[field]


def test_large_page_size_is_capped(stub: LoyaltyServiceStub, uid: str) -> None:
    page = stub.ListPointAdjustments(
        pb.ListPointAdjustmentsRequest(customer_id=f"cus_{uid}", page_size=2**31 - 1), timeout=10
    )
    assert list(page.point_adjustments) == []


def test_a_thousand_bad_items_still_get_a_readable_invalid_argument(
    stub: LoyaltyServiceStub,
) -> None:
    """Errors echo a bounded part of the request: 1,000 wrong items must not blow the
    client's metadata limit (that would turn into RESOURCE_EXHAUSTED "Stream removed")."""
    items = [
        pb.BatchAdjustPointsItem(customer_id="c" * 255, delta="not-a-number " * 20)
        for _ in range(1000)
    ]
    rich = expect_error(
        stub.BatchAdjustPoints, pb.BatchAdjustPointsRequest(adjustments=items), INVALID
    )
    assert len(rich.violations) == 10
    assert rich.message.endswith("(and 990 more field problems)"), rich.message
    assert len(rich.message) <= 400
    masked = pb.UpdateGiftCardsRequest(
        gift_cards=[pb.UpdateGiftCardInput(id="gcard_x", update_mask={"paths": ["y" * 5000] * 50})]
    )
    rich = expect_error(stub.UpdateGiftCards, masked, INVALID)
    assert all(len(d) <= 160 for d in rich.violations.values())


def test_order_is_bounded(stub: LoyaltyServiceStub) -> None:
    """A 1 MiB `order` of valid terms would otherwise become a 100,000-term ORDER BY."""
    rich = expect_error(
        stub.ListGiftCards, pb.ListGiftCardsRequest(order=", ".join(["id ASC"] * 40)), INVALID
    )
    assert rich.violations == {"order": "order must be at most 255 characters"}
