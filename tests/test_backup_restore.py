"""Backup and restore as docs/operations.md tells an operator to do it, on the local
PostgreSQL: data written through the real server, `pg_dump --format=custom`, a
restore into a new database with `pg_restore`, then `loyalty-server verify` on the
restored copy and a real server on it answering the same balances.

Twice: once quiet (the copy answers exactly what the original did), once while 8
callers keep writing (pg_dump's snapshot is consistent: verify passes on the copy,
and every write acknowledged before pg_dump started is in it).
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from conftest import SERVER_BIN, DatabaseFactory, ServerProcess, _libpq
from reliability_support import check_verify

from loyalty_client import LoyaltyClient
from loyalty_client.types import AccountStats, NewGiftCard, NewStoreCreditAccount

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]


@pytest.fixture
def pg(workdir: Path) -> DatabaseFactory:
    from conftest import _PG_PROBLEM

    if _PG_PROBLEM is not None:
        pytest.skip(f"PostgreSQL unavailable: {_PG_PROBLEM}")
    for tool in ("pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed (Debian: postgresql-client)")
    factory = DatabaseFactory("postgres", workdir)
    yield factory  # type: ignore[misc]
    factory.drop_all()


def dump(url: str, path: Path) -> None:
    subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", "--file", str(path), _libpq(url)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip


def restore(path: Path, url: str) -> None:
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", "--dbname", _libpq(url), str(path)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip


def snapshot(
    client: LoyaltyClient, customers: list[str], cards: list[str], accounts: list[str]
) -> tuple[dict[str, Decimal], dict[str, Decimal], dict[str, AccountStats]]:
    return (
        {c: client.get_points_balance(c).balance for c in customers},
        {g: client.retrieve_gift_card(id=g).balance for g in cards},
        {a: client.retrieve_account_stats(a) for a in accounts},
    )


def test_pg_dump_restore_then_verify(pg: DatabaseFactory, workdir: Path, tmp_path: Path) -> None:
    original = ServerProcess(pg.new(), workdir).start()
    run = uuid.uuid4().hex[:8]
    customers = [f"cus_bk_{run}_{i}" for i in range(5)]
    try:
        with LoyaltyClient(original.target) as client:
            for n, customer in enumerate(customers):
                client.adjust_points(customer, 100 + n, reason="welcome")
                client.adjust_points(customer, -(n + 1), reason="redeemed")
            cards = [
                client.create_gift_card(NewGiftCard(value=50, currency_code="usd")).id
                for _ in range(3)
            ]
            for n, card in enumerate(cards):
                client.debit_gift_card(id=card, amount=Decimal(n + 1), currency_code="usd")
            accounts = [
                client.create_store_credit_account(
                    NewStoreCreditAccount(currency_code="eur", customer_id=customer)
                ).id
                for customer in customers[:2]
            ]
            for account in accounts:
                client.credit_account(account, 40, note="refund")
                client.debit_account(account, Decimal("12.5"), note="order")
            before = snapshot(client, customers, cards, accounts)

        # 1. Quiet: the copy answers exactly what the original did.
        backup = tmp_path / "loyalty.dump"
        dump(original.database_url, backup)
        copy_url = pg.new()
        restore(backup, copy_url)
        ok_original, ok_copy = check_verify(original.database_url), check_verify(copy_url)
        assert ok_copy == ok_original, (ok_original, ok_copy)
        copy = ServerProcess(copy_url, workdir).start()  # migrate is a no-op on it
        try:
            with LoyaltyClient(copy.target) as client:
                assert snapshot(client, customers, cards, accounts) == before
        finally:
            copy.stop()

        # 2. Under load: pg_dump's snapshot is consistent, acknowledged writes are in it.
        stop, lock = threading.Event(), threading.Lock()
        acked: list[tuple[str, str, str, float]] = []

        def writer(n: int) -> None:
            with LoyaltyClient(original.target) as client:
                while not stop.is_set():
                    key = f"bk-{uuid.uuid4().hex}"
                    customer = customers[n % len(customers)]
                    result = client.adjust_points(customer, 1, idempotency_key=key)
                    with lock:
                        acked.append((customer, key, result.id, time.monotonic()))

        threads = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(8)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        started = time.monotonic()
        dump(original.database_url, tmp_path / "live.dump")
        time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join(30)
        live_url = pg.new()
        restore(tmp_path / "live.dump", live_url)
        print(check_verify(live_url))

        with psycopg.connect(_libpq(live_url)) as conn:
            present = {
                key: row_id
                for key, row_id in conn.execute(
                    "SELECT idempotency_key, id FROM point_adjustments WHERE customer_id = ANY(%s)",
                    (customers,),
                )
            }
        before_dump = [a for a in acked if a[3] < started]
        assert before_dump and len(acked) > len(before_dump)
        missing = [a for a in before_dump if present.get(a[1]) != a[2]]
        assert not missing, f"{len(missing)} writes acknowledged before pg_dump are missing"
        # `loyalty-server migrate` on the restored copy is a no-op: it is at the head.
        result = subprocess.run(
            [SERVER_BIN, "migrate", "--database-url", live_url],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    finally:
        original.stop()
