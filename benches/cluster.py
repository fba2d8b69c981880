"""Cross-worker fan-out: server CPU per delivered message and publish-to-delivery latency.

    .venv/bin/python benches/cluster.py [--subscribers 1000] [--messages 30] [--rate 5] [--reps 2]

Needs redis-server (Debian package). Starts one redis-server (no persistence), then for each
repetition runs, in a random order, one fresh server per setup (benches/cluster_apps.py):

* single-process broadcast: uvicorn, 1 worker, all subscribers, ``ferrosocket.broadcast``
  (the message reaches it on a publisher WebSocket);
* channels: uvicorn, 2 workers, ``ferrosocket.channels`` (published from this process with
  ``RedisChannels.publish``);
* anchor: uvicorn, 2 workers, Starlette's ``WebSocket`` + the ``broadcaster`` package (pub/sub)
  on the same Redis (published from this process with ``PUBLISH``);
* local broadcast in each of 2 workers: uvicorn, 2 workers, the single-process app in each, with
  a publisher WebSocket to each worker: the same sends as channels with no transport between the
  workers, the floor of any cross-worker fan-out on two workers.

Each run opens N subscribers (websockets clients in this process, no compression), publishes M
1 KB JSON messages at R per second, each carrying its publish time, and waits until every
subscriber got every message (checked). Server CPU is the user+system time of all the server's
processes (its process group, from /proc/<pid>/stat) during the publishing; per delivered
message = CPU / (M x N). Latency: receive time - publish time, over all deliveries. Medians over
the repetitions.

Targets (issue 16): channels <= 1.3x the single-process broadcast, and <= 0.5x the anchor, per
delivered message (the ratios per repetition, their median and its 95% interval); latency p99
reported beside the anchor's. Also printed: channels against the two-worker floor, and that
floor against the anchor (the floor of the second target).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import redis.asyncio
from gateway.stats import median_ci  # benches/ is the script's directory
from websockets.asyncio.client import ClientConnection, connect

from ferrosocket import PreparedMessage
from ferrosocket.channels import RedisChannels

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

SETUPS = {
    "single-process broadcast": ("local_app", 1),
    "channels, 2 workers": ("channels_app", 2),
    "anchor: Starlette + broadcaster, 2 workers": ("anchor_app", 2),
    "local broadcast in each of 2 workers": ("local_app", 2),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def answers(port: int, request: bytes, expect: bytes) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1) as sock:
            sock.sendall(request)
            return expect in sock.recv(512)
    except OSError:
        return False


def wait_for(check: object, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.05)


def group_cpu_seconds(pgid: int) -> float:
    """user + system seconds of every live process in the process group."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields[2] is the pgrp (the 5th field of stat)
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


async def one_publisher_per_worker(url: str, workers: int) -> list[ClientConnection]:
    """A publisher connection to each worker (the kernel picks the worker of each connection:
    connect until every process has one; the app's first message is its pid)."""
    by_pid: dict[str, ClientConnection] = {}
    spare: list[ClientConnection] = []
    for _ in range(100):
        ws = await connect(url, compression=None)
        pid = await ws.recv()
        assert isinstance(pid, str)
        if pid in by_pid:
            spare.append(ws)
        else:
            by_pid[pid] = ws
        if len(by_pid) == workers:
            break
    for ws in spare:
        await ws.close()
    if len(by_pid) != workers:
        raise RuntimeError(f"reached {len(by_pid)} of {workers} workers")
    return list(by_pid.values())


