"""Store credit through LoyaltyClient and AsyncLoyaltyClient, against the real server
(SQLite and PostgreSQL): every method, exact decimals, keys, lists, every error class."""

from __future__ import annotations

import asyncio
import inspect
import random
import socket
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import grpc
import pytest

from loyalty.v1 import loyalty_pb2 as pb
from loyalty_client import (
    NO_RETRY,
    UNSET,
    AccountEntry,
    AccountMovementResult,
    AccountStats,
    AccountTransaction,
    AccountTransactionResult,
    AccountTransactionType,
    AsyncLoyaltyClient,
    Conflict,
    Duplicate,
    InvalidData,
    InvalidResponse,
    LoyaltyClient,
    NewGiftCard,
    NewStoreCreditAccount,
    NotAllowed,
    NotFound,
    RetryPolicy,
    StoreCreditAccount,
    StoreCreditAccountList,
    StoreCreditAccountUpdate,
    Unavailable,
    convert,
)

CREDIT = AccountTransactionType.CREDIT
DEBIT = AccountTransactionType.DEBIT


@pytest.fixture
def client(loyalty_server: Any) -> Iterator[LoyaltyClient]:
    with LoyaltyClient(loyalty_server.target, timeout=10) as c:
        yield c


def totals(client: LoyaltyClient, account_id: str) -> tuple[Decimal, Decimal, Decimal]:
    stats = client.retrieve_account_stats(account_id)
    return stats.balance, stats.credits, stats.debits


def anonymous(client: LoyaltyClient, code: str, currency: str = "usd") -> StoreCreditAccount:
    return client.create_store_credit_account(NewStoreCreditAccount(currency, code=code))


# ---------------------------------------------------------------- accounts


def test_create_retrieve_and_update_accounts(client: LoyaltyClient, uid: str) -> None:
    mine = client.create_store_credit_account(
        NewStoreCreditAccount(
            currency_code="EUR",
            customer_id=f"cus_{uid}",
            metadata={"tier": "gold", "n": 3, "nested": {"ok": True}},
        )
    )
    assert isinstance(mine, StoreCreditAccount)
    assert mine.id.startswith("sc_acc_") and len(mine.id) == len("sc_acc_") + 26
    assert (mine.customer_id, mine.code, mine.currency_code) == (f"cus_{uid}", None, "eur")
    assert (mine.balance, mine.credits, mine.debits) == (Decimal(0), Decimal(0), Decimal(0))
    assert mine.metadata == {"tier": "gold", "n": 3, "nested": {"ok": True}}
    assert mine.gift_card_id is None and mine.deleted_at is None
    assert mine.created_at is not None and mine.created_at.utcoffset() == timedelta(0)

    anon, other = client.create_store_credit_accounts(
        [
            NewStoreCreditAccount("usd", code=f"SC-{uid}"),
            NewStoreCreditAccount("gbp", customer_id=f"cus_{uid}"),
        ]
    )
    assert (anon.code, anon.customer_id, anon.metadata) == (f"SC-{uid}", None, None)
    assert other.currency_code == "gbp"

    assert client.retrieve_store_credit_account(id=mine.id) == mine
    assert client.retrieve_store_credit_account(code=f"SC-{uid}") == anon
    with pytest.raises(ValueError, match="exactly one"):
        client.retrieve_store_credit_account(id=mine.id, code=f"SC-{uid}")
    with pytest.raises(ValueError, match="exactly one"):
        client.retrieve_store_credit_account()

    # A value sets a field, UNSET leaves the others alone.
    assert StoreCreditAccountUpdate(id="x").code is UNSET
    named = client.update_store_credit_account(
        StoreCreditAccountUpdate(id=anon.id, customer_id=f"cus_anon_{uid}")
    )
    assert (named.customer_id, named.code, named.currency_code) == (
        f"cus_anon_{uid}",
        f"SC-{uid}",
        "usd",
    )
    # None clears (through an update mask); the other named fields are still written.
    cleared = client.update_store_credit_account(
        StoreCreditAccountUpdate(id=mine.id, metadata=None, code=f"SC-M-{uid}")
    )
    assert (cleared.metadata, cleared.code, cleared.customer_id) == (
        None,
        f"SC-M-{uid}",
        f"cus_{uid}",
    )
    uncoded = client.update_store_credit_account(StoreCreditAccountUpdate(id=mine.id, code=None))
    assert (uncoded.code, uncoded.customer_id) == (None, f"cus_{uid}")
    assert client.retrieve_store_credit_account(id=mine.id) == uncoded

    # currency_code changes while there are no transactions, then it is refused.
    moved, still = client.update_store_credit_accounts(
        [
            StoreCreditAccountUpdate(id=anon.id, currency_code="CHF"),
            StoreCreditAccountUpdate(id=mine.id, metadata={"tier": "silver"}),
        ]
    )
    assert (moved.currency_code, still.metadata) == ("chf", {"tier": "silver"})
    client.credit_account(anon.id, 5)
    with pytest.raises(NotAllowed, match="currency_code cannot change") as refused:
        client.update_store_credit_account(
            StoreCreditAccountUpdate(id=anon.id, currency_code="usd")
        )
    assert refused.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert client.retrieve_store_credit_account(id=anon.id).currency_code == "chf"

    with pytest.raises(TypeError, match="NewStoreCreditAccount"):
        client.create_store_credit_accounts([{"currency_code": "usd"}])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="StoreCreditAccountUpdate"):
        client.update_store_credit_accounts([mine])  # type: ignore[list-item]


