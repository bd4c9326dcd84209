"""Medusa-style identifiers: a prefix, an underscore and a ULID."""

from __future__ import annotations

from ulid import ULID

ADJUSTMENT = "adj"
GIFT_CARD = "gcard"
GIFT_CARD_TRANSACTION = "gctx"
STORE_CREDIT_ACCOUNT = "sc_acc"
STORE_CREDIT_TRANSACTION = "sc_trx"


def new_id(prefix: str) -> str:
    return f"{prefix}_{ULID()}"
