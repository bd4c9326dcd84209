"""OpenTelemetry traces: a caller's W3C traceparent becomes the parent of the
server's span; the span names the method, the code and the ids, never a token, a
gift card code or an idempotency key; database work is a child span; the JSON
log lines carry the trace id. The caller's side uses the SDK's InMemorySpanExporter;
the real server process writes its spans as JSON lines (--otel-spans-file), and
an in-process server shows the same with an InMemorySpanExporter of its own."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from conftest import ServerProcess
from opentelemetry import propagate
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, set_span_in_context

from loyalty.v1 import loyalty_pb2 as pb
from loyalty.v1.loyalty_pb2_grpc import LoyaltyServiceStub
from loyalty_server.config import Settings
from loyalty_server.observe import Observability, tracing_wanted
from loyalty_server.observe.tracing import Tracing, request_attributes

SERVICE = "loyalty.v1.LoyaltyService"


@pytest.fixture
def caller() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    """The calling side: its own tracer provider with the SDK's in-memory exporter."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


def traced_metadata(span: Any) -> list[tuple[str, str]]:
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=set_span_in_context(span))
    assert "traceparent" in carrier
    return list(carrier.items())


def read_spans(path: Path, last: str, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The server's spans up to the one named `last` (each is written as it ends)."""
    deadline = time.monotonic() + timeout
    while True:
        spans = [json.loads(line) for line in path.read_text().splitlines()]
        if any(s["name"] == last for s in spans) or time.monotonic() > deadline:
            return spans
        time.sleep(0.05)


def test_tracing_is_configured_only_when_asked() -> None:
    off = Settings()
    assert not tracing_wanted(off, environ={})
    assert tracing_wanted(Settings(otel=True), environ={})
    assert tracing_wanted(Settings(otel_spans_file="/tmp/x"), environ={})
    assert tracing_wanted(off, environ={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317"})
    assert tracing_wanted(off, environ={"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4317"})
    assert not tracing_wanted(
        Settings(otel=True),
        environ={"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "x"},
    )


def test_span_attributes_are_ids_only() -> None:
    by_code = pb.DebitGiftCardRequest(
        code="SECRET-CODE-1234", amount="5", currency_code="eur", idempotency_key="KEY-42"
    )
    assert request_attributes("DebitGiftCard", by_code) == {}
    by_id = pb.DebitGiftCardRequest(id="gcard_1", amount="5", currency_code="eur")
    assert request_attributes("DebitGiftCard", by_id) == {"loyalty.gift_card_id": "gcard_1"}
    adjust = pb.AdjustPointsRequest(customer_id="cus_1", delta="1", idempotency_key="KEY-1")
    assert request_attributes("AdjustPoints", adjust) == {"loyalty.customer_id": "cus_1"}
    credits = pb.CreditAccountsRequest(
        credits=[
            pb.AccountEntryInput(account_id="sc_acc_1", amount="1", idempotency_key="K"),
            pb.AccountEntryInput(account_id="sc_acc_2", amount="1"),
            pb.AccountEntryInput(account_id="sc_acc_1", amount="2"),
        ]
    )
    assert request_attributes("CreditAccounts", credits) == {
        "loyalty.items": 3,
        "loyalty.account_id": ["sc_acc_1", "sc_acc_2"],
    }
    assert request_attributes("CreditAccounts", b"undecoded") == {}


def test_no_trace_ids_without_tracing(loyalty_server: ServerProcess, uid: str) -> None:
    with loyalty_server.channel() as channel:
        LoyaltyServiceStub(channel).AdjustPoints(
            pb.AdjustPointsRequest(customer_id=f"plain-{uid}", delta="1"), timeout=10
        )
    assert '"trace_id"' not in loyalty_server.log_text()


def test_callers_traceparent_is_the_server_spans_parent(
    start_server: Callable[..., ServerProcess],
    caller: tuple[TracerProvider, InMemorySpanExporter],
    tmp_path: Path,
    backend: str,
    uid: str,
) -> None:
    spans_file = tmp_path / "spans.jsonl"
    server = start_server(otel_spans_file=str(spans_file))
    provider, exported = caller
    tracer = provider.get_tracer("test-caller")
    customer = f"traced-{uid}"
    code = f"SECRET{uid}".upper()
    with server.channel() as channel:
        stub = LoyaltyServiceStub(channel)
        stub.CreateGiftCards(
            pb.CreateGiftCardsRequest(
                gift_cards=[pb.CreateGiftCardInput(code=code, value="20", currency_code="eur")]
            ),
            timeout=10,
        )
        with tracer.start_as_current_span("checkout", kind=SpanKind.CLIENT) as span:
            metadata = traced_metadata(span)
            stub.AdjustPoints(
                pb.AdjustPointsRequest(
                    customer_id=customer, delta="10", idempotency_key=f"key-{uid}"
                ),
                timeout=10,
                metadata=metadata,
            )
            stub.DebitGiftCard(
                pb.DebitGiftCardRequest(
                    code=code, amount="5", currency_code="eur", idempotency_key=f"gkey-{uid}"
                ),
                timeout=10,
                metadata=metadata,
            )
            with pytest.raises(grpc.RpcError) as missing:
                stub.RetrieveGiftCard(
                    pb.RetrieveGiftCardRequest(id=f"gcard_none{uid}"),
                    timeout=10,
                    metadata=metadata,
                )
            assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    [checkout] = exported.get_finished_spans()
    trace_id = format(checkout.context.trace_id, "032x")
    span_id = format(checkout.context.span_id, "016x")

    spans = read_spans(spans_file, last=f"{SERVICE}/RetrieveGiftCard")
    server_spans = {s["attributes"]["rpc.method"]: s for s in spans if s["kind"] == "SERVER"}
    assert "Check" not in server_spans  # health checks (probes) make no spans
    adjust = server_spans["AdjustPoints"]
    assert adjust["trace_id"] == trace_id  # one trace, from the caller into the server
    assert adjust["parent_span_id"] == span_id
    assert adjust["name"] == f"{SERVICE}/AdjustPoints"
    assert adjust["attributes"]["rpc.system"] == "grpc"
    assert adjust["attributes"]["rpc.grpc.status_code"] == 0
    assert adjust["attributes"]["loyalty.customer_id"] == customer
    debit = server_spans["DebitGiftCard"]
    assert debit["trace_id"] == trace_id and debit["parent_span_id"] == span_id
    retrieve = server_spans["RetrieveGiftCard"]
    assert retrieve["attributes"]["rpc.grpc.status_code"] == grpc.StatusCode.NOT_FOUND.value[0]
    assert retrieve["status"] == "UNSET"  # the caller's mistake, not the server's failure
    assert retrieve["attributes"]["loyalty.gift_card_id"] == f"gcard_none{uid}"
    # The untraced call started a trace of its own.
    assert server_spans["CreateGiftCards"]["trace_id"] != trace_id
    assert server_spans["CreateGiftCards"]["parent_span_id"] is None

    # Database work: child spans of the call that did it.
    children = [s for s in spans if s["kind"] == "CLIENT" and s["trace_id"] == trace_id]
    parents = {s["parent_span_id"] for s in children}
    assert debit["span_id"] in parents
    assert all(s["attributes"]["db.system"] in {"sqlite", "postgresql"} for s in children)
    if backend == "sqlite":
        assert adjust["span_id"] in parents

    # Secrets never reach a span: not the code, not the idempotency keys.
    text = spans_file.read_text()
    for secret in (code, f"key-{uid}", f"gkey-{uid}"):
        assert secret not in text

    # The call's log line carries the trace and span ids.
    lines = [json.loads(line) for line in server.log_text().splitlines() if '"call"' in line]
    adjusted = [
        line
        for line in lines
        if line.get("rpc") == f"/{SERVICE}/AdjustPoints" and line.get("trace_id") == trace_id
    ]
    assert adjusted and adjusted[0]["span_id"] == adjust["span_id"]


def test_in_process_server_with_in_memory_exporter(
    tmp_path: Path, caller: tuple[TracerProvider, InMemorySpanExporter], uid: str
) -> None:
    """The server app in this process, its tracer writing to an InMemorySpanExporter."""
    from loyalty_server.app import LoyaltyApp

    server_spans = InMemorySpanExporter()
    tracing = Tracing(version="test", exporter=server_spans, set_global=False)
    settings = Settings(listen="127.0.0.1:0", database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    from loyalty_server.store import migrate

    migrate.upgrade(settings.database_url)
    provider, exported = caller

    async def run() -> None:
        app = LoyaltyApp(settings, observe=Observability(None, tracing))
        await app.start()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
                stub = LoyaltyServiceStub(channel)
                with provider.get_tracer("t").start_as_current_span("route") as span:
                    await stub.AdjustPoints(
                        pb.AdjustPointsRequest(customer_id=f"mem-{uid}", delta="3"),
                        metadata=traced_metadata(span),
                        timeout=10,
                    )
        finally:
            await app.stop()

    asyncio.run(run())
    [route] = exported.get_finished_spans()
    spans = server_spans.get_finished_spans()
    [server] = [s for s in spans if s.kind == SpanKind.SERVER]
    assert server.context.trace_id == route.context.trace_id
    assert server.parent is not None and server.parent.span_id == route.context.span_id
    assert server.attributes is not None
    assert server.attributes["loyalty.customer_id"] == f"mem-{uid}"
    [db] = [s for s in spans if s.name == "db.transaction"]
    assert db.parent is not None and db.parent.span_id == server.context.span_id