def test_one_live_account_per_customer_and_currency(client: LoyaltyClient, uid: str) -> None:
    customer = f"cus_dup_{uid}"
    first = client.create_store_credit_account(NewStoreCreditAccount("usd", customer_id=customer))
    with pytest.raises(Duplicate) as caught:
        client.create_store_credit_account(NewStoreCreditAccount("USD", customer_id=customer))
    assert (caught.value.code, caught.value.reason) == (
        grpc.StatusCode.ALREADY_EXISTS,
        "DUPLICATE_ERROR",
    )
    anonymous(client, f"SC-D-{uid}")
    with pytest.raises(Duplicate):
        anonymous(client, f"SC-D-{uid}", "eur")
    # Soft-deleted, the pair is free again; restoring the old one then clashes.
    assert client.soft_delete_store_credit_accounts([first.id]) == (first.id,)
    second = client.create_store_credit_account(NewStoreCreditAccount("usd", customer_id=customer))
    with pytest.raises(Duplicate):
        client.restore_store_credit_accounts([first.id])
    assert second.id != first.id


def test_soft_delete_restore_delete(client: LoyaltyClient, uid: str) -> None:
    a = anonymous(client, f"SC-SD-A-{uid}")
    b = anonymous(client, f"SC-SD-B-{uid}")
    assert client.soft_delete_store_credit_accounts([a.id]) == (a.id,)
    assert client.soft_delete_store_credit_accounts([a.id]) == ()  # already deleted
    with pytest.raises(NotFound):
        client.retrieve_store_credit_account(id=a.id)
    with pytest.raises(NotFound):
        client.credit_account(a.id, 1)
    with pytest.raises(NotFound):
        client.retrieve_account_stats(a.id)
    codes = [a.code or "", b.code or ""]
    assert [x.id for x in client.list_store_credit_accounts(code=codes).accounts] == [b.id]
    hidden = client.list_store_credit_accounts(code=codes, with_deleted=True, order="code ASC")
    assert [x.id for x in hidden.accounts] == [a.id, b.id]
    assert hidden.accounts[0].deleted_at is not None and hidden.accounts[1].deleted_at is None

    assert client.restore_store_credit_accounts([a.id]) == (a.id,)
    assert client.restore_store_credit_accounts([a.id]) == ()
    assert client.retrieve_store_credit_account(id=a.id).deleted_at is None
    client.credit_account(a.id, "2.5")

    assert set(client.delete_store_credit_accounts([a.id, b.id, "sc_acc_unknown"])) == {a.id, b.id}
    with pytest.raises(NotFound):
        client.retrieve_store_credit_account(code=a.code)
    assert client.list_store_credit_accounts(code=codes, with_deleted=True).accounts == ()


# --------------------------------------------------------------- movements


