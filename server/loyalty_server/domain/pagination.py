"""Opaque, tamper-evident page tokens (AIP-158) for ledgers ordered by a sequence number.

A token is base64url of: a version byte, a tag of the list it belongs to (the
customer or gift card), the 64-bit sequence number to continue below, and a MAC
over all of it. Anything the server did not issue (a rewritten number, a token
of another list, truncated or padded bytes, an older format) fails the MAC or
the layout and is INVALID_ARGUMENT before it reaches SQL; a sequence number out
of range is refused even with a valid MAC, so no token can overflow a column.

The MAC key is built in, so tokens stay valid across workers, replicas and
restarts without configuration: it makes tokens tamper-evident, not secret.
A token only ever positions a read inside a list the caller may read anyway.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from collections.abc import Callable
from typing import TypeVar

from .errors import InvalidData

T = TypeVar("T")

_VERSION = b"\x02"
_KEY = b"loyalty.v1 page token"
_TAG_BYTES = 6
_MAC_BYTES = 10
_LAYOUT = struct.Struct(f">c{_TAG_BYTES}sQ")
_TOKEN_BYTES = _LAYOUT.size + _MAC_BYTES
MAX_SEQ = 2**63 - 1  # BIGINT on PostgreSQL, INTEGER (64-bit) on SQLite
INVALID_MESSAGE = "page_token is invalid: pass the next_page_token of the same list, unchanged"


def _scope_tag(scope: str) -> bytes:
    return hashlib.sha256(scope.encode()).digest()[:_TAG_BYTES]


def _mac(body: bytes) -> bytes:
    return hmac.new(_KEY, body, hashlib.sha256).digest()[:_MAC_BYTES]


def encode_token(scope: str, after_seq: int) -> str:
    """A token valid only for the list it came from (same customer or gift card)."""
    body = _LAYOUT.pack(_VERSION, _scope_tag(scope), after_seq)
    return base64.urlsafe_b64encode(body + _mac(body)).decode().rstrip("=")


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
    invalid = InvalidData.field("page_token", INVALID_MESSAGE)
    if len(token) > 64:
        raise invalid
    try:
        raw = base64.urlsafe_b64decode((token + "=" * (-len(token) % 4)).encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise invalid from None
    # The decoder skips characters outside the alphabet: only the exact spelling counts.
    if len(raw) != _TOKEN_BYTES or base64.urlsafe_b64encode(raw).decode().rstrip("=") != token:
        raise invalid
    body, mac = raw[: _LAYOUT.size], raw[_LAYOUT.size :]
    if not hmac.compare_digest(mac, _mac(body)):
        raise invalid
    version, tag, seq = _LAYOUT.unpack(body)
    if version != _VERSION or tag != _scope_tag(scope) or not 0 < seq <= MAX_SEQ:
        raise invalid
    return int(seq)
