"""`loyalty points adjust|balance|history`: one customer's points."""

from __future__ import annotations

import argparse

from ..client import LoyaltyClient
from . import render
from .inputs import limited, page_size
from .render import Output


def cmd_adjust(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    result = client.adjust_points(
        args.customer_id,
        args.delta,
        reason=args.reason,
        history=args.history,
        idempotency_key=args.idempotency_key,
    )
    out.emit(result, lambda: render.adjustment_result(result))


def cmd_balance(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    balance = client.get_points_balance(args.customer_id, history=args.history)
    out.emit(balance, lambda: render.balance(balance))


def cmd_history(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    limit = None if args.all else args.limit
    items = limited(
        client.iter_point_adjustments(args.customer_id, page_size=page_size(limit)), limit
    )
    out.emit(items, lambda: render.adjustments_table(items))