def test_credit_debit_stats_and_exact_decimals(client: LoyaltyClient, uid: str) -> None:
    account = client.create_store_credit_account(
        NewStoreCreditAccount("usd", customer_id=f"cus_m_{uid}")
    )
    first = client.credit_account(
        account.id,
        "100",
        note="welcome",
        reference="user",
        reference_id="u1",
        metadata={"campaign": "spring"},
    )
    assert isinstance(first, AccountTransactionResult) and first.replayed is False
    tx = first.transaction
    assert isinstance(tx, AccountTransaction)
    assert tx.id.startswith("sc_trx_") and tx.account_id == account.id
    assert (tx.type, tx.amount, tx.note) == (CREDIT, Decimal(100), "welcome")
    assert (tx.reference, tx.reference_id, tx.metadata) == ("user", "u1", {"campaign": "spring"})
    assert tx.created_at is not None and tx.deleted_at is None

    # 0.1 + 0.2 is 0.3 here, not 0.30000000000000004.
    client.credit_account(account.id, "0.1")
    client.credit_account(account.id, Decimal("0.2"))
    client.credit_account(account.id, Decimal("0.000001"))
    assert totals(client, account.id) == (Decimal("100.300001"), Decimal("100.300001"), 0)
    spent = client.debit_account(account.id, Decimal("30.25"), reference="order")
    assert (spent.transaction.type, spent.transaction.amount) == (DEBIT, Decimal("30.25"))
    assert spent.transaction.note is None and spent.transaction.metadata is None
    assert client.debit_account(account.id, Decimal("1E+1")).transaction.amount == Decimal(10)

    stats = client.retrieve_account_stats(account.id)
    assert isinstance(stats, AccountStats)
    assert (stats.id, stats.balance, stats.credits, stats.debits) == (
        account.id,
        Decimal("60.050001"),
        Decimal("100.300001"),
        Decimal("40.25"),
    )
    read = client.retrieve_store_credit_account(id=account.id)
    assert (read.balance, read.credits, read.debits) == (stats.balance, stats.credits, stats.debits)

    # Overdraft: refused, nothing changed.
    with pytest.raises(NotAllowed) as caught:
        client.debit_account(account.id, "60.050002")
    assert (caught.value.code, caught.value.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "NOT_ALLOWED",
    )
    assert "insufficient store credit" in caught.value.message
    assert totals(client, account.id)[0] == Decimal("60.050001")
    assert client.debit_account(account.id, "60.050001").transaction.amount == Decimal("60.050001")
    assert totals(client, account.id)[0] == 0

    # with_options: the same methods on the same connection.
    fast = client.with_options(timeout=5, retry=NO_RETRY)
    assert fast.retrieve_account_stats(account.id).debits == Decimal("100.300001")


def test_floats_and_bad_amounts_never_leave_the_client(client: LoyaltyClient, uid: str) -> None:
    account = anonymous(client, f"SC-F-{uid}")
    with pytest.raises(TypeError, match="float"):
        client.credit_account(account.id, 0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="float"):
        client.debit_account(account.id, 1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"credits\[1\]\.amount.*float"):
        client.credit_accounts(
            [AccountEntry(account.id, 1), AccountEntry(account.id, 2.5)]  # type: ignore[arg-type]
        )
    with pytest.raises(TypeError):
        client.credit_account(account.id, True)
    with pytest.raises(ValueError, match="finite"):
        client.credit_account(account.id, Decimal("Infinity"))
    with pytest.raises(ValueError, match="finite"):
        client.credit_account(account.id, 1, metadata={"x": float("nan")})
    with pytest.raises(TypeError, match="AccountEntry"):
        client.debit_accounts([(account.id, 1)])  # type: ignore[list-item]
    assert totals(client, account.id) == (0, 0, 0)
    assert client.list_account_transactions(account_id=account.id).transactions == ()


def test_credit_and_debit_many_are_all_or_nothing(client: LoyaltyClient, uid: str) -> None:
    a = anonymous(client, f"SC-A-{uid}")
    b = anonymous(client, f"SC-B-{uid}")
    funded = client.credit_accounts(
        [AccountEntry(a.id, 10, reference="topup"), AccountEntry(b.id, "5", note="b")]
    )
    assert isinstance(funded, AccountMovementResult) and funded.replayed is False
    assert [(t.account_id, t.amount, t.type) for t in funded.transactions] == [
        (a.id, Decimal(10), CREDIT),
        (b.id, Decimal(5), CREDIT),
    ]
    with pytest.raises(NotAllowed) as caught:
        client.debit_accounts(
            [AccountEntry(a.id, 4), AccountEntry(b.id, 3), AccountEntry(b.id, 3)]  # 6 > 5
        )
    assert caught.value.message.startswith("debits[2]:"), caught.value.message
    assert (totals(client, a.id)[0], totals(client, b.id)[0]) == (10, 5)
    with pytest.raises(NotFound):
        client.credit_accounts([AccountEntry(a.id, 4), AccountEntry(f"sc_acc_no_{uid}", 1)])
    assert totals(client, a.id)[0] == 10

    spent = client.debit_accounts([AccountEntry(a.id, 4), AccountEntry(b.id, "5")])
    assert [t.type for t in spent.transactions] == [DEBIT, DEBIT]
    assert (totals(client, a.id), totals(client, b.id)) == ((6, 10, 4), (0, 5, 5))


