"""The lean write path (one statement on PostgreSQL) under concurrency, and
`serve --workers`: the answers must be exactly those of the locking path."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import pytest

from loyalty.v1 import loyalty_pb2 as pb
from loyalty.v1.loyalty_pb2_grpc import LoyaltyServiceStub


def _parallel(calls: list[Callable[[], Any]], threads: int = 16) -> list[Any]:
    """Run the calls concurrently; each result is the response or the RpcError."""

    def run(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except grpc.RpcError as error:
            return error

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(run, calls))


def _card(stub: LoyaltyServiceStub, code: str, value: str) -> pb.GiftCard:
    request = pb.CreateGiftCardsRequest(
        gift_cards=[pb.CreateGiftCardInput(code=code, value=value, currency_code="usd")]
    )
    card: pb.GiftCard = stub.CreateGiftCards(request, timeout=10).gift_cards[0]
    return card


def test_hot_card_is_never_overdrawn(stub: LoyaltyServiceStub, uid: str) -> None:
    code = f"HOT-{uid}"
    card = _card(stub, code, "1")
    request = pb.DebitGiftCardRequest(code=code, amount="0.01", currency_code="usd")
    results = _parallel([lambda: stub.DebitGiftCard(request, timeout=30)] * 130)
    ok = [r for r in results if isinstance(r, pb.DebitGiftCardResponse)]
    refused = [r for r in results if isinstance(r, grpc.RpcError)]
    assert len(ok) == 100
    assert {r.code() for r in refused} == {grpc.StatusCode.FAILED_PRECONDITION}
    assert sorted(Decimal(r.balance) for r in ok) == [Decimal(i) / 100 for i in range(100)]
    after = stub.RetrieveGiftCard(pb.RetrieveGiftCardRequest(id=card.id), timeout=10)
    assert after.balance == "0"
    assert after.status == pb.GIFT_CARD_STATUS_REDEEMED
    page = stub.ListGiftCardTransactions(
        pb.ListGiftCardTransactionsRequest(gift_card_id=card.id, page_size=1000), timeout=10
    )
    assert len(page.gift_card_transactions) == 100


def test_one_debit_key_applies_once_under_a_race(stub: LoyaltyServiceStub, uid: str) -> None:
    code = f"KEY-{uid}"
    card = _card(stub, code, "50")
    request = pb.DebitGiftCardRequest(
        id=card.id, amount="5", currency_code="usd", idempotency_key=f"order-{uid}"
    )
    results = _parallel([lambda: stub.DebitGiftCard(request, timeout=30)] * 24)
    assert all(isinstance(r, pb.DebitGiftCardResponse) for r in results), results
    assert len({r.transaction.id for r in results}) == 1
    assert {r.balance for r in results} == {"45"}
    after = stub.RetrieveGiftCard(pb.RetrieveGiftCardRequest(code=code), timeout=10)
    assert after.balance == "45"


def test_one_adjustment_key_applies_once_under_a_race(stub: LoyaltyServiceStub, uid: str) -> None:
    customer = f"cus_race_{uid}"
    request = pb.AdjustPointsRequest(
        customer_id=customer, delta="7", reason="order", idempotency_key=f"order-{uid}"
    )
    results = _parallel([lambda: stub.AdjustPoints(request, timeout=30)] * 24)
    assert all(isinstance(r, pb.AdjustPointsResponse) for r in results), results
    assert len({r.id for r in results}) == 1
    assert {r.balance_after for r in results} == {"7"}
    balance = stub.GetPointsBalance(pb.GetPointsBalanceRequest(customer_id=customer), timeout=10)
    assert balance.balance == "7"


def test_concurrent_adjustments_with_history_see_their_own_write(
    stub: LoyaltyServiceStub, uid: str
) -> None:
    customer = f"cus_hist_{uid}"
    stub.AdjustPoints(pb.AdjustPointsRequest(customer_id=customer, delta="100"), timeout=10)
    calls = [
        (
            lambda d=d: stub.AdjustPoints(
                pb.AdjustPointsRequest(customer_id=customer, delta=d, include_history=True),
                timeout=30,
            )
        )
        for d in ["3", "-2"] * 20
    ]
    results = _parallel(calls)
    assert all(isinstance(r, pb.AdjustPointsResponse) for r in results), results
    for response in results:
        newest = response.history[0]
        assert (newest.id, newest.balance_after) == (response.id, response.balance_after)
        # the history is one consistent chain: each balance_after follows from the previous
        for newer, older in zip(response.history, response.history[1:], strict=False):
            assert Decimal(newer.balance_after) == Decimal(older.balance_after) + Decimal(
                newer.delta
            )
    final = stub.GetPointsBalance(pb.GetPointsBalanceRequest(customer_id=customer), timeout=10)
    assert final.balance == "120"


def test_group_commit_mixes_calls_with_and_without_history(
    stub: LoyaltyServiceStub, uid: str
) -> None:
    """Calls of many customers, half of them asking for the history, share batches:
    each history is its own customer's, headed by its own write; the others get none."""
    customers = [f"cus_mix_{uid}_{i:02d}" for i in range(24)]
    for customer in customers:
        stub.AdjustPoints(pb.AdjustPointsRequest(customer_id=customer, delta="10"), timeout=10)
    calls = [
        (
            lambda c=c, i=i: stub.AdjustPoints(
                pb.AdjustPointsRequest(customer_id=c, delta=str(i + 1), include_history=i % 2 == 0),
                timeout=30,
            )
        )
        for i, c in enumerate(customers)
    ]
    results = _parallel(calls)
    for i, (customer, response) in enumerate(zip(customers, results, strict=True)):
        assert isinstance(response, pb.AdjustPointsResponse), response
        assert response.balance_after == str(10 + i + 1)
        if i % 2:
            assert len(response.history) == 0
            continue
        assert [(h.customer_id, h.balance_after) for h in response.history] == [
            (customer, str(10 + i + 1)),
            (customer, "10"),
        ]
        assert response.history[0].id == response.id


