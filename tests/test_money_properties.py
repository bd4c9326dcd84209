"""Property-based tests of decimal parsing, input validation (domain level) and
the wire's timestamp conversion."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from google.protobuf import timestamp_pb2
from hypothesis import given
from hypothesis import strategies as st

from loyalty_server.api.convert import timestamp
from loyalty_server.domain.errors import InvalidData
from loyalty_server.domain.money import format_decimal, parse_decimal, scale

MESSAGE = "delta must be a non-zero number"
exact = st.decimals(
    min_value=Decimal("-999999999999999.999999"),
    max_value=Decimal("999999999999999.999999"),
    places=6,
    allow_nan=False,
    allow_infinity=False,
).filter(lambda d: not d.is_zero())


def parse(raw: str) -> Decimal:
    return parse_decimal(raw, "delta", message=MESSAGE, allow_negative=True)


@given(exact)
def test_round_trip_is_exact(value: Decimal) -> None:
    text = format_decimal(value)
    assert "E" not in text and "e" not in text
    assert parse(text) == value
    assert format_decimal(parse(text)) == text


@given(exact, st.integers(min_value=0, max_value=10))
def test_trailing_zeros_are_not_precision(value: Decimal, zeros: int) -> None:
    text = format_decimal(value)
    padded = text + ("." if "." not in text else "") + "0" * zeros if zeros else text
    assert parse(padded) == value


@given(st.text(max_size=30))
def test_any_text_parses_or_fails_with_the_one_message(raw: str) -> None:
    try:
        value = parse(raw)
    except InvalidData as error:
        assert error.message.startswith(MESSAGE)
        assert [v.field for v in error.violations] == ["delta"]
    else:
        assert value.is_finite() and not value.is_zero()
        assert abs(value) < 10**15 and scale(value) <= 6
        assert raw.strip() == raw and "e" not in raw.lower()


@given(st.integers(min_value=7, max_value=30), st.integers(min_value=1, max_value=9))
def test_excess_scale_is_refused(places: int, digit: int) -> None:
    with pytest.raises(InvalidData):
        parse("0." + "0" * (places - 1) + str(digit))


@given(st.integers(min_value=15, max_value=40))
def test_huge_magnitudes_are_refused(digits: int) -> None:
    with pytest.raises(InvalidData):
        parse("1" + "0" * digits)


def test_positive_only() -> None:
    with pytest.raises(InvalidData):
        parse_decimal(
            "-1", "amount", message="amount must be a positive number", allow_negative=False
        )
    assert parse_decimal("1", "amount", message="x", allow_negative=False) == 1


HINT = '(no exponent, "+", spaces or "_")'


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1e3", f'{MESSAGE} in plain decimal notation, as "1000" {HINT}'),
        ("+5", f'{MESSAGE} in plain decimal notation, as "5" {HINT}'),
        (" 10", f'{MESSAGE} in plain decimal notation, as "10" {HINT}'),
        ("1_000", f'{MESSAGE} in plain decimal notation, as "1000" {HINT}'),
        ("-2.50E1", f'{MESSAGE} in plain decimal notation, as "-25" {HINT}'),
        # The value's own fault comes first: fixing the notation alone would not do.
        ("0e3", MESSAGE),
        ("1e-9", f"{MESSAGE} with at most 6 decimal places"),
        ("1e20", f"{MESSAGE} below 10^15 in magnitude"),
        ("0.0000001", f"{MESSAGE} with at most 6 decimal places"),
        ("1" + "0" * 15, f"{MESSAGE} below 10^15 in magnitude"),
        # Not a number at all: the field's sentence alone.
        ("abc", MESSAGE),
        ("", MESSAGE),
        ("0", MESSAGE),
        ("NaN", MESSAGE),
        ("Infinity", MESSAGE),
        ("1,000", MESSAGE),
    ],
)
def test_each_message_says_what_is_accepted(raw: str, expected: str) -> None:
    with pytest.raises(InvalidData) as refused:
        parse(raw)
    assert refused.value.message == expected
    assert [(v.field, v.description) for v in refused.value.violations] == [("delta", expected)]


def test_a_sign_the_field_refuses_keeps_the_sentence() -> None:
    with pytest.raises(InvalidData) as refused:
        parse_decimal(
            "-1e2", "amount", message="amount must be a positive number", allow_negative=False
        )
    assert refused.value.message == "amount must be a positive number"


# A day inside Timestamp's range at both ends, whatever the zone's offset.
@given(
    st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30), timezones=st.timezones() | st.none())
)
def test_timestamps_match_protobufs_own_conversion(value: datetime) -> None:
    """convert.timestamp (integer arithmetic, for speed) agrees with
    Timestamp.FromDatetime on every datetime, aware or naive (taken as UTC)."""
    expected = timestamp_pb2.Timestamp()
    expected.FromDatetime(value)
    assert timestamp(value) == expected