def test_idempotency_keys(client: LoyaltyClient, uid: str) -> None:
    account = anonymous(client, f"SC-K-{uid}")
    first = client.credit_account(account.id, 7, reference="r", idempotency_key=f"k-{uid}")
    again = client.credit_account(account.id, 7, reference="r", idempotency_key=f"k-{uid}")
    assert (first.replayed, again.replayed) == (False, True)
    assert again.transaction == first.transaction
    assert totals(client, account.id)[0] == 7

    # The same key with another request is a conflict, and applies nothing.
    with pytest.raises(Conflict) as caught:
        client.credit_account(account.id, 8, reference="r", idempotency_key=f"k-{uid}")
    assert (caught.value.code, caught.value.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "CONFLICT",
    )
    with pytest.raises(Conflict):
        client.credit_account(account.id, 7, reference="other", idempotency_key=f"k-{uid}")
    # One key twice for one account in one request is bad input.
    with pytest.raises(InvalidData):
        client.debit_accounts(
            [AccountEntry(account.id, 1, idempotency_key="d")] * 2,
        )
    assert totals(client, account.id)[0] == 7

    # No key given: the client makes a fresh one per call, so two calls are two credits
    # (and, like "" which sends none, they never replay each other).
    entry = AccountEntry(account.id, 1)
    twice = [client.credit_accounts([entry]), client.credit_accounts([entry])]
    assert twice[0].transactions[0].id != twice[1].transactions[0].id
    assert not twice[0].replayed and not twice[1].replayed
    client.debit_account(account.id, 1, idempotency_key="")
    client.debit_account(account.id, 1, idempotency_key="")
    assert totals(client, account.id) == (Decimal(7), Decimal(9), Decimal(2))

    # A batch whose every item is keyed replays as a whole.
    keyed = [
        AccountEntry(account.id, 2, idempotency_key=f"b1-{uid}"),
        AccountEntry(account.id, 3, idempotency_key=f"b2-{uid}"),
    ]
    batch = client.debit_accounts(keyed)
    replay = client.debit_accounts(keyed)
    assert (batch.replayed, replay.replayed) == (False, True)
    assert replay.transactions == batch.transactions
    assert totals(client, account.id)[0] == Decimal(2)


def test_retry_rule_and_generated_keys() -> None:
    """Which ops may run twice, decided without a server."""
    entry = AccountEntry("sc_acc_1", "1.50")
    op = convert.credit_accounts([entry, AccountEntry("sc_acc_2", 2, idempotency_key="mine")])
    assert (op.method, op.retryable) == ("CreditAccounts", True)
    assert isinstance(op.request, pb.CreditAccountsRequest)
    generated, given = (item.idempotency_key for item in op.request.credits)
    assert len(generated) == 36 and given == "mine"
    assert op.request.credits[0].amount == "1.50"
    assert not op.request.credits[0].HasField("note")
    # Each call makes new keys: a retry reuses the request, a new call does not.
    assert convert.credit_accounts([entry]).request.credits[0].idempotency_key != generated
    mixed = convert.debit_accounts([entry, AccountEntry("sc_acc_2", 2, idempotency_key="")])
    assert (mixed.method, mixed.retryable) == ("DebitAccounts", False)
    assert mixed.request.debits[1].idempotency_key == ""
    assert convert.debit_account(entry).retryable is True
    assert convert.credit_account(AccountEntry("a", 1, idempotency_key="")).retryable is False
    assert convert.credit_accounts([]).retryable is False
    reads = [
        convert.retrieve_store_credit_account(id="x"),
        convert.list_store_credit_accounts(),
        convert.retrieve_account_stats("x"),
        convert.list_account_transactions(type="debit"),
    ]
    assert all(r.retryable for r in reads)
    writes = [
        convert.create_store_credit_accounts([NewStoreCreditAccount("usd")]),
        convert.update_store_credit_accounts([StoreCreditAccountUpdate("x", code="C")]),
        convert.delete_store_credit_accounts(["x"]),
        convert.soft_delete_store_credit_accounts(["x"]),
        convert.restore_store_credit_accounts(["x"]),
        convert.delete_account_transactions(["x"]),
    ]
    assert not any(w.retryable for w in writes)
    # An update sends a mask only when it clears something, naming every field it sets.
    plain = convert.update_store_credit_accounts([StoreCreditAccountUpdate("x", code="C")])
    assert not plain.request.accounts[0].HasField("update_mask")
    masked = convert.update_store_credit_accounts(
        [StoreCreditAccountUpdate("x", code=None, customer_id="c")]
    ).request.accounts[0]
    assert list(masked.update_mask.paths) == ["customer_id", "code"]
    assert not masked.HasField("code") and masked.customer_id == "c"


