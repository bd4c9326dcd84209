"""OpenTelemetry traces: a server span per RPC, child spans for database work.

Needs the `otel` extra (`pip install 'medusa-loyalty-service[otel]'`) and is off
unless configured: `--otel`, `--otel-spans-file`, or OTEL_EXPORTER_OTLP_ENDPOINT
(or its _TRACES_ form) in the environment; OTEL_SDK_DISABLED=true wins over all.
The standard OTEL_* variables choose the exporter (OTEL_TRACES_EXPORTER: otlp, the
default, console or none), its endpoint, the sampler and the service name.

A span carries ids (customer, gift card, account, hold, order), never a bearer
token, a gift card code or an idempotency key: attributes come from an allow-list
of id fields, nothing else of a request is read.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Awaitable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from opentelemetry import context as context_api
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace import SpanKind, Status, StatusCode

from .. import logs

T = TypeVar("T")

_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
# Lost a race on the one-statement path: the call takes the locking path, no failure.
_NOT_FAILURES = frozenset({"Contended"})

# gRPC codes that mean the server failed (OpenTelemetry's RPC conventions); the
# others (NOT_FOUND, INVALID_ARGUMENT...) are the caller's and leave the span unset.
SERVER_ERRORS = frozenset(
    {"UNKNOWN", "DEADLINE_EXCEEDED", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS"}
)

# Request fields that name what a call is about, and the attribute each becomes.
_IDS = {
    "customer_id": "loyalty.customer_id",
    "account_id": "loyalty.account_id",
    "gift_card_id": "loyalty.gift_card_id",
    "hold_id": "loyalty.hold_id",
    "order_id": "loyalty.order_id",
}
MAX_LISTED_IDS = 20


class JsonLinesExporter(SpanExporter):
    """Finished spans as one JSON object per line, appended to a file (each line one
    write, so several worker processes can share the file)."""

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        for span in spans:
            os.write(self._fd, (json.dumps(span_dict(span), default=str) + "\n").encode())
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def span_dict(span: ReadableSpan) -> dict[str, Any]:
    context = span.get_span_context()
    parent = span.parent
    return {
        "name": span.name,
        "kind": span.kind.name,
        "trace_id": format(context.trace_id, "032x") if context else None,
        "span_id": format(context.span_id, "016x") if context else None,
        "parent_span_id": format(parent.span_id, "016x") if parent else None,
        "start_ns": span.start_time,
        "end_ns": span.end_time,
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes or {}),
        "service": (span.resource.attributes or {}).get("service.name"),
        "pid": os.getpid(),
    }


def _resource(version: str) -> Resource:
    resource = Resource.create({"service.version": version})
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": "loyalty-server"}))
    return resource


def _environment_exporters() -> list[SpanExporter]:
    names = [
        n.strip().lower()
        for n in os.environ.get("OTEL_TRACES_EXPORTER", "otlp").split(",")
        if n.strip()
    ]
    exporters: list[SpanExporter] = []
    for name in names:
        if name == "none":
            continue
        if name == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            exporters.append(ConsoleSpanExporter())
        elif name == "otlp":
            protocol = os.environ.get(
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
            )
            if protocol and protocol.startswith("http"):
                try:
                    from opentelemetry.exporter.otlp.proto.http import (  # type: ignore[import-not-found,unused-ignore]
                        trace_exporter as http,
                    )
                except ImportError:
                    raise ValueError(
                        f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol} needs the package "
                        "opentelemetry-exporter-otlp-proto-http (the otel extra has grpc)"
                    ) from None
                exporters.append(http.OTLPSpanExporter())
            else:
                from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                    OTLPSpanExporter,
                )

                exporters.append(OTLPSpanExporter())
        else:
            raise ValueError(f"OTEL_TRACES_EXPORTER={name}: use otlp, console or none")
    return exporters


class Tracing:
    """The tracer of this process and the spans the server makes with it."""

    def __init__(
        self,
        *,
        version: str,
        spans_file: str = "",
        exporter: SpanExporter | None = None,
        set_global: bool = True,
    ) -> None:
        self.provider = TracerProvider(resource=_resource(version))
        if exporter is not None:  # tests: the SDK's InMemorySpanExporter
            self.provider.add_span_processor(SimpleSpanProcessor(exporter))
        else:
            if spans_file:
                self.provider.add_span_processor(SimpleSpanProcessor(JsonLinesExporter(spans_file)))
            if not spans_file or any(os.environ.get(v) for v in _ENDPOINT_VARIABLES):
                for each in _environment_exporters():
                    self.provider.add_span_processor(BatchSpanProcessor(each))
        if set_global:
            trace.set_tracer_provider(self.provider)
        self.tracer = self.provider.get_tracer("loyalty_server", version)
        logs.current_trace = current_ids

    # --------------------------------------------------------------- server spans

    def start_call(
        self,
        method: str,
        metadata: Iterable[tuple[str, str | bytes]] | None,
        request: Any,
    ) -> tuple[trace.Span, object]:
        """A server span for `method`, child of the caller's traceparent if any,
        made the current span; returns it and the token to `end_call` with."""
        carrier = {k: v for k, v in metadata or () if isinstance(v, str)}
        parent = propagate.extract(carrier) if carrier else None
        service, _, name = method.lstrip("/").rpartition("/")
        attributes: dict[str, Any] = {
            "rpc.system": "grpc",
            "rpc.service": service,
            "rpc.method": name,
        }
        attributes.update(request_attributes(name, request))
        span = self.tracer.start_span(
            f"{service}/{name}", context=parent, kind=SpanKind.SERVER, attributes=attributes
        )
        token = context_api.attach(trace.set_span_in_context(span))
        return span, token

    @staticmethod
    def end_call(span: trace.Span, token: object, code: str, number: int, response: Any) -> None:
        span.set_attribute("rpc.grpc.status_code", number)
        if code in SERVER_ERRORS:
            span.set_status(Status(StatusCode.ERROR, code))
        if response is not None:
            flag = getattr(response, "replayed", False)
            if flag is True:
                span.set_attribute("loyalty.replayed", True)
            elif flag is not False and any(flag):  # per item (BatchAdjustPoints)
                span.set_attribute("loyalty.replayed_items", sum(1 for f in flag if f))
        span.end()
        context_api.detach(token)  # type: ignore[arg-type]

    # ------------------------------------------------------------- database spans

    async def transaction(self, dialect: str, work: Awaitable[T]) -> T:
        with self.tracer.start_as_current_span(
            "db.transaction",
            kind=SpanKind.CLIENT,
            attributes={"db.system": dialect},
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                return await work
            except BaseException as error:
                _mark_failed(span, error)
                raise

    @contextlib.contextmanager
    def direct_span(self, pool: str) -> Iterator[trace.Span]:
        """Around one use of a direct PostgreSQL connection (store/direct.py)."""
        with self.tracer.start_as_current_span(
            "db.statement",
            kind=SpanKind.CLIENT,
            attributes={"db.system": "postgresql", "loyalty.db.pool": pool},
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                yield span
            except BaseException as error:
                _mark_failed(span, error)
                raise

    def shutdown(self) -> None:
        self.provider.shutdown()
        if logs.current_trace is current_ids:
            logs.current_trace = None


def _mark_failed(span: trace.Span, error: BaseException) -> None:
    """A domain refusal (not found, not allowed...) is an answer, not a failure of the
    database work; anything else marks the span as failed."""
    kind = type(error)
    span.set_attribute("error.type", kind.__name__)
    if not kind.__module__.endswith(".domain.errors") and kind.__name__ not in _NOT_FAILURES:
        span.set_status(Status(StatusCode.ERROR, kind.__name__))


def current_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the current span, for the JSON log lines."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def request_attributes(method: str, request: Any) -> dict[str, Any]:
    """The ids a request names, from an allow-list of fields (never codes, keys,
    tokens): top-level ids, `id` of a gift card or account method, and for batch
    requests the number of items and the distinct ids they name."""
    list_fields = getattr(request, "ListFields", None)
    if list_fields is None:  # undecoded (refused before decoding, or malformed)
        return {}
    attributes: dict[str, Any] = {}
    for field, value in list_fields():
        name = field.name
        if isinstance(value, str):
            if name in _IDS:
                attributes[_IDS[name]] = value
            elif name == "id":
                if "GiftCard" in method:
                    attributes["loyalty.gift_card_id"] = value
                elif "Account" in method:
                    attributes["loyalty.account_id"] = value
        elif field.message_type is not None and _is_repeated(field):
            attributes["loyalty.items"] = len(value)
            listed: dict[str, dict[str, None]] = {}
            for item in value:
                for inner, inner_value in item.ListFields():
                    if inner.name in _IDS and isinstance(inner_value, str):
                        ids = listed.setdefault(_IDS[inner.name], {})
                        if len(ids) < MAX_LISTED_IDS:
                            ids[inner_value] = None
            for attribute, ids in listed.items():
                attributes[attribute] = list(ids)
    return attributes


def _is_repeated(field: Any) -> bool:
    repeated = getattr(field, "is_repeated", None)  # protobuf >= 5
    if repeated is not None:
        return bool(repeated)
    return bool(field.label == field.LABEL_REPEATED)
