"""Security (issue 6): bearer API keys and JWTs with scopes, TLS and mutual TLS,
safe defaults, grpcurl with a token. Every test runs real `loyalty-server` processes."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import logging
import os
import secrets
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import jwt
import pytest
from conftest import SERVER_BIN, ServerProcess, free_port
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc
from helpers import RichError, rich_error

from loyalty.v1 import loyalty_pb2 as pb
from loyalty.v1.loyalty_pb2_grpc import LoyaltyServiceStub
from loyalty_server import cli, logs
from loyalty_server.api.auth import READ, RPC_SCOPES, SERVICE, WRITE, Authenticator, AuthError
from loyalty_server.config import Settings
from loyalty_server.security import is_loopback

READ_RPCS = sorted(m for m, s in RPC_SCOPES.items() if s == READ)
WRITE_RPCS = sorted(m for m, s in RPC_SCOPES.items() if s == WRITE)
ALL_RPCS = sorted(RPC_SCOPES)

UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
PERMISSION_DENIED = grpc.StatusCode.PERMISSION_DENIED

# Keys the tests hand out; the server only ever sees their SHA-256.
RW_KEY = "lk_rw_" + secrets.token_urlsafe(24)
RO_KEY = "lk_ro_" + secrets.token_urlsafe(24)
WO_KEY = "lk_wo_" + secrets.token_urlsafe(24)
JWT_SECRET = secrets.token_urlsafe(48)
AUDIENCE = "loyalty"
ISSUER = "medusa"


def sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def auth_env() -> dict[str, str]:
    return {
        "LOYALTY_API_KEYS": (
            f"rw:{sha(RW_KEY)}=loyalty:read,loyalty:write; ro:{sha(RO_KEY)}=loyalty:read;"
            f" wo:{sha(WO_KEY)}=loyalty:write"
        ),
        "LOYALTY_JWT_SECRET": JWT_SECRET,
        "LOYALTY_JWT_AUDIENCE": AUDIENCE,
        "LOYALTY_JWT_ISSUER": ISSUER,
    }


def make_jwt(
    scope: Any = "loyalty:read loyalty:write",
    *,
    expires_in: float = 300,
    secret: str = JWT_SECRET,
    **claims: Any,
) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {"sub": "medusa-backend", "aud": AUDIENCE, "iss": ISSUER}
    payload.update({"iat": now, "exp": now + int(expires_in)})
    if scope is not None:
        payload["scope"] = scope
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, secret, algorithm="HS256")


def log_entries(server: ServerProcess) -> list[dict[str, Any]]:
    """The server's JSON log lines (gRPC core may print plain lines in between)."""
    return [json.loads(x) for x in server.log_text().splitlines() if x.startswith("{")]


def bearer(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


# ------------------------------------------------------------- processes


class Spawned(ServerProcess):
    """A server started with extra environment variables and, optionally, TLS: it waits
    for SERVING over the channel and metadata it is given (conftest waits in plaintext
    and without a token)."""

    def __init__(
        self,
        database_url: str,
        log_dir: Path,
        *,
        env: dict[str, str] | None = None,
        listen: str | None = None,
        channel: Callable[[str], grpc.Channel] | None = None,
        metadata: list[tuple[str, str]] | None = None,
        **settings: Any,
    ) -> None:
        super().__init__(database_url, log_dir, **settings)
        self.env = env or {}
        self.listen = listen
        self.make_channel = channel or grpc.insecure_channel
        self.metadata = metadata

    def args(self) -> list[str]:
        args = super().args()
        if self.listen is not None:
            args[args.index("--listen") + 1] = self.listen
        return args

    def popen(self) -> subprocess.Popen[bytes]:
        log = self.log_path.open("ab")
        env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_")}
        env.update(self.env)
        self.process = subprocess.Popen(self.args(), stdout=log, stderr=subprocess.STDOUT, env=env)
        return self.process

    def start(self) -> Spawned:
        if not self.database_url.startswith("sqlite"):
            subprocess.run(
                [SERVER_BIN, "migrate", "--database-url", self.database_url],
                check=True,
                capture_output=True,
            )
        process = self.popen()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited {process.returncode}:\n{self.log_text()}")
            try:
                with self.make_channel(self.target) as ch:
                    reply = health_pb2_grpc.HealthStub(ch).Check(
                        health_pb2.HealthCheckRequest(service=SERVICE.full_name),
                        timeout=1,
                        metadata=self.metadata,
                    )
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return self
            except grpc.RpcError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"server did not start; log:\n{self.log_text()}")

    def run_to_exit(self, timeout: float = 20) -> int:
        """For servers that must refuse to start: the exit code."""
        return self.popen().wait(timeout)


def sqlite_url(workdir: Path) -> str:
    return f"sqlite:///{workdir / f'security-{secrets.token_hex(6)}.db'}"


# Authentication sits above the database, so these servers run on SQLite only
# (tests/test_security_input.py throws hostile input at both backends).


@pytest.fixture
def spawn(workdir: Path) -> Iterator[Callable[..., Spawned]]:
    started: list[Spawned] = []

    def make(**kw: Any) -> Spawned:
        server = Spawned(kw.pop("database_url", None) or sqlite_url(workdir), workdir, **kw)
        started.append(server)
        return server

    yield make
    for server in started:
        server.kill()


