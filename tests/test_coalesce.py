"""AdjustPoints calls coalesced into one statement (store/coalesce.py, PostgreSQL):
under concurrency each call must still be exactly its own write, with the answer
the locking path would give, and one locked row must not hold up the others."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import grpc
import psycopg
import pytest

from loyalty.v1 import loyalty_pb2 as pb
from loyalty.v1.loyalty_pb2_grpc import LoyaltyServiceStub

CUSTOMERS = 6
CALLS = 600
CONCURRENCY = 48


@pytest.fixture
def pg_server(backend: str, start_server: Callable[..., Any]) -> Any:
    if backend != "postgres":
        pytest.skip("coalescing is PostgreSQL's hot path; SQLite takes the locking path")
    return start_server(log_level="DEBUG")


def _batches(log: str) -> list[tuple[int, int]]:
    """(calls, applied) of every coalesced statement the server logged."""
    found = []
    for line in log.splitlines():
        if line.startswith("{") and '"coalesced"' in line:
            entry = json.loads(line)
            found.append((int(entry["calls"]), int(entry["applied"])))
    return found


async def _send(stub: LoyaltyServiceStub, request: pb.AdjustPointsRequest) -> Any:
    try:
        return await stub.AdjustPoints(request, timeout=30)
    except grpc.aio.AioRpcError as error:
        return error


def _ledger(stub: LoyaltyServiceStub, customer: str) -> list[pb.PointAdjustment]:
    page = stub.ListPointAdjustments(
        pb.ListPointAdjustmentsRequest(customer_id=customer, page_size=1000), timeout=10
    )
    return list(reversed(page.point_adjustments))  # oldest first


def test_every_coalesced_call_is_its_own_write(pg_server: Any, uid: str) -> None:
    """Credits, debits that must be refused, first-time accounts and keys sent twice,
    all at once on a few customers: batches form, and every answer matches the ledger."""
    rng = random.Random(7)
    customers = [f"cus_co{i}_{uid}" for i in range(CUSTOMERS)]
    requests: list[pb.AdjustPointsRequest] = []
    for n in range(CALLS):
        customer = rng.choice(customers)
        delta = rng.choice(["1", "2.5", "-3", "-0.75"])
        requests.append(
            pb.AdjustPointsRequest(
                customer_id=customer, delta=delta, reason=f"r{n}", idempotency_key=f"k{n}"
            )
        )
    twice = rng.sample(requests, 60)
    requests += twice
    rng.shuffle(requests)

    async def run() -> list[Any]:
        async with grpc.aio.insecure_channel(pg_server.target) as channel:
            stub = LoyaltyServiceStub(channel)
            gate = asyncio.Semaphore(CONCURRENCY)

            async def one(request: pb.AdjustPointsRequest) -> Any:
                async with gate:
                    return await _send(stub, request)

            return await asyncio.gather(*(one(r) for r in requests))

    answers = asyncio.run(run())

    with pg_server.channel() as channel:
        stub = LoyaltyServiceStub(channel)
        ledgers = {c: _ledger(stub, c) for c in customers}
        balances = {
            c: stub.GetPointsBalance(pb.GetPointsBalanceRequest(customer_id=c), timeout=10)
            for c in customers
        }

    by_key: dict[str, list[Any]] = defaultdict(list)
    for request, answer in zip(requests, answers, strict=True):
        by_key[request.idempotency_key].append(answer)
    rows = {row.id: row for ledger in ledgers.values() for row in ledger}
    applied = refusals = 0
    for key, replies in by_key.items():
        ok = [r for r in replies if isinstance(r, pb.AdjustPointsResponse)]
        refused = [r for r in replies if not isinstance(r, pb.AdjustPointsResponse)]
        for error in refused:
            assert error.code() == grpc.StatusCode.FAILED_PRECONDITION, error
            assert "insufficient points" in error.details()
        if ok:
            assert len({r.id for r in ok}) == 1, (key, ok)  # one write per key
            assert [r.replayed for r in ok].count(False) == 1, (key, ok)
            row = rows[ok[0].id]
            assert {r.balance_after for r in ok} == {row.balance_after}  # replays too
            applied += 1
        refusals += len(refused)
    applied_total = sum(len(ledger) for ledger in ledgers.values())
    assert applied == applied_total
    assert refusals > 0 and applied > len(by_key) // 2  # both kinds of answer were given

    for customer, ledger in ledgers.items():
        running = Decimal(0)
        for row in ledger:  # one chain: every row follows from the one before
            running += Decimal(row.delta)
            assert Decimal(row.balance_after) == running >= 0, (customer, row)
        assert Decimal(balances[customer].balance) == running

    batches = _batches(pg_server.log_text())
    # Most writes were made by coalesced statements, many of them sharing one, and
    # never two calls of one customer in a statement (it would fail as a whole).
    assert sum(applied for _, applied in batches) >= applied_total // 2, batches
    assert max(applied for _, applied in batches) > 1, batches
    assert max(calls for calls, _ in batches) <= CUSTOMERS, batches


def test_a_locked_row_does_not_hold_up_other_customers(pg_server: Any, uid: str) -> None:
    """A customer's row locked elsewhere for seconds: calls for other customers,
    alone, sharing a statement with the locked one, or after many calls for it,
    all finish at once; the locked customer's calls finish when the lock goes."""
    locked = f"cus_locked_{uid}"
    others = [f"cus_free{i}_{uid}" for i in range(6)]
    with pg_server.channel() as channel:
        stub = LoyaltyServiceStub(channel)
        for customer in [locked, *others]:
            stub.AdjustPoints(pb.AdjustPointsRequest(customer_id=customer, delta="10"), timeout=10)
    url = pg_server.database_url.replace("postgresql+psycopg://", "postgresql://", 1)

    def adjust(customer: str) -> pb.AdjustPointsRequest:
        return pb.AdjustPointsRequest(customer_id=customer, delta="1")

    async def run(blocker: psycopg.Connection[Any]) -> tuple[list[Any], list[float]]:
        async with grpc.aio.insecure_channel(pg_server.target) as channel:
            stub = LoyaltyServiceStub(channel)

            async def timed(customer: str) -> float:
                started = time.monotonic()
                reply = await _send(stub, adjust(customer))
                assert isinstance(reply, pb.AdjustPointsResponse), reply
                return time.monotonic() - started

            stuck = [asyncio.ensure_future(_send(stub, adjust(locked)))]
            await asyncio.sleep(0.2)  # its statement waits on the lock (or gave up)
            took = [await timed(customer) for customer in others]  # one at a time
            # the locked customer together with others, so that they share statements
            stuck.append(asyncio.ensure_future(_send(stub, adjust(locked))))
            took += await asyncio.gather(*(timed(customer) for customer in others))
            for _ in range(5):  # more calls for the locked row pile up
                stuck.append(asyncio.ensure_future(_send(stub, adjust(locked))))
                await asyncio.sleep(0.04)
            took += await asyncio.gather(*(timed(customer) for customer in others))
            assert not any(call.done() for call in stuck)
            blocker.rollback()  # release the row: the stuck calls go through
            return list(await asyncio.gather(*stuck)), took

    with psycopg.connect(url) as blocker:
        blocker.execute("SELECT 1 FROM point_accounts WHERE customer_id = %s FOR UPDATE", (locked,))
        stuck, took = asyncio.run(run(blocker))
    assert all(isinstance(reply, pb.AdjustPointsResponse) for reply in stuck), stuck
    assert sorted(reply.balance_after for reply in stuck) == [str(b) for b in range(11, 18)]
    assert max(took) < 1.0, took
    with pg_server.channel() as channel:
        stub = LoyaltyServiceStub(channel)
        for customer in others:
            reply = stub.GetPointsBalance(pb.GetPointsBalanceRequest(customer_id=customer))
            assert reply.balance == "13"
