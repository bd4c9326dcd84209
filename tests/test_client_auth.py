"""Bearer tokens, scopes and TLS through the client, against real servers.

Unauthorized and Forbidden come from a server with API keys; TLS and mutual TLS from a
server given certificates made here with `cryptography`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import ipaddress
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import pytest
from conftest import SERVER_BIN, DatabaseFactory, ServerProcess
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from loyalty_client import (
    AsyncLoyaltyClient,
    Forbidden,
    LoyaltyClient,
    LoyaltyError,
    RetryPolicy,
    TLSConfig,
    Unauthorized,
    Unavailable,
)

RW_KEY = "lk_rw_" + secrets.token_urlsafe(24)
RO_KEY = "lk_ro_" + secrets.token_urlsafe(24)
FAST = RetryPolicy(max_attempts=2, initial_backoff=0.01, max_backoff=0.01)


def api_keys() -> str:
    def sha(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    return f"rw:{sha(RW_KEY)}=loyalty:read,loyalty:write;ro:{sha(RO_KEY)}=loyalty:read"


@pytest.fixture(scope="module")
def keyed_server(databases: DatabaseFactory, workdir: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(databases.new(), workdir, api_keys=api_keys()).start()
    yield server
    server.stop()


# ------------------------------------------------------------ tokens


def test_token_is_sent_as_bearer(keyed_server: ServerProcess, uid: str) -> None:
    with LoyaltyClient(keyed_server.target, token=RW_KEY) as c:
        assert c.adjust_points(f"cus_{uid}", 5).balance_after == Decimal(5)
    with LoyaltyClient(keyed_server.target, token=RO_KEY) as c:
        assert c.get_points_balance(f"cus_{uid}").balance == Decimal(5)

    async def scenario() -> None:
        async with AsyncLoyaltyClient(keyed_server.target, token=RW_KEY) as c:
            assert (await c.adjust_points(f"cus_{uid}", 1)).balance_after == Decimal(6)

    asyncio.run(scenario())


def test_missing_or_wrong_token_is_unauthorized(keyed_server: ServerProcess, uid: str) -> None:
    for token in (None, "lk_nope"):
        with LoyaltyClient(keyed_server.target, token=token) as c:
            with pytest.raises(Unauthorized) as caught:
                c.get_points_balance(f"cus_{uid}")
            assert caught.value.code == grpc.StatusCode.UNAUTHENTICATED
            assert caught.value.reason == "UNAUTHORIZED"

    async def scenario() -> None:
        async with AsyncLoyaltyClient(keyed_server.target) as c:
            with pytest.raises(Unauthorized):
                await c.get_options()

    asyncio.run(scenario())


def test_missing_scope_is_forbidden(keyed_server: ServerProcess, uid: str) -> None:
    with LoyaltyClient(keyed_server.target, token=RO_KEY) as c:
        with pytest.raises(Forbidden) as caught:
            c.adjust_points(f"cus_{uid}", 1)
        assert caught.value.code == grpc.StatusCode.PERMISSION_DENIED
        assert caught.value.reason == "FORBIDDEN"
        assert isinstance(caught.value, LoyaltyError)
    with LoyaltyClient(keyed_server.target, token=RW_KEY) as c:
        assert c.get_points_balance(f"cus_{uid}").balance == Decimal(0)


# ---------------------------------------------------------------- TLS


@dataclass
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    signer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None = None,
    *,
    ca: bool = False,
    server: bool = False,
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer, issuer_key = signer or (name, key)
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        san = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("client-pki")

    def save(name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Path:
        (folder / f"{name}.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        path = folder / f"{name}.pem"
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return path

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("client test CA", ca_key, ca=True)
    signer = (ca.subject, ca_key)
    server_key = ec.generate_private_key(ec.SECP256R1())
    client_key = ec.generate_private_key(ec.SECP256R1())
    return Pki(
        ca=save("ca", ca, ca_key),
        server_cert=save(
            "server", _certificate("localhost", server_key, signer, server=True), server_key
        ),
        server_key=folder / "server.key",
        client_cert=save("client", _certificate("support-tool", client_key, signer), client_key),
        client_key=folder / "client.key",
    )


class TlsServer(ServerProcess):
    """conftest's server process, but it waits for SERVING over TLS (through the client)."""

    def __init__(self, database_url: str, log_dir: Path, tls: TLSConfig, **settings: Any):
        super().__init__(database_url, log_dir, **settings)
        self.tls = tls

    def start(self) -> TlsServer:
        if not self.database_url.startswith("sqlite"):
            subprocess.run(
                [SERVER_BIN, "migrate", "--database-url", self.database_url],
                check=True,
                capture_output=True,
            )
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(self.args(), stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log_text()}")
            try:
                with LoyaltyClient(self.target, tls=self.tls, timeout=1, retry=FAST) as c:
                    c.get_options()
                    return self
            except Unavailable:
                time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"server did not start:\n{self.log_text()}")


