"""Load test: C connections x M echo round trips on loopback, against real servers.

    python benches/load.py            # the short series of `make load`: 1,000 x 100 and 10,000 x 10,
                                      # 2 repetitions, uvicorn and granian; writes benches/results/load.*
    python benches/load.py --quick    # CI smoke run: 50 x 10, 1 repetition; load-quick.* (git-ignored)
    python benches/load.py --reps 5 --sizes 1000x100 --servers uvicorn

What runs. Per server (uvicorn with ws="websockets-sansio"; granian --interface asgi, 1 worker),
per size, per repetition, three runs in a row, each against a *fresh* server process: a raw ASGI
echo (no wrapper), Starlette's WebSocket echo and ferrosocket's (the same code, another import;
benches/load_apps.py). So the series alternates raw, Starlette, ferrosocket, raw, ... and each
repetition gives one triplet whose differences are paired.

One run:
 1. start the server (own process group, free loopback port, RLIMIT_NOFILE raised to the hard
    limit, pinned to CPU 0 unless --no-pin, address space randomisation off unless --aslr,
    PYTHONHASHSEED shared by the three runs of a repetition); check through ``GET /info`` that the
    app is the one asked for and that ferrosocket comes from this run's snapshot (see below);
 2. warm it up: 2 connections x 20 round trips, closed (lazy imports and first-use allocations
    must not count as per-connection memory); after 0.5 s read the *idle* figures;
 3. client worker processes (``--clients``, pinned to the other CPUs) open the C connections, at most
    ``--concurrency`` handshakes in flight per worker, and do one warm-up round trip on each;
    after 0.5 s read the *open* figures;
 4. the measured phase: every connection does M round trips one after another (send, wait for
    the echo, check it is the same payload, send the next), all connections at once; then read
    the *after* figures;
 5. every connection does the close handshake; the server is stopped (SIGTERM to its group, then
    SIGKILL) and its log searched for tracebacks and errors.

Figures. Server CPU is user+sys from /proc/<pid>/stat summed over the server's process group
(granian's main process and its worker): *per round trip* = (after - open) / round trips, so
neither connection set-up nor start-up counts; *handshake* = (open - idle) / connections (a TCP
accept, the upgrade and one round trip per connection). RSS is summed the same way (statm):
*per connection* = (open - idle) / C. msgs/s = round trips completed / wall time of the measured
phase (first send to last echo, across workers); p50/p99 = latency of single round trips in the
measured phase. The client's own CPU per round trip is reported too, and *server busy* (server CPU
/ wall time of the phase): near 100%, the server was the bottleneck and had its core. *GC* is the
CPU time of the server's cyclic garbage collections during the measured phase (a ``gc.callbacks``
hook in load_apps.py, read through ``GET /gc``), with the collections per generation and the
GC-tracked objects per open connection.

Noise. On a machine shared with other work, a run's CPU per round trip moves by a few µs: the
wrapper's costs are differences of that size, so take several repetitions (``--reps``) and read
the per-repetition differences the tables give. ``--nice -10`` (as root; ``make load`` passes it)
raises the priority of the servers and clients, and of their autogroups (a nice value alone only
counts inside a session's group), so that other processes disturb the measured phase less.
Diagnostics: ``--apps ...,lean`` adds a minimal pure-Python class of the same API shape;
``--profile DIR`` attaches py-spy to the server during the measured phase (``--native`` for Rust
and C frames); ``--gc-garbage`` names the types of the cyclic garbage the servers collect.

Errors and losses. ``errors`` counts failed connections (refused, handshake failure or timeout),
echoes that differ from what was sent, unexpected frames or closes, dropped connections, close
handshakes that did not complete, phase timeouts and tracebacks/errors in the server's log.
``lost`` counts messages sent and never echoed; ``missing`` counts planned round trips not done
(a failed connection's included). Every phase is bounded in time (``--phase-timeout``) and the
series stops starting runs after ``--budget`` seconds: the tool always stops by itself.

Summary. Per server, size and app: medians over repetitions. Targets, from the same series, per
server and size: 0 errors, 0 lost and 0 missing for ferrosocket; the wrapper's cost, server CPU per
round trip minus the raw echo's (the median of the paired differences, one per repetition), at
most a fifth of Starlette's (same method); RSS per connection at most the raw echo's + 1 KiB
(median of the paired differences). ``--check`` exits 1 when a target is missed (with ``--quick``
only errors and losses are checked: the numbers of a smoke run mean nothing).

The ferrosocket measured is a snapshot: at the start the installed package (python files and the
extension) is copied into a temporary directory that comes first on the servers' PYTHONPATH, so a
``make build-dev`` by someone else meanwhile cannot change it. Measure a release build:
``make build-release`` (``make load`` does it). Traffic goes to 127.0.0.1 only, and the tool ends
only the processes it started.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import http.client
import importlib.metadata
import importlib.util
import json
import multiprocessing
import os
import platform
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HOST = "127.0.0.1"
APPS = ("raw", "starlette", "ferrosocket")  # the series; "lean" on request (--apps)
ALL_APPS = (*APPS, "lean")
SERVERS = ("uvicorn", "granian")
LABELS = {
    "raw": "raw ASGI echo",
    "starlette": "Starlette",
    "ferrosocket": "ferrosocket",
    "lean": "lean class",
}
COLORS = {"raw": "#9a9a9a", "starlette": "#4a7ab5", "ferrosocket": "#d2691e", "lean": "#6aa36a"}
PACKAGES = ("ferrosocket", "starlette", "uvicorn", "granian", "websockets", "matplotlib")
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
START_TIMEOUT = 30.0  # seconds for a server to answer HTTP
STOP_TIMEOUT = 5.0  # seconds between SIGTERM and SIGKILL
SETTLE = 0.5  # seconds of quiet before the idle and open readings
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
WRAPPER_LIMIT = 0.2  # the wrapper's CPU cost at most a fifth of Starlette's
RSS_LIMIT_KIB = 1.0  # RSS per connection at most the raw echo's + 1 KiB


def raise_nofile() -> int:
    """Raise RLIMIT_NOFILE's soft limit to the hard one; returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def prioritise(nice: int) -> None:
    """Renice this process by ``nice`` and, where the kernel groups CPU time by session (autogroup,
    /proc/sys/kernel/sched_autogroup_enabled), this session's group too: a nice value alone only
    counts against processes of the same session. Call it in a process that leads its session."""
    with contextlib.suppress(OSError):
        os.nice(nice)
    with contextlib.suppress(OSError):
        Path("/proc/self/autogroup").write_text(str(nice))


def no_address_randomisation() -> None:
    """personality(ADDR_NO_RANDOMIZE), as ``setarch -R`` does: the program exec'd next gets the same
    memory layout every time, one source of run-to-run variation less. Best effort."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        current = libc.personality(0xFFFFFFFF)
        if current != -1:
            libc.personality(current | 0x0040000)


# --- WebSocket framing (client side) ---------------------------------------------------------------

try:
    from websockets.speedups import apply_mask as _apply_mask  # C, from the pinned websockets
except ImportError:  # pragma: no cover - websockets without its extension

    def _apply_mask(data: bytes | bytearray | memoryview, mask: bytes | bytearray) -> bytes:
        n = len(data)
        key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
        return (int.from_bytes(data, "big") ^ key).to_bytes(n, "big")


def client_frame(opcode: int, payload: bytes, mask: bytes) -> bytes:
    """One final client frame, masked (RFC 6455 5.3)."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0xFE)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0xFF)) + n.to_bytes(8, "big")
    return head + mask + _apply_mask(payload, mask)


