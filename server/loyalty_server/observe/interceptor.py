"""The outermost interceptor while metrics or traces are on: times, counts and
traces every unary call, including the ones authentication refuses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import grpc

if TYPE_CHECKING:
    from .metrics import Metrics
    from .tracing import Tracing


def _code(context: grpc.aio.ServicerContext, default: str) -> tuple[str, int]:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.name, int(code.value[0])
    if isinstance(code, int):
        for each in grpc.StatusCode:
            if each.value[0] == code:
                return each.name, code
    return default, _NUMBERS[default]


_NUMBERS = {code.name: int(code.value[0]) for code in grpc.StatusCode}
HEALTH = "/grpc.health.v1.Health/"


class ObserveInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    def __init__(self, metrics: Metrics | None, tracing: Tracing | None) -> None:
        self._metrics = metrics
        self._tracing = tracing

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        # Unknown methods (None, or auth's catch-all stream handler) and streams pass:
        # the method label only ever takes the names of registered unary methods.
        if handler is None or handler.unary_unary is None:
            return handler
        method: str = details.method
        metadata = details.invocation_metadata
        behavior = handler.unary_unary
        metrics, tracing = self._metrics, self._tracing
        if method.startswith(HEALTH):  # probes, every few seconds: counted, not traced
            tracing = None
        instruments = metrics.call(method) if metrics is not None else None

        async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
            started = time.perf_counter()
            if instruments is not None:
                instruments.in_flight.inc()
            span = token = None
            if tracing is not None:
                span, token = tracing.start_call(method, metadata, request)
            response = None
            code = "UNKNOWN"
            try:
                response = await behavior(request, context)
                code = "OK"
                return response
            except asyncio.CancelledError:
                code = "CANCELLED"
                raise
            finally:
                name, number = _code(context, code)
                if instruments is not None:
                    instruments.in_flight.dec()
                    assert metrics is not None
                    metrics.finished(instruments, name, time.perf_counter() - started, response)
                if span is not None:
                    assert tracing is not None
                    tracing.end_call(span, token, name, number, response)

        return grpc.unary_unary_rpc_method_handler(
            call,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
