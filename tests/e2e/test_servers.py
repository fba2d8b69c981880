"""End to end: ferrosocket's WebSocket in an app (e2e_apps.py) under five real servers, a real client.

The client is the ``websockets`` package (asyncio). Every test runs its coroutine through ``run()``,
which bounds it with ``asyncio.timeout``: a bug can fail a test, never hang the run. What the app saw
comes back through the ``/report`` side channel (see e2e_apps.py).

Per-server behaviour observed (uvicorn 0.54.0, hypercorn 0.18.0, granian 2.8.7, websockets 17.4,
wsproto 1.3.2); each cell is asserted below, so a change in a server fails a test:

| what                               | uv-sansio  | uv-wsproto | uv-websockets | hypercorn   | granian     |
| ---------------------------------- | ---------- | ---------- | ------------- | ----------- | ----------- |
| client closes 1000: app sees       | 1000       | 1000       | 1000          | 1006 (a)    | 1000        |
| client closes 4001 "bye": app sees | 4001 "bye" | 4001 "bye" | 4001 "bye"    | 1006 "" (a) | 4001 "" (b) |
| client drops TCP, no close frame   | 1005       | 1005       | 1006          | 1006        | 1005        |
| send_text after the drop           | (c)        | (c)        | (d)           | (e)         | (e)         |
| websocket.http.response extension  | yes        | yes        | yes           | yes         | yes         |
| denial body in 2 parts (more_body) | ok         | ok         | ok            | ok          | fails (f)   |
| denial response's headers          | as sent    | as sent    | as sent       | as sent     | + more (g)  |
| server log after a denial          | ERROR (h)  | clean      | clean         | clean       | clean       |
| permessage-deflate negotiated      | yes        | yes        | yes           | yes         | no          |
| 8 MiB message: server setting      | none (i)   | none (i)   | none (i)      | none (i)    | none (i)    |

(uv-*: uvicorn with ws="websockets-sansio", "wsproto", "websockets" (the legacy backend).)
(a) hypercorn reports every client close to the app as 1006 with no reason, whatever the close frame
    said (it does echo the client's code and reason back to the client, as every server here does).
(b) granian passes the code on but drops the reason.
(c) the server's send raises ClientDisconnected (an OSError): the app gets WebSocketDisconnect(1006)
    and application_state becomes DISCONNECTED, as in Starlette.
(d) the server's send raises RuntimeError("Unexpected ASGI message 'websocket.send', after sending
    'websocket.close' ..."), which is no OSError: it reaches the app; application_state stays CONNECTED.
(e) the message is dropped silently: no error, application_state stays CONNECTED.
(f) granian refuses a "websocket.http.response.body" with more_body=True: the app's send raises
    RuntimeError("Unsupported ASGI message") and the client gets a 403 with no body instead.
(g) granian adds "connection: upgrade", "upgrade: websocket" and "sec-websocket-accept" to the 401.
(h) uvicorn's sansio backend logs "ERROR: ASGI callable returned without completing handshake." when
    the app returns after a complete denial response (its denial path never marks the handshake
    done); the client still gets the full response.
(i) the defaults suffice: uvicorn's ws_max_size (all three backends) and hypercorn's
    websocket_max_message_size are 16 MiB; granian has no setting (tungstenite's defaults: 64 MiB a
    message, 16 MiB a frame). Only the client's max_size (default 1 MiB) is raised, to MAX_SIZE.

Both ferrosocket and Starlette pass on what the server reports (1005: no status code, 1006:
abnormal closure), so an app sees the same under either. The final states are Starlette's:
after the client's close, client_state DISCONNECTED and application_state CONNECTED; after the app's
close, CONNECTED and DISCONNECTED; after a refusal or a denial before accept, CONNECTING and
DISCONNECTED (the app never read the "websocket.connect" message).
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import sys
import uuid
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
from e2e_apps import (
    BAD_AFTER_ACCEPT,
    BAD_BEFORE_ACCEPT,
    DENIAL_BODY_PARTS,
    DENIAL_HEADER,
    DENIAL_STATUS,
    SELFTEST,
    SUBPROTOCOL,
)
from e2e_servers import Server
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

# The servers run in process groups of their own, stopped with SIGTERM/SIGKILL (e2e_servers.py).
pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="needs POSIX process groups and signals (os.killpg)"
)

T = TypeVar("T")

TEST_TIMEOUT = 20.0  # seconds for one test's whole conversation, reports included
OPEN_TIMEOUT = 10.0
CLOSE_TIMEOUT = 5.0
MAX_SIZE = 16 * 2**20  # the client's limit; its default (1 MiB) is below the 8 MiB messages
BIG = 8 * 2**20

# --- The quirks table above, as data. ------------------------------------------------------------
NORMAL_CLOSE_SEEN = {
    "uvicorn-sansio": (1000, ""),
    "uvicorn-wsproto": (1000, ""),
    "uvicorn-websockets": (1000, ""),
    "hypercorn": (1006, ""),  # hypercorn reports every client close as 1006
    "granian": (1000, ""),
}
CLIENT_CLOSE_SEEN = {
    "uvicorn-sansio": (4001, "bye"),
    "uvicorn-wsproto": (4001, "bye"),
    "uvicorn-websockets": (4001, "bye"),
    "hypercorn": (1006, ""),  # neither the code nor the reason
    "granian": (4001, ""),  # the code, not the reason
}
DROP_SEEN = {
    "uvicorn-sansio": (1005, ""),
    "uvicorn-wsproto": (1005, ""),
    "uvicorn-websockets": (1006, ""),
    "hypercorn": (1006, ""),
    "granian": (1005, ""),
}
# What send_text after an abrupt drop gives the app, and application_state afterwards. With
# Starlette this differs per server (uvicorn raises ClientDisconnected -> 1006, its legacy backend a
# RuntimeError, hypercorn and granian drop the data silently); ferrosocket raises the peer's own
# WebSocketDisconnect at once, before the server sees anything, on every server.
LATE_SEND_SEEN: dict[str, tuple[Any, str]] = {
    name: (["WebSocketDisconnect", code], "CONNECTED") for name, (code, _) in DROP_SEEN.items()
}
DENIAL_IN_PARTS_FAILS = {"granian": "Unsupported ASGI message"}
DENIAL_ADDS_UPGRADE_HEADERS = {"granian"}
NO_DEFLATE = {"granian"}  # does not negotiate permessage-deflate (the client offers it by default)
# Log lines (warnings, errors, tracebacks) that a server writes in this suite; any other fails.
ALLOWED_LOG_ERRORS = {
    "uvicorn-sansio": [re.compile(r"^ERROR: +ASGI callable returned without completing handshake\.$")],
}
LOG_ERROR = re.compile(r"error|exception|traceback|critical|warn", re.IGNORECASE)


def run(coro: Coroutine[Any, Any, T]) -> T:
    async def bounded() -> T:
        async with asyncio.timeout(TEST_TIMEOUT):
            return await coro

    return asyncio.run(bounded())


def new_id() -> str:
    return uuid.uuid4().hex


def open_ws(server: Server, path: str, **kwargs: Any) -> connect:
    return connect(
        server.url(path),
        open_timeout=OPEN_TIMEOUT,
        close_timeout=CLOSE_TIMEOUT,
        max_size=MAX_SIZE,
        **kwargs,
    )


async def fetch_report(server: Server, conn_id: str) -> dict[str, Any]:
    """What the app saw in session ``conn_id``, once that session has ended (e2e_apps.send_report)."""
    async with open_ws(server, f"/report?id={conn_id}") as ws:
        report: dict[str, Any] = json.loads(await ws.recv())
    assert "missing" not in report, report["missing"]
    assert "error" not in report, f"the app raised:\n{report['error']}"
    assert report["implementation"] == ("starlette" if SELFTEST else "ferrosocket") + ".websockets"
    return report


def assert_states(report: dict[str, Any], client_state: str, application_state: str) -> None:
    assert (report["client_state"], report["application_state"]) == (client_state, application_state)


async def recv_until_closed(ws: ClientConnection) -> None:
    try:
        unexpected = await ws.recv()
    except ConnectionClosed:
        return
    raise AssertionError(f"expected the connection to close, got {unexpected!r}")


async def echo_all(server: Server, kind: str, messages: list[Any]) -> tuple[dict[str, Any], str]:
    """Send each message, check its echo; return the app's report and the negotiated extensions."""
    conn_id = new_id()
    async with open_ws(server, f"/echo?kind={kind}&id={conn_id}") as ws:
        assert ws.response is not None
        extensions = ws.response.headers.get("sec-websocket-extensions", "")
        for message in messages:
            await ws.send(message)
            reply = await ws.recv()
            assert type(reply) is type(message)  # text frame for text, binary frame for binary
            assert reply == message
    return await fetch_report(server, conn_id), extensions


