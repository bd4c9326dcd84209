"""store credit: accounts and their transactions

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from loyalty_server.store.types import Money, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_LIVE_CUSTOMER = sa.text("customer_id IS NOT NULL AND deleted_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "store_credit_accounts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("currency_code", sa.String(length=3), nullable=False),
        sa.Column("balance", Money(), nullable=False),
        sa.Column("credits", Money(), nullable=False),
        sa.Column("debits", Money(), nullable=False),
        sa.Column("gift_card_id", sa.String(length=40), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["gift_card_id"],
            ["gift_cards.id"],
            name=op.f("fk_store_credit_accounts_gift_card_id_gift_cards"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_credit_accounts")),
        sa.UniqueConstraint("code", name=op.f("uq_store_credit_accounts_code")),
        sa.UniqueConstraint("gift_card_id", name=op.f("uq_store_credit_accounts_gift_card_id")),
    )
    op.create_index(
        "uq_store_credit_accounts_customer_currency",
        "store_credit_accounts",
        ["customer_id", "currency_code"],
        unique=True,
        postgresql_where=_LIVE_CUSTOMER,
        sqlite_where=_LIVE_CUSTOMER,
    )
    op.create_index("ix_store_credit_accounts_created_at", "store_credit_accounts", ["created_at"])
    op.create_table(
        "store_credit_transactions",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=8), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reference", sa.String(length=255), nullable=False),
        sa.Column("reference_id", sa.String(length=255), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["store_credit_accounts.id"],
            name=op.f("fk_store_credit_transactions_account_id_store_credit_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_store_credit_transactions")),
        sa.UniqueConstraint(
            "account_id",
            "idempotency_key",
            name=op.f("uq_store_credit_transactions_account_id_idempotency_key"),
        ),
        sa.UniqueConstraint("id", name=op.f("uq_store_credit_transactions_id")),
    )
    op.create_index(
        "ix_store_credit_transactions_account_seq",
        "store_credit_transactions",
        ["account_id", "seq"],
    )
    op.create_index(
        "ix_store_credit_transactions_reference_id",
        "store_credit_transactions",
        ["reference_id"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_store_credit_transactions_reference_id", table_name="store_credit_transactions"
    )
    op.drop_index(
        "ix_store_credit_transactions_account_seq", table_name="store_credit_transactions"
    )
    op.drop_table("store_credit_transactions")
    op.drop_index("ix_store_credit_accounts_created_at", table_name="store_credit_accounts")
    op.drop_index("uq_store_credit_accounts_customer_currency", table_name="store_credit_accounts")
    op.drop_table("store_credit_accounts")
