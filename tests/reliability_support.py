"""Machinery of the hostile runs (tests/test_reliability*.py).

A load generator whose clients record every write they send and how it ended;
the resolution of writes whose outcome the caller could not know (UNAVAILABLE,
DEADLINE_EXCEEDED, CANCELLED) by retrying them with the same idempotency key,
as a real client does; and the invariant checks run after every hostile run:

- through the API: every stored balance = the sum of the deltas of the writes
  that returned OK (gift cards: value - OK debits + OK credits);
- in the database: the ledger rows of the hot customers and cards are exactly
  the OK writes (same row id per idempotency key): every OK write is present,
  no refused write and no phantom row exists;
- `loyalty-server verify` on the whole database exits 0 with one OK line.

Every write carries a fresh idempotency key, which is what makes the retry of
an unknown outcome safe and the database check exact.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
from google.rpc import error_details_pb2, status_pb2
from sqlalchemy import create_engine, select

from loyalty.v1 import loyalty_pb2 as pb
from loyalty.v1.loyalty_pb2_grpc import LoyaltyServiceStub
from loyalty_server.store.db import sync_url
from loyalty_server.store.models import GiftCardTransaction, PointAdjustment

POINTS, DEBIT, CREDIT = "points", "debit", "credit"
OK, REFUSED, UNKNOWN, UNEXPECTED = "ok", "refused", "unknown", "unexpected"
CURRENCY = "usd"
CARD_VALUE = Decimal(500)
# Outcomes a caller cannot know: the write may or may not have happened.
INDETERMINATE = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.CANCELLED,
}
CHANNEL_OPTIONS = [
    # Reconnect quickly after a server restart, so short runs see the recovery.
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 500),
    # Each channel its own connection: without this, channels to one address share
    # a process-wide subchannel, so 64 "clients" would be one TCP connection, and a
    # new channel would inherit an old one's connect failure (and its backoff).
    ("grpc.use_local_subchannel_pool", 1),
]


def server_bin() -> str:
    return str(Path(sys.executable).parent / "loyalty-server")


def error_reason(error: grpc.RpcError) -> str:
    """ErrorInfo.reason from a (sync or aio) error's trailing metadata."""
    trailing: Any = getattr(error, "trailing_metadata", lambda: None)()
    for key, value in trailing or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                    info = error_details_pb2.ErrorInfo()
                    detail.Unpack(info)
                    return str(info.reason)
    return ""


@dataclass
class Write:
    """One ledger write a client asked for, and what the caller was told."""

    kind: str  # POINTS, DEBIT or CREDIT
    target: str  # customer id or gift card id
    amount: Decimal  # signed delta for points; positive amount for gift cards
    key: str = field(default_factory=lambda: f"rel-{uuid.uuid4().hex}")
    outcome: str = UNKNOWN
    code: str = ""
    detail: str = ""
    row_id: str = ""  # ledger row id, when OK
    attempts: int = 0
    sent_at: float = 0.0  # time.monotonic() of the last attempt
    latency: float = 0.0


@dataclass
class Op:
    """One RPC: a single write, or a BatchAdjustPoints of several (all or nothing)."""

    writes: list[Write]

    @property
    def batch(self) -> bool:
        return len(self.writes) > 1


