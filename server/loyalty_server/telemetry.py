"""Hooks the store calls at the points worth measuring; no-ops until wired.

The store knows nothing of Prometheus or OpenTelemetry: it calls these few
functions, and `observe` (metrics, traces) sets what they do when the operator
turns metrics or traces on. Switched off, each is one global read and returns
at once, so the hot path pays nothing for them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

#: Wired by observe: each is None while nothing listens.
on_batch: Callable[[int], None] | None = None
wrap_transaction: Callable[[str, Awaitable[Any]], Awaitable[Any]] | None = None
wrap_wait: Callable[[str, Awaitable[Any]], Awaitable[Any]] | None = None


def group_commit_batch(size: int) -> None:
    """Group commit is sending `size` calls as one statement (store/coalesce.py)."""
    if on_batch is not None:
        on_batch(size)


def transaction(dialect: str, work: Awaitable[T]) -> Awaitable[T]:
    """`work` (one Database.run transaction) as a child span of the call's span."""
    if wrap_transaction is None:
        return work
    return wrap_transaction(dialect, work)


def waited(queue: str, acquire: Awaitable[T]) -> Awaitable[T]:
    """`acquire` (waiting for a turn or a connection), timed as a pool wait."""
    if wrap_wait is None:
        return acquire
    return wrap_wait(queue, acquire)
