"""Hostile clients and unlucky timing (issue 12), against the real server.

Each test here failed before its fix: NaN/Infinity, NUL and depth inside metadata,
forged page tokens, unknown methods without a token, a lock cycle between
BatchAdjustPoints and AdjustPoints on PostgreSQL, and a SQLite deadline storm.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import grpc
import psycopg
import pytest
from conftest import ServerProcess, pg_admin_url
from google.protobuf import struct_pb2
from helpers import expect_error, rich_error

from loyalty.v1 import loyalty_pb2 as pb
from loyalty.v1.loyalty_pb2_grpc import LoyaltyServiceStub
from loyalty_server.verify import verify

INVALID = grpc.StatusCode.INVALID_ARGUMENT


def log_entries(server: ServerProcess) -> list[dict[str, Any]]:
    return [json.loads(x) for x in server.log_text().splitlines() if x.startswith("{")]


def _card_with(metadata: struct_pb2.Struct) -> pb.CreateGiftCardsRequest:
    return pb.CreateGiftCardsRequest(
        gift_cards=[pb.CreateGiftCardInput(value="5", currency_code="usd", metadata=metadata)]
    )


def _new_card(stub: LoyaltyServiceStub) -> pb.GiftCard:
    created = stub.CreateGiftCards(
        pb.CreateGiftCardsRequest(
            gift_cards=[pb.CreateGiftCardInput(value="5", currency_code="usd")]
        ),
        timeout=10,
    )
    card: pb.GiftCard = created.gift_cards[0]
    return card


# ------------------------------------------------------------ 1. NaN / Infinity


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_metadata_numbers_are_invalid_with_their_path(
    stub: LoyaltyServiceStub, number: float
) -> None:
    metadata = struct_pb2.Struct()
    metadata.update({"ok": 1, "campaign": {"rates": [1.5, number]}})
    error = expect_error(stub.CreateGiftCards, _card_with(metadata), INVALID)
    assert error.reason == "INVALID_DATA"
    assert "gift_cards[0].metadata.campaign.rates[1]" in error.violations, error
    assert "finite" in error.violations["gift_cards[0].metadata.campaign.rates[1]"]

    card = _new_card(stub)
    update = pb.UpdateGiftCardsRequest(
        gift_cards=[pb.UpdateGiftCardInput(id=card.id, metadata=metadata)]
    )
    error = expect_error(stub.UpdateGiftCards, update, INVALID)
    assert "gift_cards[0].metadata.campaign.rates[1]" in error.violations, error
    # nothing was written
    assert not stub.RetrieveGiftCard(pb.RetrieveGiftCardRequest(id=card.id), timeout=10).HasField(
        "metadata"
    )


def test_finite_metadata_numbers_round_trip(stub: LoyaltyServiceStub) -> None:
    metadata = struct_pb2.Struct()
    metadata.update({"rate": 1.25, "list": [1, None, True, "x"], "nested": {"a": {"b": -0.5}}})
    created = stub.CreateGiftCards(_card_with(metadata), timeout=10).gift_cards[0]
    assert created.metadata == metadata


# ------------------------------------------------------------ 5. NUL in metadata


@pytest.mark.parametrize("where", ["key", "value", "nested key", "list item"])
def test_nul_in_metadata_is_refused(stub: LoyaltyServiceStub, where: str) -> None:
    values: dict[str, Any] = {
        "key": {"a\x00b": "v"},
        "value": {"k": "a\x00b"},
        "nested key": {"k": {"x\x00": 1}},
        "list item": {"k": ["ok", "a\x00"]},
    }
    metadata = struct_pb2.Struct()
    metadata.update(values[where])
    error = expect_error(stub.CreateGiftCards, _card_with(metadata), INVALID)
    assert any("NUL" in d for d in error.violations.values()), error
    card = _new_card(stub)
    update = pb.UpdateGiftCardsRequest(
        gift_cards=[pb.UpdateGiftCardInput(id=card.id, metadata=metadata)]
    )
    expect_error(stub.UpdateGiftCards, update, INVALID)


# ------------------------------------------------------------ 6. too deep


def _nested(levels: int) -> bytes:
    """A Struct `levels` deep, as raw protobuf (the Python runtime refuses to build
    one deeper than its own limit, so the bytes are written by hand)."""

    def ld(field: int, payload: bytes) -> bytes:
        return bytes([(field << 3) | 2]) + _varint(len(payload)) + payload

    inner = b""
    for _ in range(levels - 1):
        inner = ld(1, ld(1, b"a") + ld(2, ld(5, inner)))  # fields{"a": Value{struct_value}}
    return inner


@pytest.mark.parametrize("levels", [33, 34, 40, 90])
def test_metadata_too_deep_says_so_with_the_limit(channel: grpc.Channel, levels: int) -> None:
    struct = _nested(levels)
    card = pb.CreateGiftCardInput(value="5", currency_code="usd").SerializeToString()
    card += b"\x5a" + _varint(len(struct)) + struct  # field 11: metadata
    request = b"\x0a" + _varint(len(card)) + card  # field 1: gift_cards
    call = channel.unary_unary("/loyalty.v1.LoyaltyService/CreateGiftCards")
    with pytest.raises(grpc.RpcError) as raised:
        call(request, timeout=10)
    error = rich_error(raised.value)
    assert error.code == INVALID, error
    assert "32 levels" in error.message, error
    assert "UTF-8" not in error.message, error


def _varint(n: int) -> bytes:
    out = b""
    while True:
        byte, n = n & 0x7F, n >> 7
        out += bytes([byte | 0x80 if n else byte])
        if not n:
            return out


def test_metadata_at_the_depth_limit_is_accepted(stub: LoyaltyServiceStub) -> None:
    value: dict[str, Any] = {}
    for _ in range(31):
        value = {"a": value}
    metadata = struct_pb2.Struct()
    metadata.update(value)  # 32 levels with the outer object
    created = stub.CreateGiftCards(_card_with(metadata), timeout=10).gift_cards[0]
    assert created.metadata == metadata


# ------------------------------------------------------------ 2. page tokens


def _old_style(tag_scope: str, seq: str) -> str:
    tag = hashlib.sha256(tag_scope.encode()).hexdigest()[:12]
    return base64.urlsafe_b64encode(f"v1:{tag}:{seq}".encode()).decode().rstrip("=")


def test_forged_page_tokens_are_invalid(stub: LoyaltyServiceStub, uid: str) -> None:
    customer = f"cus_tok_{uid}"
    for n in range(3):
        stub.AdjustPoints(
            pb.AdjustPointsRequest(customer_id=customer, delta=str(n + 1)), timeout=10
        )
    first = stub.ListPointAdjustments(
        pb.ListPointAdjustmentsRequest(customer_id=customer, page_size=1), timeout=10
    )
    token = first.next_page_token
    assert token
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    flipped = bytearray(raw)
    flipped[10] ^= 0x01  # inside the sequence number
    forged = [
        _old_style(f"points:{customer}", "99999999999999999999"),
        _old_style(f"points:{customer}", "-9223372036854775809"),
        _old_style(f"points:{customer}", "2"),
        base64.urlsafe_b64encode(bytes(flipped)).decode().rstrip("="),
        token[:-2],
        token + "AA",
        token[:5] + "!" + token[5:],
        "x" * 5000,
        "\u00e9t\u00e9",
    ]
    card = _new_card(stub)
    for bad in forged:
        for rpc, request in (
            (
                stub.ListPointAdjustments,
                pb.ListPointAdjustmentsRequest(customer_id=customer, page_token=bad),
            ),
            (
                stub.ListGiftCardTransactions,
                pb.ListGiftCardTransactionsRequest(gift_card_id=card.id, page_token=bad),
            ),
        ):
            error = expect_error(rpc, request, INVALID)
            assert error.message.startswith("page_token is invalid"), (bad, error)
            assert "page_token" in error.violations
    # another customer's token is refused too; the real one still works
    expect_error(
        stub.ListPointAdjustments,
        pb.ListPointAdjustmentsRequest(customer_id=customer + "x", page_token=token),
        INVALID,
    )
    second = stub.ListPointAdjustments(
        pb.ListPointAdjustmentsRequest(customer_id=customer, page_size=1, page_token=token),
        timeout=10,
    )
    assert [a.delta for a in second.point_adjustments] == ["2"]


# ------------------------------------------------------------ 7. unknown methods


def test_unknown_method_without_token_is_unauthenticated(
    start_server: Callable[..., ServerProcess], backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("authentication does not depend on the backend")
    key = "lk_hostile_" + "k" * 24
    digest = hashlib.sha256(key.encode()).hexdigest()
    server = start_server(api_keys=f"rw:{digest}=loyalty:read,loyalty:write")
    with server.channel() as channel:
        for method in (
            "/loyalty.v1.LoyaltyService/NoSuchMethod",
            "/loyalty.v1.NoSuchService/Get",
            "/no.such.Service/Method",
        ):
            call = channel.unary_unary(method)
            with pytest.raises(grpc.RpcError) as raised:
                call(b"", timeout=10)
            assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED, method
            with pytest.raises(grpc.RpcError) as raised:
                call(b"", timeout=10, metadata=[("authorization", "Bearer nope")])
            assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED, method
        # with a valid token, an unknown method is simply unknown
        with pytest.raises(grpc.RpcError) as raised:
            channel.unary_unary("/loyalty.v1.LoyaltyService/NoSuchMethod")(
                b"", timeout=10, metadata=[("authorization", f"Bearer {key}")]
            )
        assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED


# ------------------------------------------------------------ 3. lock order


def _deadlocks(database: str) -> int:
    admin = pg_admin_url().replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        row = conn.execute(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = %s", (database,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def _stat_flush_wait() -> None:
    # pg_stat_database is fed by backends at most once a second (PostgreSQL 15).
    time.sleep(1.5)


@pytest.mark.reliability
def test_batches_and_single_writes_on_shared_customers_never_deadlock(
    start_server: Callable[..., ServerProcess], backend: str, uid: str
) -> None:
    """24 callers over 6 customers: batches naming them in random orders (new and
    existing accounts, keyed and not) against single adjustments with and without
    history. No deadlock is counted, no call is slow, no call fails but for a refusal."""
    if backend != "postgres":
        pytest.skip("row locks and pg_stat_database: PostgreSQL")
    server = start_server(workers=2)
    database = server.database_url.rsplit("/", 1)[1]
    before = _deadlocks(database)
    rounds = [f"{uid}r{r}" for r in range(10)]  # each round starts with 6 new accounts
    barrier = threading.Barrier(24)
    failures: list[str] = []
    slowest = [0.0]
    lock = threading.Lock()

    def caller(n: int) -> None:
        rng = random.Random(n)
        with server.channel() as channel:
            stub = LoyaltyServiceStub(channel)
            stub.GetPointsBalance(pb.GetPointsBalanceRequest(customer_id="warm"), timeout=10)
            for round_ in rounds:
                customers = [f"cus_dl_{round_}_{c}" for c in range(6)]
                barrier.wait(60)  # everyone races for the same new accounts at once
                for i in range(3):
                    started = time.monotonic()
                    try:
                        if n % 3 != 0:
                            chosen = rng.sample(customers, rng.randint(2, 6))
                            stub.BatchAdjustPoints(
                                pb.BatchAdjustPointsRequest(
                                    adjustments=[
                                        pb.BatchAdjustPointsItem(
                                            customer_id=c,
                                            delta="1",
                                            idempotency_key=f"{n}-{i}-{c}" if i % 2 else "",
                                        )
                                        for c in chosen
                                    ]
                                ),
                                timeout=20,
                            )
                        else:
                            stub.AdjustPoints(
                                pb.AdjustPointsRequest(
                                    customer_id=rng.choice(customers),
                                    delta=rng.choice(["3", "-1"]),
                                    include_history=i % 3 == 0,
                                    idempotency_key=f"s{n}-{i}" if i % 2 else "",
                                ),
                                timeout=20,
                            )
                    except grpc.RpcError as error:
                        if error.code() != grpc.StatusCode.FAILED_PRECONDITION:  # overdraft
                            with lock:
                                failures.append(f"{error.code().name}: {error.details()}")
                    with lock:
                        slowest[0] = max(slowest[0], time.monotonic() - started)

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    _stat_flush_wait()
    assert not failures, failures[:5]
    assert _deadlocks(database) == before, "PostgreSQL detected a deadlock"
    assert slowest[0] < 3.0, f"slowest call took {slowest[0]:.2f} s"
    # balances still equal their ledgers
    assert verify(server.database_url).ok


# ------------------------------------------------------------ 4. SQLite storm


@pytest.mark.reliability
def test_sqlite_deadline_storm_drops_abandoned_work_and_logs_the_truth(
    start_server: Callable[..., ServerProcess], backend: str, uid: str
) -> None:
    if backend != "sqlite":
        pytest.skip("the embedded default's write queue")
    server = start_server()
    customers = [f"cus_storm_{uid}_{c}" for c in range(16)]
    outcomes: dict[str, int] = {}

    async def storm() -> None:
        async with grpc.aio.insecure_channel(server.target) as channel:
            stub = LoyaltyServiceStub(channel)
            rng = random.Random(7)
            slots = asyncio.Semaphore(64)

            async def one(i: int) -> None:
                async with slots:
                    try:
                        await stub.AdjustPoints(
                            pb.AdjustPointsRequest(
                                customer_id=customers[i % 16],
                                delta="1",
                                idempotency_key=f"storm-{i}",
                            ),
                            timeout=rng.uniform(0.002, 0.080),
                        )
                        name = "OK"
                    except grpc.aio.AioRpcError as error:
                        name = error.code().name
                    outcomes[name] = outcomes.get(name, 0) + 1

            await asyncio.gather(*(one(i) for i in range(2000)))

    asyncio.run(storm())
    assert set(outcomes) <= {"OK", "DEADLINE_EXCEEDED", "CANCELLED"}, outcomes
    assert outcomes.get("DEADLINE_EXCEEDED", 0) > 100, outcomes  # it was a storm
    # right after it, a normal write is not stuck behind the abandoned ones
    with server.channel() as channel:
        stub = LoyaltyServiceStub(channel)
        started = time.monotonic()
        stub.AdjustPoints(
            pb.AdjustPointsRequest(customer_id=f"cus_after_{uid}", delta="1"), timeout=1
        )
        assert time.monotonic() - started < 1.0
        applied = sum(
            int(
                stub.GetPointsBalance(pb.GetPointsBalanceRequest(customer_id=c), timeout=10).balance
            )
            for c in customers
        )
    # The log tells the truth: every storm call has one line; the ones applied are
    # exactly those logged OK or CANCELLED with "applied": true.
    time.sleep(0.5)
    lines = [
        e
        for e in log_entries(server)
        if e.get("rpc") == "/loyalty.v1.LoyaltyService/AdjustPoints" and e["msg"] == "call"
    ]
    storm_lines = lines[:-1]  # the last one is the normal write after the storm
    # Calls whose deadline passed before gRPC dispatched them have no line and did
    # nothing; each call that reached the service has exactly one.
    assert 0 < len(storm_lines) <= 2000, len(storm_lines)
    cancelled = [e for e in storm_lines if e["code"] == "CANCELLED"]
    assert all("applied" in e for e in cancelled), cancelled[:3]
    logged_applied = sum(
        1 for e in storm_lines if e["code"] == "OK" or (e["code"] == "CANCELLED" and e["applied"])
    )
    assert logged_applied == applied, (logged_applied, applied, outcomes)


# ------------------------------------------------------------ 3b. saturation


@pytest.mark.reliability
def test_pool_wait_is_busy_not_unavailable(
    start_server: Callable[..., ServerProcess], backend: str, uid: str
) -> None:
    """Every connection of the process is stuck behind a row lock held outside: the
    calls that find no connection within the bound are RESOURCE_EXHAUSTED / BUSY
    (the database is healthy), and all is well once the lock goes."""
    if backend != "postgres":
        pytest.skip("connection pools: PostgreSQL")
    server = start_server(db_pool_size=2)
    customer = f"cus_busy_{uid}"
    with server.channel() as channel:
        stub = LoyaltyServiceStub(channel)
        stub.AdjustPoints(pb.AdjustPointsRequest(customer_id=customer, delta="100"), timeout=10)
        url = server.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(url) as holder:
            holder.execute(
                "SELECT 1 FROM point_accounts WHERE customer_id = %s FOR UPDATE", (customer,)
            )
            futures = [
                stub.AdjustPoints.future(
                    pb.AdjustPointsRequest(customer_id=customer, delta="1", include_history=True),
                    timeout=20,
                )
                for _ in range(8)
            ]
            codes: list[grpc.StatusCode] = []
            for future in futures[1:]:
                try:
                    future.result()
                    codes.append(grpc.StatusCode.OK)
                except grpc.RpcError as error:
                    codes.append(error.code())
                    if error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
                        rich = rich_error(error)
                        assert rich.reason == "BUSY" and "busy" in rich.message, rich
            holder.rollback()
        assert grpc.StatusCode.UNAVAILABLE not in codes, codes
        assert grpc.StatusCode.RESOURCE_EXHAUSTED in codes, codes
        futures[0].result()  # the one that had a connection finishes once the lock goes
        stub.AdjustPoints(pb.AdjustPointsRequest(customer_id=customer, delta="1"), timeout=10)


# ------------------------------------------------------------ ids


def _id_requests(bad: str) -> list[tuple[str, Any, str]]:
    """(rpc, request, violated field) for every kind of id the service takes."""
    return [
        ("AdjustPoints", pb.AdjustPointsRequest(customer_id=bad, delta="1"), "customer_id"),
        ("GetPointsBalance", pb.GetPointsBalanceRequest(customer_id=bad), "customer_id"),
        (
            "BatchAdjustPoints",
            pb.BatchAdjustPointsRequest(
                adjustments=[pb.BatchAdjustPointsItem(customer_id=bad, delta="1")]
            ),
            "adjustments[0].customer_id",
        ),
        ("RetrieveGiftCard", pb.RetrieveGiftCardRequest(id=bad), "id"),
        (
            "UpdateGiftCards",
            pb.UpdateGiftCardsRequest(gift_cards=[pb.UpdateGiftCardInput(id=bad, note="n")]),
            "gift_cards[0].id",
        ),
        (
            "DebitGiftCard",
            pb.DebitGiftCardRequest(id=bad, amount="1", currency_code="usd"),
            "id",
        ),
        (
            "ListGiftCardTransactions",
            pb.ListGiftCardTransactionsRequest(gift_card_id=bad),
            "gift_card_id",
        ),
        ("SoftDeleteGiftCards", pb.SoftDeleteGiftCardsRequest(ids=[bad]), "ids[0]"),
        (
            "CreateStoreCreditAccounts",
            pb.CreateStoreCreditAccountsRequest(
                accounts=[pb.CreateStoreCreditAccountInput(customer_id=bad, currency_code="usd")]
            ),
            "accounts[0].customer_id",
        ),
        (
            "CreditAccounts",
            pb.CreditAccountsRequest(credits=[pb.AccountEntryInput(account_id=bad, amount="1")]),
            "credits[0].account_id",
        ),
        ("RetrieveAccountStats", pb.RetrieveAccountStatsRequest(account_id=bad), "account_id"),
        ("DeleteAccountTransactions", pb.DeleteAccountTransactionsRequest(ids=[bad]), "ids[0]"),
    ]


@pytest.mark.parametrize("bad", [" cus_1", "cus_1 ", "cus\t1", "cus\n1", "cus\x7f1", "\u00a0cus"])
def test_ids_with_edge_space_or_control_characters_are_invalid(
    stub: LoyaltyServiceStub, bad: str
) -> None:
    """One rule for every id field: " cus_1" is not silently another customer."""
    for rpc, request, field in _id_requests(bad):
        error = expect_error(getattr(stub, rpc), request, INVALID)
        assert field in error.violations, (rpc, bad, error)
    # inner spaces stay allowed (ids are opaque to the service)
    stub.AdjustPoints(pb.AdjustPointsRequest(customer_id="cus inner space", delta="1"), timeout=10)