@pytest.fixture
def tls_server(
    databases: DatabaseFactory, workdir: Path, pki: Pki
) -> Iterator[tuple[ServerProcess, TLSConfig]]:
    tls = TLSConfig(ca_cert=pki.ca)
    server = TlsServer(
        databases.new(), workdir, tls, tls_cert=pki.server_cert, tls_key=pki.server_key
    ).start()
    yield server, tls
    server.kill()


@pytest.fixture
def mtls_server(
    databases: DatabaseFactory, workdir: Path, pki: Pki
) -> Iterator[tuple[ServerProcess, TLSConfig]]:
    tls = TLSConfig(ca_cert=pki.ca, client_cert=pki.client_cert, client_key=pki.client_key)
    server = TlsServer(
        databases.new(),
        workdir,
        tls,
        tls_cert=pki.server_cert,
        tls_key=pki.server_key,
        tls_client_ca=pki.ca,
    ).start()
    yield server, tls
    server.kill()


def test_tls_with_a_pinned_ca(
    tls_server: tuple[ServerProcess, TLSConfig], pki: Pki, uid: str
) -> None:
    server, tls = tls_server
    with LoyaltyClient(server.target, tls=tls) as c:
        assert c.adjust_points(f"cus_{uid}", 2).balance_after == Decimal(2)
    # PEM bytes work as well as paths, and the async client takes the same settings.
    as_bytes = TLSConfig(ca_cert=pki.ca.read_bytes())

    async def scenario() -> None:
        async with AsyncLoyaltyClient(server.target, tls=as_bytes) as c:
            assert (await c.get_points_balance(f"cus_{uid}")).balance == Decimal(2)

    asyncio.run(scenario())
    # Plaintext against a TLS port, or TLS without trusting the CA, does not connect.
    with LoyaltyClient(server.target, retry=FAST) as c, pytest.raises(Unavailable):
        c.get_options()
    with LoyaltyClient(server.target, tls=True, retry=FAST) as c, pytest.raises(Unavailable):
        c.get_options()


def test_mutual_tls(mtls_server: tuple[ServerProcess, TLSConfig], pki: Pki, uid: str) -> None:
    server, tls = mtls_server
    with LoyaltyClient(server.target, tls=tls) as c:
        assert c.get_points_balance(f"cus_{uid}").balance == Decimal(0)
    no_cert = TLSConfig(ca_cert=pki.ca)
    with LoyaltyClient(server.target, tls=no_cert, retry=FAST) as c, pytest.raises(Unavailable):
        c.get_options()
    with pytest.raises(ValueError, match="together"):
        TLSConfig(ca_cert=pki.ca, client_cert=pki.client_cert)


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_")}
    return subprocess.run(
        [str(Path(sys.executable).parent / "loyalty"), *args],
        capture_output=True,
        text=True,
        env={**clean, **(env or {})},
        timeout=60,
    )


def test_cli_over_tls(mtls_server: tuple[ServerProcess, TLSConfig], pki: Pki) -> None:
    server, _ = mtls_server
    files = ["--client-cert", str(pki.client_cert), "--client-key", str(pki.client_key)]
    done = _cli("options", "--json", "--target", server.target, "--ca-cert", str(pki.ca), *files)
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout)) == {"prefix", "sections"}
    from_env = _cli(
        "options",
        *files,
        env={"LOYALTY_TARGET": server.target, "LOYALTY_CA_CERT": str(pki.ca)},
    )
    assert from_env.returncode == 0, from_env.stderr
    plaintext = _cli("options", "--target", server.target, "--timeout", "2")
    assert plaintext.returncode == 1
    assert plaintext.stderr.startswith("loyalty: error: UNAVAILABLE: ")
    half = _cli("options", "--target", server.target, "--client-cert", str(pki.client_cert))
    assert half.returncode == 2 and "together" in half.stderr
    missing = _cli("options", "--target", server.target, "--ca-cert", "/nonexistent/ca.pem")
    assert missing.returncode == 2 and "cannot read" in missing.stderr