# --- Echo. ---------------------------------------------------------------------------------------
TEXTS = ["hello", "", "héllo wörld 🦀 ∑", "x" * 70_000]
BINARIES = [b"\x00\x01 binary \xfe\xff", b"", bytes(range(256)) * 300]


@pytest.mark.parametrize("kind", ["text", "bytes"])
def test_echo(server: Server, kind: str) -> None:
    messages: list[Any] = TEXTS if kind == "text" else BINARIES
    report, extensions = run(echo_all(server, kind, messages))
    assert extensions.startswith("permessage-deflate") == (server.name not in NO_DEFLATE)
    assert report["sizes"] == [len(m) for m in messages]
    assert report["disconnect"] == list(NORMAL_CLOSE_SEEN[server.name])
    assert_states(report, "DISCONNECTED", "CONNECTED")


def big_message(kind: str) -> str | bytes:
    if kind == "bytes":
        return random.Random(1).randbytes(BIG)
    unit = "ferrosocket 🦀 héllo ∑ "  # 1-, 2-, 3- and 4-byte UTF-8 characters
    text = unit * (BIG // len(unit.encode()))
    return text + "x" * (BIG - len(text.encode()))


@pytest.mark.parametrize("kind", ["text", "bytes"])
def test_echo_8_mib(server: Server, kind: str) -> None:
    message = big_message(kind)
    encoded = message.encode() if isinstance(message, str) else message
    assert len(encoded) == BIG
    report, _ = run(echo_all(server, kind, [message]))
    assert report["sizes"] == [len(message)]
    assert_states(report, "DISCONNECTED", "CONNECTED")


# --- JSON. ---------------------------------------------------------------------------------------
DOCUMENT = {
    "name": "ferrosocket",
    "unicode": 'héllo 🦀 \u2028 "quoted" \\',
    "numbers": [0, -1, 2**53, 1.5, -0.25, 1e-7],
    "nested": {"list": [True, False, None], "empty": {}, "": []},
}


@pytest.mark.parametrize("mode", ["text", "binary"])
def test_json(server: Server, mode: str) -> None:
    kind = "json" if mode == "text" else "json-binary"

    async def conversation() -> dict[str, Any]:
        conn_id = new_id()
        async with open_ws(server, f"/echo?kind={kind}&id={conn_id}") as ws:
            for document in (DOCUMENT, [1, "two", None], "just a string", 42):
                encoded = json.dumps(document)
                await ws.send(encoded if mode == "text" else encoded.encode())
                reply = await ws.recv()
                assert isinstance(reply, str if mode == "text" else bytes)
                assert json.loads(reply) == document
        return await fetch_report(server, conn_id)

    report = run(conversation())
    assert len(report["sizes"]) == 4
    assert report["disconnect"] == list(NORMAL_CLOSE_SEEN[server.name])
    assert_states(report, "DISCONNECTED", "CONNECTED")


# --- Subprotocols. -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("offered", "chosen"),
    [(["ferro.v1", SUBPROTOCOL], SUBPROTOCOL), ([], None)],
    ids=["two-offered", "none-offered"],
)
def test_subprotocol(server: Server, offered: list[str], chosen: str | None) -> None:
    async def conversation() -> tuple[str | None, Any, dict[str, Any]]:
        conn_id = new_id()
        kwargs: dict[str, Any] = {"subprotocols": offered} if offered else {}
        async with open_ws(server, f"/subprotocol?id={conn_id}", **kwargs) as ws:
            seen = json.loads(await ws.recv())
            negotiated = ws.subprotocol
        return negotiated, seen, await fetch_report(server, conn_id)

    negotiated, seen, report = run(conversation())
    assert negotiated == chosen
    assert seen == {"offered": offered}
    assert report["offered"] == offered
    assert_states(report, "DISCONNECTED", "CONNECTED")