async def send(stub: LoyaltyServiceStub, op: Op, timeout: float) -> None:
    """Send one op and record its outcome on each of its writes."""
    first = op.writes[0]
    started = time.monotonic()
    ids: list[str]
    try:
        if op.batch:
            reply: Any = await stub.BatchAdjustPoints(
                pb.BatchAdjustPointsRequest(
                    adjustments=[
                        pb.BatchAdjustPointsItem(
                            customer_id=w.target,
                            delta=str(w.amount),
                            reason="reliability batch",
                            idempotency_key=w.key,
                        )
                        for w in op.writes
                    ]
                ),
                timeout=timeout,
            )
            ids = [a.id for a in reply.adjustments]
        elif first.kind == POINTS:
            reply = await stub.AdjustPoints(
                pb.AdjustPointsRequest(
                    customer_id=first.target,
                    delta=str(first.amount),
                    reason="reliability",
                    idempotency_key=first.key,
                ),
                timeout=timeout,
            )
            ids = [reply.id]
        else:
            method = stub.DebitGiftCard if first.kind == DEBIT else stub.CreditGiftCard
            request = pb.DebitGiftCardRequest if first.kind == DEBIT else pb.CreditGiftCardRequest
            reply = await method(
                request(
                    id=first.target,
                    amount=str(first.amount),
                    currency_code=CURRENCY,
                    reference="reliability",
                    reference_id=first.key[:40],
                    idempotency_key=first.key,
                ),
                timeout=timeout,
            )
            ids = [reply.transaction.id]
        outcome, code, detail = OK, "OK", ""
    except grpc.aio.AioRpcError as error:
        ids = []
        code, detail = error.code().name, error.details() or ""
        reason = error_reason(error)
        if error.code() in INDETERMINATE:
            outcome = UNKNOWN
        elif error.code() == grpc.StatusCode.FAILED_PRECONDITION and reason == "NOT_ALLOWED":
            outcome = REFUSED  # a rule said no: the transaction rolled back
        else:
            outcome = UNEXPECTED
            detail = f"{reason}: {detail}"
    elapsed = time.monotonic() - started
    for index, write in enumerate(op.writes):
        write.outcome, write.code, write.detail = outcome, code, detail
        write.attempts += 1
        write.sent_at = started
        write.latency = elapsed
        if ids:
            write.row_id = ids[index]


@dataclass
class Hot:
    """The contended rows: a few customers and gift cards every client hits."""

    customers: list[str]
    cards: list[str]
    card_values: dict[str, Decimal]

    @classmethod
    async def create(
        cls, stub: LoyaltyServiceStub, customers: int, cards: int, tag: str = ""
    ) -> Hot:
        tag = tag or uuid.uuid4().hex[:8]
        made: list[str] = []
        if cards:
            reply = await stub.CreateGiftCards(
                pb.CreateGiftCardsRequest(
                    gift_cards=[
                        pb.CreateGiftCardInput(value=str(CARD_VALUE), currency_code=CURRENCY)
                        for _ in range(cards)
                    ]
                ),
                timeout=10,
            )
            made = [card.id for card in reply.gift_cards]
        return cls(
            [f"cus_hot_{tag}_{i}" for i in range(customers)],
            made,
            {card: CARD_VALUE for card in made},
        )


def _amount(rng: random.Random, low: int, high: int) -> Decimal:
    """Whole numbers mostly, cents sometimes: exactness is part of the check."""
    whole = Decimal(rng.randint(low, high))
    return whole if rng.random() < 0.7 else whole + Decimal(rng.randint(1, 99)) / 100


def random_op(rng: random.Random, hot: Hot, *, batches: bool = True) -> Op:
    roll = rng.random()
    if roll < 0.45 or not hot.cards:
        if batches and roll < 0.05 and len(hot.customers) > 1:
            chosen = rng.sample(hot.customers, rng.randint(2, min(3, len(hot.customers))))
            return Op([Write(POINTS, c, _amount(rng, 1, 30)) for c in chosen])
        sign = 1 if rng.random() < 0.6 else -1
        return Op([Write(POINTS, rng.choice(hot.customers), sign * _amount(rng, 1, 50))])
    kind = DEBIT if roll < 0.75 else CREDIT
    return Op([Write(kind, rng.choice(hot.cards), _amount(rng, 1, 40))])


