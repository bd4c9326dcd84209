"""`loyalty-server verify`: re-derive every balance from its ledger, read-only.

Invariants checked on the whole database (issue 7):

1. Every point account's stored balance equals the sum of its ledger deltas; every
   gift card's stored balance equals value - debits + credits, and 0 <= balance <= value.
2. A customer's ledger, in commit order (`seq`), is a chain: each row's
   `balance_after` is the previous row's `balance_after` (0 before the first)
   plus its `delta`, and the last one is the stored balance.
3. No point balance (stored or `balance_after`) below zero unless negative balances
   are allowed; no gift card balance below zero, ever.
4. One idempotency key is at most one ledger row (per customer, per gift card, per
   store-credit account), and a keyed row carries the request hash that replays are
   compared with.
5. Every store-credit account's credits and debits equal the totals of its
   transactions that are not voided, balance = credits - debits, and balance >= 0.
6. A gift card funded by a store-credit account has that account's balance (its
   own ledger is not where its money moves: invariant 1 does not apply to it).
7. Every point account's `held` is the sum of its active holds' points and (unless
   negative balances are allowed) at most its balance; every captured hold names
   the ledger debit of exactly its captured points, at most the points it held.
8. Every order earned once, its reversals total at most what it earned, and each
   order entry that moved points names the ledger row that moved exactly them.

Gift card ledgers are not checked as a chain: changing a card's `value` moves its
balance without a ledger row (balance = value - spent), so invariant 1 is the
check there.

Safe on a live database: on PostgreSQL everything is read in one REPEATABLE READ
READ ONLY transaction (one consistent snapshot, no locks taken that block writers);
on SQLite in one read transaction on a connection with `PRAGMA query_only`. Rows
are streamed in key order, so memory does not grow with the ledger.
"""

from __future__ import annotations

import itertools
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Context, Decimal, localcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, event, func, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from .domain.money import format_decimal
from .store.db import sync_url
from .store.models import (
    GiftCard,
    GiftCardTransaction,
    OrderPointsEntry,
    PointAccount,
    PointAdjustment,
    PointsHold,
    StoreCreditAccount,
    StoreCreditTransaction,
)

ZERO = Decimal(0)
BATCH = 2000
TABLES = (
    "point_accounts",
    "point_adjustments",
    "gift_cards",
    "gift_card_transactions",
    "store_credit_accounts",
    "store_credit_transactions",
    "point_holds",
    "order_point_entries",
)

_accounts = PointAccount.__table__
_adjustments = PointAdjustment.__table__
_cards = GiftCard.__table__
_transactions = GiftCardTransaction.__table__
_credit_accounts = StoreCreditAccount.__table__
_credit_ledger = StoreCreditTransaction.__table__
_holds = PointsHold.__table__
_order_entries = OrderPointsEntry.__table__


class CannotVerify(Exception):
    """The check could not run (no such database, no schema); nothing was judged."""


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    max_problems: int = 100
    allow_negative: bool = False
    accounts: int = 0
    adjustments: int = 0
    gift_cards: int = 0
    transactions: int = 0
    store_credit_accounts: int = 0
    store_credit_transactions: int = 0
    holds: int = 0
    order_entries: int = 0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add(self, problem: str) -> None:
        self.problem_count += 1
        if len(self.problems) < self.max_problems:
            self.problems.append(problem)

    def summary(self) -> str:
        scanned = (
            f"{self.accounts} point accounts ({self.adjustments} adjustments), "
            f"{self.gift_cards} gift cards ({self.transactions} transactions), "
            f"{self.store_credit_accounts} store-credit accounts "
            f"({self.store_credit_transactions} transactions), {self.holds} points holds, "
            f"{self.order_entries} order entries"
        )
        if self.ok:
            negative = (
                "no negative gift card balance (negative points allowed)"
                if self.allow_negative
                else "no negative balance"
            )
            return (
                f"OK: {scanned}: balances match their ledgers, ledgers chain, "
                f"{negative}, idempotency keys unique"
            )
        return f"FAILED: {self.problem_count} problem(s) in {scanned}"


def _m(value: Decimal) -> str:
    return format_decimal(value)


def _engine(url: str) -> Engine:
    parsed = sync_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or not Path(database).is_file():
            # sqlite would silently create an empty file; a typo must not pass as OK.
            raise CannotVerify(f"no SQLite database file at {database!r}")
        engine = create_engine(parsed, poolclass=NullPool)

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            dbapi_connection.execute("PRAGMA query_only=ON")
            dbapi_connection.execute("PRAGMA busy_timeout=10000")

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN")  # deferred: a read snapshot, no write lock

        return engine
    return create_engine(
        parsed,
        poolclass=NullPool,
        connect_args={"connect_timeout": 5},
        isolation_level="REPEATABLE READ",
        execution_options={"postgresql_readonly": True},
    )


