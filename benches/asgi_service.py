"""What every benchmark server's ASGI app has besides its WebSocket endpoints: the HTTP probes, the
lifespan, the GC accounting and the descriptor limit. Shared by load_apps.py (the load test) and
gateway/apps.py (the gateway benchmark); ``serve`` wraps an app's WebSocket side into the whole app.

HTTP: ``GET /`` answers 200 "ok" (the readiness probe); ``GET /info`` answers JSON saying which app
runs, where its WebSocket class came from and which event loop runs it (the benchmarks check that
the ferrosocket snapshot, not the tree's package, was imported); ``GET /gc`` answers the cyclic
garbage collector's work so far (collections and CPU seconds per generation, measured by a
``gc.callbacks`` hook in this process; with ``?objects=1`` also the number of objects it tracks,
which is slow; with ``?collect=1`` it runs a full collection first, counted before the answer's
figures). With ``FERRO_LOAD_GC_SAVEALL=1`` the collector keeps what it frees
(``gc.DEBUG_SAVEALL``) and ``/gc`` also names the types of that cyclic garbage: what made the
collections necessary. Lifespan: handled; nothing to do, except with ``FERRO_LOAD_CPROFILE=PATH``:
cProfile runs in the server's event-loop thread from lifespan start-up and its stats go to PATH at
lifespan shutdown (an optional profile; py-spy, ``load.py --profile``, is the better tool).

Importing this module raises the process's ``RLIMIT_NOFILE`` soft limit to the hard one (the
server, started by the benchmark, inherits a raised limit anyway; granian's worker process imports
the app module).
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


def info(app_name: str, origin: str) -> dict[str, Any]:
    try:
        loop = type(asyncio.get_running_loop()).__module__ + "." + type(asyncio.get_running_loop()).__name__
    except RuntimeError:
        loop = "none"
    return {
        "app": app_name,
        "origin": origin,
        "loop": loop,
        "pid": os.getpid(),
        "nofile": NOFILE,
        "python": sys.version.split()[0],
    }


def http(app_name: str, origin: str) -> App:
    async def answer(scope: Message, receive: Receive, send: Send) -> None:
        if scope["path"] == "/info":
            body = json.dumps(info(app_name, origin)).encode()
            content_type = b"application/json"
        elif scope["path"] == "/gc":
            if b"collect=1" in scope.get("query_string", b""):
                gc.collect()  # before the stats: they include it, so a delta from them does not
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

    return answer


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


def serve(websocket: App, app_name: str, origin: str) -> App:
    """The whole ASGI app: ``websocket`` for WebSocket scopes, the probes and the lifespan above."""
    answer = http(app_name, origin)

    async def app(scope: Message, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket":
            await websocket(scope, receive, send)
        elif kind == "http":
            await answer(scope, receive, send)
        elif kind == "lifespan":
            await lifespan(scope, receive, send)

    return app
