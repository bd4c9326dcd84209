"""A lean PostgreSQL path for the hot single-statement operations.

SQLAlchemy's async engine costs about 300 microseconds of CPU per checkout
(greenlet switches, pre-ping, reset on return) and as much again per statement;
the hot writes (AdjustPoints, DebitGiftCard) are one SQL statement each, so
they run here instead: a few psycopg connections in autocommit mode, each
statement prepared once per connection. Everything else keeps the engine.

A statement either commits as a whole or not at all. Errors are sorted out for
the caller: a raced unique key, a serialization failure, a deadlock or a lock
wait past the pool's lock_timeout raises `Contended`
(the caller then takes the general, locking path, which retries and answers
replays), a lost connection raises `StoreUnavailable` after the connection and
all idle ones are discarded (after a database restart they are all dead).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

import psycopg
from psycopg import errors as pg_errors
from sqlalchemy.engine import URL

from .errors import POOL_WAIT_S, Contended, StoreBusy, StoreUnavailable

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


def simple_case_only(
    path: Callable[P, Awaitable[R | None]],
) -> Callable[P, Awaitable[R | None]]:
    """A one-statement path answers for the common case only: None (nothing
    written) when it is not, a lost race (Contended) included, and the caller's
    locking path decides. The one place that turns a race into that None."""

    @functools.wraps(path)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R | None:
        try:
            return await path(*args, **kwargs)
        except Contended:
            return None

    return run


# An idle connection unused for this long is checked with an empty query before
# use, as the engine's pre-ping does on every checkout; busy ones skip the check.
IDLE_CHECK_S = 1.0
CONNECT_TIMEOUT_S = 3
ACQUIRE_TIMEOUT_S = POOL_WAIT_S


_IDLE = psycopg.pq.TransactionStatus.IDLE


# Every statement here is prepared once per connection and then run with new
# parameters. PostgreSQL's default ("auto") still made a custom plan on every
# execution of the adjustment and balance statements (300 custom plans of 300);
# the generic plan is the same index plan without the planning (bench/plans.py:
# 0.96 -> 0.75 ms per adjustment, 0.57 -> 0.35 ms per balance read).
# A generic plan is kept until the statistics change, so one made while a table
# was young (analyzed empty) chose sequential scans, and a debit batch slowed as
# the ledger grew (16 -> 69 ms over 7,200 rows in bench/plans.py). Every
# statement here is a lookup by key, id or index order by design, so sequential
# scans are priced out (4 -> 12 ms over the same rows; 2 ms on real statistics,
# which autovacuum's ANALYZE brings, invalidating the plan).
_SESSION = "-c plan_cache_mode=force_generic_plan -c enable_seqscan=off"


def _conninfo(url: URL, lock_timeout_ms: int | None) -> str:
    query = {k: str(v) for k, v in url.query.items() if isinstance(v, str)}
    options = f"{query.get('options', '')} {_SESSION}"
    if lock_timeout_ms is not None:
        options += f" -c lock_timeout={lock_timeout_ms}"
    query["options"] = options.strip()
    # A host list (host=h1,h2&port=p1,p2, see db._multihost) comes in the query.
    host = query.pop("host", url.host or "127.0.0.1")
    port = query.pop("port", str(url.port or 5432))
    return psycopg.conninfo.make_conninfo(
        host=host,
        port=port,
        user=url.username or "",
        password=url.password or "",
        dbname=url.database or "",
        connect_timeout=str(CONNECT_TIMEOUT_S),
        application_name="loyalty-server",
        **query,
    )


class DirectPool:
    """At most `size` autocommit psycopg connections, reused last-in first-out.

    With `lock_timeout_ms`, a statement that waits longer than that for a row lock
    fails (as `Contended`, nothing written) instead of waiting on.
    """

    def __init__(self, url: URL, size: int, *, lock_timeout_ms: int | None = None) -> None:
        self._conninfo = _conninfo(url, lock_timeout_ms)
        self._slots = asyncio.Semaphore(size)
        self._idle: list[tuple[psycopg.AsyncConnection[Any], float]] = []
        self._closed = False

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(
            self._conninfo, autocommit=True, prepare_threshold=0
        )

    async def _take(self) -> psycopg.AsyncConnection[Any]:
        while self._idle:
            conn, last_used = self._idle.pop()
            if conn.closed or conn.broken:
                continue
            if time.monotonic() - last_used > IDLE_CHECK_S:
                try:
                    await conn.execute("")
                except psycopg.Error:
                    await conn.close()
                    continue
            return conn
        return await self._connect()

    def _discard_idle(self) -> None:
        idle, self._idle = self._idle, []
        for conn, _ in idle:
            conn.pgconn.finish()

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A connection for one unit of work; errors are mapped as the module says."""
        if self._closed:
            raise StoreUnavailable("the server is shutting down")
        try:
            async with asyncio.timeout(ACQUIRE_TIMEOUT_S):
                await self._slots.acquire()
        except TimeoutError as error:
            # Every connection of this pool is busy: saturation, not an outage.
            raise StoreBusy(
                f"the server is busy: no database connection was free within "
                f"{ACQUIRE_TIMEOUT_S:g} s; retry later"
            ) from error
        conn: psycopg.AsyncConnection[Any] | None = None
        try:
            conn = await self._take()
            yield conn
        except (pg_errors.UniqueViolation, pg_errors.SerializationFailure) as error:
            raise Contended(type(error).__name__) from error
        except (pg_errors.DeadlockDetected, pg_errors.LockNotAvailable) as error:
            raise Contended(type(error).__name__) from error
        except (psycopg.OperationalError, psycopg.InterfaceError, OSError) as error:
            if conn is not None:
                conn.pgconn.finish()
                conn = None
            self._discard_idle()
            raise StoreUnavailable("the database is unavailable, retry later") from error
        finally:
            if conn is not None:
                if conn.closed or conn.broken or conn.info.transaction_status != _IDLE:
                    # not idle (an error inside a transaction block): do not reuse
                    conn.pgconn.finish()
                else:
                    self._idle.append((conn, time.monotonic()))
            self._slots.release()

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for conn, _ in idle:
            with contextlib.suppress(psycopg.Error):
                await conn.close()