# --- Closing. ------------------------------------------------------------------------------------
def test_app_closes_with_code_and_reason(server: Server) -> None:
    async def conversation() -> tuple[int | None, str | None, dict[str, Any]]:
        conn_id = new_id()
        async with open_ws(server, f"/close-by-app?id={conn_id}") as ws:
            await recv_until_closed(ws)
            code, reason = ws.close_code, ws.close_reason
        return code, reason, await fetch_report(server, conn_id)

    code, reason, report = run(conversation())
    assert (code, reason) == (4000, "bye")
    assert "disconnect" not in report  # the app closed and returned; it never received again
    assert_states(report, "CONNECTED", "DISCONNECTED")


def test_bad_messages_are_refused_before_the_server_sees_them(server: Server) -> None:
    """Every message the servers mishandle (crash, wrong frame, aborted process) is refused by
    ferrosocket with TypeError/ValueError; the connection then works normally on every server."""

    async def conversation() -> tuple[str, int | None, str | None, dict[str, Any]]:
        conn_id = new_id()
        async with open_ws(server, f"/refused?id={conn_id}", subprotocols=[Subprotocol("chat")]) as ws:
            await ws.send("still fine")
            echoed = await ws.recv()
            await recv_until_closed(ws)
            code, reason = ws.close_code, ws.close_reason
        return str(echoed), code, reason, await fetch_report(server, conn_id)

    echoed, code, reason, report = run(conversation())
    assert echoed == "still fine"
    assert (code, reason) == (1000, "é" * 61)
    assert set(report["refused"]) == {name for name, _ in BAD_BEFORE_ACCEPT + BAD_AFTER_ACCEPT}
    assert "sent" not in report["refused"].values(), report["refused"]
    assert_states(report, "CONNECTED", "DISCONNECTED")


