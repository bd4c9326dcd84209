"""The `loyalty` console script, run as a subprocess against the real server."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import DatabaseFactory, ServerProcess

from loyalty_client import LoyaltyClient

LOYALTY = str(Path(sys.executable).parent / "loyalty")
TOKEN = "lk_cli_" + secrets.token_urlsafe(24)


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def loyalty(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
    """Runs `loyalty ARGS` with a clean LOYALTY_* environment plus ``env``."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_")}
    full_env.update(env or {})
    done = subprocess.run(
        [LOYALTY, *args],
        capture_output=True,
        text=True,
        env=full_env,
        input=stdin,
        timeout=60,
    )
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def target(loyalty_server: Any) -> str:
    return str(loyalty_server.target)


@pytest.fixture
def env(target: str) -> dict[str, str]:
    return {"LOYALTY_ADDRESS": target}


# ---------------------------------------------------------------- points


def test_points_adjust_balance_history_tables(env: dict[str, str], uid: str) -> None:
    customer = f"cus_{uid}"
    first = loyalty("points", "adjust", customer, "100", "--reason", "Welcome bonus", env=env)
    assert first.code == 0, first.err
    assert first.err == ""
    lines = first.out.splitlines()
    assert lines[0].startswith("id ") and "adj_" in lines[0]
    assert f"customer_id    {customer}" in first.out
    assert "balance_after  100" in first.out

    second = loyalty(
        "points", "adjust", customer, "-30", "--reason", "Redeemed", "--history", env=env
    )
    assert second.code == 0, second.err
    assert "balance_after  70" in second.out
    header = next(line for line in second.out.splitlines() if line.startswith("ID"))
    assert header.split() == ["ID", "CUSTOMER_ID", "DELTA", "BALANCE_AFTER", "REASON", "CREATED_AT"]
    assert "Welcome bonus" in second.out and "Redeemed" in second.out

    balance = loyalty("points", "balance", customer, env=env)
    assert balance.code == 0
    assert "balance      70" in balance.out

    history = loyalty("points", "history", customer, env=env)
    rows = history.out.splitlines()
    assert rows[0].startswith("ID")
    assert len(rows) == 3
    assert " -30 " in rows[1] and " 100 " in rows[2]  # newest first


def test_points_json(env: dict[str, str], uid: str) -> None:
    customer = f"cus_{uid}"
    adjusted = loyalty("--json", "points", "adjust", customer, "12.5", env=env)
    assert adjusted.code == 0, adjusted.err
    body = adjusted.json()
    assert body["customer_id"] == customer
    assert body["balance_after"] == "12.5"  # decimals stay exact strings
    assert body["id"].startswith("adj_")
    assert body["updated_at"].endswith("Z")
    assert body["history"] == []

    # --json after the subcommand works as well.
    for n in range(3):
        step = loyalty("points", "adjust", customer, str(n + 1), "--json", env=env)
        assert step.code == 0, step.err
    balance = loyalty("points", "balance", customer, "--history", "--json", env=env).json()
    assert balance["balance"] == "18.5"
    assert [h["delta"] for h in balance["history"]] == ["3", "2", "1", "12.5"]

    limited = loyalty("points", "history", customer, "--limit", "2", "--json", env=env).json()
    assert [h["delta"] for h in limited] == ["3", "2"]
    everything = loyalty("points", "history", customer, "--all", "--json", env=env).json()
    assert len(everything) == 4


def test_idempotency_key_flag(env: dict[str, str], uid: str) -> None:
    customer = f"cus_{uid}"
    args = ("points", "adjust", customer, "5", "--idempotency-key", f"k-{uid}", "--json")
    first = loyalty(*args, env=env).json()
    again = loyalty(*args, env=env).json()
    assert again["id"] == first["id"]
    assert (first["replayed"], again["replayed"]) == (False, True)
    table = loyalty(*args[:-1], env=env)
    assert table.code == 0, table.err
    assert "replayed       true" in table.out
    assert loyalty("points", "balance", customer, "--json", env=env).json()["balance"] == "5"
    conflict = loyalty("points", "adjust", customer, "6", "--idempotency-key", f"k-{uid}", env=env)
    assert conflict.code == 1
    assert "CONFLICT" in conflict.err


