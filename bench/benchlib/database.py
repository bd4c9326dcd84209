"""The benchmark's database: URLs, seed data, vacuum, the bulk load, plain-SQL reads."""

from __future__ import annotations

import contextlib
import random
import time

import psycopg
from psycopg import sql

from .measure import percentile
from .scenarios import HOT_ACCOUNT, HOT_CODE, Profile


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


def checkpoint(url: str) -> None:
    """Write PostgreSQL's dirty buffers out now (a superuser's CHECKPOINT), so the
    disk is quiet for what is measured next: after the bulk load, the checkpointer
    flushing it during the SQLite row made SQLite's commits (each an fsync) stall
    up to 300 ms. Without the right to checkpoint, nothing is done."""
    with (
        psycopg.connect(libpq(url), autocommit=True) as conn,
        contextlib.suppress(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("CHECKPOINT")


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


def pg_version(admin: str) -> str:
    with psycopg.connect(admin) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"
