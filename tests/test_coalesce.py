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


def _batch_sizes(log: str) -> list[int]:
    sizes = []
    for line in log.splitlines():
        if line.startswith("{") and '"coalesced"' in line:
            sizes.append(int(json.loads(line)["calls"]))
    return sizes


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
            assert [r.replayed for r in ok].count(False) <= 1
            row = rows[ok[0].id]
            assert row.balance_after == ok[0].balance_after
            applied += 1
        refusals += len(refused)
    assert applied == sum(len(ledger) for ledger in ledgers.values())
    assert refusals > 0 and applied > len(by_key) // 2  # both kinds of answer were given

    for customer, ledger in ledgers.items():
        running = Decimal(0)
        for row in ledger:  # one chain: every row follows from the one before
            running += Decimal(row.delta)
            assert Decimal(row.balance_after) == running >= 0, (customer, row)
        assert Decimal(balances[customer].balance) == running

    sizes = _batch_sizes(pg_server.log_text())
    assert sum(sizes) >= len(requests) // 2, sizes  # most calls went the coalesced way
    assert max(sizes) > 1, sizes  # and calls did share statements
    assert max(sizes) <= CUSTOMERS  # never two of one customer in one statement


def test_a_locked_row_does_not_hold_up_other_customers(pg_server: Any, uid: str) -> None:
    locked, other = f"cus_locked_{uid}", f"cus_free_{uid}"
    with pg_server.channel() as channel:
        stub = LoyaltyServiceStub(channel)
        for customer in (locked, other):
            stub.AdjustPoints(pb.AdjustPointsRequest(customer_id=customer, delta="10"), timeout=10)
    url = pg_server.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url) as blocker:
        blocker.execute("SELECT 1 FROM point_accounts WHERE customer_id = %s FOR UPDATE", (locked,))

        async def run() -> tuple[Any, list[float]]:
            async with grpc.aio.insecure_channel(pg_server.target) as channel:
                stub = LoyaltyServiceStub(channel)
                stuck = asyncio.ensure_future(
                    _send(stub, pb.AdjustPointsRequest(customer_id=locked, delta="1"))
                )
                await asyncio.sleep(0.2)  # its statement now waits on the lock
                took = []
                for _ in range(20):
                    started = time.monotonic()
                    reply = await _send(stub, pb.AdjustPointsRequest(customer_id=other, delta="1"))
                    assert isinstance(reply, pb.AdjustPointsResponse), reply
                    took.append(time.monotonic() - started)
                assert not stuck.done()
                blocker.rollback()  # release the row: the stuck call goes through
                return await stuck, took

        stuck, took = asyncio.run(run())
    assert isinstance(stuck, pb.AdjustPointsResponse), stuck
    assert stuck.balance_after == "11"
    assert max(took) < 1.0, took
    with pg_server.channel() as channel:
        stub = LoyaltyServiceStub(channel)
        free = stub.GetPointsBalance(pb.GetPointsBalanceRequest(customer_id=other), timeout=10)
    assert free.balance == "30"
