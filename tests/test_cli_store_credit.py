"""`loyalty store-credit ...`, run as a subprocess against the real server (SQLite and
PostgreSQL): human and --json output, exit codes, error printing."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from loyalty_client import LoyaltyClient

LOYALTY = str(Path(sys.executable).parent / "loyalty")


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def loyalty(*args: str, env: dict[str, str] | None = None) -> Result:
    """Runs `loyalty ARGS` with a clean LOYALTY_* environment plus ``env``."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_")}
    full_env.update(env or {})
    done = subprocess.run(
        [LOYALTY, *args], capture_output=True, text=True, env=full_env, timeout=60
    )
    return Result(done.returncode, done.stdout, done.stderr)


def ok(*args: str, env: dict[str, str]) -> Result:
    done = loyalty(*args, env=env)
    assert done.code == 0, (args, done.err)
    assert done.err == ""
    return done


@pytest.fixture
def target(loyalty_server: Any) -> str:
    return str(loyalty_server.target)


@pytest.fixture
def env(target: str) -> dict[str, str]:
    return {"LOYALTY_TARGET": target}


def record(out: str) -> dict[str, str]:
    """The "key  value" lines of a record, as a dict."""
    pairs = [line.split(None, 1) for line in out.splitlines() if line.strip()]
    return {p[0]: (p[1] if len(p) > 1 else "") for p in pairs}


# ---------------------------------------------------------------- commands


def test_create_credit_debit_stats_transactions_void(env: dict[str, str], uid: str) -> None:
    customer = f"cus_{uid}"
    created = ok(
        "store-credit",
        "create",
        "--currency",
        "USD",
        "--customer",
        customer,
        "--metadata",
        '{"tier": "gold"}',
        env=env,
    )
    account = record(created.out)
    assert list(account) == [
        "id",
        "customer_id",
        "code",
        "currency_code",
        "balance",
        "credits",
        "debits",
        "gift_card_id",
        "metadata",
        "created_at",
        "updated_at",
        "deleted_at",
    ]
    account_id = account["id"]
    assert account_id.startswith("sc_acc_")
    assert (account["customer_id"], account["currency_code"]) == (customer, "usd")
    assert (account["balance"], account["code"]) == ("0", "")
    assert account["metadata"] == '{"tier": "gold"}'
    assert account["created_at"].endswith("Z")

    credited = ok(
        "store-credit",
        "credit",
        account_id,
        "100.50",
        "--note",
        "Welcome",
        "--reference",
        "promo",
        "--reference-id",
        f"promo_{uid}",
        "--key",
        f"welcome-{uid}",
        env=env,
    )
    tx = record(credited.out)
    assert tx["transaction"].startswith("sc_trx_")
    assert (tx["account_id"], tx["type"], tx["amount"]) == (account_id, "credit", "100.5")
    assert (tx["note"], tx["reference"], tx["reference_id"]) == ("Welcome", "promo", f"promo_{uid}")
    assert "replayed" not in tx

    # The same key again: the first answer, marked replayed, nothing applied.
    again = ok(
        "store-credit",
        "credit",
        account_id,
        "100.50",
        "--note",
        "Welcome",
        "--reference",
        "promo",
        "--reference-id",
        f"promo_{uid}",
        "--key",
        f"welcome-{uid}",
        "--json",
        env=env,
    ).json()
    assert again["replayed"] is True
    assert again["transaction"]["id"] == tx["transaction"]

    debited = ok(
        "store-credit", "debit", account_id, "20.25", "--reference", "order", "--json", env=env
    ).json()
    assert set(debited) == {"transaction", "replayed"}
    assert debited["replayed"] is False
    assert debited["transaction"]["type"] == "debit"
    assert debited["transaction"]["amount"] == "20.25"  # an exact string, not a float
    assert debited["transaction"]["note"] is None

    stats = ok("store-credit", "stats", account_id, env=env)
    assert stats.out.splitlines() == [
        f"id       {account_id}",
        "balance  80.25",
        "credits  100.5",
        "debits   20.25",
    ]
    assert ok("store-credit", "stats", account_id, "--json", env=env).json() == {
        "id": account_id,
        "balance": "80.25",
        "credits": "100.5",
        "debits": "20.25",
    }

    table = ok("store-credit", "transactions", account_id, env=env).out.splitlines()
    assert table[0].split() == [
        "ID",
        "TYPE",
        "AMOUNT",
        "REFERENCE",
        "REFERENCE_ID",
        "NOTE",
        "CREATED_AT",
    ]
    assert len(table) == 3
    assert table[1].startswith(debited["transaction"]["id"]) and " debit " in table[1]
    assert table[2].startswith(tx["transaction"]) and "Welcome" in table[2]
    only_debits = ok(
        "store-credit", "transactions", account_id, "--type", "debit", "--json", env=env
    ).json()
    assert [t["id"] for t in only_debits] == [debited["transaction"]["id"]]

    voided = ok("store-credit", "void", debited["transaction"]["id"], env=env)
    assert voided.out.splitlines() == ["voided: 1", f"  {debited['transaction']['id']}"]
    assert ok("store-credit", "stats", account_id, "--json", env=env).json()["balance"] == "100.5"
    left = ok("store-credit", "transactions", account_id, "--json", env=env).json()
    assert [t["id"] for t in left] == [tx["transaction"]]
    nothing = ok("store-credit", "void", debited["transaction"]["id"], "--json", env=env)
    assert nothing.json() == {"voided": []}

    shown = ok("store-credit", "show", account_id, "--json", env=env).json()
    assert (shown["balance"], shown["credits"], shown["debits"]) == ("100.5", "100.5", "0")
    assert shown["metadata"] == {"tier": "gold"}