def test_points_import_csv(env: dict[str, str], target: str, uid: str, tmp_path: Path) -> None:
    customers = [f"cus_{uid}_{n}" for n in range(7)]
    rows = ["customer_id,delta,reason,idempotency_key"]
    for n in range(2500):
        rows.append(f"{customers[n % 7]},{n % 5 + 1},import row {n},row-{uid}-{n}")
    path = tmp_path / "points.csv"
    path.write_text("\n".join(rows) + "\n")
    expected = {c: Decimal(0) for c in customers}
    for n in range(2500):
        expected[customers[n % 7]] += n % 5 + 1

    done = loyalty("points", "import", str(path), env=env)
    assert done.code == 0, done.err
    assert done.out.strip() == f"Imported 2500 adjustment(s) in 3 batch(es) from {path}"
    with LoyaltyClient(target) as c:
        assert {cu: c.get_points_balance(cu).balance for cu in customers} == expected

    # The rows carry idempotency keys: running the file again applies nothing twice.
    again = loyalty("points", "import", str(path), "--batch-size", "1000", "--json", env=env)
    assert again.code == 0, again.err
    body = again.json()
    assert (body["rows"], body["imported"], body["already_applied"]) == (2500, 0, 2500)
    assert body["batches"] == 3
    assert len(body["adjustments"]) == 2500
    text = loyalty("points", "import", str(path), env=env)
    assert text.out.strip() == (
        f"Imported 0 adjustment(s) in 3 batch(es) from {path}; 2500 of its 2500 row(s) were "
        "already applied (an earlier import with the same idempotency keys) and were not "
        "applied again"
    )
    with LoyaltyClient(target) as c:
        assert {cu: c.get_points_balance(cu).balance for cu in customers} == expected


def test_points_import_without_keys_is_exactly_once(
    env: dict[str, str], target: str, uid: str, tmp_path: Path
) -> None:
    customers = [f"cus_{uid}_{n}" for n in range(3)]
    # Two identical rows are two adjustments: the line is part of the key.
    lines = ["customer_id,delta,reason"]
    lines += [f"{customers[n % 3]},{n + 1},bonus" for n in range(7)]
    lines += [f"{customers[0]},1,bonus"]
    path = tmp_path / "nokeys.csv"
    path.write_text("\n".join(lines) + "\n")
    expected = {
        customers[0]: Decimal(1 + 4 + 7 + 1),
        customers[1]: Decimal(2 + 5),
        customers[2]: Decimal(3 + 6),
    }

    first = loyalty("points", "import", str(path), "--batch-size", "3", "--json", env=env)
    assert first.code == 0, first.err
    assert (first.json()["imported"], first.json()["batches"]) == (8, 3)
    with LoyaltyClient(target) as c:
        assert {cu: c.get_points_balance(cu).balance for cu in customers} == expected
        ids = [a.id for cu in customers for a in c.iter_point_adjustments(cu)]
    assert len(ids) == 8

    again = loyalty("points", "import", str(path), "--batch-size", "2", "--json", env=env)
    assert again.code == 0, again.err
    assert sorted(a["id"] for a in again.json()["adjustments"]) == sorted(ids)
    assert (again.json()["imported"], again.json()["already_applied"]) == (0, 8)
    piped = loyalty("points", "import", "-", "--json", env=env, stdin=path.read_text())
    assert piped.code == 0, piped.err
    with LoyaltyClient(target) as c:
        assert {cu: c.get_points_balance(cu).balance for cu in customers} == expected


