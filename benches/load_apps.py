"""The ASGI echo apps that benches/load.py serves, one per server process.

Served as ``load_apps:app`` with this directory (and the ferrosocket snapshot) on PYTHONPATH. Which
app is chosen by ``FERRO_LOAD_APP`` at import time, so the server runs only that one:

    raw          a bare ASGI echo: no wrapper class at all (the floor)
    starlette    ``starlette.websockets.WebSocket``: accept, then receive_text/send_text in a loop
    ferrosocket  ``ferrosocket.WebSocket``: the same code
    lean         a minimal pure-Python class with the same three coroutine methods and no state
                 checks (an optional reference: what the API's shape, one coroutine per call,
                 costs by itself)

HTTP: ``GET /`` answers 200 "ok" (the readiness probe); ``GET /info`` answers JSON saying which app
runs, where its WebSocket class came from and which event loop runs it (load.py checks that the
ferrosocket snapshot, not the tree's package, was imported); ``GET /gc`` answers the cyclic garbage
collector's work so far (collections and CPU seconds per generation, measured by a ``gc.callbacks``
hook in this process; with ``?objects=1`` also the number of objects it tracks, which is slow).
With ``FERRO_LOAD_GC_SAVEALL=1`` the collector keeps what it frees (``gc.DEBUG_SAVEALL``) and
``/gc`` also names the types of that cyclic garbage: what made the collections necessary.
Lifespan: handled; nothing to do, except with ``FERRO_LOAD_CPROFILE=PATH``: cProfile runs in the
server's event-loop thread from lifespan start-up and its stats go to PATH at lifespan shutdown (an
optional profile; py-spy, ``load.py --profile``, is the better tool).

The module also raises its process's ``RLIMIT_NOFILE`` soft limit to the hard one on import (the
server, started by load.py, inherits a raised limit anyway; granian's worker process imports this).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import resource
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Message, Receive, Send], Awaitable[None]]

APP_NAME = os.environ.get("FERRO_LOAD_APP", "raw")
PROFILE_PATH = os.environ.get("FERRO_LOAD_CPROFILE", "")


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else 1 << 20
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


NOFILE = raise_nofile()

# The cyclic GC's work in this process: collections and CPU seconds (thread time) per generation.
GC_COLLECTIONS = [0, 0, 0]
GC_SECONDS = [0.0, 0.0, 0.0]
_gc_started = 0.0


def _gc_hook(phase: str, info: dict[str, int]) -> None:
    global _gc_started
    if phase == "start":
        _gc_started = time.thread_time()
    else:
        generation = info["generation"]
        GC_COLLECTIONS[generation] += 1
        GC_SECONDS[generation] += time.thread_time() - _gc_started


gc.callbacks.append(_gc_hook)
SAVEALL = os.environ.get("FERRO_LOAD_GC_SAVEALL", "") not in ("", "0")
if SAVEALL:
    gc.set_debug(gc.DEBUG_SAVEALL)


async def raw_echo(scope: Message, receive: Receive, send: Send) -> None:
    """The floor: the ASGI messages themselves, nothing else."""
    message = await receive()  # websocket.connect
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] != "websocket.receive":
            return  # websocket.disconnect
        text = message.get("text")
        if text is None:
            await send({"type": "websocket.send", "bytes": message.get("bytes")})
        else:
            await send({"type": "websocket.send", "text": text})


def wrapped_echo(websocket_class: Any, disconnect: type[BaseException]) -> App:
    """Starlette's and ferrosocket's echo: the same code for both classes."""

    async def echo(scope: Message, receive: Receive, send: Send) -> None:
        websocket = websocket_class(scope, receive, send)
        await websocket.accept()
        try:
            while True:
                text = await websocket.receive_text()
                await websocket.send_text(text)
        except disconnect:
            pass

    return echo


if APP_NAME == "raw":
    ECHO: App = raw_echo
    ORIGIN = "no wrapper"
elif APP_NAME == "starlette":
    import starlette
    from starlette.websockets import WebSocket as StarletteWebSocket
    from starlette.websockets import WebSocketDisconnect as StarletteDisconnect

    ECHO = wrapped_echo(StarletteWebSocket, StarletteDisconnect)
    ORIGIN = str(starlette.__file__)
elif APP_NAME == "ferrosocket":
    import ferrosocket
    from ferrosocket import WebSocket as FerroWebSocket
    from ferrosocket import WebSocketDisconnect as FerroDisconnect

    ECHO = wrapped_echo(FerroWebSocket, FerroDisconnect)
    ORIGIN = str(ferrosocket.__file__)
elif APP_NAME == "lean":

    class LeanDisconnect(Exception):
        pass

    class LeanWebSocket:
        __slots__ = ("_receive", "_send")

        def __init__(self, scope: Message, receive: Receive, send: Send) -> None:
            self._receive = receive
            self._send = send

        async def accept(self) -> None:
            await self._receive()  # websocket.connect
            await self._send({"type": "websocket.accept"})

        async def receive_text(self) -> str:
            message = await self._receive()
            if message["type"] == "websocket.disconnect":
                raise LeanDisconnect(message.get("code", 1000))
            return message["text"]  # type: ignore[no-any-return]

        async def send_text(self, data: str) -> None:
            await self._send({"type": "websocket.send", "text": data})

    ECHO = wrapped_echo(LeanWebSocket, LeanDisconnect)
    ORIGIN = "load_apps.LeanWebSocket"
else:
    raise SystemExit(f"FERRO_LOAD_APP={APP_NAME!r}: expected raw, starlette, ferrosocket or lean")


def info() -> dict[str, Any]:
    try:
        loop = type(asyncio.get_running_loop()).__module__ + "." + type(asyncio.get_running_loop()).__name__
    except RuntimeError:
        loop = "none"
    return {
        "app": APP_NAME,
        "origin": ORIGIN,
        "loop": loop,
        "pid": os.getpid(),
        "nofile": NOFILE,
        "python": sys.version.split()[0],
    }


async def http(scope: Message, receive: Receive, send: Send) -> None:
    if scope["path"] == "/info":
        body = json.dumps(info()).encode()
        content_type = b"application/json"
    elif scope["path"] == "/gc":
        stats: dict[str, Any] = {"collections": GC_COLLECTIONS, "seconds": GC_SECONDS}
        if b"objects=1" in scope.get("query_string", b""):
            stats["tracked"] = len(gc.get_objects())
        if SAVEALL:
            kinds = Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.garbage)
            stats["garbage"] = len(gc.garbage)
            stats["garbage_types"] = kinds.most_common(25)
        body = json.dumps(stats).encode()
        content_type = b"application/json"
    else:
        body, content_type = b"ok", b"text/plain"
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


_profiler: Any = None


async def lifespan(scope: Message, receive: Receive, send: Send) -> None:
    global _profiler
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if PROFILE_PATH:
                import cProfile

                _profiler = cProfile.Profile()
                _profiler.enable()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if _profiler is not None:
                _profiler.disable()
                _profiler.dump_stats(PROFILE_PATH)
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Message, receive: Receive, send: Send) -> None:
    kind = scope["type"]
    if kind == "websocket":
        await ECHO(scope, receive, send)
    elif kind == "http":
        await http(scope, receive, send)
    elif kind == "lifespan":
        await lifespan(scope, receive, send)