@pytest.fixture(scope="module")
def auth_server(workdir: Path) -> Iterator[Spawned]:
    """One server with API keys and a JWT secret configured."""
    server = Spawned(sqlite_url(workdir), workdir, env=auth_env()).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def auth_stub(auth_server: Spawned) -> Iterator[LoyaltyServiceStub]:
    with auth_server.channel() as ch:
        yield LoyaltyServiceStub(ch)


# ------------------------------------------------------ requests per RPC


def _new_card(stub: LoyaltyServiceStub, uid: str) -> pb.GiftCard:
    created = stub.CreateGiftCards(
        pb.CreateGiftCardsRequest(
            gift_cards=[pb.CreateGiftCardInput(value="50", currency_code="usd", note=uid)]
        ),
        metadata=bearer(RW_KEY),
        timeout=10,
    )
    card: pb.GiftCard = created.gift_cards[0]
    return card


def valid_request(stub: LoyaltyServiceStub, rpc: str, uid: str) -> Any:
    """A request that succeeds (given the scope), with whatever rows it needs."""
    customer = f"cus_sec_{uid}"
    if rpc == "AdjustPoints":
        return pb.AdjustPointsRequest(customer_id=customer, delta="10")
    if rpc == "BatchAdjustPoints":
        return pb.BatchAdjustPointsRequest(
            adjustments=[pb.BatchAdjustPointsItem(customer_id=customer, delta="1")]
        )
    if rpc == "GetPointsBalance":
        return pb.GetPointsBalanceRequest(customer_id=customer)
    if rpc == "ListPointAdjustments":
        return pb.ListPointAdjustmentsRequest(customer_id=customer)
    if rpc == "CreateGiftCards":
        return pb.CreateGiftCardsRequest(
            gift_cards=[pb.CreateGiftCardInput(value="10", currency_code="eur")]
        )
    if rpc == "ListGiftCards":
        return pb.ListGiftCardsRequest(take=1)
    if rpc == "GetOptions":
        return pb.GetOptionsRequest()
    if rpc == "CreateStoreCreditAccounts":
        return pb.CreateStoreCreditAccountsRequest(
            accounts=[pb.CreateStoreCreditAccountInput(currency_code="usd")]
        )
    if rpc == "ListStoreCreditAccounts":
        return pb.ListStoreCreditAccountsRequest(take=1)
    if rpc == "ListAccountTransactions":
        return pb.ListAccountTransactionsRequest(take=1)
    if rpc in STORE_CREDIT_RPCS:
        return _store_credit_request(stub, rpc)
    if rpc in HOLD_RPCS:
        return _hold_request(stub, rpc, customer)
    card = _new_card(stub, uid)
    if rpc == "UpdateGiftCards":
        return pb.UpdateGiftCardsRequest(gift_cards=[pb.UpdateGiftCardInput(id=card.id, note="x")])
    if rpc == "RetrieveGiftCard":
        return pb.RetrieveGiftCardRequest(id=card.id)
    if rpc in ("DeleteGiftCards", "SoftDeleteGiftCards", "RestoreGiftCards"):
        return getattr(pb, f"{rpc}Request")(ids=[card.id])
    if rpc == "DebitGiftCard":
        return pb.DebitGiftCardRequest(id=card.id, amount="1", currency_code="usd")
    if rpc == "CreditGiftCard":
        stub.DebitGiftCard(
            pb.DebitGiftCardRequest(id=card.id, amount="5", currency_code="usd"),
            metadata=bearer(RW_KEY),
            timeout=10,
        )
        return pb.CreditGiftCardRequest(id=card.id, amount="1", currency_code="usd")
    if rpc == "ListGiftCardTransactions":
        return pb.ListGiftCardTransactionsRequest(gift_card_id=card.id)
    raise AssertionError(f"no valid request for {rpc}")


HOLD_RPCS = {
    "HoldPoints",
    "CapturePointsHold",
    "ReleasePointsHold",
    "GetPointsHold",
    "ListPointsHolds",
    "EarnOrderPoints",
    "ReverseOrderPoints",
    "GetOrderPoints",
}


def _hold_request(stub: LoyaltyServiceStub, rpc: str, customer: str) -> Any:
    """A request on a customer holding 10 points, 4 of them in a hold, who earned
    them with an order (made with the rw key)."""
    order = f"order_{customer}"
    stub.EarnOrderPoints(
        pb.EarnOrderPointsRequest(customer_id=customer, order_id=order, points="10"),
        metadata=bearer(RW_KEY),
        timeout=10,
    )
    held = stub.HoldPoints(
        pb.HoldPointsRequest(customer_id=customer, points="4"),
        metadata=bearer(RW_KEY),
        timeout=10,
    ).hold
    requests: dict[str, Any] = {
        "HoldPoints": pb.HoldPointsRequest(customer_id=customer, points="1"),
        "CapturePointsHold": pb.CapturePointsHoldRequest(hold_id=held.id),
        "ReleasePointsHold": pb.ReleasePointsHoldRequest(hold_id=held.id),
        "GetPointsHold": pb.GetPointsHoldRequest(hold_id=held.id),
        "ListPointsHolds": pb.ListPointsHoldsRequest(customer_id=customer),
        "EarnOrderPoints": pb.EarnOrderPointsRequest(
            customer_id=customer, order_id=f"{order}_2", points="1"
        ),
        "ReverseOrderPoints": pb.ReverseOrderPointsRequest(
            customer_id=customer, order_id=order, idempotency_key="cancel"
        ),
        "GetOrderPoints": pb.GetOrderPointsRequest(customer_id=customer, order_id=order),
    }
    return requests[rpc]


