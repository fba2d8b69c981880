"""The load test's client: asyncio protocols in worker processes, and a blocking warm-up session.

Each worker (``client_worker``, a spawned process) opens its share of the connections, at most
``concurrency`` handshakes at once, then on command runs the measured phase (every connection does
its round trips one after another, each echo checked) and the close handshakes, and reports back
through its pipe. Frames are written and parsed here (RFC 6455, client side): no WebSocket library
between the measurement and the socket.

What a connection sends and what the reply must be is the worker's ``messages`` (``TextEcho`` here:
unique text echoed back); the gateway benchmark (benches/gateway/) brings its own (JSON echoes, a
publisher), its own connection classes (``conn_class``) and request path, and no warm-up round trip
where it has none (``warm_rounds``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import socket
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from .workers import cpu_self, worker_main

HOST = "127.0.0.1"  # where the servers listen (server_processes.HOST)
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

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


def upgrade_request(port: int, key: bytes, path: str = "/echo") -> bytes:
    return (
        b"GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
        % (path.encode(), HOST.encode(), port, key)
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


class Messages(Protocol):
    """What a connection sends, and how its reply is checked."""

    def make(self, conn: int, seq: int) -> tuple[bytes, Any]:
        """The text payload to send and what ``matches`` needs to check its reply (not None)."""
        ...

    def matches(self, reply: bytes, expected: Any) -> bool: ...


@dataclass
class TextEcho:
    """Unique text of ``size`` bytes, echoed back as it was sent."""

    size: int

    def make(self, conn: int, seq: int) -> tuple[bytes, Any]:
        payload = payload_for(conn, seq, self.size)
        return payload, payload

    def matches(self, reply: bytes, expected: Any) -> bool:
        return bool(reply == expected)


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
        transport.write(self.request())

    def request(self) -> bytes:
        """The upgrade request."""
        return upgrade_request(self.w.port, self.key, self.w.path)

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
            if self.expected is None:
                self.drop("unexpected message")
                return
            if not self.w.messages.matches(payload, self.expected):
                self.drop("reply differs from the one expected")
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
        payload, self.expected = self.w.messages.make(self.idx, self.seq)
        frame = client_frame(0x1, payload, self.mask)
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
    messages: Messages
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
    path: str = "/echo"
    conn_class: type[Conn] = Conn
    warm_rounds: int = 1  # round trips each connection makes once open, before it counts as open

    async def open_one(self, idx: int, gate: asyncio.Semaphore) -> Conn | None:
        """Open connection ``idx`` and make its warm-up round trips; kept in ``conns`` while it stays
        open. Returns it, or None when that failed (the error counted)."""
        loop = asyncio.get_running_loop()
        async with gate:
            conn = self.conn_class(self, idx)
            try:
                await asyncio.wait_for(loop.create_connection(lambda: conn, HOST, self.port), self.timeout)
            except (OSError, TimeoutError) as exc:
                self.errors[f"connect: {type(exc).__name__}"] += 1
                return None
            try:
                ok = await asyncio.wait_for(asyncio.shield(conn.opened), self.timeout)
            except TimeoutError:
                conn.drop("handshake timeout")
                return None
            if not ok:
                return None
            if self.warm_rounds:
                warm: asyncio.Future[None] = loop.create_future()
                conn.start(
                    self.warm_rounds, False, lambda _conn: None if warm.done() else warm.set_result(None)
                )
                try:
                    await asyncio.wait_for(warm, self.timeout)
                except TimeoutError:
                    conn.drop("warm-up round trip timeout")
                    return None
                if conn.remaining:
                    return None  # dropped on the way
            if conn.state == OPEN:
                self.conns.append(conn)
            return conn

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


async def _worker_async(pipe: Any, cfg: dict[str, Any], commands: asyncio.Queue[Any]) -> None:
    messages = TextEcho(cfg["size"])
    w = Worker(cfg["port"], messages, cfg["first"], cfg["count"], cfg["concurrency"], cfg["timeout"])
    cpu0 = cpu_self()
    started = time.monotonic()
    await w.open_all()
    ready = {"opened": len(w.conns), "seconds": time.monotonic() - started, "cpu": cpu_self() - cpu0}
    pipe.send(("ready", ready))
    command = await asyncio.wait_for(commands.get(), cfg["command_timeout"])
    if command == "go":
        sent0, echoed0 = w.sent, w.echoed
        cpu0 = cpu_self()
        start, end = await w.measure(cfg["rounds"])
        done = {
            "start": start,
            "end": end,
            "sent": w.sent - sent0,
            "echoed": w.echoed - echoed0,
            "cpu": cpu_self() - cpu0,
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
    worker_main(pipe, cfg, _worker_async)


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