def upgrade_request(port: int, key: bytes) -> bytes:
    return (
        b"GET /echo HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (HOST.encode(), port, key)
    )


def check_upgrade_response(head: bytes, key: bytes) -> str | None:
    """None if ``head`` (the response up to the blank line) accepts the upgrade, else why not."""
    lines = head.split(b"\r\n")
    if not lines[0].startswith(b"HTTP/1.1 101"):
        return f"status {lines[0][:60]!r}"
    expected = base64.b64encode(hashlib.sha1(key + WS_GUID).digest())
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"sec-websocket-accept":
            return None if value.strip() == expected else "wrong Sec-WebSocket-Accept"
    return "no Sec-WebSocket-Accept"


def payload_for(conn: int, seq: int, size: int) -> bytes:
    """A unique text payload of ``size`` bytes: connection and sequence numbers, padded."""
    head = b"%d:%d:" % (conn, seq)
    return head + b"x" * (size - len(head)) if size > len(head) else head


# --- The client: asyncio protocols in worker processes ---------------------------------------------

HANDSHAKE, OPEN, CLOSING, CLOSED = range(4)


class Conn(asyncio.Protocol):
    """One client connection: the upgrade, then echo round trips one at a time, then the close."""

    def __init__(self, worker: Worker, idx: int) -> None:
        self.w = worker
        self.idx = idx
        self.transport: asyncio.Transport | None = None
        self.buf = b""
        self.state = HANDSHAKE
        self.key = base64.b64encode(os.urandom(16))
        self.mask = os.urandom(4)
        self.seq = 0
        self.remaining = 0
        self.record = False
        self.expected: bytes | None = None
        self.sent_at = 0.0
        self.on_phase_end: Any = None
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[bool] = loop.create_future()
        self.closed: asyncio.Future[bool] = loop.create_future()
        self.clean = False

    # asyncio callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(upgrade_request(self.w.port, self.key))

    def data_received(self, data: bytes) -> None:
        if self.buf:
            data = self.buf + data
            self.buf = b""
        if self.state == HANDSHAKE:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                if len(data) > 16384:
                    self.drop("handshake")
                else:
                    self.buf = data
                return
            problem = check_upgrade_response(data[:end], self.key)
            if problem is not None:
                self.w.notes.append(problem)
                self.drop("handshake")
                return
            self.state = OPEN
            if not self.opened.done():
                self.opened.set_result(True)
            data = data[end + 4 :]
        pos, end = 0, len(data)
        while end - pos >= 2:
            b0, b1 = data[pos], data[pos + 1]
            if b1 & 0x80:
                self.drop("protocol")  # a server's frames are never masked
                return
            n = b1 & 0x7F
            start = pos + 2
            if n >= 126:
                width = 2 if n == 126 else 8
                if end - start < width:
                    break
                n = int.from_bytes(data[start : start + width], "big")
                start += width
            stop = start + n
            if stop > end:
                break
            self.on_frame(b0, data[start:stop])
            if self.state == CLOSED:
                return
            pos = stop
        if pos < end:
            self.buf = data[pos:]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.state == CLOSING:
            self.w.errors["close: no close frame from the server"] += 1
        elif self.state != CLOSED:
            self.drop("dropped by the server", abort=False)
        self.state = CLOSED
        if not self.opened.done():
            self.opened.set_result(False)
        if not self.closed.done():
            self.closed.set_result(self.clean)

    # frames
    def on_frame(self, b0: int, payload: bytes) -> None:
        opcode = b0 & 0x0F
        if opcode == 1 and b0 & 0x80:
            if payload != self.expected:
                self.drop("echo differs from the message sent" if self.expected else "unexpected message")
                return
            now = time.perf_counter()
            self.expected = None
            w = self.w
            w.echoed += 1
            if self.record:
                w.latencies.append(now - self.sent_at)
            self.remaining -= 1
            if self.remaining > 0:
                self.send_next()
            else:
                w.last_echo = time.monotonic()
                self.end_phase()
        elif opcode == 9:  # ping: pong
            self.write(client_frame(0xA, payload, self.mask))
        elif opcode == 10:
            pass
        elif opcode == 8:
            if self.state == CLOSING:
                self.clean = True
                self.state = CLOSED
                if self.transport is not None:
                    self.transport.close()
            else:
                self.write(client_frame(0x8, payload[:2], self.mask))
                self.drop("closed by the server", abort=False)
        else:
            self.drop(f"unexpected frame (opcode {opcode}, fin {b0 >> 7})")

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def send_next(self) -> None:
        self.seq += 1
        payload = payload_for(self.idx, self.seq, self.w.size)
        frame = client_frame(0x1, payload, self.mask)
        self.expected = payload
        self.w.sent += 1
        self.sent_at = time.perf_counter()
        assert self.transport is not None
        self.transport.write(frame)

    # phases
    def start(self, count: int, record: bool, on_end: Any) -> None:
        self.remaining = count
        self.record = record
        self.on_phase_end = on_end
        if self.state == OPEN and count > 0:
            self.send_next()
        else:
            self.end_phase()

    def end_phase(self) -> None:
        callback, self.on_phase_end = self.on_phase_end, None
        if callback is not None:
            callback(self)

    def begin_close(self) -> None:
        if self.state == OPEN:
            self.state = CLOSING
            self.write(client_frame(0x8, (1000).to_bytes(2, "big"), self.mask))
        elif not self.closed.done() and self.state == CLOSED:
            self.closed.set_result(self.clean)

    def drop(self, why: str, abort: bool = True) -> None:
        """An error: count it, count the message in flight as lost, end the connection and its phase."""
        if self.state == CLOSED:
            return
        self.w.errors[why] += 1
        if self.expected is not None:
            self.w.lost += 1
            self.expected = None
        self.state = CLOSED
        if self.transport is not None:
            if abort:
                self.transport.abort()
            else:
                self.transport.close()
        if not self.opened.done():
            self.opened.set_result(False)
        self.end_phase()