def _stream(conn: Connection, statement: Any) -> Iterator[Any]:
    result = conn.execution_options(yield_per=BATCH).execute(statement)
    yield from result


def _check_points(conn: Connection, report: Report, allow_negative: bool) -> None:
    rows = _stream(
        conn,
        select(
            _accounts.c.customer_id,
            _accounts.c.balance,
            _adjustments.c.seq,
            _adjustments.c.id,
            _adjustments.c.delta,
            _adjustments.c.balance_after,
        )
        .select_from(
            _accounts.outerjoin(_adjustments, _adjustments.c.customer_id == _accounts.c.customer_id)
        )
        .order_by(_accounts.c.customer_id, _adjustments.c.seq),
    )
    for customer_id, group in itertools.groupby(rows, key=lambda row: row.customer_id):
        report.accounts += 1
        stored: Decimal | None = None
        running = ZERO
        total = ZERO
        for row in group:
            stored = row.balance
            if row.seq is None:  # an account without a single ledger row
                break
            report.adjustments += 1
            total += row.delta
            expected = running + row.delta
            if row.balance_after != expected:
                report.add(
                    f"customer {customer_id}: adjustment {row.id} (seq {row.seq}) has "
                    f"balance_after {_m(row.balance_after)}, but the previous balance "
                    f"{_m(running)} + delta {_m(row.delta)} = {_m(expected)}"
                )
            if row.balance_after < 0 and not allow_negative:
                report.add(
                    f"customer {customer_id}: adjustment {row.id} left the balance negative "
                    f"({_m(row.balance_after)})"
                )
            running = row.balance_after
        assert stored is not None
        if stored != total:
            report.add(
                f"customer {customer_id}: stored balance {_m(stored)} != sum of ledger "
                f"deltas {_m(total)}"
            )
        elif stored != running:
            report.add(
                f"customer {customer_id}: stored balance {_m(stored)} != last balance_after "
                f"{_m(running)}"
            )
        if stored < 0 and not allow_negative:
            report.add(f"customer {customer_id}: negative balance {_m(stored)}")

    orphans = conn.execute(
        select(_adjustments.c.customer_id, func.count())
        .where(
            ~select(_accounts.c.customer_id)
            .where(_accounts.c.customer_id == _adjustments.c.customer_id)
            .exists()
        )
        .group_by(_adjustments.c.customer_id)
        .order_by(_adjustments.c.customer_id)
    )
    for customer_id, count in orphans:
        report.adjustments += count
        report.add(f"customer {customer_id}: {count} adjustment(s) but no point account row")


def _check_gift_cards(conn: Connection, report: Report) -> None:
    rows = _stream(
        conn,
        select(
            _cards.c.id.label("card_id"),
            _cards.c.value,
            _cards.c.balance,
            _transactions.c.seq,
            _transactions.c.id,
            _transactions.c.type,
            _transactions.c.amount,
            _transactions.c.balance_after,
            _credit_accounts.c.id.label("funding_id"),
            _credit_accounts.c.balance.label("funding_balance"),
        )
        .select_from(
            _cards.outerjoin(_transactions, _transactions.c.gift_card_id == _cards.c.id).outerjoin(
                _credit_accounts, _credit_accounts.c.gift_card_id == _cards.c.id
            )
        )
        .order_by(_cards.c.id, _transactions.c.seq),
    )
    for card_id, group in itertools.groupby(rows, key=lambda row: row.card_id):
        report.gift_cards += 1
        value = balance = ZERO
        debits = credits = ZERO
        funding: tuple[str, Decimal] | None = None
        for row in group:
            value, balance = row.value, row.balance
            if row.funding_id is not None:
                funding = (row.funding_id, row.funding_balance)
            if row.seq is None:
                break
            report.transactions += 1
            if row.amount <= 0:
                report.add(
                    f"gift card {card_id}: transaction {row.id} has a non-positive amount "
                    f"{_m(row.amount)}"
                )
            if row.type == "debit":
                debits += row.amount
            elif row.type == "credit":
                credits += row.amount
            else:
                report.add(f"gift card {card_id}: transaction {row.id} has type {row.type!r}")
            if row.balance_after < 0:
                report.add(
                    f"gift card {card_id}: transaction {row.id} left the balance negative "
                    f"({_m(row.balance_after)})"
                )
        if funding is not None:  # invariant 6: its money is its account's
            if balance != funding[1]:
                report.add(
                    f"gift card {card_id}: stored balance {_m(balance)} != balance "
                    f"{_m(funding[1])} of the store-credit account {funding[0]} funding it"
                )
            continue
        expected = value - debits + credits
        if balance != expected:
            report.add(
                f"gift card {card_id}: stored balance {_m(balance)} != value {_m(value)} - "
                f"debits {_m(debits)} + credits {_m(credits)} = {_m(expected)}"
            )
        if balance < 0:
            report.add(f"gift card {card_id}: negative balance {_m(balance)}")
        elif balance > value:
            report.add(f"gift card {card_id}: balance {_m(balance)} above its value {_m(value)}")

    orphans = conn.execute(
        select(_transactions.c.gift_card_id, func.count())
        .where(~select(_cards.c.id).where(_cards.c.id == _transactions.c.gift_card_id).exists())
        .group_by(_transactions.c.gift_card_id)
        .order_by(_transactions.c.gift_card_id)
    )
    for card_id, count in orphans:
        report.transactions += count
        report.add(f"gift card {card_id}: {count} transaction(s) but no gift card row")


