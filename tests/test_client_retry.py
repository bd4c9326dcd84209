"""The retry rule, shown against the real server.

A small TCP proxy in front of the server lets the first call through to the server and
then cuts the connection the moment the server starts to answer: the server has done
the work, the client sees UNAVAILABLE. A keyed write is retried and applied exactly
once (the server replays the stored answer); an unkeyed write is not retried (it was
applied once, and the caller gets Unavailable to decide what to do). The proxy also
counts the calls that reached the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import grpc
import pytest

from loyalty_client import (
    AsyncLoyaltyClient,
    LoyaltyClient,
    NewGiftCard,
    PointsAdjustmentInput,
    RetryPolicy,
    Unavailable,
)
from loyalty_client.errors import DeadlineExceeded, LoyaltyError, NotFound

FAST = RetryPolicy(max_attempts=4, initial_backoff=0.02, max_backoff=0.1)
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS = 0x0, 0x1


def _frames(buf: bytearray) -> Iterator[tuple[int, int, bytes]]:
    """Pops complete HTTP/2 frames (type, stream id, bytes) off the front of buf."""
    while len(buf) >= 9:
        length = int.from_bytes(buf[0:3], "big")
        if len(buf) < 9 + length:
            return
        kind = buf[3]
        stream = int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
        raw = bytes(buf[: 9 + length])
        del buf[: 9 + length]
        yield kind, stream, raw


class CuttingProxy:
    """TCP proxy to a gRPC server. The first ``cut_responses`` answers (the first
    HEADERS or DATA frame of a call coming back from the server) are not forwarded:
    the connection is reset instead. With ``swallow`` set, answers are dropped and the
    connection kept, so calls run into their deadline. ``requests`` counts calls that
    reached the server.
    """

    def __init__(self, upstream: str, cut_responses: int = 1) -> None:
        host, port = upstream.rsplit(":", 1)
        self.upstream = (host, int(port))
        self.cut_responses = cut_responses
        #: While True, answers are swallowed: the connection stays up, calls hang.
        self.swallow = False
        self.requests = 0
        self.cuts = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.target = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self._closed = False
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def __enter__(self) -> CuttingProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed = True
        self._listener.close()
        for sock in list(self._sockets):
            self._reset(sock)

    @staticmethod
    def _reset(sock: socket.socket) -> None:
        for step in (
            lambda: sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)),
            lambda: sock.shutdown(socket.SHUT_RDWR),  # wakes the thread blocked in recv()
            sock.close,
        ):
            with contextlib.suppress(OSError):
                step()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
                server = socket.create_connection(self.upstream)
            except OSError:
                return
            self._sockets += [client, server]
            threading.Thread(target=self._up, args=(client, server), daemon=True).start()
            threading.Thread(target=self._down, args=(server, client), daemon=True).start()

    def _up(self, client: socket.socket, server: socket.socket) -> None:
        buf = bytearray()
        seen_preface = False
        try:
            while data := client.recv(65536):
                server.sendall(data)
                buf += data
                if not seen_preface:
                    if len(buf) < len(PREFACE):
                        continue
                    del buf[: len(PREFACE)]
                    seen_preface = True
                for kind, stream, _ in _frames(buf):
                    if kind == HEADERS and stream:
                        with self._lock:
                            self.requests += 1
        except OSError:
            pass
        finally:
            self._reset(server)
            self._reset(client)

    def _down(self, server: socket.socket, client: socket.socket) -> None:
        buf = bytearray()
        try:
            while data := server.recv(65536):
                buf += data
                out = bytearray()
                for kind, stream, raw in _frames(buf):
                    if stream and self.swallow:
                        continue
                    if stream and kind in (HEADERS, DATA):
                        with self._lock:
                            cut = self.cuts < self.cut_responses
                            self.cuts += cut
                        if cut:
                            client.sendall(out)
                            return  # finally: reset both sides
                    out += raw
                client.sendall(out)
        except OSError:
            pass
        finally:
            self._reset(client)
            self._reset(server)


@pytest.fixture
def proxy(loyalty_server: Any) -> Iterator[CuttingProxy]:
    with CuttingProxy(loyalty_server.target, cut_responses=1) as p:
        yield p


def ledger(target: str, customer: str) -> list[Decimal]:
    with LoyaltyClient(target) as c:
        return [a.delta for a in c.iter_point_adjustments(customer)]


# ------------------------------------------------------------ writes


def test_keyed_write_is_retried_and_applied_once(
    loyalty_server: Any, proxy: CuttingProxy, uid: str
) -> None:
    customer = f"cus_{uid}"
    with LoyaltyClient(proxy.target, retry=FAST) as c:
        result = c.adjust_points(customer, 10, reason="order 1")  # key generated by the client
    assert proxy.cuts == 1
    assert proxy.requests == 2  # the first attempt reached the server, then the retry
    assert result.balance_after == Decimal(10)
    assert ledger(loyalty_server.target, customer) == [Decimal(10)]


def test_explicit_key_is_retried_and_applied_once(
    loyalty_server: Any, proxy: CuttingProxy, uid: str
) -> None:
    customer = f"cus_{uid}"
    with LoyaltyClient(proxy.target, retry=FAST) as c:
        result = c.adjust_points(customer, 3, idempotency_key=f"order-{uid}")
    assert (proxy.cuts, proxy.requests) == (1, 2)
    assert result.balance_after == Decimal(3)
    assert ledger(loyalty_server.target, customer) == [Decimal(3)]


def test_unkeyed_write_is_not_retried(loyalty_server: Any, proxy: CuttingProxy, uid: str) -> None:
    customer = f"cus_{uid}"
    with LoyaltyClient(proxy.target, retry=FAST) as c, pytest.raises(Unavailable):
        c.adjust_points(customer, 10, idempotency_key="")  # "" sends no key at all
    assert proxy.requests == 1  # no second attempt
    # The server did apply the first (and only) attempt: a retry would have doubled it.
    assert ledger(loyalty_server.target, customer) == [Decimal(10)]


def test_gift_card_debit_and_credit_are_retried_once(
    loyalty_server: Any, proxy: CuttingProxy, uid: str
) -> None:
    with LoyaltyClient(loyalty_server.target) as direct:
        card = direct.create_gift_card(NewGiftCard(value=100, currency_code="usd", code=f"R{uid}"))
    with LoyaltyClient(proxy.target, retry=FAST) as c:
        debit = c.debit_gift_card(code=card.code, amount=30, currency_code="usd")
        proxy.cut_responses += 1
        credit = c.credit_gift_card(id=card.id, amount=5, currency_code="usd")
    assert (proxy.cuts, proxy.requests) == (2, 4)
    assert debit.balance == Decimal(70)
    assert credit.balance == Decimal(75)
    with LoyaltyClient(loyalty_server.target) as direct:
        txs = list(direct.iter_gift_card_transactions(card.id))
        assert [t.amount for t in txs] == [Decimal(5), Decimal(30)]
        assert direct.retrieve_gift_card(id=card.id).balance == Decimal(75)


def test_keyed_batch_is_retried_and_applied_once(
    loyalty_server: Any, proxy: CuttingProxy, uid: str
) -> None:
    a, b = f"cus_a_{uid}", f"cus_b_{uid}"
    with LoyaltyClient(proxy.target, retry=FAST) as c:
        result = c.batch_adjust_points(
            [PointsAdjustmentInput(a, 1), PointsAdjustmentInput(b, 2, idempotency_key="x")]
        )
    assert (proxy.cuts, proxy.requests) == (1, 2)
    assert [r.balance_after for r in result] == [Decimal(1), Decimal(2)]
    assert ledger(loyalty_server.target, a) == [Decimal(1)]
    assert ledger(loyalty_server.target, b) == [Decimal(2)]


def test_write_without_idempotency_key_in_the_contract_is_not_retried(
    loyalty_server: Any, proxy: CuttingProxy, uid: str
) -> None:
    code = f"N{uid}"
    with LoyaltyClient(proxy.target, retry=FAST) as c, pytest.raises(Unavailable):
        c.create_gift_card(NewGiftCard(value=5, currency_code="usd", code=code))
    assert proxy.requests == 1
    with LoyaltyClient(loyalty_server.target) as direct:
        assert direct.retrieve_gift_card(code=code).value == Decimal(5)  # created once


# ------------------------------------------------------------ reads


def test_reads_are_retried(loyalty_server: Any, proxy: CuttingProxy, uid: str) -> None:
    with LoyaltyClient(proxy.target, retry=FAST) as c:
        assert c.get_points_balance(f"cus_{uid}").balance == Decimal(0)
        proxy.cut_responses += 1
        with pytest.raises(NotFound):  # a retried read still maps the final error
            c.retrieve_gift_card(code=f"none{uid}")
    assert (proxy.cuts, proxy.requests) == (2, 4)


def test_no_retry_after_max_attempts(loyalty_server: Any, uid: str) -> None:
    with CuttingProxy(loyalty_server.target, cut_responses=10) as proxy:
        policy = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.01)
        with LoyaltyClient(proxy.target, retry=policy) as c, pytest.raises(Unavailable):
            c.get_points_balance(f"cus_{uid}")
        assert proxy.requests == 3


# ------------------------------------------------------------ deadlines


def test_deadline_exceeded_is_raised_and_not_retried(loyalty_server: Any, uid: str) -> None:
    customer = f"cus_{uid}"
    with CuttingProxy(loyalty_server.target, cut_responses=0) as proxy:
        proxy.swallow = True
        with LoyaltyClient(proxy.target, timeout=0.5, retry=FAST) as c:
            with pytest.raises(DeadlineExceeded) as caught:
                c.adjust_points(customer, 7)  # keyed, yet a deadline is not retried
            assert caught.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
            assert caught.value.reason is None
            assert proxy.requests == 1

            async def scenario() -> None:
                async with AsyncLoyaltyClient(proxy.target, timeout=0.5) as ac:
                    with pytest.raises(DeadlineExceeded):
                        await ac.get_points_balance(customer)

            asyncio.run(scenario())
            assert proxy.requests == 2
    # After a deadline a write may or may not have been applied (here the server
    # normally has applied it, its answer was swallowed); it was not applied twice. The
    # caller's way out is to retry with the same idempotency key.
    assert ledger(loyalty_server.target, customer) in ([], [Decimal(7)])


def test_with_options_sets_timeout_and_retry_for_its_calls(loyalty_server: Any, uid: str) -> None:
    customer = f"cus_{uid}"
    with CuttingProxy(loyalty_server.target, cut_responses=0) as proxy:
        proxy.swallow = True
        with LoyaltyClient(proxy.target, timeout=30, retry=FAST) as c:
            started = time.monotonic()
            with pytest.raises(DeadlineExceeded):
                c.with_options(timeout=0.3).get_points_balance(customer)  # not 30 s
            assert time.monotonic() - started < 5

        async def scenario() -> None:
            async with AsyncLoyaltyClient(proxy.target, timeout=30) as ac:
                with pytest.raises(DeadlineExceeded):
                    await ac.with_options(timeout=0.3).get_points_balance(customer)

        asyncio.run(scenario())

    with (
        CuttingProxy(loyalty_server.target, cut_responses=2) as proxy,
        LoyaltyClient(proxy.target, retry=FAST) as c,
    ):
        with pytest.raises(Unavailable):
            c.with_options(retry=RetryPolicy(max_attempts=1)).get_points_balance(customer)
        assert proxy.requests == 1  # the derived client did not retry
        assert c.get_points_balance(customer).balance == Decimal(0)  # the parent does
        assert (proxy.cuts, proxy.requests) == (2, 3)
        # on the connection they share, a derived client without a deadline works
        assert c.with_options(timeout=None).get_points_balance(customer).balance == 0
        with pytest.raises(ValueError, match="timeout must be"):
            c.with_options(timeout=0)
        with pytest.raises(TypeError, match="retry must be a RetryPolicy"):
            c.with_options(retry=3)  # type: ignore[arg-type]


# ------------------------------------------------------------ asyncio


def test_async_client_follows_the_same_rule(
    loyalty_server: Any, proxy: CuttingProxy, uid: str
) -> None:
    keyed, unkeyed = f"cus_k_{uid}", f"cus_u_{uid}"

    async def scenario() -> None:
        async with AsyncLoyaltyClient(proxy.target, retry=FAST) as c:
            result = await c.adjust_points(keyed, 4)
            assert result.balance_after == Decimal(4)
            assert (proxy.cuts, proxy.requests) == (1, 2)
            proxy.cut_responses += 1
            with pytest.raises(Unavailable):
                await c.adjust_points(unkeyed, 6, idempotency_key="")
            assert (proxy.cuts, proxy.requests) == (2, 3)

    asyncio.run(scenario())
    assert ledger(loyalty_server.target, keyed) == [Decimal(4)]
    assert ledger(loyalty_server.target, unkeyed) == [Decimal(6)]


# ------------------------------------------------------------ restart


def test_reads_and_keyed_writes_ride_out_a_server_restart(start_server: Any, uid: str) -> None:
    server = start_server()
    customer = f"cus_{uid}"
    # Up to 400 attempts, waits of at most 0.25 s: about a minute of patience, enough for
    # a PostgreSQL-backed server to migrate-check and boot on a busy machine.
    patient = RetryPolicy(max_attempts=400, initial_backoff=0.05, max_backoff=0.25)
    restart_errors: list[BaseException] = []

    def restart() -> None:
        try:
            server.restart()
        except BaseException as error:  # reported below, not lost in the thread
            restart_errors.append(error)

    with LoyaltyClient(server.target, retry=patient) as c:
        c.adjust_points(customer, 1)
        server.kill()  # SIGKILL; the restart below reuses its port and database
        restarted = threading.Thread(target=restart)
        restarted.start()
        try:
            balance = c.get_points_balance(customer)
            adjusted = c.adjust_points(customer, 2)
        finally:
            restarted.join()
        assert not restart_errors, restart_errors
        assert balance.balance == Decimal(1)
        assert adjusted.balance_after == Decimal(3)
    with LoyaltyClient(server.target) as direct:
        assert [a.delta for a in direct.iter_point_adjustments(customer)] == [
            Decimal(2),
            Decimal(1),
        ]


def test_server_down_unkeyed_write_fails_fast(start_server: Any, uid: str) -> None:
    server = start_server()
    with LoyaltyClient(server.target, retry=FAST) as c:
        server.kill()
        started = time.monotonic()
        with pytest.raises(LoyaltyError) as caught:
            c.adjust_points(f"cus_{uid}", 1, idempotency_key="")
        assert isinstance(caught.value, Unavailable)
        assert time.monotonic() - started < 5
