"""Bearer authentication and scopes for every RPC.

Callers send ``authorization: Bearer <token>``. A token is either an API key
configured on the server (kept only as its SHA-256 digest, with its scopes) or an
HS256 JWT signed with ``LOYALTY_JWT_SECRET`` whose ``scope`` (space separated) or
``scopes`` (list) claim names the scopes. Health and reflection are open unless the
``auth_health_and_reflection`` setting closes them.

One job a module:

- ``scopes``: ``RPC_SCOPES``, the one table of the scope each RPC needs;
- ``keys``: API keys, from a setting or a file;
- ``tokens``: the ``Authenticator`` that checks a bearer token (key or JWT);
- ``interceptor``: ``AuthInterceptor``, which refuses a call before anything else runs.
"""

from __future__ import annotations

from .interceptor import AuthInterceptor
from .keys import ApiKey, hash_api_key, load_api_keys_file, new_api_key, parse_api_keys
from .scopes import OPEN_SERVICES, READ, RPC_SCOPES, SCOPES, SERVICE, WRITE, required_scope
from .tokens import AUTH_REQUIRED, Authenticator, AuthError, Principal

__all__ = [
    "AUTH_REQUIRED",
    "OPEN_SERVICES",
    "READ",
    "RPC_SCOPES",
    "SCOPES",
    "SERVICE",
    "WRITE",
    "ApiKey",
    "AuthError",
    "AuthInterceptor",
    "Authenticator",
    "Principal",
    "hash_api_key",
    "load_api_keys_file",
    "new_api_key",
    "parse_api_keys",
    "required_scope",
]