def test_points_import_stops_at_a_bad_batch(
    env: dict[str, str], target: str, uid: str, tmp_path: Path
) -> None:
    customer = f"cus_{uid}"
    lines = ["customer_id,delta,reason"]  # no idempotency_key column: the client makes keys
    lines += [f"{customer},1,ok"] * 3
    lines += [f"{customer},1,ok", f"{customer},oops,bad"]  # batch 2 (lines 5-6)
    lines += [f"{customer},1,ok"]
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")

    done = loyalty("points", "import", str(path), "--batch-size", "3", env=env)
    assert done.code == 1
    assert done.out == ""
    # The bad row by its CSV line (6), not by its index in the batch.
    assert done.err == (
        "loyalty: error: INVALID_DATA: CSV line 6: delta must be a non-zero number; "
        "batch 2 (CSV lines 5-7) was not applied. 3 row(s) in 1 earlier batch(es) were applied\n"
    )
    as_json = loyalty("points", "import", str(path), "--batch-size", "3", "--json", env=env)
    violations = json.loads(as_json.err)["error"]["field_violations"]
    assert [v["field"] for v in violations] == ["line 6: delta"]
    with LoyaltyClient(target) as c:
        assert c.get_points_balance(customer).balance == Decimal(3)

    # Rows without a key get one from the file's hash and their line: running the
    # same file again does not apply batch 1 a second time.
    rerun = loyalty("points", "import", str(path), "--batch-size", "3", env=env)
    assert rerun.code == 1
    assert "batch 2 (CSV lines 5-7) was not applied" in rerun.err
    assert "3 row(s) in 1 earlier batch(es) were applied (3 of them by an earlier import)" in (
        rerun.err
    )
    with LoyaltyClient(target) as c:
        assert c.get_points_balance(customer).balance == Decimal(3)

    # A rule's refusal (the server names the item) names the CSV line as well.
    overdraft = loyalty(
        "points",
        "import",
        "-",
        env=env,
        stdin=f"customer_id,delta\n\n{customer},1\n{customer},-99\n",
    )
    assert overdraft.code == 1
    assert overdraft.err.startswith(
        f"loyalty: error: NOT_ALLOWED: CSV line 4: insufficient points: customer {customer} "
    )
    assert "batch 1 (CSV lines 3-4) was not applied" in overdraft.err

    stdin = loyalty(
        "points", "import", "-", "--json", env=env, stdin=f"customer_id,delta\n{customer},2\n"
    )
    assert stdin.code == 0, stdin.err
    assert stdin.json()["imported"] == 1

    # A byte order mark (as spreadsheet programs write) is not part of the header.
    bom = tmp_path / "bom.csv"
    bom.write_bytes(f"customer_id,delta\r\n{customer},4\r\n".encode("utf-8-sig"))
    from_bom = loyalty("points", "import", str(bom), "--json", env=env)
    assert from_bom.code == 0, from_bom.err
    assert from_bom.json()["adjustments"][0]["balance_after"] == "9"

    missing = tmp_path / "nocol.csv"
    missing.write_text("customer,points\nx,1\n")
    refused = loyalty("points", "import", str(missing), env=env)
    assert refused.code == 2
    assert "customer_id" in refused.err and "delta" in refused.err
    absent = loyalty("points", "import", str(tmp_path / "nope.csv"), env=env)
    assert absent.code == 2 and "cannot read" in absent.err


# ------------------------------------------------------------ gift cards


def test_gift_cards_commands(env: dict[str, str], uid: str) -> None:
    code = f"CLI-{uid}"
    created = loyalty(
        "gift-cards",
        "create",
        "--value",
        "50",
        "--currency",
        "usd",
        "--code",
        code,
        "--note",
        "for Ann",
        "--metadata",
        '{"campaign": "spring"}',
        "--expires-at",
        "2031-01-01T00:00:00Z",
        env=env,
    )
    assert created.code == 0, created.err
    assert f"code           {code}" in created.out
    assert "status         pending" in created.out
    assert '{"campaign": "spring"}' in created.out
    assert "expires_at     2031-01-01T00:00:00Z" in created.out

    card = loyalty("gift-cards", "get", code, "--json", env=env).json()
    assert card["code"] == code
    assert (card["value"], card["balance"], card["currency_code"]) == ("50", "50", "usd")
    assert card["metadata"] == {"campaign": "spring"}
    by_id = loyalty("gift-cards", "get", card["id"], "--json", env=env).json()
    assert by_id["code"] == code

    debit = loyalty(
        "gift-cards",
        "debit",
        code,
        "10",
        "--currency",
        "usd",
        "--reference",
        "order",
        "--reference-id",
        f"order_{uid}",
        env=env,
    )
    assert debit.code == 0, debit.err
    assert "type           debit" in debit.out
    assert "balance        40" in debit.out
    credit = loyalty("gift-cards", "credit", code, "2.5", "--currency", "usd", "--json", env=env)
    assert credit.json()["balance"] == "42.5"
    assert credit.json()["transaction"]["type"] == "credit"

    txs = loyalty("gift-cards", "transactions", code, env=env)
    assert txs.code == 0, txs.err
    rows = txs.out.splitlines()
    assert rows[0].split()[:3] == ["ID", "TYPE", "AMOUNT"]
    assert "credit" in rows[1] and "debit" in rows[2]
    assert len(loyalty("gift-cards", "transactions", code, "--json", env=env).json()) == 2

    updated = loyalty(
        "gift-cards", "update", code, "--note", "for Bob", "--clear", "metadata", "--json", env=env
    ).json()
    assert (updated["note"], updated["metadata"]) == ("for Bob", None)

    listed = loyalty("gift-cards", "list", "--code", code, "--status", "pending", env=env)
    assert listed.code == 0, listed.err
    assert listed.out.splitlines()[0].split() == [
        "ID",
        "CODE",
        "STATUS",
        "VALUE",
        "BALANCE",
        "CURRENCY_CODE",
        "EXPIRES_AT",
    ]
    assert code in listed.out
    redeemed = loyalty(
        "gift-cards", "list", "--code", code, "--status", "redeemed", "--json", env=env
    )
    assert redeemed.json() == []

    soft = loyalty("gift-cards", "delete", card["id"], "--soft", "--json", env=env)
    assert soft.json() == {"soft_deleted": [card["id"]]}
    assert loyalty("gift-cards", "get", code, env=env).code == 1
    restored = loyalty("gift-cards", "restore", card["id"], env=env)
    assert restored.out.splitlines() == ["restored: 1", f"  {card['id']}"]
    deleted = loyalty("gift-cards", "delete", card["id"], "--json", env=env)
    assert deleted.json() == {"deleted": [card["id"]]}


