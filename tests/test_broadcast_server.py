"""``ferrosocket.broadcast`` on a real server: uvicorn serves examples/broadcast_feed.py on
127.0.0.1, real ``websockets`` clients subscribe, one publishes.

Healthy subscribers get every item once, in order; a subscriber that stops reading (its socket
buffers fill, so uvicorn's send waits) is reported as timed out and dropped, after holding the
others back by no more than the timeout; one that vanishes without a close handshake mid-stream is
reported as disconnected. The server logs no error.
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from test_examples import HOST, STEP_TIMEOUT, recv_json, run, serve
from websockets.asyncio.client import ClientConnection, connect

SEND_TIMEOUT = 0.5
ITEMS = 24
PAD = "x" * 400_000  # 24 of these overflow the slow subscriber's socket buffers (about 4 MiB)


def ws_connect(port: int, path: str, **options: Any) -> connect:
    # No permessage-deflate: the padding would compress to nothing and never fill a buffer.
    url = f"ws://{HOST}:{port}{path}"
    return connect(url, compression=None, open_timeout=STEP_TIMEOUT, close_timeout=STEP_TIMEOUT, **options)


async def read_all(ws: ClientConnection, count: int) -> list[int]:
    seqs = []
    for _ in range(count):
        message = await recv_json(ws)
        assert message["item"]["pad"] == PAD
        seqs.append(message["item"]["n"])
    return seqs


def test_feed_on_uvicorn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEED_SEND_TIMEOUT", str(SEND_TIMEOUT))

    async def talk(port: int) -> None:
        healthy = [await ws_connect(port, "/feed").__aenter__() for _ in range(4)]
        # Reads nothing, queues at most one message, and a small receive buffer (no autotuning up
        # to tcp_rmem's maximum): uvicorn's sends to it soon have to wait.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.connect((HOST, port))
        sock.setblocking(False)
        slow = await ws_connect(port, "/feed", sock=sock, max_queue=1, max_size=None).__aenter__()
        vanishing = await ws_connect(port, "/feed").__aenter__()
        readers = [asyncio.create_task(read_all(ws, ITEMS)) for ws in healthy]
        acks: list[dict[str, Any]] = []
        async with ws_connect(port, "/publish") as publisher:
            for n in range(ITEMS):
                if n == 3:
                    assert [(await recv_json(vanishing))["item"]["n"] for _ in range(3)] == [0, 1, 2]
                    vanishing.transport.abort()  # gone, no close frame
                started = time.monotonic()
                await publisher.send(f'{{"n": {n}, "pad": "{PAD}"}}')
                acks.append(await recv_json(publisher))
                # No publish waits for the slow subscriber longer than the timeout (plus slack).
                assert time.monotonic() - started < SEND_TIMEOUT + 2.0
        assert [await reader for reader in readers] == [list(range(ITEMS))] * 4  # all, once, in order

        assert [ack["seq"] for ack in acks] == list(range(1, ITEMS + 1))
        dropped = [reason for ack in acks for reason in ack["dropped"]]
        # The slow one timed out once; the vanished one failed once, unless its handler saw it
        # leave (and took it out of the feed) before the next publish.
        assert dropped in (["TimeoutError"], ["WebSocketDisconnect", "TimeoutError"]), dropped
        assert acks[0]["delivered"] == 6  # everyone at first
        assert acks[-1]["delivered"] == 4 and acks[-1]["dropped"] == []  # then the healthy four
        for ack in acks:
            assert ack["delivered"] + len(ack["dropped"]) in (4, 5, 6)
        for ws in healthy:
            await ws.close()
        slow.transport.abort()

    with serve("broadcast_feed", tmp_path) as port:
        run(talk(port))