def _check_store_credit(conn: Connection, report: Report) -> None:
    rows = _stream(
        conn,
        select(
            _credit_accounts.c.id.label("account_id"),
            _credit_accounts.c.balance,
            _credit_accounts.c.credits,
            _credit_accounts.c.debits,
            _credit_ledger.c.seq,
            _credit_ledger.c.id,
            _credit_ledger.c.type,
            _credit_ledger.c.amount,
            _credit_ledger.c.deleted_at,
        )
        .select_from(
            _credit_accounts.outerjoin(
                _credit_ledger, _credit_ledger.c.account_id == _credit_accounts.c.id
            )
        )
        .order_by(_credit_accounts.c.id, _credit_ledger.c.seq),
    )
    for account_id, group in itertools.groupby(rows, key=lambda row: row.account_id):
        report.store_credit_accounts += 1
        stored = (ZERO, ZERO, ZERO)
        credits = debits = ZERO
        for row in group:
            stored = (row.balance, row.credits, row.debits)
            if row.seq is None:
                break
            report.store_credit_transactions += 1
            if row.amount <= 0:
                report.add(
                    f"store-credit account {account_id}: transaction {row.id} has a "
                    f"non-positive amount {_m(row.amount)}"
                )
            if row.type not in ("credit", "debit"):
                report.add(
                    f"store-credit account {account_id}: transaction {row.id} has type {row.type!r}"
                )
            elif row.deleted_at is None:  # voided ones count for nothing
                if row.type == "credit":
                    credits += row.amount
                else:
                    debits += row.amount
        balance, stored_credits, stored_debits = stored
        if (stored_credits, stored_debits) != (credits, debits):
            report.add(
                f"store-credit account {account_id}: stored credits {_m(stored_credits)} / "
                f"debits {_m(stored_debits)} != its transactions' {_m(credits)} / {_m(debits)}"
            )
        if balance != stored_credits - stored_debits:
            report.add(
                f"store-credit account {account_id}: stored balance {_m(balance)} != credits "
                f"{_m(stored_credits)} - debits {_m(stored_debits)}"
            )
        if balance < 0:
            report.add(f"store-credit account {account_id}: negative balance {_m(balance)}")


def _check_holds(conn: Connection, report: Report, allow_negative: bool) -> None:
    active: defaultdict[str, Decimal] = defaultdict(Decimal)
    for row in _stream(conn, select(_holds.c.customer_id, _holds.c.status, _holds.c.points)):
        report.holds += 1
        if row.status == "active":
            active[row.customer_id] += row.points
    accounts = select(_accounts.c.customer_id, _accounts.c.balance, _accounts.c.held)
    for row in _stream(conn, accounts.order_by(_accounts.c.customer_id)):
        expected = active.get(row.customer_id, ZERO)
        if row.held != expected:
            report.add(
                f"customer {row.customer_id}: held {_m(row.held)} != the points of its "
                f"active holds {_m(expected)}"
            )
        if row.held > row.balance and not allow_negative:
            report.add(
                f"customer {row.customer_id}: held {_m(row.held)} exceeds the balance "
                f"{_m(row.balance)}"
            )
    captured = (
        select(
            _holds.c.id,
            _holds.c.customer_id,
            _holds.c.points,
            _holds.c.captured_points,
            _adjustments.c.customer_id.label("adjustment_customer"),
            _adjustments.c.delta,
        )
        .select_from(_holds.outerjoin(_adjustments, _adjustments.c.id == _holds.c.adjustment_id))
        .where(_holds.c.status == "captured")
        .order_by(_holds.c.seq)
    )
    for row in _stream(conn, captured):
        taken = row.captured_points
        if (
            row.delta is None
            or taken is None
            or row.adjustment_customer != row.customer_id
            or row.delta != -taken
            or taken > row.points
        ):
            report.add(
                f"points hold {row.id}: captured {taken} of {_m(row.points)}, but its ledger "
                f"debit is {'missing' if row.delta is None else _m(row.delta)}"
            )


