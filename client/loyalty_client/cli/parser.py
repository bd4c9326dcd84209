"""The `loyalty` command line's grammar: argparse parsers for every command."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from .. import __version__
from ..types import AccountTransactionType, GiftCardStatus
from . import gift_cards, holds, order_points, points, points_import, store_credit
from .connect import DEFAULT_TARGET
from .inputs import positive_int


def _connection_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    # Accepted before and after the subcommand: the leaves default to SUPPRESS so that
    # they do not overwrite what was given before the subcommand.
    def default(value: Any) -> Any:
        return value if top else argparse.SUPPRESS

    g = parser.add_argument_group("connection and output")
    g.add_argument(
        "--address",
        "--target",
        dest="address",
        default=default(None),
        help=f"host:port of the loyalty service (env LOYALTY_ADDRESS, formerly LOYALTY_TARGET; "
        f"default {DEFAULT_TARGET})",
    )
    g.add_argument(
        "--token",
        default=default(None),
        help="bearer token (env LOYALTY_TOKEN; prefer the environment: flags show in ps)",
    )
    g.add_argument(
        "--timeout",
        type=float,
        default=default(None),
        help="deadline per attempt in seconds (env LOYALTY_TIMEOUT; default 10)",
    )
    g.add_argument(
        "--tls",
        action="store_true",
        default=default(False),
        help="use TLS (implied by --ca-cert/--client-cert; env LOYALTY_TLS=1)",
    )
    g.add_argument("--ca-cert", default=default(None), help="CA bundle, PEM (env LOYALTY_CA_CERT)")
    g.add_argument(
        "--client-cert", default=default(None), help="client certificate for mutual TLS, PEM"
    )
    g.add_argument("--client-key", default=default(None), help="client private key, PEM")
    g.add_argument(
        "--tls-server-name", default=default(None), help="expected server name in its certificate"
    )
    g.add_argument(
        "--json", action="store_true", default=default(False), help="print JSON instead of tables"
    )


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    _connection_options(common, top=False)

    parser = argparse.ArgumentParser(
        prog="loyalty",
        description="Loyalty points, gift cards and store credit of a Medusa store, over gRPC.",
        epilog="Exit status: 0 ok, 1 the service refused or could not be reached, 2 bad usage.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _connection_options(parser, top=True)
    groups = parser.add_subparsers(
        dest="group", required=True, metavar="{points,gift-cards,store-credit,options}"
    )

    def leaf(sub: Any, name: str, func: Callable[..., None], help: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(
            name, help=help, description=help, parents=[common]
        )
        p.set_defaults(func=func, command=name)
        return p

    # points
    points_group = groups.add_parser("points", help="loyalty point balances").add_subparsers(
        dest="command", required=True
    )
    p = leaf(
        points_group, "adjust", points.cmd_adjust, "add (positive) or remove (negative) points"
    )
    p.add_argument("customer_id")
    p.add_argument("delta", help="a decimal such as 100 or -50")
    p.add_argument("--reason", default="")
    p.add_argument("--history", action="store_true", help="also show the last 20 adjustments")
    p.add_argument(
        "--idempotency-key",
        help="repeat the command with the same key and nothing is applied twice "
        "(default: a fresh key per run, which makes the client's own retries safe)",
    )
    p = leaf(points_group, "balance", points.cmd_balance, "a customer's balance")
    p.add_argument("customer_id")
    p.add_argument("--history", action="store_true", help="also show the last 20 adjustments")
    p = leaf(points_group, "history", points.cmd_history, "a customer's adjustments, newest first")
    p.add_argument("customer_id")
    p.add_argument("--limit", type=positive_int, default=50, help="at most this many (50)")
    p.add_argument("--all", action="store_true", help="every adjustment")
    p = leaf(
        points_group,
        "import",
        points_import.cmd_import,
        "apply adjustments from a CSV file with the header customer_id,delta,reason,"
        "idempotency_key; each batch is all or nothing",
    )
    p.add_argument("file", help='the CSV file ("-" for standard input)')
    p.add_argument(
        "--batch-size",
        type=positive_int,
        default=points_import.MAX_BATCH,
        help="rows per batch (1000)",
    )

    # points holds
    p = leaf(
        points_group,
        "hold",
        holds.cmd_hold,
        "reserve points of a customer (for a cart) until captured, released or expired",
    )
    p.add_argument("customer_id")
    p.add_argument("points", help="a positive decimal, e.g. 200")
    p.add_argument("--reference", default="", help='what it is for, e.g. "cart"')
    p.add_argument("--reference-id", default="", help="e.g. the cart's id")
    p.add_argument(
        "--expires-at", help="ISO 8601 with a time zone (default: one hour; at most 30 days)"
    )
    p.add_argument(
        "--idempotency-key",
        help="repeat the command with the same key and nothing is reserved twice "
        "(default: a fresh key per run)",
    )
    p = leaf(
        points_group,
        "capture",
        holds.cmd_capture,
        "spend held points (one ledger debit, once per hold); the rest is released",
    )
    p.add_argument("hold_id", metavar="HOLD_ID")
    p.add_argument("--points", help="at most the points held (default: all of them)")
    p.add_argument("--reason", default="", help='default "points hold <id> captured"')
    p = leaf(points_group, "release", holds.cmd_release, "give held points back")
    p.add_argument("hold_id", metavar="HOLD_ID")
    p = leaf(points_group, "get-hold", holds.cmd_get, "show one hold and its status")
    p.add_argument("hold_id", metavar="HOLD_ID")
    p = leaf(points_group, "holds", holds.cmd_list, "a customer's holds, newest first")
    p.add_argument("customer_id")
    p.add_argument("--reference-id", default="", help="only the holds for this reference")
    p.add_argument("--active", action="store_true", help="only the active, unexpired holds")
    p.add_argument("--limit", type=positive_int, default=50, help="at most this many (50)")
    p.add_argument("--all", action="store_true", help="every hold")

    # order points
    p = leaf(
        points_group,
        "earn",
        order_points.cmd_earn,
        "award points for an order, once per order (a repeated call earns nothing twice)",
    )
    p.add_argument("customer_id")
    p.add_argument("order_id")
    p.add_argument("points", help="a positive decimal")
    p.add_argument("--reason", default="", help='default "order <id>"')
    p = leaf(
        points_group,
        "reverse",
        order_points.cmd_reverse,
        "take back points an order earned (all it has left, or --points of them)",
    )
    p.add_argument("customer_id")
    p.add_argument("order_id")
    p.add_argument("--points", help="at most what the order has left (default: all of it)")
    p.add_argument("--reason", default="")
    p.add_argument(
        "--idempotency-key",
        required=True,
        help='names this reversal, e.g. "cancel" or a refund id: the same key applies once',
    )
    p = leaf(points_group, "order", order_points.cmd_get, "what an order earned and gave back")
    p.add_argument("customer_id")
    p.add_argument("order_id")

    # gift cards
    cards = groups.add_parser("gift-cards", help="gift cards").add_subparsers(
        dest="command", required=True
    )
    statuses = [s.value for s in GiftCardStatus]
    p = leaf(cards, "create", gift_cards.cmd_create, "create a gift card")
    p.add_argument("--value", required=True, help="face value, e.g. 50 or 25.50")
    p.add_argument("--currency", required=True, help="ISO 4217 code, e.g. usd")
    p.add_argument("--code", help="default: the server generates one")
    p.add_argument("--status", choices=statuses)
    p.add_argument("--customer-id")
    p.add_argument("--reference-id")
    p.add_argument("--reference")
    p.add_argument("--line-item-id")
    p.add_argument("--note")
    p.add_argument("--expires-at", help="ISO 8601 with a time zone, e.g. 2026-12-31T23:59:59Z")
    p.add_argument("--metadata", help="a JSON object")

    lookup_help = "the card's code (or its gcard_ id)"
    p = leaf(cards, "get", gift_cards.cmd_get, "show one gift card")
    p.add_argument("code", metavar="CODE", help=lookup_help)
    p.add_argument("--code", dest="by_code", action="store_true", help="treat CODE as a code")

    p = leaf(cards, "list", gift_cards.cmd_list, "list gift cards")
    p.add_argument("--status", action="append", choices=statuses)
    p.add_argument("--currency", action="append")
    p.add_argument("--customer-id", action="append")
    p.add_argument("--code", action="append")
    p.add_argument("--q", help="search in code and note")
    p.add_argument("--order", help='e.g. "created_at DESC"')
    p.add_argument("--skip", type=positive_int, default=0)
    p.add_argument("--take", type=positive_int, default=None, help="default 15")
    p.add_argument("--all", action="store_true", help="every matching card")
    p.add_argument("--with-deleted", action="store_true")

    p = leaf(cards, "update", gift_cards.cmd_update, "change fields of a gift card")
    p.add_argument("id", metavar="ID", help="the card's gcard_ id (or its code)")
    p.add_argument("--value")
    p.add_argument("--status", choices=statuses)
    p.add_argument("--currency", dest="currency_code")
    p.add_argument("--note")
    p.add_argument("--customer-id")
    p.add_argument("--reference-id")
    p.add_argument("--reference")
    p.add_argument("--line-item-id")
    p.add_argument("--expires-at")
    p.add_argument("--metadata", help="a JSON object (replaces the metadata)")
    p.add_argument(
        "--clear",
        action="append",
        choices=[
            "note",
            "customer_id",
            "reference_id",
            "reference",
            "line_item_id",
            "expires_at",
            "metadata",
        ],
        help="remove a field (repeatable)",
    )

    p = leaf(cards, "delete", gift_cards.cmd_delete, "delete gift cards for good (or --soft)")
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("--soft", action="store_true", help="soft-delete (restorable)")
    p = leaf(cards, "restore", gift_cards.cmd_restore, "undo a soft delete")
    p.add_argument("ids", nargs="+", metavar="ID")

    for name, func_help in (("debit", "spend from a gift card"), ("credit", "refund onto a card")):
        p = leaf(cards, name, gift_cards.cmd_move, func_help)
        p.add_argument("code", metavar="CODE", help=lookup_help)
        p.add_argument("amount", help="a positive decimal, e.g. 10 or 9.99")
        p.add_argument("--currency", required=True, help="the card's currency")
        p.add_argument("--reference", default="")
        p.add_argument("--reference-id", default="")
        p.add_argument("--idempotency-key", help="default: a fresh key per run")
        p.add_argument("--code", dest="by_code", action="store_true", help="treat CODE as a code")

    p = leaf(
        cards, "transactions", gift_cards.cmd_transactions, "a card's transactions, newest first"
    )
    p.add_argument("code", metavar="CODE", help=lookup_help)
    p.add_argument("--code", dest="by_code", action="store_true", help="treat CODE as a code")
    p.add_argument("--limit", type=positive_int, default=50)
    p.add_argument("--all", action="store_true")

    # store credit
    credit = groups.add_parser("store-credit", help="store-credit accounts").add_subparsers(
        dest="command", required=True
    )
    p = leaf(credit, "create", store_credit.cmd_create, "create a store-credit account")
    p.add_argument("--currency", required=True, help="ISO 4217 code, e.g. usd")
    p.add_argument("--customer", help="the customer's id (one live account per currency)")
    p.add_argument("--code", help="a unique code, for an anonymous account")
    p.add_argument("--metadata", help="a JSON object")

    p = leaf(credit, "show", store_credit.cmd_show, "show one account with its balance")
    p.add_argument("id", nargs="?", metavar="ID", help="the account's sc_acc_ id")
    p.add_argument("--code", help="find the account by its code instead")

    p = leaf(credit, "list", store_credit.cmd_list, "list store-credit accounts")
    p.add_argument("--customer", action="append", help="a customer id (repeatable)")
    p.add_argument("--currency", action="append", help="a currency code (repeatable)")
    p.add_argument("--code", action="append", help="an account code (repeatable)")
    p.add_argument("--q", help="search in code, customer id and id")
    p.add_argument("--order", help='e.g. "balance DESC" (default "created_at ASC")')
    p.add_argument("--skip", type=positive_int, default=0)
    p.add_argument("--take", type=positive_int, default=None, help="default 15")
    p.add_argument("--with-deleted", action="store_true", help="include soft-deleted accounts")

    for name, func_help in (
        ("credit", "add store credit to an account"),
        ("debit", "spend store credit from an account (never below zero)"),
    ):
        p = leaf(credit, name, store_credit.cmd_move, func_help)
        p.add_argument("account_id", metavar="ACCOUNT_ID", help="the account's sc_acc_ id")
        p.add_argument("amount", help="a positive decimal, e.g. 10 or 9.99")
        p.add_argument("--note")
        p.add_argument("--reference", default="", help='what it is for, e.g. "order"')
        p.add_argument("--reference-id", default="", help="e.g. the order's id")
        p.add_argument(
            "--key",
            help="idempotency key: repeat the command with the same key and nothing is "
            "applied twice (default: a fresh key per run)",
        )

    p = leaf(credit, "stats", store_credit.cmd_stats, "an account's balance, credits and debits")
    p.add_argument("account_id", metavar="ACCOUNT_ID")

    p = leaf(
        credit,
        "transactions",
        store_credit.cmd_transactions,
        "an account's transactions, newest first",
    )
    p.add_argument("account_id", metavar="ACCOUNT_ID")
    p.add_argument("--type", action="append", choices=[t.value for t in AccountTransactionType])
    p.add_argument("--skip", type=positive_int, default=0)
    p.add_argument("--take", type=positive_int, default=None, help="default 15")

    p = leaf(
        credit,
        "void",
        store_credit.cmd_void,
        "void transactions: their amounts leave the balance (refused below zero)",
    )
    p.add_argument("ids", nargs="+", metavar="TRANSACTION_ID")

    p = groups.add_parser("options", help="the server's gift card code settings", parents=[common])
    p.set_defaults(func=gift_cards.cmd_options, command="options")
    return parser
