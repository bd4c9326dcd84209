"""What is measured: the scenarios, the run profiles, and the request each caller sends."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from typing import Any

from loyalty.v1 import loyalty_pb2 as pb

# Scenario name -> what the report calls it. The unit is one RPC unless noted.
SCENARIOS = {
    "empty": "Empty RPC (GetOptions, no DB)",
    "adjust": "AdjustPoints (10,000 customers)",
    "adjust_history": "AdjustPoints + last-20 history",
    "balance": "GetPointsBalance",
    "debit_hot": "DebitGiftCard, one hot card",
    "debit_spread": "DebitGiftCard, 10,000 cards",
    "list": "ListGiftCards (one page of 15)",
    "batch": "BatchAdjustPoints (adjustments/s)",
    "credit_debit_hot": "DebitAccounts, one hot account",
    "credit_debit_spread": "DebitAccounts, 10,000 accounts",
    "credit_stats": "RetrieveAccountStats",
}
HOT_CODE = "BENCH-HOT"
HOT_ACCOUNT = "sc_acc_benchhot"


@dataclass(frozen=True)
class Profile:
    callers: tuple[int, ...]
    duration: float
    warmup: float
    customers: int
    cards: int
    batch_size: int
    readscale_customers: int
    filler_rows: int
    readscale_callers: int
    pgbench_seconds: int
    sqlite_callers: int


FULL = Profile((1, 8, 32), 5.0, 1.0, 10_000, 10_000, 1000, 1000, 1_000_000, 8, 5, 8)
QUICK = Profile((4,), 0.4, 0.15, 1000, 1000, 200, 100, 20_000, 4, 1, 4)


def request(
    job: dict[str, Any], rng: random.Random, caller: int, proc_index: int
) -> tuple[str, Any]:
    """The RPC one caller of a scenario sends next, and its request (a fresh key each)."""
    name = job["scenario"]
    key = uuid.uuid4().hex
    if name == "empty":
        return "GetOptions", pb.GetOptionsRequest()
    if name in ("adjust", "adjust_history"):
        return "AdjustPoints", pb.AdjustPointsRequest(
            customer_id=f"cus_{rng.randrange(job['customers']):05d}",
            delta="1",
            reason="bench",
            idempotency_key=key,
            include_history=name == "adjust_history",
        )
    if name in ("balance", "rs_balance", "rs_history"):
        if name == "balance":
            customer = f"cus_{rng.randrange(job['customers']):05d}"
        else:
            customer = f"rs_{rng.randrange(job['readscale_customers']):05d}"
        return "GetPointsBalance", pb.GetPointsBalanceRequest(
            customer_id=customer, include_history=name == "rs_history"
        )
    if name in ("debit_hot", "debit_spread"):
        code = HOT_CODE if name == "debit_hot" else f"BENCH-{rng.randrange(job['cards']):05d}"
        return "DebitGiftCard", pb.DebitGiftCardRequest(
            code=code, amount="0.01", currency_code="usd", idempotency_key=key
        )
    if name in ("credit_debit_hot", "credit_debit_spread"):
        account = (
            HOT_ACCOUNT
            if name == "credit_debit_hot"
            else f"sc_acc_bench{rng.randrange(job['cards']):05d}"
        )
        return "DebitAccounts", pb.DebitAccountsRequest(
            debits=[
                pb.AccountEntryInput(
                    account_id=account,
                    amount="0.01",
                    reference="cart",
                    reference_id="cart_bench",
                    idempotency_key=key,
                )
            ]
        )
    if name in ("credit_stats", "rs_stats"):
        prefix = "sc_acc_bench" if name == "credit_stats" else "sc_acc_rs"
        size = job["cards"] if name == "credit_stats" else job["readscale_customers"]
        return "RetrieveAccountStats", pb.RetrieveAccountStatsRequest(
            account_id=f"{prefix}{rng.randrange(size):05d}"
        )
    if name == "list":
        return "ListGiftCards", pb.ListGiftCardsRequest(take=15)
    if name == "batch":
        size = job["batch_size"]
        return "BatchAdjustPoints", pb.BatchAdjustPointsRequest(
            adjustments=[
                pb.BatchAdjustPointsItem(
                    customer_id=f"bat_{proc_index}_{caller}_{j:04d}",
                    delta="1",
                    reason="nightly accrual",
                    idempotency_key=f"{key}{j}",
                )
                for j in range(size)
            ]
        )
    raise ValueError(name)