@dataclass
class Worker:
    port: int
    size: int
    first: int  # the first connection number (numbers are unique across workers)
    count: int
    concurrency: int
    timeout: float
    conns: list[Conn] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    latencies: array[float] = field(default_factory=lambda: array("d"))
    sent: int = 0
    echoed: int = 0
    lost: int = 0
    pending: int = 0
    last_echo: float = 0.0
    waiter: asyncio.Future[None] | None = None

    async def open_one(self, idx: int, gate: asyncio.Semaphore) -> None:
        loop = asyncio.get_running_loop()
        async with gate:
            conn = Conn(self, idx)
            try:
                await asyncio.wait_for(loop.create_connection(lambda: conn, HOST, self.port), self.timeout)
            except (OSError, TimeoutError) as exc:
                self.errors[f"connect: {type(exc).__name__}"] += 1
                return
            try:
                ok = await asyncio.wait_for(asyncio.shield(conn.opened), self.timeout)
            except TimeoutError:
                conn.drop("handshake timeout")
                return
            if not ok:
                return
            warm: asyncio.Future[None] = loop.create_future()
            conn.start(1, False, lambda _conn: None if warm.done() else warm.set_result(None))
            try:
                await asyncio.wait_for(warm, self.timeout)
            except TimeoutError:
                conn.drop("warm-up round trip timeout")
                return
            if conn.state == OPEN:
                self.conns.append(conn)

    async def open_all(self) -> None:
        gate = asyncio.Semaphore(self.concurrency)
        await asyncio.gather(*(self.open_one(self.first + i, gate) for i in range(self.count)))

    def _one_done(self, _conn: Conn) -> None:
        self.pending -= 1
        if self.pending == 0 and self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def measure(self, rounds: int) -> tuple[float, float]:
        """All open connections do ``rounds`` round trips; returns (first send, last echo), monotonic."""
        loop = asyncio.get_running_loop()
        self.waiter = loop.create_future()
        live = [conn for conn in self.conns if conn.state == OPEN]
        self.pending = len(live)
        self.latencies = array("d")
        start = self.last_echo = time.monotonic()
        if not live:
            return start, start
        for conn in live:
            conn.start(rounds, True, self._one_done)
        try:
            await asyncio.wait_for(asyncio.shield(self.waiter), self.timeout)
        except TimeoutError:
            for conn in live:
                if conn.on_phase_end is not None:
                    conn.drop("measured phase timeout")
        return start, self.last_echo

    async def close_all(self) -> tuple[int, int]:
        live = [conn for conn in self.conns if conn.state == OPEN]
        for conn in live:
            conn.begin_close()
        waits = [conn.closed for conn in live]
        if waits:
            _, not_done = await asyncio.wait(waits, timeout=self.timeout)
            for _ in not_done:
                self.errors["close: timeout"] += 1
            for conn in live:
                if not conn.closed.done() and conn.transport is not None:
                    conn.transport.abort()
        clean = sum(1 for conn in live if conn.clean)
        return len(live), clean


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _worker_async(pipe: Any, cfg: dict[str, Any]) -> None:
    loop = asyncio.get_running_loop()
    commands: asyncio.Queue[Any] = asyncio.Queue()

    def on_command() -> None:
        try:
            commands.put_nowait(pipe.recv())
        except (EOFError, OSError):
            commands.put_nowait("abort")
            loop.remove_reader(pipe.fileno())

    loop.add_reader(pipe.fileno(), on_command)
    w = Worker(cfg["port"], cfg["size"], cfg["first"], cfg["count"], cfg["concurrency"], cfg["timeout"])
    cpu0 = _cpu_self()
    started = time.monotonic()
    await w.open_all()
    ready = {"opened": len(w.conns), "seconds": time.monotonic() - started, "cpu": _cpu_self() - cpu0}
    pipe.send(("ready", ready))
    command = await asyncio.wait_for(commands.get(), cfg["command_timeout"])
    if command == "go":
        sent0, echoed0 = w.sent, w.echoed
        cpu0 = _cpu_self()
        start, end = await w.measure(cfg["rounds"])
        done = {
            "start": start,
            "end": end,
            "sent": w.sent - sent0,
            "echoed": w.echoed - echoed0,
            "cpu": _cpu_self() - cpu0,
            "latencies": w.latencies.tobytes(),
        }
        pipe.send(("done", done))
        command = await asyncio.wait_for(commands.get(), cfg["command_timeout"])
    closing, clean = await w.close_all()
    total = {
        "closing": closing,
        "clean": clean,
        "sent": w.sent,
        "echoed": w.echoed,
        "lost": w.lost,
        "errors": dict(w.errors),
        "notes": w.notes[:5],
    }
    pipe.send(("closed", total))


def client_worker(pipe: Any, cfg: dict[str, Any]) -> None:
    """Entry point of a client worker process (multiprocessing, spawn)."""
    raise_nofile()
    if cfg.get("cpus"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, cfg["cpus"])
    if cfg.get("nice"):
        with contextlib.suppress(OSError):
            os.setsid()  # a session, so an autogroup, of its own (the orchestrator kills it by pid)
        prioritise(cfg["nice"])
    try:
        asyncio.run(_worker_async(pipe, cfg))
    except BaseException as exc:  # report, never hang the orchestrator
        with contextlib.suppress(Exception):
            pipe.send(("failed", f"{type(exc).__name__}: {exc}"))
        raise


# --- Servers: start, stop, read their CPU and memory ----------------------------------------------


