"""``loyalty``: the command line over :class:`~loyalty_client.LoyaltyClient`.

Human-readable tables by default, ``--json`` for scripts. Exit status: 0 on success,
1 when the service answered with an error (or could not be reached), 2 for bad
command-line input. The server's address and the token come from
``--address``/``LOYALTY_ADDRESS`` (``--target``/``LOYALTY_TARGET`` still work) and
``--token``/``LOYALTY_TOKEN``, the names the Medusa adapter reads too.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import itertools
import json
import math
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TextIO

from . import __version__
from ._transport import DEFAULT_TIMEOUT
from .client import LoyaltyClient
from .convert import to_plain
from .errors import LoyaltyError
from .types import (
    AccountTransaction,
    AccountTransactionResult,
    AccountTransactionType,
    AdjustPointsResult,
    GiftCard,
    GiftCardStatus,
    GiftCardTransaction,
    GiftCardTransactionResult,
    GiftCardUpdate,
    NewGiftCard,
    NewStoreCreditAccount,
    PointAdjustment,
    PointsAdjustmentInput,
    PointsBalance,
    StoreCreditAccount,
    TLSConfig,
)

DEFAULT_TARGET = "127.0.0.1:50051"
MAX_BATCH = 1000
_GIFT_CARD_ID = re.compile(r"^gcard_[0-9A-HJKMNP-TV-Z]{26}$")


class UsageError(Exception):
    """Bad command-line input found after parsing (exit status 2)."""


# ------------------------------------------------------------------ output


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds").replace("+00:00", "Z")
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, dict):
        return json.dumps(to_plain(value), sort_keys=True)
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, Decimal | int) and not isinstance(value, bool)


def render_table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    """Columns padded to their widest cell; numbers right-aligned."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    numeric = [bool(rows) and all(_is_number(r[i]) for r in rows) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line([h.upper() for h in headers]), *(line(r) for r in cells)])


def render_record(pairs: Sequence[tuple[str, Any]]) -> str:
    """One object as "key  value" lines."""
    width = max(len(k) for k, _ in pairs)
    return "\n".join(f"{k.ljust(width)}  {_cell(v)}".rstrip() for k, v in pairs)


_ADJUSTMENT_COLUMNS = ("id", "customer_id", "delta", "balance_after", "reason", "created_at")
_CARD_COLUMNS = ("id", "code", "status", "value", "balance", "currency_code", "expires_at")
_CARD_FIELDS = (
    "id", "code", "status", "value", "balance", "currency_code", "customer_id",
    "reference_id", "reference", "line_item_id", "note", "expires_at", "metadata",
    "created_at", "updated_at", "deleted_at",
)  # fmt: skip
_TX_COLUMNS = (
    "id", "type", "amount", "currency_code", "balance_after", "reference", "reference_id",
    "created_at",
)  # fmt: skip


_ACCOUNT_COLUMNS = (
    "id", "customer_id", "code", "currency_code", "balance", "credits", "debits", "created_at",
)  # fmt: skip
_ACCOUNT_FIELDS = (
    "id", "customer_id", "code", "currency_code", "balance", "credits", "debits",
    "gift_card_id", "metadata", "created_at", "updated_at", "deleted_at",
)  # fmt: skip
_ACCOUNT_TX_COLUMNS = (
    "id", "type", "amount", "reference", "reference_id", "note", "created_at",
)  # fmt: skip
_ACCOUNT_TX_FIELDS = (
    "id", "account_id", "type", "amount", "note", "reference", "reference_id", "metadata",
    "created_at",
)  # fmt: skip


def _rows(items: Sequence[Any], columns: Sequence[str]) -> list[list[Any]]:
    return [[getattr(item, c) for c in columns] for item in items]


def _adjustments_table(items: Sequence[PointAdjustment]) -> str:
    return render_table(_rows(items, _ADJUSTMENT_COLUMNS), _ADJUSTMENT_COLUMNS)


def _card_record(card: GiftCard) -> str:
    return render_record([(f, getattr(card, f)) for f in _CARD_FIELDS])


