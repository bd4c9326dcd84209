"""Store credit (issue 13) against the real server, on SQLite and PostgreSQL:
accounts, credits and debits all or nothing, idempotency, voiding, lists, the
O(1) stats, funded gift cards, concurrency and lock order."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from functools import partial

import grpc
import pytest
from conftest import ServerProcess
from google.protobuf import field_mask_pb2, struct_pb2
from helpers import expect_error, until_answered

from loyalty.v1 import loyalty_pb2 as pb
from loyalty.v1.loyalty_pb2_grpc import LoyaltyServiceStub
from loyalty_server.verify import verify

INVALID = grpc.StatusCode.INVALID_ARGUMENT
REFUSED = grpc.StatusCode.FAILED_PRECONDITION
CREDIT = pb.ACCOUNT_TRANSACTION_TYPE_CREDIT
DEBIT = pb.ACCOUNT_TRANSACTION_TYPE_DEBIT


def new_account(stub: LoyaltyServiceStub, **fields: object) -> pb.StoreCreditAccount:
    fields.setdefault("currency_code", "usd")
    created = stub.CreateStoreCreditAccounts(
        pb.CreateStoreCreditAccountsRequest(accounts=[pb.CreateStoreCreditAccountInput(**fields)]),
        timeout=10,
    )
    account: pb.StoreCreditAccount = created.accounts[0]
    return account


def credit(
    stub: LoyaltyServiceStub, account_id: str, amount: str, timeout: float = 10, **more: object
) -> pb.CreditAccountsResponse:
    response: pb.CreditAccountsResponse = stub.CreditAccounts(
        pb.CreditAccountsRequest(
            credits=[pb.AccountEntryInput(account_id=account_id, amount=amount, **more)]
        ),
        timeout=timeout,
    )
    return response


def debit(
    stub: LoyaltyServiceStub, account_id: str, amount: str, timeout: float = 10, **more: object
) -> pb.DebitAccountsResponse:
    response: pb.DebitAccountsResponse = stub.DebitAccounts(
        pb.DebitAccountsRequest(
            debits=[pb.AccountEntryInput(account_id=account_id, amount=amount, **more)]
        ),
        timeout=timeout,
    )
    return response


def stats(stub: LoyaltyServiceStub, account_id: str) -> tuple[str, str, str]:
    s = stub.RetrieveAccountStats(pb.RetrieveAccountStatsRequest(account_id=account_id), timeout=10)
    return s.balance, s.credits, s.debits


# ----------------------------------------------------------------- accounts


def test_create_retrieve_list_accounts(stub: LoyaltyServiceStub, uid: str) -> None:
    metadata = struct_pb2.Struct()
    metadata.update({"tier": "gold"})
    mine = new_account(stub, customer_id=f"cus_{uid}", currency_code="EUR", metadata=metadata)
    anon = new_account(stub, code=f"SC-{uid}")
    assert mine.id.startswith("sc_acc_") and len(mine.id) == len("sc_acc_") + 26
    assert mine.currency_code == "eur" and mine.customer_id == f"cus_{uid}"
    assert (mine.balance, mine.credits, mine.debits) == ("0", "0", "0")
    assert not mine.HasField("code") and anon.code == f"SC-{uid}"
    assert mine.metadata == metadata

    by_code = stub.RetrieveStoreCreditAccount(
        pb.RetrieveStoreCreditAccountRequest(code=f"SC-{uid}"), timeout=10
    )
    assert by_code.id == anon.id
    listed = stub.ListStoreCreditAccounts(
        pb.ListStoreCreditAccountsRequest(customer_id=[f"cus_{uid}"], with_count=True), timeout=10
    )
    assert [a.id for a in listed.accounts] == [mine.id] and listed.count == 1
    searched = stub.ListStoreCreditAccounts(
        pb.ListStoreCreditAccountsRequest(q=uid, order="created_at DESC", with_count=True),
        timeout=10,
    )
    assert [a.id for a in searched.accounts] == [anon.id, mine.id]


def test_one_live_account_per_customer_and_currency(stub: LoyaltyServiceStub, uid: str) -> None:
    customer = f"cus_one_{uid}"
    first = new_account(stub, customer_id=customer)
    error = expect_error(
        stub.CreateStoreCreditAccounts,
        pb.CreateStoreCreditAccountsRequest(
            accounts=[pb.CreateStoreCreditAccountInput(customer_id=customer, currency_code="usd")]
        ),
        grpc.StatusCode.ALREADY_EXISTS,
    )
    assert error.reason == "DUPLICATE_ERROR"
    new_account(stub, customer_id=customer, currency_code="eur")  # another currency is fine
    # soft-deleted, the pair is free again; restoring the old one then clashes
    stub.SoftDeleteStoreCreditAccounts(
        pb.SoftDeleteStoreCreditAccountsRequest(ids=[first.id]), timeout=10
    )
    second = new_account(stub, customer_id=customer)
    expect_error(
        stub.RestoreStoreCreditAccounts,
        pb.RestoreStoreCreditAccountsRequest(ids=[first.id]),
        grpc.StatusCode.ALREADY_EXISTS,
    )
    assert second.id != first.id
    code = f"SC-DUP-{uid}"
    new_account(stub, code=code)
    expect_error(
        stub.CreateStoreCreditAccounts,
        pb.CreateStoreCreditAccountsRequest(
            accounts=[pb.CreateStoreCreditAccountInput(code=code, currency_code="usd")]
        ),
        grpc.StatusCode.ALREADY_EXISTS,
    )


def test_update_accounts_with_presence_and_mask(stub: LoyaltyServiceStub, uid: str) -> None:
    account = new_account(stub, code=f"SC-U-{uid}")
    updated = stub.UpdateStoreCreditAccounts(
        pb.UpdateStoreCreditAccountsRequest(
            accounts=[pb.UpdateStoreCreditAccountInput(id=account.id, customer_id=f"cus_u_{uid}")]
        ),
        timeout=10,
    ).accounts[0]
    assert updated.customer_id == f"cus_u_{uid}" and updated.code == f"SC-U-{uid}"
    same = stub.UpdateStoreCreditAccounts(
        pb.UpdateStoreCreditAccountsRequest(
            accounts=[pb.UpdateStoreCreditAccountInput(id=account.id, customer_id=f"cus_u_{uid}")]
        ),
        timeout=10,
    ).accounts[0]
    stored = stub.RetrieveStoreCreditAccount(
        pb.RetrieveStoreCreditAccountRequest(id=account.id), timeout=10
    )
    assert same.updated_at == stored.updated_at == updated.updated_at  # nothing changed
    cleared = stub.UpdateStoreCreditAccounts(
        pb.UpdateStoreCreditAccountsRequest(
            accounts=[
                pb.UpdateStoreCreditAccountInput(
                    id=account.id, update_mask=field_mask_pb2.FieldMask(paths=["code"])
                )
            ]
        ),
        timeout=10,
    ).accounts[0]
    assert not cleared.HasField("code") and cleared.customer_id == f"cus_u_{uid}"
    # currency may change while there are no transactions, then not
    stub.UpdateStoreCreditAccounts(
        pb.UpdateStoreCreditAccountsRequest(
            accounts=[pb.UpdateStoreCreditAccountInput(id=account.id, currency_code="gbp")]
        ),
        timeout=10,
    )
    credit(stub, account.id, "5")
    error = expect_error(
        stub.UpdateStoreCreditAccounts,
        pb.UpdateStoreCreditAccountsRequest(
            accounts=[pb.UpdateStoreCreditAccountInput(id=account.id, currency_code="usd")]
        ),
        REFUSED,
    )
    assert "currency_code cannot change" in error.message
    expect_error(
        stub.UpdateStoreCreditAccounts,
        pb.UpdateStoreCreditAccountsRequest(
            accounts=[pb.UpdateStoreCreditAccountInput(id="sc_acc_missing", customer_id="x")]
        ),
        grpc.StatusCode.NOT_FOUND,
    )


# ---------------------------------------------------------------- movements


def test_credit_debit_stats_and_ledger(stub: LoyaltyServiceStub, uid: str) -> None:
    account = new_account(stub, customer_id=f"cus_m_{uid}")
    first = credit(stub, account.id, "100", note="welcome", reference="user", reference_id="u1")
    tx = first.transactions[0]
    assert tx.id.startswith("sc_trx_") and tx.type == CREDIT and tx.amount == "100"
    assert tx.note == "welcome" and tx.reference == "user" and not first.replayed
    debit(stub, account.id, "30.25", reference="order", reference_id="order_1")
    assert stats(stub, account.id) == ("69.75", "100", "30.25")
    error = expect_error(
        stub.DebitAccounts,
        pb.DebitAccountsRequest(debits=[pb.AccountEntryInput(account_id=account.id, amount="70")]),
        REFUSED,
    )
    assert error.reason == "NOT_ALLOWED" and "insufficient store credit" in error.message
    assert stats(stub, account.id) == ("69.75", "100", "30.25")
    listed = stub.ListAccountTransactions(
        pb.ListAccountTransactionsRequest(account_id=[account.id], with_count=True), timeout=10
    )
    assert [t.type for t in listed.transactions] == [DEBIT, CREDIT] and listed.count == 2
    only_debits = stub.ListAccountTransactions(
        pb.ListAccountTransactionsRequest(account_id=[account.id], type=[DEBIT]), timeout=10
    )
    assert [t.reference_id for t in only_debits.transactions] == ["order_1"]
    retrieved = stub.RetrieveStoreCreditAccount(
        pb.RetrieveStoreCreditAccountRequest(id=account.id), timeout=10
    )
    assert (retrieved.balance, retrieved.credits, retrieved.debits) == ("69.75", "100", "30.25")


def test_a_call_is_all_or_nothing(stub: LoyaltyServiceStub, uid: str) -> None:
    a = new_account(stub, code=f"SC-A-{uid}")
    b = new_account(stub, code=f"SC-B-{uid}")
    credit(stub, a.id, "10")
    credit(stub, b.id, "5")
    error = expect_error(
        stub.DebitAccounts,
        pb.DebitAccountsRequest(
            debits=[
                pb.AccountEntryInput(account_id=a.id, amount="4"),
                pb.AccountEntryInput(account_id=b.id, amount="3"),
                pb.AccountEntryInput(account_id=b.id, amount="3"),  # 6 > 5
            ]
        ),
        REFUSED,
    )
    assert error.message.startswith("debits[2]:"), error.message
    assert stats(stub, a.id)[0] == "10" and stats(stub, b.id)[0] == "5"
    expect_error(
        stub.CreditAccounts,
        pb.CreditAccountsRequest(
            credits=[
                pb.AccountEntryInput(account_id=a.id, amount="4"),
                pb.AccountEntryInput(account_id="sc_acc_nope", amount="1"),
            ]
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    assert stats(stub, a.id)[0] == "10"


def test_idempotent_items(stub: LoyaltyServiceStub, uid: str) -> None:
    account = new_account(stub, code=f"SC-K-{uid}")
    first = credit(stub, account.id, "7", idempotency_key="k1", reference="r")
    again = credit(stub, account.id, "7", idempotency_key="k1", reference="r")
    assert again.replayed and again.transactions[0].id == first.transactions[0].id
    assert stats(stub, account.id)[0] == "7"
    error = expect_error(
        stub.CreditAccounts,
        pb.CreditAccountsRequest(
            credits=[pb.AccountEntryInput(account_id=account.id, amount="8", idempotency_key="k1")]
        ),
        REFUSED,
    )
    assert error.reason == "CONFLICT"
    expect_error(
        stub.DebitAccounts,
        pb.DebitAccountsRequest(
            debits=[
                pb.AccountEntryInput(account_id=account.id, amount="1", idempotency_key="d"),
                pb.AccountEntryInput(account_id=account.id, amount="1", idempotency_key="d"),
            ]
        ),
        INVALID,
    )


def test_voiding_moves_the_balance_back(stub: LoyaltyServiceStub, uid: str) -> None:
    account = new_account(stub, code=f"SC-V-{uid}")
    funded = credit(stub, account.id, "50").transactions[0]
    spent = debit(stub, account.id, "20").transactions[0]
    voided = stub.DeleteAccountTransactions(
        pb.DeleteAccountTransactionsRequest(ids=[spent.id]), timeout=10
    )
    assert list(voided.ids) == [spent.id]
    assert stats(stub, account.id) == ("50", "50", "0")
    debit(stub, account.id, "45")
    # voiding the credit now would leave -45: refused, nothing changed
    error = expect_error(
        stub.DeleteAccountTransactions,
        pb.DeleteAccountTransactionsRequest(ids=[funded.id]),
        REFUSED,
    )
    assert "below" in error.message or "insufficient" in error.message
    assert stats(stub, account.id) == ("5", "50", "45")
    again = stub.DeleteAccountTransactions(
        pb.DeleteAccountTransactionsRequest(ids=[spent.id, "sc_trx_unknown"]), timeout=10
    )
    assert list(again.ids) == []
    listed = stub.ListAccountTransactions(
        pb.ListAccountTransactionsRequest(account_id=[account.id]), timeout=10
    )
    assert spent.id not in [t.id for t in listed.transactions]
    with_void = stub.ListAccountTransactions(
        pb.ListAccountTransactionsRequest(account_id=[account.id], with_deleted=True), timeout=10
    )
    assert next(t for t in with_void.transactions if t.id == spent.id).HasField("deleted_at")


def test_soft_deleted_account_cannot_move(stub: LoyaltyServiceStub, uid: str) -> None:
    account = new_account(stub, code=f"SC-S-{uid}")
    stub.SoftDeleteStoreCreditAccounts(
        pb.SoftDeleteStoreCreditAccountsRequest(ids=[account.id]), timeout=10
    )
    expect_error(
        stub.CreditAccounts,
        pb.CreditAccountsRequest(credits=[pb.AccountEntryInput(account_id=account.id, amount="1")]),
        grpc.StatusCode.NOT_FOUND,
    )
    restored = stub.RestoreStoreCreditAccounts(
        pb.RestoreStoreCreditAccountsRequest(ids=[account.id]), timeout=10
    )
    assert list(restored.ids) == [account.id]
    credit(stub, account.id, "1")
    deleted = stub.DeleteStoreCreditAccounts(
        pb.DeleteStoreCreditAccountsRequest(ids=[account.id]), timeout=10
    )
    assert list(deleted.ids) == [account.id]
    expect_error(
        stub.RetrieveAccountStats,
        pb.RetrieveAccountStatsRequest(account_id=account.id),
        grpc.StatusCode.NOT_FOUND,
    )


@pytest.mark.parametrize(
    "amount",
    ["0", "-1", "1e3", "NaN", "Infinity", " 10", "+5", "1.0000001", "1" * 10_000, "a\x00"],
)
def test_bad_amounts_write_nothing(stub: LoyaltyServiceStub, uid: str, amount: str) -> None:
    account = new_account(stub, code=f"SC-X-{uid}")
    error = expect_error(
        stub.CreditAccounts,
        pb.CreditAccountsRequest(
            credits=[pb.AccountEntryInput(account_id=account.id, amount=amount)]
        ),
        INVALID,
    )
    assert "credits[0].amount" in error.violations
    assert stats(stub, account.id) == ("0", "0", "0")


@pytest.mark.parametrize(
    "field,value",
    [
        ("note", "x" * 1_000_000),
        ("reference", "a\x00b"),
        ("reference_id", "x" * 256),
        ("idempotency_key", "k" * 256),
        ("account_id", ""),
    ],
)
def test_bad_entry_fields(stub: LoyaltyServiceStub, uid: str, field: str, value: str) -> None:
    account = new_account(stub, code=f"SC-F-{uid}")
    item = pb.AccountEntryInput(account_id=account.id, amount="1")
    setattr(item, field, value)
    error = expect_error(stub.DebitAccounts, pb.DebitAccountsRequest(debits=[item]), INVALID)
    assert f"debits[0].{field}" in error.violations, error


@pytest.mark.parametrize(
    "fields,where",
    [
        ({"currency_code": "usdollar"}, "currency_code"),
        ({"currency_code": "usd", "code": "bad code!"}, "code"),
        ({"currency_code": "usd", "customer_id": " "}, "customer_id"),
        ({"currency_code": "usd", "customer_id": "a\x00"}, "customer_id"),
    ],
)
def test_bad_account_fields(stub: LoyaltyServiceStub, fields: dict[str, str], where: str) -> None:
    error = expect_error(
        stub.CreateStoreCreditAccounts,
        pb.CreateStoreCreditAccountsRequest(accounts=[pb.CreateStoreCreditAccountInput(**fields)]),
        INVALID,
    )
    assert f"accounts[0].{where}" in error.violations, error


# --------------------------------------------------------------- gift cards


def test_a_funded_gift_card_has_one_balance(stub: LoyaltyServiceStub, uid: str) -> None:
    """The plugin's flow: card, anonymous account, credit referencing the card."""
    card = stub.CreateGiftCards(
        pb.CreateGiftCardsRequest(
            gift_cards=[pb.CreateGiftCardInput(value="50", currency_code="usd")]
        ),
        timeout=10,
    ).gift_cards[0]
    account = new_account(stub, code=f"SC-GC-{uid}")
    credit(stub, account.id, "50", reference="gift_card", reference_id=card.id, note="funding")
    linked = stub.RetrieveStoreCreditAccount(
        pb.RetrieveStoreCreditAccountRequest(id=account.id), timeout=10
    )
    assert linked.gift_card_id == card.id
    # the plugin then marks the card "redeemed" (= funded)
    stub.UpdateGiftCards(
        pb.UpdateGiftCardsRequest(
            gift_cards=[pb.UpdateGiftCardInput(id=card.id, status=pb.GIFT_CARD_STATUS_REDEEMED)]
        ),
        timeout=10,
    )
    debit(stub, account.id, "12", reference="cart", reference_id="cart_1")
    spent = stub.DebitGiftCard(
        pb.DebitGiftCardRequest(id=card.id, amount="8", currency_code="usd", reference="order"),
        timeout=10,
    )
    assert spent.balance == "30" and spent.transaction.balance_after == "30"
    read = stub.RetrieveGiftCard(pb.RetrieveGiftCardRequest(id=card.id), timeout=10)
    assert read.balance == "30" == stats(stub, account.id)[0]
    # the DebitGiftCard is in the account's ledger
    refs = [
        t.reference
        for t in stub.ListAccountTransactions(
            pb.ListAccountTransactionsRequest(account_id=[account.id]), timeout=10
        ).transactions
    ]
    assert refs == ["order", "cart", "gift_card"]
    expect_error(
        stub.DebitGiftCard,
        pb.DebitGiftCardRequest(id=card.id, amount="31", currency_code="usd"),
        REFUSED,
    )
    # voiding the cart debit (the plugin's compensation) gives it back to both
    cart_debit = next(
        iter(
            stub.ListAccountTransactions(
                pb.ListAccountTransactionsRequest(account_id=[account.id], reference=["cart"]),
                timeout=10,
            ).transactions
        )
    )
    stub.DeleteAccountTransactions(
        pb.DeleteAccountTransactionsRequest(ids=[cart_debit.id]), timeout=10
    )
    read = stub.RetrieveGiftCard(pb.RetrieveGiftCardRequest(id=card.id), timeout=10)
    assert read.balance == "42" == stats(stub, account.id)[0]
    # its currency is the account's; its value is only the face value
    expect_error(
        stub.UpdateGiftCards,
        pb.UpdateGiftCardsRequest(
            gift_cards=[pb.UpdateGiftCardInput(id=card.id, currency_code="eur")]
        ),
        REFUSED,
    )
    revalued = stub.UpdateGiftCards(
        pb.UpdateGiftCardsRequest(gift_cards=[pb.UpdateGiftCardInput(id=card.id, value="60")]),
        timeout=10,
    ).gift_cards[0]
    assert (revalued.value, revalued.balance) == ("60", "42")
    # the account cannot be hard-deleted from under the card
    expect_error(
        stub.DeleteStoreCreditAccounts,
        pb.DeleteStoreCreditAccountsRequest(ids=[account.id]),
        REFUSED,
    )


