"""The release a user installs: the sdist and the wheel built from this tree, each
installed into a fresh virtual environment outside the repository, work from another
directory: `loyalty-server --version`, `migrate`, `serve`, a call through the
installed `loyalty` command line and the installed Python client, `verify`.

The build runs on a copy of the tree's files (tracked and untracked, not ignored),
so nothing is written into the checkout; `python -m build` makes the sdist and then
the wheel from that sdist, so the sdist is proven complete too.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import _PG_PROBLEM, ROOT, DatabaseFactory, free_port, wait_serving

pytestmark = pytest.mark.timeout(600)

VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
PACKAGES = {
    "loyalty": ROOT / "gen",
    "loyalty_server": ROOT / "server",
    "loyalty_client": ROOT / "client",
}
PACKAGE_DATA = {".py", ".pyi", ".typed", ".mako", ".ini"}


def _tree_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode()  # fmt: skip
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    if shutil.which("git") is None:
        pytest.fail("git is needed to list the tree's files")
    base = tmp_path_factory.mktemp("release")
    src = base / "src"
    for name in _tree_files():
        if name.startswith(("node-adapter/", "bench/", "tests/", "docs/")):
            continue  # not part of the Python distribution; keeps the copy small
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, src / name)
    dist = base / "dist"
    result = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(src)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, f"python -m build failed:\n{result.stdout}\n{result.stderr}"
    wheels = list(dist.glob(f"medusa_loyalty_service-{VERSION}-py3-none-any.whl"))
    sdists = list(dist.glob(f"medusa_loyalty_service-{VERSION}.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in dist.iterdir())
    yield {"wheel": wheels[0], "sdist": sdists[0]}


def test_wheel_holds_every_module_generated_code_and_migration(release: dict[str, Path]) -> None:
    with zipfile.ZipFile(release["wheel"]) as wheel:
        names = set(wheel.namelist())
        metadata = wheel.read(f"medusa_loyalty_service-{VERSION}.dist-info/METADATA").decode()
        entry_points = wheel.read(
            f"medusa_loyalty_service-{VERSION}.dist-info/entry_points.txt"
        ).decode()
    expected = set()
    for package, root in PACKAGES.items():
        for path in (root / package).rglob("*"):
            if path.is_file() and path.suffix in PACKAGE_DATA and "__pycache__" not in path.parts:
                expected.add(path.relative_to(root).as_posix())
    # The generated protobuf code (gen/) and every migration, including new ones.
    assert {
        "loyalty/v1/loyalty_pb2.py",
        "loyalty/v1/loyalty_pb2_grpc.py",
        "loyalty/v1/loyalty_pb2.pyi",
        "loyalty_server/store/migrations/env.py",
        "loyalty_server/store/migrations/script.py.mako",
    } <= expected
    assert any(n.startswith("loyalty_server/store/migrations/versions/0002") for n in expected)
    missing = sorted(expected - names)
    assert not missing, f"files of the tree missing from the wheel: {missing}"
    assert f"medusa_loyalty_service-{VERSION}.dist-info/licenses/LICENSE" in names
    assert "License-Expression: MIT" in metadata
    assert "loyalty-server = loyalty_server.cli:main" in entry_points
    assert "loyalty = loyalty_client.cli:main" in entry_points


def _run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 120) -> str:
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (
        f"{argv} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    )
    return result.stdout


@pytest.mark.parametrize("artifact", ["wheel", "sdist"])
def test_installed_release_migrates_serves_and_answers(
    artifact: str, release: dict[str, Path], workdir: Path
) -> None:
    home = Path(tempfile.mkdtemp(prefix=f"loyalty-release-{artifact}-"))
    databases: DatabaseFactory | None = None
    server: subprocess.Popen[bytes] | None = None
    try:
        assert not home.is_relative_to(ROOT)
        venv, cwd = home / "venv", home / "elsewhere"
        cwd.mkdir()
        # A plain environment: no PYTHONPATH, no repository venv on PATH.
        env = {
            "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "HOME": os.environ.get("HOME", str(home)),
            "LANG": "C.UTF-8",
        }
        env.update({k: v for k, v in os.environ.items() if k.startswith("PIP_")})
        python = sys.executable  # a fresh venv from the same interpreter as the tests
        base = getattr(sys, "_base_executable", python)
        _run([base, "-m", "venv", str(venv)], cwd, env)
        _run(
            [str(venv / "bin/python"), "-m", "pip", "install", "--quiet", str(release[artifact])],
            cwd, env, timeout=400,
        )  # fmt: skip
        bin_ = venv / "bin"

        out = _run([str(bin_ / "loyalty-server"), "--version"], cwd, env)
        assert out.strip() == f"loyalty-server {VERSION}"
        out = _run([str(bin_ / "loyalty"), "--version"], cwd, env)
        assert out.strip() == f"loyalty {VERSION}"
        where = _run(
            [str(bin_ / "python"), "-c",
             "import loyalty.v1.loyalty_pb2 as p, loyalty_server, loyalty_client; "
             "print(p.__file__); print(loyalty_server.__file__); print(loyalty_client.__file__)"],
            cwd, env,
        )  # fmt: skip
        for line in where.split():
            assert Path(line).is_relative_to(venv), f"imported from outside the venv: {line}"

        # The wheel on PostgreSQL when there is one, the sdist on the SQLite default.
        if artifact == "wheel" and _PG_PROBLEM is None:
            databases = DatabaseFactory("postgres", workdir)
            url = databases.new()
        else:
            url = "sqlite:///./loyalty.db"
        _run([str(bin_ / "loyalty-server"), "migrate", "--database-url", url], cwd, env)

        target = f"127.0.0.1:{free_port()}"
        log = (home / "server.log").open("wb")
        server = subprocess.Popen(
            [str(bin_ / "loyalty-server"), "serve", "--listen", target, "--database-url", url,
             "--workers", "1"],
            cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_serving(target, timeout=60)
        except TimeoutError:
            server.kill()
            raise AssertionError((home / "server.log").read_text()) from None

        loyalty = [str(bin_ / "loyalty"), "--target", target]
        _run([*loyalty, "points", "adjust", "cus_release", "100", "--reason", "Welcome"], cwd, env)
        out = _run([*loyalty, "--json", "points", "balance", "cus_release"], cwd, env)
        assert '"balance": "100"' in out, out
        out = _run(
            [str(bin_ / "python"), "-c",
             "import sys; from loyalty_client import LoyaltyClient\n"
             f"with LoyaltyClient({target!r}) as c:\n"
             "    r = c.adjust_points('cus_release', -30, idempotency_key='release-1')\n"
             "    again = c.adjust_points('cus_release', -30, idempotency_key='release-1')\n"
             "    print(r.balance_after, again.balance_after, again.replayed)"],
            cwd, env,
        )  # fmt: skip
        assert out.split() == ["70", "70", "True"], out

        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 0, (home / "server.log").read_text()
        out = _run([str(bin_ / "loyalty-server"), "verify", "--database-url", url], cwd, env)
        assert out.startswith("OK: "), out
        if url.startswith("sqlite"):
            assert (cwd / "loyalty.db").is_file()  # relative to where it ran, not the repo
    finally:
        if server is not None and server.poll() is None:
            server.kill()
            server.wait(10)
        if databases is not None:
            databases.drop_all()
        shutil.rmtree(home, ignore_errors=True)
