"""The Prometheus endpoint of a real `loyalty-server` process, scraped during real
calls: RPC counts by method and code, latency, in-flight calls, pool use and
waits, group-commit batches, ledger writes, replays and health; one view with
`--workers 2`; and a real Prometheus (Debian's package) scraping it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from conftest import SERVER_BIN, ServerProcess, free_port
from prometheus_client.parser import text_string_to_metric_families

from loyalty.v1 import loyalty_pb2 as pb
from loyalty.v1.loyalty_pb2_grpc import LoyaltyServiceStub
from loyalty_server.observe.metrics import parse_listen

SERVICE = "loyalty.v1.LoyaltyService"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(address: str) -> Samples:
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as reply:
        assert reply.status == 200
        text = reply.read().decode()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def scrape_until(address: str, ready: Callable[[Samples], bool], timeout: float = 10) -> Samples:
    """A scrape once `ready` holds. A refused call's status goes out before the server
    has counted it (grpc sends it from inside abort), so its count may lag by a hair."""
    deadline = time.monotonic() + timeout
    samples = scrape(address)
    while not ready(samples) and time.monotonic() < deadline:
        time.sleep(0.05)
        samples = scrape(address)
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample with exactly these labels (0 when absent)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """Sum over the samples whose labels include these."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def calls(samples: Samples, method: str, code: str = "OK") -> float:
    return value(samples, "loyalty_rpc_requests_total", service=SERVICE, method=method, code=code)


@pytest.fixture
def metered(start_server: Callable[..., ServerProcess]) -> Callable[..., tuple[ServerProcess, str]]:
    def start(**settings: object) -> tuple[ServerProcess, str]:
        address = f"127.0.0.1:{free_port()}"
        server = start_server(metrics_listen=address, **settings)
        return server, address

    return start


def test_parse_listen_defaults_to_loopback() -> None:
    assert parse_listen("9464") == ("127.0.0.1", 9464)
    assert parse_listen(":9464") == ("127.0.0.1", 9464)
    assert parse_listen("0.0.0.0:9464") == ("0.0.0.0", 9464)
    assert parse_listen("[::1]:9464") == ("::1", 9464)
    with pytest.raises(ValueError):
        parse_listen("nine")
    with pytest.raises(ValueError):
        parse_listen("127.0.0.1:70000")


