"""Medusa-style identifiers: a prefix, an underscore and a ULID."""

from __future__ import annotations

from ulid import ULID

ADJUSTMENT = "adj"
GIFT_CARD = "gcard"
GIFT_CARD_TRANSACTION = "gctx"


def new_id(prefix: str) -> str:
    return f"{prefix}_{ULID()}"
