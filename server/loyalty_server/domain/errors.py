"""Domain errors: plain exceptions that the API layer maps to gRPC statuses.

The domain never imports grpc; api/errors.py owns the one mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# The two store conditions a caller sees (retry later: an outage, or no free
# connection), under the names the API layer maps; defined by the store.
from ..store.errors import StoreBusy as Busy
from ..store.errors import StoreUnavailable as Unavailable

__all__ = [
    "Busy",
    "Conflict",
    "DomainError",
    "Duplicate",
    "FieldViolation",
    "InvalidData",
    "NotAllowed",
    "NotFound",
    "Unavailable",
]


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


class DomainError(Exception):
    """Base of every rule the service refuses with; `message` reaches the caller."""

    reason = "UNKNOWN"

    def __init__(self, message: str, *, metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.metadata = dict(metadata or {})


class InvalidData(DomainError):
    """Bad input; carries one violation per offending field."""

    reason = "INVALID_DATA"

    def __init__(self, violations: list[FieldViolation], message: str | None = None) -> None:
        super().__init__(message or "; ".join(v.description for v in violations))
        self.violations = violations

    @classmethod
    def field(cls, field: str, description: str) -> InvalidData:
        return cls([FieldViolation(field, description)])


class NotFound(DomainError):
    reason = "NOT_FOUND"

    @classmethod
    def record(cls, entity: str, *, id: str | None = None, code: str | None = None) -> NotFound:
        """Medusa's wording ("Gift card with id: X was not found"), so the same
        sentence reaches admin users through the service or Medusa's own module."""
        if id is not None:
            return cls(f"{entity} with id: {id} was not found", metadata={"id": id[:64]})
        text = str(code)
        return cls(f"{entity} with code: {text} was not found", metadata={"code": text[:64]})


class NotAllowed(DomainError):
    """A rule refuses the operation: insufficient balance, expired or redeemed card."""

    reason = "NOT_ALLOWED"


class Duplicate(DomainError):
    reason = "DUPLICATE_ERROR"


class Conflict(DomainError):
    """An idempotency key reused with a different request body."""

    reason = "CONFLICT"
