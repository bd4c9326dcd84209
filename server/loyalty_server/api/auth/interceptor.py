"""The outermost server interceptor: a call without the scope it needs goes no further.

A refused call is answered before its request is decoded and before any other
interceptor runs, and leaves exactly one log line that never holds the token.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from google.rpc import code_pb2

from .scopes import required_scope
from .tokens import Authenticator, AuthError

log = logging.getLogger("loyalty_server.auth")

Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]]


def _denying(handler: grpc.RpcMethodHandler | None, method: str, error: AuthError) -> Any:
    """A handler of the same shape as ``handler`` that logs once and aborts. The request
    is never decoded (no deserializer), so nothing of it reaches any code."""

    async def deny(request: Any, context: grpc.aio.ServicerContext) -> None:
        log.warning(
            "permission denied" if error.code == code_pb2.PERMISSION_DENIED else "auth failed",
            extra={
                "rpc": method,
                "code": "PERMISSION_DENIED"
                if error.code == code_pb2.PERMISSION_DENIED
                else "UNAUTHENTICATED",
                "why": error.log_reason,
                "peer": context.peer(),
            },
        )
        await context.abort_with_status(error.status)

    if handler is None:
        # No such method: the shape the caller used is unknown, and a stream-stream
        # handler answers any of them (it aborts before reading a message).
        return grpc.stream_stream_rpc_method_handler(deny)
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(deny)
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(deny)
    if handler.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(deny)
    return grpc.stream_stream_rpc_method_handler(deny)


class AuthInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """The outermost interceptor: a call without the scope it needs goes no further."""

    def __init__(
        self, authenticator: Authenticator, *, open_health_and_reflection: bool = True
    ) -> None:
        self._authenticator = authenticator
        self._open = open_health_and_reflection

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler:
        method: str = handler_call_details.method
        scope = required_scope(method, open_health_and_reflection=self._open)
        if scope is None:
            return await continuation(handler_call_details)
        try:
            self._authenticator.authorize(handler_call_details.invocation_metadata, scope)
        except AuthError as error:
            # An unknown method is refused like a known one: an unauthenticated caller
            # learns nothing about which methods exist (no UNIMPLEMENTED before auth).
            handler = await continuation(handler_call_details)
            return _denying(handler, method, error)
        return await continuation(handler_call_details)