def _check_order_points(conn: Connection, report: Report) -> None:
    rows = _stream(
        conn,
        select(
            _order_entries.c.customer_id,
            _order_entries.c.order_id,
            _order_entries.c.kind,
            _order_entries.c.points,
            _order_entries.c.adjustment_id,
            _adjustments.c.delta,
        )
        .select_from(
            _order_entries.outerjoin(
                _adjustments, _adjustments.c.id == _order_entries.c.adjustment_id
            )
        )
        .order_by(_order_entries.c.customer_id, _order_entries.c.order_id, _order_entries.c.seq),
    )
    for (customer_id, order_id), group in itertools.groupby(
        rows, key=lambda row: (row.customer_id, row.order_id)
    ):
        earned = reversed_ = ZERO
        earns = 0
        for row in group:
            report.order_entries += 1
            sign = 1 if row.kind == "earn" else -1
            if row.kind == "earn":
                earns += 1
                earned += row.points
            else:
                reversed_ += row.points
            moved = row.points != 0
            if moved != (row.adjustment_id is not None) or (
                moved and row.delta != sign * row.points
            ):
                report.add(
                    f"customer {customer_id}, order {order_id}: a {row.kind} entry of "
                    f"{_m(row.points)} points has ledger delta "
                    f"{'none' if row.delta is None else _m(row.delta)}"
                )
        if earns != 1 or reversed_ > earned:
            report.add(
                f"customer {customer_id}, order {order_id}: {earns} earn entries, earned "
                f"{_m(earned)}, reversed {_m(reversed_)}"
            )


def _check_keys(conn: Connection, report: Report) -> None:
    for table, owner, what in (
        (_adjustments, _adjustments.c.customer_id, "customer"),
        (_transactions, _transactions.c.gift_card_id, "gift card"),
        (_credit_ledger, _credit_ledger.c.account_id, "store-credit account"),
    ):
        key = table.c.idempotency_key
        repeated = conn.execute(
            select(owner, key, func.count())
            .where(key.is_not(None))
            .group_by(owner, key)
            .having(func.count() > 1)
            .order_by(owner, key)
        )
        for owner_id, idempotency_key, count in repeated:
            report.add(
                f"{what} {owner_id}: idempotency key {idempotency_key!r} has {count} ledger rows"
            )
        unhashed = conn.execute(
            select(owner, key)
            .where(key.is_not(None), table.c.request_hash.is_(None))
            .order_by(owner, key)
        )
        for owner_id, idempotency_key in unhashed:
            report.add(
                f"{what} {owner_id}: ledger row with idempotency key {idempotency_key!r} has "
                "no request hash"
            )


def verify(database_url: str, *, allow_negative_balances: bool = False) -> Report:
    """Check invariants 1-4 on one consistent snapshot; never writes."""
    engine = _engine(database_url)
    try:
        with engine.connect() as conn:  # autobegins one transaction, rolled back at the end
            missing = [t for t in TABLES if not inspect(conn).has_table(t)]
            if missing:
                raise CannotVerify(
                    f"no loyalty schema (missing {', '.join(missing)}); is this the right "
                    "database? (loyalty-server migrate creates it)"
                )
            report = Report(allow_negative=allow_negative_balances)
            with localcontext(Context(prec=60)):  # sums of NUMERIC(30, 6) stay exact
                _check_points(conn, report, allow_negative_balances)
                _check_gift_cards(conn, report)
                _check_store_credit(conn, report)
                _check_holds(conn, report, allow_negative_balances)
                _check_order_points(conn, report)
            _check_keys(conn, report)
            conn.rollback()
        return report
    finally:
        engine.dispose()


def run(database_url: str, *, allow_negative_balances: bool = False) -> int:
    """The command: problems on stdout and exit 1, or one OK line and exit 0;
    exit 2 when the check cannot run at all."""
    try:
        report = verify(database_url, allow_negative_balances=allow_negative_balances)
    except CannotVerify as error:
        print(f"loyalty-server verify: {error}", file=sys.stderr)
        return 2
    except SQLAlchemyError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"loyalty-server verify: cannot read the database: {first}", file=sys.stderr)
        return 2
    for problem in report.problems:
        print(problem)
    if report.problem_count > len(report.problems):
        print(f"... and {report.problem_count - len(report.problems)} more")
    print(report.summary())
    return 0 if report.ok else 1