class Load:
    """`clients` concurrent clients, each with its own channel, writing until stopped."""

    def __init__(
        self,
        target: str,
        hot: Hot,
        *,
        clients: int,
        timeout: float = 5.0,
        seed: int = 0,
        pause: float = 0.0,
        timeouts: tuple[float, float] | None = None,
        round_robin: bool = False,
    ) -> None:
        self.target = target
        self.hot = hot
        self.clients = clients
        self.timeout = timeout
        self.timeouts = timeouts
        self.seed = seed
        self.pause = pause
        self.round_robin = round_robin
        self.ops: list[Op] = []
        self.stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.started = 0.0
        self.elapsed = 0.0

    def channel(self) -> grpc.aio.Channel:
        options = list(CHANNEL_OPTIONS)
        if self.round_robin:
            options.append(("grpc.lb_policy_name", "round_robin"))
        return grpc.aio.insecure_channel(self.target, options=options)

    async def _client(self, index: int) -> None:
        rng = random.Random(self.seed * 1000 + index)
        async with self.channel() as channel:
            stub = LoyaltyServiceStub(channel)
            while not self.stopping.is_set():
                op = random_op(rng, self.hot)
                self.ops.append(op)
                timeout = rng.uniform(*self.timeouts) if self.timeouts else self.timeout
                await send(stub, op, timeout)
                if op.writes[0].outcome == UNKNOWN and op.writes[0].code == "UNAVAILABLE":
                    await asyncio.sleep(0.25)  # the server is away: do not spin
                if self.pause:
                    await asyncio.sleep(rng.uniform(0, 2 * self.pause))

    async def __aenter__(self) -> Load:
        self.started = time.monotonic()
        self._tasks = [asyncio.create_task(self._client(i)) for i in range(self.clients)]
        return self

    async def stop(self) -> None:
        self.stopping.set()
        await asyncio.gather(*self._tasks)
        self.elapsed = time.monotonic() - self.started

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def writes(self) -> list[Write]:
        return [w for op in self.ops for w in op.writes]

    def codes(self) -> Counter[str]:
        return Counter(op.writes[0].code for op in self.ops)

    def summary(self) -> str:
        rate = len(self.ops) / self.elapsed if self.elapsed else 0.0
        return (
            f"{len(self.ops)} calls ({len(self.writes)} writes) by {self.clients} clients in "
            f"{self.elapsed:.1f} s = {rate:.0f} calls/s; outcomes {dict(self.codes())}"
        )


def unexpected(writes: Iterable[Write]) -> list[str]:
    return [
        f"{w.kind} {w.target} {w.amount}: {w.code} {w.detail}"
        for w in writes
        if w.outcome == UNEXPECTED
    ]


async def resolve(target: str, ops: list[Op], *, within: float = 60.0, workers: int = 16) -> int:
    """Retry every op whose outcome is unknown, with the same keys and body, until it
    is OK or refused. A replay of a write that happened returns the first answer; one
    that did not happen is applied now (or refused). Returns how many were retried."""
    pending = [op for op in ops if op.writes[0].outcome == UNKNOWN]
    queue = list(reversed(pending))
    deadline = time.monotonic() + within

    async def worker(stub: LoyaltyServiceStub) -> None:
        while queue:
            op = queue.pop()
            while True:
                await send(stub, op, 10.0)
                if op.writes[0].outcome != UNKNOWN:
                    break
                if time.monotonic() > deadline:
                    raise AssertionError(f"could not resolve {op} within {within}s")
                await asyncio.sleep(0.2)

    async with grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS) as channel:
        stub = LoyaltyServiceStub(channel)
        await asyncio.gather(*(worker(stub) for _ in range(workers)))
    return len(pending)


async def check_balances(target: str, hot: Hot, writes: list[Write]) -> None:
    """Stored balance = sum of the deltas of the writes that returned OK."""
    ok = [w for w in writes if w.outcome == OK]
    assert not [w for w in writes if w.outcome == UNKNOWN], "resolve() first"
    async with grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS) as channel:
        stub = LoyaltyServiceStub(channel)
        for customer in hot.customers:
            expected = sum((w.amount for w in ok if w.target == customer), Decimal(0))
            reply = await stub.GetPointsBalance(
                pb.GetPointsBalanceRequest(customer_id=customer), timeout=10
            )
            assert Decimal(reply.balance) == expected, (customer, reply.balance, expected)
            assert expected >= 0
        for card in hot.cards:
            debits = sum((w.amount for w in ok if w.target == card and w.kind == DEBIT), Decimal(0))
            credits = sum(
                (w.amount for w in ok if w.target == card and w.kind == CREDIT), Decimal(0)
            )
            expected = hot.card_values[card] - debits + credits
            got = await stub.RetrieveGiftCard(pb.RetrieveGiftCardRequest(id=card), timeout=10)
            assert Decimal(got.balance) == expected, (card, got.balance, expected)
            assert 0 <= expected <= hot.card_values[card]


