"""A two-worker chat cluster on one Redis, with a handful of real clients: prints a transcript.

    make demo-cluster        (builds ferrosocket into .venv first)
    .venv/bin/python examples/demo_cluster.py

Starts redis-server (127.0.0.1, a free port, no persistence, a temporary directory) and uvicorn
with two workers serving examples/cluster_chat.py, connects clients until both workers hold some,
has one client on each worker send a message, and checks that every client, on either worker,
got both. Exits 0 when all is well, 1 otherwise; everything it started is stopped. Needs the
redis-server binary (Debian: apt-get install redis-server).
"""

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
STEP = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.05)


def answers(port: int, request: bytes, expect: bytes) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1) as sock:
            sock.sendall(request)
            return expect in sock.recv(256)
    except OSError:
        return False


async def recv(ws: ClientConnection) -> dict[str, object]:
    async with asyncio.timeout(STEP):
        message: dict[str, object] = json.loads(await ws.recv())
        return message


async def conversation(port: int) -> bool:
    clients: list[tuple[str, ClientConnection, object]] = []
    held: dict[object, int] = {}  # clients kept per worker
    # Until both workers hold a client (the second may still be starting when the first answers):
    # a connection to a worker that already holds two is closed, and the next is made a moment later.
    deadline = time.monotonic() + 30
    while len(held) < 2 or len(clients) < 4:
        if time.monotonic() > deadline:
            print(f"could not reach both workers in 30 s (workers reached: {sorted(map(str, held))})")
            return False
        name = f"client{len(clients) + 1}"
        ws = await connect(f"ws://{HOST}:{port}/rooms/lobby?name={name}", open_timeout=STEP)
        worker = (await recv(ws))["worker"]
        if len(held) < 2 and held.get(worker, 0) >= 2:
            await ws.close()
            await asyncio.sleep(0.1)
            continue
        print(f"{name} connected to worker {worker}")
        held[worker] = held.get(worker, 0) + 1
        clients.append((name, ws, worker))
    senders: dict[object, tuple[str, ClientConnection]] = {}
    for name, ws, worker in clients:
        senders.setdefault(worker, (name, ws))  # one client on each worker
    sent = []
    for worker, (name, ws) in senders.items():
        text = f"hello from {name}, whose connection is on worker {worker}"
        print(f"{name} sends: {text!r}")
        await ws.send(text)
        sent.append(text)
    ok = True
    for name, ws, worker in clients:
        got: list[str] = []
        for _ in sent:
            event = await recv(ws)
            got.append(str(event["text"]))
            print(f"  {name} (worker {worker}) got {event['text']!r}, published by worker {event['worker']}")
        if sorted(got) != sorted(sent):
            print(f"  {name} missed a message: {got}")
            ok = False
    for _, ws, _ in clients:
        await ws.close()
    return ok


def main() -> int:
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        print("redis-server is not installed (Debian: apt-get install redis-server)")
        return 1
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as directory:
        try:
            redis_port, app_port = free_port(), free_port()
            argv = [redis_server, "--bind", HOST, "--port", str(redis_port)]
            argv += ["--save", "", "--appendonly", "no", "--dir", directory]
            argv += ["--logfile", str(Path(directory) / "redis.log")]
            processes.append(subprocess.Popen(argv, start_new_session=True))
            wait_for(lambda: answers(redis_port, b"PING\r\n", b"+PONG"), "redis-server")
            print(f"redis-server on {HOST}:{redis_port}")
            env = dict(os.environ, REDIS_URL=f"redis://{HOST}:{redis_port}/0")
            argv = [sys.executable, "-m", "uvicorn", "--app-dir", str(HERE), "--host", HOST]
            argv += ["--port", str(app_port), "--workers", "2", "--log-level", "warning", "cluster_chat:app"]
            processes.append(subprocess.Popen(argv, env=env, start_new_session=True))
            wait_for(lambda: answers(app_port, b"GET / HTTP/1.0\r\n\r\n", b"ok"), "uvicorn")
            print(f"uvicorn, 2 workers, on {HOST}:{app_port}")

            async def bounded() -> bool:
                async with asyncio.timeout(60):
                    return await conversation(app_port)

            ok = asyncio.run(bounded())
        except Exception as error:
            print(f"FAILED: {error!r}")
            ok = False
        finally:
            for process in reversed(processes):
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGTERM)
                    try:
                        process.wait(10)
                    except subprocess.TimeoutExpired:
                        os.killpg(process.pid, signal.SIGKILL)
                        process.wait(10)
    print("OK: every client, on either worker, got every message" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
