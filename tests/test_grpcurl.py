"""End to end with the real grpcurl binary, the way the README shows it."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from conftest import ServerProcess

SERVICE = "loyalty.v1.LoyaltyService"


def grpcurl(
    binary: str, target: str, *args: str, data: dict[str, Any] | None = None
) -> subprocess.CompletedProcess[str]:
    command = [binary, "-plaintext", "-format-error"]
    if data is not None:
        command += ["-d", json.dumps(data)]
    command += [target, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=30)


def ok(binary: str, target: str, method: str, data: dict[str, Any]) -> dict[str, Any]:
    result = grpcurl(binary, target, f"{SERVICE}/{method}", data=data)
    assert result.returncode == 0, result.stderr + result.stdout
    reply: dict[str, Any] = json.loads(result.stdout)
    return reply


def error(binary: str, target: str, method: str, data: dict[str, Any]) -> dict[str, Any]:
    result = grpcurl(binary, target, f"{SERVICE}/{method}", data=data)
    assert result.returncode != 0, result.stdout
    reply: dict[str, Any] = json.loads(result.stderr)  # -format-error: the status as JSON
    return reply


def test_list_and_describe(grpcurl_bin: str, loyalty_server: ServerProcess) -> None:
    listed = grpcurl(grpcurl_bin, loyalty_server.target, "list")
    assert listed.returncode == 0, listed.stderr
    services = listed.stdout.split()
    assert {SERVICE, "grpc.health.v1.Health"} <= set(services)
    assert any("reflection" in s for s in services)
    described = grpcurl(grpcurl_bin, loyalty_server.target, "describe", SERVICE)
    assert described.returncode == 0
    for rpc in [
        "AdjustPoints",
        "GetPointsBalance",
        "ListPointAdjustments",
        "CreateGiftCards",
        "DebitGiftCard",
        "ListGiftCards",
        "GetOptions",
        "BatchAdjustPoints",
    ]:
        assert f"rpc {rpc}" in described.stdout
    message = grpcurl(
        grpcurl_bin, loyalty_server.target, "describe", "loyalty.v1.AdjustPointsRequest"
    )
    assert "string customer_id = 1" in message.stdout
    health = grpcurl(grpcurl_bin, loyalty_server.target, "grpc.health.v1.Health/Check")
    assert json.loads(health.stdout) == {"status": "SERVING"}


def test_describe_method_and_field(grpcurl_bin: str, loyalty_server: ServerProcess) -> None:
    """Method symbols resolve through reflection whatever the protobuf runtime (upb does not
    index them), as the README shows."""
    described = grpcurl(grpcurl_bin, loyalty_server.target, "describe", f"{SERVICE}.AdjustPoints")
    assert described.returncode == 0, described.stderr
    assert f"{SERVICE}.AdjustPoints is a method" in described.stdout
    assert "rpc AdjustPoints ( .loyalty.v1.AdjustPointsRequest )" in described.stdout
    field = grpcurl(
        grpcurl_bin, loyalty_server.target, "describe", "loyalty.v1.AdjustPointsRequest.delta"
    )
    assert field.returncode == 0, field.stderr
    assert "is a field" in field.stdout
    missing = grpcurl(grpcurl_bin, loyalty_server.target, "describe", f"{SERVICE}.NoSuchMethod")
    assert missing.returncode != 0
    assert "not found" in missing.stderr.lower()


def test_points_scenario(grpcurl_bin: str, loyalty_server: ServerProcess, uid: str) -> None:
    target, customer = loyalty_server.target, f"cus_{uid}"
    first = ok(
        grpcurl_bin,
        target,
        "AdjustPoints",
        {"customer_id": customer, "delta": "100", "reason": "Welcome bonus"},
    )
    assert set(first) == {"id", "customer_id", "balance_after", "updated_at"}
    assert first["balance_after"] == "100"
    second = ok(
        grpcurl_bin,
        target,
        "AdjustPoints",
        {
            "customer_id": customer,
            "delta": "-50",
            "reason": "Redeemed for discount",
            "include_history": True,
        },
    )
    assert second["balance_after"] == "50"
    assert [(h["delta"], h["reason"], h["balance_after"]) for h in second["history"]] == [
        ("-50", "Redeemed for discount", "50"),
        ("100", "Welcome bonus", "100"),
    ]
    assert set(second["history"][0]) == {
        "id",
        "customer_id",
        "delta",
        "reason",
        "balance_after",
        "created_at",
    }

    refused = error(grpcurl_bin, target, "AdjustPoints", {"customer_id": customer, "delta": "-60"})
    assert refused["code"] == 9  # FAILED_PRECONDITION
    assert refused["message"].startswith("insufficient points")
    assert refused["details"][0]["reason"] == "NOT_ALLOWED"
    balance = ok(grpcurl_bin, target, "GetPointsBalance", {"customer_id": customer})
    assert balance["balance"] == "50"

    for delta in ["0", "abc", "NaN", "1e5", ""]:
        invalid = error(
            grpcurl_bin, target, "AdjustPoints", {"customer_id": customer, "delta": delta}
        )
        assert invalid["code"] == 3 and invalid["message"].startswith(
            "delta must be a non-zero number"
        )
        reasons = {d["@type"].rsplit(".", 1)[1]: d for d in invalid["details"]}
        assert reasons["ErrorInfo"]["reason"] == "INVALID_DATA"
        assert reasons["BadRequest"]["field_violations"][0]["field"] == "delta"
    # A number in another notation: the message says what to send instead.
    for delta, plain in [("1e3", "1000"), ("+5", "5"), (" 10", "10")]:
        invalid = error(
            grpcurl_bin, target, "AdjustPoints", {"customer_id": customer, "delta": delta}
        )
        assert invalid["message"] == (
            f'delta must be a non-zero number in plain decimal notation, as "{plain}"'
            ' (no exponent, "+", spaces or "_")'
        )

    listed = ok(
        grpcurl_bin, target, "ListPointAdjustments", {"customer_id": customer, "page_size": 1}
    )
    assert len(listed["point_adjustments"]) == 1 and listed["next_page_token"]


def test_gift_card_walkthrough(grpcurl_bin: str, loyalty_server: ServerProcess, uid: str) -> None:
    target = loyalty_server.target
    created = ok(
        grpcurl_bin,
        target,
        "CreateGiftCards",
        {
            "gift_cards": [
                {"value": "50", "currency_code": "USD", "reference_id": f"order_{uid}"},
                {
                    "code": f"WELCOME-{uid}",
                    "value": "20",
                    "currency_code": "usd",
                    "reference_id": f"order_{uid}",
                    "expires_at": "2030-12-31T23:59:59Z",
                    "metadata": {"campaign": "welcome"},
                },
            ]
        },
    )["gift_cards"]
    assert (
        created[0]["code"].startswith("GIFT-")
        and created[0]["status"] == "GIFT_CARD_STATUS_PENDING"
    )
    assert created[1]["metadata"] == {"campaign": "welcome"}
    by_code = ok(grpcurl_bin, target, "RetrieveGiftCard", {"code": f"WELCOME-{uid}"})
    assert by_code["id"] == created[1]["id"]
    listed = ok(
        grpcurl_bin,
        target,
        "ListGiftCards",
        {"reference_id": [f"order_{uid}"], "with_count": True, "order": "value DESC"},
    )
    assert listed["count"] == 2 and [c["value"] for c in listed["gift_cards"]] == ["50", "20"]

    spent = ok(
        grpcurl_bin,
        target,
        "DebitGiftCard",
        {"code": f"WELCOME-{uid}", "amount": "15", "currency_code": "usd"},
    )
    assert (
        spent["balance"] == "5"
        and spent["transaction"]["type"] == "GIFT_CARD_TRANSACTION_TYPE_DEBIT"
    )
    redeemed = ok(
        grpcurl_bin,
        target,
        "DebitGiftCard",
        {"code": f"WELCOME-{uid}", "amount": "5", "currency_code": "usd"},
    )
    assert redeemed["balance"] == "0" and redeemed["status"] == "GIFT_CARD_STATUS_REDEEMED"
    refused = error(
        grpcurl_bin,
        target,
        "DebitGiftCard",
        {"code": f"WELCOME-{uid}", "amount": "1", "currency_code": "usd"},
    )
    assert refused["code"] == 9 and "redeemed" in refused["message"]
    missing = error(grpcurl_bin, target, "RetrieveGiftCard", {"id": "gcard_missing"})
    assert (
        missing["code"] == 5
        and missing["message"] == "Gift card with id: gcard_missing was not found"
    )
    options = ok(grpcurl_bin, target, "GetOptions", {})
    assert options == {"prefix": "GIFT", "sections": 4}
