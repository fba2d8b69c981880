"""The ASGI app the end-to-end tests serve with real servers (uvicorn, hypercorn, granian).

Written with ferrosocket's public API only. Served as ``e2e_apps:app`` with this directory on the
import path (the servers run in subprocesses; see conftest.py).

Every websocket route except ``/report`` takes ``?id=...`` and, when its session ends (however it
ends), stores a *report* under that id: what the app saw (close codes, sizes, subprotocols, the
extensions of the scope), the final ``client_state``/``application_state`` and any unexpected
exception. The test fetches it through ``/report?id=...``, a second websocket that waits (up to
``REPORT_WAIT`` seconds) until the report exists, sends it as JSON and closes. That is the side
channel: it works the same on every server, including granian, whose app runs in a worker process.

Routes (websocket):
    /echo?kind=text|bytes|json|json-binary   echo every message with the typed API, until the client
                                             closes; records the sizes and the disconnect
    /subprotocol                             accept "ferro.v2" if offered; send the offered list as JSON
    /close-by-app                            accept, then close(4000, "bye")
    /close-by-client                         accept, send "ready", wait for the client's close
    /drop                                    accept, send "ready", wait: the client drops the TCP link
    /drop-then-send                          the same, then send_text once more
    /deny?parts=1|2                          send_denial_response(401, x-ferro header, body in 1 or 2 parts)
    /reject                                  close() before accept (the client must get a 403)
    /report?id=...                           the side channel described above
HTTP: any path answers 200 "ok" (the readiness probe). Lifespan: handled, nothing to do.

With FERROSOCKET_DIFF_SELFTEST=1 (inherited by the servers) the app uses Starlette's WebSocket
instead: a self-test, in which every test must pass too, showing that the expectations (states,
codes, quirks) are Starlette's.
"""

from __future__ import annotations

import asyncio
import os
import traceback
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

SELFTEST = os.environ.get("FERROSOCKET_DIFF_SELFTEST", "") not in ("", "0")
if not SELFTEST:
    from ferrosocket import WebSocket, WebSocketDisconnect
else:  # the suite's self-test (as in tests/conftest.py): Starlette itself must pass every test
    from starlette.websockets import WebSocket, WebSocketDisconnect  # type: ignore[assignment]

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Report = dict[str, Any]

REPORT_WAIT = 10.0  # seconds /report waits for a session to finish
DENIAL_STATUS = 401
DENIAL_HEADER = (b"x-ferro", b"denied")
DENIAL_BODY_PARTS = (b"no entry ", b"for you")
SUBPROTOCOL = "ferro.v2"

# id -> report; one worker process per server, so one dict sees every session.
REPORTS: dict[str, Report] = {}


class DenialResponse:
    """A minimal ASGI response for ``send_denial_response``: the status, headers and a body in parts."""

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], parts: tuple[bytes, ...]) -> None:
        self.status = status
        self.parts = parts
        length = str(sum(len(part) for part in parts)).encode()
        self.headers = [*headers, (b"content-type", b"text/plain"), (b"content-length", length)]

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        await send({"type": "websocket.http.response.start", "status": self.status, "headers": self.headers})
        for index, part in enumerate(self.parts):
            more = index < len(self.parts) - 1
            await send({"type": "websocket.http.response.body", "body": part, "more_body": more})


async def echo(ws: WebSocket[Any], report: Report) -> None:
    kind = ws.query_params["kind"]
    sizes: list[int] = report.setdefault("sizes", [])
    await ws.accept()
    try:
        while True:
            if kind == "text":
                text = await ws.receive_text()
                sizes.append(len(text))
                await ws.send_text(text)
            elif kind == "bytes":
                data = await ws.receive_bytes()
                sizes.append(len(data))
                await ws.send_bytes(data)
            elif kind == "json":
                await ws.send_json(await ws.receive_json())
                sizes.append(-1)
            elif kind == "json-binary":
                await ws.send_json(await ws.receive_json(mode="binary"), mode="binary")
                sizes.append(-1)
            else:
                raise ValueError(f"unknown kind {kind!r}")
    except WebSocketDisconnect as exc:
        report["disconnect"] = [exc.code, exc.reason]


