"""points holds and order points: held on the account, holds, order entries

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03

Compatible for a rolling restart: running 0.2.0 servers ignore the new column
(its default keeps their inserts valid) and the new tables. Finish the rollout
before callers use holds: a 0.2.0 process does not know `held` and would let a
negative AdjustPoints spend held points.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from loyalty_server.store.types import Money, UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("point_accounts") as batch:
        batch.add_column(sa.Column("held", Money(), server_default=sa.text("0"), nullable=False))
    op.create_table(
        "point_holds",
        sa.Column("seq", _SEQ, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=False),
        sa.Column("points", Money(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=False),
        sa.Column("reference_id", sa.String(length=255), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("captured_points", Money(), nullable=True),
        sa.Column("adjustment_id", sa.String(length=40), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["point_accounts.customer_id"],
            name=op.f("fk_point_holds_customer_id_point_accounts"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_point_holds")),
        sa.UniqueConstraint(
            "customer_id",
            "idempotency_key",
            name=op.f("uq_point_holds_customer_id_idempotency_key"),
        ),
        sa.UniqueConstraint("id", name=op.f("uq_point_holds_id")),
    )
    op.create_index("ix_point_holds_customer_seq", "point_holds", ["customer_id", "seq"])
    op.create_index("ix_point_holds_reference_id", "point_holds", ["reference_id"])
    op.create_table(
        "order_point_entries",
        sa.Column("seq", _SEQ, autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=False),
        sa.Column("order_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("entry_key", sa.String(length=255), nullable=False),
        sa.Column("requested", sa.String(length=48), nullable=False),
        sa.Column("points", Money(), nullable=False),
        sa.Column("adjustment_id", sa.String(length=40), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["point_accounts.customer_id"],
            name=op.f("fk_order_point_entries_customer_id_point_accounts"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_order_point_entries")),
        sa.UniqueConstraint(
            "customer_id",
            "order_id",
            "kind",
            "entry_key",
            name=op.f("uq_order_point_entries_customer_id_order_id_kind_entry_key"),
        ),
    )


def downgrade() -> None:
    op.drop_table("order_point_entries")
    op.drop_index("ix_point_holds_reference_id", table_name="point_holds")
    op.drop_index("ix_point_holds_customer_seq", table_name="point_holds")
    op.drop_table("point_holds")
    with op.batch_alter_table("point_accounts") as batch:
        batch.drop_column("held")
