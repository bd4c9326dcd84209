"""LoyaltyClient: the blocking client of loyalty.v1.LoyaltyService."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar, Unpack

import grpc

from loyalty.v1 import loyalty_pb2_grpc

from . import convert
from ._transport import DEFAULT_TIMEOUT, ClientSettings, WithOptions
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


class LoyaltyClient(WithOptions):
    """Blocking client. Use as a context manager, or call :meth:`close`.

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
        self._channel = self._settings.channel(grpc)
        self._stub = loyalty_pb2_grpc.LoyaltyServiceStub(self._channel)  # type: ignore[no-untyped-call, unused-ignore]

    @property
    def target(self) -> str:
        """The "host:port" this client talks to."""
        return self._settings.target

    def close(self) -> None:
        """Closes the channel; calls in flight are cancelled."""
        self._channel.close()

    def __enter__(self) -> LoyaltyClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self, op: Op[T]) -> T:
        settings = self._settings
        rpc = getattr(self._stub, op.method)
        attempt = 1
        while True:
            try:
                response = rpc(op.request, timeout=settings.timeout, metadata=settings.metadata)
            except grpc.RpcError as exc:
                time.sleep(settings.retry_delay(exc, attempt, retryable=op.retryable))
                attempt += 1
            else:
                return op.parse(response)

    def _iterate(self, page: Callable[[str], Op[Page[T]]]) -> Iterator[T]:
        token = ""
        while True:
            result = self._run(page(token))
            yield from result.items
            if not result.next_page_token:
                return
            token = result.next_page_token

    # ------------------------------------------------------------ points

    def adjust_points(
        self,
        customer_id: str,
        delta: Amount,
        *,
        reason: str = "",
        history: bool = False,
        idempotency_key: str | None = None,
    ) -> AdjustPointsResult:
        """Adds (positive) or removes (negative) points and records one adjustment.

        Without ``idempotency_key`` the client generates one, so a retry after a broken
        connection cannot apply twice; pass your own to make *your* retries safe too,
        or ``""`` to send none (then the call is never retried).
        """
        return self._run(
            convert.adjust_points(
                customer_id,
                delta,
                reason=reason,
                history=history,
                idempotency_key=idempotency_key,
            )
        )

    def batch_adjust_points(
        self, adjustments: Iterable[PointsAdjustmentInput]
    ) -> tuple[PointAdjustment, ...]:
        """Applies up to 1,000 adjustments in one transaction, all or nothing.

        Items without an idempotency key get a generated one (``""``: none).
        """
        return self._run(convert.batch_adjust_points(adjustments))

    def get_points_balance(self, customer_id: str, *, history: bool = False) -> PointsBalance:
        """A customer's balance (0 for an unknown customer), optionally the last 20."""
        return self._run(convert.get_points_balance(customer_id, history=history))

    def list_point_adjustments(
        self, customer_id: str, *, page_size: int = 0, page_token: str = ""
    ) -> Page[PointAdjustment]:
        """One page of a customer's ledger, newest first."""
        return self._run(
            convert.list_point_adjustments(customer_id, page_size=page_size, page_token=page_token)
        )

    def iter_point_adjustments(
        self, customer_id: str, *, page_size: int = 0
    ) -> Iterator[PointAdjustment]:
        """The whole ledger of a customer, newest first, fetched page by page."""
        return self._iterate(
            lambda token: convert.list_point_adjustments(
                customer_id, page_size=page_size, page_token=token
            )
        )

    # ------------------------------------------------------ points holds

    def hold_points(
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
        return self._run(
            convert.hold_points(
                customer_id,
                points,
                reference=reference,
                reference_id=reference_id,
                expires_at=expires_at,
                idempotency_key=idempotency_key,
            )
        )

    def capture_points_hold(
        self, hold_id: str, *, points: Amount | None = None, reason: str = ""
    ) -> CapturePointsHoldResult:
        """Spends held points (all of them, or ``points`` of them; the rest is released):
        one ledger debit, exactly once per hold."""
        return self._run(convert.capture_points_hold(hold_id, points=points, reason=reason))

    def release_points_hold(self, hold_id: str) -> PointsHold:
        """Gives held points back; a released or expired hold comes back unchanged."""
        return self._run(convert.release_points_hold(hold_id))

    def get_points_hold(self, hold_id: str) -> PointsHold:
        """One hold, with its status as of now (an active hold past expires_at: expired)."""
        return self._run(convert.get_points_hold(hold_id))

    def list_points_holds(
        self,
        customer_id: str,
        *,
        reference_id: str = "",
        active_only: bool = False,
        page_size: int = 0,
        page_token: str = "",
    ) -> Page[PointsHold]:
        """One page of a customer's holds, newest first."""
        return self._run(
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
    ) -> Iterator[PointsHold]:
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

    def earn_order_points(
        self, customer_id: str, order_id: str, points: Amount, *, reason: str = ""
    ) -> EarnOrderPointsResult:
        """Awards points for an order, once per (customer, order): a repeated call
        earns nothing twice (``replayed``); other points for the same order: Conflict."""
        return self._run(convert.earn_order_points(customer_id, order_id, points, reason=reason))

    def reverse_order_points(
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
        return self._run(
            convert.reverse_order_points(
                customer_id,
                order_id,
                idempotency_key=idempotency_key,
                points=points,
                reason=reason,
            )
        )

    def get_order_points(self, customer_id: str, order_id: str) -> OrderPoints:
        """What an order earned and what was reversed of it."""
        return self._run(convert.get_order_points(customer_id, order_id))

    # -------------------------------------------------------- gift cards

    def create_gift_cards(self, gift_cards: Iterable[NewGiftCard]) -> tuple[GiftCard, ...]:
        """Creates up to 1,000 gift cards in one transaction, all or nothing."""
        return self._run(convert.create_gift_cards(gift_cards))

    def create_gift_card(self, gift_card: NewGiftCard) -> GiftCard:
        """Creates one gift card."""
        return self.create_gift_cards([gift_card])[0]

    def update_gift_cards(self, updates: Iterable[GiftCardUpdate]) -> tuple[GiftCard, ...]:
        """Partially updates gift cards in one transaction (see :class:`GiftCardUpdate`)."""
        return self._run(convert.update_gift_cards(updates))

    def update_gift_card(self, update: GiftCardUpdate) -> GiftCard:
        """Partially updates one gift card."""
        return self.update_gift_cards([update])[0]

    def retrieve_gift_card(self, *, id: str | None = None, code: str | None = None) -> GiftCard:
        """One gift card by ``id`` or by ``code`` (exactly one of them)."""
        return self._run(convert.retrieve_gift_card(id=id, code=code))

    def list_gift_cards(self, **query: Unpack[GiftCardQuery]) -> GiftCardList:
        """One page of gift cards by Medusa's filters, ``skip``/``take`` and ``order``."""
        return self._run(convert.list_gift_cards(**query))

    def iter_gift_cards(
        self, *, page_size: int = 100, **filters: Unpack[GiftCardFilters]
    ) -> Iterator[GiftCard]:
        """Every matching gift card, fetched ``page_size`` at a time."""
        return self._iterate(lambda token: convert.gift_cards_page(page_size, token, **filters))

    def delete_gift_cards(self, ids: Iterable[str]) -> tuple[str, ...]:
        """Deletes gift cards and their transactions for good; returns the deleted ids."""
        return self._run(convert.delete_gift_cards(ids))

    def soft_delete_gift_cards(self, ids: Iterable[str]) -> tuple[str, ...]:
        """Hides gift cards until restored; returns the ids this call soft-deleted."""
        return self._run(convert.soft_delete_gift_cards(ids))

    def restore_gift_cards(self, ids: Iterable[str]) -> tuple[str, ...]:
        """Undoes a soft delete; returns the ids this call restored."""
        return self._run(convert.restore_gift_cards(ids))

    def debit_gift_card(self, **args: Unpack[MoneyMove]) -> GiftCardTransactionResult:
        """Spends ``amount`` from a card (by ``id`` or ``code``); a key is generated
        when none is given (``""``: none, never retried)."""
        return self._run(convert.debit_gift_card(**args))

    def credit_gift_card(self, **args: Unpack[MoneyMove]) -> GiftCardTransactionResult:
        """Puts ``amount`` back onto a card (a refund), up to its value."""
        return self._run(convert.credit_gift_card(**args))

    def list_gift_card_transactions(
        self, gift_card_id: str, *, page_size: int = 0, page_token: str = ""
    ) -> Page[GiftCardTransaction]:
        """One page of a card's transactions, newest first."""
        return self._run(
            convert.list_gift_card_transactions(
                gift_card_id, page_size=page_size, page_token=page_token
            )
        )

    def iter_gift_card_transactions(
        self, gift_card_id: str, *, page_size: int = 0
    ) -> Iterator[GiftCardTransaction]:
        """All of a card's transactions, newest first, fetched page by page."""
        return self._iterate(
            lambda token: convert.list_gift_card_transactions(
                gift_card_id, page_size=page_size, page_token=token
            )
        )

    def get_options(self) -> GiftCardOptions:
        """The server's gift card code settings."""
        return self._run(convert.get_options())

    # ------------------------------------------------------ store credit

    def create_store_credit_accounts(
        self, accounts: Iterable[NewStoreCreditAccount]
    ) -> tuple[StoreCreditAccount, ...]:
        """Creates up to 1,000 store-credit accounts in one transaction, all or nothing."""
        return self._run(convert.create_store_credit_accounts(accounts))

    def create_store_credit_account(self, account: NewStoreCreditAccount) -> StoreCreditAccount:
        """Creates one store-credit account (balance 0)."""
        return self.create_store_credit_accounts([account])[0]

    def update_store_credit_accounts(
        self, updates: Iterable[StoreCreditAccountUpdate]
    ) -> tuple[StoreCreditAccount, ...]:
        """Partially updates accounts in one transaction (see
        :class:`StoreCreditAccountUpdate`)."""
        return self._run(convert.update_store_credit_accounts(updates))

    def update_store_credit_account(self, update: StoreCreditAccountUpdate) -> StoreCreditAccount:
        """Partially updates one store-credit account."""
        return self.update_store_credit_accounts([update])[0]

    def retrieve_store_credit_account(
        self, *, id: str | None = None, code: str | None = None
    ) -> StoreCreditAccount:
        """One account, with its balance, by ``id`` or by ``code`` (exactly one of them)."""
        return self._run(convert.retrieve_store_credit_account(id=id, code=code))

    def list_store_credit_accounts(
        self, **query: Unpack[StoreCreditAccountQuery]
    ) -> StoreCreditAccountList:
        """One page of accounts by Medusa's filters, ``skip``/``take`` and ``order``."""
        return self._run(convert.list_store_credit_accounts(**query))

    def iter_store_credit_accounts(
        self, *, page_size: int = 100, **filters: Unpack[StoreCreditAccountFilters]
    ) -> Iterator[StoreCreditAccount]:
        """Every matching account, fetched ``page_size`` at a time."""
        return self._iterate(
            lambda token: convert.store_credit_accounts_page(page_size, token, **filters)
        )

    def delete_store_credit_accounts(self, ids: Iterable[str]) -> tuple[str, ...]:
        """Deletes accounts and their transactions for good; returns the deleted ids.
        An account that funds a gift card is refused (NotAllowed)."""
        return self._run(convert.delete_store_credit_accounts(ids))

    def soft_delete_store_credit_accounts(self, ids: Iterable[str]) -> tuple[str, ...]:
        """Hides accounts (and stops their credits and debits) until restored; returns
        the ids this call soft-deleted."""
        return self._run(convert.soft_delete_store_credit_accounts(ids))

    def restore_store_credit_accounts(self, ids: Iterable[str]) -> tuple[str, ...]:
        """Undoes a soft delete; returns the ids this call restored."""
        return self._run(convert.restore_store_credit_accounts(ids))

    def credit_accounts(self, entries: Iterable[AccountEntry]) -> AccountMovementResult:
        """Credits up to 1,000 entries in one transaction, all or nothing.

        Entries without an idempotency key get a generated one, so a retry after a
        broken connection cannot apply twice (``""``: none, and the call is then never
        retried). ``replayed`` is True when every entry matched an earlier request.
        """
        return self._run(convert.credit_accounts(entries))

    def debit_accounts(self, entries: Iterable[AccountEntry]) -> AccountMovementResult:
        """Debits up to 1,000 entries in one transaction, all or nothing; no account
        goes below zero (NotAllowed). Keys as for :meth:`credit_accounts`."""
        return self._run(convert.debit_accounts(entries))

    def credit_account(
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
        """Credits one account (:meth:`credit_accounts` with one entry)."""
        return self._run(
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

    def debit_account(
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
        """Debits one account (:meth:`debit_accounts` with one entry)."""
        return self._run(
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

    def retrieve_account_stats(self, account_id: str) -> AccountStats:
        """An account's balance and its credit and debit totals."""
        return self._run(convert.retrieve_account_stats(account_id))

    def list_account_transactions(
        self, **query: Unpack[AccountTransactionQuery]
    ) -> AccountTransactionList:
        """One page of store-credit transactions by filters, ``skip``/``take`` and
        ``order`` (newest first by default; voided ones only with ``with_deleted``)."""
        return self._run(convert.list_account_transactions(**query))

    def iter_account_transactions(
        self, *, page_size: int = 100, **filters: Unpack[AccountTransactionFilters]
    ) -> Iterator[AccountTransaction]:
        """Every matching transaction, fetched ``page_size`` at a time."""
        return self._iterate(
            lambda token: convert.account_transactions_page(page_size, token, **filters)
        )

    def delete_account_transactions(self, ids: Iterable[str]) -> tuple[str, ...]:
        """Voids transactions: each amount leaves its account's balance and totals, all
        or nothing (NotAllowed when an account would go below zero). Returns the ids
        this call voided (unknown and already voided ids are skipped)."""
        return self._run(convert.delete_account_transactions(ids))


__all__ = ["DEFAULT_TIMEOUT", "LoyaltyClient"]
