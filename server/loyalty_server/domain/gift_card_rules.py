"""Gift card rules: field checks, look-ups and the spending rules (currency,
expiry, status after a movement). No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from . import codes, validation
from .currencies import currency_code
from .errors import InvalidData, NotAllowed, NotFound
from .gift_card_records import PENDING, REDEEMED, STATUSES, GiftCard, Spend
from .idempotency import request_hash
from .money import ZERO, format_decimal, parse_decimal
from .validation import Violations

VALUE_MESSAGE = "value must be a positive number"
AMOUNT_MESSAGE = "amount must be a positive number"
OPTIONAL_TEXT_FIELDS = ("customer_id", "reference_id", "reference", "line_item_id")


def not_found(id: str | None = None, code: str | None = None) -> NotFound:
    return NotFound.record("Gift card", id=id, code=code)


def status(value: str | None, field: str) -> str:
    if value not in STATUSES:
        raise InvalidData.field(field, f"{field} must be pending or redeemed")
    return value


def card_lookup(id: str | None, code: str | None) -> tuple[str | None, str | None]:
    if (id is None) == (code is None) or not (id or code):
        raise InvalidData.field("id", "give exactly one of id or code")
    if id is not None:
        return validation.identifier(id, "id"), None
    return None, validation.text(str(code), "code", max_length=codes.MAX_CODE)


def validate_field(name: str, value: Any, field: str) -> Any:
    """One updatable field's value, checked; shared by create and update."""
    if name == "value":
        return parse_decimal(value, field, message=VALUE_MESSAGE, allow_negative=False)
    if name == "currency_code":
        return currency_code(value, field)
    if name == "status":
        return status(value, field)
    if name == "note":
        return validation.optional_text(value, field, max_length=validation.MAX_NOTE)
    if name in OPTIONAL_TEXT_FIELDS:
        return validation.optional_text(value, field, max_length=validation.MAX_ID)
    if name == "metadata":
        return validation.metadata(value, field)
    if name == "expires_at":
        return value
    raise InvalidData.field(field, f"{name} cannot be updated")


@dataclass(frozen=True)
class ValidSpend:
    """A debit or credit whose fields passed: the card to look up (id or code),
    the amount, the currency, the key and the request's fingerprint."""

    lookup: tuple[str | None, str | None]
    amount: Decimal
    currency: str
    key: str | None
    fingerprint: str


def validate_spend(spend: Spend, kind: str) -> ValidSpend:
    v = Violations()
    found = v.check(card_lookup, spend.id, spend.code)
    amount = v.check(
        parse_decimal, spend.amount, "amount", message=AMOUNT_MESSAGE, allow_negative=False
    )
    currency = v.check(currency_code, spend.currency_code)
    v.check(validation.label, spend.reference, "reference")
    v.check(validation.label, spend.reference_id, "reference_id")
    key = v.check(validation.key, spend.idempotency_key, "idempotency_key")
    v.raise_if_any()
    assert found is not None and amount is not None and currency is not None
    fingerprint = request_hash(
        kind,
        amount=format_decimal(amount),
        currency_code=currency,
        reference=spend.reference,
        reference_id=spend.reference_id,
    )
    return ValidSpend(found, amount, currency, key or None, fingerprint)


def status_after(balance: Decimal) -> str:
    return REDEEMED if balance == ZERO else PENDING


def check_currency(card: GiftCard, currency: str) -> None:
    if currency != card.currency_code:
        raise NotAllowed(f"Gift card {card.code} is in {card.currency_code}, not {currency}")


def check_not_expired(card: GiftCard, now: datetime) -> None:
    if card.expires_at is not None and card.expires_at <= now:
        raise NotAllowed(f"Gift card {card.code} expired at {card.expires_at.isoformat()}")
