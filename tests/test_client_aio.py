"""AsyncLoyaltyClient against the real server: every method, async paging, errors."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

import grpc
import pytest

from loyalty_client import (
    AsyncLoyaltyClient,
    Conflict,
    Duplicate,
    GiftCardStatus,
    GiftCardUpdate,
    InvalidData,
    NewGiftCard,
    NotAllowed,
    NotFound,
    PointsAdjustmentInput,
    RetryPolicy,
    TransactionType,
    Unavailable,
)

T = TypeVar("T")


def run(target: str, scenario: Callable[[AsyncLoyaltyClient], Awaitable[T]], **kw: Any) -> T:
    async def main() -> T:
        async with AsyncLoyaltyClient(target, **kw) as client:
            return await scenario(client)

    return asyncio.run(main())


def test_points(loyalty_server: Any, uid: str) -> None:
    customer = f"cus_{uid}"

    async def scenario(c: AsyncLoyaltyClient) -> None:
        assert (await c.get_points_balance(customer)).balance == 0
        first = await c.adjust_points(customer, 100, reason="Welcome bonus")
        assert first.balance_after == Decimal(100)
        second = await c.adjust_points(customer, "-25", history=True)
        assert [a.delta for a in second.history] == [Decimal(-25), Decimal(100)]
        replay = await c.adjust_points(customer, 7, idempotency_key=f"k-{uid}")
        again = await c.adjust_points(customer, 7, idempotency_key=f"k-{uid}")
        assert again.id == replay.id
        assert (replay.replayed, again.replayed) == (False, True)
        with pytest.raises(Conflict):
            await c.adjust_points(customer, 8, idempotency_key=f"k-{uid}")

        batch = await c.batch_adjust_points(
            [PointsAdjustmentInput(customer, 1), PointsAdjustmentInput(customer, "2.5")]
        )
        assert [b.balance_after for b in batch] == [Decimal(83), Decimal("85.5")]

        balance = await c.get_points_balance(customer, history=True)
        assert balance.balance == Decimal("85.5")
        assert balance.updated_at is not None and balance.updated_at.tzinfo is not None
        assert len(balance.history) == 5

        page = await c.list_point_adjustments(customer, page_size=2)
        assert len(page.items) == 2 and page.next_page_token
        page2 = await c.list_point_adjustments(
            customer, page_size=2, page_token=page.next_page_token
        )
        assert page2.items[0].id != page.items[0].id
        every = [a async for a in c.iter_point_adjustments(customer, page_size=2)]
        assert [a.id for a in every] == [a.id for a in balance.history]
        assert every[-1].id == first.id

    run(loyalty_server.target, scenario)


def test_gift_cards(loyalty_server: Any, uid: str) -> None:
    owner = f"cus_{uid}"

    async def scenario(c: AsyncLoyaltyClient) -> None:
        options = await c.get_options()
        assert (options.prefix, options.sections) == ("GIFT", 4)

        one = await c.create_gift_card(
            NewGiftCard(
                value=30,
                currency_code="usd",
                code=f"A{uid}",
                customer_id=owner,
                metadata={"k": "v"},
                expires_at=datetime(2030, 6, 1, tzinfo=UTC),
            )
        )
        assert one.metadata == {"k": "v"}
        assert one.expires_at == datetime(2030, 6, 1, tzinfo=UTC)
        more = await c.create_gift_cards(
            [NewGiftCard(value=n, currency_code="usd", customer_id=owner) for n in (5, 6, 7)]
        )
        assert [m.value for m in more] == [Decimal(5), Decimal(6), Decimal(7)]
        assert (await c.retrieve_gift_card(code=one.code)).id == one.id
        assert (await c.retrieve_gift_card(id=one.id)).code == one.code

        updated = await c.update_gift_card(GiftCardUpdate(id=one.id, note="hi", metadata=None))
        assert (updated.note, updated.metadata) == ("hi", None)
        many = await c.update_gift_cards([GiftCardUpdate(id=m.id, note="bulk") for m in more])
        assert {m.note for m in many} == {"bulk"}

        listed = await c.list_gift_cards(customer_id=owner, order="value ASC", with_count=True)
        assert [g.value for g in listed.gift_cards] == [5, 6, 7, 30]
        assert listed.count == 4
        every = [g async for g in c.iter_gift_cards(page_size=3, customer_id=owner)]
        assert {g.id for g in every} == {g.id for g in listed.gift_cards}

        debit = await c.debit_gift_card(code=one.code, amount=30, currency_code="usd")
        assert debit.status is GiftCardStatus.REDEEMED
        credit = await c.credit_gift_card(id=one.id, amount="10", currency_code="usd")
        assert credit.balance == Decimal(10)
        assert credit.transaction.type is TransactionType.CREDIT
        page = await c.list_gift_card_transactions(one.id, page_size=1)
        assert [t.id for t in page.items] == [credit.transaction.id]
        txs = [t async for t in c.iter_gift_card_transactions(one.id, page_size=1)]
        assert [t.id for t in txs] == [credit.transaction.id, debit.transaction.id]

        assert await c.soft_delete_gift_cards([more[0].id]) == (more[0].id,)
        assert await c.restore_gift_cards([more[0].id]) == (more[0].id,)
        assert set(await c.delete_gift_cards([m.id for m in more])) == {m.id for m in more}
        with pytest.raises(NotFound):
            await c.retrieve_gift_card(id=more[0].id)

    run(loyalty_server.target, scenario)


def test_errors(loyalty_server: Any, uid: str) -> None:
    async def scenario(c: AsyncLoyaltyClient) -> None:
        with pytest.raises(InvalidData) as invalid:
            await c.adjust_points(f"cus_{uid}", "x")
        assert invalid.value.field_violations[0].field == "delta"
        with pytest.raises(NotAllowed):
            await c.adjust_points(f"cus_{uid}", -5)
        await c.create_gift_card(NewGiftCard(value=1, currency_code="usd", code=f"D{uid}"))
        with pytest.raises(Duplicate):
            await c.create_gift_card(NewGiftCard(value=1, currency_code="usd", code=f"D{uid}"))
        with pytest.raises(NotFound) as missing:
            await c.retrieve_gift_card(code=f"missing{uid}")
        assert missing.value.code == grpc.StatusCode.NOT_FOUND
        with pytest.raises(TypeError):
            await c.adjust_points(f"cus_{uid}", 1.0)  # type: ignore[arg-type]

    run(loyalty_server.target, scenario)


class CountingRandom(random.Random):
    """Counts the jittered waits a RetryPolicy draws: one per retry."""

    calls = 0

    def uniform(self, a: float, b: float) -> float:
        self.calls += 1
        return super().uniform(a, b)


def test_unavailable() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    waits = CountingRandom()

    async def scenario(c: AsyncLoyaltyClient) -> None:
        with pytest.raises(Unavailable) as caught:
            await c.get_options()
        assert caught.value.code == grpc.StatusCode.UNAVAILABLE
        assert waits.calls == 1  # two attempts, one wait
        with pytest.raises(Unavailable):
            await c.adjust_points("cus_x", 1, idempotency_key="")  # no key: no retry
        assert waits.calls == 1

    policy = RetryPolicy(max_attempts=2, initial_backoff=0.01, rng=waits)
    run(f"127.0.0.1:{port}", scenario, retry=policy)