# Messages every server mishandles in its own way (shared/reference/anchors.md, section 2):
# ferrosocket must refuse each before the server sees it, and the connection must go on.
BAD_BEFORE_ACCEPT: list[tuple[str, Callable[[WebSocket[Any]], Awaitable[None]]]] = [
    ("subprotocol not offered", lambda ws: ws.accept(subprotocol="never-offered")),
    ("subprotocol with CRLF", lambda ws: ws.accept(subprotocol="chat\r\nx: y")),
    ("header value with CRLF", lambda ws: ws.accept(headers=[(b"x-a", b"1\r\nx-b: 2")])),
    (
        "header named sec-websocket-protocol",
        lambda ws: ws.accept(headers=[(b"sec-websocket-protocol", b"x")]),
    ),
]
BAD_AFTER_ACCEPT: list[tuple[str, Callable[[WebSocket[Any]], Awaitable[None]]]] = [
    ("send neither text nor bytes", lambda ws: ws.send({"type": "websocket.send"})),
    ("text=b'raw'", lambda ws: ws.send({"type": "websocket.send", "text": b"raw"})),
    ("bytes='str'", lambda ws: ws.send({"type": "websocket.send", "bytes": "str"})),
    ("send_text(bytes)", lambda ws: ws.send_text(b"raw")),  # type: ignore[arg-type]
    ("send_bytes(str)", lambda ws: ws.send_bytes("str")),  # type: ignore[arg-type]
    ("close code 5000", lambda ws: ws.close(5000)),
    ("close code 999", lambda ws: ws.close(999)),
    ("close reason int", lambda ws: ws.close(1000, 5)),  # type: ignore[arg-type]
]


async def refused(ws: WebSocket[Any], report: Report) -> None:
    """Tries every bad message; records each refusal; then echoes one message and closes."""
    seen: dict[str, str] = report.setdefault("refused", {})
    for name, attempt in BAD_BEFORE_ACCEPT:
        try:
            await attempt(ws)
            seen[name] = "sent"
        except (TypeError, ValueError) as exc:
            seen[name] = type(exc).__name__
    await ws.accept()
    for name, attempt in BAD_AFTER_ACCEPT:
        try:
            await attempt(ws)
            seen[name] = "sent"
        except (TypeError, ValueError) as exc:
            seen[name] = type(exc).__name__
    await ws.send_text(await ws.receive_text())
    await ws.close(1000, "é" * 100)  # cut to 123 bytes at a character boundary


async def subprotocol(ws: WebSocket[Any], report: Report) -> None:
    offered = list(ws.scope.get("subprotocols", []))
    report["offered"] = offered
    await ws.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
    await ws.send_json({"offered": offered})
    await wait_for_disconnect(ws, report)


async def close_by_app(ws: WebSocket[Any], report: Report) -> None:
    await ws.accept()
    await ws.close(code=4000, reason="bye")


async def wait_for_disconnect(ws: WebSocket[Any], report: Report) -> None:
    try:
        while True:
            report.setdefault("received", []).append(await ws.receive_text())
    except WebSocketDisconnect as exc:
        report["disconnect"] = [exc.code, exc.reason]


async def ready_then_wait(ws: WebSocket[Any], report: Report) -> None:
    await ws.accept()
    await ws.send_text("ready")
    await wait_for_disconnect(ws, report)


async def drop_then_send(ws: WebSocket[Any], report: Report) -> None:
    await ready_then_wait(ws, report)
    try:
        await ws.send_text("too late")  # after the disconnect: the server's send may raise OSError
        report["late_send"] = "sent"
    except WebSocketDisconnect as exc:
        report["late_send"] = ["WebSocketDisconnect", exc.code]
    except RuntimeError as exc:  # a server that refuses the message: not an OSError, so it propagates
        report["late_send"] = ["RuntimeError", str(exc)]