def test_show_by_code_and_list_filters(env: dict[str, str], target: str, uid: str) -> None:
    codes = [f"SC{n}-{uid}" for n in range(4)]
    ids = []
    for n, code in enumerate(codes):
        made = ok(
            "store-credit",
            "create",
            "--currency",
            "eur" if n == 1 else "usd",
            "--code",
            code,
            "--json",
            env=env,
        ).json()
        assert made["code"] == code and made["customer_id"] is None
        ids.append(made["id"])
        ok("store-credit", "credit", made["id"], str(n + 1), env=env)
    by_code = record(ok("store-credit", "show", "--code", codes[2], env=env).out)
    assert (by_code["id"], by_code["code"], by_code["balance"]) == (ids[2], codes[2], "3")

    listed = ok("store-credit", "list", "--q", uid, env=env).out.splitlines()
    assert listed[0].split() == [
        "ID",
        "CUSTOMER_ID",
        "CODE",
        "CURRENCY_CODE",
        "BALANCE",
        "CREDITS",
        "DEBITS",
        "CREATED_AT",
    ]
    assert [line.split()[0] for line in listed[1:]] == ids  # oldest first by default

    page = ok("store-credit", "list", "--q", uid, "--take", "3", env=env).out.splitlines()
    assert len(page) == 1 + 3 + 2  # header, rows, blank line, footer
    assert page[-1] == "(showing 1-3 of 4; use --skip/--take)"
    rest = ok("store-credit", "list", "--q", uid, "--skip", "3", "--json", env=env).json()
    assert [a["id"] for a in rest] == ids[3:]

    usd = ok("store-credit", "list", "--q", uid, "--currency", "USD", "--json", env=env).json()
    assert [a["id"] for a in usd] == [ids[0], ids[2], ids[3]]
    richest = ok(
        "store-credit", "list", "--q", uid, "--order", "balance DESC", "--json", env=env
    ).json()
    assert [a["balance"] for a in richest] == ["4", "3", "2", "1"]
    two = ok(
        "store-credit", "list", "--code", codes[0], "--code", codes[3], "--json", env=env
    ).json()
    assert [a["id"] for a in two] == [ids[0], ids[3]]

    customer = f"cus_{uid}"
    mine = ok(
        "store-credit", "create", "--currency", "usd", "--customer", customer, "--json", env=env
    ).json()
    found = ok("store-credit", "list", "--customer", customer, "--json", env=env).json()
    assert [a["id"] for a in found] == [mine["id"]]

    with LoyaltyClient(target) as c:
        assert c.soft_delete_store_credit_accounts([ids[0]]) == (ids[0],)
    visible = ok("store-credit", "list", "--q", uid, "--json", env=env).json()
    assert ids[0] not in [a["id"] for a in visible]
    every = ok("store-credit", "list", "--q", uid, "--with-deleted", "--json", env=env).json()
    deleted = next(a for a in every if a["id"] == ids[0])
    assert deleted["deleted_at"] is not None


def test_transactions_paging(env: dict[str, str], target: str, uid: str) -> None:
    account = ok(
        "store-credit", "create", "--currency", "usd", "--code", f"P-{uid}", "--json", env=env
    ).json()
    with LoyaltyClient(target) as c:
        for n in range(5):
            c.credit_account(account["id"], n + 1)
        expected = Decimal(15)
        assert c.retrieve_account_stats(account["id"]).balance == expected
    page = ok("store-credit", "transactions", account["id"], "--take", "2", env=env)
    lines = page.out.splitlines()
    assert len(lines) == 1 + 2 + 2
    assert lines[-1] == "(showing 1-2 of 5; use --skip/--take)"
    assert [line.split()[2] for line in lines[1:3]] == ["5", "4"]  # newest first
    tail = ok(
        "store-credit",
        "transactions",
        account["id"],
        "--skip",
        "2",
        "--take",
        "2",
        "--json",
        env=env,
    ).json()
    assert [t["amount"] for t in tail] == ["3", "2"]