def chat_message(seq: int) -> str:
    body = {
        "seq": seq,
        "ts": time.time(),
        "id": "0b4e9f5c-3d2a-4c1b-9e8f-7a6b5c4d3e2f",
        "room": {"name": "général", "members": 42, "topic": None},
        "author": {"name": "Zoë", "avatar": None, "roles": ["member", "moderator"]},
        "text": "Bonjour à tous 👋 " * 24,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


@dataclass
class Run:
    rep: int
    setup: str
    cpu_per_delivery_us: float
    p50_ms: float
    p99_ms: float


async def run_once(
    rep: int, setup: str, redis_url: str, subscribers: int, messages: int, rate: float, log_path: Path
) -> Run:
    app, workers = SETUPS[setup]
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "--app-dir", str(HERE), "--host", HOST, "--port", str(port)]
    argv += ["--workers", str(workers), "--log-level", "warning", "--ws", "websockets-sansio"]
    argv.append(f"cluster_apps:{app}")
    env = dict(os.environ, REDIS_URL=redis_url)
    # (broadcaster 0.3.1 logs a KeyError traceback for each connection that closes: the log is
    # only shown when a run fails.)
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            argv, env=env, start_new_session=True, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
    clients: list[ClientConnection] = []
    try:
        wait_for(lambda: answers(port, b"GET / HTTP/1.0\r\n\r\n", b"ok"), "uvicorn")
        url = f"ws://{HOST}:{port}/sub"
        for start in range(0, subscribers, 50):
            count = min(50, subscribers - start)
            batch = [connect(url, compression=None, max_queue=None) for _ in range(count)]
            clients += await asyncio.gather(*batch)
        await asyncio.sleep(1.0)  # every subscriber registered (joins reach Redis)
        latencies: list[float] = []
        counts = [0] * len(clients)

        async def read(i: int, ws: ClientConnection) -> None:
            while counts[i] < messages:
                text = await ws.recv()
                assert isinstance(text, str)
                sent_at = float(text[text.index('"ts":') + 5 : text.index(',"id"')])
                latencies.append(time.time() - sent_at)
                counts[i] += 1

        readers = [asyncio.create_task(read(i, ws)) for i, ws in enumerate(clients)]
        publisher_channels = None
        publisher_redis = None
        publishers: list[ClientConnection] = []
        if app == "local_app":
            publishers = await one_publisher_per_worker(f"ws://{HOST}:{port}/pub", workers)
        elif app == "channels_app":
            publisher_channels = RedisChannels(redis_url)
        else:
            publisher_redis = redis.asyncio.Redis.from_url(redis_url)
        cpu_before = group_cpu_seconds(server.pid)
        started = time.monotonic()
        for seq in range(messages):
            text = chat_message(seq)
            if publishers:
                for publisher in publishers:
                    await publisher.send(text)
            elif publisher_channels is not None:
                await publisher_channels.publish("room", PreparedMessage.text(text))
            elif publisher_redis is not None:
                await publisher_redis.publish("room", text)
            await asyncio.sleep(max(0.0, started + (seq + 1) / rate - time.monotonic()))
        async with asyncio.timeout(60):
            await asyncio.gather(*readers)
        cpu = group_cpu_seconds(server.pid) - cpu_before
        assert all(count == messages for count in counts)
        for publisher in publishers:
            await publisher.close()
        if publisher_channels is not None:
            await publisher_channels.close()
        if publisher_redis is not None:
            await publisher_redis.aclose()
        latencies.sort()
        return Run(
            rep,
            setup,
            cpu / (messages * len(clients)) * 1e6,
            latencies[len(latencies) // 2] * 1e3,
            latencies[int(len(latencies) * 0.99)] * 1e3,
        )
    finally:
        for ws in clients:
            ws.transport.abort()
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(15)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=30)
    parser.add_argument("--rate", type=float, default=5.0, help="messages published per second")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--setups", default="0,1,2,3", help="indexes of the setups to run (0,1,2,3)")
    args = parser.parse_args()
    binary = shutil.which("redis-server")
    if binary is None:
        print("redis-server is not installed (Debian: apt-get install redis-server)")
        return 1
    with tempfile.TemporaryDirectory() as directory:
        redis_port = free_port()
        argv = [binary, "--bind", HOST, "--port", str(redis_port), "--save", "", "--appendonly", "no"]
        argv += ["--dir", directory]
        redis_server = subprocess.Popen(argv, start_new_session=True, stdout=subprocess.DEVNULL)
        try:
            wait_for(lambda: answers(redis_port, b"PING\r\n", b"+PONG"), "redis-server")
            url = f"redis://{HOST}:{redis_port}/0"
            runs: list[Run] = []
            for rep in range(args.reps):
                order = [list(SETUPS)[int(i)] for i in args.setups.split(",")]
                random.shuffle(order)
                for setup in order:
                    log_path = Path(directory) / "server.log"
                    try:
                        run = asyncio.run(
                            run_once(rep, setup, url, args.subscribers, args.messages, args.rate, log_path)
                        )
                    except BaseException:
                        log = log_path.read_text(errors="replace")[-5000:]
                        print(f"{setup} failed; the end of the server's log:\n{log}")
                        raise
                    runs.append(run)
                    print(
                        f"rep {rep + 1} {setup}: {run.cpu_per_delivery_us:.1f} µs CPU/delivery, "
                        f"latency p50 {run.p50_ms:.1f} ms p99 {run.p99_ms:.1f} ms",
                        flush=True,
                    )
        finally:
            redis_server.terminate()
            redis_server.wait(10)
    report(runs, args)
    return 0