# -------------------------------------------------------------- concurrency


def test_forty_concurrent_debits_of_one_on_ten(loyalty_server: ServerProcess, uid: str) -> None:
    with loyalty_server.channel() as channel:
        stub = LoyaltyServiceStub(channel)
        account = new_account(stub, code=f"SC-C-{uid}")
        credit(stub, account.id, "10")

        def one(_: int) -> grpc.StatusCode:
            try:
                debit(stub, account.id, "1")
                return grpc.StatusCode.OK
            except grpc.RpcError as error:
                return error.code()

        with ThreadPoolExecutor(40) as pool:
            codes = list(pool.map(one, range(40)))
        assert codes.count(grpc.StatusCode.OK) == 10, codes
        assert codes.count(REFUSED) == 30, codes
        assert stats(stub, account.id) == ("0", "10", "10")


def test_concurrent_credits_and_debits_of_one_account_add_up(
    loyalty_server: ServerProcess, uid: str
) -> None:
    """Credits and debits of different sizes racing on one account (PostgreSQL sends
    those queued together in one statement): the balance never goes below zero, the
    totals are the sums of what was answered OK, the ledger holds exactly those, and
    keyed moves sent twice apply once."""
    with loyalty_server.channel() as channel:
        stub = LoyaltyServiceStub(channel)
        account = new_account(stub, code=f"SC-MIX-{uid}")
        credit(stub, account.id, "5")
        moves = [("debit", "3"), ("credit", "2"), ("debit", "4.5"), ("credit", "1.25")] * 10

        def one(i: int) -> tuple[str, Decimal] | None:
            kind, amount = moves[i % len(moves)]
            key = f"k-{i % len(moves)}"  # each move sent twice, by two callers
            try:
                (credit if kind == "credit" else debit)(
                    stub, account.id, amount, timeout=30, idempotency_key=f"{kind}-{key}"
                )
            except grpc.RpcError as error:
                assert error.code() == REFUSED, error
                return None
            return kind, Decimal(amount)

        with ThreadPoolExecutor(40) as pool:
            outcomes = list(pool.map(one, range(2 * len(moves))))
        done = {i % len(moves): o for i, o in enumerate(outcomes) if o is not None}
        credits = 5 + sum(a for k, a in done.values() if k == "credit")
        debits = sum(a for k, a in done.values() if k == "debit")
        balance, credited, debited = (Decimal(v) for v in stats(stub, account.id))
        assert (credited, debited, balance) == (credits, debits, credits - debits) and balance >= 0
        listed = stub.ListAccountTransactions(
            pb.ListAccountTransactionsRequest(account_id=[account.id], take=1000), timeout=10
        ).transactions
        assert len(listed) == 1 + len(done)