class CountingRandom(random.Random):
    """Counts the jittered waits a RetryPolicy draws: one per retry."""

    calls = 0

    def uniform(self, a: float, b: float) -> float:
        self.calls += 1
        return super().uniform(a, b)


def test_keyed_writes_and_reads_are_retried_keyless_writes_not() -> None:
    with socket.socket() as s:  # a port that was free a moment ago
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    waits = CountingRandom()
    policy = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.02, rng=waits)
    with LoyaltyClient(f"127.0.0.1:{port}", retry=policy, timeout=5) as c:
        with pytest.raises(Unavailable):
            c.retrieve_account_stats("sc_acc_x")
        assert waits.calls == 2
        with pytest.raises(Unavailable):
            c.credit_account("sc_acc_x", 1)  # a generated key: retried
        assert waits.calls == 4
        with pytest.raises(Unavailable):
            c.debit_accounts([AccountEntry("sc_acc_x", 1, idempotency_key="")])
        assert waits.calls == 4
        with pytest.raises(Unavailable):
            c.create_store_credit_account(NewStoreCreditAccount("usd"))
        with pytest.raises(Unavailable):
            c.delete_account_transactions(["sc_trx_x"])
        assert waits.calls == 4


# -------------------------------------------------------- lists and voids


def test_list_accounts_filters_order_and_count(client: LoyaltyClient, uid: str) -> None:
    made = client.create_store_credit_accounts(
        [
            NewStoreCreditAccount("usd", customer_id=f"cus_l1_{uid}"),
            NewStoreCreditAccount("eur", customer_id=f"cus_l1_{uid}"),
            NewStoreCreditAccount("usd", customer_id=f"cus_l2_{uid}", code=f"SCL-{uid}"),
            NewStoreCreditAccount("usd", code=f"SCL-ANON-{uid}"),
        ]
    )
    for account, amount in zip(made, ("3", "1", "4", "2"), strict=True):
        client.credit_account(account.id, amount)
    ids = [a.id for a in made]

    everything = client.list_store_credit_accounts(q=uid, with_count=True)
    assert isinstance(everything, StoreCreditAccountList)
    assert [a.id for a in everything.accounts] == ids  # created_at ASC by default
    assert everything.count == 4
    assert client.list_store_credit_accounts(q=uid).count is None

    by_balance = client.list_store_credit_accounts(q=uid, order="balance DESC")
    assert [a.balance for a in by_balance.accounts] == [4, 3, 2, 1]
    page = client.list_store_credit_accounts(
        q=uid, order="balance ASC", skip=1, take=2, with_count=True
    )
    assert [a.id for a in page.accounts] == [ids[3], ids[0]] and page.count == 4

    mine = client.list_store_credit_accounts(customer_id=f"cus_l1_{uid}", order="currency_code")
    assert [a.currency_code for a in mine.accounts] == ["eur", "usd"]
    usd = client.list_store_credit_accounts(q=uid, currency_code="USD", with_count=True)
    assert ([a.id for a in usd.accounts], usd.count) == ([ids[0], ids[2], ids[3]], 3)
    either = client.list_store_credit_accounts(
        customer_id=[f"cus_l1_{uid}", f"cus_l2_{uid}"], currency_code=["usd"]
    )
    assert [a.id for a in either.accounts] == [ids[0], ids[2]]
    coded = client.list_store_credit_accounts(code=[f"SCL-{uid}", f"SCL-ANON-{uid}"])
    assert [a.id for a in coded.accounts] == [ids[2], ids[3]]
    assert client.list_store_credit_accounts(id=ids[1]).accounts[0].currency_code == "eur"
    assert client.list_store_credit_accounts(q=f"nothing-{uid}", with_count=True).count == 0

    every = list(client.iter_store_credit_accounts(page_size=3, q=uid, order="balance DESC"))
    assert [a.id for a in every] == [a.id for a in by_balance.accounts]

    with pytest.raises(TypeError, match="unknown"):
        client.list_store_credit_accounts(status="x")  # type: ignore[call-arg]
    with pytest.raises(InvalidData) as caught:
        client.list_store_credit_accounts(order="colour DESC")
    assert caught.value.field_violations


