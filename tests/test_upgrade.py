"""A rolling restart from the previous release, as docs/operations.md ("Upgrades")
describes: the real 0.2.0 release (built from its commit in this repository's
history) serves a PostgreSQL database; this tree's `loyalty-server migrate` moves the
schema to the head while it runs; the running 0.2.0 process keeps serving points,
gift cards and store credit on the migrated schema; a 0.2.0 process that starts now
is refused; a process of this tree serves beside it; `verify` passes at the end.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import uuid
from collections.abc import Iterator
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from conftest import (
    _PG_PROBLEM,
    ROOT,
    SERVER_BIN,
    DatabaseFactory,
    ServerProcess,
    free_port,
    wait_serving,
)
from reliability_support import check_verify

from loyalty_client import LoyaltyClient
from loyalty_client.types import NewGiftCard, NewStoreCreditAccount

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(600)]

# Release 0.2.0 (CHANGELOG.md): schema revision 0002.
PREVIOUS = ("0.2.0", "a62c2e952a752e1770af10dcd151dad82d639c6a")


def _run(argv: list[str], cwd: Path, timeout: float = 300) -> str:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{argv}: {result.returncode}\n{result.stdout}{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def previous_release() -> Iterator[Path]:
    """The previous release's `loyalty-server`, installed in a venv of its own."""
    if _PG_PROBLEM is not None:
        pytest.skip(f"PostgreSQL unavailable: {_PG_PROBLEM}")
    version, commit = PREVIOUS
    known = subprocess.run(
        ["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=ROOT, capture_output=True
    )
    if known.returncode != 0:
        pytest.skip(f"this clone has no history back to release {version} ({commit[:8]})")
    home = Path(tempfile.mkdtemp(prefix=f"loyalty-{version}-"))
    try:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", commit, "pyproject.toml", "README.md", "LICENSE",
             "gen", "server", "client"],
            cwd=ROOT, capture_output=True, check=True,
        ).stdout  # fmt: skip
        src = home / "src"
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(src, filter="data")
        _run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir",
              str(home / "dist"), str(src)], home)  # fmt: skip
        wheel = next((home / "dist").glob(f"*-{version}-*.whl"))
        base = getattr(sys, "_base_executable", sys.executable)
        _run([base, "-m", "venv", str(home / "venv")], home)
        _run([str(home / "venv/bin/pip"), "install", "--quiet", str(wheel)], home, timeout=400)
        server = home / "venv/bin/loyalty-server"
        assert _run([str(server), "--version"], home).strip() == f"loyalty-server {version}"
        yield server
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_rolling_restart_from_the_previous_release(
    previous_release: Path, workdir: Path, tmp_path: Path
) -> None:
    databases = DatabaseFactory("postgres", workdir)
    old: subprocess.Popen[bytes] | None = None
    try:
        url = databases.new()
        _run([str(previous_release), "migrate", "--database-url", url], tmp_path)
        target = f"127.0.0.1:{free_port()}"
        log = tmp_path / "old.log"
        old = subprocess.Popen(
            [str(previous_release), "serve", "--listen", target, "--database-url", url,
             "--workers", "1"],
            cwd=tmp_path, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_serving(target)
        run = uuid.uuid4().hex[:8]
        customer = f"cus_up_{run}"
        with LoyaltyClient(target) as client:
            client.adjust_points(customer, 100, reason="before the upgrade")
            card = client.create_gift_card(NewGiftCard(value=50, currency_code="usd")).id
            client.debit_gift_card(id=card, amount=5, currency_code="usd")

        # The new release migrates the schema under the running old process.
        _run([SERVER_BIN, "migrate", "--database-url", url], tmp_path)

        with LoyaltyClient(target) as client:  # the old process, on the new schema
            assert client.adjust_points(customer, -30).balance_after == Decimal(70)
            newcomer = f"cus_up_{run}_new"  # a first-time account: an insert
            assert client.adjust_points(newcomer, 10).balance_after == Decimal(10)
            assert client.debit_gift_card(id=card, amount=5, currency_code="usd").balance == 40
            account = client.create_store_credit_account(
                NewStoreCreditAccount(currency_code="usd", customer_id=customer)
            ).id
            client.credit_account(account, 20)
            client.debit_account(account, 8)
            assert client.retrieve_account_stats(account).balance == Decimal(12)

        # A process of the old release that starts now is refused.
        refused = subprocess.run(
            [str(previous_release), "serve", "--listen", f"127.0.0.1:{free_port()}",
             "--database-url", url, "--workers", "1"],
            cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert refused.returncode == 2, refused.stderr
        assert "out of date" in refused.stderr, refused.stderr

        # The new release serves beside the old one; both see each other's writes.
        new = ServerProcess(url, workdir).start()
        try:
            with LoyaltyClient(new.target) as fresh, LoyaltyClient(target) as stale:
                assert fresh.get_points_balance(customer).balance == Decimal(70)
                for n in range(10):
                    client = fresh if n % 2 else stale
                    client.adjust_points(customer, 1, idempotency_key=f"{run}-{n}")
                assert stale.get_points_balance(customer).balance == Decimal(80)
                assert fresh.get_points_balance(customer).balance == Decimal(80)
                assert fresh.retrieve_gift_card(id=card).balance == Decimal(40)
                assert fresh.retrieve_account_stats(account).balance == Decimal(12)
            old.send_signal(signal.SIGTERM)
            assert old.wait(30) == 0, log.read_text()
        finally:
            new.stop()
        print(check_verify(url))
    finally:
        if old is not None and old.poll() is None:
            old.kill()
            old.wait(10)
        databases.drop_all()