async def deny(ws: WebSocket[Any], report: Report) -> None:
    extensions = ws.scope.get("extensions") or {}
    report["extensions"] = sorted(extensions)
    parts = DENIAL_BODY_PARTS if ws.query_params["parts"] == "2" else (b"".join(DENIAL_BODY_PARTS),)
    response = DenialResponse(DENIAL_STATUS, [DENIAL_HEADER], parts)
    if "websocket.http.response" not in extensions:
        # Starlette (and so ferrosocket) refuses with a RuntimeError; then close, which sends 403.
        try:
            await ws.send_denial_response(response)
        except RuntimeError as exc:
            report["unsupported"] = str(exc)
        await ws.close()
        return
    try:
        await ws.send_denial_response(response)
    except RuntimeError as exc:  # the server refused one of the response's messages
        report["send_error"] = str(exc)


async def reject(ws: WebSocket[Any], report: Report) -> None:
    code = ws.query_params.get("code")
    await ws.close() if code is None else await ws.close(int(code))


class CloseGate:
    """Wraps the server's send: the app's close waits inside it until ``release`` is set, as it
    would behind a slow transport; records every message that reaches the server after it."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.after_close: list[str] = []

    async def __call__(self, message: Message) -> None:
        if self.entered.is_set():
            self.after_close.append(message["type"])
        if message["type"] == "websocket.close":
            self.entered.set()
            await self.release.wait()
        await self._send(message)


async def close_races_sends(ws: WebSocket[Any], report: Report) -> None:
    """Another task sends while close() is inside the server's send: every send must be refused."""
    gate: CloseGate = ws.scope["ferro.close_gate"]
    await ws.accept()
    await ws.send_text("ready")
    closing = asyncio.ensure_future(ws.close(4000, "bye"))
    await gate.entered.wait()
    outcomes: list[str] = []
    attempts: list[Callable[[], Awaitable[None]]] = [
        lambda: ws.send_text("late"),
        lambda: ws.send_bytes(b"late"),
        lambda: ws.send_json({"late": True}),
        lambda: ws.close(),
    ]
    for attempt in attempts:
        try:
            await attempt()
            outcomes.append("sent")
        except Exception as exc:  # noqa: BLE001 (reported to the test)
            outcomes.append(f"{type(exc).__name__}: {exc}")
    gate.release.set()
    await closing
    report["late_sends"] = outcomes
    report["reached_server_after_close"] = gate.after_close


async def send_report(ws: WebSocket[Any]) -> None:
    conn_id = ws.query_params["id"]
    await ws.accept()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + REPORT_WAIT
    while conn_id not in REPORTS and loop.time() < deadline:
        await asyncio.sleep(0.005)
    await ws.send_json(REPORTS.pop(conn_id, {"missing": f"no report for {conn_id!r}"}))
    await ws.close()


ROUTES: dict[str, Callable[[WebSocket[Any], Report], Awaitable[None]]] = {
    "/echo": echo,
    "/subprotocol": subprotocol,
    "/close-by-app": close_by_app,
    "/close-by-client": ready_then_wait,
    "/drop": ready_then_wait,
    "/drop-then-send": drop_then_send,
    "/deny": deny,
    "/reject": reject,
    "/refused": refused,
    "/close-races-sends": close_races_sends,
}


async def websocket_session(scope: Message, receive: Receive, send: Send) -> None:
    if scope["path"] == "/close-races-sends":
        send = scope["ferro.close_gate"] = CloseGate(send)
    ws: WebSocket[Any] = WebSocket(scope=scope, receive=receive, send=send)
    path = ws.url.path
    if path == "/report":
        await send_report(ws)
        return
    report: Report = {"path": path, "implementation": WebSocket.__module__}
    try:
        await ROUTES[path](ws, report)
    except BaseException as exc:  # recorded for the test to fail on, then handed to the server
        report["error"] = "".join(traceback.format_exception(exc))
        raise
    finally:
        report["client_state"] = ws.client_state.name
        report["application_state"] = ws.application_state.name
        REPORTS[ws.query_params["id"]] = report


async def app(scope: Message, receive: Receive, send: Send) -> None:
    if scope["type"] == "websocket":
        await websocket_session(scope, receive, send)
    elif scope["type"] == "http":
        body = b"ok"
        headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    elif scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
