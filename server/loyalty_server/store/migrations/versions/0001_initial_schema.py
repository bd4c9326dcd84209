"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from loyalty_server.store.types import Money, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gift_cards",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("value", Money(), nullable=False),
        sa.Column("balance", Money(), nullable=False),
        sa.Column("currency_code", sa.String(length=3), nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=True),
        sa.Column("reference_id", sa.String(length=255), nullable=True),
        sa.Column("reference", sa.String(length=255), nullable=True),
        sa.Column("line_item_id", sa.String(length=255), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gift_cards")),
        sa.UniqueConstraint("code", name=op.f("uq_gift_cards_code")),
    )
    op.create_index("ix_gift_cards_created_at", "gift_cards", ["created_at"], unique=False)
    op.create_index("ix_gift_cards_customer_id", "gift_cards", ["customer_id"], unique=False)
    op.create_index("ix_gift_cards_reference_id", "gift_cards", ["reference_id"], unique=False)
    op.create_table(
        "point_accounts",
        sa.Column("customer_id", sa.String(length=255), nullable=False),
        sa.Column("balance", Money(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_point_accounts")),
    )
    op.create_table(
        "gift_card_transactions",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("gift_card_id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=8), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("currency_code", sa.String(length=3), nullable=False),
        sa.Column("balance_after", Money(), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=False),
        sa.Column("reference_id", sa.String(length=255), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["gift_card_id"],
            ["gift_cards.id"],
            name=op.f("fk_gift_card_transactions_gift_card_id_gift_cards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_gift_card_transactions")),
        sa.UniqueConstraint(
            "gift_card_id",
            "idempotency_key",
            name=op.f("uq_gift_card_transactions_gift_card_id_idempotency_key"),
        ),
        sa.UniqueConstraint("id", name=op.f("uq_gift_card_transactions_id")),
    )
    op.create_index(
        "ix_gift_card_transactions_card_seq",
        "gift_card_transactions",
        ["gift_card_id", "seq"],
        unique=False,
    )
    op.create_table(
        "point_adjustments",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=False),
        sa.Column("delta", Money(), nullable=False),
        sa.Column("reason", sa.String(length=512), nullable=False),
        sa.Column("balance_after", Money(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["point_accounts.customer_id"],
            name=op.f("fk_point_adjustments_customer_id_point_accounts"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_point_adjustments")),
        sa.UniqueConstraint(
            "customer_id",
            "idempotency_key",
            name=op.f("uq_point_adjustments_customer_id_idempotency_key"),
        ),
        sa.UniqueConstraint("id", name=op.f("uq_point_adjustments_id")),
    )
    op.create_index(
        "ix_point_adjustments_customer_seq",
        "point_adjustments",
        ["customer_id", "seq"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_point_adjustments_customer_seq", table_name="point_adjustments")
    op.drop_table("point_adjustments")
    op.drop_index("ix_gift_card_transactions_card_seq", table_name="gift_card_transactions")
    op.drop_table("gift_card_transactions")
    op.drop_table("point_accounts")
    op.drop_index("ix_gift_cards_reference_id", table_name="gift_cards")
    op.drop_index("ix_gift_cards_customer_id", table_name="gift_cards")
    op.drop_index("ix_gift_cards_created_at", table_name="gift_cards")
    op.drop_table("gift_cards")