STORE_CREDIT_RPCS = {
    "UpdateStoreCreditAccounts",
    "RetrieveStoreCreditAccount",
    "DeleteStoreCreditAccounts",
    "SoftDeleteStoreCreditAccounts",
    "RestoreStoreCreditAccounts",
    "CreditAccounts",
    "DebitAccounts",
    "RetrieveAccountStats",
    "DeleteAccountTransactions",
}


def _store_credit_request(stub: LoyaltyServiceStub, rpc: str) -> Any:
    """A request on a fresh account holding 10 (one credit), made with the rw key."""
    account = stub.CreateStoreCreditAccounts(
        pb.CreateStoreCreditAccountsRequest(
            accounts=[pb.CreateStoreCreditAccountInput(currency_code="usd")]
        ),
        metadata=bearer(RW_KEY),
        timeout=10,
    ).accounts[0]
    funded = stub.CreditAccounts(
        pb.CreditAccountsRequest(
            credits=[pb.AccountEntryInput(account_id=account.id, amount="10")]
        ),
        metadata=bearer(RW_KEY),
        timeout=10,
    ).transactions[0]
    if rpc == "UpdateStoreCreditAccounts":
        return pb.UpdateStoreCreditAccountsRequest(
            accounts=[pb.UpdateStoreCreditAccountInput(id=account.id, code=f"SC-{account.id[-8:]}")]
        )
    if rpc == "RetrieveStoreCreditAccount":
        return pb.RetrieveStoreCreditAccountRequest(id=account.id)
    if rpc in ("DeleteStoreCreditAccounts", "SoftDeleteStoreCreditAccounts"):
        return getattr(pb, f"{rpc}Request")(ids=[account.id])
    if rpc == "RestoreStoreCreditAccounts":
        return pb.RestoreStoreCreditAccountsRequest(ids=[account.id])
    if rpc in ("CreditAccounts", "DebitAccounts"):
        entries = [pb.AccountEntryInput(account_id=account.id, amount="1")]
        if rpc == "CreditAccounts":
            return pb.CreditAccountsRequest(credits=entries)
        return pb.DebitAccountsRequest(debits=entries)
    if rpc == "RetrieveAccountStats":
        return pb.RetrieveAccountStatsRequest(account_id=account.id)
    return pb.DeleteAccountTransactionsRequest(ids=[funded.id])


def empty_request(rpc: str) -> Any:
    return getattr(pb, SERVICE.methods_by_name[rpc].input_type.name)()


def call(
    stub: LoyaltyServiceStub, rpc: str, request: Any, metadata: list[tuple[str, str]] | None
) -> Any:
    return getattr(stub, rpc)(request, metadata=metadata, timeout=10)


def refused(
    stub: LoyaltyServiceStub,
    rpc: str,
    metadata: list[tuple[str, str]] | None,
    code: grpc.StatusCode,
    request: Any = None,
) -> RichError:
    try:
        call(stub, rpc, empty_request(rpc) if request is None else request, metadata)
    except grpc.RpcError as error:
        rich = rich_error(error)
        assert rich.code == code, f"{rpc}: expected {code}, got {rich.code}: {rich.message}"
        assert rich.domain == "loyalty.v1", rich
        return rich
    raise AssertionError(f"{rpc}: expected {code}, but the call succeeded")


# ------------------------------------------------------------ the table


def test_scope_table_covers_every_rpc_and_reads_are_reads() -> None:
    assert set(RPC_SCOPES) == {m.name for m in SERVICE.methods}
    for name, scope in RPC_SCOPES.items():
        is_read = name.startswith(("Get", "List", "Retrieve"))
        assert scope == (READ if is_read else WRITE), name


# ------------------------------------------------- every RPC, every case


@pytest.mark.parametrize("rpc", ALL_RPCS)
def test_no_token_is_unauthenticated(auth_stub: LoyaltyServiceStub, rpc: str) -> None:
    rich = refused(auth_stub, rpc, None, UNAUTHENTICATED)
    assert rich.message == "Authentication required"
    assert rich.reason == "UNAUTHORIZED"


@pytest.mark.parametrize("rpc", ALL_RPCS)
def test_bad_token_is_unauthenticated(auth_stub: LoyaltyServiceStub, rpc: str) -> None:
    rich = refused(auth_stub, rpc, bearer("lk_" + secrets.token_urlsafe(32)), UNAUTHENTICATED)
    assert rich.message.startswith("Authentication required")
    assert rich.reason == "UNAUTHORIZED"


@pytest.mark.parametrize("rpc", ALL_RPCS)
def test_expired_jwt_is_unauthenticated(auth_stub: LoyaltyServiceStub, rpc: str) -> None:
    rich = refused(auth_stub, rpc, bearer(make_jwt(expires_in=-3600)), UNAUTHENTICATED)
    assert rich.reason == "UNAUTHORIZED"
    assert "expired" in rich.message


