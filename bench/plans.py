"""Why the server's direct connections force generic plans and price sequential
scans out (store/direct.py): the per-execution time of the hot statements on one
prepared connection, the way the server runs them.

    .venv/bin/python bench/plans.py            # about a minute

1. On a fresh, seeded, analyzed database (bench/run.py's seed), each statement is
   run 300 times under PostgreSQL's default plan choice ("auto") and under
   `plan_cache_mode = force_generic_plan`, with pg_prepared_statements' count of
   custom and generic plans.
2. Young statistics: the gift card ledger is emptied and analyzed, then debit
   batches of 8 run in three rounds of 300 as the ledger grows, with generic
   plans alone and with `enable_seqscan = off` too.
The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg
from benchlib.database import db_url, libpq, seed, settle
from benchlib.scenarios import FULL
from benchlib.server import SERVER_BIN
from psycopg import sql

from loyalty_server.store.gift_cards import DEBIT_MANY_SQL
from loyalty_server.store.points import _BALANCES_SQL, ADJUST_MANY_SQL

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
GENERIC = "-c plan_cache_mode=force_generic_plan"


def _debits(size: int) -> dict[str, Any]:
    codes = [f"BENCH-{random.randrange(FULL.cards):05d}" for _ in range(size)]
    return {
        "ids": [f"gctx_{uuid.uuid4().hex}" for _ in codes],
        "by_code": [True] * size,
        "lookups": codes,
        "amounts": [Decimal("0.01")] * size,
        "currencies": ["usd"] * size,
        "references": ["bench"] * size,
        "reference_ids": ["plans"] * size,
        "keys": [uuid.uuid4().hex for _ in codes],
        "hashes": ["h"] * size,
        "nows": [datetime.now(UTC)] * size,
    }


def _adjustment() -> dict[str, Any]:
    return {
        "ids": [f"adj_{uuid.uuid4().hex}"],
        "customers": [f"cus_{random.randrange(FULL.customers):05d}"],
        "deltas": [Decimal(1)],
        "reasons": ["plans"],
        "keys": [uuid.uuid4().hex],
        "hashes": ["h"],
        "nows": [datetime.now(UTC)],
        "floor": Decimal(0),
        "ceiling": Decimal(10**15),
    }


def _balance() -> dict[str, Any]:
    customer = f"cus_{random.randrange(FULL.customers):05d}"
    return {"customers": [customer], "limits": [20], "nows": [datetime.now(UTC)]}


STATEMENTS: dict[str, tuple[str, Callable[[], dict[str, Any]]]] = {
    "AdjustPoints (one adjustment)": (ADJUST_MANY_SQL, _adjustment),
    "GetPointsBalance (one read, last 20)": (_BALANCES_SQL, _balance),
    "DebitGiftCard (a batch of 8 debits)": (DEBIT_MANY_SQL, lambda: _debits(8)),
}


def _time(conn: psycopg.Connection[Any], query: str, make: Callable[[], Any], n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        conn.execute(query, make(), prepare=True).fetchall()
    return (time.perf_counter() - started) / n * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default=os.environ.get("LOYALTY_BENCH_PG_URL", DEFAULT_PG))
    args = parser.parse_args()
    name = f"loyalty_plans_{uuid.uuid4().hex[:10]}"
    admin = libpq(args.pg_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = db_url(args.pg_url, name)
    try:
        subprocess.run([SERVER_BIN, "migrate", "--database-url", url], check=True)
        seed(url, FULL)
        settle(url)
        print("ms per execution, 300 executions each, one prepared connection:")
        for label, (query, make) in STATEMENTS.items():
            for mode, options in (("auto", ""), ("generic", GENERIC)):
                with psycopg.connect(libpq(url), autocommit=True, options=options) as conn:
                    ms = _time(conn, query, make, 300)
                    plans = conn.execute(
                        "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                    ).fetchall()
                print(f"  {label:<38} {mode:<8} {ms:6.2f} ms   (generic, custom) plans {plans}")
        print("young statistics: the gift card ledger emptied and analyzed, then it grows;")
        print("ms per debit batch of 8, three rounds of 300 batches:")
        for label, options in (
            ("generic plans", GENERIC),
            ("generic plans, enable_seqscan=off", f"{GENERIC} -c enable_seqscan=off"),
        ):
            with psycopg.connect(libpq(url), autocommit=True) as conn:
                conn.execute("TRUNCATE gift_card_transactions")
                conn.execute("ANALYZE gift_card_transactions")
            with psycopg.connect(libpq(url), autocommit=True, options=options) as conn:
                rounds = [_time(conn, DEBIT_MANY_SQL, lambda: _debits(8), 300) for _ in range(3)]
                rows = conn.execute("SELECT count(*) FROM gift_card_transactions").fetchone()
            shown = " -> ".join(f"{ms:.2f}" for ms in rounds)
            print(f"  {label:<38} {shown} ms   ({rows[0] if rows else 0} ledger rows at the end)")
        return 0
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            conn.execute(drop.format(sql.Identifier(name)))


if __name__ == "__main__":
    raise SystemExit(main())