def test_gift_cards_list_paging(env: dict[str, str], uid: str) -> None:
    owner = f"cus_{uid}"
    for n in range(4):
        made = loyalty(
            "gift-cards",
            "create",
            "--value",
            str(n + 1),
            "--currency",
            "eur",
            "--customer-id",
            owner,
            env=env,
        )
        assert made.code == 0, made.err
    page = loyalty(
        "gift-cards", "list", "--customer-id", owner, "--take", "3", "--order", "value ASC", env=env
    )
    lines = page.out.splitlines()
    assert len(lines) == 1 + 3 + 2  # header, rows, blank line, footer
    assert lines[-1] == "(showing 1-3 of 4; use --skip/--take or --all)"
    every = loyalty(
        "gift-cards",
        "list",
        "--customer-id",
        owner,
        "--all",
        "--order",
        "value DESC",
        "--json",
        env=env,
    ).json()
    assert [c["value"] for c in every] == ["4", "3", "2", "1"]


def test_options(env: dict[str, str]) -> None:
    table = loyalty("options", env=env)
    assert table.code == 0
    assert table.out.splitlines()[0].startswith("prefix")
    assert table.out.split() == ["prefix", "GIFT", "sections", "4"]
    body = loyalty("options", "--json", env=env).json()
    assert body == {"prefix": "GIFT", "sections": 4}


# ----------------------------------------------------- errors and usage


def test_errors_exit_1_with_the_message(env: dict[str, str], uid: str) -> None:
    missing = loyalty("gift-cards", "get", f"NOPE-{uid}", env=env)
    assert missing.code == 1
    assert missing.out == ""
    assert missing.err.startswith("loyalty: error: NOT_FOUND: ")
    assert f"NOPE-{uid}" in missing.err

    invalid = loyalty("points", "adjust", f"cus_{uid}", "ten", env=env)
    assert invalid.code == 1
    assert invalid.err.startswith("loyalty: error: INVALID_DATA: ")

    refused = loyalty("points", "adjust", f"cus_{uid}", "-5", "--json", env=env)
    assert refused.code == 1
    assert refused.out == ""
    error = json.loads(refused.err)["error"]
    assert (error["code"], error["reason"]) == ("FAILED_PRECONDITION", "NOT_ALLOWED")
    assert error["message"]

    bad_field = loyalty(
        "gift-cards", "create", "--value", "-1", "--currency", "usd", "--json", env=env
    )
    assert bad_field.code == 1
    violations = json.loads(bad_field.err)["error"]["field_violations"]
    assert violations and violations[0]["field"].endswith("value")


