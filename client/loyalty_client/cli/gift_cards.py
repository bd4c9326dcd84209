"""`loyalty gift-cards ...` and `loyalty options`: gift cards and their code settings."""

from __future__ import annotations

import argparse
from typing import Any

from ..client import LoyaltyClient
from ..types import GiftCardTransactionResult, GiftCardUpdate, NewGiftCard
from . import render
from .inputs import (
    UsageError,
    is_gift_card_id,
    limited,
    lookup,
    page_size,
    parse_datetime,
    parse_json_object,
)
from .render import Output


def cmd_create(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    card = client.create_gift_card(
        NewGiftCard(
            value=args.value,
            currency_code=args.currency,
            code=args.code,
            status=args.status,
            customer_id=args.customer_id,
            reference_id=args.reference_id,
            reference=args.reference,
            line_item_id=args.line_item_id,
            note=args.note,
            expires_at=parse_datetime(args.expires_at, "--expires-at") if args.expires_at else None,
            metadata=parse_json_object(args.metadata, "--metadata") if args.metadata else None,
        )
    )
    out.emit(card, lambda: render.card_record(card))


def cmd_get(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    card = client.retrieve_gift_card(**lookup(args.code, by_code=args.by_code))
    out.emit(card, lambda: render.card_record(card))


def cmd_list(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    filters: dict[str, Any] = {
        "status": args.status or [],
        "currency_code": args.currency or [],
        "customer_id": args.customer_id or [],
        "code": args.code or [],
        "q": args.q or "",
        "order": args.order or "",
        "with_deleted": args.with_deleted,
    }
    footer = ""
    if args.all:
        cards = list(client.iter_gift_cards(page_size=1000, **filters))
    else:
        page = client.list_gift_cards(
            skip=args.skip, take=args.take, with_count=not out.json, **filters
        )
        cards = list(page.gift_cards)
        footer = render.page_footer(args.skip, len(cards), page.count, "--skip/--take or --all")
    out.emit(cards, lambda: render.cards_table(cards) + footer)


def cmd_update(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    fields: dict[str, Any] = {}
    for name in ("value", "status", "currency_code", "note", "customer_id", "reference_id",
                 "reference", "line_item_id"):  # fmt: skip
        value = getattr(args, name)
        if value is not None:
            fields[name] = value
    if args.expires_at is not None:
        fields["expires_at"] = parse_datetime(args.expires_at, "--expires-at")
    if args.metadata is not None:
        fields["metadata"] = parse_json_object(args.metadata, "--metadata")
    for name in args.clear or []:
        if name in fields:
            raise UsageError(f"--clear {name} and a new {name} together make no sense")
        fields[name] = None
    if not fields:
        raise UsageError("nothing to update: give at least one field or --clear")
    card_id = args.id
    if not is_gift_card_id(card_id):
        card_id = client.retrieve_gift_card(code=card_id).id
    card = client.update_gift_card(GiftCardUpdate(id=card_id, **fields))
    out.emit(card, lambda: render.card_record(card))


def cmd_delete(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    if args.soft:
        ids = client.soft_delete_gift_cards(args.ids)
        out.emit({"soft_deleted": list(ids)}, lambda: render.ids_text("soft_deleted", ids))
    else:
        ids = client.delete_gift_cards(args.ids)
        out.emit({"deleted": list(ids)}, lambda: render.ids_text("deleted", ids))


def cmd_restore(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    ids = client.restore_gift_cards(args.ids)
    out.emit({"restored": list(ids)}, lambda: render.ids_text("restored", ids))


def cmd_move(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    """`debit` or `credit`, by `args.command`."""
    move = client.debit_gift_card if args.command == "debit" else client.credit_gift_card
    result: GiftCardTransactionResult = move(
        **lookup(args.code, by_code=args.by_code),
        amount=args.amount,
        currency_code=args.currency,
        reference=args.reference,
        reference_id=args.reference_id,
        idempotency_key=args.idempotency_key,
    )
    out.emit(result, lambda: render.card_move(result))


def cmd_transactions(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    found = lookup(args.code, by_code=args.by_code)
    card_id = found.get("id") or client.retrieve_gift_card(code=found["code"]).id
    limit = None if args.all else args.limit
    items = limited(client.iter_gift_card_transactions(card_id, page_size=page_size(limit)), limit)
    out.emit(items, lambda: render.card_transactions_table(items))


def cmd_options(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    options = client.get_options()
    out.emit(options, lambda: render.options(options))
