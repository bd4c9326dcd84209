"""Engine, transactions and dialect quirks. Knows SQL, not gRPC or business rules."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from sqlalchemy import Row, event, exc, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from .. import telemetry
from .errors import POOL_WAIT_S, StoreBusy, StoreUnavailable

__all__ = ["POOL_WAIT_S", "AnyRow", "Database", "StoreBusy", "StoreUnavailable", "Tx"]

if TYPE_CHECKING:
    from .direct import DirectPool

log = logging.getLogger(__name__)

T = TypeVar("T")
# A result row of any shape; callers read it by column name.
AnyRow: TypeAlias = "Row[*tuple[Any, ...]]"
#: The one transaction a unit of work runs in (Database.run hands it over); the
#: domain passes it to store functions without knowing what it is.
Tx: TypeAlias = AsyncConnection

# PostgreSQL SQLSTATEs worth retrying as a whole transaction.
_RETRY_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected
MAX_ATTEMPTS = 5
SQLITE_BUSY_TIMEOUT_MS = 10_000


class WorkRecord:
    """What became of one call's database work, for the call's log line.

    `applied` is True once its transaction committed, False when it was dropped or
    rolled back, None when unknown. `pending` is a transaction still running after
    its caller went away (SQLite lets a begun transaction finish): the log line is
    written when it ends, with the truth.
    """

    def __init__(self) -> None:
        self.applied: bool | None = None
        self.pending: asyncio.Task[Any] | None = None


#: Set by the API layer for each call; Database.run reports into it.
current_work: ContextVar[WorkRecord | None] = ContextVar("loyalty_current_work", default=None)


class _Abandoned(Exception):
    """The caller went away before its queued SQLite transaction began: nothing ran."""


# SQLite: transactions of one process wait their turn in an asyncio queue (FIFO,
# no busy-polling); past this many waiting, a call is refused at once (StoreBusy)
# rather than queued behind work that cannot finish within anyone's deadline.
MAX_SQLITE_QUEUE = 256


def _multihost(url: str) -> URL:
    """Parse `url`, accepting libpq's multi-host form (docs/high-availability.md).

    `postgresql://u@h1:p1,h2:p2/db?target_session_attrs=read-write` (which SQLAlchemy
    cannot parse) and SQLAlchemy's `?host=h1:p1&host=h2:p2` both become one URL with
    the query `host=h1,h2&port=p1,p2`, which libpq (psycopg) reads as a host list.
    """
    scheme, sep, rest = url.partition("://")
    netloc, slash, tail = rest.partition("/")
    userinfo, at, hostlist = netloc.rpartition("@")
    hosts: list[str] = []
    if sep and "," in hostlist:
        hosts = hostlist.split(",")
        url = f"{scheme}://{userinfo}{at}{slash}{tail}"
    parsed = make_url(url)
    given = parsed.query.get("host")
    if isinstance(given, tuple):
        hosts = list(given)
    if not hosts:
        return parsed
    pairs = [h.rpartition(":")[::2] if ":" in h else (h, "") for h in hosts]
    names = ",".join(name for name, _ in pairs)
    ports = ",".join(port for _, port in pairs)
    return parsed.update_query_dict({"host": names, "port": ports})


def async_url(url: str) -> URL:
    """The asyncio driver URL for a user-facing one (sqlite:///x.db, postgresql://...)."""
    parsed = _multihost(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in {"postgresql", "postgres"}:
        return parsed.set(drivername="postgresql+psycopg")
    raise ValueError(f"unsupported database URL {parsed.render_as_string(hide_password=True)}")


def sync_url(url: str) -> URL:
    """The blocking driver URL, for migrations and the verify command."""
    parsed = async_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite+pysqlite")
    return parsed


def _sqlite_serialized_writes(engine: AsyncEngine) -> None:
    """Take SQLite's write lock at BEGIN, so concurrent read-modify-writes queue up
    instead of failing with SQLITE_BUSY halfway (the pysqlite default BEGIN is deferred)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _is_retryable(error: exc.DBAPIError) -> bool:
    if isinstance(error, exc.IntegrityError):
        # A unique key raced by a concurrent transaction: the retry sees the
        # winner's row and answers from it (replay or a clear domain error).
        return True
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate in _RETRY_SQLSTATES:
        return True
    return "database is locked" in str(error.orig)


def _is_unavailable(error: BaseException) -> bool:
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated:
            return True
        return isinstance(error, exc.OperationalError | exc.InterfaceError)
    return isinstance(error, exc.TimeoutError | OSError | asyncio.TimeoutError)


# Group commit sends the calls of many customers in one statement: one locked row
# must not hold up the others for long. Past this, the statement gives up having
# written nothing and each of its calls takes the locking path on its own.
GROUP_COMMIT_LOCK_TIMEOUT_MS = 25
# Debits (gift cards; store-credit moves) group-commit on their own connection,
# with a longer wait: their rows are cards and accounts, which nothing holds for
# long, and a hot card's batches from two server processes must take turns on its
# row. With the 25 ms above, a batch that found
# the other process's batch on the row (common at 32 callers on a busy machine)
# gave all its calls to the locking path, at three times the cost.
DEBIT_LOCK_TIMEOUT_MS = 1_000


def direct_share(pool_size: int) -> int:
    """Connections of a process's pool_size that serve the one-statement hot path:
    half, and at least 3 (one for reads and single statements, one per group
    commit). With the engine's at least 1, a process keeps max(pool_size, 4)."""
    return max(3, pool_size // 2)


class Database:
    """One engine and the transaction runner every domain operation goes through."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = async_url(url)
        self.dialect = self.url.get_backend_name()
        options: dict[str, Any] = {"pool_pre_ping": True}
        if self.dialect == "postgresql":
            options.update(
                # pool_size is shared with the direct pool below: a process keeps at
                # most pool_size connections open. No overflow: overflow connections
                # are opened and closed per checkout under load, and that churn (a
                # PostgreSQL backend started per call) was the 400 ms p99 of
                # ListGiftCards and RetrieveAccountStats at 32 callers in bench/run.py;
                # waiting in the pool's queue costs far less.
                pool_size=max(1, pool_size - direct_share(pool_size)),
                max_overflow=0,
                pool_timeout=POOL_WAIT_S,
                connect_args={"connect_timeout": 3},
            )
        self.engine = create_async_engine(self.url, **options)
        self._unfinished: set[asyncio.Task[Any]] = set()
        self._sqlite_turn = asyncio.Semaphore(1)
        self._sqlite_queued = 0
        if self.dialect == "sqlite":
            _sqlite_serialized_writes(self.engine)
        # PostgreSQL: the hot single-statement writes skip the engine (store/direct.py);
        # one connection of that share is group commit's (store/coalesce.py), whose
        # statements give up on a row lock after GROUP_COMMIT_LOCK_TIMEOUT_MS.
        self.direct: DirectPool | None = None
        self.group_commit: DirectPool | None = None
        self.debit_group_commit: DirectPool | None = None
        if self.dialect == "postgresql":
            from .direct import DirectPool

            share = direct_share(pool_size)
            self.direct = DirectPool(self.url, max(1, share - 2))
            self.group_commit = DirectPool(
                self.url, 1, lock_timeout_ms=GROUP_COMMIT_LOCK_TIMEOUT_MS
            )
            self.debit_group_commit = DirectPool(self.url, 1, lock_timeout_ms=DEBIT_LOCK_TIMEOUT_MS)

    async def run(
        self,
        work: Callable[[AsyncConnection], Awaitable[T]],
        *,
        simple: Callable[[DirectPool], Awaitable[T | None]] | None = None,
    ) -> T:
        """Run `work` in one transaction; commit if it returns, roll back if it raises.

        Transient conflicts (deadlock, serialization failure, a raced unique key,
        a busy SQLite file) rerun the whole transaction a bounded number of times.
        Domain exceptions pass through untouched after the rollback.

        `simple` is the operation's one-statement path for the common case: where
        this database has one (PostgreSQL's direct pool) it goes first, and its
        answer is the result unless it is None ("not the simple case": a replay, a
        refusal, a race; nothing written), when `work`, the locking path, decides.
        The one place that chooses between the two.
        """
        if simple is not None and self.direct is not None:
            done = await simple(self.direct)
            if done is not None:
                return done
        if self.dialect == "sqlite":
            return await telemetry.transaction(self.dialect, self._run_sqlite(work))
        # PostgreSQL: a cancelled caller cancels its transaction too (nothing to log
        # later); its WorkRecord stays "unknown", as a commit may race the cancel.
        return await telemetry.transaction(self.dialect, self._transaction(work))

    async def _run_sqlite(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """SQLite writes one transaction at a time (BEGIN IMMEDIATE): calls queue for
        their turn here. A caller that gives up (deadline, cancel) while queued is
        dropped, nothing written; once its transaction has begun it is not cancelled
        halfway (SQLAlchemy would then invalidate the aiosqlite connection and close
        it in a shielded task that can hang shutdown: aiosqlite 0.22, sqlalchemy#13039)
        but runs to its end, which is short, and the call's WorkRecord says how it ended.
        """
        if self._sqlite_queued >= MAX_SQLITE_QUEUE:
            raise StoreBusy(
                f"the server is busy ({self._sqlite_queued} transactions queued); retry later"
            )
        record = current_work.get() or WorkRecord()
        began = asyncio.Event()
        abandoned = asyncio.Event()

        async def in_turn() -> T:
            self._sqlite_queued += 1
            try:
                await telemetry.waited("sqlite", self._sqlite_turn.acquire())
            finally:
                self._sqlite_queued -= 1
            try:
                if abandoned.is_set():
                    raise _Abandoned
                began.set()
                try:
                    result = await self._transaction(work)
                except BaseException:
                    record.applied = False
                    raise
                record.applied = True
                return result
            finally:
                self._sqlite_turn.release()

        task = asyncio.ensure_future(in_turn())
        self._unfinished.add(task)
        task.add_done_callback(self._finished)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            abandoned.set()
            if began.is_set():
                record.pending = task
            else:
                record.applied = False
                task.cancel()  # still waiting for its turn: no transaction to interrupt
            raise

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._unfinished.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: its caller may be gone

    async def _transaction(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                async with self.engine.begin() as conn:
                    return await work(conn)
            except exc.DBAPIError as error:
                if _is_retryable(error) and attempt < MAX_ATTEMPTS:
                    log.debug("retrying transaction after %s", type(error.orig).__name__)
                    await asyncio.sleep(0.005 * attempt)
                    continue
                if _is_unavailable(error) or _is_retryable(error):
                    raise StoreUnavailable("the database is unavailable, retry later") from error
                raise
            except exc.TimeoutError as error:
                # SQLAlchemy's pool had no connection free within POOL_WAIT_S: the
                # database may be perfectly healthy, this process is just saturated.
                raise StoreBusy(
                    f"the server is busy: no database connection was free within "
                    f"{POOL_WAIT_S:g} s; retry later"
                ) from error
            except (TimeoutError, OSError) as error:
                raise StoreUnavailable("the database is unavailable, retry later") from error
        raise AssertionError("unreachable")

    async def ping(self, timeout: float = 3.0) -> bool:
        try:
            async with asyncio.timeout(timeout), self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:  # any failure means "not serving"; the reason is logged once
            log.debug("database ping failed", exc_info=True)
            return False

    async def close(self) -> None:
        if self._unfinished:  # transactions whose callers went away (SQLite)
            await asyncio.wait(list(self._unfinished), timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        for pool in (self.direct, self.group_commit, self.debit_group_commit):
            if pool is not None:
                await pool.close()
        await self.engine.dispose()