@pytest.mark.parametrize("rpc", ALL_RPCS)
def test_jwt_with_wrong_signature_is_unauthenticated(
    auth_stub: LoyaltyServiceStub, rpc: str
) -> None:
    forged = make_jwt(secret=secrets.token_urlsafe(48))
    rich = refused(auth_stub, rpc, bearer(forged), UNAUTHENTICATED)
    assert rich.reason == "UNAUTHORIZED"


@pytest.mark.parametrize("rpc", WRITE_RPCS)
def test_read_only_key_on_write_rpc_is_permission_denied(
    auth_stub: LoyaltyServiceStub, rpc: str, uid: str
) -> None:
    for token in (RO_KEY, make_jwt("loyalty:read")):
        rich = refused(auth_stub, rpc, bearer(token), PERMISSION_DENIED)
        assert rich.reason == "FORBIDDEN"
        assert "loyalty:write" in rich.message


@pytest.mark.parametrize("rpc", READ_RPCS)
def test_write_only_key_on_read_rpc_is_permission_denied(
    auth_stub: LoyaltyServiceStub, rpc: str
) -> None:
    rich = refused(auth_stub, rpc, bearer(WO_KEY), PERMISSION_DENIED)
    assert rich.reason == "FORBIDDEN"
    assert "loyalty:read" in rich.message


@pytest.mark.parametrize("rpc", READ_RPCS)
def test_read_only_key_on_read_rpc_succeeds(
    auth_stub: LoyaltyServiceStub, rpc: str, uid: str
) -> None:
    call(auth_stub, rpc, valid_request(auth_stub, rpc, uid), bearer(RO_KEY))


@pytest.mark.parametrize("rpc", ALL_RPCS)
def test_good_key_and_good_jwts_succeed(auth_stub: LoyaltyServiceStub, rpc: str, uid: str) -> None:
    tokens = [
        RW_KEY,
        make_jwt("loyalty:read loyalty:write"),
        make_jwt(None, scopes=["loyalty:read", "loyalty:write"]),
    ]
    for n, token in enumerate(tokens):
        call(auth_stub, rpc, valid_request(auth_stub, rpc, f"{uid}{n}"), bearer(token))


# ------------------------------------------------- malformed and odd tokens


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Bearer",
        "Bearer ",
        f"Basic {RW_KEY}",
        RW_KEY,
        f"Bearer {RW_KEY} extra",
        f"Token {RW_KEY}",
        "Bearer " + "x" * 5000,
    ],
    ids=["empty", "no-token", "blank", "basic", "no-scheme", "two-words", "token", "huge"],
)
def test_malformed_authorization_is_unauthenticated(
    auth_stub: LoyaltyServiceStub, value: str
) -> None:
    rich = refused(auth_stub, "GetOptions", [("authorization", value)], UNAUTHENTICATED)
    assert rich.message.startswith("Authentication required")


def test_bearer_scheme_is_case_insensitive_and_two_headers_are_refused(
    auth_stub: LoyaltyServiceStub,
) -> None:
    auth_stub.GetOptions(
        pb.GetOptionsRequest(), metadata=[("authorization", f"bearer {RO_KEY}")], timeout=10
    )
    two = [("authorization", f"Bearer {RO_KEY}"), ("authorization", f"Bearer {RW_KEY}")]
    refused(auth_stub, "GetOptions", two, UNAUTHENTICATED)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(make_jwt(exp=None), id="no-exp"),
        pytest.param(make_jwt(aud="someone-else"), id="wrong-aud"),
        pytest.param(make_jwt(aud=None), id="no-aud"),
        pytest.param(make_jwt(iss="evil"), id="wrong-iss"),
        pytest.param(make_jwt(nbf=int(time.time()) + 3600), id="not-yet-valid"),
        pytest.param(make_jwt(scope=["loyalty:read"]), id="scope-not-a-string"),
        pytest.param(
            jwt.encode(
                {"scope": "loyalty:read loyalty:write", "exp": int(time.time()) + 300},
                key="",
                algorithm="none",
            ),
            id="alg-none",
        ),
        pytest.param(
            jwt.encode(
                {"scope": "loyalty:read", "aud": AUDIENCE, "iss": ISSUER, "exp": 2**31},
                JWT_SECRET + JWT_SECRET,
                algorithm="HS512",
            ),
            id="hs512",
        ),
    ],
)
def test_jwts_that_must_be_refused(auth_stub: LoyaltyServiceStub, token: str) -> None:
    refused(auth_stub, "GetOptions", bearer(token), UNAUTHENTICATED)


def test_jwt_without_the_scope_is_permission_denied(auth_stub: LoyaltyServiceStub) -> None:
    rich = refused(auth_stub, "GetOptions", bearer(make_jwt("profile email")), PERMISSION_DENIED)
    assert rich.message == "Permission denied: this call needs the loyalty:read scope"


def test_refused_write_changes_nothing(auth_stub: LoyaltyServiceStub, uid: str) -> None:
    customer = f"cus_untouched_{uid}"
    request = pb.AdjustPointsRequest(customer_id=customer, delta="1000")
    refused(auth_stub, "AdjustPoints", None, UNAUTHENTICATED, request)
    refused(auth_stub, "AdjustPoints", bearer(RO_KEY), PERMISSION_DENIED, request)
    balance = auth_stub.GetPointsBalance(
        pb.GetPointsBalanceRequest(customer_id=customer), metadata=bearer(RO_KEY), timeout=10
    )
    assert balance.balance == "0"


