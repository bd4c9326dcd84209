"""Settings from flags and environment variables, in one frozen dataclass."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

DEFAULT_LISTEN = "127.0.0.1:50051"
DEFAULT_DATABASE_URL = "sqlite:///./loyalty.db"


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    listen: str = DEFAULT_LISTEN
    database_url: str = DEFAULT_DATABASE_URL
    allow_negative_balances: bool = False
    gift_card_code_prefix: str = "GIFT"
    gift_card_code_sections: int = 4
    grace_period: float = 10.0
    max_message_bytes: int = 1024 * 1024
    db_pool_size: int = 10
    workers: int = 0  # server processes; 0: one per core on PostgreSQL, 1 on SQLite
    health_check_interval: float = 2.0
    log_level: str = "INFO"
    # Security (docs/security.md): bearer API keys and/or HS256 JWTs, TLS, safe defaults.
    api_keys: str = ""
    api_keys_file: str = ""
    jwt_secret: str = dataclasses.field(default="", repr=False)
    jwt_audience: str = ""
    jwt_issuer: str = ""
    auth_health_and_reflection: bool = False
    insecure: bool = False
    tls_cert: str = ""
    tls_key: str = ""
    tls_client_ca: str = ""
    # Observability (docs/observability.md): a Prometheus endpoint, OpenTelemetry traces.
    metrics_listen: str = ""
    otel: bool = False
    otel_spans_file: str = ""

    @property
    def embedded(self) -> bool:
        """True on the SQLite default, where `serve` migrates by itself."""
        return self.database_url.startswith("sqlite")


# Flag name -> (environment variable, Settings field). The CLI reads this table,
# so the README's settings table and the code cannot drift apart.
ENVIRONMENT = {
    "listen": "LOYALTY_LISTEN",
    "database_url": "LOYALTY_DATABASE_URL",
    "allow_negative_balances": "LOYALTY_ALLOW_NEGATIVE_BALANCES",
    "gift_card_code_prefix": "LOYALTY_GIFT_CARD_CODE_PREFIX",
    "gift_card_code_sections": "LOYALTY_GIFT_CARD_CODE_SECTIONS",
    "grace_period": "LOYALTY_GRACE_PERIOD",
    "db_pool_size": "LOYALTY_DB_POOL_SIZE",
    "workers": "LOYALTY_WORKERS",
    "log_level": "LOYALTY_LOG_LEVEL",
    "api_keys": "LOYALTY_API_KEYS",
    "api_keys_file": "LOYALTY_API_KEYS_FILE",
    "jwt_secret": "LOYALTY_JWT_SECRET",
    "jwt_audience": "LOYALTY_JWT_AUDIENCE",
    "jwt_issuer": "LOYALTY_JWT_ISSUER",
    "auth_health_and_reflection": "LOYALTY_AUTH_HEALTH_AND_REFLECTION",
    "insecure": "LOYALTY_INSECURE",
    "tls_cert": "LOYALTY_TLS_CERT",
    "tls_key": "LOYALTY_TLS_KEY",
    "tls_client_ca": "LOYALTY_TLS_CLIENT_CA",
    "metrics_listen": "LOYALTY_METRICS_LISTEN",
    "otel": "LOYALTY_OTEL",
    "otel_spans_file": "LOYALTY_OTEL_SPANS_FILE",
}

#: Settings only ever read from the environment: a secret on the command line would
#: show in `ps` and in shell history.
ENVIRONMENT_ONLY = frozenset({"jwt_secret"})


def from_environment() -> dict[str, object]:
    """Settings given by environment variables, converted to their field types."""
    defaults = Settings()
    values: dict[str, object] = {}
    for field, variable in ENVIRONMENT.items():
        if variable not in os.environ:
            continue
        current = getattr(defaults, field)
        raw = os.environ[variable]
        if isinstance(current, bool):
            values[field] = _env_bool(variable)
        elif isinstance(current, int):
            values[field] = int(raw)
        elif isinstance(current, float):
            values[field] = float(raw)
        else:
            values[field] = raw
    return values
