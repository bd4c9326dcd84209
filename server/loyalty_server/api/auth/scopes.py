"""Which scope each RPC needs: the one table, and the services open without a token."""

from __future__ import annotations

from collections.abc import Mapping

from loyalty.v1 import loyalty_pb2

READ = "loyalty:read"
WRITE = "loyalty:write"
SCOPES = frozenset({READ, WRITE})

SERVICE = loyalty_pb2.DESCRIPTOR.services_by_name["LoyaltyService"]

#: The one table: every LoyaltyService RPC and the scope it needs. Reads change
#: nothing; everything that creates, changes or deletes data needs loyalty:write.
RPC_SCOPES: Mapping[str, str] = {
    "AdjustPoints": WRITE,
    "BatchAdjustPoints": WRITE,
    "GetPointsBalance": READ,
    "ListPointAdjustments": READ,
    "HoldPoints": WRITE,
    "CapturePointsHold": WRITE,
    "ReleasePointsHold": WRITE,
    "GetPointsHold": READ,
    "ListPointsHolds": READ,
    "EarnOrderPoints": WRITE,
    "ReverseOrderPoints": WRITE,
    "GetOrderPoints": READ,
    "CreateGiftCards": WRITE,
    "UpdateGiftCards": WRITE,
    "RetrieveGiftCard": READ,
    "ListGiftCards": READ,
    "DeleteGiftCards": WRITE,
    "SoftDeleteGiftCards": WRITE,
    "RestoreGiftCards": WRITE,
    "DebitGiftCard": WRITE,
    "CreditGiftCard": WRITE,
    "ListGiftCardTransactions": READ,
    "GetOptions": READ,
    "CreateStoreCreditAccounts": WRITE,
    "UpdateStoreCreditAccounts": WRITE,
    "RetrieveStoreCreditAccount": READ,
    "ListStoreCreditAccounts": READ,
    "DeleteStoreCreditAccounts": WRITE,
    "SoftDeleteStoreCreditAccounts": WRITE,
    "RestoreStoreCreditAccounts": WRITE,
    "CreditAccounts": WRITE,
    "DebitAccounts": WRITE,
    "RetrieveAccountStats": READ,
    "ListAccountTransactions": READ,
    "DeleteAccountTransactions": WRITE,
}
if set(RPC_SCOPES) != {m.name for m in SERVICE.methods}:  # pragma: no cover - caught by tests
    raise RuntimeError(
        "api/auth/scopes.py RPC_SCOPES does not list exactly the LoyaltyService RPCs"
    )

#: Services that stay reachable without a token by default, so load balancers can
#: check health and grpcurl can list and describe the API.
OPEN_SERVICES = frozenset(
    {
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    }
)


def required_scope(method: str, *, open_health_and_reflection: bool = True) -> str | None:
    """The scope a call to ``/package.Service/Method`` needs; None when it is open."""
    service, _, name = method.lstrip("/").partition("/")
    if service == SERVICE.full_name:
        # An RPC this server does not know needs a token all the same (fail closed).
        return RPC_SCOPES.get(name, WRITE)
    if service in OPEN_SERVICES and open_health_and_reflection:
        return None
    return READ
