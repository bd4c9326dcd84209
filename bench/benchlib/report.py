"""The report: ratios and targets, the printed table, Markdown and the chart."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .profile import C_CALLBACKS, OTHER, RULES
from .scenarios import SCENARIOS


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


# Issue 18's bars at the top concurrency: (scenario, least share of the empty RPC's
# rate, greatest p99 in ms or None). DebitAccounts is held to DebitGiftCard's bars,
# RetrieveAccountStats to GetPointsBalance's.
HOT_PATH_BARS = (
    ("adjust", 0.50, 50.0),
    ("adjust_history", 0.35, 60.0),
    ("balance", 0.70, None),
    ("debit_spread", 0.45, None),
    ("debit_hot", 0.35, None),
    ("credit_debit_spread", 0.45, None),
    ("credit_debit_hot", 0.35, None),
    ("credit_stats", 0.70, None),
    ("list", 0.35, 60.0),
)
#: The embedded default's bar: no call slower than this at SQLITE_CALLERS.
SQLITE_MAX_MS = 250.0


def summarize(
    results: list[dict[str, Any]],
    readscale: dict[str, Any],
    sqlite: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
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
    if adjust and empty:  # its share of the empty RPC and p99: HOT_PATH_BARS
        targets["adjust_ge_1500_ops"] = {
            "value": adjust["ops_per_s"],
            "met": adjust["ops_per_s"] >= 1500,
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
    for name, least, p99 in HOT_PATH_BARS:
        found = find(name, top)
        if found is None or not empty:
            continue
        targets[f"{name}_ge_{round(least * 100)}pct_empty_rpc"] = {
            "value": found.get("vs_empty_rpc"),
            "met": (found.get("vs_empty_rpc") or 0) >= least,
        }
        if p99 is not None:
            targets[f"{name}_p99_le_{p99:g}ms"] = {
                "value": found["p99_ms"],
                "met": found["p99_ms"] is not None and found["p99_ms"] <= p99,
            }
    for r in sqlite or []:
        if r["scenario"] != "empty":
            targets[f"sqlite_{r['scenario']}_max_le_{SQLITE_MAX_MS:g}ms"] = {
                "value": r.get("max_ms"),
                "callers": r["callers"],
                "met": r.get("max_ms") is not None and r["max_ms"] <= SQLITE_MAX_MS,
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
    for r in report.get("sqlite") or []:
        print(
            f"SQLite {SCENARIOS[r['scenario']]:<29}{r['callers']:>8}{r['ops_per_s']:>11,.0f}"
            f"{_fmt(r.get('p50_ms')):>9}{_fmt(r.get('p99_ms')):>9}"
            f"{_fmt(r.get('server_cpu_us_per_op'), 0):>11}"
            f"{_fmt(r.get('vs_empty_rpc'), 2):>10}{sum(r.get('errors', {}).values()):>10}"
            f"  max {_fmt(r.get('max_ms'))} ms"
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
    sqlite = report.get("sqlite") or []
    if sqlite:
        lines += [
            "",
            "SQLite (the embedded default, one process), same callers' code:",
            "",
            "| scenario | callers | ops/s | p50 ms | p99 ms | max ms | vs empty RPC | errors |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in sqlite:
            errors = ", ".join(f"{k} {v}" for k, v in r.get("errors", {}).items()) or "0"
            lines.append(
                f"| {SCENARIOS[r['scenario']]} | {r['callers']} | {r['ops_per_s']:,.0f} | "
                f"{_fmt(r.get('p50_ms'))} | {_fmt(r.get('p99_ms'))} | {_fmt(r.get('max_ms'))} | "
                f"{_fmt(r.get('vs_empty_rpc'), 2)} | {errors} |"
            )
    profiled = [r for r in report["results"] if r.get("profile")]
    if profiled:
        names = [C_CALLBACKS] + [layer for layer, _, _ in RULES] + [OTHER]
        lines += [
            "",
            "Server time by layer (--profile: py-spy samples holding the GIL, % of them):",
            "",
            "| scenario | callers | samples | " + " | ".join(names) + " |",
            "|---|---:|---:|" + "---:|" * len(names),
        ]
        for r in profiled:
            shares = " | ".join(f"{r['profile'].get(n, 0):.0%}" for n in names)
            lines.append(
                f"| {SCENARIOS.get(r['scenario'], r['scenario'])} | {r['callers']} | "
                f"{r.get('profile_samples', '-')} | {shares} |"
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
