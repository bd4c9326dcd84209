"""deploy/: the systemd unit and the environment file example.

- The example names every setting the server reads (config.ENVIRONMENT) and no other
  LOYALTY_ name; the few OTEL_ names in it are ones the server's code reads; every
  value in it, commented or not, parses as its setting's type.
- The unit is hardened as docs/operations.md says, passes `systemd-analyze verify`
  (when systemd is installed), and its own commands (ExecStartPre migrate, ExecStart
  serve) run with the example's settings: a real server that reads its API keys from
  that environment, answers health, refuses a call without a key, and stops cleanly
  on SIGTERM within TimeoutStopSec.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
import shutil
import signal
import subprocess
from pathlib import Path

import grpc
import pytest
from conftest import BIN, ROOT, DatabaseFactory, free_port, wait_serving

from loyalty.v1 import loyalty_pb2 as pb
from loyalty.v1 import loyalty_pb2_grpc
from loyalty_server import config

DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "loyalty-server.service"
ENV_EXAMPLE = DEPLOY / "loyalty-server.env.example"
INSTALLED_BIN = "/opt/loyalty-server/bin/"
SETTING_LINE = re.compile(r"^(#?)([A-Z][A-Z0-9_]*)=(.*)$")


def env_example() -> list[tuple[bool, str, str]]:
    """(active, name, value) of every setting line, commented (`#NAME=`) or not."""
    lines = []
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = SETTING_LINE.match(line.strip())
        if match:
            lines.append((not match.group(1), match.group(2), match.group(3)))
        else:
            assert not line.strip() or line.startswith("#"), f"not NAME=value: {line!r}"
    return lines


def unit() -> dict[str, list[str]]:
    """Key -> values (in order) of the unit file, sections merged."""
    values: dict[str, list[str]] = {}
    for raw in UNIT.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        values.setdefault(key, []).append(value)
    return values


def test_env_example_names_every_setting_and_only_real_ones() -> None:
    names = [name for _, name, _ in env_example()]
    assert len(names) == len(set(names)), "a setting is named twice"
    ours = {name for name in names if name.startswith("LOYALTY_")}
    settings = set(config.ENVIRONMENT.values())
    assert not ours - settings, f"not settings of the server: {sorted(ours - settings)}"
    assert not settings - ours, f"settings missing from the example: {sorted(settings - ours)}"
    source = "\n".join(p.read_text() for p in (ROOT / "server").rglob("*.py"))
    for name in set(names) - ours:
        assert name.startswith("OTEL_") and f'"{name}"' in source, f"{name}: nothing reads it"


def test_env_example_values_parse_as_their_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    types = {f.name: f.type for f in dataclasses.fields(config.Settings)}
    field_of = {variable: field for field, variable in config.ENVIRONMENT.items()}
    for _, name, value in env_example():
        if name in field_of:
            monkeypatch.setenv(name, value)
    values = config.from_environment()  # raises on a value of the wrong type
    for name, field in ((n, field_of[n]) for _, n, _ in env_example() if n in field_of):
        assert field in values, name
        kind = {"bool": bool, "int": int, "float": float}.get(str(types[field]), str)
        assert isinstance(values[field], kind), (name, values[field])
    config.Settings(**values)  # type: ignore[arg-type]


def test_unit_is_hardened_and_migrates_first() -> None:
    keys = unit()
    assert keys["EnvironmentFile"] == ["/etc/loyalty-server/loyalty-server.env"]
    assert keys["ExecStartPre"] == [f"{INSTALLED_BIN}loyalty-server migrate"]
    assert keys["ExecStart"] == [f"{INSTALLED_BIN}loyalty-server serve"]
    assert keys["Restart"] == ["on-failure"]
    assert keys.get("DynamicUser") == ["yes"] or keys.get("User"), "runs as root"
    for key, value in {
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "NoNewPrivileges": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "CapabilityBoundingSet": "",
        "KillSignal": "SIGTERM",
    }.items():
        assert keys.get(key) == [value], key
    # Calls in flight get the grace period before systemd's stop timeout kills them.
    assert float(keys["TimeoutStopSec"][0]) > config.Settings().grace_period


def _runnable_unit(tmp_path: Path, env_file: Path) -> Path:
    text = UNIT.read_text().replace(INSTALLED_BIN, f"{BIN}/")
    text = text.replace("/etc/loyalty-server/loyalty-server.env", str(env_file))
    path = tmp_path / "loyalty-server.service"
    path.write_text(text)
    return path


def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian: systemd)")
    env_file = tmp_path / "loyalty-server.env"
    env_file.write_text(ENV_EXAMPLE.read_text())
    path = _runnable_unit(tmp_path, env_file)
    result = subprocess.run(
        [analyze, "verify", str(path)], capture_output=True, text=True, timeout=60
    )
    # It exits 0 on unknown keys and bad values too, but names the file and line.
    complaints = [line for line in result.stderr.splitlines() if str(path) in line]
    assert result.returncode == 0 and not complaints, result.stderr


def test_the_units_commands_run_with_the_example_settings(tmp_path: Path, workdir: Path) -> None:
    from conftest import _PG_PROBLEM

    databases = DatabaseFactory("postgres" if _PG_PROBLEM is None else "sqlite", workdir)
    target = f"127.0.0.1:{free_port()}"
    env = {name: value for active, name, value in env_example() if active}
    env.update(
        # This machine's database and a free loopback port; all else as in the example.
        LOYALTY_DATABASE_URL=databases.new(),
        LOYALTY_LISTEN=target,
        LOYALTY_WORKERS="1",
        PATH="/usr/bin:/bin",
    )
    keys = unit()
    pre = shlex.split(keys["ExecStartPre"][0].replace(INSTALLED_BIN, f"{BIN}/"))
    start = shlex.split(keys["ExecStart"][0].replace(INSTALLED_BIN, f"{BIN}/"))
    server = None
    try:
        migrated = subprocess.run(
            pre, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert migrated.returncode == 0, migrated.stderr
        log = (tmp_path / "serve.log").open("wb")
        server = subprocess.Popen(start, cwd=tmp_path, env=env, stdout=log, stderr=log)
        wait_serving(target, timeout=60)
        with grpc.insecure_channel(target) as channel:
            stub = loyalty_pb2_grpc.LoyaltyServiceStub(channel)
            with pytest.raises(grpc.RpcError) as refused:
                stub.GetPointsBalance(pb.GetPointsBalanceRequest(customer_id="cus_1"), timeout=5)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED  # keys from the env
        server.send_signal(signal.SIGTERM)
        assert server.wait(float(keys["TimeoutStopSec"][0])) == 0
    finally:
        if server is not None and server.poll() is None:
            server.kill()
            server.wait(10)
        databases.drop_all()