def test_client_closes_with_code_and_reason(server: Server) -> None:
    async def conversation() -> tuple[int | None, str | None, dict[str, Any]]:
        conn_id = new_id()
        async with open_ws(server, f"/close-by-client?id={conn_id}") as ws:
            assert await ws.recv() == "ready"
            await ws.close(code=4001, reason="bye")
            echoed = ws.close_code, ws.close_reason  # the server's answering close frame
        return *echoed, await fetch_report(server, conn_id)

    code, reason, report = run(conversation())
    assert (code, reason) == (4001, "bye")  # the closing handshake completed, on every server
    assert report["received"] == []
    assert report["disconnect"] == list(CLIENT_CLOSE_SEEN[server.name])
    assert_states(report, "DISCONNECTED", "CONNECTED")


@pytest.mark.parametrize("code", [None, 403, 1006, 4999])
def test_close_before_accept_is_403(server: Server, code: int | None) -> None:
    """close() before accept, with the default code or an HTTP-like one (403 on a bad token, as apps
    do): every server answers HTTP 403."""

    async def conversation() -> tuple[InvalidStatus, dict[str, Any]]:
        conn_id = new_id()
        query = f"id={conn_id}" if code is None else f"id={conn_id}&code={code}"
        with pytest.raises(InvalidStatus) as refused:
            async with open_ws(server, f"/reject?{query}"):
                pass
        return refused.value, await fetch_report(server, conn_id)

    refused, report = run(conversation())
    assert refused.response.status_code == 403
    assert_states(report, "CONNECTING", "DISCONNECTED")


