"""Command-line values turned into client arguments, and the usage error they raise."""

from __future__ import annotations

import argparse
import itertools
import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

_GIFT_CARD_ID = re.compile(r"^gcard_[0-9A-HJKMNP-TV-Z]{26}$")


class UsageError(Exception):
    """Bad command-line input found after parsing (exit status 2)."""


def is_gift_card_id(value: str) -> bool:
    return _GIFT_CARD_ID.match(value) is not None


def lookup(value: str, *, by_code: bool) -> dict[str, str]:
    """A gift card given on the command line: an id when it looks like one."""
    if not by_code and is_gift_card_id(value):
        return {"id": value}
    return {"code": value}


def parse_datetime(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{name}: not an ISO 8601 date-time: {value!r}") from None
    if parsed.tzinfo is None:
        raise UsageError(f"{name}: give a time zone, e.g. {value}Z or {value}+02:00")
    return parsed


def parse_json_object(value: str, name: str) -> dict[str, Any]:
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{name}: not valid JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise UsageError(f"{name}: must be a JSON object")
    return parsed


def positive_int(value: str) -> int:
    """An argparse type: a whole number, zero or more."""
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {value!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return n


def limited(items: Iterator[Any], limit: int | None) -> list[Any]:
    """At most `limit` items (all of them for None)."""
    return list(items if limit is None else itertools.islice(items, limit))


def page_size(limit: int | None) -> int:
    """The page size that fetches `limit` items in the fewest calls."""
    return 1000 if limit is None else max(1, min(limit, 1000))