def _cards_table(cards: Sequence[GiftCard]) -> str:
    return render_table(_rows(cards, _CARD_COLUMNS), _CARD_COLUMNS)


def _transactions_table(items: Sequence[GiftCardTransaction]) -> str:
    return render_table(_rows(items, _TX_COLUMNS), _TX_COLUMNS)


def _account_record(account: StoreCreditAccount) -> str:
    return render_record([(f, getattr(account, f)) for f in _ACCOUNT_FIELDS])


def _accounts_table(accounts: Sequence[StoreCreditAccount]) -> str:
    return render_table(_rows(accounts, _ACCOUNT_COLUMNS), _ACCOUNT_COLUMNS)


def _account_transactions_table(items: Sequence[AccountTransaction]) -> str:
    return render_table(_rows(items, _ACCOUNT_TX_COLUMNS), _ACCOUNT_TX_COLUMNS)


def _page_footer(skip: int, shown: int, count: int | None) -> str:
    """The "(showing a-b of n)" line under a skip/take page that is not everything."""
    if count is None or count <= shown:
        return ""
    first = skip + 1 if shown else skip
    return f"\n\n(showing {first}-{skip + shown} of {count}; use --skip/--take)"


@dataclass
class Output:
    """Where and how results go: a table for people, JSON for scripts."""

    json: bool
    out: TextIO

    def emit(self, value: Any, table: Callable[[], str]) -> None:
        if self.json:
            json.dump(to_plain(value), self.out, indent=2, sort_keys=False)
            self.out.write("\n")
        else:
            text = table()
            if text:
                self.out.write(text + "\n")


# ---------------------------------------------------------------- commands


def _lookup(value: str, *, by_code: bool) -> dict[str, str]:
    """A gift card given on the command line: an id when it looks like one."""
    if not by_code and _GIFT_CARD_ID.match(value):
        return {"id": value}
    return {"code": value}


