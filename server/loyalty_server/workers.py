"""`serve --workers N`: N server processes sharing one port with SO_REUSEPORT.

gRPC Python runs one process on one core; the way it scales past that is
several processes bound to the same address, with the kernel spreading new
connections over them. Each worker is a full server (its own event loop,
database pools and health service). The parent only supervises: SIGTERM or
SIGINT to it is passed to every worker, which shut down gracefully; a worker
that dies stops the others and the parent exits non-zero, so the process
manager in charge (systemd, Kubernetes) restarts the whole service.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import socket
import time
from dataclasses import replace
from multiprocessing.connection import wait
from types import FrameType
from typing import TYPE_CHECKING, Any

from . import logs
from .config import Settings

if TYPE_CHECKING:
    from .observe.metrics import Endpoint

log = logging.getLogger("loyalty_server")

# Workers get this long past the grace period to finish before they are killed.
STOP_MARGIN_S = 15.0


def cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def worker_count(settings: Settings) -> int:
    """--workers, or by default one per core on PostgreSQL and one on embedded SQLite."""
    if settings.workers > 0:
        return settings.workers
    return 1 if settings.embedded else cpu_count()


def _die_with_parent(parent: int) -> None:
    """A worker must not outlive its parent: it would keep the port (so a restarted
    service could not bind it) and its database connections. A parent that died
    without stopping us was killed, so we go the same way at once (SIGKILL), as a
    single-process server would have; graceful stops come from the parent's SIGTERM."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the watcher below still notices
        pass
    if os.getppid() != parent:  # the parent died before we asked
        os.kill(os.getpid(), signal.SIGKILL)


async def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        await asyncio.sleep(0.5)
    os.kill(os.getpid(), signal.SIGKILL)


def _worker(settings: Settings, parent: int | None = None) -> None:
    from .app import serve

    logs.configure(settings.log_level)
    if parent is None:
        asyncio.run(serve(settings))
        return
    _die_with_parent(parent)

    async def main() -> None:
        watcher = asyncio.create_task(_watch_parent(parent))
        try:
            await serve(settings)
        finally:
            watcher.cancel()

    asyncio.run(main())


def _address_free(listen: str) -> bool:
    """Whether nobody (say, another copy of this server) is listening on the address
    already: with SO_REUSEPORT our workers would silently share it otherwise."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    if host in {"", "0.0.0.0", "::", "*"}:
        host = "127.0.0.1" if host != "::" else "::1"
    try:
        with socket.create_connection((host, int(port)), timeout=1.0):
            return False
    except (OSError, ValueError):
        return True  # refused (free) or unusable: gRPC reports the latter in its words


def serve_processes(settings: Settings) -> int:
    """Serve with the configured number of processes; returns the exit code."""
    count = worker_count(settings)
    if count > 1 and settings.listen.rsplit(":", 1)[-1] == "0":
        log.warning("--listen with port 0 picks a port per process: serving with one worker")
        count = 1
    settings = replace(settings, workers=count)
    if count > 1 and not _address_free(settings.listen):
        log.error("cannot listen on %s: address in use", settings.listen)
        return 1
    # The metrics endpoint lives here: in the one process, or in the parent, which
    # adds up what its workers write (multiprocess mode) into one view.
    endpoint: Endpoint | None = None
    if settings.metrics_listen:
        from .observe.metrics import Endpoint

        endpoint = Endpoint(settings.metrics_listen, multiprocess=count > 1)
    try:
        if count == 1:
            _worker(settings)
            return 0
        return _supervise(settings, count, endpoint)
    finally:
        if endpoint is not None:
            endpoint.close()


def _supervise(settings: Settings, count: int, endpoint: Endpoint | None) -> int:
    stopping: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)

    previous: dict[int, Any] = {
        sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)
    }
    context = multiprocessing.get_context("spawn")  # no gRPC state crosses a fork
    processes = [
        context.Process(target=_worker, args=(settings, os.getpid()), name=f"loyalty-worker-{i}")
        for i in range(count)
    ]
    failed = False
    try:
        for process in processes:
            process.start()
        log.info(
            "started workers",
            extra={"workers": count, "pids": [p.pid for p in processes]},
        )
        while not stopping:
            ended = wait([p.sentinel for p in processes], timeout=0.5)
            if ended:
                failed = True
                codes = [p.exitcode for p in processes if p.exitcode is not None]
                log.error("a worker exited (exit code %s); stopping the others", codes)
                break
    finally:
        for process in processes:
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + settings.grace_period + STOP_MARGIN_S
        for process in processes:
            if process.pid is None:
                continue
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.error("worker %s did not stop in time; killing it", process.pid)
                process.kill()
                process.join(5)
                failed = True
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if endpoint is not None:
            for process in processes:
                if process.pid is not None:
                    endpoint.worker_exited(process.pid)
    # A worker still starting up when asked to stop ends by the signal itself:
    # it was serving no calls, so that is a clean stop too.
    clean = {0, -signal.SIGTERM} if stopping else {0}
    if failed or any(p.exitcode not in clean for p in processes):
        return 1
    log.info("all workers stopped")
    return 0