def test_concurrent_reads_each_get_their_own_answer(stub: LoyaltyServiceStub, uid: str) -> None:
    """Balance and stats reads racing (PostgreSQL sends those queued together in one
    statement): each answer is its own customer's or account's, history or not,
    held points counted, an unknown customer at zero and an unknown account
    NOT_FOUND, whatever else shares its batch."""
    customers = [f"cus_read_{uid}_{i:02d}" for i in range(12)]
    for i, customer in enumerate(customers):
        for delta in range(1, i + 2):
            stub.AdjustPoints(
                pb.AdjustPointsRequest(customer_id=customer, delta=str(delta)), timeout=10
            )
    stub.HoldPoints(pb.HoldPointsRequest(customer_id=customers[3], points="4"), timeout=10)
    account = stub.CreateStoreCreditAccounts(
        pb.CreateStoreCreditAccountsRequest(
            accounts=[pb.CreateStoreCreditAccountInput(customer_id=uid, currency_code="usd")]
        ),
        timeout=10,
    ).accounts[0]
    stub.CreditAccounts(
        pb.CreditAccountsRequest(
            credits=[pb.AccountEntryInput(account_id=account.id, amount="12.5")]
        ),
        timeout=10,
    )
    calls: list[Callable[[], Any]] = []
    for round_ in range(4):
        for i, customer in enumerate(customers):
            calls.append(
                lambda c=customer, h=(i + round_) % 2 == 0: stub.GetPointsBalance(
                    pb.GetPointsBalanceRequest(customer_id=c, include_history=h), timeout=30
                )
            )
        calls.append(
            lambda: stub.GetPointsBalance(
                pb.GetPointsBalanceRequest(customer_id=f"cus_read_{uid}_none"), timeout=30
            )
        )
        calls.append(
            lambda: stub.RetrieveAccountStats(
                pb.RetrieveAccountStatsRequest(account_id=account.id), timeout=30
            )
        )
        calls.append(
            lambda: stub.RetrieveAccountStats(
                pb.RetrieveAccountStatsRequest(account_id=f"sc_acc_{uid}_none"), timeout=30
            )
        )
    for reply in _parallel(calls, threads=32):
        if isinstance(reply, pb.RetrieveAccountStatsResponse):
            assert (reply.id, reply.balance, reply.credits) == (account.id, "12.5", "12.5")
            continue
        if isinstance(reply, grpc.RpcError):
            assert reply.code() == grpc.StatusCode.NOT_FOUND, reply
            assert "_none" in (reply.details() or ""), reply
            continue
        assert isinstance(reply, pb.GetPointsBalanceResponse), reply
        if reply.customer_id.endswith("_none"):
            assert (reply.balance, len(reply.history)) == ("0", 0)
            continue
        i = customers.index(reply.customer_id)
        assert reply.balance == str((i + 1) * (i + 2) // 2)
        assert reply.held == ("4" if i == 3 else "0")
        if reply.history:
            assert [h.delta for h in reply.history] == [str(d) for d in range(i + 1, 0, -1)]
            assert {h.customer_id for h in reply.history} == {reply.customer_id}


def test_refusals_are_the_locking_paths_answers(stub: LoyaltyServiceStub, uid: str) -> None:
    customer = f"cus_ref_{uid}"
    with pytest.raises(grpc.RpcError) as first:
        stub.AdjustPoints(pb.AdjustPointsRequest(customer_id=customer, delta="-1"), timeout=10)
    assert first.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "insufficient points" in (first.value.details() or "")
    stub.AdjustPoints(pb.AdjustPointsRequest(customer_id=customer, delta="5"), timeout=10)
    key = f"k-{uid}"
    stub.AdjustPoints(
        pb.AdjustPointsRequest(customer_id=customer, delta="-5", idempotency_key=key), timeout=10
    )
    with pytest.raises(grpc.RpcError) as reused:
        stub.AdjustPoints(
            pb.AdjustPointsRequest(customer_id=customer, delta="-4", idempotency_key=key),
            timeout=10,
        )
    assert reused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "already used" in (reused.value.details() or "")

    code = f"REF-{uid}"
    _card(stub, code, "10")
    for amount, currency, words in (("11", "usd", "insufficient"), ("1", "eur", "not eur")):
        with pytest.raises(grpc.RpcError) as refused:
            stub.DebitGiftCard(
                pb.DebitGiftCardRequest(code=code, amount=amount, currency_code=currency),
                timeout=10,
            )
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert words in (refused.value.details() or "")
    with pytest.raises(grpc.RpcError) as missing:
        stub.DebitGiftCard(
            pb.DebitGiftCardRequest(code=f"NONE-{uid}", amount="1", currency_code="usd"),
            timeout=10,
        )
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


def test_negative_balances_when_allowed(start_server: Callable[..., Any], uid: str) -> None:
    server = start_server(allow_negative_balances=True)
    with server.channel() as channel:
        stub = LoyaltyServiceStub(channel)
        reply = stub.AdjustPoints(
            pb.AdjustPointsRequest(customer_id=f"cus_{uid}", delta="-3"), timeout=10
        )
        assert reply.balance_after == "-3"
        reply = stub.AdjustPoints(
            pb.AdjustPointsRequest(customer_id=f"cus_{uid}", delta="-4"), timeout=10
        )
        assert reply.balance_after == "-7"


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat[stat.rfind(")") + 2 :].split()[1]) == pid:
            found.append(int(entry))
    return found


