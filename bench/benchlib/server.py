"""The real server under test: `loyalty-server serve` in its own process group."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from .measure import proc_stat

BIN = Path(sys.executable).parent
SERVER_BIN = str(BIN / "loyalty-server")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, url: str, workers: int | None, log_path: Path) -> None:
        self.target = f"127.0.0.1:{free_port()}"
        args = [SERVER_BIN, "serve", "--listen", self.target, "--database-url", url]
        args += ["--log-level", "WARNING"]
        if workers is not None:
            args += ["--workers", str(workers)]
        self.log_path = log_path
        self.proc = subprocess.Popen(
            args, stdout=log_path.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
        )
        self._wait_serving()

    def _wait_serving(self, timeout: float = 30.0) -> None:
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with grpc.insecure_channel(self.target) as channel:
                    reply = health_pb2_grpc.HealthStub(channel).Check(
                        health_pb2.HealthCheckRequest(service="loyalty.v1.LoyaltyService"),
                        timeout=1,
                    )
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
            except grpc.RpcError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"server did not start:\n{self.log_path.read_text()[-3000:]}")

    def processes(self) -> int:
        """Processes serving calls: the workers, or the server itself when it has none."""
        count = 0
        for p in os.listdir("/proc"):
            stat = proc_stat(int(p)) if p.isdigit() else None
            if stat and stat.ppid == self.proc.pid:
                with contextlib.suppress(OSError):
                    count += b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()
        return count or 1

    def stop(self, timeout: float = 30.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
