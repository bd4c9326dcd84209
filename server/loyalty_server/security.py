"""Safe defaults at start-up: where the server may listen, and its TLS credentials.

- No credential configured (no API key, no JWT secret, no client CA): the server
  serves on a loopback address only, and says that authentication is off. Asked to
  listen elsewhere, it refuses to start unless ``--insecure`` says that is meant.
- ``--tls-cert``/``--tls-key`` serve TLS; ``--tls-client-ca`` also requires client
  certificates signed by that CA (mutual TLS), which counts as a credential.
"""

from __future__ import annotations

import ipaddress
import logging
from pathlib import Path

import grpc

from .api.auth import Authenticator
from .config import Settings

log = logging.getLogger(__name__)


def listen_host(listen: str) -> str:
    """The host part of ``host:port``, ``[v6]:port`` or a ``unix:`` address."""
    if listen.startswith(("unix:", "unix-abstract:")):
        return listen
    host = listen.rsplit(":", 1)[0] if ":" in listen else listen
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def is_loopback(listen: str) -> bool:
    """True when only this machine can connect: 127.0.0.0/8, ::1, localhost, unix sockets."""
    host = listen_host(listen)
    if host.startswith(("unix:", "unix-abstract:")):
        return True
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name other than localhost, or empty (= every interface)
        return False


def _read(path: str, flag: str) -> bytes:
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise ValueError(f"cannot read {flag} {path}: {error.strerror}") from None
    if b"-----BEGIN " not in data:
        raise ValueError(f"{flag} {path} is not a PEM file")
    return data


def server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """TLS (or mutual TLS) server credentials from the settings; None for plaintext."""
    if not settings.tls_cert and not settings.tls_key:
        if settings.tls_client_ca:
            raise ValueError("--tls-client-ca needs --tls-cert and --tls-key as well")
        return None
    if not (settings.tls_cert and settings.tls_key):
        raise ValueError("--tls-cert and --tls-key go together")
    cert = _read(settings.tls_cert, "--tls-cert")
    key = _read(settings.tls_key, "--tls-key")
    client_ca = _read(settings.tls_client_ca, "--tls-client-ca") if settings.tls_client_ca else None
    return grpc.ssl_server_credentials(
        [(key, cert)], root_certificates=client_ca, require_client_auth=client_ca is not None
    )


def tls_mode(settings: Settings) -> str:
    if settings.tls_client_ca:
        return "mtls"
    return "tls" if settings.tls_cert else "off"


def check_listen(settings: Settings, auth: Authenticator) -> None:
    """Refuse a non-loopback address when nothing authenticates the callers."""
    if auth.enabled or settings.tls_client_ca or settings.insecure:
        return
    if not is_loopback(settings.listen):
        raise ValueError(
            f"refusing to listen on {settings.listen} with authentication off: anyone who "
            "can reach it could read and change balances. Configure API keys "
            "(--api-keys-file, --api-keys or LOYALTY_API_KEYS), a JWT secret "
            "(LOYALTY_JWT_SECRET) or client certificates (--tls-client-ca); or listen on "
            "127.0.0.1; or pass --insecure if this is really meant"
        )


def warn_if_open(settings: Settings, auth: Authenticator) -> None:
    """One warning at start-up when callers are not authenticated."""
    if auth.enabled or settings.tls_client_ca:
        return
    if is_loopback(settings.listen):
        log.warning(
            "authentication is off (no API keys or JWT secret configured): serving on "
            "loopback only",
            extra={"address": settings.listen},
        )
    else:
        log.warning(
            "authentication is OFF on a non-loopback address (--insecure): anyone who can "
            "reach it can read and change balances",
            extra={"address": settings.listen},
        )


def preflight(settings: Settings) -> Authenticator:
    """Every start-up check that needs no database: credentials, TLS files, address."""
    auth = Authenticator.from_settings(settings)
    check_listen(settings, auth)
    server_credentials(settings)
    return auth
