"""Reproducible benchmark of loyalty.v1.LoyaltyService on PostgreSQL.

    .venv/bin/python bench/run.py            # full run (about 5 minutes)
    .venv/bin/python bench/run.py --quick    # smoke run (well under a minute)

What it does, in one process tree:
  1. creates a fresh database on the local PostgreSQL (dropped at the end),
     migrates it with `loyalty-server migrate` and seeds it with SQL
     (10,000 point accounts, 10,000 gift cards, one hot card);
  2. starts the real server (`loyalty-server serve`, default worker count);
  3. drives it from separate client processes (grpc.aio, closed loop) for a
     fixed time at 1, 8 and 32 concurrent callers per scenario, recording
     ops/s, p50, p99, errors and the CPU time per operation of the server,
     the clients and PostgreSQL;
  4. measures the ceilings in the same run: an empty RPC (GetOptions, no
     database) on the same server stack, and pgbench running one adjustment
     per transaction as one statement (what the server sends for a lone call);
  5. measures read scale: GetPointsBalance (with and without the last-20
     history) before and after bulk-loading 1,000,000 ledger rows;
  6. writes bench/results/<stamp>.json and .png and prints a table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NamedTuple

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SERVER_BIN = str(BIN / "loyalty-server")
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Channels (TCP connections) per client process. SO_REUSEPORT hashes connections
# to server workers; with 4 per process (8 in all) the two workers' shares were
# uneven (76% and 43% CPU in one AdjustPoints run) and AdjustPoints at 32 callers
# moved from 2,181 to 2,783 ops/s between identical runs.
CHANNELS = 8

# Scenario name -> what the report calls it. The unit is one RPC unless noted.
SCENARIOS = {
    "empty": "Empty RPC (GetOptions, no DB)",
    "adjust": "AdjustPoints (10,000 customers)",
    "adjust_history": "AdjustPoints + last-20 history",
    "balance": "GetPointsBalance",
    "debit_hot": "DebitGiftCard, one hot card",
    "debit_spread": "DebitGiftCard, 10,000 cards",
    "list": "ListGiftCards (one page of 15)",
    "batch": "BatchAdjustPoints (adjustments/s)",
    "credit_debit_hot": "DebitAccounts, one hot account",
    "credit_debit_spread": "DebitAccounts, 10,000 accounts",
    "credit_stats": "RetrieveAccountStats",
}
HOT_CODE = "BENCH-HOT"
HOT_ACCOUNT = "sc_acc_benchhot"


@dataclass(frozen=True)
class Profile:
    callers: tuple[int, ...]
    duration: float
    warmup: float
    customers: int
    cards: int
    batch_size: int
    readscale_customers: int
    filler_rows: int
    readscale_callers: int
    pgbench_seconds: int


FULL = Profile((1, 8, 32), 5.0, 1.0, 10_000, 10_000, 1000, 1000, 1_000_000, 8, 5)
QUICK = Profile((4,), 0.4, 0.15, 1000, 1000, 200, 100, 20_000, 4, 1)


# --------------------------------------------------------------------------- clients


def _client_main(conn: Connection, target: str, proc_index: int) -> None:
    """A client process: keeps channels to the server and runs jobs sent over `conn`."""
    import asyncio

    import grpc

    from loyalty.v1 import loyalty_pb2 as pb
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

    def request(job: dict[str, Any], rng: random.Random, caller: int) -> tuple[str, Any]:
        name = job["scenario"]
        key = uuid.uuid4().hex
        if name == "empty":
            return "GetOptions", pb.GetOptionsRequest()
        if name in ("adjust", "adjust_history"):
            return "AdjustPoints", pb.AdjustPointsRequest(
                customer_id=f"cus_{rng.randrange(job['customers']):05d}",
                delta="1",
                reason="bench",
                idempotency_key=key,
                include_history=name == "adjust_history",
            )
        if name in ("balance", "rs_balance", "rs_history"):
            if name == "balance":
                customer = f"cus_{rng.randrange(job['customers']):05d}"
            else:
                customer = f"rs_{rng.randrange(job['readscale_customers']):05d}"
            return "GetPointsBalance", pb.GetPointsBalanceRequest(
                customer_id=customer, include_history=name == "rs_history"
            )
        if name in ("debit_hot", "debit_spread"):
            code = HOT_CODE if name == "debit_hot" else f"BENCH-{rng.randrange(job['cards']):05d}"
            return "DebitGiftCard", pb.DebitGiftCardRequest(
                code=code, amount="0.01", currency_code="usd", idempotency_key=key
            )
        if name in ("credit_debit_hot", "credit_debit_spread"):
            account = (
                HOT_ACCOUNT
                if name == "credit_debit_hot"
                else f"sc_acc_bench{rng.randrange(job['cards']):05d}"
            )
            return "DebitAccounts", pb.DebitAccountsRequest(
                debits=[
                    pb.AccountEntryInput(
                        account_id=account,
                        amount="0.01",
                        reference="cart",
                        reference_id="cart_bench",
                        idempotency_key=key,
                    )
                ]
            )
        if name in ("credit_stats", "rs_stats"):
            prefix = "sc_acc_bench" if name == "credit_stats" else "sc_acc_rs"
            size = job["cards"] if name == "credit_stats" else job["readscale_customers"]
            return "RetrieveAccountStats", pb.RetrieveAccountStatsRequest(
                account_id=f"{prefix}{rng.randrange(size):05d}"
            )
        if name == "list":
            return "ListGiftCards", pb.ListGiftCardsRequest(take=15)
        if name == "batch":
            size = job["batch_size"]
            return "BatchAdjustPoints", pb.BatchAdjustPointsRequest(
                adjustments=[
                    pb.BatchAdjustPointsItem(
                        customer_id=f"bat_{proc_index}_{caller}_{j:04d}",
                        delta="1",
                        reason="nightly accrual",
                        idempotency_key=f"{key}{j}",
                    )
                    for j in range(size)
                ]
            )
        raise ValueError(name)

    async def caller_loop(stub: Any, job: dict[str, Any], caller: int, out: dict[str, Any]) -> None:
        rng = random.Random(f"{proc_index}-{caller}-{time.monotonic_ns()}")
        start, end = job["measure_from"], job["measure_to"]
        while True:
            method, req = request(job, rng, caller)
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

    def run(self, job: dict[str, Any], server_pid: int) -> dict[str, Any]:
        shares = self.split(job["callers"])
        now = time.monotonic()
        job = {**job, "measure_from": now + job["warmup"] + 0.1}
        job["measure_to"] = job["measure_from"] + job["duration"]
        for pipe, share in zip(self.pipes, shares, strict=False):
            pipe.send({**job, "callers": share})
        time.sleep(max(0.0, job["measure_from"] - time.monotonic()))
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
            "errors": errors,
            "server_cpu_s": round(cpu1 - cpu0, 3),
            "server_cpu_us_per_op": round((cpu1 - cpu0) / ops * 1e6, 1) if ops else None,
            "client_cpu_us_per_op": round((client1 - client0) / ops * 1e6, 1) if ops else None,
            "database_cpu_us_per_op": (
                round(database_cpu_between(db0, db1) / ops * 1e6, 1) if ops else None
            ),
            "machine_cpu_busy": round(busy, 3),
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


# --------------------------------------------------------------------------- measuring


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


class ProcStat(NamedTuple):
    ppid: int
    ticks: int  # utime + stime
    pid: int
    name: str


def _proc_stat(pid: int) -> ProcStat | None:
    """A process's /proc/<pid>/stat, None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2 :].split()
    name = raw[raw.find("(") + 1 : raw.rfind(")")]
    return ProcStat(int(fields[1]), int(fields[11]) + int(fields[12]), pid, name)