def _parse_datetime(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{name}: not an ISO 8601 date-time: {value!r}") from None
    if parsed.tzinfo is None:
        raise UsageError(f"{name}: give a time zone, e.g. {value}Z or {value}+02:00")
    return parsed


def _parse_json_object(value: str, name: str) -> dict[str, Any]:
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{name}: not valid JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise UsageError(f"{name}: must be a JSON object")
    return parsed


def cmd_points_adjust(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    result = client.adjust_points(
        args.customer_id,
        args.delta,
        reason=args.reason,
        history=args.history,
        idempotency_key=args.idempotency_key,
    )

    def table() -> str:
        text = _adjustment_result_record(result)
        if result.history:
            text += "\n\n" + _adjustments_table(result.history)
        return text

    out.emit(result, table)


def _adjustment_result_record(result: AdjustPointsResult) -> str:
    return render_record(
        [
            ("id", result.id),
            ("customer_id", result.customer_id),
            ("balance_after", result.balance_after),
            ("updated_at", result.updated_at),
            *([("replayed", "true")] if result.replayed else []),
        ]
    )


def cmd_points_balance(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    balance = client.get_points_balance(args.customer_id, history=args.history)

    def table() -> str:
        text = _balance_record(balance)
        if balance.history:
            text += "\n\n" + _adjustments_table(balance.history)
        return text

    out.emit(balance, table)


def _balance_record(balance: PointsBalance) -> str:
    return render_record(
        [
            ("customer_id", balance.customer_id),
            ("balance", balance.balance),
            ("updated_at", balance.updated_at),
        ]
    )


def _limited(items: Iterator[Any], limit: int | None) -> list[Any]:
    return list(items if limit is None else itertools.islice(items, limit))


def _page_size(limit: int | None) -> int:
    return 1000 if limit is None else max(1, min(limit, 1000))


def cmd_points_history(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    limit = None if args.all else args.limit
    items = _limited(
        client.iter_point_adjustments(args.customer_id, page_size=_page_size(limit)), limit
    )
    out.emit(items, lambda: _adjustments_table(items))


@dataclass
class _Row:
    line: int
    item: PointsAdjustmentInput


def _read_import(stream: TextIO, file_key: str) -> Iterator[_Row]:
    """The rows of an import. A row without an idempotency_key gets one derived from
    the file's content and the row's line ("import:<sha256[:16]>:<line>"), so running
    the same file again (say after a failed batch) applies no row twice."""
    reader = csv.DictReader(stream)
    columns = set(reader.fieldnames or ())
    missing = {"customer_id", "delta"} - columns
    if missing:
        raise UsageError(
            f"the CSV header must name customer_id and delta (and optionally reason and "
            f"idempotency_key); missing: {', '.join(sorted(missing))}"
        )
    for row in reader:
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue  # a blank line
        key = (row.get("idempotency_key") or "").strip()
        yield _Row(
            reader.line_num,
            PointsAdjustmentInput(
                customer_id=(row.get("customer_id") or "").strip(),
                delta=(row.get("delta") or "").strip(),
                reason=row.get("reason") or "",
                idempotency_key=key or f"import:{file_key}:{reader.line_num}",
            ),
        )


def _batches(rows: Iterator[_Row], size: int) -> Iterator[list[_Row]]:
    while batch := list(itertools.islice(rows, size)):
        yield batch


_ITEM = re.compile(r"adjustments\[(\d+)\]\.?")


def _name_lines(error: LoyaltyError, batch: list[_Row]) -> list[int]:
    """Rewrites the server's item indexes (``adjustments[1]``, 0-based within the batch)
    as the CSV lines of those rows, in the message and the field violations; returns
    the lines named."""
    lines: list[int] = []

    def line_of(match: re.Match[str]) -> int | None:
        index = int(match.group(1))
        if index >= len(batch):
            return None
        if batch[index].line not in lines:
            lines.append(batch[index].line)
        return batch[index].line

    def in_message(match: re.Match[str]) -> str:
        line = line_of(match)
        return match.group(0) if line is None else f"CSV line {line}"

    def in_field(field: str) -> str:
        match = _ITEM.match(field)
        line = line_of(match) if match else None
        if match is None or line is None:
            return field
        rest = field[match.end() :]
        return f"line {line}: {rest}" if rest else f"line {line}"

    error.field_violations = tuple(
        replace(v, field=in_field(v.field)) for v in error.field_violations
    )
    error.message = _ITEM.sub(in_message, error.message)
    return lines


def _already_applied(result: Sequence[PointAdjustment], started: datetime) -> int:
    """Rows the server answered with an earlier adjustment: a used idempotency key
    (BatchAdjustPoints replays return the original entry, recorded before this import
    started; a new entry is recorded during it)."""
    return sum(1 for a in result if a.created_at is not None and a.created_at < started)


def cmd_points_import(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    if not 1 <= args.batch_size <= MAX_BATCH:
        raise UsageError(f"--batch-size must be between 1 and {MAX_BATCH}")
    applied: list[PointAdjustment] = []
    batches = 0
    already = 0
    try:
        if args.file == "-":
            buffer = getattr(sys.stdin, "buffer", None)
            data = buffer.read() if buffer is not None else sys.stdin.read().encode()
        else:
            with open(args.file, "rb") as f:
                data = f.read()
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
    file_key = hashlib.sha256(data).hexdigest()[:16]
    started = datetime.now(UTC)
    try:
        # utf-8-sig: a byte order mark (spreadsheet exports) is not part of the header.
        stream = io.StringIO(data.decode("utf-8-sig"), newline="")
        for batch in _batches(_read_import(stream, file_key), args.batch_size):
            try:
                result = client.batch_adjust_points([r.item for r in batch])
            except LoyaltyError as exc:
                lines = _name_lines(exc, batch)
                where = ", ".join(str(n) for n in lines)
                named = f"CSV line {where}: " if len(lines) == 1 else f"CSV lines {where}: "
                if not lines or "CSV line" in exc.message:
                    named = ""
                exc.message = (
                    f"{named}{exc.message}; batch {batches + 1} (CSV lines "
                    f"{batch[0].line}-{batch[-1].line}) was not applied. {len(applied)} "
                    f"row(s) in {batches} earlier batch(es) were applied"
                    + (f" ({already} of them by an earlier import)" if already else "")
                )
                raise
            applied.extend(result)
            already += _already_applied(result, started)
            batches += 1
    except (csv.Error, UnicodeDecodeError) as exc:
        raise UsageError(f"{args.file}: {exc}") from None
    summary = {
        "file": args.file,
        "rows": len(applied),
        "imported": len(applied) - already,
        "already_applied": already,
        "batches": batches,
        "adjustments": applied,
    }

    def text() -> str:
        new = len(applied) - already
        done = f"Imported {new} adjustment(s) in {batches} batch(es) from {args.file}"
        if already:
            done += (
                f"; {already} of its {len(applied)} row(s) were already applied (an earlier "
                f"import with the same idempotency keys) and were not applied again"
            )
        return done

    out.emit(summary, text)


def cmd_cards_create(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
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
            expires_at=_parse_datetime(args.expires_at, "--expires-at")
            if args.expires_at
            else None,
            metadata=_parse_json_object(args.metadata, "--metadata") if args.metadata else None,
        )
    )
    out.emit(card, lambda: _card_record(card))


def cmd_cards_get(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    card = client.retrieve_gift_card(**_lookup(args.code, by_code=args.by_code))
    out.emit(card, lambda: _card_record(card))


def cmd_cards_list(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
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
        if page.count is not None and page.count > len(cards):
            first = args.skip + 1 if cards else args.skip
            footer = (
                f"\n\n(showing {first}-{args.skip + len(cards)} of {page.count}; "
                f"use --skip/--take or --all)"
            )
    out.emit(cards, lambda: _cards_table(cards) + footer)


def cmd_cards_update(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    fields: dict[str, Any] = {}
    for name in ("value", "status", "currency_code", "note", "customer_id", "reference_id",
                 "reference", "line_item_id"):  # fmt: skip
        value = getattr(args, name)
        if value is not None:
            fields[name] = value
    if args.expires_at is not None:
        fields["expires_at"] = _parse_datetime(args.expires_at, "--expires-at")
    if args.metadata is not None:
        fields["metadata"] = _parse_json_object(args.metadata, "--metadata")
    for name in args.clear or []:
        if name in fields:
            raise UsageError(f"--clear {name} and a new {name} together make no sense")
        fields[name] = None
    if not fields:
        raise UsageError("nothing to update: give at least one field or --clear")
    card_id = args.id
    if not _GIFT_CARD_ID.match(card_id):
        card_id = client.retrieve_gift_card(code=card_id).id
    card = client.update_gift_card(GiftCardUpdate(id=card_id, **fields))
    out.emit(card, lambda: _card_record(card))


def _ids_result(verb: str, ids: Sequence[str], out: Output) -> None:
    out.emit(
        {verb: list(ids)},
        lambda: f"{verb.replace('_', '-')}: {len(ids)}" + "".join(f"\n  {i}" for i in ids),
    )


def cmd_cards_delete(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    if args.soft:
        _ids_result("soft_deleted", client.soft_delete_gift_cards(args.ids), out)
    else:
        _ids_result("deleted", client.delete_gift_cards(args.ids), out)


def cmd_cards_restore(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    _ids_result("restored", client.restore_gift_cards(args.ids), out)


def _money_move(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    move = client.debit_gift_card if args.command == "debit" else client.credit_gift_card
    result: GiftCardTransactionResult = move(
        **_lookup(args.code, by_code=args.by_code),
        amount=args.amount,
        currency_code=args.currency,
        reference=args.reference,
        reference_id=args.reference_id,
        idempotency_key=args.idempotency_key,
    )
    tx = result.transaction
    out.emit(
        result,
        lambda: render_record(
            [
                ("transaction", tx.id),
                ("gift_card_id", tx.gift_card_id),
                ("type", tx.type),
                ("amount", tx.amount),
                ("currency_code", tx.currency_code),
                ("balance", result.balance),
                ("status", result.status),
                ("reference", tx.reference),
                ("reference_id", tx.reference_id),
                ("created_at", tx.created_at),
                *([("replayed", "true")] if result.replayed else []),
            ]
        ),
    )


def cmd_cards_transactions(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    lookup = _lookup(args.code, by_code=args.by_code)
    card_id = lookup.get("id") or client.retrieve_gift_card(code=lookup["code"]).id
    limit = None if args.all else args.limit
    items = _limited(
        client.iter_gift_card_transactions(card_id, page_size=_page_size(limit)), limit
    )
    out.emit(items, lambda: _transactions_table(items))


def cmd_credit_create(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    account = client.create_store_credit_account(
        NewStoreCreditAccount(
            currency_code=args.currency,
            customer_id=args.customer,
            code=args.code,
            metadata=_parse_json_object(args.metadata, "--metadata") if args.metadata else None,
        )
    )
    out.emit(account, lambda: _account_record(account))


def cmd_credit_show(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    if (args.id is None) == (args.code is None):
        raise UsageError("give an account ID or --code CODE (one of them)")
    account = client.retrieve_store_credit_account(id=args.id, code=args.code)
    out.emit(account, lambda: _account_record(account))


def cmd_credit_list(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
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
    footer = _page_footer(args.skip, len(accounts), page.count)
    out.emit(accounts, lambda: _accounts_table(accounts) + footer)


def cmd_credit_move(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    move = client.credit_account if args.command == "credit" else client.debit_account
    result: AccountTransactionResult = move(
        args.account_id,
        args.amount,
        note=args.note,
        reference=args.reference,
        reference_id=args.reference_id,
        idempotency_key=args.key,
    )
    tx = result.transaction
    out.emit(
        result,
        lambda: render_record(
            [
                ("transaction", tx.id),
                *[(f, getattr(tx, f)) for f in _ACCOUNT_TX_FIELDS[1:]],
                *([("replayed", "true")] if result.replayed else []),
            ]
        ),
    )


def cmd_credit_stats(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    stats = client.retrieve_account_stats(args.account_id)
    out.emit(
        stats,
        lambda: render_record(
            [
                ("id", stats.id),
                ("balance", stats.balance),
                ("credits", stats.credits),
                ("debits", stats.debits),
            ]
        ),
    )


def cmd_credit_transactions(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    page = client.list_account_transactions(
        account_id=args.account_id,
        type=args.type or [],
        skip=args.skip,
        take=args.take,
        with_count=not out.json,
    )
    items = list(page.transactions)
    footer = _page_footer(args.skip, len(items), page.count)
    out.emit(items, lambda: _account_transactions_table(items) + footer)


def cmd_credit_void(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    _ids_result("voided", client.delete_account_transactions(args.ids), out)


def cmd_options(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    options = client.get_options()
    out.emit(
        options,
        lambda: render_record([("prefix", options.prefix), ("sections", options.sections)]),
    )


# ------------------------------------------------------------------ parser


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


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {value!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return n


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
    points = groups.add_parser("points", help="loyalty point balances").add_subparsers(
        dest="command", required=True
    )
    p = leaf(points, "adjust", cmd_points_adjust, "add (positive) or remove (negative) points")
    p.add_argument("customer_id")
    p.add_argument("delta", help="a decimal such as 100 or -50")
    p.add_argument("--reason", default="")
    p.add_argument("--history", action="store_true", help="also show the last 20 adjustments")
    p.add_argument(
        "--idempotency-key",
        help="repeat the command with the same key and nothing is applied twice "
        "(default: a fresh key per run, which makes the client's own retries safe)",
    )
    p = leaf(points, "balance", cmd_points_balance, "a customer's balance")
    p.add_argument("customer_id")
    p.add_argument("--history", action="store_true", help="also show the last 20 adjustments")
    p = leaf(points, "history", cmd_points_history, "a customer's adjustments, newest first")
    p.add_argument("customer_id")
    p.add_argument("--limit", type=_positive_int, default=50, help="at most this many (50)")
    p.add_argument("--all", action="store_true", help="every adjustment")
    p = leaf(
        points,
        "import",
        cmd_points_import,
        "apply adjustments from a CSV file with the header customer_id,delta,reason,"
        "idempotency_key; each batch is all or nothing",
    )
    p.add_argument("file", help='the CSV file ("-" for standard input)')
    p.add_argument(
        "--batch-size", type=_positive_int, default=MAX_BATCH, help="rows per batch (1000)"
    )

    # gift cards
    cards = groups.add_parser("gift-cards", help="gift cards").add_subparsers(
        dest="command", required=True
    )
    statuses = [s.value for s in GiftCardStatus]
    p = leaf(cards, "create", cmd_cards_create, "create a gift card")
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
    p = leaf(cards, "get", cmd_cards_get, "show one gift card")
    p.add_argument("code", metavar="CODE", help=lookup_help)
    p.add_argument("--code", dest="by_code", action="store_true", help="treat CODE as a code")

    p = leaf(cards, "list", cmd_cards_list, "list gift cards")
    p.add_argument("--status", action="append", choices=statuses)
    p.add_argument("--currency", action="append")
    p.add_argument("--customer-id", action="append")
    p.add_argument("--code", action="append")
    p.add_argument("--q", help="search in code and note")
    p.add_argument("--order", help='e.g. "created_at DESC"')
    p.add_argument("--skip", type=_positive_int, default=0)
    p.add_argument("--take", type=_positive_int, default=None, help="default 15")
    p.add_argument("--all", action="store_true", help="every matching card")
    p.add_argument("--with-deleted", action="store_true")

    p = leaf(cards, "update", cmd_cards_update, "change fields of a gift card")
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

    p = leaf(cards, "delete", cmd_cards_delete, "delete gift cards for good (or --soft)")
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("--soft", action="store_true", help="soft-delete (restorable)")
    p = leaf(cards, "restore", cmd_cards_restore, "undo a soft delete")
    p.add_argument("ids", nargs="+", metavar="ID")

    for name, func_help in (("debit", "spend from a gift card"), ("credit", "refund onto a card")):
        p = leaf(cards, name, _money_move, func_help)
        p.add_argument("code", metavar="CODE", help=lookup_help)
        p.add_argument("amount", help="a positive decimal, e.g. 10 or 9.99")
        p.add_argument("--currency", required=True, help="the card's currency")
        p.add_argument("--reference", default="")
        p.add_argument("--reference-id", default="")
        p.add_argument("--idempotency-key", help="default: a fresh key per run")
        p.add_argument("--code", dest="by_code", action="store_true", help="treat CODE as a code")

    p = leaf(cards, "transactions", cmd_cards_transactions, "a card's transactions, newest first")
    p.add_argument("code", metavar="CODE", help=lookup_help)
    p.add_argument("--code", dest="by_code", action="store_true", help="treat CODE as a code")
    p.add_argument("--limit", type=_positive_int, default=50)
    p.add_argument("--all", action="store_true")

    # store credit
    credit = groups.add_parser("store-credit", help="store-credit accounts").add_subparsers(
        dest="command", required=True
    )
    p = leaf(credit, "create", cmd_credit_create, "create a store-credit account")
    p.add_argument("--currency", required=True, help="ISO 4217 code, e.g. usd")
    p.add_argument("--customer", help="the customer's id (one live account per currency)")
    p.add_argument("--code", help="a unique code, for an anonymous account")
    p.add_argument("--metadata", help="a JSON object")

    p = leaf(credit, "show", cmd_credit_show, "show one account with its balance")
    p.add_argument("id", nargs="?", metavar="ID", help="the account's sc_acc_ id")
    p.add_argument("--code", help="find the account by its code instead")

    p = leaf(credit, "list", cmd_credit_list, "list store-credit accounts")
    p.add_argument("--customer", action="append", help="a customer id (repeatable)")
    p.add_argument("--currency", action="append", help="a currency code (repeatable)")
    p.add_argument("--code", action="append", help="an account code (repeatable)")
    p.add_argument("--q", help="search in code, customer id and id")
    p.add_argument("--order", help='e.g. "balance DESC" (default "created_at ASC")')
    p.add_argument("--skip", type=_positive_int, default=0)
    p.add_argument("--take", type=_positive_int, default=None, help="default 15")
    p.add_argument("--with-deleted", action="store_true", help="include soft-deleted accounts")

    for name, func_help in (
        ("credit", "add store credit to an account"),
        ("debit", "spend store credit from an account (never below zero)"),
    ):
        p = leaf(credit, name, cmd_credit_move, func_help)
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

    p = leaf(credit, "stats", cmd_credit_stats, "an account's balance, credits and debits")
    p.add_argument("account_id", metavar="ACCOUNT_ID")

    p = leaf(
        credit, "transactions", cmd_credit_transactions, "an account's transactions, newest first"
    )
    p.add_argument("account_id", metavar="ACCOUNT_ID")
    p.add_argument("--type", action="append", choices=[t.value for t in AccountTransactionType])
    p.add_argument("--skip", type=_positive_int, default=0)
    p.add_argument("--take", type=_positive_int, default=None, help="default 15")

    p = leaf(
        credit,
        "void",
        cmd_credit_void,
        "void transactions: their amounts leave the balance (refused below zero)",
    )
    p.add_argument("ids", nargs="+", metavar="TRANSACTION_ID")

    p = groups.add_parser("options", help="the server's gift card code settings", parents=[common])
    p.set_defaults(func=cmd_options, command="options")
    return parser


# -------------------------------------------------------------------- main


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def make_client(args: argparse.Namespace) -> LoyaltyClient:
    env = os.environ
    # LOYALTY_ADDRESS, as the Medusa adapter reads it; LOYALTY_TARGET is the older name.
    target = args.address or env.get("LOYALTY_ADDRESS") or env.get("LOYALTY_TARGET")
    target = target or DEFAULT_TARGET
    token = args.token or env.get("LOYALTY_TOKEN") or None
    timeout: float | None = args.timeout
    if timeout is None:
        text = env.get("LOYALTY_TIMEOUT", "").strip()
        try:
            timeout = float(text) if text else DEFAULT_TIMEOUT
        except ValueError:
            raise UsageError(f"LOYALTY_TIMEOUT is not a number: {text!r}") from None
    if not math.isfinite(timeout) or timeout <= 0:
        raise UsageError(f"the timeout must be a positive, finite number of seconds, not {timeout}")
    ca_cert = args.ca_cert or env.get("LOYALTY_CA_CERT") or None
    client_cert = args.client_cert or env.get("LOYALTY_CLIENT_CERT") or None
    client_key = args.client_key or env.get("LOYALTY_CLIENT_KEY") or None
    tls: TLSConfig | None = None
    if args.tls or _env_flag("LOYALTY_TLS") or ca_cert or client_cert or client_key:
        try:
            tls = TLSConfig(
                ca_cert=ca_cert,
                client_cert=client_cert,
                client_key=client_key,
                server_name=args.tls_server_name,
            )
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    try:
        return LoyaltyClient(
            target,
            token=token,
            tls=tls,
            timeout=timeout,
        )
    except OSError as exc:
        raise UsageError(f"cannot read a TLS file: {exc}") from None


def _report(error: LoyaltyError, as_json: bool) -> None:
    if as_json:
        body = {
            "error": {
                "code": error.code.name,
                "reason": error.reason,
                "message": error.message,
                "field_violations": to_plain(list(error.field_violations)),
            }
        }
        sys.stderr.write(json.dumps(body, indent=2) + "\n")
    else:
        sys.stderr.write(f"loyalty: error: {error}\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    out = Output(json=bool(args.json), out=sys.stdout)
    try:
        with make_client(args) as client:
            args.func(client, args, out)
    except LoyaltyError as exc:
        _report(exc, out.json)
        return 1
    except (UsageError, ValueError) as exc:
        sys.stderr.write(f"loyalty: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `loyalty ... | head`: stop quietly.
        sys.stderr.close()
        return 0
    return 0


__all__ = ["build_parser", "main", "render_record", "render_table"]
