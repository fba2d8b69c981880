"""Channels across real worker processes: examples/cluster_chat.py under uvicorn with 2 and 4
workers and granian with 2, one real redis-server, real ``websockets`` clients.

Clients connect until every worker holds members (each welcome names its worker). Three of them,
on different workers where possible, then send messages: every member, on every worker, gets
every message once, all members in the same order (the stream's), each sender's messages in the
order it sent them. Some members vanish mid-stream (no close frame): the others are unaffected.
The server logs no error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e.server_processes import has_exited, http_get, stop
from redis_server import HOST, RedisServer, free_port, redis_server  # noqa: F401 (a fixture)
from websockets.asyncio.client import ClientConnection, connect


def answers_http(port: int) -> bool:
    """True once the app answers ``GET /`` with 200 "ok" (the server is up and the app imported)."""
    return http_get(port, "/") == (200, b"ok")


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
STEP = 15.0  # seconds for one step
MAX_CLIENTS = 64  # connections opened, at most, to reach every worker
PER_SENDER = 15


def server_argv(name: str, workers: int, port: int) -> list[str]:
    if name == "uvicorn":
        argv = [sys.executable, "-m", "uvicorn", "--host", HOST, "--port", str(port)]
        return [*argv, "--workers", str(workers), "--log-level", "warning", "cluster_chat:app"]
    argv = [sys.executable, "-m", "granian", "--interface", "asgi", "--host", HOST, "--port", str(port)]
    return [*argv, "--workers", str(workers), "--log-level", "warning", "cluster_chat:app"]


@contextlib.contextmanager
def serve(name: str, workers: int, redis_url: str, log_path: Path) -> Iterator[int]:
    port = free_port()
    path = os.pathsep.join(filter(None, [str(EXAMPLES), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, REDIS_URL=redis_url, PYTHONUNBUFFERED="1", PYTHONPATH=path)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            server_argv(name, workers, port),
            cwd=EXAMPLES,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while not has_exited(process) and not answers_http(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        if has_exited(process) or not answers_http(port):
            pytest.fail(f"{name} did not start:\n{log_path.read_text(errors='replace')}")
        yield port
    finally:
        stop(process)


async def welcome(ws: ClientConnection) -> int:
    async with asyncio.timeout(STEP):
        message = json.loads(await ws.recv())
    assert message["event"] == "welcome", message
    return int(message["worker"])


async def connect_everywhere(port: int, workers: int) -> list[tuple[ClientConnection, int]]:
    """Opens connections, a few at a time, until every worker holds some (at least 8 in all).

    The server answered once one worker did: the others may still be starting (4 workers
    importing on 2 busy CPUs), and the kernel hands every connection to the workers already
    accepting. So at MAX_CLIENTS open, the surplus on the workers reached (all but 4 each) is
    closed and the search goes on, until STEP * 2 seconds have passed."""
    clients: list[tuple[ClientConnection, int]] = []
    url = f"ws://{HOST}:{port}/rooms/lobby"
    deadline = time.monotonic() + STEP * 2
    opened_so_far = 0
    while len({worker for _, worker in clients}) < workers or len(clients) < 8:
        if len(clients) >= MAX_CLIENTS:
            seen = sorted({worker for _, worker in clients})
            if time.monotonic() > deadline:
                pytest.fail(f"{opened_so_far} connections reached only workers {seen} of {workers}")
            kept: list[tuple[ClientConnection, int]] = []
            for ws, worker in clients:
                if sum(1 for _, w in kept if w == worker) < 4:
                    kept.append((ws, worker))
                else:
                    await ws.close()
            clients = kept
            await asyncio.sleep(0.25)
        batch = [connect(f"{url}?name=m{opened_so_far + i}", open_timeout=STEP) for i in range(8)]
        opened = await asyncio.gather(*batch)
        opened_so_far += len(opened)
        clients += [(ws, await welcome(ws)) for ws in opened]
    return clients


def pick_senders(clients: list[tuple[ClientConnection, int]]) -> list[int]:
    """Three client indexes, on as many different workers as possible."""
    picked: list[int] = []
    for i, (_, worker) in enumerate(clients):
        if worker not in {clients[j][1] for j in picked}:
            picked.append(i)
    for i in range(len(clients)):
        if len(picked) >= 3:
            break
        if i not in picked:
            picked.append(i)
    return picked[:3]


async def conversation(port: int, workers: int) -> None:
    clients = await connect_everywhere(port, workers)
    senders = pick_senders(clients)
    vanishing = [i for i in range(len(clients)) if i not in senders][:2]
    received: dict[int, list[Any]] = {i: [] for i in range(len(clients))}
    total = PER_SENDER * len(senders)

    async def read(i: int, ws: ClientConnection) -> None:
        while len(received[i]) < total:
            async with asyncio.timeout(STEP):
                received[i].append(json.loads(await ws.recv()))
            if i in vanishing and len(received[i]) == 5:
                ws.transport.abort()  # gone mid-stream, no close frame
                return

    readers = [asyncio.create_task(read(i, ws)) for i, (ws, _) in enumerate(clients)]
    for n in range(PER_SENDER):
        for s in senders:
            await clients[s][0].send(f"{s}:{n}")
    await asyncio.gather(*readers)

    reference = [(m["name"], m["text"], m["worker"]) for m in received[senders[0]]]
    assert len(reference) == total
    for i, messages in received.items():
        got = [(m["name"], m["text"], m["worker"]) for m in messages]
        if i in vanishing:
            assert got == reference[:5]
        else:
            assert got == reference, f"client {i} on worker {clients[i][1]}"
    for s in senders:  # each sender's messages in its order, tagged by its own worker
        mine = [text for _, text, worker in reference if text.startswith(f"{s}:")]
        assert mine == [f"{s}:{n}" for n in range(PER_SENDER)]
        assert {worker for _, text, worker in reference if text.startswith(f"{s}:")} == {clients[s][1]}
    assert len({worker for _, worker in clients}) == workers
    for i, (ws, _) in enumerate(clients):
        if i not in vanishing:
            await ws.close()


@pytest.mark.parametrize(("name", "workers"), [("uvicorn", 2), ("uvicorn", 4), ("granian", 2)])
def test_every_member_on_every_worker_gets_every_message_once_in_order(
    name: str,
    workers: int,
    redis_server: RedisServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    log_path = tmp_path / f"{name}.log"

    async def bounded(port: int) -> None:
        async with asyncio.timeout(120):
            await conversation(port, workers)

    with serve(name, workers, redis_server.url, log_path) as port:
        asyncio.run(bounded(port))
    log = log_path.read_text(errors="replace")
    assert "Traceback" not in log and "ERROR" not in log, log
