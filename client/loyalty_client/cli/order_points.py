"""`loyalty points earn|reverse|order`: the points an order earns, and takes back."""

from __future__ import annotations

import argparse

from ..client import LoyaltyClient
from . import render
from .render import Output


def cmd_earn(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    result = client.earn_order_points(
        args.customer_id, args.order_id, args.points, reason=args.reason
    )
    out.emit(result, lambda: render.earn_result(result))


def cmd_reverse(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    result = client.reverse_order_points(
        args.customer_id,
        args.order_id,
        idempotency_key=args.idempotency_key,
        points=args.points,
        reason=args.reason,
    )
    out.emit(result, lambda: render.reverse_result(result))


def cmd_get(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    order = client.get_order_points(args.customer_id, args.order_id)
    out.emit(order, lambda: render.order_record(order))
