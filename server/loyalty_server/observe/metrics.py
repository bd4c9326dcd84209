"""Prometheus metrics: what the server records, and the endpoint that serves them.

Only imported when `--metrics-listen` is set. With `--workers N` every worker
writes its values to files in a directory the parent creates (prometheus-client's
multiprocess mode, PROMETHEUS_MULTIPROC_DIR) and the parent alone serves the
endpoint, adding them up: one view of the whole service. See docs/observability.md.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

log = logging.getLogger("loyalty_server")

T = TypeVar("T")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Seconds. The hot calls answer in well under a millisecond on SQLite and a few
# on PostgreSQL; the top buckets catch pool waits and lock waits.
LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
WAIT_BUCKETS = (0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)

# What a successful write call appended to which ledger, read from its response
# (so only committed work counts, on every path: group commit, the one-statement
# PostgreSQL paths and the locking engine alike). A replay appended nothing.
_LEDGER_ENTRIES: dict[str, tuple[str, Callable[[Any], int]]] = {
    "AdjustPoints": ("points", lambda r: 1),
    "BatchAdjustPoints": ("points", lambda r: len(r.adjustments)),
    "CapturePointsHold": ("points", lambda r: 1),
    "EarnOrderPoints": ("points", lambda r: 1),
    "ReverseOrderPoints": ("points", lambda r: int(r.HasField("adjustment"))),
    "DebitGiftCard": ("gift_card", lambda r: 1),
    "CreditGiftCard": ("gift_card", lambda r: 1),
    "CreditAccounts": ("store_credit", lambda r: len(r.transactions)),
    "DebitAccounts": ("store_credit", lambda r: len(r.transactions)),
}


def replayed(response: Any) -> int:
    """How much of a response is an earlier call's result: `replayed: true` (the
    whole call: 1), or per item (`repeated bool replayed`: the items that are)."""
    flag = getattr(response, "replayed", False)
    if flag is True:
        return 1
    if flag is False:
        return 0
    return sum(1 for item in flag if item)


def parse_listen(value: str) -> tuple[str, int]:
    """`HOST:PORT`, `[v6]:PORT` or a bare `PORT` (then on loopback, 127.0.0.1)."""
    text = value.strip()
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "", text
    host = host.strip("[]") or "127.0.0.1"
    try:
        number = int(port)
    except ValueError:
        raise ValueError(f"--metrics-listen {value!r}: expected HOST:PORT or PORT") from None
    if not 0 <= number <= 65535:
        raise ValueError(f"--metrics-listen {value!r}: port out of range")
    return host, number


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Endpoint:
    """The HTTP endpoint (GET /metrics). In multiprocess mode it owns the directory
    the workers write to: created here, removed by `close`."""

    def __init__(self, listen: str, *, multiprocess: bool) -> None:
        host, port = parse_listen(listen)
        self.directory: str | None = None
        if multiprocess:
            # Before any worker imports prometheus_client: it picks its value store
            # (files in this directory) from the environment at import.
            self.directory = tempfile.mkdtemp(prefix="loyalty-metrics-")
            os.environ[MULTIPROC_ENV] = self.directory
        else:
            # One process: plain in-memory values (an inherited directory would make
            # every metric a file write and show only this process anyway).
            os.environ.pop(MULTIPROC_ENV, None)
        from prometheus_client import REGISTRY, CollectorRegistry, start_http_server

        registry = REGISTRY
        if self.directory is not None:
            from prometheus_client import multiprocess as mp

            registry = CollectorRegistry()
            mp.MultiProcessCollector(registry, path=self.directory)  # type: ignore[no-untyped-call]
        try:
            self._server, self._thread = start_http_server(port, addr=host, registry=registry)
        except OSError as error:
            self._remove_directory()
            raise ValueError(f"cannot serve metrics on {listen}: {error}") from None
        self.address = f"{host}:{self._server.server_port}"
        extra: dict[str, Any] = {"metrics": f"http://{self.address}/metrics"}
        if self.directory is not None:
            extra["multiprocess_dir"] = self.directory
        log.info("metrics endpoint", extra=extra)
        if not _is_loopback(host):
            log.warning(
                "the metrics endpoint listens on %s, beyond this machine: it has no "
                "authentication (method names and call counts only, never request data)",
                host,
            )

    def worker_exited(self, pid: int) -> None:
        """Drop a dead worker's live gauges (in flight, pool use, health)."""
        if self.directory is not None:
            from prometheus_client import multiprocess as mp

            mp.mark_process_dead(pid, self.directory)  # type: ignore[no-untyped-call]

    def _remove_directory(self) -> None:
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            if os.environ.get(MULTIPROC_ENV) == self.directory:
                del os.environ[MULTIPROC_ENV]
            self.directory = None

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
        self._remove_directory()


