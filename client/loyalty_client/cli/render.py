"""What the CLI prints: JSON-ready data, tables and records for people, error reports."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TextIO

from ..errors import LoyaltyError
from ..types import (
    AccountStats,
    AccountTransaction,
    AccountTransactionResult,
    AdjustPointsResult,
    CapturePointsHoldResult,
    EarnOrderPointsResult,
    GiftCard,
    GiftCardOptions,
    GiftCardTransaction,
    GiftCardTransactionResult,
    HoldPointsResult,
    OrderPoints,
    PointAdjustment,
    PointsBalance,
    PointsHold,
    ReverseOrderPointsResult,
    StoreCreditAccount,
)


def to_plain(value: Any) -> Any:
    """Client values as JSON-ready data: Decimals and datetimes as strings."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, tuple | list):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    return value


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


def report_error(error: LoyaltyError, as_json: bool) -> None:
    """The service's refusal on stderr: one line, or the status as JSON."""
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


# ------------------------------------------------------------- tables, records


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


def page_footer(skip: int, shown: int, count: int | None, hint: str = "--skip/--take") -> str:
    """The "(showing a-b of n)" line under a skip/take page that is not everything."""
    if count is None or count <= shown:
        return ""
    first = skip + 1 if shown else skip
    return f"\n\n(showing {first}-{skip + shown} of {count}; use {hint})"


def ids_text(verb: str, ids: Sequence[str]) -> str:
    """ "deleted: 2" and the ids, one a line."""
    return f"{verb.replace('_', '-')}: {len(ids)}" + "".join(f"\n  {i}" for i in ids)


def _replayed(replayed: bool) -> list[tuple[str, Any]]:
    return [("replayed", "true")] if replayed else []


def _rows(items: Sequence[Any], columns: Sequence[str]) -> list[list[Any]]:
    return [[getattr(item, c) for c in columns] for item in items]


# ------------------------------------------------------------------- points

_ADJUSTMENT_COLUMNS = ("id", "customer_id", "delta", "balance_after", "reason", "created_at")


def adjustments_table(items: Sequence[PointAdjustment]) -> str:
    return render_table(_rows(items, _ADJUSTMENT_COLUMNS), _ADJUSTMENT_COLUMNS)


def adjustment_result(result: AdjustPointsResult) -> str:
    text = render_record(
        [
            ("id", result.id),
            ("customer_id", result.customer_id),
            ("balance_after", result.balance_after),
            ("updated_at", result.updated_at),
            *_replayed(result.replayed),
        ]
    )
    if result.history:
        text += "\n\n" + adjustments_table(result.history)
    return text


def balance(balance: PointsBalance) -> str:
    text = render_record(
        [
            ("customer_id", balance.customer_id),
            ("balance", balance.balance),
            ("held", balance.held),
            ("available", balance.available),
            ("updated_at", balance.updated_at),
        ]
    )
    if balance.history:
        text += "\n\n" + adjustments_table(balance.history)
    return text


# ------------------------------------------------------------ points holds

_HOLD_FIELDS = (
    "id", "customer_id", "points", "status", "reference", "reference_id", "expires_at",
    "captured_points", "adjustment_id", "created_at", "updated_at",
)  # fmt: skip
_HOLD_COLUMNS = ("id", "points", "status", "reference", "reference_id", "expires_at")


def hold_record(hold: PointsHold) -> str:
    return render_record([(f, getattr(hold, f)) for f in _HOLD_FIELDS])


def holds_table(holds: Sequence[PointsHold]) -> str:
    return render_table(_rows(holds, _HOLD_COLUMNS), _HOLD_COLUMNS)


def hold_result(result: HoldPointsResult) -> str:
    return render_record(
        [
            *[(f, getattr(result.hold, f)) for f in _HOLD_FIELDS[:7]],
            ("available", result.available),
            *_replayed(result.replayed),
        ]
    )


def capture_result(result: CapturePointsHoldResult) -> str:
    hold, adjustment = result.hold, result.adjustment
    return render_record(
        [
            ("hold", hold.id),
            ("status", hold.status),
            ("captured_points", hold.captured_points),
            ("adjustment", adjustment.id),
            ("delta", adjustment.delta),
            ("balance_after", adjustment.balance_after),
            *_replayed(result.replayed),
        ]
    )


# ------------------------------------------------------------- order points

_ORDER_FIELDS = ("customer_id", "order_id", "earned", "reversed", "created_at", "updated_at")


def order_record(order: OrderPoints) -> str:
    return render_record([(f, getattr(order, f)) for f in _ORDER_FIELDS])


def earn_result(result: EarnOrderPointsResult) -> str:
    order, adjustment = result.order, result.adjustment
    return render_record(
        [
            ("order_id", order.order_id),
            ("customer_id", order.customer_id),
            ("earned", order.earned),
            ("reversed", order.reversed),
            ("adjustment", adjustment.id),
            ("balance_after", adjustment.balance_after),
            *_replayed(result.replayed),
        ]
    )


def reverse_result(result: ReverseOrderPointsResult) -> str:
    order, adjustment = result.order, result.adjustment
    return render_record(
        [
            ("order_id", order.order_id),
            ("customer_id", order.customer_id),
            ("reversed_now", result.reversed),
            ("earned", order.earned),
            ("reversed", order.reversed),
            ("adjustment", adjustment.id if adjustment else None),
            ("balance_after", adjustment.balance_after if adjustment else None),
            *_replayed(result.replayed),
        ]
    )


# --------------------------------------------------------------- gift cards

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


def card_record(card: GiftCard) -> str:
    return render_record([(f, getattr(card, f)) for f in _CARD_FIELDS])


def cards_table(cards: Sequence[GiftCard]) -> str:
    return render_table(_rows(cards, _CARD_COLUMNS), _CARD_COLUMNS)


def card_transactions_table(items: Sequence[GiftCardTransaction]) -> str:
    return render_table(_rows(items, _TX_COLUMNS), _TX_COLUMNS)


def card_move(result: GiftCardTransactionResult) -> str:
    tx = result.transaction
    return render_record(
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
            *_replayed(result.replayed),
        ]
    )


def options(options: GiftCardOptions) -> str:
    return render_record([("prefix", options.prefix), ("sections", options.sections)])


# ------------------------------------------------------------- store credit

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


def account_record(account: StoreCreditAccount) -> str:
    return render_record([(f, getattr(account, f)) for f in _ACCOUNT_FIELDS])


def accounts_table(accounts: Sequence[StoreCreditAccount]) -> str:
    return render_table(_rows(accounts, _ACCOUNT_COLUMNS), _ACCOUNT_COLUMNS)


def account_transactions_table(items: Sequence[AccountTransaction]) -> str:
    return render_table(_rows(items, _ACCOUNT_TX_COLUMNS), _ACCOUNT_TX_COLUMNS)


def account_move(result: AccountTransactionResult) -> str:
    tx = result.transaction
    return render_record(
        [
            ("transaction", tx.id),
            *[(f, getattr(tx, f)) for f in _ACCOUNT_TX_FIELDS[1:]],
            *_replayed(result.replayed),
        ]
    )


def account_stats(stats: AccountStats) -> str:
    return render_record(
        [
            ("id", stats.id),
            ("balance", stats.balance),
            ("credits", stats.credits),
            ("debits", stats.debits),
        ]
    )
