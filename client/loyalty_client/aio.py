"""AsyncLoyaltyClient: the asyncio client of loyalty.v1.LoyaltyService.

Same methods, arguments and results as :class:`~loyalty_client.client.LoyaltyClient`;
requests, conversions and the retry rule are the same code (convert.py, retry.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar, Unpack

import grpc

from loyalty.v1 import loyalty_pb2_grpc

from . import convert
from ._transport import DEFAULT_TIMEOUT, ClientSettings, WithOptions
from .client import LoyaltyClient
from .convert import (
    AccountTransactionFilters,
    AccountTransactionQuery,
    GiftCardFilters,
    GiftCardQuery,
    MoneyMove,
    Op,
    StoreCreditAccountFilters,
    StoreCreditAccountQuery,
)
from .retry import RetryPolicy
from .types import (
    AccountEntry,
    AccountMovementResult,
    AccountStats,
    AccountTransaction,
    AccountTransactionList,
    AccountTransactionResult,
    AdjustPointsResult,
    Amount,
    CapturePointsHoldResult,
    EarnOrderPointsResult,
    GiftCard,
    GiftCardList,
    GiftCardOptions,
    GiftCardTransaction,
    GiftCardTransactionResult,
    GiftCardUpdate,
    HoldPointsResult,
    NewGiftCard,
    NewStoreCreditAccount,
    OrderPoints,
    Page,
    PointAdjustment,
    PointsAdjustmentInput,
    PointsBalance,
    PointsHold,
    ReverseOrderPointsResult,
    StoreCreditAccount,
    StoreCreditAccountList,
    StoreCreditAccountUpdate,
    TLSConfig,
)

T = TypeVar("T")


class AsyncLoyaltyClient(WithOptions):
    """Asyncio client. Use ``async with``, or ``await close()``; create it in a coroutine.

    ``target`` is "host:port"; ``token`` is sent as ``authorization: Bearer <token>``;
    ``tls`` is a :class:`TLSConfig` (``True`` for the system trust store); ``timeout``
    is the deadline of each attempt in seconds; ``retry`` the :class:`RetryPolicy`
    for UNAVAILABLE (reads, and writes with an idempotency key, only).

    Every method raises a :class:`~loyalty_client.errors.LoyaltyError` subclass on
    failure.
    """

    def __init__(
        self,
        target: str,
        *,
        token: str | None = None,
        tls: TLSConfig | bool | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._settings = ClientSettings(target, token=token, tls=tls, timeout=timeout, retry=retry)
        self._channel = self._settings.channel(grpc.aio)
        self._stub = loyalty_pb2_grpc.LoyaltyServiceStub(self._channel)  # type: ignore[no-untyped-call, unused-ignore]

    @property
    def target(self) -> str:
        return self._settings.target

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> AsyncLoyaltyClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _run(self, op: Op[T]) -> T:
        settings = self._settings
        rpc = getattr(self._stub, op.method)
        attempt = 1
        while True:
            try:
                response = await rpc(
                    op.request, timeout=settings.timeout, metadata=settings.metadata
                )
            except grpc.RpcError as exc:
                await asyncio.sleep(settings.retry_delay(exc, attempt, retryable=op.retryable))
                attempt += 1
            else:
                return op.parse(response)

    async def _iterate(self, page: Callable[[str], Op[Page[T]]]) -> AsyncIterator[T]:
        token = ""
        while True:
            result = await self._run(page(token))
            for item in result.items:
                yield item
            if not result.next_page_token:
                return
            token = result.next_page_token

    # ------------------------------------------------------------ points

    async def adjust_points(
        self,
        customer_id: str,
        delta: Amount,
        *,
        reason: str = "",
        history: bool = False,
        idempotency_key: str | None = None,
    ) -> AdjustPointsResult:
        return await self._run(
            convert.adjust_points(
                customer_id,
                delta,
                reason=reason,
                history=history,
                idempotency_key=idempotency_key,
            )
        )

    async def batch_adjust_points(
        self, adjustments: Iterable[PointsAdjustmentInput]
    ) -> tuple[PointAdjustment, ...]:
        return await self._run(convert.batch_adjust_points(adjustments))

    async def get_points_balance(self, customer_id: str, *, history: bool = False) -> PointsBalance:
        return await self._run(convert.get_points_balance(customer_id, history=history))

    async def list_point_adjustments(
        self, customer_id: str, *, page_size: int = 0, page_token: str = ""
    ) -> Page[PointAdjustment]:
        return await self._run(
            convert.list_point_adjustments(customer_id, page_size=page_size, page_token=page_token)
        )

    def iter_point_adjustments(
        self, customer_id: str, *, page_size: int = 0
    ) -> AsyncIterator[PointAdjustment]:
        return self._iterate(
            lambda token: convert.list_point_adjustments(
                customer_id, page_size=page_size, page_token=token
            )
        )

    # ------------------------------------------------------ points holds

    async def hold_points(
        self,
        customer_id: str,
        points: Amount,
        *,
        reference: str = "",
        reference_id: str = "",
        expires_at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> HoldPointsResult:
        """Reserves points of a customer (for a cart) until captured, released or
        ``expires_at`` (default: one hour; at most 30 days). NotAllowed when the customer's
        available points (balance minus active holds) are fewer.

        Without ``idempotency_key`` the client generates one (a retry reserves nothing
        twice); ``""`` sends none.
        """
        return await self._run(
            convert.hold_points(
                customer_id,
                points,
                reference=reference,
                reference_id=reference_id,
                expires_at=expires_at,
                idempotency_key=idempotency_key,
            )
        )

    async def capture_points_hold(
        self, hold_id: str, *, points: Amount | None = None, reason: str = ""
    ) -> CapturePointsHoldResult:
        """Spends held points (all of them, or ``points`` of them; the rest is released):
        one ledger debit, exactly once per hold."""
        return await self._run(convert.capture_points_hold(hold_id, points=points, reason=reason))

    async def release_points_hold(self, hold_id: str) -> PointsHold:
        """Gives held points back; a released or expired hold comes back unchanged."""
        return await self._run(convert.release_points_hold(hold_id))

    async def get_points_hold(self, hold_id: str) -> PointsHold:
        """One hold, with its status as of now (an active hold past expires_at: expired)."""
        return await self._run(convert.get_points_hold(hold_id))

    async def list_points_holds(
        self,
        customer_id: str,
        *,
        reference_id: str = "",
        active_only: bool = False,
        page_size: int = 0,
        page_token: str = "",
    ) -> Page[PointsHold]:
        """One page of a customer's holds, newest first."""
        return await self._run(
            convert.list_points_holds(
                customer_id,
                reference_id=reference_id,
                active_only=active_only,
                page_size=page_size,
                page_token=page_token,
            )
        )

    def iter_points_holds(
        self,
        customer_id: str,
        *,
        reference_id: str = "",
        active_only: bool = False,
        page_size: int = 0,
    ) -> AsyncIterator[PointsHold]:
        """Every hold of a customer (matching the filters), newest first."""
        return self._iterate(
            lambda token: convert.list_points_holds(
                customer_id,
                reference_id=reference_id,
                active_only=active_only,
                page_size=page_size,
                page_token=token,
            )
        )

    # ----------------------------------------------------- order points

    async def earn_order_points(
        self, customer_id: str, order_id: str, points: Amount, *, reason: str = ""
    ) -> EarnOrderPointsResult:
        """Awards points for an order, once per (customer, order): a repeated call
        earns nothing twice (``replayed``); other points for the same order: Conflict."""
        return await self._run(
            convert.earn_order_points(customer_id, order_id, points, reason=reason)
        )

    async def reverse_order_points(
        self,
        customer_id: str,
        order_id: str,
        *,
        idempotency_key: str,
        points: Amount | None = None,
        reason: str = "",
    ) -> ReverseOrderPointsResult:
        """Takes back points an order earned: all it has left (a cancel) or ``points`` of
        them (a refund's share), never more. ``idempotency_key`` names the reversal
        (e.g. "cancel" or a refund id): the same key returns the first result."""
        return await self._run(
            convert.reverse_order_points(
                customer_id,
                order_id,
                idempotency_key=idempotency_key,
                points=points,
                reason=reason,
            )
        )

    async def get_order_points(self, customer_id: str, order_id: str) -> OrderPoints:
        """What an order earned and what was reversed of it."""
        return await self._run(convert.get_order_points(customer_id, order_id))

    # -------------------------------------------------------- gift cards

    async def create_gift_cards(self, gift_cards: Iterable[NewGiftCard]) -> tuple[GiftCard, ...]:
        return await self._run(convert.create_gift_cards(gift_cards))

    async def create_gift_card(self, gift_card: NewGiftCard) -> GiftCard:
        return (await self.create_gift_cards([gift_card]))[0]

    async def update_gift_cards(self, updates: Iterable[GiftCardUpdate]) -> tuple[GiftCard, ...]:
        return await self._run(convert.update_gift_cards(updates))

    async def update_gift_card(self, update: GiftCardUpdate) -> GiftCard:
        return (await self.update_gift_cards([update]))[0]

    async def retrieve_gift_card(
        self, *, id: str | None = None, code: str | None = None
    ) -> GiftCard:
        return await self._run(convert.retrieve_gift_card(id=id, code=code))

    async def list_gift_cards(self, **query: Unpack[GiftCardQuery]) -> GiftCardList:
        return await self._run(convert.list_gift_cards(**query))

    def iter_gift_cards(
        self, *, page_size: int = 100, **filters: Unpack[GiftCardFilters]
    ) -> AsyncIterator[GiftCard]:
        return self._iterate(lambda token: convert.gift_cards_page(page_size, token, **filters))

    async def delete_gift_cards(self, ids: Iterable[str]) -> tuple[str, ...]:
        return await self._run(convert.delete_gift_cards(ids))

    async def soft_delete_gift_cards(self, ids: Iterable[str]) -> tuple[str, ...]:
        return await self._run(convert.soft_delete_gift_cards(ids))

    async def restore_gift_cards(self, ids: Iterable[str]) -> tuple[str, ...]:
        return await self._run(convert.restore_gift_cards(ids))

    async def debit_gift_card(self, **args: Unpack[MoneyMove]) -> GiftCardTransactionResult:
        return await self._run(convert.debit_gift_card(**args))

    async def credit_gift_card(self, **args: Unpack[MoneyMove]) -> GiftCardTransactionResult:
        return await self._run(convert.credit_gift_card(**args))

    async def list_gift_card_transactions(
        self, gift_card_id: str, *, page_size: int = 0, page_token: str = ""
    ) -> Page[GiftCardTransaction]:
        return await self._run(
            convert.list_gift_card_transactions(
                gift_card_id, page_size=page_size, page_token=page_token
            )
        )

    def iter_gift_card_transactions(
        self, gift_card_id: str, *, page_size: int = 0
    ) -> AsyncIterator[GiftCardTransaction]:
        return self._iterate(
            lambda token: convert.list_gift_card_transactions(
                gift_card_id, page_size=page_size, page_token=token
            )
        )

    async def get_options(self) -> GiftCardOptions:
        return await self._run(convert.get_options())

    # ------------------------------------------------------ store credit

    async def create_store_credit_accounts(
        self, accounts: Iterable[NewStoreCreditAccount]
    ) -> tuple[StoreCreditAccount, ...]:
        return await self._run(convert.create_store_credit_accounts(accounts))

    async def create_store_credit_account(
        self, account: NewStoreCreditAccount
    ) -> StoreCreditAccount:
        return (await self.create_store_credit_accounts([account]))[0]

    async def update_store_credit_accounts(
        self, updates: Iterable[StoreCreditAccountUpdate]
    ) -> tuple[StoreCreditAccount, ...]:
        return await self._run(convert.update_store_credit_accounts(updates))

    async def update_store_credit_account(
        self, update: StoreCreditAccountUpdate
    ) -> StoreCreditAccount:
        return (await self.update_store_credit_accounts([update]))[0]

    async def retrieve_store_credit_account(
        self, *, id: str | None = None, code: str | None = None
    ) -> StoreCreditAccount:
        return await self._run(convert.retrieve_store_credit_account(id=id, code=code))

    async def list_store_credit_accounts(
        self, **query: Unpack[StoreCreditAccountQuery]
    ) -> StoreCreditAccountList:
        return await self._run(convert.list_store_credit_accounts(**query))

    def iter_store_credit_accounts(
        self, *, page_size: int = 100, **filters: Unpack[StoreCreditAccountFilters]
    ) -> AsyncIterator[StoreCreditAccount]:
        return self._iterate(
            lambda token: convert.store_credit_accounts_page(page_size, token, **filters)
        )

    async def delete_store_credit_accounts(self, ids: Iterable[str]) -> tuple[str, ...]:
        return await self._run(convert.delete_store_credit_accounts(ids))

    async def soft_delete_store_credit_accounts(self, ids: Iterable[str]) -> tuple[str, ...]:
        return await self._run(convert.soft_delete_store_credit_accounts(ids))

    async def restore_store_credit_accounts(self, ids: Iterable[str]) -> tuple[str, ...]:
        return await self._run(convert.restore_store_credit_accounts(ids))

    async def credit_accounts(self, entries: Iterable[AccountEntry]) -> AccountMovementResult:
        return await self._run(convert.credit_accounts(entries))

    async def debit_accounts(self, entries: Iterable[AccountEntry]) -> AccountMovementResult:
        return await self._run(convert.debit_accounts(entries))

    async def credit_account(
        self,
        account_id: str,
        amount: Amount,
        *,
        note: str | None = None,
        reference: str = "",
        reference_id: str = "",
        metadata: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> AccountTransactionResult:
        return await self._run(
            convert.credit_account(
                AccountEntry(
                    account_id,
                    amount,
                    note=note,
                    reference=reference,
                    reference_id=reference_id,
                    metadata=metadata,
                    idempotency_key=idempotency_key,
                )
            )
        )

    async def debit_account(
        self,
        account_id: str,
        amount: Amount,
        *,
        note: str | None = None,
        reference: str = "",
        reference_id: str = "",
        metadata: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> AccountTransactionResult:
        return await self._run(
            convert.debit_account(
                AccountEntry(
                    account_id,
                    amount,
                    note=note,
                    reference=reference,
                    reference_id=reference_id,
                    metadata=metadata,
                    idempotency_key=idempotency_key,
                )
            )
        )

    async def retrieve_account_stats(self, account_id: str) -> AccountStats:
        return await self._run(convert.retrieve_account_stats(account_id))

    async def list_account_transactions(
        self, **query: Unpack[AccountTransactionQuery]
    ) -> AccountTransactionList:
        return await self._run(convert.list_account_transactions(**query))

    def iter_account_transactions(
        self, *, page_size: int = 100, **filters: Unpack[AccountTransactionFilters]
    ) -> AsyncIterator[AccountTransaction]:
        return self._iterate(
            lambda token: convert.account_transactions_page(page_size, token, **filters)
        )

    async def delete_account_transactions(self, ids: Iterable[str]) -> tuple[str, ...]:
        return await self._run(convert.delete_account_transactions(ids))


def _share_docstrings() -> None:
    """The methods mean the same as LoyaltyClient's: take their docstrings from there."""
    for name, member in vars(AsyncLoyaltyClient).items():
        if not name.startswith("_") and callable(member) and member.__doc__ is None:
            member.__doc__ = getattr(LoyaltyClient, name).__doc__


_share_docstrings()

__all__ = ["AsyncLoyaltyClient"]