class Metrics:
    """The server's metrics, created once per process (each worker has its own)."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge, Histogram

        self.requests = Counter(
            "loyalty_rpc_requests",
            "RPCs finished, by method and gRPC status code",
            ["service", "method", "code"],
        )
        self.duration = Histogram(
            "loyalty_rpc_duration_seconds",
            "RPC latency in the server, from the call's arrival to its answer",
            ["service", "method"],
            buckets=LATENCY_BUCKETS,
        )
        self.in_flight = Gauge(
            "loyalty_rpc_in_flight",
            "RPCs being handled now",
            ["service", "method"],
            multiprocess_mode="livesum",
        )
        self.pool_size = Gauge(
            "loyalty_db_pool_size",
            "Database connections a pool may hold",
            ["pool"],
            multiprocess_mode="livesum",
        )
        self.pool_in_use = Gauge(
            "loyalty_db_pool_in_use",
            "Database connections checked out of a pool now",
            ["pool"],
            multiprocess_mode="livesum",
        )
        self.pool_waiting = Gauge(
            "loyalty_db_pool_waiting",
            "Callers waiting for a connection of a pool (sqlite: for their transaction's turn)",
            ["pool"],
            multiprocess_mode="livesum",
        )
        self.pool_wait = Histogram(
            "loyalty_db_pool_wait_seconds",
            "Time to get a connection of a pool (sqlite: to get the transaction's turn)",
            ["pool"],
            buckets=WAIT_BUCKETS,
        )
        self.batch = Histogram(
            "loyalty_group_commit_batch_size",
            "Calls sent together in one group-commit statement (PostgreSQL AdjustPoints)",
            buckets=BATCH_BUCKETS,
        )
        self.ledger = Counter(
            "loyalty_ledger_writes",
            "Ledger entries appended by successful calls, by ledger",
            ["ledger"],
        )
        self.replays = Counter(
            "loyalty_idempotent_replays",
            "Calls (or batch items) answered with an earlier call's result, nothing applied",
            ["service", "method"],
        )
        self.serving = Gauge(
            "loyalty_health_serving",
            "1 while the health service says SERVING (the database is reachable), else 0; "
            "with several workers, the lowest of them",
            multiprocess_mode="livemin",
        )
        # Label children, cached: labels() takes a lock and builds a tuple per call.
        self._calls: dict[str, _Call] = {}
        self._requests: dict[tuple[str, str, str], Any] = {}

    def call(self, method: str) -> _Call:
        """The per-method instruments of `/package.Service/Method`."""
        found = self._calls.get(method)
        if found is None:
            service, _, name = method.lstrip("/").rpartition("/")
            found = self._calls[method] = _Call(self, service, name)
        return found

    def finished(self, call: _Call, code: str, seconds: float, response: Any) -> None:
        key = (call.service, call.method, code)
        counter = self._requests.get(key)
        if counter is None:
            counter = self._requests[key] = self.requests.labels(*key)
        counter.inc()
        call.duration.observe(seconds)
        if code != "OK" or response is None:
            return
        replays = replayed(response)
        if replays:
            if call.replays is None:  # created at the first: only methods that replay
                call.replays = self.replays.labels(call.service, call.method)
            call.replays.inc(replays)
        if call.ledger is not None:
            entries = call.ledger_entries(response) - replays
            if entries > 0:
                call.ledger.inc(entries)

    # ------------------------------------------------------------ database pools

    def pool(self, name: str, size: int) -> tuple[Any, Any, Any]:
        """The waiting, wait-time and in-use children of a connection pool."""
        self.pool_size.labels(name).set(size)
        return (
            self.pool_waiting.labels(name),
            self.pool_wait.labels(name),
            self.pool_in_use.labels(name),
        )

    def timed_wait(self, name: str) -> Callable[[Awaitable[T]], Awaitable[T]]:
        """Times an awaited turn (SQLite's write queue: a turn, not a connection)."""
        waiting, wait = self.pool_waiting.labels(name), self.pool_wait.labels(name)

        async def timed(acquire: Awaitable[T]) -> T:
            waiting.inc()
            started = time.perf_counter()
            try:
                return await acquire
            finally:
                waiting.dec()
                wait.observe(time.perf_counter() - started)

        return timed

    def set_serving(self, serving: bool) -> None:
        self.serving.set(1 if serving else 0)


class _Call:
    """One method's label children."""

    __slots__ = (
        "duration", "in_flight", "ledger", "ledger_entries", "method", "replays", "service",
    )  # fmt: skip

    ledger_entries: Callable[[Any], int]

    def __init__(self, metrics: Metrics, service: str, method: str) -> None:
        self.service = service
        self.method = method
        self.duration = metrics.duration.labels(service, method)
        self.in_flight = metrics.in_flight.labels(service, method)
        self.replays: Any = None
        ledger = _LEDGER_ENTRIES.get(method)
        self.ledger = None if ledger is None else metrics.ledger.labels(ledger[0])
        self.ledger_entries = (lambda r: 0) if ledger is None else ledger[1]