# ----------------------------------------------------- errors and usage


def test_errors_exit_1_with_the_message(env: dict[str, str], uid: str) -> None:
    account = ok(
        "store-credit", "create", "--currency", "usd", "--code", f"E-{uid}", "--json", env=env
    ).json()["id"]
    funding = ok("store-credit", "credit", account, "10", "--json", env=env).json()

    overdraft = loyalty("store-credit", "debit", account, "10.01", env=env)
    assert overdraft.code == 1 and overdraft.out == ""
    assert overdraft.err.startswith("loyalty: error: NOT_ALLOWED: ")
    assert "insufficient store credit" in overdraft.err

    as_json = loyalty("store-credit", "debit", account, "11", "--json", env=env)
    assert as_json.code == 1 and as_json.out == ""
    error = json.loads(as_json.err)["error"]
    assert (error["code"], error["reason"]) == ("FAILED_PRECONDITION", "NOT_ALLOWED")

    zero = loyalty("store-credit", "credit", account, "0", "--json", env=env)
    assert zero.code == 1
    violations = json.loads(zero.err)["error"]["field_violations"]
    assert [v["field"] for v in violations] == ["credits[0].amount"]
    word = loyalty("store-credit", "credit", account, "ten", env=env)
    assert word.code == 1 and word.err.startswith("loyalty: error: INVALID_DATA: ")

    key = ("--key", f"k-{uid}")
    ok("store-credit", "debit", account, "1", *key, env=env)
    conflict = loyalty("store-credit", "debit", account, "2", *key, env=env)
    assert conflict.code == 1 and conflict.err.startswith("loyalty: error: CONFLICT: ")

    # Voiding the funding credit would leave -1: refused, nothing voided.
    refused = loyalty("store-credit", "void", funding["transaction"]["id"], env=env)
    assert refused.code == 1 and refused.err.startswith("loyalty: error: NOT_ALLOWED: ")
    stats = ok("store-credit", "stats", account, "--json", env=env).json()
    assert (stats["balance"], stats["credits"], stats["debits"]) == ("9", "10", "1")

    for args in (
        ("show", f"sc_acc_missing_{uid}"),
        ("show", "--code", f"NOPE-{uid}"),
        ("stats", f"sc_acc_missing_{uid}"),
        ("credit", f"sc_acc_missing_{uid}", "1"),
    ):
        missing = loyalty("store-credit", *args, env=env)
        assert missing.code == 1, args
        assert missing.err.startswith("loyalty: error: NOT_FOUND: "), missing.err
    not_found = json.loads(loyalty("store-credit", "show", "--code", "X-1", "--json", env=env).err)
    assert not_found["error"]["reason"] == "NOT_FOUND"

    duplicate = loyalty(
        "store-credit", "create", "--currency", "usd", "--code", f"E-{uid}", env=env
    )
    assert duplicate.code == 1 and duplicate.err.startswith("loyalty: error: DUPLICATE_ERROR: ")
    bad_currency = loyalty("store-credit", "create", "--currency", "dollars", "--json", env=env)
    assert bad_currency.code == 1
    fields = json.loads(bad_currency.err)["error"]["field_violations"]
    assert [v["field"] for v in fields] == ["accounts[0].currency_code"]


def test_usage_errors_exit_2(env: dict[str, str]) -> None:
    for args in (
        ("store-credit",),
        ("store-credit", "frobnicate"),
        ("store-credit", "create"),  # --currency is required
        ("store-credit", "show"),  # neither ID nor --code
        ("store-credit", "show", "sc_acc_x", "--code", "X"),  # both
        ("store-credit", "credit", "sc_acc_x"),  # no amount
        ("store-credit", "transactions", "sc_acc_x", "--type", "refund"),
        ("store-credit", "list", "--take", "-1"),
        ("store-credit", "void"),
        ("store-credit", "create", "--currency", "usd", "--metadata", "{nope"),
        ("store-credit", "create", "--currency", "usd", "--metadata", "[1]"),
    ):
        done = loyalty(*args, env=env)
        assert done.code == 2, (args, done.err)
        assert done.out == ""
    assert (
        "--metadata"
        in loyalty(
            "store-credit", "create", "--currency", "usd", "--metadata", "{nope", env=env
        ).err
    )
    assert "store-credit" in loyalty("--help").out


def test_unreachable_target(uid: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{s.getsockname()[1]}"
    done = loyalty("store-credit", "stats", f"sc_acc_{uid}", "--target", dead, "--timeout", "2")
    assert done.code == 1
    assert done.err.startswith("loyalty: error: UNAVAILABLE: ")
