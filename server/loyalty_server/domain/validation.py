"""Input checks shared by every operation: strings, ids, keys, page sizes."""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from .errors import FieldViolation, InvalidData

T = TypeVar("T")
P = ParamSpec("P")

MAX_ID = 255
MAX_REASON = 512
MAX_NOTE = 2000
MAX_KEY = 255
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
MAX_BATCH = 1000
MAX_METADATA_BYTES = 16 * 1024
# Levels of objects and lists inside a metadata value. The protobuf decoder itself
# stops a Struct at 33 levels (its message depth limit of 100), so the limit below
# is what a caller can actually reach and is told about.
MAX_METADATA_DEPTH = 32


class Violations:
    """Collects every field problem of one request, so the caller sees them all at once."""

    def __init__(self) -> None:
        self.items: list[FieldViolation] = []

    def add(self, field: str, description: str) -> None:
        self.items.append(FieldViolation(field, description))

    def capture(self, error: InvalidData) -> None:
        self.items.extend(error.violations)

    def check(self, parse: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
        """Run one field's parser (`check(text, value, "note", max_length=...)`);
        remember its violation instead of stopping."""
        try:
            return parse(*args, **kwargs)
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


def identifier(value: str, field: str) -> str:
    """An id (customer, card, account, transaction): required, at most MAX_ID
    characters, no control characters and no leading or trailing white space.
    " cus_1" would otherwise be another customer than "cus_1", silently."""
    text(value, field, max_length=MAX_ID, required=True)
    if value != value.strip():
        raise InvalidData.field(field, f"{field} must not start or end with white space")
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise InvalidData.field(field, f"{field} must not contain control characters")
    return value


def reason(value: str, field: str = "reason") -> str:
    """Free text explaining a movement: optional, at most MAX_REASON characters."""
    return text(value, field, max_length=MAX_REASON)


def key(value: str, field: str = "idempotency_key", *, required: bool = False) -> str:
    """An idempotency key (AIP-155): at most MAX_KEY characters; "" means none."""
    return text(value, field, max_length=MAX_KEY, required=required)


def label(value: str, field: str) -> str:
    """A short optional string (a reference, a reference id, a code): at most MAX_ID."""
    return text(value, field, max_length=MAX_ID)


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


def metadata(value: dict[str, Any] | None, field: str) -> dict[str, Any] | None:
    """A JSON object that every backend stores as given: finite numbers only (NaN and
    Infinity are not JSON), no NUL in keys or strings, at most MAX_METADATA_DEPTH
    levels deep and MAX_METADATA_BYTES of JSON. Every offending path is named."""
    if value is None:
        return None
    violations = Violations()
    _check_json(value, field, 1, violations)
    violations.raise_if_any()
    if len(json.dumps(value).encode()) > MAX_METADATA_BYTES:
        raise InvalidData.field(
            field, f"{field} must be at most {MAX_METADATA_BYTES} bytes of JSON"
        )
    return value


def _check_json(value: Any, path: str, depth: int, violations: Violations) -> None:
    if isinstance(value, dict | list):
        if depth > MAX_METADATA_DEPTH:
            violations.add(path, f"metadata must nest at most {MAX_METADATA_DEPTH} levels deep")
            return
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and "\x00" in key:
                violations.add(path, "metadata keys must not contain NUL characters")
                continue
            child = f"{path}.{key}" if isinstance(key, str) else f"{path}[{key}]"
            _check_json(item, child, depth + 1, violations)
    elif isinstance(value, float) and not math.isfinite(value):
        violations.add(path, "metadata numbers must be finite (NaN and Infinity are not JSON)")
    elif isinstance(value, str) and "\x00" in value:
        violations.add(path, "metadata strings must not contain NUL characters")
