"""Store credit records: accounts, their transactions, the requests on them and
the list filters. Values only; the rules and use cases are in store_credit.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from .records import ColumnFilters

CREDIT = "credit"
DEBIT = "debit"
TYPES = (CREDIT, DEBIT)
GIFT_CARD_REFERENCE = "gift_card"
UPDATABLE = ("customer_id", "code", "currency_code", "metadata")


@dataclass(frozen=True)
class AccountFilters(ColumnFilters):
    """Filters of ListStoreCreditAccounts; an empty tuple means "no filter"."""

    id: Sequence[str] = ()
    customer_id: Sequence[str] = ()
    currency_code: Sequence[str] = ()
    code: Sequence[str] = ()
    q: str = ""
    with_deleted: bool = False


@dataclass(frozen=True)
class TransactionFilters(ColumnFilters):
    """Filters of ListAccountTransactions; an empty tuple means "no filter"."""

    id: Sequence[str] = ()
    account_id: Sequence[str] = ()
    type: Sequence[str] = ()
    reference: Sequence[str] = ()
    reference_id: Sequence[str] = ()
    with_deleted: bool = False


#: The columns each list filters on (each: any of the values given).
ACCOUNT_FILTERS = AccountFilters.names()
TRANSACTION_FILTERS = TransactionFilters.names()


@dataclass(frozen=True)
class Account:
    id: str
    customer_id: str | None
    code: str | None
    currency_code: str
    metadata: dict[str, Any] | None
    balance: Decimal
    credits: Decimal
    debits: Decimal
    gift_card_id: str | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


@dataclass(frozen=True)
class AccountTransaction:
    id: str
    account_id: str
    type: str
    amount: Decimal
    note: str | None
    reference: str
    reference_id: str
    metadata: dict[str, Any] | None
    created_at: datetime
    deleted_at: datetime | None


@dataclass(frozen=True)
class NewAccount:
    currency_code: str
    customer_id: str | None = None
    code: str | None = None
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True)
class AccountChanges:
    """A partial update: only the keys in `changes` move; None clears a field."""

    id: str
    changes: Mapping[str, Any]


@dataclass(frozen=True)
class Entry:
    """One credit or debit of an account."""

    account_id: str
    amount: str
    note: str | None = None
    reference: str = ""
    reference_id: str = ""
    metadata: dict[str, Any] | None = None
    idempotency_key: str = ""


@dataclass(frozen=True)
class Movement:
    transactions: list[AccountTransaction]
    # Every item matched an earlier request by its key: nothing applied now.
    replayed: bool = False


@dataclass(frozen=True)
class Stats:
    id: str
    balance: Decimal
    credits: Decimal
    debits: Decimal


@dataclass(frozen=True)
class AccountQuery:
    filters: AccountFilters = field(default_factory=AccountFilters)
    skip: int = 0
    take: int | None = None
    order: str = ""
    with_count: bool = False


@dataclass(frozen=True)
class TransactionQuery:
    filters: TransactionFilters = field(default_factory=TransactionFilters)
    skip: int = 0
    take: int | None = None
    order: str = ""
    with_count: bool = False
