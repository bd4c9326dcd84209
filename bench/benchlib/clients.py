"""The load: client processes (grpc.aio, closed loop) and one scenario run across them."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import random
import time
from multiprocessing.connection import Connection
from typing import Any

from .measure import database_cpu_between, database_ticks, machine_busy, ms, percentile, tree_cpu
from .profile import Profiler
from .scenarios import request

# Channels (TCP connections) per client process. SO_REUSEPORT hashes connections
# to server workers; with 4 per process (8 in all) the two workers' shares were
# uneven (76% and 43% CPU in one AdjustPoints run) and AdjustPoints at 32 callers
# moved from 2,181 to 2,783 ops/s between identical runs.
CHANNELS = 8


def _client_main(conn: Connection, target: str, proc_index: int) -> None:
    """A client process: keeps channels to the server and runs jobs sent over `conn`."""
    import asyncio

    import grpc

    from loyalty.v1 import loyalty_pb2_grpc

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    channels: list[Any] = []

    async def open_channels(count: int) -> list[Any]:
        while len(channels) < count:
            # A local subchannel pool gives every channel its own TCP connection,
            # so SO_REUSEPORT can spread them over the server's workers.
            channels.append(
                grpc.aio.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])
            )
        for ch in channels[:count]:
            await asyncio.wait_for(ch.channel_ready(), 10)
        return [loyalty_pb2_grpc.LoyaltyServiceStub(ch) for ch in channels[:count]]

    async def caller_loop(stub: Any, job: dict[str, Any], caller: int, out: dict[str, Any]) -> None:
        rng = random.Random(f"{proc_index}-{caller}-{time.monotonic_ns()}")
        start, end = job["measure_from"], job["measure_to"]
        while True:
            method, req = request(job, rng, caller, proc_index)
            t0 = time.monotonic()
            if t0 >= end:
                return
            code = "OK"
            try:
                await getattr(stub, method)(req, timeout=30)
            except grpc.aio.AioRpcError as error:
                code = error.code().name
            t1 = time.monotonic()
            if start <= t1 <= end:  # completions inside the window count
                if code == "OK":
                    out["latencies"].append(t1 - t0)
                else:
                    out["errors"][code] = out["errors"].get(code, 0) + 1
                    out["error_latencies"].append(t1 - t0)

    async def run(job: dict[str, Any]) -> dict[str, Any]:
        callers = job["callers"]
        stubs = await open_channels(min(callers, CHANNELS))
        out: dict[str, Any] = {"latencies": [], "errors": {}, "error_latencies": []}
        await asyncio.gather(
            *(caller_loop(stubs[i % len(stubs)], job, i, out) for i in range(callers))
        )
        return out

    conn.send("ready")
    try:
        while True:
            job = conn.recv()
            if job is None:
                break
            try:
                conn.send(loop.run_until_complete(run(job)))
            except Exception as error:  # report, keep serving
                conn.send({"failure": repr(error)})
    finally:
        for ch in channels:
            loop.run_until_complete(ch.close())
        loop.close()


class Clients:
    """Persistent client processes (spawned, so no gRPC state crosses a fork)."""

    def __init__(self, target: str, processes: int) -> None:
        ctx = mp.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs: list[Any] = []
        for index in range(processes):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_client_main, args=(child, target, index), daemon=True)
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)
        for pipe in self.pipes:
            if not pipe.poll(60) or pipe.recv() != "ready":
                raise RuntimeError("a client process did not start")

    def split(self, callers: int) -> list[int]:
        n = min(callers, len(self.pipes))
        return [callers // n + (1 if i < callers % n else 0) for i in range(n)]

    def run(
        self, job: dict[str, Any], server_pid: int, profiler: Profiler | None = None
    ) -> dict[str, Any]:
        shares = self.split(job["callers"])
        now = time.monotonic()
        job = {**job, "measure_from": now + job["warmup"] + 0.1}
        job["measure_to"] = job["measure_from"] + job["duration"]
        for pipe, share in zip(self.pipes, shares, strict=False):
            pipe.send({**job, "callers": share})
        time.sleep(max(0.0, job["measure_from"] - time.monotonic()))
        if profiler is not None:
            profiler.start(f"{job['scenario']}-{job['callers']}", job["duration"])
        cpu0, busy0 = tree_cpu(server_pid), machine_busy()
        client0, db0 = self.cpu(), database_ticks()
        time.sleep(max(0.0, job["measure_to"] - time.monotonic()))
        cpu1, busy1 = tree_cpu(server_pid), machine_busy()
        client1, db1 = self.cpu(), database_ticks()
        latencies: list[float] = []
        errors: dict[str, int] = {}
        for pipe in self.pipes[: len(shares)]:
            if not pipe.poll(60):
                raise RuntimeError(f"client process did not answer for {job['scenario']}")
            part = pipe.recv()
            if "failure" in part:
                raise RuntimeError(f"client failed in {job['scenario']}: {part['failure']}")
            latencies += part["latencies"]
            for code, n in part["errors"].items():
                errors[code] = errors.get(code, 0) + n
        profile = profiler.finish() if profiler is not None else None
        unit = job.get("unit_per_call", 1)
        calls = len(latencies)
        seconds = job["duration"]
        ops = calls * unit
        busy = (busy1[0] - busy0[0]) / max(1e-9, busy1[1] - busy0[1])
        return {
            "scenario": job["scenario"],
            "callers": job["callers"],
            "client_processes": len(shares),
            "seconds": seconds,
            "calls": calls,
            "ops": ops,
            "ops_per_s": round(ops / seconds, 1),
            "calls_per_s": round(calls / seconds, 1),
            "p50_ms": ms(percentile(latencies, 50)),
            "p99_ms": ms(percentile(latencies, 99)),
            "max_ms": ms(max(latencies)) if latencies else None,
            "errors": errors,
            "server_cpu_s": round(cpu1 - cpu0, 3),
            "server_cpu_us_per_op": round((cpu1 - cpu0) / ops * 1e6, 1) if ops else None,
            "client_cpu_us_per_op": round((client1 - client0) / ops * 1e6, 1) if ops else None,
            "database_cpu_us_per_op": (
                round(database_cpu_between(db0, db1) / ops * 1e6, 1) if ops else None
            ),
            "machine_cpu_busy": round(busy, 3),
            **(
                {"profile": profile[0], "profile_samples": profile[1]}
                if profile is not None
                else {}
            ),
        }

    def cpu(self) -> float:
        """CPU seconds used so far by the client processes."""
        return sum(tree_cpu(proc.pid) for proc in self.procs)

    def close(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send(None)
        for proc in self.procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
