"""The one mapping from domain and store errors to rich gRPC statuses (AIP-193)."""

from __future__ import annotations

import logging

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from ..domain import errors as domain

log = logging.getLogger(__name__)

DOMAIN = "loyalty.v1"

_CODES: dict[type[domain.DomainError], int] = {
    domain.InvalidData: code_pb2.INVALID_ARGUMENT,
    domain.NotFound: code_pb2.NOT_FOUND,
    domain.NotAllowed: code_pb2.FAILED_PRECONDITION,
    domain.Duplicate: code_pb2.ALREADY_EXISTS,
    domain.Conflict: code_pb2.FAILED_PRECONDITION,
}


# An error travels in trailing metadata, which clients cap (gRPC: 8 KiB soft, 16 KiB hard);
# past that the caller gets RESOURCE_EXHAUSTED "Stream removed" instead of our answer.
# So what an error echoes of a request is bounded, however many items were wrong.
MAX_MESSAGE = 400
MAX_VIOLATIONS = 10
MAX_FIELD = 100
MAX_DESCRIPTION = 160
MAX_METADATA_VALUE = 256


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def rich_status(
    code: int,
    message: str,
    reason: str,
    *,
    metadata: dict[str, str] | None = None,
    violations: list[domain.FieldViolation] | None = None,
) -> grpc.Status:
    """A status carrying one ErrorInfo and, for bad input, one BadRequest (the first
    MAX_VIOLATIONS field violations; the message says how many more there were)."""
    details = []
    message = _clip(message, MAX_MESSAGE)
    if violations and len(violations) > MAX_VIOLATIONS:
        message = _clip(message, MAX_MESSAGE - 60)
        message += f" (and {len(violations) - MAX_VIOLATIONS} more field problems)"
    info = error_details_pb2.ErrorInfo(
        reason=reason,
        domain=DOMAIN,
        metadata={k: _clip(v, MAX_METADATA_VALUE) for k, v in (metadata or {}).items()},
    )
    details.append(info)
    if violations:
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(
                        field=_clip(v.field, MAX_FIELD),
                        description=_clip(v.description, MAX_DESCRIPTION),
                    )
                    for v in violations[:MAX_VIOLATIONS]
                ]
            )
        )
    packed = []
    for detail in details:
        holder = any_pb2.Any()
        holder.Pack(detail)
        packed.append(holder)
    return rpc_status.to_status(status_pb2.Status(code=code, message=message, details=packed))


def status_for(error: BaseException) -> grpc.Status:
    """Map any exception a handler raised; unknown ones become a bare INTERNAL."""
    if isinstance(error, domain.DomainError):
        return rich_status(
            _CODES[type(error)],
            error.message,
            error.reason,
            metadata=error.metadata,
            violations=error.violations if isinstance(error, domain.InvalidData) else None,
        )
    if isinstance(error, domain.Unavailable):
        return rich_status(code_pb2.UNAVAILABLE, str(error), "UNAVAILABLE")
    if isinstance(error, domain.Busy):
        return rich_status(code_pb2.RESOURCE_EXHAUSTED, str(error), "BUSY")
    # A bug: keep the details in our log, never in the caller's hands.
    log.error("unhandled error", exc_info=error)
    return rich_status(code_pb2.INTERNAL, "internal error", "INTERNAL")
