"""Small assertions on gRPC errors shared by the test files."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status


@dataclass
class RichError:
    code: grpc.StatusCode
    message: str
    reason: str | None
    domain: str | None
    violations: dict[str, str] = field(default_factory=dict)


def rich_error(error: grpc.RpcError) -> RichError:
    """Unpack google.rpc.Status details the way a client would."""
    assert isinstance(error, grpc.Call)
    status = rpc_status.from_call(error)
    result = RichError(error.code(), error.details() or "", None, None)
    if status is None:
        return result
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            result.reason, result.domain = info.reason, info.domain
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            result.violations = {v.field: v.description for v in bad.field_violations}
    return result


def expect_error(call: Callable[..., Any], request: Any, code: grpc.StatusCode) -> RichError:
    """Call, insist on the given status code, and return the unpacked details."""
    try:
        call(request, timeout=10)
    except grpc.RpcError as error:
        rich = rich_error(error)
        assert rich.code == code, f"expected {code}, got {rich.code}: {rich.message}"
        assert rich.domain == "loyalty.v1", rich
        return rich
    raise AssertionError(f"expected {code}, but the call succeeded")


T = TypeVar("T")
#: What a caller retrying with its idempotency key keeps retrying on: the server
#: is away (killed, restarting), not refusing.
TRANSIENT = (
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.CANCELLED,
)


def until_answered(call: Callable[[], T], *, within: float = 60.0) -> T:
    """Resend `call` (a keyed write) until the server answers it; any answer but a
    transient failure is returned or raised. Fails the test after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        try:
            return call()
        except grpc.RpcError as error:
            if error.code() not in TRANSIENT:
                raise
            assert time.monotonic() < deadline, f"no answer within {within:g} s"
            time.sleep(0.05)