def server_argv(server: str, port: int) -> list[str]:
    py = sys.executable
    if server == "uvicorn":
        return [
            *(py, "-m", "uvicorn", "--host", HOST, "--port", str(port)),
            *("--ws", "websockets-sansio", "--loop", "asyncio", "--lifespan", "on"),
            *("--log-level", "warning", "--no-access-log", "--timeout-graceful-shutdown", "2"),
            *("--backlog", "4096", "load_apps:app"),
        ]
    if server == "granian":
        # --backpressure: granian serves at most this many requests at once per worker (default
        # backlog/workers = 1024), and a WebSocket is a request for as long as it is open.
        return [
            *(py, "-m", "granian", "--interface", "asgi", "--host", HOST, "--port", str(port)),
            *("--workers", "1", "--loop", "asyncio", "--log-level", "warning", "--no-access-log"),
            *("--backlog", "4096", "--backpressure", "65536", "load_apps:app"),
        ]
    raise ValueError(f"unknown server {server!r}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def http_get(port: int, path: str) -> tuple[int, bytes] | None:
    conn = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def has_exited(process: subprocess.Popen[bytes]) -> bool:
    """Exited, without reaping: until stop() reaps it, its pid (= its group id) stays ours."""
    if process.returncode is not None:
        return True
    return os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group, SIGKILL it after STOP_TIMEOUT, then reap."""
    if process.returncode is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        deadline = time.monotonic() + STOP_TIMEOUT
        while not has_exited(process) and time.monotonic() < deadline:
            time.sleep(0.01)
        if has_exited(process):
            break
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(STOP_TIMEOUT)


@dataclass
class Reading:
    cpu: float  # seconds, user + sys, summed over the group
    rss: int  # bytes, summed over the group
    processes: int


def read_group(pgid: int) -> Reading:
    """CPU time and RSS of every process in process group ``pgid`` (the server and its workers)."""
    ticks = rss_pages = count = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes()
            fields = stat[stat.rindex(b")") + 2 :].split()
            if int(fields[2]) != pgid:  # fields[0] is field 3 (state): pgrp is field 5
                continue
            statm = Path(f"/proc/{entry}/statm").read_bytes().split()
        except (OSError, ValueError):
            continue  # gone meanwhile
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        rss_pages += int(statm[1])
        count += 1
    return Reading(ticks / CLK_TCK, rss_pages * PAGE, count)


@dataclass
class Server:
    name: str
    app: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    log_offset: int
    info: dict[str, Any]

    def new_log(self) -> str:
        with self.log_path.open("rb") as log:
            log.seek(self.log_offset)
            return log.read().decode(errors="replace")


def start_server(
    name: str,
    app: str,
    tmp: Path,
    snapshot: Path,
    cpus: set[int] | None,
    nice: int = 0,
    seed: int = 0,
    no_aslr: bool = False,
    gc_saveall: bool = False,
) -> Server:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(snapshot), str(HERE), *filter(None, [env.get("PYTHONPATH")])])
    env["PYTHONUNBUFFERED"] = "1"
    env["FERRO_LOAD_APP"] = app
    env["PYTHONHASHSEED"] = str(seed)
    if gc_saveall:
        env["FERRO_LOAD_GC_SAVEALL"] = "1"
    log_path = tmp / "servers.log"

    def pin() -> None:
        if no_aslr:
            no_address_randomisation()
        if cpus:
            os.sched_setaffinity(0, cpus)
        if nice:
            prioritise(nice)  # start_new_session: the server leads a session (an autogroup) of its own

    for _attempt in range(3):  # a free port can be taken between our check and the server's bind
        port = free_port()
        with log_path.open("ab") as log:
            offset = log.tell()
            log.write(f"=== {name} {app} on port {port}\n".encode())
            log.flush()
            process = subprocess.Popen(
                server_argv(name, port),
                cwd=tmp,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: read_group() and stop_server()
                preexec_fn=pin,  # noqa: PLW1509 - no threads in this process
            )
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not has_exited(process) and time.monotonic() < deadline:
                answer = http_get(port, "/info")
                if answer is not None and answer[0] == 200:
                    return Server(name, app, port, process, log_path, offset, json.loads(answer[1]))
                time.sleep(0.05)
        except BaseException:
            stop_server(process)
            raise
        stop_server(process)
        if time.monotonic() >= deadline:
            break
    raise RuntimeError(f"{name} ({app}) did not start; log:\n{log_path.read_text(errors='replace')[-3000:]}")


def gc_stats(port: int, objects: bool) -> dict[str, Any] | None:
    answer = http_get(port, "/gc?objects=1" if objects else "/gc")
    return json.loads(answer[1]) if answer is not None and answer[0] == 200 else None


def gc_delta(before: dict[str, Any], after: dict[str, Any], key: str) -> float:
    return float(sum(after[key]) - sum(before[key]))


def sync_session(port: int, size: int, rounds: int, conn_id: int, timeout: float = 10.0) -> None:
    """A blocking client session: upgrade, ``rounds`` checked echoes, close. For the warm-up."""
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        key = base64.b64encode(os.urandom(16))
        mask = os.urandom(4)
        sock.sendall(upgrade_request(port, key))
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                raise RuntimeError("warm-up: connection closed during the upgrade")
            data += chunk
        head, _, data = data.partition(b"\r\n\r\n")
        problem = check_upgrade_response(head, key)
        if problem:
            raise RuntimeError(f"warm-up: upgrade refused: {problem}")

        def frame() -> tuple[int, bytes]:
            nonlocal data
            while True:
                if len(data) >= 2:
                    n, start = data[1] & 0x7F, 2
                    if n >= 126:
                        width = 2 if n == 126 else 8
                        n, start = int.from_bytes(data[2 : 2 + width], "big"), 2 + width
                    if len(data) >= start + n:
                        b0, payload, data = data[0], data[start : start + n], data[start + n :]
                        return b0 & 0x0F, payload
                chunk = sock.recv(65536)
                if not chunk:
                    raise RuntimeError("warm-up: connection closed")
                data += chunk

        for seq in range(rounds):
            payload = payload_for(conn_id, seq, size)
            sock.sendall(client_frame(0x1, payload, mask))
            opcode, echo = frame()
            if opcode != 1 or echo != payload:
                raise RuntimeError(f"warm-up: bad echo (opcode {opcode})")
        sock.sendall(client_frame(0x8, (1000).to_bytes(2, "big"), mask))
        while frame()[0] != 8:
            pass


# --- Profiles (--profile): py-spy attached to the process that runs the app --------------------


def plan_name(plan: Plan) -> str:
    return f"{plan.server}-{plan.conns}x{plan.rounds}-{plan.app}-rep{plan.rep}"


def start_py_spy(pid: int, raw: Path, native: bool) -> subprocess.Popen[bytes]:
    """py-spy sampling ``pid`` (the server's process that runs the app: granian's worker) for the
    measured phase; collapsed stacks go to ``raw``. Without --native the server is never paused
    (--nonblocking), and py-spy's own CPU is its own, not the server's."""
    exe = Path(sys.executable).with_name("py-spy")
    cmd = [str(exe if exe.exists() else "py-spy"), "record", "--pid", str(pid), "--rate", "250"]
    cmd += ["--format", "raw", "--output", str(raw), "--function"]
    # --native needs the process paused for each sample (py-spy refuses --nonblocking with it)
    cmd.append("--native" if native else "--nonblocking")
    raw.parent.mkdir(parents=True, exist_ok=True)
    log = raw.with_suffix(".log").open("wb")
    spy = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    time.sleep(1.0)  # attached before the phase starts
    return spy


def stop_py_spy(spy: subprocess.Popen[bytes], raw: Path) -> dict[str, Any]:
    """SIGINT (py-spy then writes its file), then the profile's summary: the functions with the most
    samples, self (the frame on top) and inclusive (anywhere on the stack), as % of all samples."""
    spy.send_signal(signal.SIGINT)
    try:
        spy.wait(30)
    except subprocess.TimeoutExpired:
        spy.kill()
        spy.wait(5)
    self_: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    with contextlib.suppress(OSError):
        for line in raw.read_text(errors="replace").splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            count = int(count_text)
            frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
            if not frames:
                continue
            total += count
            self_[frames[-1]] += count
            for frame in set(frames):
                incl[frame] += count
    top_self = [(f, c / total * 100) for f, c in self_.most_common(40)] if total else []
    top_incl = [(f, c / total * 100) for f, c in incl.most_common(60)] if total else []
    text = [f"{total} samples", "", "self %:"]
    text += [f"{pct:6.2f}  {frame}" for frame, pct in top_self]
    text += ["", "inclusive %:"]
    text += [f"{pct:6.2f}  {frame}" for frame, pct in top_incl]
    raw.with_suffix(".txt").write_text("\n".join(text) + "\n")
    return {"samples": total, "self": top_self, "inclusive": top_incl}


# --- One run --------------------------------------------------------------------------------------


@dataclass
class Plan:
    server: str
    app: str
    conns: int
    rounds: int
    rep: int
    seed: int  # PYTHONHASHSEED of the server: one per repetition, the same for the three apps


def run_once(plan: Plan, args: argparse.Namespace, tmp: Path, snapshot: Path) -> dict[str, Any]:
    cpus = sorted(os.sched_getaffinity(0))
    server_cpus = {cpus[0]} if args.pin and len(cpus) >= 2 else None
    client_cpus = set(cpus[1:]) if server_cpus else None
    workers_n = max(1, min(args.clients, plan.conns))
    result: dict[str, Any] = {
        "server": plan.server,
        "app": plan.app,
        "conns": plan.conns,
        "rounds": plan.rounds,
        "rep": plan.rep,
        "hash_seed": plan.seed,
        "errors": {},
    }
    errors: Counter[str] = Counter()
    started = time.monotonic()
    ctx = multiprocessing.get_context("spawn")
    procs: list[Any] = []
    pipes: list[Any] = []
    srv: Server | None = None
    spy: subprocess.Popen[bytes] | None = None
    try:
        srv = start_server(
            plan.server,
            plan.app,
            tmp,
            snapshot,
            server_cpus,
            args.nice,
            plan.seed,
            not args.aslr,
            args.gc_garbage,
        )
        info = srv.info
        result["server_info"] = info
        if info.get("app") != plan.app:
            raise RuntimeError(f"the server runs app {info.get('app')!r}, not {plan.app!r}")
        if plan.app == "ferrosocket" and not str(info.get("origin", "")).startswith(str(snapshot)):
            raise RuntimeError(f"the server imported ferrosocket from {info.get('origin')}, not the snapshot")
        for i in range(2):
            sync_session(srv.port, args.size, 20, 10_000_000 + i)
        time.sleep(SETTLE)
        gc_idle = gc_stats(srv.port, objects=True)
        idle = read_group(srv.process.pid)

        share, extra = divmod(plan.conns, workers_n)
        first = 0
        for i in range(workers_n):
            count = share + (1 if i < extra else 0)
            cfg = {
                "port": srv.port,
                "size": args.size,
                "first": first,
                "count": count,
                "rounds": plan.rounds,
                "concurrency": args.concurrency,
                "timeout": args.phase_timeout,
                "command_timeout": args.phase_timeout + 60,
                "cpus": client_cpus,
                "nice": args.nice,
            }
            first += count
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=client_worker, args=(child, cfg), daemon=True)
            proc.start()
            child.close()
            procs.append(proc)
            pipes.append(parent)

        def collect(expected: str, timeout: float) -> list[dict[str, Any]]:
            answers = []
            deadline = time.monotonic() + timeout
            for pipe in pipes:
                if not pipe.poll(max(0.0, deadline - time.monotonic())):
                    raise RuntimeError(f"client worker: no {expected!r} within {timeout:.0f} s")
                kind, body = pipe.recv()
                if kind != expected:
                    raise RuntimeError(f"client worker: {kind}: {body}")
                answers.append(body)
            return answers

        ready = collect("ready", args.phase_timeout + 30)
        opened = sum(r["opened"] for r in ready)
        result["connect_seconds"] = max(r["seconds"] for r in ready)
        time.sleep(SETTLE)
        gc0 = gc_stats(srv.port, objects=False)
        open_ = read_group(srv.process.pid)
        if args.profile:
            spy = start_py_spy(int(info["pid"]), args.profile / f"{plan_name(plan)}.raw", args.native)
        for pipe in pipes:
            pipe.send("go")
        done = collect("done", args.phase_timeout + 30)
        after = read_group(srv.process.pid)
        gc1 = gc_stats(srv.port, objects=True)
        if spy is not None:
            result["profile"] = stop_py_spy(spy, args.profile / f"{plan_name(plan)}.raw")
        for pipe in pipes:
            pipe.send("close")
        closed = collect("closed", args.phase_timeout + 30)
        for proc in procs:
            proc.join(10)

        latencies = array("d")
        for d in done:
            latencies.frombytes(d["latencies"])
        lat = sorted(latencies)
        echoed = sum(d["echoed"] for d in done)
        wall = max(d["end"] for d in done) - min(d["start"] for d in done)
        for c in closed:
            errors.update(c["errors"])
        result.update(
            {
                "opened": opened,
                "round_trips": echoed,
                "planned": plan.conns * plan.rounds,
                "missing": plan.conns * plan.rounds - echoed,
                "lost": sum(c["lost"] for c in closed),
                "sent_total": sum(c["sent"] for c in closed),
                "echoed_total": sum(c["echoed"] for c in closed),
                "closed_clean": sum(c["clean"] for c in closed),
                "wall_s": wall,
                "msgs_per_s": echoed / wall if wall > 0 else 0.0,
                "p50_ms": lat[len(lat) // 2] * 1e3 if lat else None,
                "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1e3 if lat else None,
                "server_cpu_us_per_rt": (after.cpu - open_.cpu) / echoed * 1e6 if echoed else None,
                "handshake_cpu_us_per_conn": (open_.cpu - idle.cpu) / opened * 1e6 if opened else None,
                "rss_idle_mib": idle.rss / 2**20,
                "rss_open_mib": open_.rss / 2**20,
                "rss_after_mib": after.rss / 2**20,
                "rss_kib_per_conn": (open_.rss - idle.rss) / opened / 1024 if opened else None,
                "server_processes": open_.processes,
                # the server's cyclic GC during the measured phase (gc.callbacks in load_apps.py)
                "gc_us_per_rt": gc_delta(gc0, gc1, "seconds") * 1e6 / echoed
                if echoed and gc0 and gc1
                else None,
                "gc_collections": [b - a for a, b in zip(gc0["collections"], gc1["collections"], strict=True)]
                if gc0 and gc1
                else None,
                "gc_garbage": gc1.get("garbage_types") if gc1 else None,
                "gc_tracked_per_conn": (gc1["tracked"] - gc_idle["tracked"]) / opened
                if gc1 and gc_idle and opened
                else None,
                # the server's CPU over the measured phase's wall time: ~100% when it is the bottleneck
                # and has its core to itself; less when the client lags or other processes take its CPU
                "server_busy": (after.cpu - open_.cpu) / wall if wall > 0 else None,
                "loadavg": os.getloadavg()[0],
                "client_cpu_us_per_rt": sum(d["cpu"] for d in done) / echoed * 1e6 if echoed else None,
                "client_notes": [n for c in closed for n in c["notes"]][:5],
            }
        )
    except Exception as exc:  # one failed run is a result (errors), not the end of the series
        errors[f"run failed: {exc}"[:200]] += 1
        result.setdefault("missing", plan.conns * plan.rounds)
        result.setdefault("lost", 0)
    finally:
        for pipe in pipes:
            with contextlib.suppress(OSError):
                pipe.send("close")
        for proc in procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
        if spy is not None and spy.returncode is None:
            spy.kill()
            spy.wait(5)
        if srv is not None:
            stop_server(srv.process)
    log = srv.new_log() if srv is not None else ""
    bad = [line for line in log.splitlines() if "Traceback" in line or "ERROR" in line or "Error" in line]
    if bad:
        errors["server log: errors/tracebacks"] += len(bad)
        result["server_log"] = log[-2000:]
    result["errors"] = dict(errors)
    result["error_count"] = sum(errors.values())
    result["seconds"] = time.monotonic() - started
    return result


# --- Machine, build, snapshot ---------------------------------------------------------------------


def _sha1(path: Path) -> str | None:
    try:
        return hashlib.sha1(path.read_bytes()).hexdigest()
    except OSError:
        return None


def snapshot_ferrosocket(dest: Path, source: Path | None = None) -> dict[str, Any]:
    """Copy the installed ferrosocket (or the package directory ``source``: Python files and
    extension) into ``dest``; returns which build it is."""
    if source is None:
        spec = importlib.util.find_spec("ferrosocket")
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit("ferrosocket is not installed: run `make build-release` first")
        source = Path(next(iter(spec.submodule_search_locations)))
    shutil.copytree(source, dest / "ferrosocket", ignore=shutil.ignore_patterns("__pycache__"))
    extensions = list((dest / "ferrosocket").glob("_core*.so"))
    if len(extensions) != 1:
        raise SystemExit(f"expected one ferrosocket extension in {source}, found {len(extensions)}")
    digest = _sha1(extensions[0])
    profile = "unknown (matches neither target/release nor target/fast)"
    if digest == _sha1(ROOT / "target" / "release" / "libferrosocket.so"):
        profile = "release (fat LTO, codegen-units=1)"
    elif digest == _sha1(ROOT / "target" / "fast" / "libferrosocket.so"):
        profile = "fast (no LTO, codegen-units=16)"
    return {"package": str(source), "sha1": digest, "profile": profile}


def machine_info() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        git = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True, cwd=ROOT
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        git = "unknown"
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "kernel": platform.release(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "packages": versions,
        "git": git,
        "nofile": resource.getrlimit(resource.RLIMIT_NOFILE),
        "loadavg_start": os.getloadavg(),
    }


# --- Summary --------------------------------------------------------------------------------------


def median(values: Sequence[float | None]) -> float | None:
    clean = [v for v in values if v is not None]
    return statistics.median(clean) if clean else None


def summarise(runs: list[dict[str, Any]], quick: bool) -> list[dict[str, Any]]:
    """One group per (server, size): per-app medians, the paired differences and the targets."""
    groups: list[dict[str, Any]] = []
    keys = sorted(
        {(r["server"], r["conns"], r["rounds"]) for r in runs}, key=lambda k: (SERVERS.index(k[0]), k[1])
    )
    for server, conns, rounds in keys:
        mine = [r for r in runs if (r["server"], r["conns"], r["rounds"]) == (server, conns, rounds)]
        apps: dict[str, dict[str, Any]] = {}
        for app in ALL_APPS:
            rs = [r for r in mine if r["app"] == app]
            if not rs and app not in APPS:
                continue
            apps[app] = {
                "runs": len(rs),
                "cpu_us_per_rt": median([r.get("server_cpu_us_per_rt") for r in rs]),
                "cpu_all": [r.get("server_cpu_us_per_rt") for r in rs],
                "handshake_us_per_conn": median([r.get("handshake_cpu_us_per_conn") for r in rs]),
                "rss_kib_per_conn": median([r.get("rss_kib_per_conn") for r in rs]),
                "rss_all": [r.get("rss_kib_per_conn") for r in rs],
                "rss_idle_mib": median([r.get("rss_idle_mib") for r in rs]),
                "msgs_per_s": median([r.get("msgs_per_s") for r in rs]),
                "p50_ms": median([r.get("p50_ms") for r in rs]),
                "p99_ms": median([r.get("p99_ms") for r in rs]),
                "client_cpu_us_per_rt": median([r.get("client_cpu_us_per_rt") for r in rs]),
                "gc_us_per_rt": median([r.get("gc_us_per_rt") for r in rs]),
                "gc_tracked_per_conn": median([r.get("gc_tracked_per_conn") for r in rs]),
                "gc_collections": [r.get("gc_collections") for r in rs],
                "server_busy": median([r.get("server_busy") for r in rs]),
                "errors": sum(r["error_count"] for r in rs),
                "lost": sum(r.get("lost", 0) for r in rs),
                "missing": sum(r.get("missing", 0) for r in rs),
            }

        def paired(app: str, key: str, mine: list[dict[str, Any]] = mine) -> list[float]:
            by_rep: dict[int, dict[str, float]] = {}
            for r in mine:
                if r.get(key) is not None:
                    by_rep.setdefault(r["rep"], {})[r["app"]] = r[key]
            return [v[app] - v["raw"] for v in by_rep.values() if app in v and "raw" in v]

        cost_fs = paired("ferrosocket", "server_cpu_us_per_rt")
        cost_st = paired("starlette", "server_cpu_us_per_rt")
        rss_fs = paired("ferrosocket", "rss_kib_per_conn")
        extra = {app: median(paired(app, "server_cpu_us_per_rt")) for app in apps if app not in APPS}
        fs, st = median(cost_fs), median(cost_st)
        ratio = fs / st if fs is not None and st else None
        rss_diff = median(rss_fs)
        f = apps["ferrosocket"]
        targets = {
            "clean": {
                "met": f["runs"] > 0 and f["errors"] == 0 and f["lost"] == 0 and f["missing"] == 0,
                "value": f"{f['errors']} errors, {f['lost']} lost, {f['missing']} missing",
            },
            "wrapper_cost": {
                "met": None if quick or ratio is None else ratio <= WRAPPER_LIMIT,
                "ferrosocket_us": fs,
                "starlette_us": st,
                "ratio": ratio,
                "pairs_ferrosocket": cost_fs,
                "pairs_starlette": cost_st,
                "others_us": extra,
                "gc_ferrosocket_us": median(paired("ferrosocket", "gc_us_per_rt")),
                "gc_starlette_us": median(paired("starlette", "gc_us_per_rt")),
            },
            "rss": {
                "met": None if quick or rss_diff is None else rss_diff <= RSS_LIMIT_KIB,
                "diff_kib": rss_diff,
                "pairs": rss_fs,
            },
        }
        groups.append({"server": server, "conns": conns, "rounds": rounds, "apps": apps, "targets": targets})
    return groups


def fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def yes_no(met: bool | None) -> str:
    return "—" if met is None else ("**yes**" if met else "**NO**")


def span(values: list[float]) -> str:
    return f" ({min(values):.1f}…{max(values):.1f})" if len(values) > 1 else ""


def markdown_tables(groups: list[dict[str, Any]]) -> str:
    """Three tables: the figures the issue asks for, the targets, then details."""
    main = [
        "| server | C x M | app | runs | msgs/s | p50 ms | p99 ms | server CPU µs/round trip "
        "| RSS KiB/conn | errors | lost |",
        "| --- | --- | --- |" + " ---: |" * 8,
    ]
    details = [
        "| server | C x M | app | server CPU µs/rt, runs | of which GC µs/rt | GC collections (gen 0/1/2) "
        "| GC-tracked objects/conn | handshake CPU µs/conn | idle RSS MiB | server busy | client CPU µs/rt "
        "| missing round trips |",
        "| --- | --- | --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for g in groups:
        size = f"{g['conns']:,} x {g['rounds']}"
        for app in g["apps"]:
            a = g["apps"][app]
            cpus = [c for c in a["cpu_all"] if c is not None]
            main.append(
                f"| {g['server']} | {size} | {LABELS[app]} | {a['runs']} "
                f"| {fmt(a['msgs_per_s'], 0)} | {fmt(a['p50_ms'], 1)} | {fmt(a['p99_ms'], 1)} "
                f"| {fmt(a['cpu_us_per_rt'])} | {fmt(a['rss_kib_per_conn'], 2)} "
                f"| {a['errors']} | {a['lost']} |"
            )
            collections = "; ".join("/".join(str(n) for n in c) for c in a["gc_collections"] if c) or "—"
            details.append(
                f"| {g['server']} | {size} | {LABELS[app]} | {', '.join(f'{c:.1f}' for c in cpus) or '—'} "
                f"| {fmt(a['gc_us_per_rt'])} | {collections} | {fmt(a['gc_tracked_per_conn'])} "
                f"| {fmt(a['handshake_us_per_conn'], 0)} | {fmt(a['rss_idle_mib'])} "
                f"| {fmt((a['server_busy'] or 0) * 100, 0)}% | {fmt(a['client_cpu_us_per_rt'])} "
                f"| {a['missing']} |"
            )
    targets = [
        "| server | C x M | 0 errors, 0 lost (ferrosocket) | wrapper cost µs/rt: ferrosocket; Starlette "
        "(per repetition) | of which GC | ratio (≤ 0.2) | met | RSS/conn − raw's, KiB (≤ 1) | met |",
        "| --- | --- | --- | --- | --- | ---: | --- | ---: | --- |",
    ]
    for g in groups:
        t = g["targets"]
        w, r = t["wrapper_cost"], t["rss"]
        targets.append(
            f"| {g['server']} | {g['conns']:,} x {g['rounds']} "
            f"| {t['clean']['value']}: {yes_no(t['clean']['met'])} "
            f"| {fmt(w['ferrosocket_us'], 2)}{span(w['pairs_ferrosocket'])}; "
            f"{fmt(w['starlette_us'], 2)}{span(w['pairs_starlette'])} "
            f"| {fmt(w['gc_ferrosocket_us'], 2)}; {fmt(w['gc_starlette_us'], 2)} "
            f"| {fmt(w['ratio'], 2)} | {yes_no(w['met'])} | {fmt(r['diff_kib'], 2)} | {yes_no(r['met'])} |"
        )
    return "\n".join([*main, "", *targets, "", "Details:", "", *details])


def machine_lines(report: dict[str, Any]) -> list[str]:
    info = report["machine"]
    a = report["args"]
    pkgs = ", ".join(f"{k} {v}" for k, v in info["packages"].items())
    return [
        f"- date: {info['date']}; git {info['git']}; {len(report['runs'])} runs in {report['seconds']:.0f} s",
        f"- CPU: {info['cpu']}; {info['cores']} cores ({info['cores_usable']} usable); "
        f"Linux {info['kernel']}",
        f"- load average (1, 5, 15 min) at start {info['loadavg_start']}, at end {info['loadavg_end']}",
        f"- {info['python']}; packages: {pkgs}",
        f"- ferrosocket build: **{info['build']['profile']}**",
        f"- RLIMIT_NOFILE {info['nofile']}; client: {a['clients']} worker process(es), "
        f"{a['concurrency']} handshakes in flight per worker, {a['size']}-byte text messages; "
        + ("server pinned to CPU 0, client to the others" if a["pin"] else "no CPU pinning")
        + (f"; niceness {a['nice']:+d}" if a.get("nice") else ""),
    ]


def write_markdown(path: Path, report: dict[str, Any], tables: str) -> None:
    quick = report["quick"]
    parts = [
        "# ferrosocket load test" + (" (quick smoke run: the numbers mean nothing)" if quick else ""),
        "",
        "C connections x M echo round trips on loopback, a fresh server per run, runs alternating raw ASGI",
        "echo, Starlette, ferrosocket; medians over runs (each run's figures: the details table). Server CPU",
        "is the server process group's user+sys time during the measured phase only, per round trip; RSS",
        "per connection is (RSS with every connection open − RSS idle) / C. The wrapper's cost is server",
        "CPU per round trip minus the raw echo's, the median of the per-repetition differences. Method:",
        "the docstring of benches/load.py.",
        "",
        tables,
        "",
        "## Machine",
        "",
        *machine_lines(report),
    ]
    path.write_text("\n".join(parts) + "\n")


def write_chart(path: Path, report: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = report["groups"]
    names = [f"{g['server']}\n{g['conns']:,} x {g['rounds']}" for g in groups]
    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5))
    width = 0.27
    xs = range(len(groups))

    def bars(ax: Any, key: str, all_key: str | None, title: str, ylabel: str) -> None:
        for j, app in enumerate(APPS):
            values = [g["apps"][app][key] or 0.0 for g in groups]
            pos = [x + (j - 1) * width for x in xs]
            ax.bar(pos, values, width * 0.92, color=COLORS[app], label=LABELS[app])
            for p, v in zip(pos, values, strict=True):
                ax.text(
                    p, v, f"{v:.1f}" if v < 1000 else f"{v / 1000:.1f}k", ha="center", va="bottom", fontsize=7
                )
            if all_key:
                for p, g in zip(pos, groups, strict=True):
                    points = [v for v in g["apps"][app][all_key] if v is not None]
                    ax.plot([p] * len(points), points, "k.", markersize=3)
        ax.set_xticks(list(xs), names, fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(ylabel, fontsize=8)

    bars(axes[0][0], "cpu_us_per_rt", "cpu_all", "server CPU per round trip (dots: runs)", "µs")
    axes[0][0].legend(fontsize=8, loc="lower right")
    bars(axes[1][0], "rss_kib_per_conn", "rss_all", "server RSS per connection (dots: runs)", "KiB")
    bars(
        axes[1][1],
        "msgs_per_s",
        None,
        "round trips per second (client-bound where client CPU ≥ server's)",
        "msgs/s",
    )

    ax = axes[0][1]
    for j, (app, key) in enumerate((("starlette", "starlette_us"), ("ferrosocket", "ferrosocket_us"))):
        values = [g["targets"]["wrapper_cost"][key] or 0.0 for g in groups]
        pos = [x + (j - 0.5) * width for x in xs]
        ax.bar(pos, values, width * 0.92, color=COLORS[app], label=LABELS[app])
        for p, v, g in zip(pos, values, groups, strict=True):
            ax.text(p, v, f"{v:.2f}", ha="center", va="bottom" if v >= 0 else "top", fontsize=7)
            pairs = g["targets"]["wrapper_cost"][f"pairs_{app}"]
            ax.plot([p] * len(pairs), pairs, "k.", markersize=3)
    for x, g in zip(xs, groups, strict=True):
        st = g["targets"]["wrapper_cost"]["starlette_us"]
        if st:
            ax.plot([x - width, x + width], [st * WRAPPER_LIMIT] * 2, color="black", linewidth=1.2)
    ax.axhline(0, color="#666666", linewidth=0.6)
    ax.set_xticks(list(xs), names, fontsize=8)
    ax.set_title(
        "wrapper cost: server CPU/rt − raw echo's (dots: repetitions; line: target, Starlette's / 5)",
        fontsize=9,
    )
    ax.set_ylabel("µs", fontsize=8)
    ax.legend(fontsize=8)

    info = report["machine"]
    build = info["build"]["profile"].split(" (")[0]
    fig.suptitle(
        f"ferrosocket load test — {info['cpu']}, {info['cores']} cores; {info['python']}; "
        f"ferrosocket {build} build; "
        f"{info['date'][:10]}" + ("; QUICK: not a measurement" if report["quick"] else ""),
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# --- Main -----------------------------------------------------------------------------------------


def parse_size(text: str) -> tuple[int, int]:
    conns, _, rounds = text.lower().partition("x")
    return int(conns.replace(",", "").replace("_", "")), int(rounds)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="CI smoke run: 50x10, 1 repetition")
    parser.add_argument("--sizes", default=None, help="comma-separated CxM (default 1000x100,10000x10)")
    parser.add_argument("--servers", default=",".join(SERVERS), help="comma-separated: uvicorn,granian")
    parser.add_argument(
        "--apps", default=",".join(APPS), help="comma-separated, of raw,starlette,ferrosocket,lean"
    )
    parser.add_argument("--reps", type=int, default=None, help="repetitions of each triplet (default 2)")
    parser.add_argument("--size", type=int, default=32, help="text message size in bytes (default 32)")
    parser.add_argument("--clients", type=int, default=1, help="client worker processes (default 1)")
    parser.add_argument("--concurrency", type=int, default=100, help="handshakes in flight per worker")
    parser.add_argument(
        "--no-pin", dest="pin", action="store_false", help="do not pin server and client to CPUs"
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="niceness for server and client (and their autogroups), e.g. -10 as root, so that other "
        "work on the machine disturbs the measurement less",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="attach py-spy to each server during its measured phase; write collapsed stacks and a "
        "summary per run into this directory (the CPU figures then include py-spy's disturbance)",
    )
    parser.add_argument("--native", action="store_true", help="with --profile: py-spy --native")
    parser.add_argument(
        "--gc-garbage",
        action="store_true",
        help="diagnostic: the servers keep their cyclic garbage (gc.DEBUG_SAVEALL) and the JSON names its "
        "types per run (memory grows: not for measurements)",
    )
    parser.add_argument(
        "--aslr",
        action="store_true",
        help="leave address space randomisation on for the servers (default: off, as setarch -R)",
    )
    parser.add_argument(
        "--hash-seed",
        type=int,
        help="PYTHONHASHSEED of every server (default: a random one per repetition, shared by its three "
        "runs: dict lookups cost more or less depending on it)",
    )
    parser.add_argument(
        "--phase-timeout", type=float, default=180.0, help="seconds any phase of a run may take"
    )
    parser.add_argument(
        "--budget", type=float, default=3600.0, help="no new run starts after this many seconds"
    )
    parser.add_argument(
        "--out", type=Path, default=HERE / "results", help="where to write load.{md,json,png}"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is not met")
    parser.add_argument(
        "--package", type=Path, help="measure this ferrosocket package directory (default: the installed one)"
    )
    parser.add_argument(
        "--replot",
        type=Path,
        help="only re-write the .md and .png of this load.json (e.g. after a change here)",
    )
    args = parser.parse_args()
    if args.replot:
        report = json.loads(args.replot.read_text())
        report["groups"] = summarise(report["runs"], report["quick"])
        stem = args.replot.with_suffix("")
        write_markdown(stem.with_suffix(".md"), report, markdown_tables(report["groups"]))
        write_chart(stem.with_suffix(".png"), report)
        print(f"wrote {stem}.md, {stem}.png")
        return 0
    sizes = [
        parse_size(s) for s in (args.sizes or ("50x10" if args.quick else "1000x100,10000x10")).split(",")
    ]
    reps = args.reps or (1 if args.quick else 2)
    servers = [s for s in args.servers.split(",") if s]
    apps = [a for a in args.apps.split(",") if a]
    for s in servers:
        if s not in SERVERS:
            parser.error(f"unknown server {s!r}")
    for a in apps:
        if a not in ALL_APPS:
            parser.error(f"unknown app {a!r}")
    if len(os.sched_getaffinity(0)) < 2:
        args.pin = False

    # SIGTERM as Ctrl-C: the finally blocks stop the servers and clients this run started
    signal.signal(signal.SIGTERM, lambda _sig, _frame: sys.exit(143))
    nofile = raise_nofile()
    need = max(c for c, _ in sizes) + 256
    if nofile < need:
        print(f"warning: RLIMIT_NOFILE is {nofile} (hard limit): fewer than the {need} descriptors needed")
    info = machine_info()
    seeds = [
        args.hash_seed if args.hash_seed is not None else random.randrange(1, 2**32) for _ in range(reps)
    ]
    plans = [
        Plan(server, app, conns, rounds, rep, seeds[rep])
        for rep in range(reps)
        for server in servers
        for conns, rounds in sizes
        for app in apps
    ]
    runs: list[dict[str, Any]] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ferro-load-") as tmp_name:
        tmp = Path(tmp_name)
        snapshot = tmp / "site"
        info["build"] = snapshot_ferrosocket(snapshot, args.package)
        print(f"ferrosocket build: {info['build']['profile']}; copied from {info['build']['package']}")
        shown = ", ".join(f"{c}x{m}" for c, m in sizes)
        print(f"{len(plans)} runs: {shown}; {reps} repetition(s); {', '.join(servers)}")
        for i, plan in enumerate(plans):
            if time.monotonic() - started > args.budget:
                print(f"budget of {args.budget:.0f} s spent: {len(plans) - i} runs not started")
                break
            r = run_once(plan, args, tmp, snapshot)
            runs.append(r)
            print(
                f"  [{i + 1:>2}/{len(plans)}] {plan.server:<8} {plan.conns:>6}x{plan.rounds:<4} "
                f"{plan.app:<12} cpu/rt {fmt(r.get('server_cpu_us_per_rt')):>6} µs  "
                f"rss/conn {fmt(r.get('rss_kib_per_conn'), 2):>6} KiB"
                f"  {fmt(r.get('msgs_per_s'), 0):>7} msg/s  p99 {fmt(r.get('p99_ms'), 1):>6} ms"
                f"  client {fmt(r.get('client_cpu_us_per_rt')):>5} µs/rt"
                f"  busy {fmt((r.get('server_busy') or 0) * 100, 0):>3}%"
                f"  gc {fmt(r.get('gc_us_per_rt')):>5} µs/rt"
                f"  err {r['error_count']} lost {r.get('lost')} missing {r.get('missing')}"
                f"  ({r['seconds']:.1f} s)",
                flush=True,
            )
            if r["errors"]:
                print(f"      errors: {r['errors']}")
                if r.get("server_log"):
                    print(
                        "      server log (end):\n"
                        + "\n".join("        " + x for x in r["server_log"].splitlines()[-15:])
                    )
    info["loadavg_end"] = os.getloadavg()
    groups = summarise(runs, args.quick)
    report = {
        "quick": args.quick,
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "machine": info,
        "seconds": time.monotonic() - started,
        "groups": groups,
        "runs": runs,
    }
    tables = markdown_tables(groups)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "load-quick" if args.quick else "load"
    (args.out / f"{stem}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    write_markdown(args.out / f"{stem}.md", report, tables)
    write_chart(args.out / f"{stem}.png", report)
    print()
    print(tables)
    print()
    print("\n".join(machine_lines(report)))
    print(f"\nwrote {', '.join(str(args.out / f'{stem}.{e}') for e in ('md', 'json', 'png'))}")
    unmet = [
        f"{g['server']} {g['conns']}x{g['rounds']} {name}"
        for g in groups
        for name, t in g["targets"].items()
        if t["met"] is False
    ]
    if unmet:
        print("targets not met: " + "; ".join(unmet))
    return 1 if args.check and unmet else 0


if __name__ == "__main__":
    raise SystemExit(main())