def report(runs: list[Run], args: argparse.Namespace) -> None:
    def median(setup: str, field: str) -> float:
        return statistics.median(getattr(run, field) for run in runs if run.setup == setup)

    done = [setup for setup in SETUPS if any(run.setup == setup for run in runs)]
    print()
    print(
        f"{args.subscribers:,} subscribers, {args.messages} messages of ~1 KB JSON at {args.rate:g}/s, "
        f"medians of {args.reps} repetitions"
    )
    print(f"{'setup':44} {'server CPU µs/delivery':>22} {'p50 ms':>8} {'p99 ms':>8}")
    for setup in done:
        cpu, p50, p99 = (median(setup, f) for f in ("cpu_per_delivery_us", "p50_ms", "p99_ms"))
        print(f"{setup:44} {cpu:22.2f} {p50:8.1f} {p99:8.1f}")
    single, ours, anchor, local_workers = SETUPS
    # Each repetition runs every setup back to back (in a random order): the ratios are taken
    # within a repetition, then their median with its 95% interval (order statistics). Channels
    # make the single-process broadcast's sends plus a share of one XREAD per worker, so the
    # single-process broadcast against the anchor is the floor of the second target.
    comparisons = (
        ("channels / single-process broadcast", ours, single, 1.3),
        ("channels / anchor", ours, anchor, 0.5),
        ("single-process broadcast / anchor", single, anchor, None),
        # The same broadcast in each of two workers, each told by its own publisher connection:
        # what two workers cost with no transport between them, the floor of any channels.
        ("channels / local broadcast in each of 2 workers", ours, local_workers, None),
        ("floor of the second target: 2-worker local broadcast / anchor", local_workers, anchor, None),
    )
    for label, setup, reference, target in comparisons:
        ratios = paired_ratios(runs, setup, reference)
        estimate = median_ci(ratios)
        if estimate is None:
            continue
        verdict = ""
        if target is not None:
            verdict = f" (target <= {target}x: {'met' if estimate.median <= target else 'NOT met'})"
        print(f"{label}: {estimate.show()}x per repetition {fmt_list(ratios)}{verdict}")
    if ours in done and anchor in done:
        ours_p99, anchor_p99 = median(ours, "p99_ms"), median(anchor, "p99_ms")
        print(f"latency p99: channels {ours_p99:.1f} ms, anchor {anchor_p99:.1f} ms")


def paired_ratios(runs: list[Run], setup: str, reference: str) -> list[float]:
    """``setup``'s CPU per delivery over ``reference``'s, per repetition that ran both."""
    by_rep: dict[tuple[int, str], float] = {(run.rep, run.setup): run.cpu_per_delivery_us for run in runs}
    reps = sorted({run.rep for run in runs})
    return [
        by_rep[rep, setup] / by_rep[rep, reference]
        for rep in reps
        if (rep, setup) in by_rep and (rep, reference) in by_rep
    ]


def fmt_list(values: list[float]) -> str:
    return "[" + ", ".join(f"{value:.2f}" for value in values) + "]"


if __name__ == "__main__":
    sys.exit(main())
