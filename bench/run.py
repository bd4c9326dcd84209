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
  6. runs AdjustPoints and GetPointsBalance on the embedded default (SQLite, a
     fresh file) at 8 callers, with the slowest call recorded;
  7. writes bench/results/<stamp>.json and .png and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from benchlib.clients import Clients
from benchlib.database import (
    bulk_load,
    checkpoint,
    db_url,
    ledger_rows,
    libpq,
    pg_version,
    seed,
    settle,
    sql_read_cost,
)
from benchlib.pgbench import run_pgbench
from benchlib.profile import Profiler
from benchlib.report import chart, markdown, print_table, ratio, summarize
from benchlib.scenarios import FULL, QUICK, SCENARIOS, Profile
from benchlib.server import SERVER_BIN, Server
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


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
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite row")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the server with py-spy in each window and report time per layer",
    )
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
            "postgres": pg_version(admin),
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
        profiler = None
        if args.profile:
            profiler = Profiler(args.out / f"{stamp}-profile", server.proc.pid)
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
                result = clients.run(job, server.proc.pid, profiler)
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
                if "profile" in result:
                    shares = ", ".join(f"{k} {v:.0%}" for k, v in result["profile"].items())
                    print(f"    server time by layer: {shares}", flush=True)
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
        sqlite: list[dict[str, Any]] = []
        if not args.no_sqlite:
            checkpoint(url)
            sqlite = run_sqlite(args.out / stamp, profile, common, args.client_processes)
            if results and sqlite:
                empty = next(r for r in sqlite if r["scenario"] == "empty")
                for r in sqlite:
                    r["vs_empty_rpc"] = ratio(r["calls_per_s"], empty["ops_per_s"])
        meta["server_exit_code"] = exit_code
        meta["loadavg_end"] = list(os.getloadavg())
        meta["wall_s"] = round(time.monotonic() - started, 1)
        report = {"meta": meta, "results": results, "readscale": readscale, "sqlite": sqlite}
        report["summary"] = summarize(results, readscale, sqlite)
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


def run_sqlite(
    base: Path, profile: Profile, common: dict[str, Any], client_processes: int
) -> list[dict[str, Any]]:
    """The embedded default's row: a fresh SQLite file, its own server, the same
    callers' code; AdjustPoints and GetPointsBalance beside the empty RPC."""
    path = base.with_suffix(".sqlite.db")
    server = Server(f"sqlite:///{path}", None, base.with_suffix(".sqlite-server.log"))
    clients = Clients(server.target, client_processes)
    results: list[dict[str, Any]] = []
    try:
        for scenario in ("empty", "adjust", "balance"):
            job = {**common, "scenario": scenario, "callers": profile.sqlite_callers}
            result = clients.run(job, server.proc.pid)
            results.append(result)
            print(
                f"  sqlite {scenario:<7} {profile.sqlite_callers:>3} callers: "
                f"{result['ops_per_s']:>10,.0f} ops/s  p50 {result['p50_ms']} ms  "
                f"p99 {result['p99_ms']} ms  max {result['max_ms']} ms  errors {result['errors']}",
                flush=True,
            )
    finally:
        clients.close()
        server.kill()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return results


if __name__ == "__main__":
    sys.exit(main())