def _workers(pid: int) -> list[int]:
    """Children that are server workers (not multiprocessing's resource tracker)."""
    found = []
    for child in _children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline:
            found.append(child)
    return found


def _serving_children(pid: int) -> int:
    return len(_workers(pid))


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


@pytest.mark.skipif(not Path("/proc").exists(), reason="counts processes through /proc")
def test_workers_share_the_port_and_stop_on_sigterm(
    backend: str, start_server: Callable[..., Any], uid: str
) -> None:
    server = start_server(workers=2)
    assert server.process is not None
    workers = _workers(server.process.pid)
    assert len(workers) == 2
    for i in range(8):
        # separate connections, so the kernel spreads them over the workers
        options = [("grpc.use_local_subchannel_pool", 1)]
        with grpc.insecure_channel(server.target, options=options) as channel:
            reply = LoyaltyServiceStub(channel).AdjustPoints(
                pb.AdjustPointsRequest(customer_id=f"cus_w_{uid}", delta="1"), timeout=10
            )
            assert reply.balance_after == str(i + 1)
    assert server.stop() == 0
    assert not [pid for pid in workers if _running(pid)]


@pytest.mark.skipif(not Path("/proc").exists(), reason="counts processes through /proc")
def test_workers_die_with_a_killed_parent(backend: str, start_server: Callable[..., Any]) -> None:
    """kill -9 of the server leaves no worker holding the port: a restart binds it."""
    server = start_server(workers=2)
    assert server.process is not None
    workers = _workers(server.process.pid)
    assert len(workers) == 2
    server.kill()
    deadline = time.monotonic() + 10
    while [pid for pid in workers if _running(pid)] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in workers if _running(pid)]
    server.start()  # same port
    with server.channel() as channel:
        reply = LoyaltyServiceStub(channel).GetOptions(pb.GetOptionsRequest(), timeout=10)
        assert reply.sections > 0
    assert server.stop() == 0


