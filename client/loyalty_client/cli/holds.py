"""`loyalty points hold|capture|release|get-hold|holds`: points reserved for a cart."""

from __future__ import annotations

import argparse

from ..client import LoyaltyClient
from . import render
from .inputs import limited, page_size, parse_datetime
from .render import Output


def cmd_hold(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    result = client.hold_points(
        args.customer_id,
        args.points,
        reference=args.reference,
        reference_id=args.reference_id,
        expires_at=parse_datetime(args.expires_at, "--expires-at") if args.expires_at else None,
        idempotency_key=args.idempotency_key,
    )
    out.emit(result, lambda: render.hold_result(result))


def cmd_capture(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    result = client.capture_points_hold(args.hold_id, points=args.points, reason=args.reason)
    out.emit(result, lambda: render.capture_result(result))


def cmd_release(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    hold = client.release_points_hold(args.hold_id)
    out.emit(hold, lambda: render.hold_record(hold))


def cmd_get(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    hold = client.get_points_hold(args.hold_id)
    out.emit(hold, lambda: render.hold_record(hold))


def cmd_list(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    limit = None if args.all else args.limit
    holds = limited(
        client.iter_points_holds(
            args.customer_id,
            reference_id=args.reference_id,
            active_only=args.active,
            page_size=page_size(limit),
        ),
        limit,
    )
    out.emit(holds, lambda: render.holds_table(holds))
