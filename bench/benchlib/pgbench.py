"""The database ceiling: pgbench running one adjustment per statement."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import psycopg

from .database import libpq
from .measure import machine_busy, ms, percentile

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