def test_a_bad_or_busy_metrics_address_is_refused(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'db.sqlite'}"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        for given, said in (("nine", "expected HOST:PORT"), (str(taken), "cannot serve metrics")):
            args = ["--listen", f"127.0.0.1:{free_port()}", "--database-url", database]
            result = subprocess.run(
                [SERVER_BIN, "serve", *args, "--metrics-listen", given],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert result.returncode == 2, result.stderr
            assert said in result.stderr


def test_metrics_are_off_by_default(loyalty_server: ServerProcess) -> None:
    with loyalty_server.channel() as channel:
        LoyaltyServiceStub(channel).GetOptions(pb.GetOptionsRequest(), timeout=10)
    assert "metrics endpoint" not in loyalty_server.log_text()


def test_a_bare_port_listens_on_loopback(start_server: Callable[..., ServerProcess]) -> None:
    port = free_port()
    server = start_server(metrics_listen=str(port))
    assert f'"metrics": "http://127.0.0.1:{port}/metrics"' in server.log_text()
    assert value(scrape(f"127.0.0.1:{port}"), "loyalty_health_serving") == 1


def test_metrics_count_real_calls(
    metered: Callable[..., tuple[ServerProcess, str]], backend: str, uid: str
) -> None:
    server, address = metered()
    before = scrape(address)
    assert value(before, "loyalty_health_serving") == 1
    assert value(before, "loyalty_db_pool_size", pool="engine") >= 1
    with server.channel() as channel:
        stub = LoyaltyServiceStub(channel)
        customer = f"metrics-{uid}"
        request = pb.AdjustPointsRequest(customer_id=customer, delta="10", idempotency_key="k1")
        assert not stub.AdjustPoints(request, timeout=10).replayed
        assert stub.AdjustPoints(request, timeout=10).replayed  # a replay: no new entry
        stub.AdjustPoints(pb.AdjustPointsRequest(customer_id=customer, delta="5"), timeout=10)
        with pytest.raises(grpc.RpcError) as refused:
            stub.AdjustPoints(pb.AdjustPointsRequest(customer_id=customer, delta="0"), timeout=10)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        batch = pb.BatchAdjustPointsRequest(
            adjustments=[
                pb.BatchAdjustPointsItem(
                    customer_id=f"{customer}-{i}", delta="1", idempotency_key=f"b{i}"
                )
                for i in range(3)
            ]
        )
        stub.BatchAdjustPoints(batch, timeout=10)
        stub.BatchAdjustPoints(batch, timeout=10)  # three replayed items, nothing new
        card = stub.CreateGiftCards(
            pb.CreateGiftCardsRequest(
                gift_cards=[pb.CreateGiftCardInput(value="50", currency_code="eur")]
            ),
            timeout=10,
        ).gift_cards[0]
        debit = pb.DebitGiftCardRequest(
            id=card.id, amount="5", currency_code="eur", idempotency_key="d1"
        )
        stub.DebitGiftCard(debit, timeout=10)
        assert stub.DebitGiftCard(debit, timeout=10).replayed
        with pytest.raises(grpc.RpcError) as missing:
            stub.RetrieveGiftCard(pb.RetrieveGiftCardRequest(id="gcard_missing"), timeout=10)
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    after = scrape_until(address, lambda s: calls(s, "RetrieveGiftCard", "NOT_FOUND") == 1)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert calls(after, "AdjustPoints") - calls(before, "AdjustPoints") == 3
    assert calls(after, "AdjustPoints", "INVALID_ARGUMENT") == 1
    assert calls(after, "RetrieveGiftCard", "NOT_FOUND") == 1
    assert calls(after, "DebitGiftCard") == 2
    adjust = {"service": SERVICE, "method": "AdjustPoints"}
    assert delta("loyalty_rpc_duration_seconds_count", **adjust) == 4
    assert delta("loyalty_rpc_duration_seconds_sum", **adjust) > 0
    assert value(after, "loyalty_rpc_duration_seconds_bucket", **adjust, le="+Inf") >= 4
    assert value(after, "loyalty_rpc_in_flight", **adjust) == 0  # all answered
    assert delta("loyalty_ledger_writes_total", ledger="points") == 2 + 3
    assert delta("loyalty_ledger_writes_total", ledger="gift_card") == 1
    assert delta("loyalty_idempotent_replays_total", **adjust) == 1
    batched = {"service": SERVICE, "method": "BatchAdjustPoints"}
    if "replayed" in pb.BatchAdjustPointsResponse.DESCRIPTOR.fields_by_name:  # per item
        assert delta("loyalty_idempotent_replays_total", **batched) == 3
    replays = {"service": SERVICE, "method": "DebitGiftCard"}
    assert delta("loyalty_idempotent_replays_total", **replays) == 1
    assert total(after, "loyalty_db_pool_wait_seconds_count") > total(
        before, "loyalty_db_pool_wait_seconds_count"
    )
    assert total(after, "loyalty_db_pool_in_use") == 0  # every connection back
    if backend == "postgres":
        # AdjustPoints and DebitGiftCard go through group commit there: each call
        # in some batch (2 or 3 adjustments, 2 debits: a replay may be tried there
        # too before the locking path answers it).
        assert delta("loyalty_group_commit_batch_size_count") >= 1
        assert 4 <= delta("loyalty_group_commit_batch_size_sum") <= 5
        assert value(after, "loyalty_db_pool_size", pool="group_commit") == 1
        assert value(after, "loyalty_db_pool_size", pool="debit_group_commit") == 1
    else:
        assert delta("loyalty_db_pool_wait_seconds_count", pool="sqlite") >= 5


def _load(target: str, stop: threading.Event, counter: list[int], uid: str, n: int) -> None:
    """One caller on its own connection, adjusting until told to stop."""
    options = [("grpc.use_local_subchannel_pool", 1)]  # its own TCP connection
    with grpc.insecure_channel(target, options=options) as channel:
        stub = LoyaltyServiceStub(channel)
        i = 0
        while not stop.is_set():
            stub.AdjustPoints(
                pb.AdjustPointsRequest(customer_id=f"load-{uid}-{n}-{i % 4}", delta="1"),
                timeout=30,
            )
            counter[n] += 1
            i += 1


Load = Callable[[str, str, int], Callable[[], int]]


@pytest.fixture
def load() -> Iterator[Load]:
    """Starts callers; the function it returns stops them and gives the calls made."""
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def start(target: str, uid: str, callers: int) -> Callable[[], int]:
        counter = [0] * callers
        mine = [
            threading.Thread(target=_load, args=(target, stop, counter, uid, n))
            for n in range(callers)
        ]
        for thread in mine:
            thread.start()
        threads.extend(mine)

        def finish() -> int:
            stop.set()
            for thread in mine:
                thread.join(60)
            return sum(counter)

        return finish

    yield start
    stop.set()
    for thread in threads:
        thread.join(60)


def _scrape_during(
    address: str, target: str, uid: str, callers: int, load: Load
) -> tuple[list[Samples], int]:
    """Scrapes for 3 s while `callers` callers run; the scrapes and the calls made."""
    finish = load(target, uid, callers)
    scrapes = []
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        scrapes.append(scrape(address))
        time.sleep(0.05)
    return scrapes, finish()


def test_scraped_during_calls(
    metered: Callable[..., tuple[ServerProcess, str]], load: Load, uid: str
) -> None:
    server, address = metered()
    scrapes, made = _scrape_during(address, server.target, uid, 4, load)
    assert made > 0
    seen = [calls(s, "AdjustPoints") for s in scrapes]
    assert seen == sorted(seen), "a counter went backwards"
    assert seen[-1] > 0, "calls made while scraping were not counted"
    final = scrape_until(address, lambda s: calls(s, "AdjustPoints") >= made)
    assert calls(final, "AdjustPoints") == made
    assert value(final, "loyalty_rpc_in_flight", service=SERVICE, method="AdjustPoints") == 0
    in_flight = [
        value(s, "loyalty_rpc_in_flight", service=SERVICE, method="AdjustPoints") for s in scrapes
    ]
    assert all(0 <= n <= 4 for n in in_flight)


def test_one_view_across_two_workers(
    metered: Callable[..., tuple[ServerProcess, str]], load: Load, uid: str
) -> None:
    one, one_address = metered()
    single = scrape(one_address)
    one.stop()
    server, address = metered(workers=2)
    log = server.log_text()
    started = next(json.loads(line) for line in log.splitlines() if "started workers" in line)
    directory = next(
        json.loads(line)["multiprocess_dir"] for line in log.splitlines() if "multiproc" in line
    )
    engine = value(single, "loyalty_db_pool_size", pool="engine")
    deadline = time.monotonic() + 60  # serving means one worker is: wait for both
    while value(scrape(address), "loyalty_db_pool_size", pool="engine") < 2 * engine:
        assert time.monotonic() < deadline, "the second worker never came up"
        time.sleep(0.1)
    # 12 connections: the kernel spreads them over both workers (SO_REUSEPORT)
    scrapes, made = _scrape_during(address, server.target, uid, 12, load)
    assert all(value(s, "loyalty_health_serving") == 1 for s in scrapes)
    final = scrape_until(address, lambda s: calls(s, "AdjustPoints") >= made)
    # The parent adds up what both workers wrote: every call counted once, whichever
    # worker served it, and each worker's pools counted (twice one worker's).
    assert calls(final, "AdjustPoints") == made
    assert value(final, "loyalty_health_serving") == 1
    assert value(final, "loyalty_db_pool_size", pool="engine") == 2 * engine
    files = set(os.listdir(directory))
    for pid in started["pids"]:
        assert f"counter_{pid}.db" in files, f"worker {pid} wrote no counters"
    assert server.stop() == 0
    assert not Path(directory).exists(), "the multiprocess directory was left behind"


def test_refused_calls_are_counted(metered: Callable[..., tuple[ServerProcess, str]]) -> None:
    key = "k" * 40
    digest = hashlib.sha256(key.encode()).hexdigest()
    server, address = metered(api_keys=f"reader:{digest}=loyalty:read")
    with server.channel() as channel:
        stub = LoyaltyServiceStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            stub.GetOptions(pb.GetOptionsRequest(), timeout=10)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        stub.GetOptions(
            pb.GetOptionsRequest(), timeout=10, metadata=[("authorization", f"Bearer {key}")]
        )
    samples = scrape_until(address, lambda s: calls(s, "GetOptions", "UNAUTHENTICATED") == 1)
    assert calls(samples, "GetOptions", "UNAUTHENTICATED") == 1
    assert calls(samples, "GetOptions") == 1


# --------------------------------------------------------------- real Prometheus


def _prometheus_bin() -> str | None:
    return shutil.which("prometheus") or (
        "/usr/bin/prometheus" if os.access("/usr/bin/prometheus", os.X_OK) else None
    )


def _query(api: str, expr: str) -> list[dict[str, object]]:
    url = f"http://{api}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as reply:
        body = json.loads(reply.read())
    assert body["status"] == "success", body
    return list(body["data"]["result"])


def test_a_real_prometheus_scrapes_it(
    metered: Callable[..., tuple[ServerProcess, str]], tmp_path: Path, uid: str
) -> None:
    binary = _prometheus_bin()
    if binary is None:
        pytest.skip("Debian's prometheus is not installed (scripts/ensure-prometheus installs it)")
    server, address = metered()
    with server.channel() as channel:
        stub = LoyaltyServiceStub(channel)
        for i in range(7):
            stub.AdjustPoints(pb.AdjustPointsRequest(customer_id=f"prom-{uid}", delta=str(i + 1)))
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: loyalty\n"
        f"    static_configs:\n      - targets: ['{address}']\n"
    )
    api = f"127.0.0.1:{free_port()}"
    log = (tmp_path / "prometheus.log").open("wb")
    prometheus = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address={api}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        expr = 'sum(loyalty_rpc_requests_total{job="loyalty",method="AdjustPoints",code="OK"})'
        deadline = time.monotonic() + 60
        result: list[dict[str, object]] = []
        while time.monotonic() < deadline:
            try:
                result = _query(api, expr)
                if result:
                    break
            except OSError:
                pass  # not listening yet
            time.sleep(0.5)
        assert result, (tmp_path / "prometheus.log").read_text()[-2000:]
        assert float(result[0]["value"][1]) == 7  # type: ignore[index]
        up = _query(api, 'up{job="loyalty"}')
        assert up and float(up[0]["value"][1]) == 1  # type: ignore[index]
        latency = _query(
            api, 'loyalty_rpc_duration_seconds_count{job="loyalty",method="AdjustPoints"}'
        )
        assert float(latency[0]["value"][1]) == 7  # type: ignore[index]
    finally:
        prometheus.terminate()
        try:
            prometheus.wait(20)
        except subprocess.TimeoutExpired:
            prometheus.kill()
            prometheus.wait(5)
        log.close()
