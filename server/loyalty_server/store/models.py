"""The schema: typed SQLAlchemy models. Balances live on rows; ledgers are append-only.

Ledger rows carry a `seq` from the database's own counter: inserts of one
customer or card are serialized by the row lock on its balance, so `seq` is the
commit order that the balance_after chain follows.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .types import Money, UTCDateTime

SequenceId = BigInteger().with_variant(Integer(), "sqlite")  # INTEGER PRIMARY KEY = rowid

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class PointAccount(Base):
    __tablename__ = "point_accounts"

    customer_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    balance: Mapped[Decimal] = mapped_column(Money)
    # The points of the account's holds whose status is "active", expired or not:
    # an upper bound of what is reserved, changed only under the row lock, so the
    # one-statement paths can check `balance + delta - held >= floor` on the row
    # alone (conservative; the locking path counts expiry exactly).
    held: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PointAdjustment(Base):
    __tablename__ = "point_adjustments"
    __table_args__ = (
        UniqueConstraint("customer_id", "idempotency_key"),
        Index("ix_point_adjustments_customer_seq", "customer_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(SequenceId, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[str] = mapped_column(String(255), ForeignKey("point_accounts.customer_id"))
    delta: Mapped[Decimal] = mapped_column(Money)
    reason: Mapped[str] = mapped_column(String(512))
    balance_after: Mapped[Decimal] = mapped_column(Money)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PointsHold(Base):
    """Points reserved for a purpose (a cart) until captured, released or expired.
    Expiry is a time, not a state change: an "active" hold past expires_at
    reserves nothing, whoever reads it (the locking path then marks it expired)."""

    __tablename__ = "point_holds"
    __table_args__ = (
        UniqueConstraint("customer_id", "idempotency_key"),
        Index("ix_point_holds_customer_seq", "customer_id", "seq"),
        Index("ix_point_holds_reference_id", "reference_id"),
    )

    seq: Mapped[int] = mapped_column(SequenceId, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[str] = mapped_column(String(255), ForeignKey("point_accounts.customer_id"))
    points: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(255))
    reference_id: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    captured_points: Mapped[Decimal | None] = mapped_column(Money)
    adjustment_id: Mapped[str | None] = mapped_column(String(40))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OrderPointsEntry(Base):
    """What an order did to its customer's points: one "earn" (entry_key "") and
    any number of keyed "reverse" entries. An order's earned and reversed totals
    are sums over its few entries, read under the account's row lock."""

    __tablename__ = "order_point_entries"
    __table_args__ = (UniqueConstraint("customer_id", "order_id", "kind", "entry_key"),)

    seq: Mapped[int] = mapped_column(SequenceId, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(String(255), ForeignKey("point_accounts.customer_id"))
    order_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(8))
    entry_key: Mapped[str] = mapped_column(String(255))
    # What was asked (empty for "all that is left") and what moved.
    requested: Mapped[str] = mapped_column(String(48))
    points: Mapped[Decimal] = mapped_column(Money)
    adjustment_id: Mapped[str | None] = mapped_column(String(40))
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GiftCard(Base):
    __tablename__ = "gift_cards"
    __table_args__ = (
        Index("ix_gift_cards_created_at", "created_at"),
        Index("ix_gift_cards_customer_id", "customer_id"),
        Index("ix_gift_cards_reference_id", "reference_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    value: Mapped[Decimal] = mapped_column(Money)
    balance: Mapped[Decimal] = mapped_column(Money)
    currency_code: Mapped[str] = mapped_column(String(3))
    customer_id: Mapped[str | None] = mapped_column(String(255))
    reference_id: Mapped[str | None] = mapped_column(String(255))
    reference: Mapped[str | None] = mapped_column(String(255))
    line_item_id: Mapped[str | None] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "metadata" is reserved on declarative classes; the column keeps Medusa's name.
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class GiftCardTransaction(Base):
    __tablename__ = "gift_card_transactions"
    __table_args__ = (
        UniqueConstraint("gift_card_id", "idempotency_key"),
        Index("ix_gift_card_transactions_card_seq", "gift_card_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(SequenceId, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    gift_card_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("gift_cards.id", ondelete="CASCADE")
    )
    type: Mapped[str] = mapped_column(String(8))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency_code: Mapped[str] = mapped_column(String(3))
    balance_after: Mapped[Decimal] = mapped_column(Money)
    reference: Mapped[str] = mapped_column(String(255))
    reference_id: Mapped[str] = mapped_column(String(255))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StoreCreditAccount(Base):
    """Balance and its two running totals on the row: balance = credits - debits."""

    __tablename__ = "store_credit_accounts"
    __table_args__ = (
        # One live account per customer and currency (the plugin's own rule).
        Index(
            "uq_store_credit_accounts_customer_currency",
            "customer_id",
            "currency_code",
            unique=True,
            postgresql_where=text("customer_id IS NOT NULL AND deleted_at IS NULL"),
            sqlite_where=text("customer_id IS NOT NULL AND deleted_at IS NULL"),
        ),
        Index("ix_store_credit_accounts_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(255))
    code: Mapped[str | None] = mapped_column(String(64), unique=True)
    currency_code: Mapped[str] = mapped_column(String(3))
    balance: Mapped[Decimal] = mapped_column(Money)
    credits: Mapped[Decimal] = mapped_column(Money)
    debits: Mapped[Decimal] = mapped_column(Money)
    # The gift card this account funds (see domain/store_credit.py), at most one.
    gift_card_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("gift_cards.id", ondelete="SET NULL"), unique=True
    )
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StoreCreditTransaction(Base):
    """A credit or debit; voided (deleted_at set) rather than removed, so the
    audit trail keeps it while balances and totals leave it out."""

    __tablename__ = "store_credit_transactions"
    __table_args__ = (
        UniqueConstraint("account_id", "idempotency_key"),
        Index("ix_store_credit_transactions_account_seq", "account_id", "seq"),
        Index("ix_store_credit_transactions_reference_id", "reference_id"),
    )

    seq: Mapped[int] = mapped_column(SequenceId, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    account_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("store_credit_accounts.id", ondelete="CASCADE")
    )
    type: Mapped[str] = mapped_column(String(8))
    amount: Mapped[Decimal] = mapped_column(Money)
    note: Mapped[str | None] = mapped_column(Text)
    reference: Mapped[str] = mapped_column(String(255))
    reference_id: Mapped[str] = mapped_column(String(255))
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSON)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
