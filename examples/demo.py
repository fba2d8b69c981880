"""Run the echo server (examples/echo_server.py) under uvicorn and talk to it with a real client.

A real server on a free loopback port, a real WebSocket client (the `websockets`
library), text, bytes and JSON both ways, then a close from the server.  Prints a
transcript, checks every echo, and exits 0 when all is well, 1 otherwise.
Every network step has a timeout, so it cannot hang.

    make demo        (builds ferrosocket into .venv first)
    .venv/bin/python examples/demo.py
"""

import asyncio
import io
import json
import socket
import sys
import threading
import time

import uvicorn
from echo_server import Message, Receive, Send, app
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

STEP_TIMEOUT = 5.0  # seconds for any one step: start, connect, one echo, close, stop
TOTAL_TIMEOUT = 30.0  # seconds for the whole conversation

server_errors: list[BaseException] = []


async def checked_app(scope: Message, receive: Receive, send: Send) -> None:
    """The echo app, with any exception it raises kept so that the demo fails on it."""
    try:
        await app(scope, receive, send)
    except Exception as exc:
        server_errors.append(exc)
        raise


def start_server() -> tuple[uvicorn.Server, threading.Thread, str]:
    """Start uvicorn in a background thread on a free loopback port; return it and its URI."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # port 0: the OS picks a free port, and we keep the socket
    host, port = sock.getsockname()
    config = uvicorn.Config(
        checked_app,
        host=host,
        port=port,
        ws="websockets-sansio",
        lifespan="off",
        log_level="warning",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + STEP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    return server, thread, f"ws://{host}:{port}/"


def stop_server(server: uvicorn.Server, thread: threading.Thread) -> bool:
    server.should_exit = True
    thread.join(STEP_TIMEOUT)
    return not thread.is_alive()


class Conversation:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.failures: list[str] = []

    async def echo(self, kind: str, payload: str | bytes) -> None:
        """Announce `kind`, send `payload`, and check the echo: same frame type, same content."""
        print(f"→ {kind:<12} {payload!r}")
        async with asyncio.timeout(STEP_TIMEOUT):
            await self.ws.send(kind)
            await self.ws.send(payload)
            reply = await self.ws.recv()
        if kind.startswith("json"):  # the server re-encodes JSON: compare the parsed values
            ok = type(reply) is type(payload) and json.loads(reply) == json.loads(payload)
        else:
            ok = reply == payload  # str == bytes is False, so this checks the frame type too
        print(f"← {kind:<12} {reply!r}  {'ok' if ok else 'MISMATCH'}")
        if not ok:
            self.failures.append(f"{kind}: sent {payload!r}, got {reply!r}")

    async def close_from_server(self, code: int, reason: str) -> None:
        """Ask the server to close, and check the close code and reason the client sees."""
        print("→ close")
        try:
            async with asyncio.timeout(STEP_TIMEOUT):
                await self.ws.send("close")
                unexpected = await self.ws.recv()
            self.failures.append(f"close: expected the connection to close, got {unexpected!r}")
        except ConnectionClosed:
            pass
        got = (self.ws.close_code, self.ws.close_reason)
        ok = got == (code, reason)
        print(f"← closed       code={got[0]} reason={got[1]!r}  {'ok' if ok else 'MISMATCH'}")
        if not ok:
            self.failures.append(f"close: expected code={code} reason={reason!r}, got {got}")


async def talk(uri: str) -> list[str]:
    document = {"name": "ferrosocket", "tags": ["rust", "asgi"], "ok": True, "n": 1.5, "none": None}
    async with asyncio.timeout(TOTAL_TIMEOUT):
        async with connect(uri, open_timeout=STEP_TIMEOUT, close_timeout=STEP_TIMEOUT) as ws:
            conversation = Conversation(ws)
            await conversation.echo("text", "Hello, world!")
            await conversation.echo("text", "héllo wörld 🦀")
            await conversation.echo("bytes", b"\x00\x01 binary \xfe\xff")
            await conversation.echo("json", json.dumps(document))
            await conversation.echo("json-binary", json.dumps(document).encode())
            await conversation.close_from_server(4000, "goodbye")
    return conversation.failures


def main() -> int:
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True, errors="backslashreplace")
    server, thread, uri = start_server()
    print(f"echo server (examples/echo_server.py) under uvicorn at {uri}")
    print("each message below is announced by a text frame naming its kind\n")
    try:
        failures = asyncio.run(talk(uri))
    except TimeoutError:
        failures = ["the conversation timed out: the server did not answer in time"]
    except (OSError, ConnectionClosed) as exc:
        failures = [f"the conversation broke off: {type(exc).__name__}: {exc}"]
    if not stop_server(server, thread):
        failures.append("uvicorn did not stop")
    failures += [f"the server app raised {type(exc).__name__}: {exc}" for exc in server_errors]

    if failures:
        print("\nFAILED:", *failures, sep="\n  ")
        return 1
    print("\nall echoes and the close code/reason were right")
    return 0


if __name__ == "__main__":
    sys.exit(main())