def test_transactions_list_filters_and_void(client: LoyaltyClient, uid: str) -> None:
    account = anonymous(client, f"SC-V-{uid}")
    other = anonymous(client, f"SC-V2-{uid}")
    funded = client.credit_account(account.id, 50, reference="topup", reference_id="t1")
    client.credit_account(other.id, 9, reference="topup")
    spent = client.debit_account(account.id, 20, reference="order", reference_id=f"o1-{uid}")
    small = client.debit_account(account.id, "0.5", reference="order", reference_id=f"o2-{uid}")

    listed = client.list_account_transactions(account_id=account.id, with_count=True)
    assert [t.id for t in listed.transactions] == [
        small.transaction.id,
        spent.transaction.id,
        funded.transaction.id,
    ]  # newest first
    assert listed.count == 3
    assert client.list_account_transactions(account_id=account.id).count is None
    debits = client.list_account_transactions(account_id=account.id, type=DEBIT)
    assert [t.amount for t in debits.transactions] == [Decimal("0.5"), Decimal(20)]
    both = client.list_account_transactions(
        account_id=[account.id, other.id], type=["credit"], order="amount ASC"
    )
    assert [t.amount for t in both.transactions] == [Decimal(9), Decimal(50)]
    by_ref = client.list_account_transactions(reference_id=[f"o1-{uid}", f"o2-{uid}"])
    assert {t.id for t in by_ref.transactions} == {spent.transaction.id, small.transaction.id}
    paged = client.list_account_transactions(
        account_id=account.id, order="amount DESC", skip=1, take=1, with_count=True
    )
    assert ([t.id for t in paged.transactions], paged.count) == ([spent.transaction.id], 3)
    one_by_one = list(client.iter_account_transactions(page_size=1, account_id=account.id))
    assert [t.id for t in one_by_one] == [t.id for t in listed.transactions]
    with pytest.raises(ValueError, match="credit, debit"):
        client.list_account_transactions(type="refund")

    # Voiding the debit gives its amount back; it leaves the list but not the ledger.
    assert client.delete_account_transactions([spent.transaction.id]) == (spent.transaction.id,)
    assert totals(client, account.id) == (Decimal("49.5"), Decimal(50), Decimal("0.5"))
    visible = client.list_account_transactions(account_id=account.id)
    assert spent.transaction.id not in [t.id for t in visible.transactions]
    with_void = client.list_account_transactions(account_id=account.id, with_deleted=True)
    voided = next(t for t in with_void.transactions if t.id == spent.transaction.id)
    assert voided.deleted_at is not None
    # Voiding again, or an unknown id, does nothing.
    assert client.delete_account_transactions([spent.transaction.id, "sc_trx_unknown"]) == ()

    # Voiding the credit would take the balance below zero after this debit: refused.
    client.debit_account(account.id, 45)
    with pytest.raises(NotAllowed):
        client.delete_account_transactions([funded.transaction.id, small.transaction.id])
    assert totals(client, account.id) == (Decimal("4.5"), Decimal(50), Decimal("45.5"))


# ------------------------------------------------------------------ errors


def test_not_found(client: LoyaltyClient, uid: str) -> None:
    missing = f"sc_acc_missing_{uid}"
    with pytest.raises(NotFound) as caught:
        client.retrieve_store_credit_account(id=missing)
    assert (caught.value.code, caught.value.reason) == (grpc.StatusCode.NOT_FOUND, "NOT_FOUND")
    assert missing in caught.value.message
    with pytest.raises(NotFound):
        client.retrieve_store_credit_account(code=f"NOPE-{uid}")
    with pytest.raises(NotFound):
        client.retrieve_account_stats(missing)
    with pytest.raises(NotFound):
        client.credit_account(missing, 1)
    with pytest.raises(NotFound):
        client.debit_accounts([AccountEntry(missing, 1)])
    with pytest.raises(NotFound):
        client.update_store_credit_account(StoreCreditAccountUpdate(missing, customer_id="c"))


