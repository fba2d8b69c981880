"""The gateway benchmark's client worker: its share of every app's connections, and the bursts.

A worker process (``gateway_worker``, spawned pinned to the client CPUs) opens, for every app
server of one server kind, its share of the JSON connections (``/json``, one checked round trip
each) and of the fan-out's subscribers (``/subscribe``, registered before they count as open);
worker 0 also opens each app's one publisher (``/publish``). Then it runs bursts on command and
answers each with the units it completed and checked, its errors and its own CPU time:

    ("json", app, workload, rounds)      every JSON connection of ``app`` makes ``rounds`` round
                                         trips one after another, all connections at once; each
                                         echo decoded and compared with what was sent
    ("handshake", app, first, count)     ``count`` new browser-like connections (visitors
                                         ``first``...), at most ``concurrency`` at once: upgrade,
                                         one message each way (the answer checked), the app's
                                         close answered
    ("fanout", app, mode, final)         the publisher (worker 0) publishes until message number
                                         ``final``, one at a time (the next after the app's
                                         acknowledgement, which says how many subscribers it
                                         reached); every worker waits until each of its
                                         subscribers has received every message up to ``final``,
                                         in order, each one checked
    "close"                              every connection's close handshake

The connections, frames and checks are the load test's (benches/loadtest/clients.py); what is
sent and what the answer must be are the strategies below.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import orjson
from loadtest.clients import CLOSED, HOST, OPEN, Conn, Worker, client_frame
from loadtest.workers import cpu_self, worker_main

from gateway.workloads import (
    FANOUT_BODY,
    HANDSHAKE_PATH,
    JSON_BODIES,
    browser_upgrade,
    expected_reply,
    visitor,
)

# --- what is sent, and what the answer must be


class JsonEcho:
    """``{"seq": N, "conn": I, "body": BODY}``: the echo must decode to the same."""

    def __init__(self, body: Any) -> None:
        self.body = body
        self.text = orjson.dumps(body)

    def make(self, conn: int, seq: int) -> tuple[bytes, Any]:
        return b'{"seq":%d,"conn":%d,"body":%s}' % (seq, conn, self.text), (seq, conn)

    def matches(self, reply: bytes, expected: Any) -> bool:
        try:
            got = orjson.loads(reply)
            return (got["seq"], got["conn"]) == expected and bool(got["body"] == self.body)
        except (orjson.JSONDecodeError, TypeError, KeyError):
            return False


class Handshakes:
    """Visitor ``conn``'s message; the answer: what the app read from its upgrade, then the message."""

    def __init__(self, salt: str) -> None:
        self.salt = salt

    def make(self, conn: int, seq: int) -> tuple[bytes, Any]:
        guest = visitor(conn, self.salt)
        return guest.message.encode(), expected_reply(guest, HOST).encode()

    def matches(self, reply: bytes, expected: Any) -> bool:
        return bool(reply == expected)


class Publish:
    """``"MODE SEQ"``; the acknowledgement ``"SEQ:COUNT"`` must count every subscriber."""

    def __init__(self, subscribers: int) -> None:
        self.subscribers = subscribers
        self.mode = b"loop"

    def make(self, conn: int, seq: int) -> tuple[bytes, Any]:
        return b"%s %d" % (self.mode, seq), b"%d:%d" % (seq, self.subscribers)

    def matches(self, reply: bytes, expected: Any) -> bool:
        return bool(reply == expected)


