"""Model-based test (issue 7): a hypothesis RuleBasedStateMachine drives the real
server with random sequences of point adjustments (single and batch), gift card
creates, debits, credits, replays of keyed requests, key reuse with another body
and hard deletes. Every answer is compared with an in-memory model, and after
every step the invariants are checked: each stored balance equals the model's,
and `verify` (invariants 1-4 on the whole database) finds nothing wrong.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

import grpc
import pytest
from conftest import ServerProcess
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from reliability_support import check_verify, diagnostics, error_reason, report

from loyalty.v1 import loyalty_pb2 as pb
from loyalty.v1.loyalty_pb2_grpc import LoyaltyServiceStub
from loyalty_server.verify import verify

pytestmark = pytest.mark.reliability

EXAMPLES = {"postgres": 5, "sqlite": 3}
STEPS = 20
CUSTOMERS = 3
MAX_CARDS = 4
TIMEOUT = 10

cents = st.integers(1, 30_000).map(lambda c: Decimal(c) / 100)
signed_cents = st.integers(-30_000, 30_000).filter(bool).map(lambda c: Decimal(c) / 100)


def up_to(limit: Decimal) -> st.SearchStrategy[Decimal]:
    """Amounts in cents from 0.01 to `limit` (a whole number of cents)."""
    return st.integers(1, int(limit * 100)).map(lambda c: Decimal(c) / 100)


@dataclass
class Card:
    value: Decimal
    balance: Decimal


@dataclass
class Keyed:
    """A keyed write that returned OK, to be replayed or reused with another body."""

    kind: str  # points, debit, credit
    target: str
    amount: Decimal
    key: str
    row_id: str
    balance_after: Decimal


def _code(call: Callable[[], Any]) -> tuple[Any, grpc.StatusCode, str]:
    try:
        return call(), grpc.StatusCode.OK, ""
    except grpc.RpcError as error:
        assert isinstance(error, grpc.Call)
        return None, error.code(), error_reason(error)


class LoyaltyMachine(RuleBasedStateMachine):
    stub: LoyaltyServiceStub
    database_url: str
    steps = 0
    outcomes: ClassVar[Counter[str]] = Counter()

    def __init__(self) -> None:
        super().__init__()
        tag = uuid.uuid4().hex[:10]
        self.customers = [f"cus_model_{tag}_{i}" for i in range(CUSTOMERS)]
        self.points = dict.fromkeys(self.customers, Decimal(0))
        self.cards: dict[str, Card] = {}
        self.deleted: list[str] = []
        self.keyed: list[Keyed] = []

    # ------------------------------------------------------------ points

    def _adjust(self, customer: str, delta: Decimal, key: str) -> None:
        reply, code, reason = _code(
            lambda: self.stub.AdjustPoints(
                pb.AdjustPointsRequest(
                    customer_id=customer, delta=str(delta), reason="model", idempotency_key=key
                ),
                timeout=TIMEOUT,
            )
        )
        expected = self.points[customer] + delta
        LoyaltyMachine.outcomes[f"adjust {code.name}"] += 1
        if expected < 0:
            assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "NOT_ALLOWED")
            return
        assert code == grpc.StatusCode.OK, (code, reason)
        assert Decimal(reply.balance_after) == expected
        self.points[customer] = expected
        if key:
            self.keyed.append(Keyed("points", customer, delta, key, reply.id, expected))

    @rule(data=st.data(), i=st.integers(0, CUSTOMERS - 1), delta=signed_cents)
    def adjust(self, data: st.DataObject, i: int, delta: Decimal) -> None:
        customer = self.customers[i]
        if delta < 0 and self.points[customer] > 0 and data.draw(st.booleans(), label="fits"):
            delta = -data.draw(up_to(self.points[customer]), label="debit that fits")
        keyed = data.draw(st.booleans(), label="keyed")
        self._adjust(customer, delta, f"k-{uuid.uuid4().hex}" if keyed else "")

    @rule(
        items=st.lists(
            st.tuples(st.integers(0, CUSTOMERS - 1), signed_cents), min_size=1, max_size=4
        )
    )
    def batch(self, items: list[tuple[int, Decimal]]) -> None:
        """All or nothing, in request order."""
        reply, code, reason = _code(
            lambda: self.stub.BatchAdjustPoints(
                pb.BatchAdjustPointsRequest(
                    adjustments=[
                        pb.BatchAdjustPointsItem(
                            customer_id=self.customers[i], delta=str(d), reason="model batch"
                        )
                        for i, d in items
                    ]
                ),
                timeout=TIMEOUT,
            )
        )
        LoyaltyMachine.outcomes[f"batch {code.name}"] += 1
        after = dict(self.points)
        refused = False
        for i, delta in items:
            after[self.customers[i]] += delta
            refused = refused or after[self.customers[i]] < 0
        if refused:
            assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "NOT_ALLOWED")
            return
        assert code == grpc.StatusCode.OK, (code, reason)
        assert len(reply.adjustments) == len(items)
        self.points = after

    # ------------------------------------------------------------ gift cards

    @precondition(lambda self: len(self.cards) < MAX_CARDS)
    @rule(value=cents)
    def create_card(self, value: Decimal) -> None:
        reply = self.stub.CreateGiftCards(
            pb.CreateGiftCardsRequest(
                gift_cards=[pb.CreateGiftCardInput(value=str(value), currency_code="usd")]
            ),
            timeout=TIMEOUT,
        )
        card = reply.gift_cards[0]
        assert Decimal(card.balance) == value
        self.cards[card.id] = Card(value, value)

    def _spend(self, kind: str, card_id: str, amount: Decimal, key: str) -> None:
        method = self.stub.DebitGiftCard if kind == "debit" else self.stub.CreditGiftCard
        request = pb.DebitGiftCardRequest if kind == "debit" else pb.CreditGiftCardRequest
        reply, code, reason = _code(
            lambda: method(
                request(
                    id=card_id,
                    amount=str(amount),
                    currency_code="usd",
                    reference="model",
                    reference_id="order",
                    idempotency_key=key,
                ),
                timeout=TIMEOUT,
            )
        )
        LoyaltyMachine.outcomes[f"{kind} {code.name}"] += 1
        if card_id not in self.cards:
            assert code == grpc.StatusCode.NOT_FOUND, (code, reason)
            return
        card = self.cards[card_id]
        expected = card.balance - amount if kind == "debit" else card.balance + amount
        if not 0 <= expected <= card.value:
            assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "NOT_ALLOWED")
            return
        assert code == grpc.StatusCode.OK, (code, reason)
        assert Decimal(reply.balance) == expected
        assert reply.status == (
            pb.GIFT_CARD_STATUS_REDEEMED if expected == 0 else pb.GIFT_CARD_STATUS_PENDING
        )
        card.balance = expected
        if key:
            self.keyed.append(Keyed(kind, card_id, amount, key, reply.transaction.id, expected))

    @precondition(lambda self: self.cards)
    @rule(data=st.data(), amount=cents, kind=st.sampled_from(["debit", "credit"]))
    def spend(self, data: st.DataObject, amount: Decimal, kind: str) -> None:
        card_id = data.draw(st.sampled_from(sorted(self.cards)), label="card")
        card = self.cards[card_id]
        room = card.balance if kind == "debit" else card.value - card.balance
        if room > 0 and data.draw(st.booleans(), label="fits"):
            amount = data.draw(up_to(room), label="amount that fits")
        keyed = data.draw(st.booleans(), label="keyed")
        self._spend(kind, card_id, amount, f"k-{uuid.uuid4().hex}" if keyed else "")

    @precondition(lambda self: self.deleted)
    @rule(data=st.data(), amount=cents, kind=st.sampled_from(["debit", "credit"]))
    def spend_deleted(self, data: st.DataObject, amount: Decimal, kind: str) -> None:
        card_id = data.draw(st.sampled_from(self.deleted), label="deleted card")
        self._spend(kind, card_id, amount, "")

    @precondition(lambda self: self.cards)
    @rule(data=st.data())
    def delete_card(self, data: st.DataObject) -> None:
        """Hard delete: the card and its transactions go (Medusa semantics)."""
        card_id = data.draw(st.sampled_from(sorted(self.cards)), label="card")
        reply = self.stub.DeleteGiftCards(pb.DeleteGiftCardsRequest(ids=[card_id]), timeout=10)
        assert list(reply.ids) == [card_id]
        del self.cards[card_id]
        LoyaltyMachine.outcomes["delete OK"] += 1
        self.deleted.append(card_id)
        self.keyed = [k for k in self.keyed if k.target != card_id]

    # ------------------------------------------------------------ retries

    def _resend(self, keyed: Keyed, amount: Decimal) -> tuple[Any, grpc.StatusCode, str]:
        if keyed.kind == "points":
            return _code(
                lambda: self.stub.AdjustPoints(
                    pb.AdjustPointsRequest(
                        customer_id=keyed.target,
                        delta=str(amount),
                        reason="model",
                        idempotency_key=keyed.key,
                    ),
                    timeout=TIMEOUT,
                )
            )
        method = self.stub.DebitGiftCard if keyed.kind == "debit" else self.stub.CreditGiftCard
        request = pb.DebitGiftCardRequest if keyed.kind == "debit" else pb.CreditGiftCardRequest
        return _code(
            lambda: method(
                request(
                    id=keyed.target,
                    amount=str(amount),
                    currency_code="usd",
                    reference="model",
                    reference_id="order",
                    idempotency_key=keyed.key,
                ),
                timeout=TIMEOUT,
            )
        )

    @precondition(lambda self: self.keyed)
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        """The same keyed request again: the first answer, and nothing new written."""
        keyed = data.draw(st.sampled_from(self.keyed), label="keyed write")
        reply, code, reason = self._resend(keyed, keyed.amount)
        LoyaltyMachine.outcomes[f"replay {code.name}"] += 1
        assert code == grpc.StatusCode.OK, (code, reason)
        if keyed.kind == "points":
            assert (reply.id, Decimal(reply.balance_after)) == (keyed.row_id, keyed.balance_after)
        else:
            assert reply.transaction.id == keyed.row_id
            assert Decimal(reply.transaction.balance_after) == keyed.balance_after

    @precondition(lambda self: self.keyed)
    @rule(data=st.data(), other=cents)
    def reuse_key(self, data: st.DataObject, other: Decimal) -> None:
        """The same key with another body: CONFLICT, and nothing written."""
        keyed = data.draw(st.sampled_from(self.keyed), label="keyed write")
        amount = -other if keyed.kind == "points" and keyed.amount < 0 else other
        if amount == keyed.amount:
            amount += Decimal("0.01")
        _, code, reason = self._resend(keyed, amount)
        LoyaltyMachine.outcomes[f"reuse_key {reason}"] += 1
        assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "CONFLICT")

    # ------------------------------------------------------------ invariants

    @invariant()
    def matches_model_and_verifies(self) -> None:
        LoyaltyMachine.steps += 1
        for customer, balance in self.points.items():
            got = self.stub.GetPointsBalance(
                pb.GetPointsBalanceRequest(customer_id=customer), timeout=TIMEOUT
            )
            assert Decimal(got.balance) == balance, (customer, got.balance, balance)
        for card_id, card in self.cards.items():
            got_card = self.stub.RetrieveGiftCard(
                pb.RetrieveGiftCardRequest(id=card_id), timeout=TIMEOUT
            )
            assert Decimal(got_card.balance) == card.balance, (card_id, got_card.balance)
        result = verify(self.database_url)
        assert result.ok, result.problems


def test_state_machine_against_model(
    backend: str, start_server: Callable[..., ServerProcess]
) -> None:
    server = start_server(workers=1, db_pool_size=4)
    with grpc.insecure_channel(server.target) as channel, diagnostics(server):
        LoyaltyMachine.stub = LoyaltyServiceStub(channel)
        LoyaltyMachine.database_url = server.database_url
        LoyaltyMachine.steps = 0
        LoyaltyMachine.outcomes = Counter()
        run_state_machine_as_test(
            LoyaltyMachine,
            settings=settings(
                max_examples=EXAMPLES[backend],
                stateful_step_count=STEPS,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
            ),
        )
    line = check_verify(server.database_url)
    report(
        f"model [{backend}]: {EXAMPLES[backend]} examples of up to {STEPS} steps, "
        f"{LoyaltyMachine.steps} invariant checks; answers "
        f"{dict(sorted(LoyaltyMachine.outcomes.items()))}; verify: {line}"
    )
