"""Where the server's time goes: py-spy sampling the real server during a
scenario's measured window, the samples then sorted into the layers a call
passes through.

`bench/run.py --profile` runs py-spy (the `bench` extra installs it) against
the server and all its workers for each scenario's measurement window, keeps
the raw collapsed stacks under bench/results/<stamp>-profile/, and reports per
scenario the share of on-CPU Python samples in each layer. Only samples
holding the GIL count (`--gil`), so a worker waiting in epoll for the next
call is not counted as work.

A sample belongs to the innermost frame on its stack that a rule below
recognises: a `Decimal` built inside validation is validation, a protobuf
setter inside the converter is conversion, a psycopg call inside SQLAlchemy is
the driver. C code (gRPC core, libpq, the protobuf runtime) has no frame of its
own: its time lands on the Python frame that called it.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

PY_SPY = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")

# (layer, substrings of a frame's file, function names or None for any).
# The first rule a frame matches names its layer; frames no rule matches are
# skipped on the way out from the leaf.
RULES: tuple[tuple[str, tuple[str, ...], tuple[str, ...] | None], ...] = (
    ("commit", ("psycopg/", "sqlalchemy/"), ("commit", "_commit_impl", "do_commit")),
    ("conversion", ("loyalty_server/api/convert", "google/protobuf", "loyalty_pb2"), None),
    (
        "validation",
        (
            "loyalty_server/domain/validation",
            "loyalty_server/domain/money",
            "loyalty_server/domain/currencies",
            "loyalty_server/domain/pagination",
        ),
        None,
    ),
    ("SQL: psycopg", ("psycopg/", "psycopg_pool/"), None),
    ("SQL: SQLAlchemy", ("sqlalchemy/", "greenlet"), None),
    ("store (our SQL code)", ("loyalty_server/store/",), None),
    ("domain", ("loyalty_server/domain/",), None),
    (
        "interceptors (auth, log, metrics)",
        ("loyalty_server/api/interceptors", "loyalty_server/api/auth", "loyalty_server/observe"),
        None,
    ),
    ("servicer", ("loyalty_server/api/",), None),
    ("logging", ("logging/",), None),
    ("gRPC (Python)", ("grpc/",), None),
    ("asyncio (Python)", ("asyncio/",), None),
)
OTHER = "other"


# A sample whose innermost Python frame is the event loop running a callback is
# in C code that callback runs: gRPC's core (cygrpc: reading, parsing and
# writing calls) and asyncio's C task machinery; py-spy cannot tell them apart
# without native stacks.
C_CALLBACKS = "gRPC core + asyncio C (loop callbacks)"


def layer_of(stack: str) -> str:
    """The layer of one collapsed stack ("frame;frame;...;leaf")."""
    frames = stack.split(";")
    if frames[-1].startswith("Handle._run (") and "asyncio/events.py" in frames[-1]:
        return C_CALLBACKS
    for frame in reversed(frames):
        # A frame reads "function (path/file.py:line)".
        function, _, where = frame.partition(" (")
        for layer, files, functions in RULES:
            if any(f in where for f in files) and (functions is None or function in functions):
                return layer
    return OTHER


def layers(raw: str) -> tuple[dict[str, float], int]:
    """Shares of the samples per layer, and the number of samples, from py-spy's
    raw (collapsed) output."""
    counts: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            counts[layer_of(stack)] += int(count)
    total = sum(counts.values())
    shares = {k: round(v / total, 3) for k, v in counts.most_common()} if total else {}
    return shares, total


class Profiler:
    """py-spy on the server (and its workers) for one scenario's window at a time."""

    def __init__(self, out_dir: Path, server_pid: int, rate: int = 200) -> None:
        self.out_dir = out_dir
        self.server_pid = server_pid
        self.rate = rate
        out_dir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen[bytes] | None = None
        self.path: Path | None = None

    def start(self, name: str, seconds: float) -> None:
        self.path = self.out_dir / f"{name}.txt"
        options = {
            "--pid": str(self.server_pid),
            "--rate": str(self.rate),
            "--duration": str(max(1, math.ceil(seconds))),
            "--format": "raw",
            "--output": str(self.path),
        }
        self.proc = subprocess.Popen(
            [PY_SPY, "record", "--subprocesses", "--gil", "--nonblocking"]
            + [word for pair in options.items() for word in pair],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def finish(self) -> tuple[dict[str, float], int]:
        assert self.proc is not None and self.path is not None
        _, err = self.proc.communicate(timeout=60)
        if self.proc.returncode != 0 or not self.path.exists():
            raise RuntimeError(f"py-spy failed: {err.decode(errors='replace')[-500:]}")
        return layers(self.path.read_text())
