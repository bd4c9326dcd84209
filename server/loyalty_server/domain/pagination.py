"""Opaque page tokens (AIP-158) for ledgers ordered by their sequence number."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import TypeVar

from .errors import InvalidData

T = TypeVar("T")


def _scope_tag(scope: str) -> str:
    return hashlib.sha256(scope.encode()).hexdigest()[:12]


def encode_token(scope: str, after_seq: int) -> str:
    """A token valid only for the list it came from (same customer or gift card)."""
    raw = f"v1:{_scope_tag(scope)}:{after_seq}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def page_of(rows: list[T], limit: int, scope: str, seq: Callable[[T], int]) -> tuple[list[T], str]:
    """Cut rows fetched with limit + 1 to one page and its next_page_token ("" at the end)."""
    if len(rows) <= limit:
        return rows, ""
    rows = rows[:limit]
    return rows, encode_token(scope, seq(rows[-1]))


def decode_token(token: str, scope: str) -> int | None:
    """The sequence number to continue below, or None for the first page."""
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        version, tag, seq = base64.urlsafe_b64decode(padded.encode()).decode().split(":")
        if version != "v1" or tag != _scope_tag(scope):
            raise ValueError(token)
        return int(seq)
    except ValueError as exc:  # also binascii.Error and UnicodeDecodeError
        raise InvalidData.field(
            "page_token", "page_token is invalid or belongs to another list"
        ) from exc
