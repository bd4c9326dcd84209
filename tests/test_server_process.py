"""The loyalty-server process itself: migrations, refusal on an unmigrated database,
graceful shutdown, call logs, health."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import tomllib

import grpc
import pytest
from conftest import BIN, ROOT, SERVER_BIN, DatabaseFactory, ServerProcess, free_port
from grpc_health.v1 import health_pb2, health_pb2_grpc

from loyalty.v1 import loyalty_pb2 as pb
from loyalty.v1.loyalty_pb2_grpc import LoyaltyServiceStub


def test_postgres_serve_refuses_unmigrated_database(
    backend: str, databases: DatabaseFactory
) -> None:
    if backend != "postgres":
        pytest.skip("SQLite migrates itself on serve")
    url = databases.new()
    result = subprocess.run(
        [SERVER_BIN, "serve", "--listen", f"127.0.0.1:{free_port()}", "--database-url", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "loyalty-server migrate" in result.stderr
    migrated = subprocess.run(
        [SERVER_BIN, "migrate", "--database-url", url], capture_output=True, text=True, timeout=60
    )
    assert migrated.returncode == 0, migrated.stderr
    again = subprocess.run(
        [SERVER_BIN, "migrate", "--database-url", url], capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 0  # idempotent


def test_unreachable_database_is_one_clear_line(backend: str) -> None:
    if backend != "postgres":
        pytest.skip("about PostgreSQL URLs")
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing"
    result = subprocess.run(
        [SERVER_BIN, "migrate", "--database-url", url], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "cannot reach the database" in result.stderr
    assert "Traceback" not in result.stderr


def test_sigterm_lets_in_flight_calls_finish(start_server, uid: str) -> None:  # type: ignore[no-untyped-def]
    server: ServerProcess = start_server(grace_period=10)
    stop_after = threading.Event()
    results: list[object] = []

    def load() -> None:
        with server.channel() as channel:
            stub = LoyaltyServiceStub(channel)
            i = 0
            while not stop_after.is_set():
                i += 1
                try:
                    stub.AdjustPoints(
                        pb.AdjustPointsRequest(customer_id=f"cus_{uid}", delta="1"), timeout=10
                    )
                    results.append("ok")
                except grpc.RpcError as error:
                    results.append(error.code())
                    return

    workers = [threading.Thread(target=load) for _ in range(4)]
    for worker in workers:
        worker.start()
    time.sleep(1.0)
    code = server.stop()
    stop_after.set()
    for worker in workers:
        worker.join(20)
    assert code == 0
    errors = [r for r in results if r != "ok"]
    assert results.count("ok") > 10
    # After the stop, callers see UNAVAILABLE (or CANCELLED for a call that raced the
    # signal before the server took it): never a half-applied call or INTERNAL.
    assert set(errors) <= {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED}, errors
    log = server.log_text()
    assert '"msg": "shutting down"' in log and '"msg": "stopped"' in log

    # Every OK call is in the ledger, nothing more: restart and count.
    restarted = ServerProcess(server.database_url, server.log_path.parent).start()
    try:
        with restarted.channel() as channel:
            balance = LoyaltyServiceStub(channel).GetPointsBalance(
                pb.GetPointsBalanceRequest(customer_id=f"cus_{uid}"), timeout=10
            )
        assert balance.balance == str(results.count("ok"))
    finally:
        restarted.stop()


def test_one_structured_log_line_per_call_without_bodies(start_server, uid: str) -> None:  # type: ignore[no-untyped-def]
    server: ServerProcess = start_server()
    with server.channel() as channel:
        stub = LoyaltyServiceStub(channel)
        stub.AdjustPoints(
            pb.AdjustPointsRequest(customer_id=f"secret_{uid}", delta="5", reason="do-not-log-me"),
            timeout=10,
        )
        with pytest.raises(grpc.RpcError):
            stub.AdjustPoints(pb.AdjustPointsRequest(customer_id="x", delta="nope"), timeout=10)
    time.sleep(0.2)
    lines = [json.loads(line) for line in server.log_text().splitlines() if line.startswith("{")]
    calls = [
        line for line in lines if line["msg"] == "call" and line["rpc"].endswith("AdjustPoints")
    ]
    assert [c["code"] for c in calls] == ["OK", "INVALID_ARGUMENT"]
    assert all(isinstance(c["duration_ms"], float | int) for c in calls)
    assert "do-not-log-me" not in server.log_text()


def test_health_reports_serving_for_service_and_overall(loyalty_server: ServerProcess) -> None:
    with loyalty_server.channel() as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ["", "loyalty.v1.LoyaltyService"]:
            reply = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_oversized_request_is_resource_exhausted(stub: LoyaltyServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        stub.AdjustPoints(
            pb.AdjustPointsRequest(customer_id="c", delta="1", reason="x" * (2 << 20)), timeout=10
        )
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_version_is_the_distributions() -> None:
    """`loyalty-server --version` and `loyalty --version` print pyproject.toml's version."""
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    for command, name in ((SERVER_BIN, "loyalty-server"), (str(BIN / "loyalty"), "loyalty")):
        done = subprocess.run([command, "--version"], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"{name} {version}", done.stdout
