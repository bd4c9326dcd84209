"""`loyalty-server serve | migrate | verify`: the operator's entry point."""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import fields
from importlib import metadata
from typing import Any

from . import logs
from .config import ENVIRONMENT, ENVIRONMENT_ONLY, Settings, from_environment
from .store import migrate

log = logging.getLogger("loyalty_server")

_HELP = {
    "listen": "host:port to serve on (default 127.0.0.1:50051)",
    "database_url": "sqlite:///path.db (default ./loyalty.db) or postgresql+psycopg://...",
    "allow_negative_balances": "let point balances go below zero",
    "gift_card_code_prefix": "prefix of generated gift card codes (default GIFT)",
    "gift_card_code_sections": "4-character groups in generated codes (default 4)",
    "grace_period": "seconds in-flight calls get to finish on shutdown (default 10)",
    "db_pool_size": "PostgreSQL connections per process (default 10; below 4 it still uses 4)",
    "workers": "server processes sharing the port (default: one per core on PostgreSQL, "
    "1 on SQLite)",
    "log_level": "DEBUG, INFO (default), WARNING or ERROR",
    "api_keys": "API keys as '[name:]<sha256 hex>=scope[,scope]' entries separated by ';'",
    "api_keys_file": "TOML (or .json) file of [[api_keys]] with name, sha256, scopes",
    "jwt_audience": "required aud claim of JWTs (default: not checked)",
    "jwt_issuer": "required iss claim of JWTs (default: not checked)",
    "auth_health_and_reflection": "require a loyalty:read token for health and reflection too",
    "insecure": "allow a non-loopback --listen with no credentials configured",
    "tls_cert": "PEM certificate chain: serve TLS (with --tls-key)",
    "tls_key": "PEM private key of --tls-cert",
    "tls_client_ca": "PEM CA bundle: require client certificates it signed (mutual TLS)",
    "metrics_listen": "serve Prometheus metrics on host:port (a bare port: 127.0.0.1:port); "
    "default off",
    "otel": "OpenTelemetry traces, exported as the OTEL_* variables say (default OTLP to "
    "localhost:4317); also on when OTEL_EXPORTER_OTLP_ENDPOINT is set; needs the otel extra",
    "otel_spans_file": "append finished spans as JSON lines to this file (debugging, tests); "
    "turns traces on",
}
_SERVE_ONLY = {
    "listen",
    "allow_negative_balances",
    "gift_card_code_prefix",
    "gift_card_code_sections",
    "grace_period",
    "db_pool_size",
    "workers",
    "api_keys",
    "api_keys_file",
    "jwt_secret",
    "jwt_audience",
    "jwt_issuer",
    "auth_health_and_reflection",
    "insecure",
    "tls_cert",
    "tls_key",
    "tls_client_ca",
    "metrics_listen",
    "otel",
    "otel_spans_file",
}


def _add_settings(parser: argparse.ArgumentParser, names: set[str]) -> None:
    types = {f.name: f.type for f in fields(Settings)}
    for name in ENVIRONMENT:
        if name not in names or name in ENVIRONMENT_ONLY:
            continue
        flag = "--" + name.replace("_", "-")
        help_text = f"{_HELP[name]} [env {ENVIRONMENT[name]}]"
        if types[name] == "bool":
            parser.add_argument(flag, action="store_true", default=None, help=help_text)
        else:
            kind = {"int": int, "float": float}.get(str(types[name]), str)
            parser.add_argument(flag, type=kind, default=None, help=help_text)


def _settings(args: argparse.Namespace) -> Settings:
    values: dict[str, Any] = from_environment()
    values.update({k: v for k, v in vars(args).items() if k in ENVIRONMENT and v is not None})
    return Settings(**values)


def _version() -> str:
    """The installed distribution's version (pyproject.toml is the one source)."""
    try:
        return metadata.version("medusa-loyalty-service")
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown (not installed)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="loyalty-server",
        description="Loyalty points, gift cards and store credit over gRPC.",
    )
    parser.add_argument("--version", action="version", version=f"loyalty-server {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the gRPC server")
    _add_settings(serve, set(ENVIRONMENT))
    migrate_cmd = commands.add_parser("migrate", help="create or upgrade the database schema")
    _add_settings(migrate_cmd, set(ENVIRONMENT) - _SERVE_ONLY)
    verify_cmd = commands.add_parser(
        "verify", help="check balances against the ledgers (read-only, safe on a live database)"
    )
    _add_settings(verify_cmd, {"database_url", "allow_negative_balances"})
    key_cmd = commands.add_parser(
        "new-api-key", help="make a random API key and print it with its configuration line"
    )
    key_cmd.add_argument("--name", required=True, help="a label for logs, e.g. medusa-admin")
    key_cmd.add_argument(
        "--scope",
        action="append",
        required=True,
        choices=["loyalty:read", "loyalty:write"],
        help="a scope the key grants (repeat for both)",
    )
    return parser


def _new_api_key(name: str, scopes: list[str]) -> int:
    from .api.auth import hash_api_key, new_api_key, parse_api_keys

    key = new_api_key()
    entry = f"{name}:{hash_api_key(key)}={','.join(sorted(set(scopes)))}"
    parse_api_keys(entry)  # the line we print must be one the server accepts
    print(f"api key (give it to the client; it is not stored anywhere): {key}")
    print(f"server setting (LOYALTY_API_KEYS or --api-keys): {entry}")
    return 0


def _serve(settings: Settings) -> int:
    from .security import preflight

    preflight(settings)  # refuse bad credentials, TLS files or an open address first
    from .observe import preflight as observe_preflight

    observe_preflight(settings)  # a bad --metrics-listen, traces without the otel extra
    if settings.embedded:
        migrate.upgrade(settings.database_url)
    elif migrate.pending(settings.database_url):
        log.error(
            "the database schema is missing or out of date; run: loyalty-server migrate "
            "--database-url <url>"
        )
        return 2
    from .workers import serve_processes  # one process, or N sharing the port

    return serve_processes(settings)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "new-api-key":
        return _new_api_key(args.name, args.scope)
    try:
        settings = _settings(args)
    except ValueError as error:
        print(f"loyalty-server: invalid setting: {error}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level)
    try:
        if args.command == "verify":
            from .verify import run as verify

            return verify(
                settings.database_url, allow_negative_balances=settings.allow_negative_balances
            )
        if args.command == "migrate":
            migrate.upgrade(settings.database_url)
            log.info("database is up to date")
            return 0
        return _serve(settings)
    except ValueError as error:
        log.error(str(error))
        return 2
    except Exception as error:  # sqlalchemy's OperationalError etc.: say it in one line
        if type(error).__module__.startswith("sqlalchemy"):
            log.error("cannot reach the database: %s", str(error).splitlines()[0])
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
