"""Schema migrations (Alembic) and the check that a database is up to date."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from .db import sync_url


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", "loyalty_server.store:migrations")
    return config


def upgrade(url: str) -> None:
    """`alembic upgrade head` on the given database."""
    engine = create_engine(sync_url(url))
    try:
        with engine.begin() as connection:
            config = _config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()


def pending(url: str) -> bool:
    """True when the database is not at the newest revision (or has no schema)."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
    return current != head
