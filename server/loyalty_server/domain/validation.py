"""Input checks shared by every operation: strings, ids, keys, page sizes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from .errors import FieldViolation, InvalidData

T = TypeVar("T")

MAX_ID = 255
MAX_REASON = 512
MAX_NOTE = 2000
MAX_KEY = 255
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
MAX_BATCH = 1000


class Violations:
    """Collects every field problem of one request, so the caller sees them all at once."""

    def __init__(self) -> None:
        self.items: list[FieldViolation] = []

    def add(self, field: str, description: str) -> None:
        self.items.append(FieldViolation(field, description))

    def capture(self, error: InvalidData) -> None:
        self.items.extend(error.violations)

    def check(self, parse: Callable[[], T]) -> T | None:
        """Run one field's parser; remember its violation instead of stopping."""
        try:
            return parse()
        except InvalidData as error:
            self.capture(error)
            return None

    def raise_if_any(self) -> None:
        if self.items:
            raise InvalidData(self.items)


def text(value: str, field: str, *, max_length: int, required: bool = False) -> str:
    """A bounded string without NUL (PostgreSQL cannot store it) and, if required, non-blank."""
    if required and not value.strip():
        raise InvalidData.field(field, f"{field} is required")
    if len(value) > max_length:
        raise InvalidData.field(field, f"{field} must be at most {max_length} characters")
    if "\x00" in value:
        raise InvalidData.field(field, f"{field} must not contain NUL characters")
    return value


def optional_text(value: str | None, field: str, *, max_length: int) -> str | None:
    return None if value is None else text(value, field, max_length=max_length)


def page_size(value: int, field: str = "page_size") -> int:
    """AIP-158: 0 is the default, too large is capped, negative is an error."""
    if value < 0:
        raise InvalidData.field(field, f"{field} must not be negative")
    if value == 0:
        return DEFAULT_PAGE_SIZE
    return min(value, MAX_PAGE_SIZE)


def batch(count: int, field: str) -> None:
    if count == 0:
        raise InvalidData.field(field, f"{field} must not be empty")
    if count > MAX_BATCH:
        raise InvalidData.field(field, f"{field} must hold at most {MAX_BATCH} items")