def ledger_rows(database_url: str, hot: Hot) -> dict[tuple[str, str], str]:
    """(customer or card, idempotency key) -> ledger row id, for the hot rows."""
    engine = create_engine(sync_url(database_url))
    adjustments = PointAdjustment.__table__
    transactions = GiftCardTransaction.__table__
    rows: dict[tuple[str, str], str] = {}
    try:
        with engine.connect() as conn:
            for owner, key, row_id in conn.execute(
                select(
                    adjustments.c.customer_id, adjustments.c.idempotency_key, adjustments.c.id
                ).where(adjustments.c.customer_id.in_(hot.customers))
            ):
                assert (owner, key) not in rows
                rows[(owner, key)] = row_id
            if hot.cards:
                for owner, key, row_id in conn.execute(
                    select(
                        transactions.c.gift_card_id,
                        transactions.c.idempotency_key,
                        transactions.c.id,
                    ).where(transactions.c.gift_card_id.in_(hot.cards))
                ):
                    assert (owner, key) not in rows
                    rows[(owner, key)] = row_id
    finally:
        engine.dispose()
    return rows


def check_ledger(database_url: str, hot: Hot, writes: list[Write]) -> None:
    """Every OK write is in the ledger under its key with the id the caller was given;
    no refused write and no unaccounted row is there (nothing half-written)."""
    rows = ledger_rows(database_url, hot)
    ok = {(w.target, w.key): w.row_id for w in writes if w.outcome == OK}
    refused = {(w.target, w.key) for w in writes if w.outcome == REFUSED}
    missing = {k: v for k, v in ok.items() if rows.get(k) != v}
    assert not missing, f"{len(missing)} OK writes missing or with another id: {list(missing)[:5]}"
    phantom = set(rows) - set(ok)
    assert not phantom, f"{len(phantom)} ledger rows no OK call accounts for: {list(phantom)[:5]}"
    assert not refused & set(rows), "a refused write left a ledger row"


def run_verify(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [server_bin(), "verify", "--database-url", database_url, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def check_verify(database_url: str) -> str:
    result = run_verify(database_url)
    assert result.returncode == 0, f"verify failed:\n{result.stdout}\n{result.stderr}"
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("OK: "), result.stdout
    return lines[0]


async def check_all(target: str, database_url: str, hot: Hot, load_ops: list[Op]) -> str:
    """The full post-run check; returns verify's OK line."""
    writes = [w for op in load_ops for w in op.writes]
    assert not unexpected(writes), unexpected(writes)[:10]
    await resolve(target, load_ops)
    assert not unexpected(writes), unexpected(writes)[:10]
    await check_balances(target, hot, writes)
    check_ledger(database_url, hot, writes)
    return check_verify(database_url)


@contextlib.contextmanager
def diagnostics(*servers: Any) -> Iterator[None]:
    """On failure, show the tail of each server's log (captured output of the test)."""
    try:
        yield
    except BaseException:
        for server in servers:
            tail = "\n".join(server.log_text().splitlines()[-25:])
            print(f"--- last lines of {server.log_path}:\n{tail}")
        raise


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def report(message: str) -> None:
    """Numbers for the run's log (shown with pytest -rP or -s)."""
    print(f"[reliability] {message}")


# ---------------------------------------------------------------- throwaway PostgreSQL


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bindir() -> Path | None:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    found = shutil.which("pg_ctl")
    if found:
        candidates.append(Path(found).parent)
    for path in candidates:
        if (path / "initdb").exists() and (path / "pg_ctl").exists():
            return path
    return None


class ThrowawayPostgres:
    """A PostgreSQL cluster of our own on a free port, to stop and start at will.

    The machine's shared PostgreSQL is never touched. As root, the cluster runs as
    the `postgres` user (postgres refuses to run as root).
    """

    def __init__(self) -> None:
        self.bindir = _pg_bindir()
        self.dir = Path(tempfile.mkdtemp(prefix="loyalty-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self.as_user: list[str] = []

    def problem(self) -> str | None:
        if self.bindir is None:
            return "no initdb/pg_ctl found (install postgresql)"
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                return "running as root without runuser"
            try:
                shutil.chown(self.dir, user="postgres")
            except (LookupError, OSError) as error:
                return f"cannot hand a data directory to the postgres user: {error}"
            self.as_user = ["runuser", "-u", "postgres", "--"]
        return None

    def _run(self, *args: str, timeout: float = 60) -> None:
        assert self.bindir is not None
        command = [*self.as_user, str(self.bindir / args[0]), *args[1:]]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=60"
        )
        log = str(self.dir / "postgres.log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def destroy(self) -> None:
        if self.bindir is not None and (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
