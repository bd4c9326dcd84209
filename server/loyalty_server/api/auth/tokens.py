"""Bearer tokens: an API key or an HS256 JWT, checked for who it is and its scopes."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
import jwt
from google.rpc import code_pb2

from ...config import Settings
from ..errors import rich_status
from .keys import ApiKey, load_api_keys_file, parse_api_keys

#: What an unauthenticated caller is told; details stay in the server log.
AUTH_REQUIRED = "Authentication required"
MAX_TOKEN_LENGTH = 4096  # gRPC refuses metadata past 8 KiB (randomly up to 16 KiB) itself
#: JWT clocks may disagree by this many seconds (exp, nbf, iat).
JWT_LEEWAY_S = 30
MIN_JWT_SECRET_BYTES = 32


@dataclass(frozen=True)
class Principal:
    """Who a valid token belongs to."""

    kind: str  # "api_key" | "jwt"
    name: str
    scopes: frozenset[str]


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
