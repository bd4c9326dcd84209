"""The one mapping from domain and store errors to rich gRPC statuses (AIP-193)."""

from __future__ import annotations

import logging

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from ..domain import errors as domain
from ..store.db import StoreUnavailable

log = logging.getLogger(__name__)

DOMAIN = "loyalty.v1"

_CODES: dict[type[domain.DomainError], int] = {
    domain.InvalidData: code_pb2.INVALID_ARGUMENT,
    domain.NotFound: code_pb2.NOT_FOUND,
    domain.NotAllowed: code_pb2.FAILED_PRECONDITION,
    domain.Duplicate: code_pb2.ALREADY_EXISTS,
    domain.Conflict: code_pb2.FAILED_PRECONDITION,
}


def rich_status(
    code: int,
    message: str,
    reason: str,
    *,
    metadata: dict[str, str] | None = None,
    violations: list[domain.FieldViolation] | None = None,
) -> grpc.Status:
    """A status carrying one ErrorInfo and, for bad input, one BadRequest."""
    details = []
    info = error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN, metadata=metadata or {})
    details.append(info)
    if violations:
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(
                        field=v.field, description=v.description
                    )
                    for v in violations
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
    if isinstance(error, StoreUnavailable):
        return rich_status(code_pb2.UNAVAILABLE, str(error), "UNAVAILABLE")
    # A bug: keep the details in our log, never in the caller's hands.
    log.error("unhandled error", exc_info=error)
    return rich_status(code_pb2.INTERNAL, "internal error", "INTERNAL")