class Feed:
    """A subscriber's registration (a round trip), then the fan-out's messages: each one is decoded
    once (the same text reaches every subscriber) and must carry FANOUT_BODY; ``final`` and
    ``pending`` say when a burst has reached every subscriber."""

    def __init__(self) -> None:
        self.seqs: dict[bytes, int] = {}
        self.final = 0
        self.pending = 0
        self.waiter: asyncio.Future[None] | None = None

    def make(self, conn: int, seq: int) -> tuple[bytes, Any]:
        return b"subscribe", b"subscribed"

    def matches(self, reply: bytes, expected: Any) -> bool:
        return bool(reply == expected)

    def seq_of(self, payload: bytes) -> int:
        """The message's number, or -1 if it is not a fan-out message with the right body."""
        seq = self.seqs.get(payload)
        if seq is None:
            try:
                got = orjson.loads(payload)
                seq = got["seq"] if got["body"] == FANOUT_BODY and type(got["seq"]) is int else -1
            except (orjson.JSONDecodeError, TypeError, KeyError):
                seq = -1
            if len(self.seqs) > 64:
                self.seqs.clear()
            self.seqs[payload] = seq
        return seq

    def reached(self) -> None:
        """One more subscriber has everything up to ``final`` (or has gone)."""
        self.pending -= 1
        if self.pending == 0 and self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


# --- the connections that differ from the load test's echo


class HandshakeConn(Conn):
    """A browser-like upgrade; after the app's answer, the app closes and this answers the close."""

    def request(self) -> bytes:
        assert isinstance(self.w.messages, Handshakes)
        return browser_upgrade(HOST, self.w.port, self.key, visitor(self.idx, self.w.messages.salt))

    def on_frame(self, b0: int, payload: bytes) -> None:
        if b0 & 0x0F == 8 and self.state == OPEN and self.seq == 1 and self.expected is None:
            self.write(client_frame(0x8, payload[:2], self.mask))
            self.clean = True
            self.state = CLOSED
            if self.transport is not None:
                self.transport.close()
            return
        super().on_frame(b0, payload)


class Subscriber(Conn):
    """Registers (one round trip), then receives the fan-out's messages, checking each."""

    last = 0  # the number of the last message received: they must come 1, 2, 3, ...
    counted = 0  # ``last`` when the previous burst was reported

    def on_frame(self, b0: int, payload: bytes) -> None:
        if b0 == 0x81 and self.expected is None and self.state == OPEN:
            feed = self.w.messages
            assert isinstance(feed, Feed)
            if feed.seq_of(payload) != self.last + 1:
                self.drop("fan-out: a message missing, repeated or not the one sent")
                return
            self.last += 1
            if self.last == feed.final:
                feed.reached()
            return
        super().on_frame(b0, payload)

    def drop(self, why: str, abort: bool = True) -> None:
        feed = self.w.messages
        waited = self.state != CLOSED and isinstance(feed, Feed) and self.last < feed.final
        super().drop(why, abort)
        if waited:
            assert isinstance(feed, Feed)
            feed.reached()  # nothing more will come: do not wait for it


# --- the worker