def tree_cpu(root: int) -> float:
    """CPU seconds used so far by `root` and all its living descendants."""
    stats = [s for p in os.listdir("/proc") if p.isdigit() and (s := _proc_stat(int(p)))]
    children: dict[int, list[ProcStat]] = {}
    for stat in stats:
        children.setdefault(stat.ppid, []).append(stat)
    total = 0
    own = _proc_stat(root)
    if own is None:
        return 0.0
    todo = [own]
    while todo:
        stat = todo.pop()
        total += stat.ticks
        todo += children.get(stat.pid, [])
    return total / CLK_TCK


def database_ticks() -> dict[int, int]:
    """CPU ticks used so far by each living PostgreSQL process (the local server's
    backends, WAL writer, autovacuum...)."""
    stats = (_proc_stat(int(p)) for p in os.listdir("/proc") if p.isdigit())
    return {s.pid: s.ticks for s in stats if s is not None and s.name == "postgres"}


def database_cpu_between(before: dict[int, int], after: dict[int, int]) -> float:
    """CPU seconds PostgreSQL used between two readings; a process that exited in
    between is not counted (so this can only undercount)."""
    return sum(t - before.get(pid, 0) for pid, t in after.items()) / CLK_TCK


def machine_busy() -> tuple[float, float]:
    """(busy ticks, all ticks) of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return float(sum(values) - idle), float(sum(values))


# --------------------------------------------------------------------------- database


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def db_url(admin: str, name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(libpq(admin))
    info["dbname"] = name
    user = info.get("user", "postgres")
    password = f":{info['password']}" if info.get("password") else ""
    return (
        f"postgresql+psycopg://{user}{password}@{info.get('host', '127.0.0.1')}:"
        f"{info.get('port', '5432')}/{name}"
    )


def seed(url: str, profile: Profile) -> None:
    """Accounts with an opening ledger row each, gift cards, the hot card, read-scale rows."""
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute(
            """
            INSERT INTO point_accounts (customer_id, balance, created_at, updated_at)
            SELECT 'cus_' || lpad(i::text, 5, '0'), 1000000, now(), now()
            FROM generate_series(0, %(n)s - 1) AS i
            """,
            {"n": profile.customers},
        )
        conn.execute(
            """
            INSERT INTO point_adjustments
                (id, customer_id, delta, reason, balance_after, created_at)
            SELECT 'adj_seed' || lpad(i::text, 22, '0'), 'cus_' || lpad(i::text, 5, '0'),
                   1000000, 'opening balance', 1000000, now()
            FROM generate_series(0, %(n)s - 1) AS i
            """,
            {"n": profile.customers},
        )
        conn.execute(
            """
            INSERT INTO gift_cards (id, code, status, value, balance, currency_code,
                                    created_at, updated_at)
            SELECT 'gcard_bench' || lpad(i::text, 15, '0'), 'BENCH-' || lpad(i::text, 5, '0'),
                   'pending', 1000000, 1000000, 'usd',
                   now() - make_interval(secs => %(n)s - i), now()
            FROM generate_series(0, %(n)s - 1) AS i
            """,
            {"n": profile.cards},
        )
        conn.execute(
            """
            INSERT INTO gift_cards (id, code, status, value, balance, currency_code,
                                    created_at, updated_at)
            VALUES ('gcard_benchhot', %(code)s, 'pending', 999999999999, 999999999999, 'usd',
                    now(), now())
            """,
            {"code": HOT_CODE},
        )
        # Store credit: 10,000 accounts with an opening credit each, one hot account,
        # and the read-scale accounts (20 credits each).
        conn.execute(
            """
            INSERT INTO store_credit_accounts (id, code, currency_code, balance, credits, debits,
                                               created_at, updated_at)
            SELECT 'sc_acc_bench' || lpad(i::text, 5, '0'), NULL, 'usd', 1000000, 1000000, 0,
                   now(), now()
            FROM generate_series(0, %(n)s - 1) AS i
            UNION ALL
            SELECT %(hot)s, NULL, 'usd', 999999999999, 999999999999, 0, now(), now()
            UNION ALL
            SELECT 'sc_acc_rs' || lpad(i::text, 5, '0'), NULL, 'usd', 20, 20, 0, now(), now()
            FROM generate_series(0, %(rs)s - 1) AS i
            """,
            {"n": profile.cards, "hot": HOT_ACCOUNT, "rs": profile.readscale_customers},
        )
        conn.execute(
            """
            INSERT INTO store_credit_transactions
                (id, account_id, type, amount, reference, reference_id, created_at)
            SELECT 'sc_trx_' || substr(md5(a.id), 1, 26), a.id, 'credit', a.credits, 'seed',
                   '', now()
            FROM store_credit_accounts AS a WHERE a.id NOT LIKE 'sc_acc_rs%%'
            UNION ALL
            SELECT 'sc_trx_rs' || lpad((i * 20 + k)::text, 24, '0'),
                   'sc_acc_rs' || lpad(i::text, 5, '0'), 'credit', 1, 'seed', '', now()
            FROM generate_series(0, %(rs)s - 1) AS i, generate_series(0, 19) AS k
            """,
            {"rs": profile.readscale_customers},
        )
        # Read-scale customers: 20 adjustments each, balance 20.
        conn.execute(
            """
            INSERT INTO point_accounts (customer_id, balance, created_at, updated_at)
            SELECT 'rs_' || lpad(i::text, 5, '0'), 20, now(), now()
            FROM generate_series(0, %(n)s - 1) AS i
            """,
            {"n": profile.readscale_customers},
        )
        conn.execute(
            """
            INSERT INTO point_adjustments
                (id, customer_id, delta, reason, balance_after, created_at)
            SELECT 'adj_rs' || lpad((i * 20 + k)::text, 24, '0'),
                   'rs_' || lpad(i::text, 5, '0'), 1, 'purchase', k + 1,
                   now() - make_interval(secs => 20 - k)
            FROM generate_series(0, %(n)s - 1) AS i, generate_series(0, 19) AS k
            ORDER BY k, i
            """,
            {"n": profile.readscale_customers},
        )
        conn.execute("ANALYZE")


def settle(url: str) -> None:
    """VACUUM ANALYZE the service's tables, as pgbench vacuums before it runs: the dead
    rows of the previous scenario are cleared now, so autovacuum does not start in
    the middle of the next measurement window."""
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute(
            "VACUUM (ANALYZE) point_accounts, point_adjustments, gift_cards,"
            " gift_card_transactions, store_credit_accounts, store_credit_transactions"
        )


def bulk_load(url: str, rows: int) -> float:
    """Adds `rows` ledger rows for 10,000 filler customers; returns the seconds it took."""
    started = time.monotonic()
    per_customer = max(1, rows // 10_000)
    customers = rows // per_customer
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        # Skip the per-row foreign key triggers of a bulk load (the rows are made
        # consistent by construction); indexes are maintained as usual.
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            """
            INSERT INTO point_accounts (customer_id, balance, created_at, updated_at)
            SELECT 'fill_' || lpad(i::text, 5, '0'), %(k)s, now(), now()
            FROM generate_series(0, %(c)s - 1) AS i
            """,
            {"c": customers, "k": per_customer},
        )
        conn.execute(
            """
            INSERT INTO point_adjustments
                (id, customer_id, delta, reason, balance_after, created_at)
            SELECT 'adj_fill' || lpad((i * %(k)s + k)::text, 22, '0'),
                   'fill_' || lpad(i::text, 5, '0'), 1, 'import', k + 1,
                   now() - make_interval(secs => %(k)s - k)
            FROM generate_series(0, %(k)s - 1) AS k, generate_series(0, %(c)s - 1) AS i
            """,
            {"c": customers, "k": per_customer},
        )
        # As many store-credit transactions, on 10,000 filler accounts.
        conn.execute(
            """
            INSERT INTO store_credit_accounts (id, currency_code, balance, credits, debits,
                                               created_at, updated_at)
            SELECT 'sc_acc_fill' || lpad(i::text, 5, '0'), 'usd', %(k)s, %(k)s, 0, now(), now()
            FROM generate_series(0, %(c)s - 1) AS i
            """,
            {"c": customers, "k": per_customer},
        )
        conn.execute(
            """
            INSERT INTO store_credit_transactions
                (id, account_id, type, amount, reference, reference_id, created_at)
            SELECT 'sc_trx_fill' || lpad((i * %(k)s + k)::text, 22, '0'),
                   'sc_acc_fill' || lpad(i::text, 5, '0'), 'credit', 1, 'import', '',
                   now() - make_interval(secs => %(k)s - k)
            FROM generate_series(0, %(k)s - 1) AS k, generate_series(0, %(c)s - 1) AS i
            """,
            {"c": customers, "k": per_customer},
        )
    took = time.monotonic() - started
    settle(url)  # the bulk load would start autovacuum during the reads after it
    return took


READ_SQL = {
    "balance": "SELECT balance, updated_at FROM point_accounts WHERE customer_id = %s",
    "history": (
        "SELECT id, delta, reason, balance_after, created_at FROM point_adjustments"
        " WHERE customer_id = %s ORDER BY seq DESC LIMIT 20"
    ),
}


def sql_read_cost(url: str, customers: int, rounds: int) -> dict[str, float | None]:
    """Median and p99 microseconds of the two reads as plain prepared SQL on one
    connection: the database's share of GetPointsBalance, without gRPC's noise."""
    out: dict[str, float | None] = {}
    rng = random.Random(7)
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        for kind, query in READ_SQL.items():
            times = []
            for i in range(rounds + 50):
                customer = f"rs_{rng.randrange(customers):05d}"
                t0 = time.perf_counter()
                conn.execute(query, (customer,), prepare=True).fetchall()
                if i >= 50:
                    times.append(time.perf_counter() - t0)
            # The lowest of five block medians: robust to bursts of load from
            # other processes on a shared machine.
            size = max(1, len(times) // 5)
            blocks = [times[i : i + size] for i in range(0, len(times), size)]
            p50 = min(m for b in blocks if (m := percentile(b, 50)) is not None)
            p99 = percentile(times, 99)
            out[f"{kind}_sql_p50_us"] = None if p50 is None else round(p50 * 1e6, 1)
            out[f"{kind}_sql_p99_us"] = None if p99 is None else round(p99 * 1e6, 1)
    return out


def ledger_rows(url: str, table: str = "point_adjustments") -> int:
    with psycopg.connect(libpq(url)) as conn:
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        ).fetchone()
        assert row is not None
        return int(row[0])


# The same transaction as the server's single-statement AdjustPoints path on
# PostgreSQL (store/points.py, ADJUST_SQL): guarded upsert of the balance plus
# the ledger insert, one statement, idempotency key checked in the same statement.
PGBENCH_SCRIPT = r"""
\set c random(0, :customers - 1)
WITH acct AS (
    INSERT INTO point_accounts AS a (customer_id, balance, created_at, updated_at)
    SELECT 'cus_' || lpad(:c::text, 5, '0'), 1, now(), now()
    WHERE NOT EXISTS (
        SELECT 1 FROM point_adjustments
        WHERE customer_id = 'cus_' || lpad(:c::text, 5, '0')
          AND idempotency_key = md5(random()::text))
    ON CONFLICT (customer_id) DO UPDATE
        SET balance = a.balance + excluded.balance, updated_at = excluded.updated_at
        WHERE a.balance + excluded.balance < 100000000000000000000
    RETURNING a.customer_id, a.balance
)
INSERT INTO point_adjustments
    (id, customer_id, delta, reason, balance_after, idempotency_key, request_hash, created_at)