def test_refused_call_is_not_decoded(auth_server: Spawned) -> None:
    """Garbage bytes without a token: UNAUTHENTICATED, not INVALID_ARGUMENT (auth first)."""
    with auth_server.channel() as ch:
        raw = ch.unary_unary("/loyalty.v1.LoyaltyService/AdjustPoints")
        with pytest.raises(grpc.RpcError) as caught:
            raw(b"\x0a\x02\xff\xfe", timeout=10)
        assert caught.value.code() == UNAUTHENTICATED


def test_failed_auth_logs_one_line_without_the_token(
    auth_server: Spawned, auth_stub: LoyaltyServiceStub
) -> None:
    secret_token = "lk_" + secrets.token_urlsafe(32)
    marker = make_jwt(expires_in=-100, sub=None)
    before = auth_server.log_text()
    refused(auth_stub, "GetPointsBalance", bearer(secret_token), UNAUTHENTICATED)
    refused(auth_stub, "AdjustPoints", bearer(marker), UNAUTHENTICATED)
    refused(auth_stub, "AdjustPoints", bearer(RO_KEY), PERMISSION_DENIED)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        new = [x for x in auth_server.log_text()[len(before) :].splitlines() if x[:1] == "{"]
        if len(new) >= 3:
            break
        time.sleep(0.05)
    entries = [json.loads(line) for line in new]
    assert [e["msg"] for e in entries] == ["auth failed", "auth failed", "permission denied"]
    assert [e["why"] for e in entries] == [
        "unknown api key",
        "jwt expired",
        "api_key ro lacks loyalty:write",
    ]
    assert all(e["level"] == "warning" and e["peer"] for e in entries)
    log = auth_server.log_text()
    for token in (secret_token, marker, RO_KEY, RW_KEY, WO_KEY, JWT_SECRET):
        assert token not in log
    # nor the hashes' prefixes of anything a caller sent
    assert sha(secret_token)[:16] not in log


# ------------------------------------------------- health and reflection