def test_usage_errors_exit_2(env: dict[str, str]) -> None:
    assert loyalty("points", "adjust", "only-one-arg", env=env).code == 2
    assert loyalty("gift-cards", "frobnicate", env=env).code == 2
    bad_json = loyalty(
        "gift-cards", "create", "--value", "1", "--currency", "usd", "--metadata", "{nope", env=env
    )
    assert bad_json.code == 2 and "--metadata" in bad_json.err
    naive = loyalty(
        "gift-cards",
        "create",
        "--value",
        "1",
        "--currency",
        "usd",
        "--expires-at",
        "2030-01-01T00:00:00",
        env=env,
    )
    assert naive.code == 2 and "time zone" in naive.err
    assert loyalty("--version").out.startswith("loyalty ")


def test_unreachable_target(uid: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{s.getsockname()[1]}"
    done = loyalty("points", "balance", f"cus_{uid}", "--target", dead, "--timeout", "2")
    assert done.code == 1
    assert done.err.startswith("loyalty: error: UNAVAILABLE: ")


def test_non_finite_timeout_is_refused(uid: str) -> None:
    for value in ("nan", "inf", "-inf", "0"):
        flag = loyalty("points", "balance", f"cus_{uid}", f"--timeout={value}")
        assert flag.code == 2, (value, flag.err)
        assert "timeout must be a positive, finite number" in flag.err
        from_env = loyalty("points", "balance", f"cus_{uid}", env={"LOYALTY_TIMEOUT": value})
        assert from_env.code == 2, (value, from_env.err)
        assert "timeout must be a positive, finite number" in from_env.err


def _dead_address() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


def test_address_flag_wins_over_environment(target: str, uid: str) -> None:
    dead = _dead_address()
    for env in ({"LOYALTY_ADDRESS": dead}, {"LOYALTY_TARGET": dead}):
        for flag in ("--address", "--target"):  # --target: the flag's former name
            before = loyalty(flag, target, "points", "balance", f"cus_{uid}", env=env)
            assert before.code == 0, (env, flag, before.err)
            after = loyalty("points", "balance", f"cus_{uid}", flag, target, env=env)
            assert after.code == 0, (env, flag, after.err)


def test_address_environment_names(target: str, uid: str) -> None:
    """LOYALTY_ADDRESS (the adapter's name too); LOYALTY_TARGET, the former name, still works
    and gives way to LOYALTY_ADDRESS when both are set."""
    args = ("points", "balance", f"cus_{uid}", "--timeout", "2")
    assert loyalty(*args, env={"LOYALTY_ADDRESS": target}).code == 0
    assert loyalty(*args, env={"LOYALTY_TARGET": target}).code == 0
    both = loyalty(*args, env={"LOYALTY_ADDRESS": target, "LOYALTY_TARGET": _dead_address()})
    assert both.code == 0, both.err
    dead = loyalty(*args, env={"LOYALTY_ADDRESS": _dead_address(), "LOYALTY_TARGET": target})
    assert dead.code == 1 and "UNAVAILABLE" in dead.err
    usage = loyalty("--help")
    assert "--address ADDRESS, --target ADDRESS" in usage.out
    assert "LOYALTY_ADDRESS" in usage.out


# ---------------------------------------------------------------- tokens


@pytest.fixture(scope="module")
def keyed_target(databases: DatabaseFactory, workdir: Path) -> Iterator[str]:
    digest = hashlib.sha256(TOKEN.encode()).hexdigest()
    server = ServerProcess(
        databases.new(), workdir, api_keys=f"cli:{digest}=loyalty:read,loyalty:write"
    ).start()
    yield server.target
    server.stop()


def test_token_from_environment_or_flag(keyed_target: str, uid: str) -> None:
    args = ("points", "adjust", f"cus_{uid}", "1", "--json")
    anonymous = loyalty(*args, "--target", keyed_target)
    assert anonymous.code == 1
    assert json.loads(anonymous.err)["error"]["reason"] == "UNAUTHORIZED"

    from_env = loyalty(*args, env={"LOYALTY_ADDRESS": keyed_target, "LOYALTY_TOKEN": TOKEN})
    assert from_env.code == 0, from_env.err
    from_flag = loyalty(*args, "--token", TOKEN, env={"LOYALTY_TARGET": keyed_target})
    assert from_flag.code == 0, from_flag.err
    assert from_flag.json()["balance_after"] == "2"

    wrong = loyalty(
        "points",
        "balance",
        f"cus_{uid}",
        "--token",
        "lk_wrong",
        env={"LOYALTY_TARGET": keyed_target},
    )
    assert wrong.code == 1
    assert wrong.err.startswith("loyalty: error: UNAUTHORIZED: ")
