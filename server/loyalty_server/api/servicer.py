"""loyalty.v1.LoyaltyService: translates proto requests into domain calls and back.

No rules and no transactions here; errors raised by the domain are mapped to
statuses by api/interceptors.py.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from loyalty.v1 import loyalty_pb2 as pb
from loyalty.v1 import loyalty_pb2_grpc

from ..domain.gift_cards import GiftCards
from ..domain.money import format_decimal
from ..domain.order_points import OrderPointsService
from ..domain.point_holds import HoldRequest, PointHolds
from ..domain.points import AdjustmentRequest, Points
from ..domain.store_credit import StoreCredit
from . import convert

# grpc ships no type information; this names what the handlers receive.
Context: TypeAlias = Any  # grpc.aio.ServicerContext


class LoyaltyServicer(loyalty_pb2_grpc.LoyaltyServiceServicer):
    def __init__(
        self,
        points: Points,
        gift_cards: GiftCards,
        store_credit: StoreCredit,
        holds: PointHolds,
        order_points: OrderPointsService,
    ) -> None:
        self._points = points
        self._gift_cards = gift_cards
        self._store_credit = store_credit
        self._holds = holds
        self._order_points = order_points

    # ---------------------------------------------------------------- points

    async def AdjustPoints(
        self, request: pb.AdjustPointsRequest, context: Context
    ) -> pb.AdjustPointsResponse:
        result = await self._points.adjust(
            AdjustmentRequest(
                request.customer_id, request.delta, request.reason, request.idempotency_key
            ),
            include_history=request.include_history,
        )
        adjustment = result.adjustment
        return pb.AdjustPointsResponse(
            id=adjustment.id,
            customer_id=adjustment.customer_id,
            balance_after=format_decimal(adjustment.balance_after),
            updated_at=convert.timestamp(adjustment.created_at),
            history=[convert.adjustment(a) for a in result.history],
            replayed=result.replayed,
        )

    async def BatchAdjustPoints(
        self, request: pb.BatchAdjustPointsRequest, context: Context
    ) -> pb.BatchAdjustPointsResponse:
        results = await self._points.adjust_batch(
            [
                AdjustmentRequest(i.customer_id, i.delta, i.reason, i.idempotency_key)
                for i in request.adjustments
            ]
        )
        return pb.BatchAdjustPointsResponse(
            adjustments=[convert.adjustment(r.entry) for r in results],
            replayed=[r.replayed for r in results],
        )

    async def GetPointsBalance(
        self, request: pb.GetPointsBalanceRequest, context: Context
    ) -> pb.GetPointsBalanceResponse:
        balance = await self._points.balance(
            request.customer_id, include_history=request.include_history
        )
        return pb.GetPointsBalanceResponse(
            customer_id=balance.customer_id,
            balance=format_decimal(balance.balance),
            updated_at=convert.timestamp(balance.updated_at),
            history=[convert.adjustment(a) for a in balance.history],
            held=format_decimal(balance.held),
            available=format_decimal(balance.available),
        )

    async def ListPointAdjustments(
        self, request: pb.ListPointAdjustmentsRequest, context: Context
    ) -> pb.ListPointAdjustmentsResponse:
        page = await self._points.list_adjustments(
            request.customer_id, page_size=request.page_size, page_token=request.page_token
        )
        return pb.ListPointAdjustmentsResponse(
            point_adjustments=[convert.adjustment(a) for a in page.adjustments],
            next_page_token=page.next_page_token,
        )

    # ----------------------------------------------------------- point holds

    async def HoldPoints(
        self, request: pb.HoldPointsRequest, context: Context
    ) -> pb.HoldPointsResponse:
        result = await self._holds.hold(
            HoldRequest(
                request.customer_id,
                request.points,
                request.reference,
                request.reference_id,
                convert.to_datetime(request, "expires_at", "expires_at"),
                request.idempotency_key,
            )
        )
        return pb.HoldPointsResponse(
            hold=convert.hold(result.hold),
            available=format_decimal(result.available),
            replayed=result.replayed,
        )

    async def CapturePointsHold(
        self, request: pb.CapturePointsHoldRequest, context: Context
    ) -> pb.CapturePointsHoldResponse:
        result = await self._holds.capture(request.hold_id, request.points, request.reason)
        return pb.CapturePointsHoldResponse(
            hold=convert.hold(result.hold),
            adjustment=convert.adjustment(result.adjustment),
            replayed=result.replayed,
        )

    async def ReleasePointsHold(
        self, request: pb.ReleasePointsHoldRequest, context: Context
    ) -> pb.PointsHold:
        return convert.hold(await self._holds.release(request.hold_id))

    async def GetPointsHold(
        self, request: pb.GetPointsHoldRequest, context: Context
    ) -> pb.PointsHold:
        return convert.hold(await self._holds.get(request.hold_id))

    async def ListPointsHolds(
        self, request: pb.ListPointsHoldsRequest, context: Context
    ) -> pb.ListPointsHoldsResponse:
        page = await self._holds.list(
            request.customer_id,
            reference_id=request.reference_id,
            active_only=request.active_only,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return pb.ListPointsHoldsResponse(
            holds=[convert.hold(h) for h in page.holds], next_page_token=page.next_page_token
        )

    # ---------------------------------------------------------- order points

    async def EarnOrderPoints(
        self, request: pb.EarnOrderPointsRequest, context: Context
    ) -> pb.EarnOrderPointsResponse:
        result = await self._order_points.earn(
            request.customer_id, request.order_id, request.points, request.reason
        )
        return pb.EarnOrderPointsResponse(
            adjustment=convert.adjustment(result.adjustment),
            order=convert.order_points_(result.order),
            replayed=result.replayed,
        )

    async def ReverseOrderPoints(
        self, request: pb.ReverseOrderPointsRequest, context: Context
    ) -> pb.ReverseOrderPointsResponse:
        result = await self._order_points.reverse(
            request.customer_id,
            request.order_id,
            request.points,
            request.reason,
            request.idempotency_key,
        )
        return pb.ReverseOrderPointsResponse(
            reversed=format_decimal(result.reversed),
            adjustment=None if result.adjustment is None else convert.adjustment(result.adjustment),
            order=convert.order_points_(result.order),
            replayed=result.replayed,
        )

    async def GetOrderPoints(
        self, request: pb.GetOrderPointsRequest, context: Context
    ) -> pb.OrderPoints:
        return convert.order_points_(
            await self._order_points.get(request.customer_id, request.order_id)
        )

    # ------------------------------------------------------------ gift cards

    async def CreateGiftCards(
        self, request: pb.CreateGiftCardsRequest, context: Context
    ) -> pb.CreateGiftCardsResponse:
        cards = await self._gift_cards.create(
            [
                convert.new_gift_card(card, f"gift_cards[{i}].")
                for i, card in enumerate(request.gift_cards)
            ]
        )
        return pb.CreateGiftCardsResponse(gift_cards=[convert.gift_card(c) for c in cards])

    async def UpdateGiftCards(
        self, request: pb.UpdateGiftCardsRequest, context: Context
    ) -> pb.UpdateGiftCardsResponse:
        cards = await self._gift_cards.update(
            [
                convert.gift_card_changes(card, f"gift_cards[{i}].")
                for i, card in enumerate(request.gift_cards)
            ]
        )
        return pb.UpdateGiftCardsResponse(gift_cards=[convert.gift_card(c) for c in cards])

    async def RetrieveGiftCard(
        self, request: pb.RetrieveGiftCardRequest, context: Context
    ) -> pb.GiftCard:
        which = request.WhichOneof("lookup")
        card = await self._gift_cards.retrieve(
            id=request.id if which == "id" else None,
            code=request.code if which == "code" else None,
        )
        return convert.gift_card(card)

    async def ListGiftCards(
        self, request: pb.ListGiftCardsRequest, context: Context
    ) -> pb.ListGiftCardsResponse:
        cards, count = await self._gift_cards.list_cards(convert.list_query(request))
        return pb.ListGiftCardsResponse(
            gift_cards=[convert.gift_card(c) for c in cards], count=count or 0
        )

    async def DeleteGiftCards(
        self, request: pb.DeleteGiftCardsRequest, context: Context
    ) -> pb.DeleteGiftCardsResponse:
        return pb.DeleteGiftCardsResponse(ids=await self._gift_cards.delete(list(request.ids)))

    async def SoftDeleteGiftCards(
        self, request: pb.SoftDeleteGiftCardsRequest, context: Context
    ) -> pb.SoftDeleteGiftCardsResponse:
        ids = await self._gift_cards.soft_delete(list(request.ids))
        return pb.SoftDeleteGiftCardsResponse(ids=ids)

    async def RestoreGiftCards(
        self, request: pb.RestoreGiftCardsRequest, context: Context
    ) -> pb.RestoreGiftCardsResponse:
        return pb.RestoreGiftCardsResponse(ids=await self._gift_cards.restore(list(request.ids)))

    async def DebitGiftCard(
        self, request: pb.DebitGiftCardRequest, context: Context
    ) -> pb.DebitGiftCardResponse:
        result = await self._gift_cards.debit(convert.spend(request))
        response: pb.DebitGiftCardResponse = convert.spend_response(
            result, pb.DebitGiftCardResponse
        )
        return response

    async def CreditGiftCard(
        self, request: pb.CreditGiftCardRequest, context: Context
    ) -> pb.CreditGiftCardResponse:
        result = await self._gift_cards.credit(convert.spend(request))
        response: pb.CreditGiftCardResponse = convert.spend_response(
            result, pb.CreditGiftCardResponse
        )
        return response

    async def ListGiftCardTransactions(
        self, request: pb.ListGiftCardTransactionsRequest, context: Context
    ) -> pb.ListGiftCardTransactionsResponse:
        page = await self._gift_cards.transactions(
            request.gift_card_id, page_size=request.page_size, page_token=request.page_token
        )
        return pb.ListGiftCardTransactionsResponse(
            gift_card_transactions=[convert.transaction(t) for t in page.transactions],
            next_page_token=page.next_page_token,
        )

    async def GetOptions(
        self, request: pb.GetOptionsRequest, context: Context
    ) -> pb.GetOptionsResponse:
        options = self._gift_cards.options
        return pb.GetOptionsResponse(prefix=options.prefix, sections=options.sections)

    # ---------------------------------------------------------- store credit

    async def CreateStoreCreditAccounts(
        self, request: pb.CreateStoreCreditAccountsRequest, context: Context
    ) -> pb.CreateStoreCreditAccountsResponse:
        accounts = await self._store_credit.create(
            [convert.new_account(a) for a in request.accounts]
        )
        return pb.CreateStoreCreditAccountsResponse(
            accounts=[convert.store_credit_account(a) for a in accounts]
        )

    async def UpdateStoreCreditAccounts(
        self, request: pb.UpdateStoreCreditAccountsRequest, context: Context
    ) -> pb.UpdateStoreCreditAccountsResponse:
        accounts = await self._store_credit.update(
            [convert.account_changes(a, f"accounts[{i}].") for i, a in enumerate(request.accounts)]
        )
        return pb.UpdateStoreCreditAccountsResponse(
            accounts=[convert.store_credit_account(a) for a in accounts]
        )

    async def RetrieveStoreCreditAccount(
        self, request: pb.RetrieveStoreCreditAccountRequest, context: Context
    ) -> pb.StoreCreditAccount:
        which = request.WhichOneof("lookup")
        account = await self._store_credit.retrieve(
            id=request.id if which == "id" else None,
            code=request.code if which == "code" else None,
        )
        return convert.store_credit_account(account)

    async def ListStoreCreditAccounts(
        self, request: pb.ListStoreCreditAccountsRequest, context: Context
    ) -> pb.ListStoreCreditAccountsResponse:
        accounts, count = await self._store_credit.list_accounts(convert.account_query(request))
        return pb.ListStoreCreditAccountsResponse(
            accounts=[convert.store_credit_account(a) for a in accounts], count=count or 0
        )

    async def DeleteStoreCreditAccounts(
        self, request: pb.DeleteStoreCreditAccountsRequest, context: Context
    ) -> pb.DeleteStoreCreditAccountsResponse:
        ids = await self._store_credit.delete(list(request.ids))
        return pb.DeleteStoreCreditAccountsResponse(ids=ids)

    async def SoftDeleteStoreCreditAccounts(
        self, request: pb.SoftDeleteStoreCreditAccountsRequest, context: Context
    ) -> pb.SoftDeleteStoreCreditAccountsResponse:
        ids = await self._store_credit.soft_delete(list(request.ids))
        return pb.SoftDeleteStoreCreditAccountsResponse(ids=ids)

    async def RestoreStoreCreditAccounts(
        self, request: pb.RestoreStoreCreditAccountsRequest, context: Context
    ) -> pb.RestoreStoreCreditAccountsResponse:
        ids = await self._store_credit.restore(list(request.ids))
        return pb.RestoreStoreCreditAccountsResponse(ids=ids)

    async def CreditAccounts(
        self, request: pb.CreditAccountsRequest, context: Context
    ) -> pb.CreditAccountsResponse:
        moved = await self._store_credit.credit([convert.entry(e) for e in request.credits])
        return pb.CreditAccountsResponse(
            transactions=[convert.account_transaction(t) for t in moved.transactions],
            replayed=moved.replayed,
        )

    async def DebitAccounts(
        self, request: pb.DebitAccountsRequest, context: Context
    ) -> pb.DebitAccountsResponse:
        moved = await self._store_credit.debit([convert.entry(e) for e in request.debits])
        return pb.DebitAccountsResponse(
            transactions=[convert.account_transaction(t) for t in moved.transactions],
            replayed=moved.replayed,
        )

    async def RetrieveAccountStats(
        self, request: pb.RetrieveAccountStatsRequest, context: Context
    ) -> pb.RetrieveAccountStatsResponse:
        stats = await self._store_credit.stats(request.account_id)
        return pb.RetrieveAccountStatsResponse(
            id=stats.id,
            balance=format_decimal(stats.balance),
            credits=format_decimal(stats.credits),
            debits=format_decimal(stats.debits),
        )

    async def ListAccountTransactions(
        self, request: pb.ListAccountTransactionsRequest, context: Context
    ) -> pb.ListAccountTransactionsResponse:
        found, count = await self._store_credit.transactions(convert.transaction_query(request))
        return pb.ListAccountTransactionsResponse(
            transactions=[convert.account_transaction(t) for t in found], count=count or 0
        )

    async def DeleteAccountTransactions(
        self, request: pb.DeleteAccountTransactionsRequest, context: Context
    ) -> pb.DeleteAccountTransactionsResponse:
        ids = await self._store_credit.delete_transactions(list(request.ids))
        return pb.DeleteAccountTransactionsResponse(ids=ids)