@pytest.mark.skipif(not Path("/proc").exists(), reason="counts processes through /proc")
def test_default_workers(backend: str, start_server: Callable[..., Any]) -> None:
    """One process on SQLite; one per core (here: at least one) on PostgreSQL."""
    server = start_server(workers=None)
    assert server.process is not None
    workers = _serving_children(server.process.pid)
    cores = len(os.sched_getaffinity(0))
    if backend == "sqlite" or cores == 1:
        assert workers == 0  # the server process serves by itself
    else:
        assert workers == cores
    assert server.stop() == 0


def _batch(items: list[tuple[str, str, str]]) -> pb.BatchAdjustPointsRequest:
    return pb.BatchAdjustPointsRequest(
        adjustments=[
            pb.BatchAdjustPointsItem(customer_id=c, delta=d, idempotency_key=k) for c, d, k in items
        ]
    )


def test_overlapping_batches_add_up(stub: LoyaltyServiceStub, uid: str) -> None:
    customers = [f"cus_b{i}_{uid}" for i in range(30)]
    stub.AdjustPoints(pb.AdjustPointsRequest(customer_id=customers[0], delta="1"), timeout=10)

    def batch(n: int) -> Callable[[], Any]:
        # every batch touches every customer, in a different order
        order = customers[n % 30 :] + customers[: n % 30]
        return lambda: stub.BatchAdjustPoints(
            _batch([(c, "2", f"b{n}-{c}") for c in order]), timeout=60
        )

    results = _parallel([batch(n) for n in range(12)], threads=6)
    assert all(isinstance(r, pb.BatchAdjustPointsResponse) for r in results), results
    for customer in customers:
        balance = stub.GetPointsBalance(
            pb.GetPointsBalanceRequest(customer_id=customer), timeout=10
        ).balance
        assert balance == ("25" if customer == customers[0] else "24")
    # replaying one of them changes nothing and answers the same ids
    again = batch(3)()
    assert [a.id for a in again.adjustments] == [a.id for a in results[3].adjustments]


def test_batch_refusal_or_reused_key_writes_nothing(stub: LoyaltyServiceStub, uid: str) -> None:
    a, b = f"cus_x_{uid}", f"cus_y_{uid}"
    first = stub.BatchAdjustPoints(_batch([(a, "10", "k1"), (b, "5", "")]), timeout=10)
    assert [x.balance_after for x in first.adjustments] == ["10", "5"]
    with pytest.raises(grpc.RpcError) as refused:
        stub.BatchAdjustPoints(_batch([(a, "1", ""), (b, "-6", "")]), timeout=10)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "adjustments[1]" in (refused.value.details() or "")
    # a key used before: that item replays, the rest applies
    mixed = stub.BatchAdjustPoints(_batch([(a, "10", "k1"), (b, "1", "")]), timeout=10)
    assert mixed.adjustments[0].id == first.adjustments[0].id
    assert [x.balance_after for x in mixed.adjustments] == ["10", "6"]
    for customer, expected in ((a, "10"), (b, "6")):
        reply = stub.GetPointsBalance(pb.GetPointsBalanceRequest(customer_id=customer), timeout=10)
        assert reply.balance == expected
