"""Channel settings shared by both clients: credentials, call metadata, options."""

from __future__ import annotations

import copy
import enum
import math
from pathlib import Path
from typing import Any, Self

import grpc

from .errors import error_from_rpc_error
from .retry import RetryPolicy
from .types import TLSConfig

SERVICE = "loyalty.v1.LoyaltyService"
USER_AGENT = "loyalty-client-python/0.1"

#: Seconds each attempt of a call may take unless the client is given another timeout.
DEFAULT_TIMEOUT = 10.0

#: No service-config retry policy is set: the client's own rule (retry.py) is the only
#: one, next to gRPC's transparent retry of calls that never left the client.
CHANNEL_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.primary_user_agent", USER_AGENT),
]


def _pem(value: Path | str | bytes | None) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    return Path(value).read_bytes()


def channel_credentials(tls: TLSConfig) -> Any:
    """grpc.ChannelCredentials from a TLSConfig (files are read here, once)."""
    return grpc.ssl_channel_credentials(
        root_certificates=_pem(tls.ca_cert),
        private_key=_pem(tls.client_key),
        certificate_chain=_pem(tls.client_cert),
    )


def channel_options(tls: TLSConfig | None) -> list[tuple[str, Any]]:
    options = list(CHANNEL_OPTIONS)
    if tls is not None and tls.server_name:
        options.append(("grpc.ssl_target_name_override", tls.server_name))
    return options


def call_metadata(token: str | None) -> tuple[tuple[str, str], ...]:
    """Metadata sent with every call: the bearer token, when there is one."""
    if not token:
        return ()
    return (("authorization", f"Bearer {token}"),)


def normalize_tls(tls: TLSConfig | bool | None) -> TLSConfig | None:
    """``True``: TLS with the system trust store; ``False``/``None``: plaintext."""
    if tls is True:
        return TLSConfig()
    if tls is False or tls is None:
        return None
    if not isinstance(tls, TLSConfig):
        raise TypeError(f"tls must be a TLSConfig, a bool or None, not {type(tls).__name__}")
    return tls


class Keep(enum.Enum):
    """Marks an option of ``with_options`` that keeps its current value."""

    KEEP = "keep"


KEEP = Keep.KEEP


def _checked_timeout(timeout: object) -> float | None:
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        raise ValueError(
            f"timeout must be a positive, finite number of seconds or None, not {timeout!r}"
        )
    return timeout


def _checked_retry(retry: object) -> RetryPolicy:
    if retry is None:
        return RetryPolicy()
    if not isinstance(retry, RetryPolicy):
        raise TypeError(f"retry must be a RetryPolicy or None, not {type(retry).__name__}")
    return retry


class ClientSettings:
    """What both clients are built from; makes their channel (sync or aio)."""

    def __init__(
        self,
        target: str,
        *,
        token: str | None,
        tls: TLSConfig | bool | None,
        timeout: float | None,
        retry: RetryPolicy | None,
    ) -> None:
        if not target:
            raise ValueError("target is required, e.g. '127.0.0.1:50051'")
        self.target = target
        self.tls = normalize_tls(tls)
        self.timeout = _checked_timeout(timeout)
        self.retry = _checked_retry(retry)
        self.metadata = call_metadata(token)

    def replace(
        self, *, timeout: float | Keep | None = KEEP, retry: RetryPolicy | Keep | None = KEEP
    ) -> ClientSettings:
        """These settings with another timeout and/or retry policy (the channel options
        are not re-read: a client made from them shares its parent's channel)."""
        clone = copy.copy(self)
        if not isinstance(timeout, Keep):
            clone.timeout = _checked_timeout(timeout)
        if not isinstance(retry, Keep):
            clone.retry = _checked_retry(retry)
        return clone

    def retry_delay(self, exc: grpc.RpcError, attempt: int, *, retryable: bool) -> float:
        """Seconds to wait before attempt ``attempt + 1`` after ``exc`` failed attempt
        ``attempt``; raises the mapped LoyaltyError when the failure is final.

        The sync and the async client share this; only how they wait differs.
        """
        error = error_from_rpc_error(exc)
        delay = self.retry.next_delay(error, attempt, retryable=retryable)
        if delay is None:
            raise error from None
        return delay

    def channel(self, api: Any) -> Any:
        """A channel from ``api``: the ``grpc`` module or ``grpc.aio``."""
        options = channel_options(self.tls)
        # After a failed connect, gRPC waits (1 s, growing to 120 s) before it dials
        # again, and calls made meanwhile fail at once; keep that pause within the retry
        # policy's so that a retry can actually reach a server that came back.
        options += [
            ("grpc.initial_reconnect_backoff_ms", max(100, int(self.retry.initial_backoff * 1000))),
            ("grpc.max_reconnect_backoff_ms", max(100, int(self.retry.max_backoff * 1000))),
        ]
        if self.tls is None:
            return api.insecure_channel(self.target, options=options)
        return api.secure_channel(self.target, channel_credentials(self.tls), options=options)


class WithOptions:
    """``with_options``, shared by the blocking and the asyncio client."""

    _settings: ClientSettings

    def with_options(
        self, *, timeout: float | Keep | None = KEEP, retry: RetryPolicy | Keep | None = KEEP
    ) -> Self:
        """This client with another per-attempt ``timeout`` (seconds, or None for no
        deadline) and/or ``retry`` policy, for the calls made through it, e.g.
        ``client.with_options(timeout=0.5).get_points_balance("cus_1")``.

        It shares this client's connection: closing either one closes it for both.
        """
        clone = copy.copy(self)
        clone._settings = self._settings.replace(timeout=timeout, retry=retry)
        return clone
