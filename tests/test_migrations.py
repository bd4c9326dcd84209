"""Schema migrations: an existing database of the previous release upgrades with its
data kept (SQLite and PostgreSQL), and the models match what the migrations build."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import SERVER_BIN, DatabaseFactory, ServerProcess

from loyalty.v1 import loyalty_pb2 as pb
from loyalty.v1.loyalty_pb2_grpc import LoyaltyServiceStub
from loyalty_server.store.db import sync_url
from loyalty_server.store.migrate import _config
from loyalty_server.store.models import Base
from loyalty_server.verify import verify


def _upgrade(url: str, revision: str) -> None:
    engine = sa.create_engine(sync_url(url))
    try:
        with engine.begin() as connection:
            config = _config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def test_upgrade_from_the_previous_schema_keeps_the_data(
    databases: DatabaseFactory, workdir: Path
) -> None:
    url = databases.new()
    _upgrade(url, "0001")
    engine = sa.create_engine(sync_url(url))
    # Written as the previous release stored them: NUMERIC/timestamptz on PostgreSQL,
    # text on SQLite (types.py).
    postgres = engine.dialect.name == "postgresql"
    row = {
        "amount": Decimal(40) if postgres else "40",
        "at": datetime(2026, 11, 30, 12, 0, tzinfo=UTC) if postgres else "2026-11-30 12:00:00",
    }
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO point_accounts (customer_id, balance, created_at, updated_at) "
                "VALUES ('cus_old', :amount, :at, :at)"
            ),
            row,
        )
        conn.execute(
            sa.text(
                "INSERT INTO point_adjustments (id, customer_id, delta, reason, balance_after, "
                "created_at) VALUES ('adj_old', 'cus_old', :amount, 'kept', :amount, :at)"
            ),
            row,
        )
    engine.dispose()
    migrated = subprocess.run(
        [SERVER_BIN, "migrate", "--database-url", url], capture_output=True, text=True, check=False
    )
    assert migrated.returncode == 0, migrated.stderr
    server = ServerProcess(url, workdir).start()
    try:
        with server.channel() as channel:
            stub = LoyaltyServiceStub(channel)
            balance = stub.GetPointsBalance(
                pb.GetPointsBalanceRequest(customer_id="cus_old", include_history=True), timeout=10
            )
            assert balance.balance == "40" and [a.reason for a in balance.history] == ["kept"]
            account = stub.CreateStoreCreditAccounts(
                pb.CreateStoreCreditAccountsRequest(
                    accounts=[pb.CreateStoreCreditAccountInput(currency_code="usd")]
                ),
                timeout=10,
            ).accounts[0]
            stub.CreditAccounts(
                pb.CreditAccountsRequest(
                    credits=[pb.AccountEntryInput(account_id=account.id, amount="3")]
                ),
                timeout=10,
            )
    finally:
        server.stop()
    assert verify(url).ok


def test_models_match_the_migrations(databases: DatabaseFactory) -> None:
    url = databases.new()
    _upgrade(url, "head")
    engine = sa.create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": False})
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == [], diff