def test_health_and_reflection_are_open_by_default(
    auth_server: Spawned, auth_stub: LoyaltyServiceStub, grpcurl_bin: str
) -> None:
    with auth_server.channel() as ch:
        reply = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    listed = subprocess.run(
        [grpcurl_bin, "-plaintext", auth_server.target, "list"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert listed.returncode == 0, listed.stderr
    assert "loyalty.v1.LoyaltyService" in listed.stdout.split()


def test_health_and_reflection_can_require_a_token(
    spawn: Callable[..., Spawned], grpcurl_bin: str
) -> None:
    server = spawn(env=auth_env(), auth_health_and_reflection=True, metadata=bearer(RO_KEY))
    server.start()
    with server.channel() as ch:
        health = health_pb2_grpc.HealthStub(ch)
        with pytest.raises(grpc.RpcError) as caught:
            health.Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert caught.value.code() == UNAUTHENTICATED
        with pytest.raises(grpc.RpcError) as caught:
            health.Check(health_pb2.HealthCheckRequest(), metadata=bearer(WO_KEY), timeout=10)
        assert caught.value.code() == PERMISSION_DENIED
        # the streaming Watch is closed too
        with pytest.raises(grpc.RpcError) as caught:
            next(iter(health.Watch(health_pb2.HealthCheckRequest(), timeout=10)))
        assert caught.value.code() == UNAUTHENTICATED
    base = [grpcurl_bin, "-plaintext"]
    open_list = subprocess.run(
        [*base, server.target, "list"], capture_output=True, text=True, timeout=30
    )
    assert open_list.returncode != 0
    assert "Unauthenticated" in open_list.stderr
    with_token = subprocess.run(
        [*base, "-H", f"authorization: Bearer {RO_KEY}", server.target, "list"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert with_token.returncode == 0, with_token.stderr
    assert "loyalty.v1.LoyaltyService" in with_token.stdout


# ------------------------------------------------------------- grpcurl


def test_grpcurl_with_bearer_header(auth_server: Spawned, grpcurl_bin: str, uid: str) -> None:
    def grpcurl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [grpcurl_bin, "-plaintext", *args], capture_output=True, text=True, timeout=30
        )

    body = json.dumps({"customer_id": f"cus_curl_{uid}", "delta": "100", "reason": "welcome"})
    method = "loyalty.v1.LoyaltyService/AdjustPoints"
    ok = grpcurl("-H", f"authorization: Bearer {RW_KEY}", "-d", body, auth_server.target, method)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["balance_after"] == "100"

    token = make_jwt("loyalty:read")
    read = grpcurl(
        "-H",
        f"authorization: Bearer {token}",
        "-d",
        json.dumps({"customer_id": f"cus_curl_{uid}"}),
        auth_server.target,
        "loyalty.v1.LoyaltyService/GetPointsBalance",
    )
    assert read.returncode == 0, read.stderr
    assert json.loads(read.stdout)["balance"] == "100"

    anonymous = grpcurl("-d", body, auth_server.target, method)
    assert anonymous.returncode != 0
    assert "Code: Unauthenticated" in anonymous.stderr
    assert "Message: Authentication required" in anonymous.stderr
    assert '"reason":"UNAUTHORIZED"' in anonymous.stderr.replace(" ", "")

    read_only = grpcurl(
        "-H", f"authorization: Bearer {RO_KEY}", "-d", body, auth_server.target, method
    )
    assert "Code: PermissionDenied" in read_only.stderr
    assert "loyalty:write" in read_only.stderr


# -------------------------------------------------------- safe defaults


def test_no_credentials_serves_on_loopback_with_a_warning(
    spawn: Callable[..., Spawned],
) -> None:
    server = spawn().start()
    with server.channel() as ch:  # auth off: no token needed
        LoyaltyServiceStub(ch).GetOptions(pb.GetOptionsRequest(), timeout=10)
    lines = log_entries(server)
    warnings = [e for e in lines if e["level"] == "warning"]
    assert [e["msg"] for e in warnings] == [
        "authentication is off (no API keys or JWT secret configured): serving on loopback only"
    ]
    serving = next(e for e in lines if e["msg"] == "serving")
    assert serving["auth"] == "off" and serving["tls"] == "off"


def test_non_loopback_without_credentials_is_refused(
    spawn: Callable[..., Spawned], workdir: Path
) -> None:
    database = workdir / f"refused-{secrets.token_hex(4)}.db"
    port = free_port()
    server = spawn(database_url=f"sqlite:///{database}", listen=f"0.0.0.0:{port}")
    assert server.run_to_exit() == 2, server.log_text()
    log = server.log_text()
    assert "refusing to listen on 0.0.0.0" in log
    assert "--insecure" in log and "LOYALTY_API_KEYS" in log
    assert not database.exists(), "refused before touching the database"


@pytest.mark.parametrize(
    ("listen", "loopback"),
    [
        ("127.0.0.1:50051", True),
        ("127.8.9.10:1", True),
        ("[::1]:50051", True),
        ("localhost:50051", True),
        ("unix:/run/loyalty.sock", True),
        ("0.0.0.0:50051", False),
        ("[::]:50051", False),
        (":50051", False),
        ("10.0.0.5:50051", False),
        ("[fe80::1]:50051", False),
        ("example.com:50051", False),
        ("127.0.0.1.example.com:50051", False),
    ],
)
def test_loopback_detection(listen: str, loopback: bool) -> None:
    assert is_loopback(listen) is loopback


@pytest.fixture
def run_cli(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> Callable[..., tuple[int, str]]:
    """`loyalty-server ...` in this process, for settings that must refuse to start
    (nothing is served or migrated on those paths)."""
    monkeypatch.setattr(logs, "configure", lambda level: None)
    for name in list(os.environ):
        if name.startswith("LOYALTY_"):
            monkeypatch.delenv(name)

    def run(*argv: str, env: dict[str, str] | None = None) -> tuple[int, str]:
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="loyalty_server"):
            code = cli.main(list(argv))
        return code, caplog.text

    return run


@pytest.mark.parametrize("listen", ["[::]:0", ":0", "10.1.2.3:0", "example.com:0"])
def test_other_non_loopback_addresses_are_refused(
    run_cli: Callable[..., tuple[int, str]], listen: str, tmp_path: Path
) -> None:
    database = tmp_path / "never.db"
    code, log = run_cli("serve", "--listen", listen, "--database-url", f"sqlite:///{database}")
    assert code == 2
    assert f"refusing to listen on {listen} with authentication off" in log
    assert not database.exists()


def test_insecure_flag_overrides_the_refusal(spawn: Callable[..., Spawned]) -> None:
    port = free_port()
    server = spawn(listen=f"0.0.0.0:{port}", insecure=True)
    server.target = f"127.0.0.1:{port}"
    server.start()
    with server.channel() as ch:
        LoyaltyServiceStub(ch).GetOptions(pb.GetOptionsRequest(), timeout=10)
    assert "authentication is OFF on a non-loopback address" in server.log_text()


def test_non_loopback_with_api_keys_starts(spawn: Callable[..., Spawned]) -> None:
    port = free_port()
    server = spawn(listen=f"0.0.0.0:{port}", env=auth_env())
    server.target = f"127.0.0.1:{port}"
    server.start()
    with server.channel() as ch:
        stub = LoyaltyServiceStub(ch)
        refused(stub, "GetOptions", None, UNAUTHENTICATED)
        stub.GetOptions(pb.GetOptionsRequest(), metadata=bearer(RO_KEY), timeout=10)
    assert "authentication is off" not in server.log_text().lower()


@pytest.mark.parametrize(
    ("env", "settings", "message"),
    [
        ({"LOYALTY_JWT_SECRET": "short"}, {}, "LOYALTY_JWT_SECRET must be at least 32 bytes"),
        ({"LOYALTY_API_KEYS": "abc=loyalty:read"}, {}, "sha256 must be 64 hex digits"),
        ({"LOYALTY_API_KEYS": f"{'a' * 64}=loyalty:admin"}, {}, "unknown scope loyalty:admin"),
        ({}, {"tls_cert": "/nonexistent/cert.pem"}, "--tls-cert and --tls-key go together"),
        (
            {},
            {"tls_cert": "/nonexistent/c.pem", "tls_key": "/nonexistent/k.pem"},
            "cannot read --tls-cert /nonexistent/c.pem",
        ),
        ({}, {"api_keys_file": "/nonexistent/keys.toml"}, "cannot read API keys file"),
        ({}, {"tls_client_ca": "/etc/hostname"}, "--tls-client-ca needs --tls-cert and --tls-key"),
        (
            {},
            {"tls_cert": "/etc/hostname", "tls_key": "/etc/hostname"},
            "--tls-cert /etc/hostname is not a PEM file",
        ),
        (
            {"LOYALTY_API_KEYS": f"a:{'a' * 64}=loyalty:read;b:{'a' * 64}=loyalty:write"},
            {},
            "the same API key is configured twice",
        ),
        ({"LOYALTY_API_KEYS": "loyalty:read"}, {}, "entry 1 must look like"),
    ],
    ids=[
        "short-secret",
        "bad-hash",
        "bad-scope",
        "cert-no-key",
        "missing-cert",
        "missing-keys",
        "ca-no-cert",
        "not-pem",
        "duplicate-key",
        "no-equals",
    ],
)
def test_bad_security_settings_refuse_to_start(
    run_cli: Callable[..., tuple[int, str]],
    env: dict[str, str],
    settings: dict[str, str],
    message: str,
    tmp_path: Path,
) -> None:
    database = tmp_path / "never.db"
    flags = [x for k, v in settings.items() for x in ("--" + k.replace("_", "-"), v)]
    code, log = run_cli("serve", "--database-url", f"sqlite:///{database}", *flags, env=env)
    assert code == 2
    assert message in log
    assert not database.exists()


def test_api_keys_file_toml(spawn: Callable[..., Spawned], workdir: Path) -> None:
    keys = workdir / f"keys-{secrets.token_hex(4)}.toml"
    keys.write_text(
        "[[api_keys]]\n"
        'name = "admin"\n'
        f'sha256 = "{sha(RW_KEY)}"\n'
        'scopes = ["loyalty:read", "loyalty:write"]\n'
        "\n[[api_keys]]\n"
        'name = "reader"\n'
        f'sha256 = "{sha(RO_KEY)}"\n'
        'scopes = ["loyalty:read"]\n'
    )
    server = spawn(api_keys_file=str(keys)).start()
    with server.channel() as ch:
        stub = LoyaltyServiceStub(ch)
        request = pb.AdjustPointsRequest(customer_id="cus_file", delta="1")
        stub.AdjustPoints(request, metadata=bearer(RW_KEY), timeout=10)
        refused(stub, "AdjustPoints", bearer(RO_KEY), PERMISSION_DENIED, request)
        stub.GetOptions(pb.GetOptionsRequest(), metadata=bearer(RO_KEY), timeout=10)
        refused(stub, "GetOptions", bearer(WO_KEY), UNAUTHENTICATED)
        # no JWT secret configured: a JWT is just an invalid token
        refused(stub, "GetOptions", bearer(make_jwt()), UNAUTHENTICATED)


def test_api_keys_file_json(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(
        json.dumps({"api_keys": [{"name": "reader", "sha256": sha(RO_KEY), "scopes": [READ]}]})
    )
    auth = Authenticator.from_settings(Settings(api_keys_file=str(keys)))
    principal = auth.authorize(bearer(RO_KEY), READ)
    assert (principal.kind, principal.name, principal.scopes) == (
        "api_key",
        "reader",
        frozenset({READ}),
    )
    with pytest.raises(AuthError) as caught:
        auth.authorize(bearer(RO_KEY), WRITE)
    assert caught.value.reason == "FORBIDDEN"


def test_new_api_key_command_prints_a_working_setting(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["new-api-key", "--name", "ops", "--scope", "loyalty:read"]) == 0
    out = capsys.readouterr().out.splitlines()
    key = out[0].rsplit(" ", 1)[1]
    setting = out[1].rsplit(" ", 1)[1]
    assert key.startswith("lk_") and setting == f"ops:{sha(key)}=loyalty:read"
    auth = Authenticator.from_settings(Settings(api_keys=setting))
    assert auth.authorize(bearer(key), READ).name == "ops"


# ------------------------------------------------------------ TLS, mTLS


@dataclass
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    rogue_cert: Path  # a client certificate from a CA the server does not trust
    rogue_key: Path


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _issue(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool = False,
    server: bool = False,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    issuer_name, issuer_key = issuer or (_name(subject), key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A CA, a server certificate for 127.0.0.1/localhost, a client certificate, and a
    client certificate from another CA, all made here with `cryptography`."""
    folder = tmp_path_factory.mktemp("pki")

    def write(
        name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
    ) -> tuple[Path, Path]:
        cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return cert_path, key_path

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _issue("loyalty test CA", ca_key, None, ca=True)
    ca_path, _ = write("ca", ca_cert, ca_key)
    signer = (ca_cert.subject, ca_key)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert, server_key_path = write(
        "server", _issue("localhost", server_key, signer, server=True), server_key
    )
    client_key = ec.generate_private_key(ec.SECP256R1())
    client_cert, client_key_path = write(
        "client", _issue("medusa-backend", client_key, signer), client_key
    )
    rogue_ca_key = ec.generate_private_key(ec.SECP256R1())
    rogue_ca = _issue("rogue CA", rogue_ca_key, None, ca=True)
    rogue_key = ec.generate_private_key(ec.SECP256R1())
    rogue_cert, rogue_key_path = write(
        "rogue", _issue("intruder", rogue_key, (rogue_ca.subject, rogue_ca_key)), rogue_key
    )
    return Pki(
        ca_path,
        server_cert,
        server_key_path,
        client_cert,
        client_key_path,
        rogue_cert,
        rogue_key_path,
    )


def tls_channel(pki: Pki, *, client: str | None = None) -> Callable[[str], grpc.Channel]:
    def make(target: str) -> grpc.Channel:
        cert = key = None
        if client == "good":
            cert, key = pki.client_cert.read_bytes(), pki.client_key.read_bytes()
        elif client == "rogue":
            cert, key = pki.rogue_cert.read_bytes(), pki.rogue_key.read_bytes()
        credentials = grpc.ssl_channel_credentials(pki.ca.read_bytes(), key, cert)
        return grpc.secure_channel(target, credentials)

    return make


def test_tls_end_to_end(spawn: Callable[..., Spawned], pki: Pki, grpcurl_bin: str) -> None:
    from loyalty_client import LoyaltyClient, TLSConfig, Unauthorized

    server = spawn(
        env=auth_env(),
        tls_cert=str(pki.server_cert),
        tls_key=str(pki.server_key),
        channel=tls_channel(pki),
    ).start()
    with tls_channel(pki)(server.target) as ch:
        stub = LoyaltyServiceStub(ch)
        stub.GetOptions(pb.GetOptionsRequest(), metadata=bearer(RO_KEY), timeout=10)
        refused(stub, "GetOptions", None, UNAUTHENTICATED)
    # plaintext to a TLS port fails
    with grpc.insecure_channel(server.target) as ch, pytest.raises(grpc.RpcError) as caught:
        LoyaltyServiceStub(ch).GetOptions(
            pb.GetOptionsRequest(), metadata=bearer(RO_KEY), timeout=3
        )
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    # the Python client library, with its TLS option
    with LoyaltyClient(server.target, token=RW_KEY, tls=TLSConfig(ca_cert=pki.ca)) as client:
        result = client.adjust_points("cus_tls", "5")
        assert str(result.balance_after) == "5"
    with (
        LoyaltyClient(server.target, tls=TLSConfig(ca_cert=pki.ca)) as client,
        pytest.raises(Unauthorized),
    ):
        client.get_options()
    # grpcurl over TLS with the CA and a bearer token
    out = subprocess.run(
        [
            grpcurl_bin,
            "-cacert",
            str(pki.ca),
            "-H",
            f"authorization: Bearer {RO_KEY}",
            "-d",
            '{"customer_id": "cus_tls"}',
            server.target,
            "loyalty.v1.LoyaltyService/GetPointsBalance",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["balance"] == "5"
    lines = log_entries(server)
    assert next(e for e in lines if e["msg"] == "serving")["tls"] == "tls"


def test_mutual_tls_end_to_end(spawn: Callable[..., Spawned], pki: Pki, grpcurl_bin: str) -> None:
    from loyalty_client import LoyaltyClient, TLSConfig

    server = spawn(
        env=auth_env(),
        tls_cert=str(pki.server_cert),
        tls_key=str(pki.server_key),
        tls_client_ca=str(pki.ca),
        channel=tls_channel(pki, client="good"),
    ).start()
    with tls_channel(pki, client="good")(server.target) as ch:
        LoyaltyServiceStub(ch).GetOptions(
            pb.GetOptionsRequest(), metadata=bearer(RO_KEY), timeout=10
        )
    for client in (None, "rogue"):  # no client certificate; one from an untrusted CA
        with (
            tls_channel(pki, client=client)(server.target) as ch,
            pytest.raises(grpc.RpcError) as caught,
        ):
            LoyaltyServiceStub(ch).GetOptions(
                pb.GetOptionsRequest(), metadata=bearer(RO_KEY), timeout=5
            )
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE, client
    tls = TLSConfig(ca_cert=pki.ca, client_cert=pki.client_cert, client_key=pki.client_key)
    with LoyaltyClient(server.target, token=RO_KEY, tls=tls) as lib:
        assert lib.get_options().prefix == "GIFT"
    out = subprocess.run(
        [
            grpcurl_bin,
            "-cacert",
            str(pki.ca),
            "-cert",
            str(pki.client_cert),
            "-key",
            str(pki.client_key),
            "-H",
            f"authorization: Bearer {RO_KEY}",
            server.target,
            "loyalty.v1.LoyaltyService/GetOptions",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["prefix"] == "GIFT"


def test_mutual_tls_alone_allows_a_non_loopback_address(
    spawn: Callable[..., Spawned], pki: Pki
) -> None:
    port = free_port()
    server = spawn(
        listen=f"0.0.0.0:{port}",
        tls_cert=str(pki.server_cert),
        tls_key=str(pki.server_key),
        tls_client_ca=str(pki.ca),
        channel=tls_channel(pki, client="good"),
    )
    server.target = f"127.0.0.1:{port}"
    server.start()
    with tls_channel(pki, client="good")(server.target) as ch:
        LoyaltyServiceStub(ch).GetOptions(pb.GetOptionsRequest(), timeout=10)
    with tls_channel(pki)(server.target) as ch, pytest.raises(grpc.RpcError) as caught:
        LoyaltyServiceStub(ch).GetOptions(pb.GetOptionsRequest(), timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
