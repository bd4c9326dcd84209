"""The benchmark runs end to end in its quick mode and writes a sane report.

Timings are not checked (this box is shared and small); the shape of the report,
the absence of unexpected errors and a clean server shutdown are."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from conftest import ROOT, pg_admin_url

SCENARIOS = {
    "empty",
    "adjust",
    "adjust_history",
    "balance",
    "debit_hot",
    "debit_spread",
    "list",
    "batch",
    "credit_debit_hot",
    "credit_debit_spread",
    "credit_stats",
    "pgbench",
}


def _admin_url() -> str:
    url = pg_admin_url().replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        with psycopg.connect(url, connect_timeout=3):
            return url
    except psycopg.Error as error:
        pytest.skip(f"PostgreSQL unavailable: {error}")


@pytest.mark.postgres
def test_quick_benchmark_end_to_end(tmp_path: Path) -> None:
    admin = _admin_url()
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=170,
        env={**os.environ, "LOYALTY_BENCH_PG_URL": admin},
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert elapsed < 120, f"the quick benchmark took {elapsed:.0f} s"

    reports = list(tmp_path.glob("*.json"))
    assert len(reports) == 1, reports
    report = json.loads(reports[0].read_text())
    meta = report["meta"]
    assert meta["quick"] is True and meta["server_exit_code"] == 0
    assert meta["server_processes"] >= 1

    results = report["results"]
    assert {r["scenario"] for r in results} >= SCENARIOS - {"pgbench"}
    levels = set(meta["callers"])
    for r in results:
        assert r["callers"] in levels
        if r.get("skipped"):
            continue
        assert r["ops_per_s"] >= 0 and r["calls"] >= 0
        if r["scenario"] != "batch":  # a batch may outlast the tiny quick window
            assert r["calls"] > 0, r
            assert 0 < r["p50_ms"] <= r["p99_ms"], r
        # no error of any kind, except refusals on the hot card would be allowed
        unexpected = {k: v for k, v in r["errors"].items() if k != "FAILED_PRECONDITION"}
        assert not unexpected, r
        if r["scenario"] != "pgbench":
            assert r["server_cpu_us_per_op"] is None or r["server_cpu_us_per_op"] >= 0

    readscale = report["readscale"]
    assert readscale["rows_after"] >= readscale["rows_before"] + 20_000
    assert readscale["store_credit_rows_after"] >= readscale["store_credit_rows_before"] + 20_000
    for kind in ("balance", "history", "stats"):
        assert readscale[f"{kind}_before"]["calls"] > 0
        assert readscale[f"{kind}_after"]["calls"] > 0

    targets = report["summary"]["targets"]
    for name in (
        "adjust_ge_50pct_empty_rpc",
        "adjust_ge_1500_ops",
        "adjust_p99_le_50ms",
        "batch_ge_20000_adjustments_per_s",
        "balance_at_1m_within_1_2x",
        "debit_hot_ge_30pct_spread",
        "debit_hot_no_unexpected_errors",
        "stats_at_1m_within_1_2x",
        "credit_debit_spread_ge_40pct_empty_rpc",
        "credit_debit_hot_p99_le_50ms",
        # issue 18's bars for every hot path, and the embedded default's row
        "adjust_history_ge_35pct_empty_rpc",
        "adjust_history_p99_le_60ms",
        "balance_ge_70pct_empty_rpc",
        "debit_spread_ge_45pct_empty_rpc",
        "debit_hot_ge_35pct_empty_rpc",
        "credit_stats_ge_70pct_empty_rpc",
        "list_ge_35pct_empty_rpc",
        "list_p99_le_60ms",
        "sqlite_adjust_max_le_250ms",
        "sqlite_balance_max_le_250ms",
    ):
        assert isinstance(targets[name]["met"], bool), name
    sqlite = {r["scenario"]: r for r in report["sqlite"]}
    assert set(sqlite) == {"empty", "adjust", "balance"}
    for r in sqlite.values():
        assert r["calls"] > 0 and not r["errors"], r
        assert 0 < r["p50_ms"] <= r["p99_ms"] <= r["max_ms"], r
    assert not list(tmp_path.glob("*.sqlite.db*"))  # its file is gone
    assert "AdjustPoints" in done.stdout  # the printed table

    if importlib.util.find_spec("matplotlib") is not None:
        assert len(list(tmp_path.glob("*.png"))) == 1

    # its database is gone
    with psycopg.connect(admin, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'loyalty_bench_%%'"
        ).fetchall()
    name_in_log = [line for line in done.stdout.splitlines() if "database loyalty_bench_" in line]
    assert name_in_log
    ours = name_in_log[0].split("database ")[1].split(";")[0]
    assert ours not in {row[0] for row in rows}


@pytest.mark.postgres
def test_quick_profile_reports_time_by_layer(tmp_path: Path) -> None:
    """`--profile` samples the real server with py-spy in each measured window and
    reports the share of its time per layer, the SQL and conversion among them."""
    admin = _admin_url()
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--quick",
            "--profile",
            "--duration",
            "2",
            "--scenarios",
            "adjust,list",
            "--no-readscale",
            "--no-sqlite",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=170,
        env={**os.environ, "LOYALTY_BENCH_PG_URL": admin},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [report_path] = tmp_path.glob("*.json")
    results = {r["scenario"]: r for r in json.loads(report_path.read_text())["results"]}
    for scenario in ("empty", "adjust", "list"):
        layers = results[scenario]["profile"]
        assert abs(sum(layers.values()) - 1) < 0.01, layers
        assert results[scenario]["profile_samples"] >= 50, results[scenario]
    assert results["list"]["profile"].get("SQL: psycopg", 0) > 0
    assert results["list"]["profile"].get("conversion", 0) > 0
    assert "empty" in {p.stem.split("-")[0] for p in (tmp_path).glob("*-profile/*.txt")}
    assert "server time by layer" in done.stdout
