"""Request fingerprints for idempotency keys (AIP-155)."""

from __future__ import annotations

import hashlib
import json

from .errors import Conflict


def request_hash(operation: str, **fields: object) -> str:
    """A stable hash of what a keyed request asks for, to tell a replay from a reuse."""
    canonical = json.dumps([operation, fields], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def key_columns(key: str | None, fingerprint: str) -> dict[str, str | None]:
    """The ledger columns that claim a key: both set for a keyed write, both NULL otherwise."""
    return {"idempotency_key": key or None, "request_hash": fingerprint if key else None}


def check_replay(stored_hash: str | None, new_hash: str, key: str) -> None:
    """A replay must ask for exactly what the first request asked for."""
    if stored_hash != new_hash:
        raise Conflict(
            f"idempotency_key {key!r} was already used with a different request; "
            "use a new key for a new operation",
            metadata={"idempotency_key": key[:64]},
        )