class App:
    """One app server's connections in this worker."""

    def __init__(self, port: int, cfg: dict[str, Any]) -> None:
        timeout, concurrency = cfg["timeout"], cfg["concurrency"]
        first = cfg["first"]
        self.port = port
        self.timeout = timeout
        self.concurrency = concurrency
        self.echo = Worker(
            port,
            JsonEcho(JSON_BODIES["json1k"]),
            first,
            cfg["connections"],
            concurrency,
            timeout,
            path="/json",
        )
        self.feed = Feed()
        self.subscribers = Worker(
            port,
            self.feed,
            first,
            cfg["subscribers"],
            concurrency,
            timeout,
            path="/subscribe",
            conn_class=Subscriber,
        )
        self.publisher = Publish(cfg["total_subscribers"])
        self.publishers = Worker(
            port, self.publisher, 0, 1 if cfg["publisher"] else 0, 1, timeout, path="/publish", warm_rounds=0
        )
        self.workers = [self.echo, self.subscribers, self.publishers]

    async def open(self) -> None:
        await asyncio.gather(self.echo.open_all(), self.subscribers.open_all())
        await self.publishers.open_all()  # every subscriber registered first

    def errors(self) -> Counter[str]:
        return sum((w.errors for w in self.workers), Counter())

    async def json(self, body: Any, rounds: int) -> int:
        self.echo.messages = JsonEcho(body)
        echoed = self.echo.echoed
        await self.echo.measure(rounds)
        return self.echo.echoed - echoed

    async def handshakes(self, first: int, count: int, salt: str) -> tuple[int, Counter[str]]:
        visitors = Worker(
            self.port,
            Handshakes(salt),
            first,
            count,
            self.concurrency,
            self.timeout,
            path=HANDSHAKE_PATH,
            conn_class=HandshakeConn,
        )
        gate = asyncio.Semaphore(self.concurrency)

        async def visit(n: int) -> bool:
            conn = await visitors.open_one(n, gate)
            if conn is None:
                return False
            try:
                return await asyncio.wait_for(asyncio.shield(conn.closed), self.timeout)
            except TimeoutError:
                conn.drop("handshake: the app did not close")
                return False

        done = await asyncio.gather(*(visit(first + i) for i in range(count)))
        return sum(done), visitors.errors

    async def fan_out(self, mode: str, final: int) -> int:
        subscribers = [c for c in self.subscribers.conns if c.state == OPEN and isinstance(c, Subscriber)]
        before = sum(c.last for c in subscribers)
        feed = self.feed
        feed.final = final
        feed.pending = sum(1 for c in subscribers if c.last < final)
        feed.waiter = asyncio.get_running_loop().create_future()
        if not feed.pending:
            feed.waiter.set_result(None)
        for publisher in self.publishers.conns:
            self.publisher.mode = mode.encode()
            await self.publishers.measure(final - publisher.seq)
        try:
            await asyncio.wait_for(asyncio.shield(feed.waiter), self.timeout)
        except TimeoutError:
            for c in subscribers:
                if c.last < final:
                    c.drop("fan-out: messages still missing at the end of the burst")
        return sum(c.last for c in subscribers) - before


async def _serve(pipe: Any, cfg: dict[str, Any], commands: asyncio.Queue[Any]) -> None:
    started = time.monotonic()
    apps = {name: App(port, cfg) for name, port in cfg["ports"].items()}
    for app in apps.values():
        await app.open()
    opened = {
        name: {
            "json": len(a.echo.conns),
            "subscribers": len(a.subscribers.conns),
            "publisher": len(a.publishers.conns),
        }
        for name, a in apps.items()
    }
    errors = sum((a.errors() for a in apps.values()), Counter())
    pipe.send(("ready", {"opened": opened, "errors": dict(errors), "seconds": time.monotonic() - started}))
    while True:
        command = await asyncio.wait_for(commands.get(), cfg["command_timeout"])
        if command in ("close", "abort"):
            break
        kind, name, *params = command
        app = apps[name]
        errors_before = app.errors()
        cpu0 = cpu_self()
        extra: Counter[str] = Counter()
        if kind == "json":
            units = await app.json(JSON_BODIES[params[0]], params[1])
        elif kind == "handshake":
            units, extra = await app.handshakes(params[0], params[1], cfg["salt"])
        elif kind == "fanout":
            units = await app.fan_out(params[0], params[1])
        else:
            raise ValueError(f"unknown command {command!r}")
        errors = app.errors() - errors_before + extra
        pipe.send(("done", {"units": units, "errors": dict(errors), "cpu": cpu_self() - cpu0}))
    closing = clean = 0
    for app in apps.values():
        for worker in app.workers:
            n, c = await worker.close_all()
            closing, clean = closing + n, clean + c
    errors = sum((a.errors() for a in apps.values()), Counter())
    pipe.send(("closed", {"closing": closing, "clean": clean, "errors": dict(errors)}))


def gateway_worker(pipe: Any, cfg: dict[str, Any]) -> None:
    """Entry point of a client worker process (multiprocessing, spawn)."""
    worker_main(pipe, cfg, _serve)
