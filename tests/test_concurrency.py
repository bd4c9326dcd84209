"""Concurrent writes never lose an update and never overdraw (both backends;
the PostgreSQL half is the one that matters for production)."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import grpc

from loyalty.v1 import loyalty_pb2 as pb
from loyalty.v1.loyalty_pb2_grpc import LoyaltyServiceStub


def _outcome(call):  # type: ignore[no-untyped-def]
    try:
        return call()
    except grpc.RpcError as error:
        return error.code()


def test_50_concurrent_debits_of_1_on_a_card_worth_20(stub: LoyaltyServiceStub) -> None:
    card = stub.CreateGiftCards(
        pb.CreateGiftCardsRequest(
            gift_cards=[pb.CreateGiftCardInput(value="20", currency_code="usd")]
        )
    ).gift_cards[0]

    def debit() -> object:
        return _outcome(
            lambda: stub.DebitGiftCard(
                pb.DebitGiftCardRequest(id=card.id, amount="1", currency_code="usd"), timeout=30
            )
        )

    with ThreadPoolExecutor(50) as pool:
        outcomes = list(pool.map(lambda _: debit(), range(50)))
    successes = [o for o in outcomes if isinstance(o, pb.DebitGiftCardResponse)]
    refusals = [o for o in outcomes if o == grpc.StatusCode.FAILED_PRECONDITION]
    assert len(successes) == 20 and len(refusals) == 30, outcomes
    assert sorted(Decimal(s.balance) for s in successes) == list(range(20))
    final = stub.RetrieveGiftCard(pb.RetrieveGiftCardRequest(id=card.id))
    assert (final.balance, final.status) == ("0", pb.GIFT_CARD_STATUS_REDEEMED)
    txs = stub.ListGiftCardTransactions(
        pb.ListGiftCardTransactionsRequest(gift_card_id=card.id, page_size=100)
    ).gift_card_transactions
    assert len(txs) == 20
    # The ledger is a chain in commit order (newest first here).
    assert [t.balance_after for t in txs] == [str(i) for i in range(20)]


def test_mixed_credits_and_debits_sum_up(stub: LoyaltyServiceStub) -> None:
    card = stub.CreateGiftCards(
        pb.CreateGiftCardsRequest(
            gift_cards=[pb.CreateGiftCardInput(value="100", currency_code="eur")]
        )
    ).gift_cards[0]
    rng = random.Random(7)
    operations = [
        (rng.choice(["debit", "credit"]), Decimal(rng.randint(1, 900)) / 100) for _ in range(120)
    ]

    def run(op: tuple[str, Decimal]) -> tuple[str, Decimal, bool]:
        kind, amount = op
        if kind == "debit":
            method, request = stub.DebitGiftCard, pb.DebitGiftCardRequest
        else:
            method, request = stub.CreditGiftCard, pb.CreditGiftCardRequest  # type: ignore[assignment]
        outcome = _outcome(
            lambda: method(request(id=card.id, amount=str(amount), currency_code="eur"), timeout=30)
        )
        if isinstance(outcome, grpc.StatusCode):
            assert outcome == grpc.StatusCode.FAILED_PRECONDITION
            return kind, amount, False
        return kind, amount, True

    with ThreadPoolExecutor(24) as pool:
        results = list(pool.map(run, operations))
    expected = Decimal(100)
    for kind, amount, succeeded in results:
        if succeeded:
            expected += amount if kind == "credit" else -amount
    final = stub.RetrieveGiftCard(pb.RetrieveGiftCardRequest(id=card.id))
    assert Decimal(final.balance) == expected
    assert Decimal(0) <= expected <= Decimal(100)


def test_concurrent_point_adjustments_lose_nothing(stub: LoyaltyServiceStub, uid: str) -> None:
    customers = [f"hot_{uid}_{i}" for i in range(3)]
    rng = random.Random(11)
    jobs = [
        (rng.choice(customers), rng.choice(["5", "-3", "1.5", "-0.5", "2"])) for _ in range(300)
    ]

    def run(job: tuple[str, str]) -> tuple[str, str, bool]:
        customer, delta = job
        outcome = _outcome(
            lambda: stub.AdjustPoints(
                pb.AdjustPointsRequest(customer_id=customer, delta=delta), timeout=30
            )
        )
        if isinstance(outcome, grpc.StatusCode):
            assert outcome == grpc.StatusCode.FAILED_PRECONDITION, outcome
            return customer, delta, False
        return customer, delta, True

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(run, jobs))
    for customer in customers:
        expected = sum((Decimal(d) for c, d, ok in results if ok and c == customer), Decimal(0))
        reply = stub.GetPointsBalance(pb.GetPointsBalanceRequest(customer_id=customer))
        assert Decimal(reply.balance) == expected >= 0
        ledger = stub.ListPointAdjustments(
            pb.ListPointAdjustmentsRequest(customer_id=customer, page_size=1000)
        ).point_adjustments
        assert len(ledger) == sum(1 for c, _, ok in results if ok and c == customer)
        running = Decimal(0)
        for row in reversed(ledger):  # oldest first: each balance_after follows from the last
            running += Decimal(row.delta)
            assert Decimal(row.balance_after) == running


def test_racing_requests_with_one_key_apply_once(stub: LoyaltyServiceStub, uid: str) -> None:
    customer = f"race_{uid}"
    request = pb.AdjustPointsRequest(customer_id=customer, delta="10", idempotency_key="once")
    with ThreadPoolExecutor(20) as pool:
        replies = list(pool.map(lambda _: stub.AdjustPoints(request, timeout=30), range(20)))
    assert len({r.id for r in replies}) == 1
    assert sum(not r.replayed for r in replies) == 1  # one applied, nineteen replays
    assert {r.balance_after for r in replies} == {"10"}
    assert stub.GetPointsBalance(pb.GetPointsBalanceRequest(customer_id=customer)).balance == "10"

    card = stub.CreateGiftCards(
        pb.CreateGiftCardsRequest(
            gift_cards=[pb.CreateGiftCardInput(value="10", currency_code="usd")]
        )
    ).gift_cards[0]
    debit = pb.DebitGiftCardRequest(
        id=card.id, amount="3", currency_code="usd", idempotency_key="pay"
    )
    with ThreadPoolExecutor(20) as pool:
        spent = list(pool.map(lambda _: stub.DebitGiftCard(debit, timeout=30), range(20)))
    assert len({s.transaction.id for s in spent}) == 1
    assert sum(not s.replayed for s in spent) == 1
    assert stub.RetrieveGiftCard(pb.RetrieveGiftCardRequest(id=card.id)).balance == "7"

    # One key, the card named by its id and by its code at once: still one debit.
    by_code = pb.DebitGiftCardRequest(
        code=card.code, amount="3", currency_code="usd", idempotency_key="pay again"
    )
    by_id = pb.DebitGiftCardRequest(
        id=card.id, amount="3", currency_code="usd", idempotency_key="pay again"
    )
    with ThreadPoolExecutor(20) as pool:
        spent = list(
            pool.map(
                lambda i: stub.DebitGiftCard(by_code if i % 2 else by_id, timeout=30), range(20)
            )
        )
    assert len({s.transaction.id for s in spent}) == 1
    assert sum(not s.replayed for s in spent) == 1
    assert stub.RetrieveGiftCard(pb.RetrieveGiftCardRequest(id=card.id)).balance == "4"


def test_concurrent_debits_of_one_card_apply_in_order_within_its_balance(
    stub: LoyaltyServiceStub,
) -> None:
    """Debits of different sizes racing on one card (PostgreSQL sends those queued
    together in one statement): every success is one link of the ledger chain, the
    refusals are exactly those that no longer fit, and the card ends consistent."""
    card = stub.CreateGiftCards(
        pb.CreateGiftCardsRequest(
            gift_cards=[pb.CreateGiftCardInput(value="100", currency_code="usd")]
        )
    ).gift_cards[0]
    amounts = [Decimal(a) for a in ["7", "0.5", "13", "2.25", "30"] * 8]

    def debit(amount: Decimal) -> object:
        return _outcome(
            lambda: stub.DebitGiftCard(
                pb.DebitGiftCardRequest(code=card.code, amount=str(amount), currency_code="usd"),
                timeout=30,
            )
        )

    with ThreadPoolExecutor(40) as pool:
        outcomes = list(pool.map(debit, amounts))
    spent = [o for o in outcomes if isinstance(o, pb.DebitGiftCardResponse)]
    assert all(
        isinstance(o, pb.DebitGiftCardResponse) or o == grpc.StatusCode.FAILED_PRECONDITION
        for o in outcomes
    ), outcomes
    total = sum(Decimal(s.transaction.amount) for s in spent)
    final = stub.RetrieveGiftCard(pb.RetrieveGiftCardRequest(id=card.id))
    assert Decimal(final.balance) == 100 - total >= 0
    refused = [a for a, o in zip(amounts, outcomes, strict=True) if o not in spent]
    # A refusal came when the card held less than it asked; it holds less still now.
    assert all(a > Decimal(final.balance) for a in refused)
    txs = stub.ListGiftCardTransactions(
        pb.ListGiftCardTransactionsRequest(gift_card_id=card.id, page_size=100)
    ).gift_card_transactions
    assert {t.id for t in txs} == {s.transaction.id for s in spent}
    chain = list(reversed(txs))  # oldest first
    before = Decimal(100)
    for tx in chain:
        assert Decimal(tx.balance_after) == before - Decimal(tx.amount)
        before = Decimal(tx.balance_after)


def test_racing_creates_of_one_code(stub: LoyaltyServiceStub, uid: str) -> None:
    request = pb.CreateGiftCardsRequest(
        gift_cards=[pb.CreateGiftCardInput(code=f"RACE-{uid}", value="5", currency_code="usd")]
    )
    with ThreadPoolExecutor(10) as pool:
        outcomes = list(
            pool.map(
                lambda _: _outcome(lambda: stub.CreateGiftCards(request, timeout=30)), range(10)
            )
        )
    created = [o for o in outcomes if isinstance(o, pb.CreateGiftCardsResponse)]
    assert len(created) == 1
    assert all(o == grpc.StatusCode.ALREADY_EXISTS for o in outcomes if o not in created)
