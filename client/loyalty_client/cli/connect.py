"""The connection the CLI makes: flags first, then LOYALTY_* environment variables."""

from __future__ import annotations

import argparse
import math
import os

from .._transport import DEFAULT_TIMEOUT
from ..client import LoyaltyClient
from ..types import TLSConfig
from .inputs import UsageError

DEFAULT_TARGET = "127.0.0.1:50051"


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def make_client(args: argparse.Namespace) -> LoyaltyClient:
    env = os.environ
    # LOYALTY_ADDRESS, as the Medusa adapter reads it; LOYALTY_TARGET is the older name.
    target = args.address or env.get("LOYALTY_ADDRESS") or env.get("LOYALTY_TARGET")
    target = target or DEFAULT_TARGET
    token = args.token or env.get("LOYALTY_TOKEN") or None
    timeout: float | None = args.timeout
    if timeout is None:
        text = env.get("LOYALTY_TIMEOUT", "").strip()
        try:
            timeout = float(text) if text else DEFAULT_TIMEOUT
        except ValueError:
            raise UsageError(f"LOYALTY_TIMEOUT is not a number: {text!r}") from None
    if not math.isfinite(timeout) or timeout <= 0:
        raise UsageError(f"the timeout must be a positive, finite number of seconds, not {timeout}")
    ca_cert = args.ca_cert or env.get("LOYALTY_CA_CERT") or None
    client_cert = args.client_cert or env.get("LOYALTY_CLIENT_CERT") or None
    client_key = args.client_key or env.get("LOYALTY_CLIENT_KEY") or None
    tls: TLSConfig | None = None
    if args.tls or _env_flag("LOYALTY_TLS") or ca_cert or client_cert or client_key:
        try:
            tls = TLSConfig(
                ca_cert=ca_cert,
                client_cert=client_cert,
                client_key=client_key,
                server_name=args.tls_server_name,
            )
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    try:
        return LoyaltyClient(
            target,
            token=token,
            tls=tls,
            timeout=timeout,
        )
    except OSError as exc:
        raise UsageError(f"cannot read a TLS file: {exc}") from None