SELECT 'adj_' || substr(md5(random()::text), 1, 26), acct.customer_id, 1, 'bench',
       acct.balance, md5(random()::text), md5(random()::text) || md5(random()::text), now()
FROM acct
RETURNING balance_after;
"""


def pgbench_bin() -> str | None:
    found = shutil.which("pgbench")
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"), reverse=True):
        return str(candidate)
    return None


def run_pgbench(url: str, callers: int, seconds: int, customers: int) -> dict[str, Any]:
    binary = pgbench_bin()
    if binary is None:
        return {"scenario": "pgbench", "callers": callers, "skipped": "pgbench not found"}
    info = psycopg.conninfo.conninfo_to_dict(libpq(url))
    with tempfile.TemporaryDirectory(prefix="loyalty-pgbench-") as tmp:
        script = Path(tmp) / "adjust.sql"
        script.write_text(PGBENCH_SCRIPT)
        args = [
            binary,
            "-n",
            "-M",
            "prepared",
            "-c",
            str(callers),
            "-j",
            str(min(callers, os.cpu_count() or 1)),
            "-T",
            str(seconds),
            "-D",
            f"customers={customers}",
            "-f",
            str(script),
            "-l",
            "--log-prefix",
            str(Path(tmp) / "log"),
            "-h",
            str(info.get("host", "127.0.0.1")),
            "-p",
            str(info.get("port", "5432")),
            "-U",
            str(info.get("user", "postgres")),
            str(info["dbname"]),
        ]
        env = {**os.environ}
        if info.get("password"):
            env["PGPASSWORD"] = str(info["password"])
        busy0 = machine_busy()
        done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=seconds + 60)
        busy1 = machine_busy()
        if done.returncode != 0:
            raise RuntimeError(f"pgbench failed: {done.stderr.strip()[-2000:]}")
        latencies: list[float] = []
        for log in Path(tmp).glob("log*"):
            for line in log.read_text().splitlines():
                parts = line.split()
                if len(parts) >= 3:
                    latencies.append(int(parts[2]) / 1e6)
    match = re.search(r"tps = ([0-9.]+) \(without initial connection", done.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    tps = float(match.group(1)) if match else len(latencies) / seconds
    return {
        "scenario": "pgbench",
        "callers": callers,
        "seconds": seconds,
        "calls": len(latencies),
        "ops": len(latencies),
        "ops_per_s": round(tps, 1),
        "p50_ms": ms(percentile(latencies, 50)),
        "p99_ms": ms(percentile(latencies, 99)),
        "errors": {"failed": int(failed.group(1))} if failed and int(failed.group(1)) else {},
        "machine_cpu_busy": round((busy1[0] - busy0[0]) / max(1e-9, busy1[1] - busy0[1]), 3),
    }


# --------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, url: str, workers: int | None, log_path: Path) -> None:
        self.target = f"127.0.0.1:{free_port()}"
        args = [SERVER_BIN, "serve", "--listen", self.target, "--database-url", url]
        args += ["--log-level", "WARNING"]
        if workers is not None:
            args += ["--workers", str(workers)]
        self.log_path = log_path
        self.proc = subprocess.Popen(
            args, stdout=log_path.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
        )
        self._wait_serving()

    def _wait_serving(self, timeout: float = 30.0) -> None:
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with grpc.insecure_channel(self.target) as channel:
                    reply = health_pb2_grpc.HealthStub(channel).Check(
                        health_pb2.HealthCheckRequest(service="loyalty.v1.LoyaltyService"),
                        timeout=1,
                    )
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
            except grpc.RpcError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"server did not start:\n{self.log_path.read_text()[-3000:]}")

    def processes(self) -> int:
        """Processes serving calls: the workers, or the server itself when it has none."""
        count = 0
        for p in os.listdir("/proc"):
            stat = _proc_stat(int(p)) if p.isdigit() else None
            if stat and stat.ppid == self.proc.pid:
                with contextlib.suppress(OSError):
                    count += b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()
        return count or 1

    def stop(self, timeout: float = 30.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


# --------------------------------------------------------------------------- report


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def summarize(results: list[dict[str, Any]], readscale: dict[str, Any]) -> dict[str, Any]:
    def find(scenario: str, callers: int) -> dict[str, Any] | None:
        for r in results:
            if r["scenario"] == scenario and r["callers"] == callers:
                return r
        return None

    levels = sorted({r["callers"] for r in results})
    ratios: dict[str, Any] = {}
    for c in levels:
        empty, pgb = find("empty", c), find("pgbench", c)
        for r in results:
            if r["callers"] != c or r["scenario"] in ("empty", "pgbench"):
                continue
            r["vs_empty_rpc"] = ratio(r["calls_per_s"], empty["ops_per_s"] if empty else None)
            if r["scenario"] == "adjust":
                r["vs_pgbench"] = ratio(r["ops_per_s"], pgb.get("ops_per_s") if pgb else None)
        adjust = find("adjust", c)
        if adjust:
            ratios[str(c)] = {
                "adjust_vs_empty_rpc": adjust.get("vs_empty_rpc"),
                "adjust_vs_pgbench": adjust.get("vs_pgbench"),
            }
    top = max(levels)
    adjust, empty = find("adjust", top), find("empty", top)
    hot, spread = find("debit_hot", top), find("debit_spread", top)
    batches = [r for r in results if r["scenario"] == "batch"]
    best_batch = max(batches, key=lambda r: r["ops_per_s"]) if batches else None
    hot_errors: dict[str, int] = {}
    for r in results:
        if r["scenario"] == "debit_hot":
            for code, n in r["errors"].items():
                hot_errors[code] = hot_errors.get(code, 0) + n
    targets: dict[str, Any] = {"at_callers": top}
    if adjust and empty:
        targets["adjust_ge_50pct_empty_rpc"] = {
            "value": adjust["vs_empty_rpc"],
            "met": (adjust["vs_empty_rpc"] or 0) >= 0.5,
        }
        targets["adjust_ge_1500_ops"] = {
            "value": adjust["ops_per_s"],
            "met": adjust["ops_per_s"] >= 1500,
        }
        targets["adjust_p99_le_50ms"] = {
            "value": adjust["p99_ms"],
            "met": adjust["p99_ms"] is not None and adjust["p99_ms"] <= 50,
        }
    if best_batch:
        targets["batch_ge_20000_adjustments_per_s"] = {
            "value": best_batch["ops_per_s"],
            "callers": best_batch["callers"],
            "met": best_batch["ops_per_s"] >= 20_000,
        }
    if readscale:
        targets["balance_at_1m_within_1_2x"] = {
            "value": readscale.get("balance_p50_ratio"),
            "met": (readscale.get("balance_p50_ratio") or 99) <= 1.2,
        }
        targets["history_at_1m_within_1_2x"] = {
            "value": readscale.get("history_p50_ratio"),
            "met": (readscale.get("history_p50_ratio") or 99) <= 1.2,
        }
        for kind in ("balance", "history"):
            value = readscale.get(f"{kind}_sql_p50_ratio")
            targets[f"{kind}_sql_at_1m_within_1_2x"] = {
                "value": value,
                "met": (value or 99) <= 1.2,
            }
    if readscale.get("stats_p50_ratio") is not None:
        targets["stats_at_1m_within_1_2x"] = {
            "value": readscale["stats_p50_ratio"],
            "met": readscale["stats_p50_ratio"] <= 1.2,
        }
    for name in ("credit_debit_spread", "credit_debit_hot"):
        found = find(name, top)
        if found and empty:
            targets[f"{name}_ge_40pct_empty_rpc"] = {
                "value": found.get("vs_empty_rpc"),
                "met": (found.get("vs_empty_rpc") or 0) >= 0.4,
            }
            targets[f"{name}_p99_le_50ms"] = {
                "value": found["p99_ms"],
                "met": found["p99_ms"] is not None and found["p99_ms"] <= 50,
            }
    if hot and spread:
        share = ratio(hot["ops_per_s"], spread["ops_per_s"])
        targets["debit_hot_ge_30pct_spread"] = {"value": share, "met": (share or 0) >= 0.3}
        other = {k: v for k, v in hot_errors.items() if k != "FAILED_PRECONDITION"}
        targets["debit_hot_no_unexpected_errors"] = {"value": hot_errors, "met": not other}
    return {"ratios": ratios, "targets": targets}


def print_table(report: dict[str, Any]) -> None:
    print()
    header = (
        f"{'scenario':<36}{'callers':>8}{'ops/s':>11}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'cpu us/op':>11}{'vs empty':>10}{'errors':>10}"
    )
    print(header)
    print("-" * len(header))
    for r in report["results"]:
        label = SCENARIOS.get(r["scenario"], "pgbench, one adjustment/statement")
        errors = sum(r.get("errors", {}).values())
        print(
            f"{label:<36}{r['callers']:>8}{r['ops_per_s']:>11,.0f}"
            f"{_fmt(r.get('p50_ms')):>9}{_fmt(r.get('p99_ms')):>9}"
            f"{_fmt(r.get('server_cpu_us_per_op'), 0):>11}"
            f"{_fmt(r.get('vs_empty_rpc'), 2):>10}{errors:>10}"
        )
    rs = report.get("readscale") or {}
    if rs:
        print()
        print(
            f"read scale ({rs['callers']} callers): ledger rows {rs['rows_before']:,} -> "
            f"{rs['rows_after']:,} (bulk load {rs['bulk_load_s']:.1f} s)"
        )
        for kind in ("balance", "history"):
            b, a = rs[f"{kind}_before"], rs[f"{kind}_after"]
            print(
                f"  GetPointsBalance{' + history' if kind == 'history' else '':<10} "
                f"{b['ops_per_s']:>9,.0f} -> {a['ops_per_s']:>9,.0f} ops/s, "
                f"p50 {b['p50_ms']} -> {a['p50_ms']} ms "
                f"(p50 ratio {rs[f'{kind}_p50_ratio']}); as plain SQL p50 "
                f"{rs['sql_before'][f'{kind}_sql_p50_us']} -> "
                f"{rs['sql_after'][f'{kind}_sql_p50_us']} us "
                f"(ratio {rs[f'{kind}_sql_p50_ratio']})"
            )
    print()
    for level, values in report["summary"]["ratios"].items():
        print(f"AdjustPoints at {level} callers: {values}")
    print()
    for name, target in report["summary"]["targets"].items():
        if isinstance(target, dict):
            verdict = "MET" if target["met"] else "NOT MET"
            print(f"  {name:<40} {verdict:<8} {target['value']}")


def markdown(report: dict[str, Any]) -> str:
    """The results as the Markdown table bench/README.md shows."""
    lines = [
        "| scenario | callers | ops/s | p50 ms | p99 ms | server CPU us/op |"
        " PostgreSQL CPU us/op | vs empty RPC | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in report["results"]:
        label = SCENARIOS.get(r["scenario"], "pgbench, one adjustment per statement (TPS)")
        errors = ", ".join(f"{k} {v}" for k, v in r.get("errors", {}).items()) or "0"
        lines.append(
            f"| {label} | {r['callers']} | {r['ops_per_s']:,.0f} | {_fmt(r.get('p50_ms'))} | "
            f"{_fmt(r.get('p99_ms'))} | {_fmt(r.get('server_cpu_us_per_op'), 0)} | "
            f"{_fmt(r.get('database_cpu_us_per_op'), 0)} | "
            f"{_fmt(r.get('vs_empty_rpc'), 2)} | {errors} |"
        )
    rs = report.get("readscale") or {}
    if rs:
        lines += [
            "",
            f"Read scale, {rs['callers']} callers, ledger rows {rs['rows_before']:,} -> "
            f"{rs['rows_after']:,}:",
            "",
            "| read | ops/s before | ops/s after | p50 ms before | p50 ms after | p50 ratio |"
            " SQL p50 us before | SQL p50 us after | SQL ratio |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for kind, label in (("balance", "GetPointsBalance"), ("history", "+ last-20 history")):
            b, a = rs[f"{kind}_before"], rs[f"{kind}_after"]
            lines.append(
                f"| {label} | {b['ops_per_s']:,.0f} | {a['ops_per_s']:,.0f} | "
                f"{_fmt(b['p50_ms'])} | {_fmt(a['p50_ms'])} | {rs[f'{kind}_p50_ratio']} | "
                f"{rs['sql_before'][f'{kind}_sql_p50_us']} | "
                f"{rs['sql_after'][f'{kind}_sql_p50_us']} | {rs[f'{kind}_sql_p50_ratio']} |"
            )
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    for name, target in report["summary"]["targets"].items():
        if isinstance(target, dict):
            lines.append(f"| {name} | {target['value']} | {'yes' if target['met'] else 'no'} |")
    return "\n".join(lines) + "\n"


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def chart(report: dict[str, Any], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed (pip install -e '.[bench]'): no chart", file=sys.stderr)
        return False
    results = report["results"]
    names = [*SCENARIOS, "pgbench"]
    levels = sorted({r["callers"] for r in results})
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 8.5))
    width = 0.8 / len(levels)
    for i, c in enumerate(levels):
        ops, p99 = [], []
        for name in names:
            found = [r for r in results if r["scenario"] == name and r["callers"] == c]
            ops.append(found[0]["ops_per_s"] if found else 0)
            p99.append((found[0].get("p99_ms") or 0) if found else 0)
        xs = [x + (i - (len(levels) - 1) / 2) * width for x in range(len(names))]
        top.bar(xs, ops, width, label=f"{c} callers")
        bottom.bar(xs, p99, width, label=f"{c} callers")
    pgbench = "pgbench (1 adjustment/statement)"
    labels = [SCENARIOS.get(n, pgbench).replace(" (", "\n(").replace(", ", ",\n") for n in names]
    for axis, title in ((top, "throughput, ops/s (log)"), (bottom, "p99 latency, ms (log)")):
        axis.set_xticks(range(len(names)))
        axis.set_xticklabels(labels, fontsize=7)
        axis.set_yscale("log")
        axis.set_title(title, fontsize=10)
        axis.legend(fontsize=8)
        axis.grid(axis="y", alpha=0.3)
    meta = report["meta"]
    fig.suptitle(
        f"loyalty.v1.LoyaltyService on PostgreSQL — {meta['cpus']} CPUs, "
        f"{meta['server_processes']} server process(es), {meta['stamp']}",
        fontsize=11,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run, seconds not minutes")
    parser.add_argument("--duration", type=float, help="measured seconds per scenario and level")
    parser.add_argument("--callers", help="comma-separated concurrency levels, e.g. 1,8,32")
    parser.add_argument("--workers", type=int, help="server --workers (default: the server's)")
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--pg-url", default=os.environ.get("LOYALTY_BENCH_PG_URL", DEFAULT_PG))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--scenarios", help="comma-separated subset of: " + ",".join(SCENARIOS))
    parser.add_argument("--no-readscale", action="store_true")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    args = parser.parse_args(argv)

    profile = QUICK if args.quick else FULL
    callers = tuple(int(c) for c in args.callers.split(",")) if args.callers else profile.callers
    duration = args.duration or profile.duration
    scenarios = args.scenarios.split(",") if args.scenarios else list(SCENARIOS)
    if "empty" not in scenarios:
        scenarios.insert(0, "empty")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    args.out.mkdir(parents=True, exist_ok=True)

    name = f"loyalty_bench_{uuid.uuid4().hex[:10]}"
    admin = libpq(args.pg_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = db_url(args.pg_url, name)
    server: Server | None = None
    clients: Clients | None = None
    started = time.monotonic()
    try:
        subprocess.run(
            [SERVER_BIN, "migrate", "--database-url", url], check=True, capture_output=True
        )
        seed(url, profile)
        log_path = args.out / f"{stamp}-server.log"
        server = Server(url, args.workers, log_path)
        time.sleep(0.3)
        meta = {
            "stamp": stamp,
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "quick": args.quick,
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "postgres": _pg_version(admin),
            "server_processes": server.processes(),
            "client_processes": args.client_processes,
            "duration_s": duration,
            "warmup_s": profile.warmup,
            "callers": list(callers),
            "loadavg_start": list(os.getloadavg()),
            "customers": profile.customers,
            "cards": profile.cards,
            "batch_size": profile.batch_size,
        }
        print(
            f"server {server.target}: {meta['server_processes']} process(es); database {name}; "
            f"load average {meta['loadavg_start']}",
            flush=True,
        )
        clients = Clients(server.target, args.client_processes)
        common = {
            "duration": duration,
            "warmup": profile.warmup,
            "customers": profile.customers,
            "cards": profile.cards,
            "batch_size": profile.batch_size,
            "readscale_customers": profile.readscale_customers,
        }

        readscale: dict[str, Any] = {}
        rs_callers = profile.readscale_callers
        sql_rounds = 300 if args.quick else 3000
        if not args.no_readscale:
            readscale["rows_before"] = ledger_rows(url)
            readscale["store_credit_rows_before"] = ledger_rows(url, "store_credit_transactions")
            settle(url)
            readscale["sql_before"] = sql_read_cost(url, profile.readscale_customers, sql_rounds)
            for kind in ("balance", "history", "stats"):
                readscale[f"{kind}_before"] = clients.run(
                    {**common, "scenario": f"rs_{kind}", "callers": rs_callers}, server.proc.pid
                )

        results: list[dict[str, Any]] = []
        for level in callers:
            for scenario in scenarios:
                job = {**common, "scenario": scenario, "callers": level}
                if scenario == "batch":
                    job["unit_per_call"] = profile.batch_size
                    job["duration"] = duration if args.quick else max(duration, 5.0)
                settle(url)
                result = clients.run(job, server.proc.pid)
                results.append(result)
                print(
                    f"  {scenario:<14} {level:>3} callers: {result['ops_per_s']:>10,.0f} ops/s"
                    f"  p50 {result['p50_ms']} ms  p99 {result['p99_ms']} ms"
                    f"  cpu us/op: server {result['server_cpu_us_per_op']}"
                    f" clients {result['client_cpu_us_per_op']}"
                    f" database {result['database_cpu_us_per_op']}"
                    f"  errors {result['errors']}",
                    flush=True,
                )
            settle(url)
            pgb = run_pgbench(url, level, profile.pgbench_seconds, profile.customers)
            results.append(pgb)
            print(
                f"  {'pgbench':<14} {level:>3} callers: {pgb.get('ops_per_s', 0):>10,.0f} tps"
                f"  p50 {pgb.get('p50_ms')} ms  p99 {pgb.get('p99_ms')} ms",
                flush=True,
            )

        if not args.no_readscale:
            readscale["bulk_load_s"] = round(bulk_load(url, profile.filler_rows), 1)
            readscale["rows_after"] = ledger_rows(url)
            readscale["store_credit_rows_after"] = ledger_rows(url, "store_credit_transactions")
            readscale["sql_after"] = sql_read_cost(url, profile.readscale_customers, sql_rounds)
            for kind in ("balance", "history"):
                readscale[f"{kind}_sql_p50_ratio"] = ratio(
                    readscale["sql_after"][f"{kind}_sql_p50_us"],
                    readscale["sql_before"][f"{kind}_sql_p50_us"],
                )
            readscale["callers"] = rs_callers
            for kind in ("balance", "history", "stats"):
                readscale[f"{kind}_after"] = clients.run(
                    {**common, "scenario": f"rs_{kind}", "callers": rs_callers}, server.proc.pid
                )
                before, after = readscale[f"{kind}_before"], readscale[f"{kind}_after"]
                readscale[f"{kind}_p50_ratio"] = ratio(after["p50_ms"], before["p50_ms"])
                readscale[f"{kind}_ops_ratio"] = ratio(before["ops_per_s"], after["ops_per_s"])

        clients.close()
        clients = None
        exit_code = server.stop()
        server = None
        meta["server_exit_code"] = exit_code
        meta["loadavg_end"] = list(os.getloadavg())
        meta["wall_s"] = round(time.monotonic() - started, 1)
        report = {"meta": meta, "results": results, "readscale": readscale}
        report["summary"] = summarize(results, readscale)
        json_path = args.out / f"{stamp}.json"
        json_path.write_text(json.dumps(report, indent=2) + "\n")
        (args.out / f"{stamp}.md").write_text(markdown(report))
        png_path = args.out / f"{stamp}.png"
        has_chart = chart(report, png_path)
        print_table(report)
        print(f"\nwrote {json_path}" + (f" and {png_path}" if has_chart else ""))
        print(f"wall time {meta['wall_s']} s; load average at end {meta['loadavg_end']}")
        if exit_code != 0:
            print(f"server exited with {exit_code} after SIGTERM", file=sys.stderr)
            return 1
        return 0
    finally:
        if clients is not None:
            clients.close()
        if server is not None:
            server.kill()
        if not args.keep_db:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


def _pg_version(admin: str) -> str:
    with psycopg.connect(admin) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"


if __name__ == "__main__":
    sys.exit(main())
