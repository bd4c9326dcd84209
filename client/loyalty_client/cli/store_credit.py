"""`loyalty store-credit ...`: store-credit accounts and their transactions."""

from __future__ import annotations

import argparse

from ..client import LoyaltyClient
from ..types import AccountTransactionResult, NewStoreCreditAccount
from . import render
from .inputs import UsageError, parse_json_object
from .render import Output


def cmd_create(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    account = client.create_store_credit_account(
        NewStoreCreditAccount(
            currency_code=args.currency,
            customer_id=args.customer,
            code=args.code,
            metadata=parse_json_object(args.metadata, "--metadata") if args.metadata else None,
        )
    )
    out.emit(account, lambda: render.account_record(account))


def cmd_show(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    if (args.id is None) == (args.code is None):
        raise UsageError("give an account ID or --code CODE (one of them)")
    account = client.retrieve_store_credit_account(id=args.id, code=args.code)
    out.emit(account, lambda: render.account_record(account))


def cmd_list(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    page = client.list_store_credit_accounts(
        customer_id=args.customer or [],
        currency_code=args.currency or [],
        code=args.code or [],
        q=args.q or "",
        order=args.order or "",
        with_deleted=args.with_deleted,
        skip=args.skip,
        take=args.take,
        with_count=not out.json,
    )
    accounts = list(page.accounts)
    footer = render.page_footer(args.skip, len(accounts), page.count)
    out.emit(accounts, lambda: render.accounts_table(accounts) + footer)


def cmd_move(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    """`credit` or `debit`, by `args.command`."""
    move = client.credit_account if args.command == "credit" else client.debit_account
    result: AccountTransactionResult = move(
        args.account_id,
        args.amount,
        note=args.note,
        reference=args.reference,
        reference_id=args.reference_id,
        idempotency_key=args.key,
    )
    out.emit(result, lambda: render.account_move(result))


def cmd_stats(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    stats = client.retrieve_account_stats(args.account_id)
    out.emit(stats, lambda: render.account_stats(stats))


def cmd_transactions(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    page = client.list_account_transactions(
        account_id=args.account_id,
        type=args.type or [],
        skip=args.skip,
        take=args.take,
        with_count=not out.json,
    )
    items = list(page.transactions)
    footer = render.page_footer(args.skip, len(items), page.count)
    out.emit(items, lambda: render.account_transactions_table(items) + footer)


def cmd_void(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    ids = client.delete_account_transactions(args.ids)
    out.emit({"voided": list(ids)}, lambda: render.ids_text("voided", ids))
