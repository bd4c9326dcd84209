"""`loyalty-server verify` finds each kind of damage it is meant to find (a checker
that never fails proves nothing), on both backends, and stays read-only."""

from __future__ import annotations

import sqlite3
import subprocess
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from reliability_support import run_verify, server_bin
from sqlalchemy import create_engine, func, insert, select

from loyalty_server.store.db import sync_url
from loyalty_server.store.models import (
    GiftCard,
    GiftCardTransaction,
    PointAccount,
    PointAdjustment,
)
from loyalty_server.verify import verify

pytestmark = pytest.mark.reliability

NOW = datetime.now(UTC)


def _adjustment(customer: str, n: int, delta: str, after: str, **kw: Any) -> dict[str, Any]:
    return {
        "id": f"adj_{customer}_{n}",
        "customer_id": customer,
        "delta": Decimal(delta),
        "reason": "",
        "balance_after": Decimal(after),
        "idempotency_key": kw.get("key"),
        "request_hash": kw.get("hash"),
        "created_at": NOW,
    }


def _card(card_id: str, value: str, balance: str) -> dict[str, Any]:
    return {
        "id": card_id,
        "code": f"CODE-{card_id}",
        "status": "pending",
        "value": Decimal(value),
        "balance": Decimal(balance),
        "currency_code": "usd",
        "created_at": NOW,
        "updated_at": NOW,
    }


def _transaction(card_id: str, n: int, kind: str, amount: str, after: str) -> dict[str, Any]:
    return {
        "id": f"gctx_{card_id}_{n}",
        "gift_card_id": card_id,
        "type": kind,
        "amount": Decimal(amount),
        "currency_code": "usd",
        "balance_after": Decimal(after),
        "reference": "",
        "reference_id": "",
        "idempotency_key": None,
        "request_hash": None,
        "created_at": NOW,
    }


def _account(customer: str, balance: str) -> dict[str, Any]:
    return {
        "customer_id": customer,
        "balance": Decimal(balance),
        "created_at": NOW,
        "updated_at": NOW,
    }


def test_verify_finds_each_kind_of_damage(databases: Any) -> None:
    url = databases.new()
    subprocess.run(
        [server_bin(), "migrate", "--database-url", url], check=True, capture_output=True
    )
    ok = run_verify(url)
    assert (ok.returncode, ok.stdout.startswith("OK: 0 point accounts")) == (0, True), ok

    engine = create_engine(sync_url(url))
    with engine.begin() as conn:
        accounts = [
            _account("good", "70"),
            _account("broken_chain", "25"),
            _account("drifted", "99"),
            _account("negative", "-5"),
            _account("unhashed", "1"),
        ]
        conn.execute(insert(PointAccount.__table__), accounts)
        conn.execute(
            insert(PointAdjustment.__table__),
            [
                _adjustment("good", 1, "100", "100", key="k", hash="h"),
                _adjustment("good", 2, "-30", "70"),
                _adjustment("broken_chain", 1, "50", "50"),
                _adjustment("broken_chain", 2, "-25", "20"),  # 50 - 25 is 25, not 20
                _adjustment("drifted", 1, "100", "100"),  # stored 99: an update lost
                _adjustment("negative", 1, "-5", "-5"),
                _adjustment("unhashed", 1, "1", "1", key="k2"),  # a key without its hash
            ],
        )
        conn.execute(
            insert(GiftCard.__table__),
            [
                _card("g_good", "100", "80"),
                _card("g_drift", "100", "90"),
                _card("g_neg", "10", "-1"),
            ],
        )
        conn.execute(
            insert(GiftCardTransaction.__table__),
            [
                _transaction("g_good", 1, "debit", "30", "70"),
                _transaction("g_good", 2, "credit", "10", "80"),
                _transaction("g_drift", 1, "debit", "5", "95"),  # stored 90
                _transaction("g_neg", 1, "debit", "11", "-1"),
            ],
        )
    counts_before = _counts(engine)

    report = verify(url)
    text = "\n".join(report.problems)
    assert not report.ok
    for expected in (
        "customer broken_chain: adjustment adj_broken_chain_2 (seq",
        "customer drifted: stored balance 99 != sum of ledger deltas 100",
        "customer negative: negative balance -5",
        "customer negative: adjustment adj_negative_1 left the balance negative",
        "customer unhashed: ledger row with idempotency key 'k2' has no request hash",
        "gift card g_drift: stored balance 90 != value 100 - debits 5 + credits 0 = 95",
        "gift card g_neg: negative balance -1",
    ):
        assert expected in text, f"{expected!r} not in:\n{text}"
    assert "customer good" not in text and "gift card g_good" not in text
    assert (report.accounts, report.adjustments, report.gift_cards, report.transactions) == (
        5,
        7,
        3,
        4,
    )

    allowed = verify(url, allow_negative_balances=True)
    assert not [p for p in allowed.problems if p.startswith("customer negative")]

    result = run_verify(url)
    assert result.returncode == 1
    assert result.stdout.strip().splitlines()[-1].startswith("FAILED: ")
    assert _counts(engine) == counts_before  # read-only
    engine.dispose()


def _counts(engine: Any) -> list[int]:
    with engine.connect() as conn:
        return [
            int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for table in (
                PointAccount.__table__,
                PointAdjustment.__table__,
                GiftCard.__table__,
                GiftCardTransaction.__table__,
            )
        ]


def test_verify_cannot_check_is_exit_2(databases: Any, tmp_path: Any) -> None:
    missing = tmp_path / "nope.db"
    result = run_verify(f"sqlite:///{missing}")
    assert result.returncode == 2 and not missing.exists(), result
    url = databases.new()  # an empty database: no schema
    if url.startswith("sqlite"):
        sqlite3.connect(url.removeprefix("sqlite:///")).close()
    result = run_verify(url)
    assert result.returncode == 2 and "no loyalty schema" in result.stderr, result