@pytest.mark.reliability
def test_opposite_orders_never_deadlock_or_overspend(
    start_server: Callable[..., ServerProcess], backend: str, uid: str
) -> None:
    server = start_server(workers=None if backend == "postgres" else 1)
    failures: list[str] = []
    lock = threading.Lock()
    with server.channel() as channel:
        stub = LoyaltyServiceStub(channel)
        a = new_account(stub, code=f"SC-OA-{uid}")
        b = new_account(stub, code=f"SC-OB-{uid}")
        credit(stub, a.id, "100")
        credit(stub, b.id, "100")

        def caller(n: int) -> None:
            first, second = (a.id, b.id) if n % 2 else (b.id, a.id)
            for _ in range(15):
                try:
                    stub.DebitAccounts(
                        pb.DebitAccountsRequest(
                            debits=[
                                pb.AccountEntryInput(account_id=first, amount="1"),
                                pb.AccountEntryInput(account_id=second, amount="1"),
                            ]
                        ),
                        timeout=20,
                    )
                except grpc.RpcError as error:
                    if error.code() != REFUSED:
                        with lock:
                            failures.append(f"{error.code().name}: {error.details()}")

        threads = [threading.Thread(target=caller, args=(n,)) for n in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not failures, failures[:5]
        balance_a, _, debits_a = stats(stub, a.id)
        balance_b, _, debits_b = stats(stub, b.id)
        # 16 x 15 pairs wanted 240 each; 100 available: exactly 100 pairs went through
        assert (balance_a, debits_a) == ("0", "100") and (balance_b, debits_b) == ("0", "100")
    assert verify(server.database_url).ok


def test_verify_covers_store_credit(start_server: Callable[..., ServerProcess], uid: str) -> None:
    server = start_server()
    with server.channel() as channel:
        stub = LoyaltyServiceStub(channel)
        account = new_account(stub, code=f"SC-VF-{uid}")
        credit(stub, account.id, "10")
        spent = debit(stub, account.id, "3").transactions[0]
        stub.DeleteAccountTransactions(
            pb.DeleteAccountTransactionsRequest(ids=[spent.id]), timeout=10
        )
        debit(stub, account.id, "4")
    report = verify(server.database_url)
    assert report.ok, report.problems
    assert report.store_credit_accounts >= 1 and report.store_credit_transactions >= 3
    assert Decimal(stats_of(server, account.id)) == Decimal("6")


def stats_of(server: ServerProcess, account_id: str) -> str:
    with server.channel() as channel:
        return stats(LoyaltyServiceStub(channel), account_id)[0]


@pytest.mark.reliability
def test_kill_9_during_keyed_movements_then_retries_apply_each_once(
    start_server: Callable[..., ServerProcess], uid: str
) -> None:
    """16 callers send keyed credits and debits; the server is killed (-9) and
    restarted on the same port and database; every caller resends each write with
    its key until it is answered. Each write is applied exactly once."""
    server = start_server()
    with server.channel() as channel:
        stub = LoyaltyServiceStub(channel)
        accounts = [new_account(stub, code=f"SC-K9-{uid}-{n}").id for n in range(4)]
        for account_id in accounts:
            credit(stub, account_id, "1000")
    ops = [(accounts[n % 4], "credit" if n % 3 else "debit", f"k9-{uid}-{n}") for n in range(640)]
    answered: dict[str, str] = {}
    lock = threading.Lock()

    def caller(start: int) -> None:
        with server.channel() as channel:
            stub = LoyaltyServiceStub(channel)
            for account_id, kind, key in ops[start::16]:
                move = credit if kind == "credit" else debit
                try:
                    until_answered(
                        partial(move, stub, account_id, "1", idempotency_key=key, timeout=5)
                    )
                    outcome = "OK"
                except grpc.RpcError as error:
                    outcome = error.code().name
                with lock:
                    answered[key] = outcome

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    server.kill()
    server.start()
    for thread in threads:
        thread.join(120)
    assert set(answered.values()) == {"OK"}, {k: v for k, v in answered.items() if v != "OK"}
    assert len(answered) == len(ops)
    with server.channel() as channel:
        stub = LoyaltyServiceStub(channel)
        for account_id in accounts:
            mine = [kind for a, kind, _ in ops if a == account_id]
            expected = 1000 + mine.count("credit") - mine.count("debit")
            assert stats(stub, account_id)[0] == str(expected)
            listed = stub.ListAccountTransactions(
                pb.ListAccountTransactionsRequest(account_id=[account_id], with_count=True, take=1),
                timeout=10,
            )
            assert listed.count == len(mine) + 1  # each keyed write once, plus the funding
    assert verify(server.database_url).ok