def test_invalid_data_keeps_field_violations(client: LoyaltyClient, uid: str) -> None:
    account = anonymous(client, f"SC-I-{uid}")
    with pytest.raises(InvalidData) as caught:
        client.credit_account(account.id, "0")
    error = caught.value
    assert (error.code, error.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_DATA")
    assert [v.field for v in error.field_violations] == ["credits[0].amount"]

    with pytest.raises(InvalidData) as caught:
        client.debit_accounts(
            [AccountEntry(account.id, 1), AccountEntry(account.id, "-2", reference="a\x00b")]
        )
    assert {v.field for v in caught.value.field_violations} == {
        "debits[1].amount",
        "debits[1].reference",
    }
    with pytest.raises(InvalidData) as caught:
        client.create_store_credit_accounts(
            [NewStoreCreditAccount("usd"), NewStoreCreditAccount("usdollar", code="bad code!")]
        )
    assert {v.field for v in caught.value.field_violations} == {
        "accounts[1].currency_code",
        "accounts[1].code",
    }
    with pytest.raises(InvalidData) as caught:
        client.list_account_transactions(take=5000)
    assert caught.value.field_violations
    assert totals(client, account.id) == (0, 0, 0)


def test_a_funded_gift_card_shows_on_its_account(client: LoyaltyClient, uid: str) -> None:
    card = client.create_gift_card(NewGiftCard(value=30, currency_code="usd"))
    account = anonymous(client, f"SC-GC-{uid}")
    client.credit_account(account.id, 30, reference="gift_card", reference_id=card.id)
    assert client.retrieve_store_credit_account(id=account.id).gift_card_id == card.id
    client.debit_gift_card(id=card.id, amount=5, currency_code="usd", reference="order")
    assert totals(client, account.id) == (Decimal(25), Decimal(30), Decimal(5))
    refs = [t.reference for t in client.iter_account_transactions(account_id=account.id)]
    assert refs == ["order", "gift_card"]
    with pytest.raises(NotAllowed):
        client.delete_store_credit_accounts([account.id])


# ----------------------------------------------------- answers are strict


def test_server_answers_are_parsed_strictly() -> None:
    good = pb.StoreCreditAccount(
        id="sc_acc_1", currency_code="usd", balance="1.5", credits="2", debits="0.5"
    )
    parsed = convert.store_credit_account(good)
    assert (parsed.balance, parsed.customer_id, parsed.code, parsed.gift_card_id) == (
        Decimal("1.5"),
        None,
        None,
        None,
    )
    assert (parsed.metadata, parsed.created_at) == (None, None)
    for field in ("balance", "credits", "debits"):
        for bad in ("", "NaN", "Infinity", "1,5"):
            broken = pb.StoreCreditAccount()
            broken.CopyFrom(good)
            setattr(broken, field, bad)
            with pytest.raises(InvalidResponse, match=field):
                convert.store_credit_account(broken)
    with pytest.raises(InvalidResponse, match="empty amount"):
        convert.account_transaction(pb.AccountTransaction(id="sc_trx_1"))
    tx = convert.account_transaction(
        pb.AccountTransaction(id="sc_trx_1", amount="3", type=pb.ACCOUNT_TRANSACTION_TYPE_DEBIT)
    )
    assert (tx.type, tx.note) == (DEBIT, None)
    one = convert.credit_account(AccountEntry("sc_acc_1", 1))
    two = pb.CreditAccountsResponse(
        transactions=[pb.AccountTransaction(id=f"sc_trx_{n}", amount="1") for n in range(2)]
    )
    with pytest.raises(InvalidResponse, match="2 transactions"):
        one.parse(two)
    stats = convert.retrieve_account_stats("sc_acc_1")
    with pytest.raises(InvalidResponse, match="debits"):
        stats.parse(pb.RetrieveAccountStatsResponse(id="sc_acc_1", balance="1", credits="1"))


# ------------------------------------------------------------------ asyncio


def test_async_client_does_the_same(loyalty_server: Any, uid: str) -> None:
    async def scenario() -> None:
        async with AsyncLoyaltyClient(loyalty_server.target, timeout=10) as c:
            mine, anon = await c.create_store_credit_accounts(
                [
                    NewStoreCreditAccount("usd", customer_id=f"cus_async_{uid}"),
                    NewStoreCreditAccount("usd", code=f"SC-AS-{uid}", metadata={"k": "v"}),
                ]
            )
            one = await c.create_store_credit_account(
                NewStoreCreditAccount("eur", customer_id=f"cus_async_{uid}")
            )
            assert (await c.retrieve_store_credit_account(code=f"SC-AS-{uid}")) == anon
            assert (await c.retrieve_store_credit_account(id=one.id)).currency_code == "eur"
            updated = await c.update_store_credit_account(
                StoreCreditAccountUpdate(anon.id, metadata=None, customer_id=f"cus_as2_{uid}")
            )
            assert (updated.metadata, updated.code) == (None, f"SC-AS-{uid}")
            many = await c.update_store_credit_accounts(
                [StoreCreditAccountUpdate(mine.id, code=f"SC-AS-M-{uid}")]
            )
            assert many[0].code == f"SC-AS-M-{uid}"

            credited = await c.credit_accounts(
                [AccountEntry(mine.id, "10.10"), AccountEntry(anon.id, Decimal("0.2"))]
            )
            assert [t.amount for t in credited.transactions] == [Decimal("10.1"), Decimal("0.2")]
            keyed = await c.credit_account(anon.id, "0.1", idempotency_key=f"a-{uid}")
            replay = await c.credit_account(anon.id, "0.1", idempotency_key=f"a-{uid}")
            assert (keyed.replayed, replay.replayed) == (False, True)
            assert replay.transaction.id == keyed.transaction.id
            with pytest.raises(Conflict):
                await c.credit_account(anon.id, "0.2", idempotency_key=f"a-{uid}")
            assert (await c.retrieve_account_stats(anon.id)).balance == Decimal("0.3")

            debited = await c.debit_accounts([AccountEntry(mine.id, "0.1", note="n")])
            assert debited.transactions[0].note == "n" and not debited.replayed
            spent = await c.debit_account(mine.id, 5, reference="order")
            with pytest.raises(NotAllowed):
                await c.debit_account(mine.id, "5.01")
            with pytest.raises(TypeError, match="float"):
                await c.debit_account(mine.id, 0.5)  # type: ignore[arg-type]
            stats = await c.retrieve_account_stats(mine.id)
            assert (stats.balance, stats.credits, stats.debits) == (
                Decimal(5),
                Decimal("10.1"),
                Decimal("5.1"),
            )

            listed = await c.list_store_credit_accounts(
                customer_id=f"cus_async_{uid}", order="currency_code DESC", with_count=True
            )
            assert ([a.id for a in listed.accounts], listed.count) == ([mine.id, one.id], 2)
            every = [a async for a in c.iter_store_credit_accounts(page_size=1, q=uid)]
            assert [a.id for a in every] == [mine.id, anon.id, one.id]

            txs = await c.list_account_transactions(account_id=mine.id, type="debit")
            assert [t.id for t in txs.transactions] == [
                spent.transaction.id,
                debited.transactions[0].id,
            ]
            all_txs = [t async for t in c.iter_account_transactions(account_id=mine.id)]
            assert len(all_txs) == 3
            assert await c.delete_account_transactions([spent.transaction.id]) == (
                spent.transaction.id,
            )
            assert (await c.retrieve_account_stats(mine.id)).balance == Decimal(10)

            assert await c.soft_delete_store_credit_accounts([one.id]) == (one.id,)
            with pytest.raises(NotFound):
                await c.retrieve_store_credit_account(id=one.id)
            assert await c.restore_store_credit_accounts([one.id]) == (one.id,)
            assert await c.delete_store_credit_accounts([one.id]) == (one.id,)
            with pytest.raises(NotFound):
                await c.retrieve_account_stats(one.id)
            with pytest.raises(InvalidData) as caught:
                await c.credit_account(mine.id, "1.0000001")
            assert [v.field for v in caught.value.field_violations] == ["credits[0].amount"]
            with pytest.raises(Duplicate):
                await c.create_store_credit_account(
                    NewStoreCreditAccount("usd", customer_id=f"cus_async_{uid}")
                )

    asyncio.run(scenario())


def test_both_clients_have_the_same_store_credit_methods() -> None:
    names = [
        name
        for name in vars(LoyaltyClient)
        if ("store_credit" in name or "account" in name) and not name.startswith("_")
    ]
    assert len(names) == 18, names
    for name in names:
        sync, aio = getattr(LoyaltyClient, name), getattr(AsyncLoyaltyClient, name)
        assert aio.__doc__ and aio.__doc__ == sync.__doc__, name
        assert inspect.signature(aio).parameters.keys() == inspect.signature(sync).parameters.keys()


def test_async_retries_keyed_writes_only() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    waits = CountingRandom()

    async def scenario() -> None:
        policy = RetryPolicy(max_attempts=2, initial_backoff=0.01, rng=waits)
        async with AsyncLoyaltyClient(f"127.0.0.1:{port}", retry=policy) as c:
            with pytest.raises(Unavailable):
                await c.debit_account("sc_acc_x", 1)
            assert waits.calls == 1
            with pytest.raises(Unavailable):
                await c.credit_account("sc_acc_x", 1, idempotency_key="")
            assert waits.calls == 1
            with pytest.raises(Unavailable):
                await c.list_account_transactions(account_id="sc_acc_x")
            assert waits.calls == 2

    asyncio.run(scenario())
