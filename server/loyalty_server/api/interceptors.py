"""Cross-cutting call handling: error mapping, undecodable requests, one log line per call."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from google.protobuf.message import DecodeError
from google.rpc import code_pb2

from ..domain.validation import MAX_METADATA_DEPTH
from ..store.db import WorkRecord, current_work
from .errors import rich_status, status_for

log = logging.getLogger("loyalty_server.calls")

Handler = Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]


class _Undecodable:
    """Stands in for a request the deserializer refused, so we can answer
    INVALID_ARGUMENT instead of gRPC's default INTERNAL."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def reason(self) -> str:
        """What is wrong, as far as the decoder tells (upb names the depth limit;
        other runtimes may not, so the fallback names both usual causes)."""
        text = str(self.error)
        if "MaxDepth" in text or "recursion" in text.lower() or "nest" in text.lower():
            return (
                "the request nests messages too deeply: metadata may nest at most "
                f"{MAX_METADATA_DEPTH} levels"
            )
        if "UTF-8" in text or isinstance(self.error, UnicodeDecodeError):
            return "the request is not a valid protobuf message: strings must be valid UTF-8"
        return (
            "the request is not a valid protobuf message (strings must be valid UTF-8, "
            f"metadata may nest at most {MAX_METADATA_DEPTH} levels)"
        )


def _tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserializer is None:
        return None

    def deserialize(data: bytes) -> Any:
        try:
            return deserializer(data)
        except (DecodeError, ValueError, UnicodeDecodeError) as error:
            return _Undecodable(error)

    return deserialize


class CallInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Wraps every unary-unary handler; streaming ones (reflection, health Watch) pass."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method
        behavior: Handler = handler.unary_unary

        async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
            started = time.perf_counter()
            peer = context.peer()
            code = "OK"
            work = WorkRecord()
            current_work.set(work)  # this call's task has its own context
            deferred = False

            def log_call(_: object = None) -> None:
                extra: dict[str, Any] = {
                    "rpc": method,
                    "code": code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "peer": peer,
                }
                if code == "CANCELLED" and work.applied is not None:
                    # The caller went away; say whether its write happened all the same.
                    extra["applied"] = work.applied
                log.info("call", extra=extra)

            try:
                if isinstance(request, _Undecodable):
                    code = "INVALID_ARGUMENT"
                    await context.abort_with_status(
                        rich_status(code_pb2.INVALID_ARGUMENT, request.reason(), "INVALID_DATA")
                    )
                return await behavior(request, context)
            except grpc.aio.AbortError:
                raise
            except asyncio.CancelledError:
                # The caller gave up (deadline, cancel) or the server is stopping;
                # CancelledError is no Exception, so say so here or the log reads OK.
                code = "CANCELLED"
                if work.pending is not None and not work.pending.done():
                    # Its transaction had begun and runs to its end: log the outcome then.
                    deferred = True
                    work.pending.add_done_callback(log_call)
                raise
            except Exception as error:
                status = status_for(error)
                code = status.code.name
                await context.abort_with_status(status)
            finally:
                if not deferred:
                    log_call()

        return grpc.unary_unary_rpc_method_handler(
            call,
            request_deserializer=_tolerant(handler.request_deserializer),
            response_serializer=handler.response_serializer,
        )
