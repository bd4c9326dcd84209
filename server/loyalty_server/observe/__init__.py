"""Metrics and traces for one server process, wired from the settings.

Everything here is off unless the operator turns it on (`--metrics-listen`,
`--otel`, OTEL_EXPORTER_OTLP_ENDPOINT...): then the server gets an outermost
interceptor, the store's hooks (telemetry.py) get their meaning, and the
database pools are watched. Off, none of it is imported. docs/observability.md.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import grpc

from .. import telemetry
from ..config import Settings

if TYPE_CHECKING:
    from ..store.db import Database
    from ..store.direct import DirectPool
    from .metrics import Metrics
    from .tracing import Tracing

T = TypeVar("T")


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("medusa-loyalty-service")
    except metadata.PackageNotFoundError:
        return "unknown"


_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def tracing_wanted(settings: Settings, environ: Mapping[str, str] = os.environ) -> bool:
    """--otel, --otel-spans-file or an OTLP endpoint in the environment; but never
    with OTEL_SDK_DISABLED=true (OpenTelemetry's own off switch)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return (
        settings.otel
        or bool(settings.otel_spans_file)
        or any(environ.get(v) for v in _ENDPOINT_VARIABLES)
    )


def preflight(settings: Settings) -> None:
    """Refuse to start (ValueError, saying why) on a malformed --metrics-listen or on
    traces asked for without the otel extra, before any worker is started."""
    if settings.metrics_listen:
        from .metrics import parse_listen

        parse_listen(settings.metrics_listen)
    if tracing_wanted(settings):
        _import_tracing()


def _import_tracing() -> type[Tracing]:
    try:
        from .tracing import Tracing
    except ImportError as error:
        raise ValueError(
            f"traces are configured but OpenTelemetry is not installed ({error}): "
            "pip install 'medusa-loyalty-service[otel]'"
        ) from None
    return Tracing


class Observability:
    """This process's metrics (None when off) and tracer (None when off)."""

    def __init__(self, metrics: Metrics | None, tracing: Tracing | None) -> None:
        self.metrics = metrics
        self.tracing = tracing
        if metrics is not None:
            telemetry.on_batch = metrics.batch.observe
        if tracing is not None:
            telemetry.wrap_transaction = tracing.transaction

    @classmethod
    def from_settings(cls, settings: Settings) -> Observability:
        """Metrics when --metrics-listen is set (the endpoint itself is the parent's
        business, workers.py); traces when configured. ValueError when traces are
        asked for without the otel extra installed."""
        metrics = None
        if settings.metrics_listen:
            from .metrics import Metrics

            metrics = Metrics()
        tracing = None
        if tracing_wanted(settings):
            tracing = _import_tracing()(version=_version(), spans_file=settings.otel_spans_file)
        return cls(metrics, tracing)

    @property
    def enabled(self) -> bool:
        return self.metrics is not None or self.tracing is not None

    def interceptor(self) -> grpc.aio.ServerInterceptor | None:
        if not self.enabled:
            return None
        from .interceptor import ObserveInterceptor

        return ObserveInterceptor(self.metrics, self.tracing)

    def set_serving(self, serving: bool) -> None:
        if self.metrics is not None:
            self.metrics.set_serving(serving)

    def watch_database(self, db: Database) -> None:
        """Pool use and waits of the engine and of the direct PostgreSQL pools;
        spans for the direct path's statements."""
        if self.metrics is not None:
            _watch_engine_pool(self.metrics, db)
            if db.dialect == "sqlite":
                telemetry.wrap_wait = _sqlite_wait(self.metrics)
        if not self.enabled:
            return
        pools = (
            ("direct", db.direct),
            ("group_commit", db.group_commit),
            ("debit_group_commit", db.debit_group_commit),
        )
        for name, pool in pools:
            if pool is not None:
                _watch_direct_pool(name, pool, self.metrics, self.tracing)

    def close(self) -> None:
        telemetry.on_batch = telemetry.wrap_wait = telemetry.wrap_transaction = None
        if self.tracing is not None:
            self.tracing.shutdown()


def _sqlite_wait(metrics: Metrics) -> Callable[[str, Awaitable[Any]], Awaitable[Any]]:
    timed = metrics.timed_wait("sqlite")

    def wrap(_queue: str, acquire: Awaitable[Any]) -> Awaitable[Any]:
        return timed(acquire)

    return wrap


def _watch_engine_pool(metrics: Metrics, db: Database) -> None:
    """SQLAlchemy's pool: checkouts and checkins (events), and the time its `_do_get`
    takes (waiting for a free connection, or opening one)."""
    from sqlalchemy import event

    pool: Any = db.engine.sync_engine.pool
    size = pool.size() if hasattr(pool, "size") else 0
    waiting, wait, in_use = metrics.pool("engine", size)
    event.listen(pool, "checkout", lambda *_: in_use.inc())
    event.listen(pool, "checkin", lambda *_: in_use.dec())
    get = pool._do_get

    def timed_get() -> Any:
        waiting.inc()
        started = time.perf_counter()
        try:
            return get()
        finally:
            waiting.dec()
            wait.observe(time.perf_counter() - started)

    pool._do_get = timed_get


def _watch_direct_pool(
    name: str, pool: DirectPool, metrics: Metrics | None, tracing: Tracing | None
) -> None:
    """Wraps the pool's `connection()`: the wait for it, its use, and a span."""
    original = pool.connection
    size = getattr(getattr(pool, "_slots", None), "_value", 0)  # before any use: its size
    children = metrics.pool(name, size) if metrics is not None else None

    @contextlib.asynccontextmanager
    async def connection() -> AsyncIterator[Any]:
        with contextlib.ExitStack() as stack:
            if tracing is not None:
                stack.enter_context(tracing.direct_span(name))
            if children is None:
                async with original() as conn:
                    yield conn
                return
            waiting, wait, in_use = children
            waiting.inc()
            started = time.perf_counter()
            acquired = False
            try:
                async with original() as conn:
                    acquired = True
                    waiting.dec()
                    wait.observe(time.perf_counter() - started)
                    in_use.inc()
                    try:
                        yield conn
                    finally:
                        in_use.dec()
            finally:
                if not acquired:
                    waiting.dec()

    pool.connection = connection  # type: ignore[method-assign]
