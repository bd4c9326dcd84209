"""Server reflection that finds every symbol grpcurl asks for, whatever the protobuf runtime.

grpc_reflection answers `file_containing_symbol` with the descriptor pool's
`FindFileContainingSymbol`. The upb runtime (protobuf 4+) does not index method
names there, so `grpcurl describe loyalty.v1.LoyaltyService.AdjustPoints` got
"Symbol not found". Here a name the pool does not know is resolved through its
parent: a method through its service, a field or oneof through its message.
(grpcurl itself resolves `describe Service/Method` in the file it gets back, and
fails on the slash with any server: describe a method with a dot.)
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import FileDescriptor
from grpc_reflection.v1alpha import _async, _base, reflection, reflection_pb2_grpc

SERVICE_NAME = reflection.SERVICE_NAME


def file_containing_symbol(pool: descriptor_pool.DescriptorPool, name: str) -> FileDescriptor:
    """The file that defines `name`, also for the members the pool does not index.

    Raises KeyError, as the pool does, when nothing of that name exists.
    """
    try:
        return pool.FindFileContainingSymbol(name)
    except KeyError:
        parent, _, member = name.rpartition(".")
        if not parent:
            raise
    try:
        service = pool.FindServiceByName(parent)
    except KeyError:
        pass
    else:
        if member in service.methods_by_name:
            return service.file
        raise KeyError(name)
    try:
        message = pool.FindMessageTypeByName(parent)
    except KeyError:
        raise KeyError(name) from None
    if member in message.fields_by_name or member in message.oneofs_by_name:
        return message.file
    raise KeyError(name)


class ReflectionServicer(_async.ReflectionServicer):  # type: ignore[misc]
    """grpc_reflection's aio servicer with `file_containing_symbol` that finds methods."""

    def _file_containing_symbol(self, request: Any, fully_qualified_name: str) -> Any:
        try:
            descriptor = file_containing_symbol(self._pool, fully_qualified_name)
        except KeyError:
            return super()._file_containing_symbol(request, fully_qualified_name)
        return _base._file_descriptor_response(descriptor, request)


def enable_server_reflection(service_names: tuple[str, ...], server: grpc.aio.Server) -> None:
    """Drop-in for grpc_reflection's `enable_server_reflection` on an aio server."""
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(
        ReflectionServicer(service_names), server
    )