def test_sends_racing_a_slow_close_never_reach_the_server(server: Server) -> None:
    """While close() waits inside the server's send, other sends are refused before the server."""

    async def conversation() -> tuple[int | None, list[Any], dict[str, Any]]:
        conn_id = new_id()
        received: list[Any] = []
        async with open_ws(server, f"/close-races-sends?id={conn_id}") as ws:
            try:
                while True:
                    received.append(await ws.recv())
            except ConnectionClosed:
                pass
            code = ws.close_code
        return code, received, await fetch_report(server, conn_id)

    code, received, report = run(conversation())
    assert received == ["ready"]
    assert code == 4000
    refused = 'WebSocketDisconnected: Cannot call "send" once a close message has been sent.'
    assert report["late_sends"] == [refused] * 4
    assert report["reached_server_after_close"] == []
    assert_states(report, "CONNECTED", "DISCONNECTED")


async def drop(server: Server, path: str) -> dict[str, Any]:
    """Connect, wait for "ready", then close the TCP connection without a close frame."""
    conn_id = new_id()
    ws = await open_ws(server, f"{path}?id={conn_id}")
    try:
        assert await ws.recv() == "ready"
    finally:
        assert ws.transport is not None
        ws.transport.abort()  # no close frame, no closing handshake
    await ws.wait_closed()
    return await fetch_report(server, conn_id)  # within REPORT_WAIT, or the app hung


def test_abrupt_client_drop(server: Server) -> None:
    """The client closes its TCP connection without a close frame: the app gets WebSocketDisconnect."""
    report = run(drop(server, "/drop"))
    assert report["received"] == []
    assert report["disconnect"] == list(DROP_SEEN[server.name])
    assert_states(report, "DISCONNECTED", "CONNECTED")


def test_send_after_abrupt_drop(server: Server) -> None:
    """After the drop the app sends once more: the peer's WebSocketDisconnect, raised before any I/O."""
    report = run(drop(server, "/drop-then-send"))
    assert report["disconnect"] == list(DROP_SEEN[server.name])
    late_send, application_state = LATE_SEND_SEEN[server.name]
    assert report["late_send"] == late_send
    assert_states(report, "DISCONNECTED", application_state)


# --- Denial response (the websocket.http.response extension). ------------------------------------
@pytest.mark.parametrize("parts", [1, 2], ids=["body-in-1-part", "body-in-2-parts"])
def test_denial_response(server: Server, parts: int) -> None:
    async def conversation() -> tuple[InvalidStatus, dict[str, Any]]:
        conn_id = new_id()
        with pytest.raises(InvalidStatus) as denied:
            async with open_ws(server, f"/deny?parts={parts}&id={conn_id}"):
                pass
        return denied.value, await fetch_report(server, conn_id)

    denied, report = run(conversation())
    response = denied.response
    # Every server here offers the extension: if one stops, this fails (the app would then get
    # Starlette's RuntimeError, record it as "unsupported", and refuse with a plain 403).
    assert "websocket.http.response" in report["extensions"]
    assert "unsupported" not in report

    if parts == 2 and server.name in DENIAL_IN_PARTS_FAILS:
        assert report["send_error"] == DENIAL_IN_PARTS_FAILS[server.name]
        assert response.status_code == 403
        assert response.body == b""
        # The start message was sent, the first body part refused: Starlette's state stays RESPONSE.
        assert_states(report, "CONNECTING", "RESPONSE")
        return

    assert "send_error" not in report
    assert response.status_code == DENIAL_STATUS
    name, value = (part.decode() for part in DENIAL_HEADER)
    assert response.headers[name] == value
    assert response.body == b"".join(DENIAL_BODY_PARTS)
    upgrade_headers = {"upgrade", "sec-websocket-accept"} & {key.lower() for key in response.headers}
    assert bool(upgrade_headers) == (server.name in DENIAL_ADDS_UPGRADE_HEADERS), response.headers
    assert_states(report, "CONNECTING", "DISCONNECTED")


# --- Last for each server (tests run in file order): the server logged nothing unexpected. -------
def test_server_log(server: Server) -> None:
    allowed = ALLOWED_LOG_ERRORS.get(server.name, [])
    unexpected = [
        line
        for line in server.log().splitlines()
        if LOG_ERROR.search(line) and not any(pattern.match(line) for pattern in allowed)
    ]
    assert not unexpected, "\n".join(unexpected)
