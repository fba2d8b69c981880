"""atheris harness: close codes and the close-reason truncation through ``WebSocket.close``.

A recording ``send`` (and a ``receive`` that yields ``websocket.connect``) stands in for the server.
Properties: no Rust panic; a sendable code with a ``str`` reason sends exactly one
``websocket.close`` whose reason is the longest prefix of the reason that fits in 123 UTF-8 bytes
(so a short reason is sent as is); anything refused (after accept a code outside 1000-1003,
1007-1014, 3000-4999; a non-int code; a reason with a lone surrogate) sends nothing and leaves the state as
it was, so a retry with a good code works. Differential against Starlette 1.10, which sends
everything as given: the same message where the reason fits, the same states afterwards.

Run: ``python tests/fuzz/fuzz_close.py -max_total_time=20`` (or tests/fuzz/run.py).
"""

from __future__ import annotations

from typing import Any

import atheris

with atheris.instrument_imports(include=["starlette"]):
    import starlette.websockets as star_ws

from _common import SPECIALS, Input, ferrosocket, main, outcome, run_sync, same, websocket_scope

MAX_REASON = 123
CODES = [1000, 1001, 1003, 1004, 1005, 1006, 1007, 1011, 1014, 1015, 2999, 3000, 4999, 5000, 0, -1, 2**70]


def sendable(code: Any, accepted: bool) -> bool:
    """After accept, a code a close frame may carry; before it, any int (the server answers HTTP
    403 and the code never reaches the wire), as in Starlette."""
    if type(code) is not int:
        return False
    return not accepted or 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def truncated(reason: str) -> str:
    """The longest prefix of ``reason`` that fits in 123 UTF-8 bytes."""
    return reason.encode()[:MAX_REASON].decode("utf-8", "ignore")


class Peer:
    """A server that records what the app sends and opens the connection when asked."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(dict(message))


def reason_of(inp: Input) -> Any:
    how = inp.int(0, 5)
    if how == 0:
        return None
    if how == 1:
        # Right at the limit: ASCII padding, then a run of one (maybe multi-byte) char.
        char = inp.pick([*SPECIALS, "a", "\x00", "\U0001f980"])
        return "a" * inp.int(100, 130) + char * inp.int(0, 6)
    if how == 2:
        return inp.text(200)
    if how == 3:
        # Any code point, lone surrogates included (refused with UnicodeEncodeError).
        return str(inp.fdp.ConsumeUnicode(inp.int(0, 150)))
    return inp.text(40)


def connect(cls: Any, accept: bool) -> tuple[Any, Peer]:
    peer = Peer()
    ws = cls(websocket_scope(), peer.receive, peer.send)
    if accept:
        run_sync(ws.accept())
        peer.sent.clear()
    return ws, peer


def states(ws: Any) -> tuple[str, str]:
    return (ws.client_state.name, ws.application_state.name)


def test_one_input(data: bytes) -> None:
    inp = Input(data)
    accept = inp.bool()
    code: Any = inp.pick(CODES)
    how = inp.int(0, 3)
    if how == 1:
        code = inp.int(995, 1020)
    elif how == 2:
        code = inp.int(2990, 5010)
    elif how == 3:
        code = inp.int(-10, 70000)
    reason = reason_of(inp)

    ferro, ferro_peer = connect(ferrosocket.WebSocket, accept)
    before = states(ferro)
    result = outcome(lambda: run_sync(ferro.close(code, reason)))
    context = (accept, code, reason)

    encodable = reason is None or not any(0xD800 <= ord(c) <= 0xDFFF for c in reason)
    if sendable(code, accept) and encodable:
        expected = {"type": "websocket.close", "code": code, "reason": truncated(reason or "")}
        if result != ("ok", None) or ferro_peer.sent != [expected]:
            raise AssertionError(f"close{context!r}: {result!r}, sent {ferro_peer.sent!r}")
        sent_reason = ferro_peer.sent[0]["reason"]
        if len(sent_reason.encode()) > MAX_REASON or not (reason or "").startswith(sent_reason):
            raise AssertionError(f"reason {sent_reason!r} is not a short prefix of {reason!r}")
        # Starlette: the same message when the reason fits, the same states after.
        star, star_peer = connect(star_ws.WebSocket, accept)
        run_sync(star.close(code, reason))
        if len((reason or "").encode()) <= MAX_REASON:
            same("sent", ("ok", ferro_peer.sent), ("ok", star_peer.sent), context)
        same("states", ("ok", states(ferro)), ("ok", states(star)), context)
    else:
        # Refused before any I/O: nothing sent, state unchanged, a good close still works.
        if result[0] != "raise" or ferro_peer.sent or states(ferro) != before:
            raise AssertionError(f"close{context!r} not refused cleanly: {result!r}, {ferro_peer.sent!r}")
        run_sync(ferro.close(1000, "retry"))
        if ferro_peer.sent != [{"type": "websocket.close", "code": 1000, "reason": "retry"}]:
            raise AssertionError(f"retry after a refused close{context!r}: {ferro_peer.sent!r}")


if __name__ == "__main__":
    main(test_one_input)
