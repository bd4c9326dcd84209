"""Bearer authentication and scopes for every RPC.

Callers send ``authorization: Bearer <token>``. A token is either an API key
configured on the server (kept only as its SHA-256 digest, with its scopes) or an
HS256 JWT signed with ``LOYALTY_JWT_SECRET`` whose ``scope`` (space separated) or
``scopes`` (list) claim names the scopes. ``RPC_SCOPES`` below is the one table
that says which scope each RPC needs; health and reflection are open unless the
``auth_health_and_reflection`` setting closes them.

A refused call is answered before its request is decoded and before any other
interceptor runs, and leaves exactly one log line that never holds the token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import tomllib
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import jwt
from google.rpc import code_pb2

from loyalty.v1 import loyalty_pb2

from ..config import Settings
from .errors import rich_status

log = logging.getLogger("loyalty_server.auth")

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
    raise RuntimeError("api/auth.py RPC_SCOPES does not list exactly the LoyaltyService RPCs")

#: Services that stay reachable without a token by default, so load balancers can
#: check health and grpcurl can list and describe the API.
OPEN_SERVICES = frozenset(
    {
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    }
)

#: What an unauthenticated caller is told; details stay in the server log.
AUTH_REQUIRED = "Authentication required"
MAX_TOKEN_LENGTH = 4096  # gRPC refuses metadata past 8 KiB (randomly up to 16 KiB) itself
#: JWT clocks may disagree by this many seconds (exp, nbf, iat).
JWT_LEEWAY_S = 30
MIN_JWT_SECRET_BYTES = 32
API_KEY_PREFIX = "lk_"

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def required_scope(method: str, *, open_health_and_reflection: bool = True) -> str | None:
    """The scope a call to ``/package.Service/Method`` needs; None when it is open."""
    service, _, name = method.lstrip("/").partition("/")
    if service == SERVICE.full_name:
        # An RPC this server does not know needs a token all the same (fail closed).
        return RPC_SCOPES.get(name, WRITE)
    if service in OPEN_SERVICES and open_health_and_reflection:
        return None
    return READ


# ------------------------------------------------------------------- keys


@dataclass(frozen=True)
class ApiKey:
    """A configured API key: its name, the SHA-256 of the token, and its scopes."""

    name: str
    digest: bytes
    scopes: frozenset[str]


@dataclass(frozen=True)
class Principal:
    """Who a valid token belongs to."""

    kind: str  # "api_key" | "jwt"
    name: str
    scopes: frozenset[str]


def hash_api_key(token: str) -> str:
    """The SHA-256 hex digest under which a key is configured."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_api_key() -> str:
    """A fresh random API key (256 bits)."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def _scopes(values: Iterable[str], where: str) -> frozenset[str]:
    scopes = frozenset(values)
    unknown = sorted(scopes - SCOPES)
    if unknown:
        raise ValueError(
            f"{where}: unknown scope {', '.join(unknown)} (known: {', '.join(sorted(SCOPES))})"
        )
    if not scopes:
        raise ValueError(f"{where}: an API key needs at least one scope")
    return scopes


def _key(name: str, digest: str, scopes: Iterable[str], where: str) -> ApiKey:
    if not _NAME.match(name):
        raise ValueError(f"{where}: key name {name!r} must be 1-64 characters of A-Z a-z 0-9 . _ -")
    if not _HEX64.match(digest):
        raise ValueError(f"{where}: sha256 must be 64 hex digits (the SHA-256 of the key)")
    return ApiKey(name, bytes.fromhex(digest), _scopes(scopes, where))


def parse_api_keys(text: str, where: str = "LOYALTY_API_KEYS") -> list[ApiKey]:
    """``[name:]<sha256 hex>=scope[,scope]`` entries separated by ``;`` or whitespace."""
    keys = []
    for number, entry in enumerate(re.split(r"[;\s]+", text.strip()), start=1):
        if not entry:
            continue
        left, sep, right = entry.partition("=")
        if not sep:
            raise ValueError(
                f"{where}: entry {number} must look like [name:]<sha256 hex>=loyalty:read,..."
            )
        name, _, digest = left.rpartition(":")
        scopes = [s for s in right.split(",") if s]
        keys.append(_key(name or f"key{number}", digest, scopes, f"{where} entry {number}"))
    return keys


def load_api_keys_file(path: str) -> list[ApiKey]:
    """A TOML (or, for ``*.json``, JSON) file with ``api_keys = [{name, sha256, scopes}]``."""
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise ValueError(f"cannot read API keys file {path}: {error.strerror}") from None
    try:
        data: Any = json.loads(raw) if path.endswith(".json") else tomllib.loads(raw.decode())
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"API keys file {path} is not valid: {error}") from None
    entries = data.get("api_keys") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"API keys file {path} must hold a list named api_keys")
    keys = []
    for number, entry in enumerate(entries, start=1):
        where = f"{path} api_keys[{number - 1}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where} must be a table with name, sha256 and scopes")
        scopes = entry.get("scopes")
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise ValueError(f"{where}: scopes must be a list of strings")
        keys.append(
            _key(
                str(entry.get("name", f"key{number}")), str(entry.get("sha256", "")), scopes, where
            )
        )
    return keys


# ----------------------------------------------------------- authenticator


class AuthError(Exception):
    """A refused call: what the caller is told, and why, for the log only."""

    def __init__(
        self,
        code: int,
        message: str,
        reason: str,
        log_reason: str,
        metadata: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason
        self.log_reason = log_reason
        self.metadata = metadata or {}

    @property
    def status(self) -> grpc.Status:
        return rich_status(self.code, self.message, self.reason, metadata=self.metadata)


def _unauthenticated(log_reason: str, message: str = AUTH_REQUIRED) -> AuthError:
    return AuthError(code_pb2.UNAUTHENTICATED, message, "UNAUTHORIZED", log_reason)


_INVALID = "Authentication required: the bearer token is not valid"
_EXPIRED = "Authentication required: the bearer token has expired"


class Authenticator:
    """Checks bearer tokens against the configured API keys and JWT secret."""

    def __init__(
        self,
        api_keys: Sequence[ApiKey] = (),
        *,
        jwt_secret: str = "",
        jwt_audience: str = "",
        jwt_issuer: str = "",
    ) -> None:
        digests = [k.digest for k in api_keys]
        if len(set(digests)) != len(digests):
            raise ValueError("the same API key is configured twice")
        names = [k.name for k in api_keys]
        if len(set(names)) != len(names):
            raise ValueError("two API keys have the same name")
        if jwt_secret and len(jwt_secret.encode()) < MIN_JWT_SECRET_BYTES:
            raise ValueError(
                f"LOYALTY_JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        self._keys = tuple(api_keys)
        self._jwt_secret = jwt_secret.encode()
        self._audience = jwt_audience or None
        self._issuer = jwt_issuer or None

    @classmethod
    def from_settings(cls, settings: Settings) -> Authenticator:
        keys: list[ApiKey] = []
        if settings.api_keys_file:
            keys += load_api_keys_file(settings.api_keys_file)
        if settings.api_keys:
            keys += parse_api_keys(settings.api_keys)
        return cls(
            keys,
            jwt_secret=settings.jwt_secret,
            jwt_audience=settings.jwt_audience,
            jwt_issuer=settings.jwt_issuer,
        )

    @property
    def enabled(self) -> bool:
        """False when no credential is configured: then every call is let through."""
        return bool(self._keys or self._jwt_secret)

    def describe(self) -> str:
        parts = []
        if self._keys:
            parts.append(f"{len(self._keys)} api key(s)")
        if self._jwt_secret:
            parts.append("jwt hs256")
        return ", ".join(parts) or "off"

    def authenticate(self, metadata: Iterable[tuple[str, Any]] | None) -> Principal:
        values = [v for k, v in metadata or () if k == "authorization"]
        if not values:
            raise _unauthenticated("no authorization metadata")
        if len(values) > 1:
            raise _unauthenticated("more than one authorization value")
        value = values[0]
        if not isinstance(value, str):
            raise _unauthenticated("authorization metadata is not text")
        scheme, _, token = value.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer":
            raise _unauthenticated("authorization scheme is not Bearer")
        if not token or len(token) > MAX_TOKEN_LENGTH or any(c.isspace() for c in token):
            raise _unauthenticated("malformed bearer token")
        if token.count(".") == 2:
            return self._jwt(token)
        return self._api_key(token)

    def _api_key(self, token: str) -> Principal:
        digest = hashlib.sha256(token.encode()).digest()
        found: ApiKey | None = None
        for key in self._keys:  # every key, no early exit: the time does not depend on which
            if hmac.compare_digest(digest, key.digest):
                found = key
        if found is None:
            raise _unauthenticated("unknown api key", _INVALID)
        return Principal("api_key", found.name, found.scopes)

    def _jwt(self, token: str) -> Principal:
        if not self._jwt_secret:
            raise _unauthenticated("jwt given but no LOYALTY_JWT_SECRET configured", _INVALID)
        try:
            claims = jwt.decode(
                token,
                self._jwt_secret,
                algorithms=["HS256"],  # never "none", never an algorithm the token picks
                audience=self._audience,
                issuer=self._issuer,
                leeway=JWT_LEEWAY_S,
                options={"require": ["exp"], "verify_aud": self._audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise _unauthenticated("jwt expired", _EXPIRED) from None
        except jwt.InvalidTokenError as error:
            raise _unauthenticated(f"jwt rejected: {type(error).__name__}", _INVALID) from None
        scopes: set[str] = set()
        scope = claims.get("scope")
        if isinstance(scope, str):
            scopes.update(scope.split())
        elif scope is not None:
            raise _unauthenticated("jwt scope claim is not a string", _INVALID)
        listed = claims.get("scopes")
        if isinstance(listed, list) and all(isinstance(s, str) for s in listed):
            scopes.update(listed)
        elif listed is not None:
            raise _unauthenticated("jwt scopes claim is not a list of strings", _INVALID)
        subject = claims.get("sub")
        return Principal("jwt", subject if isinstance(subject, str) else "jwt", frozenset(scopes))

    def authorize(self, metadata: Iterable[tuple[str, Any]] | None, scope: str) -> Principal:
        principal = self.authenticate(metadata)
        if scope not in principal.scopes:
            raise AuthError(
                code_pb2.PERMISSION_DENIED,
                f"Permission denied: this call needs the {scope} scope",
                "FORBIDDEN",
                f"{principal.kind} {principal.name} lacks {scope}",
                metadata={"required_scope": scope},
            )
        return principal


# ------------------------------------------------------------- interceptor

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
