"""Exact decimal parsing, arithmetic and formatting: the only place amounts meet strings."""

from __future__ import annotations

import re
from decimal import Context, Decimal, InvalidOperation

from .errors import InvalidData

MAX_SCALE = 6
MAX_MAGNITUDE = Decimal(10) ** 15
# Balances accumulate many amounts; the columns hold NUMERIC(30, 6).
MAX_BALANCE = Decimal(10) ** 20
ZERO = Decimal(0)

# Wide enough that no sum of stored amounts is ever rounded.
_EXACT = Context(prec=60)

# Plain decimal notation only: no exponent, no whitespace, no "NaN"/"Infinity",
# no "+" or thousands separators; digits on at least one side of the point.
_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_MAX_TEXT = 40


def parse_decimal(raw: str, field: str, *, message: str, allow_negative: bool) -> Decimal:
    """Parse a wire decimal; refuse zero, excess scale, huge magnitudes and odd notations.

    Every refusal's message starts with `message`, the field's one sentence (e.g.
    "delta must be a non-zero number"), so clients can rely on that prefix; what
    follows it, when anything does, says what would be accepted:

    - "... with at most 6 decimal places" (excess scale),
    - "... below 10^15 in magnitude",
    - '... in plain decimal notation, as "1000" (no exponent, "+", spaces or "_")'
      when the text is a number in another notation (`1e3`, `+5`, ` 10`, `1_000`)
      whose value would be accepted.
    """
    plain = len(raw) <= _MAX_TEXT and _DECIMAL.fullmatch(raw) is not None
    value = Decimal(raw) if plain else _lenient(raw)
    if value is None or value.is_zero() or (value < 0 and not allow_negative):
        raise InvalidData.field(field, message)
    if scale(value) > MAX_SCALE:
        raise InvalidData.field(field, f"{message} with at most {MAX_SCALE} decimal places")
    if abs(value) >= MAX_MAGNITUDE:
        raise InvalidData.field(field, f"{message} below 10^15 in magnitude")
    if not plain:
        raise InvalidData.field(field, f"{message} {notation_hint(value)}")
    return value


def notation_hint(value: Decimal) -> str:
    """What to send instead of a number written in a notation the wire refuses."""
    return (
        f'in plain decimal notation, as "{format_decimal(value)}" (no exponent, "+", spaces or "_")'
    )


def _lenient(raw: str) -> Decimal | None:
    """The finite value Python would read in `raw` (exponent, sign, spaces, "_"), if any."""
    if len(raw) > _MAX_TEXT:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def scale(value: Decimal) -> int:
    """Decimal places that carry information: trailing zeros do not count ("1.50" is 1)."""
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite by construction
    index = len(digits)
    while exponent < 0 and index > 1 and digits[index - 1] == 0:
        index -= 1
        exponent += 1
    return max(0, -exponent)


def add(a: Decimal, b: Decimal) -> Decimal:
    return _EXACT.add(a, b)


def subtract(a: Decimal, b: Decimal) -> Decimal:
    return _EXACT.subtract(a, b)


def format_decimal(value: Decimal) -> str:
    """Canonical wire form: no exponent, no trailing zeros ("50", "0.01", "-3.5")."""
    if value.is_zero():
        return "0"
    return format(value.normalize(_EXACT), "f")
