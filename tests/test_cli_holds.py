"""`loyalty points hold|capture|release|get-hold|holds|earn|reverse|order`, run as a
subprocess against the real server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from test_cli import Result, loyalty


@pytest.fixture
def env(loyalty_server: Any) -> dict[str, str]:
    return {"LOYALTY_ADDRESS": str(loyalty_server.target)}


def ok(*args: str, env: dict[str, str]) -> Result:
    done = loyalty(*args, env=env)
    assert done.code == 0, done.err
    assert done.err == ""
    return done


def record(out: str) -> dict[str, str]:
    pairs = (line.split(None, 1) for line in out.splitlines() if line.strip())
    return {p[0]: (p[1] if len(p) > 1 else "") for p in pairs}


def test_hold_capture_release_and_list(env: dict[str, str], uid: str) -> None:
    customer = f"cus_{uid}"
    ok("points", "adjust", customer, "100", env=env)
    held = record(
        ok(
            "points", "hold", customer, "30", "--reference", "cart", "--reference-id",
            f"cart_{uid}", "--idempotency-key", f"hold-{uid}", env=env,
        ).out
    )  # fmt: skip
    assert held["id"].startswith("phold_")
    assert (held["points"], held["status"], held["available"]) == ("30", "active", "70")
    assert "replayed" not in held
    again = record(
        ok(
            "points", "hold", customer, "30", "--reference", "cart", "--reference-id",
            f"cart_{uid}", "--idempotency-key", f"hold-{uid}", env=env,
        ).out
    )  # fmt: skip
    assert (again["id"], again["replayed"]) == (held["id"], "true")

    balance = record(ok("points", "balance", customer, env=env).out)
    assert (balance["balance"], balance["held"], balance["available"]) == ("100", "30", "70")

    too_much = loyalty("points", "hold", customer, "71", env=env)
    assert too_much.code == 1
    assert too_much.err.startswith("loyalty: error: NOT_ALLOWED: insufficient points")

    captured = record(ok("points", "capture", held["id"], "--points", "25", env=env).out)
    assert (captured["status"], captured["captured_points"]) == ("captured", "25")
    assert (captured["delta"], captured["balance_after"]) == ("-25", "75")
    replay = ok("points", "capture", held["id"], "--json", env=env).json()
    assert replay["replayed"] is True
    assert replay["adjustment"]["id"] == captured["adjustment"]

    shown = ok("points", "get-hold", held["id"], "--json", env=env).json()
    assert shown["status"] == "captured" and shown["adjustment_id"] == captured["adjustment"]
    refused = loyalty("points", "release", held["id"], "--json", env=env)
    assert refused.code == 1
    assert json.loads(refused.err)["error"]["reason"] == "NOT_ALLOWED"

    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    other = ok("points", "hold", customer, "5", "--expires-at", tomorrow, "--json", env=env).json()
    assert other["hold"]["expires_at"] == tomorrow
    assert other["hold"]["status"] == "active"
    released = record(ok("points", "release", other["hold"]["id"], env=env).out)
    assert released["status"] == "released"

    table = ok("points", "holds", customer, env=env).out.splitlines()
    assert table[0].split() == ["ID", "POINTS", "STATUS", "REFERENCE", "REFERENCE_ID", "EXPIRES_AT"]
    assert [line.split()[0] for line in table[1:]] == [other["hold"]["id"], held["id"]]
    assert ok("points", "holds", customer, "--active", "--json", env=env).json() == []
    by_cart = ok("points", "holds", customer, "--reference-id", f"cart_{uid}", "--json", env=env)
    assert [h["id"] for h in by_cart.json()] == [held["id"]]
    assert len(ok("points", "holds", customer, "--limit", "1", "--json", env=env).json()) == 1

    naive = loyalty("points", "hold", customer, "1", "--expires-at", "2099-01-01T00:00", env=env)
    assert naive.code == 2 and "time zone" in naive.err
    missing = loyalty("points", "get-hold", "phold_01J0000000000000000000000", env=env)
    assert missing.code == 1 and missing.err.startswith("loyalty: error: NOT_FOUND: ")


def test_order_points(env: dict[str, str], uid: str) -> None:
    customer, order = f"cus_{uid}", f"order_{uid}"
    earned = record(ok("points", "earn", customer, order, "40", "--reason", "order", env=env).out)
    assert (earned["earned"], earned["reversed"], earned["balance_after"]) == ("40", "0", "40")
    again = ok("points", "earn", customer, order, "40", "--json", env=env).json()
    assert again["replayed"] is True and again["adjustment"]["id"] == earned["adjustment"]
    conflict = loyalty("points", "earn", customer, order, "41", env=env)
    assert conflict.code == 1 and conflict.err.startswith("loyalty: error: CONFLICT: ")

    refund = record(
        ok(
            "points", "reverse", customer, order, "--points", "10", "--idempotency-key",
            "refund_1", env=env,
        ).out
    )  # fmt: skip
    assert (refund["reversed_now"], refund["reversed"], refund["balance_after"]) == (
        "10",
        "10",
        "30",
    )
    cancel = ok(
        "points", "reverse", customer, order, "--idempotency-key", "cancel", "--json", env=env
    ).json()
    assert cancel["reversed"] == "30" and cancel["order"]["reversed"] == "40"
    nothing = record(
        ok("points", "reverse", customer, order, "--idempotency-key", "cancel-2", env=env).out
    )
    assert (nothing["reversed_now"], nothing["adjustment"]) == ("0", "")

    shown = record(ok("points", "order", customer, order, env=env).out)
    assert (shown["earned"], shown["reversed"]) == ("40", "40")

    no_key = loyalty("points", "reverse", customer, order, env=env)
    assert no_key.code == 2 and "--idempotency-key" in no_key.err
    unknown = loyalty("points", "order", customer, f"{order}_none", env=env)
    assert unknown.code == 1 and unknown.err.startswith("loyalty: error: NOT_FOUND: ")
