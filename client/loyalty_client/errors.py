"""The client's exception hierarchy, built from a gRPC status and its details.

The server sends a ``google.rpc.Status`` in the ``grpc-status-details-bin`` trailer with
one ``google.rpc.ErrorInfo`` (domain ``loyalty.v1``) whose ``reason`` picks the class,
and for bad input a ``google.rpc.BadRequest`` whose field violations are kept. When
there is no ErrorInfo (a dead connection, a deadline, a proxy), the status code picks
the class.
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2, status_pb2  # type: ignore[import-untyped, unused-ignore]
from grpc_status import rpc_status

from .types import FieldViolation

DOMAIN = "loyalty.v1"
_DETAILS_KEY = "grpc-status-details-bin"


class LoyaltyError(Exception):
    """Any error from the loyalty service (or from reaching it).

    ``code`` is the gRPC status code, ``reason`` the ErrorInfo reason (None when the
    status carried none), ``message`` the status message and ``field_violations`` the
    bad input fields (empty unless the server sent a BadRequest).
    """

    #: The ErrorInfo reason this class stands for.
    REASON: str | None = None

    def __init__(
        self,
        message: str,
        *,
        code: grpc.StatusCode = grpc.StatusCode.UNKNOWN,
        reason: str | None = None,
        field_violations: tuple[FieldViolation, ...] = (),
        metadata: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.reason = reason
        self.field_violations = field_violations
        #: ErrorInfo.metadata, e.g. {"field": "delta"}.
        self.metadata: dict[str, str] = dict(metadata or {})

    def __str__(self) -> str:
        text = f"{self.reason or self.code.name}: {self.message}"
        extra = [v for v in self.field_violations if v.description not in self.message]
        if extra:
            fields = "; ".join(f"{v.field}: {v.description}" for v in extra)
            text = f"{text} ({fields})"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, code={self.code.name}, "
            f"reason={self.reason!r}, field_violations={self.field_violations!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep the keyword-only attributes when pickled (e.g. across processes).
        return (
            _rebuild,
            (
                type(self),
                self.message,
                self.code,
                self.reason,
                self.field_violations,
                self.metadata,
            ),
        )


def _rebuild(
    cls: type[LoyaltyError],
    message: str,
    code: grpc.StatusCode,
    reason: str | None,
    field_violations: tuple[FieldViolation, ...],
    metadata: dict[str, str],
) -> LoyaltyError:
    return cls(
        message, code=code, reason=reason, field_violations=field_violations, metadata=metadata
    )


class InvalidData(LoyaltyError):
    """Bad input (INVALID_ARGUMENT / INVALID_DATA); see ``field_violations``."""

    REASON = "INVALID_DATA"


class NotFound(LoyaltyError):
    """The customer, gift card or transaction does not exist."""

    REASON = "NOT_FOUND"


class NotAllowed(LoyaltyError):
    """A rule refuses the write: insufficient balance, expired or redeemed card, ..."""

    REASON = "NOT_ALLOWED"


class Duplicate(LoyaltyError):
    """A gift card with that code already exists."""

    REASON = "DUPLICATE_ERROR"


class Conflict(LoyaltyError):
    """An idempotency key was reused with a different request body."""

    REASON = "CONFLICT"


class Unauthorized(LoyaltyError):
    """No token, or the server did not accept it."""

    REASON = "UNAUTHORIZED"


class Forbidden(LoyaltyError):
    """The token is valid but lacks the scope for this call."""

    REASON = "FORBIDDEN"


class Unavailable(LoyaltyError):
    """The service (or its database) cannot be reached; safe calls are retried first."""

    REASON = "UNAVAILABLE"


class Busy(LoyaltyError):
    """The service is healthy but saturated (no database connection or queue place free
    in time: RESOURCE_EXHAUSTED, reason BUSY); safe calls are retried first."""

    REASON = "BUSY"


class InvalidResponse(LoyaltyError, ValueError):
    """The server's answer breaks the contract, e.g. a required amount that is empty,
    not a decimal, NaN or infinite. Raised by the client itself (code INTERNAL); it
    is also a ValueError. Never retried."""

    REASON = None

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("code", grpc.StatusCode.INTERNAL)
        super().__init__(message, **kwargs)


class DeadlineExceeded(LoyaltyError):
    """The call did not finish within its deadline. A write may or may not be applied."""

    REASON = None


_BY_REASON: dict[str, type[LoyaltyError]] = {
    cls.REASON: cls
    for cls in (
        InvalidData,
        NotFound,
        NotAllowed,
        Duplicate,
        Conflict,
        Unauthorized,
        Forbidden,
        Unavailable,
        Busy,
    )
    if cls.REASON is not None
}

_BY_CODE: dict[grpc.StatusCode, type[LoyaltyError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidData,
    grpc.StatusCode.OUT_OF_RANGE: InvalidData,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.FAILED_PRECONDITION: NotAllowed,
    grpc.StatusCode.ALREADY_EXISTS: Duplicate,
    grpc.StatusCode.ABORTED: Conflict,
    grpc.StatusCode.UNAUTHENTICATED: Unauthorized,
    grpc.StatusCode.PERMISSION_DENIED: Forbidden,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
}


def _rich_status(call: Any) -> status_pb2.Status | None:
    """The google.rpc.Status of a failed call, or None.

    ``call`` is a ``grpc.RpcError`` from a sync call or a ``grpc.aio.AioRpcError``:
    both answer code(), details() and trailing_metadata() synchronously. A trailer
    that does not parse is ignored (None): the status code then picks the class.
    """
    try:
        status: status_pb2.Status | None = rpc_status.from_call(call)
        return status
    except DecodeError:
        return None
    except ValueError:
        # The trailer disagrees with the status (a proxy rewrote it?): still use the
        # details, they are the server's own words.
        for key, value in call.trailing_metadata() or ():
            if key == _DETAILS_KEY:
                try:
                    return status_pb2.Status.FromString(value)
                except DecodeError:
                    return None
        return None


def _unpack(detail: Any, into: Any) -> bool:
    """Unpacks one detail; a garbled one is skipped (False) rather than raised."""
    try:
        return bool(detail.Unpack(into))
    except DecodeError:
        return False


def error_from_status(
    code: grpc.StatusCode, message: str, status: status_pb2.Status | None
) -> LoyaltyError:
    """Builds the exception for a status code, message and optional rich status."""
    reason: str | None = None
    metadata: dict[str, str] = {}
    violations: list[FieldViolation] = []
    if status is not None:
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                if not _unpack(detail, info):
                    continue
                if info.domain == DOMAIN and reason is None:
                    reason = info.reason
                    metadata = dict(info.metadata)
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                if not _unpack(detail, bad):
                    continue
                violations.extend(
                    FieldViolation(v.field, v.description, v.reason) for v in bad.field_violations
                )
    cls = _BY_REASON.get(reason or "") or _BY_CODE.get(code, LoyaltyError)
    return cls(
        message,
        code=code,
        reason=reason,
        field_violations=tuple(violations),
        metadata=metadata,
    )


def error_from_rpc_error(error: grpc.RpcError) -> LoyaltyError:
    """Maps a failed call (sync ``grpc.RpcError`` or ``grpc.aio.AioRpcError``)."""
    code = error.code()
    if not isinstance(code, grpc.StatusCode):
        code = grpc.StatusCode.UNKNOWN
    message = error.details() or code.name
    return error_from_status(code, str(message), _rich_status(error))


__all__ = [
    "Busy",
    "Conflict",
    "DeadlineExceeded",
    "Duplicate",
    "Forbidden",
    "InvalidData",
    "InvalidResponse",
    "LoyaltyError",
    "NotAllowed",
    "NotFound",
    "Unauthorized",
    "Unavailable",
    "error_from_rpc_error",
    "error_from_status",
]
