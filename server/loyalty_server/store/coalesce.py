"""Group commit for a one-statement write: the calls that queue up while the
previous statement is in flight go to the database together, as one statement.

Sending them as one set-based statement costs one round trip, one plan and one
commit (one WAL flush) instead of one each; in bench/run.py that halves the
server CPU AdjustPoints spends beyond an empty RPC. A call that finds no
statement in flight goes alone at once, so a quiet server adds no latency.

Reads coalesce the same way (one SELECT for the point reads queued meanwhile,
`key=None`): one round trip and one statement in PostgreSQL serve them all.

The rules that keep each call's write its own:
- A batch holds at most one item per `key` (PostgreSQL cannot update one row
  twice in one statement); a second item for the same key waits for the next batch.
  Without a key (reads), any number of items share a batch, up to `max_batch`.
- The statement commits as a whole or not at all. Its result is None for an item
  it did not apply, and for every item when it lost a race (`Contended`: nothing
  of it was written); those callers then take the locking path on their own.
- The pool given here should have a short lock_timeout: a statement that waits
  on a locked row holds up its batch-mates and everyone queued behind it, so it
  should rather give up (`Contended`) and leave each call to the locking path.
- A call whose caller gives up before its batch is sent is dropped. A batch in
  flight is cancelled (at the database, by psycopg) once all of its callers
  have given up; while one still waits, it runs on, as the guarantees allow.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import psycopg

from .. import telemetry
from .direct import DirectPool
from .errors import Contended

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

# A cap on the calls one statement carries (and the rows it locks) at once; at 32
# callers in bench/run.py the batches stay far below it (a batch holds the calls
# queued meanwhile).
MAX_BATCH = 64

Statement = Callable[[psycopg.AsyncConnection[Any], list[Item]], Awaitable[list[Result | None]]]


@dataclass(eq=False)
class _Call(Generic[Item, Result]):
    item: Item
    waiter: asyncio.Future[Result | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


def _settle(batch: list[_Call[Item, Result]], error: BaseException) -> None:
    """Answer every caller of `batch` still waiting: None (take the locking path)
    after `Contended`, cancelled when the server is stopping, else the error."""
    for call in batch:
        if call.waiter.done():
            continue
        if isinstance(error, Contended):
            call.waiter.set_result(None)
        elif isinstance(error, asyncio.CancelledError):
            call.waiter.cancel()
        else:
            call.waiter.set_exception(error)


class Coalescer(Generic[Item, Result]):
    """Runs `statement` on the calls queued while the previous one ran."""

    def __init__(
        self,
        pool: DirectPool,
        statement: Statement[Item, Result],
        *,
        key: Callable[[Item], Hashable] | None,
        max_batch: int,
        group_commit: bool = True,
    ) -> None:
        self._pool = pool
        self._statement = statement
        self._key = key
        self._max_batch = max_batch
        self._group_commit = group_commit  # a write: its batches are group commit's metric
        self._queue: list[_Call[Item, Result]] = []
        # At most one flush waits for the slot; whoever queues finds it there.
        self._waiting: asyncio.Task[None] | None = None
        self._flushes: set[asyncio.Task[None]] = set()
        self._slot = asyncio.Lock()  # one statement in flight

    async def submit(self, item: Item) -> Result | None:
        """The statement's result for `item`, or None when it did not apply it."""
        call: _Call[Item, Result] = _Call(item)
        self._queue.append(call)
        if self._waiting is None:
            self._start_flush()
        return await call.waiter

    def _start_flush(self) -> None:
        task = asyncio.get_running_loop().create_task(self._flush())
        self._waiting = task
        self._flushes.add(task)
        task.add_done_callback(self._flush_done)

    def _flush_done(self, task: asyncio.Task[None]) -> None:
        self._flushes.discard(task)
        if self._waiting is task:  # cancelled before it took a batch: the server is stopping
            self._waiting = None
            queued, self._queue = self._queue, []
            _settle(queued, asyncio.CancelledError())

    def _take(self) -> list[_Call[Item, Result]]:
        batch: list[_Call[Item, Result]] = []
        rest: list[_Call[Item, Result]] = []
        keys: set[Hashable] = set()
        for call in self._queue:
            if call.waiter.done():  # its caller gave up before it was sent
                continue
            key = call if self._key is None else self._key(call.item)
            if len(batch) < self._max_batch and key not in keys:
                keys.add(key)
                batch.append(call)
            else:
                rest.append(call)
        self._queue = rest
        return batch

    async def _flush(self) -> None:
        batch: list[_Call[Item, Result]] = []
        try:
            async with self._slot:
                self._waiting = None
                batch = self._take()
                if self._queue:  # more than one batch's worth: the next one waits
                    self._start_flush()
                if not batch:
                    return
                if self._group_commit:
                    telemetry.group_commit_batch(len(batch))
                self._cancel_when_abandoned(batch)
                async with self._pool.connection() as conn:
                    results = await self._statement(conn, [call.item for call in batch])
                for call, result in zip(batch, results, strict=True):
                    if not call.waiter.done():
                        call.waiter.set_result(result)
                if log.isEnabledFor(logging.DEBUG):
                    applied = sum(result is not None for result in results)
                    log.debug("coalesced", extra={"calls": len(batch), "applied": applied})
        except (Exception, asyncio.CancelledError) as error:
            if isinstance(error, Contended) and log.isEnabledFor(logging.DEBUG):
                lost = {"calls": len(batch), "applied": 0, "lost": str(error)}
                log.debug("coalesced", extra=lost)
            _settle(batch, error)
            if isinstance(error, asyncio.CancelledError):
                raise

    @staticmethod
    def _cancel_when_abandoned(batch: list[_Call[Item, Result]]) -> None:
        task = asyncio.current_task()
        assert task is not None

        def check(_: asyncio.Future[Any]) -> None:
            if all(call.waiter.cancelled() for call in batch):
                task.cancel()

        for call in batch:
            call.waiter.add_done_callback(check)
