"""What the gateway benchmark's clients send and its apps answer: one definition for both sides.

* JSON round trips: json_payloads.py's 1 KB chat message and 16 KB page of history, with nulls
  (the suite's ``1kb_nulls`` and ``16kb_nulls``), wrapped as ``{"seq": N, "conn": I, "body": ...}``
  so that every message is unique and its echo can be matched to it.
* Handshakes: a browser-like upgrade (``browser_upgrade``): a dozen headers, cookies, a bearer
  token and query parameters, unique per connection (``visitor``), since Starlette's URL parsing
  keeps an LRU cache. The app answers the client's one message with ``handshake_reply``: the
  values it read, so the client can check it read the right ones.
* Fan-out: ``fanout_message(seq)``, the 1 KB chat message with a sequence number, encoded once
  per publish and sent to every subscriber.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from json_payloads import PAYLOADS

JSON_BODIES: dict[str, Any] = {"json1k": PAYLOADS["1kb_nulls"], "json16k": PAYLOADS["16kb_nulls"]}
FANOUT_BODY: Any = PAYLOADS["1kb_nulls"]

ORIGIN = "https://chat.example.com"
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
HANDSHAKE_PATH = "/handshake"


def fanout_message(seq: int) -> dict[str, Any]:
    return {"seq": seq, "body": FANOUT_BODY}


@dataclass(frozen=True)
class Visitor:
    """What one browser-like connection carries (``visitor(n, salt)``)."""

    n: int
    room: str
    user: str
    session: str
    token: str
    query: str
    message: str


def visitor(n: int, salt: str) -> Visitor:
    """Visitor ``n`` (unique over the whole run) of the run ``salt`` (values differ between runs)."""
    room, user = f"room-{n % 97}", f"user-{n}"
    return Visitor(
        n,
        room,
        user,
        session=f"s{n:x}.{salt}",
        token=f"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLXt{n:08x}In0.{salt}",
        query=f"room={room}&user={user}&client=web&v=2.4.0&nonce={n}-{salt}",
        message=f"hello from {user}",
    )


def browser_upgrade(host: str, port: int, key: bytes, visitor: Visitor) -> bytes:
    """The upgrade request a browser sends, in a browser's header order; no
    Sec-WebSocket-Extensions (the client speaks no permessage-deflate)."""
    cookie = f"_ga=GA1.1.{visitor.n}.1700000000; theme=dark; session={visitor.session}; lang=fr"
    lines = [
        f"GET {HANDSHAKE_PATH}?{visitor.query} HTTP/1.1",
        f"Host: {host}:{port}",
        "Connection: Upgrade",
        "Pragma: no-cache",
        "Cache-Control: no-cache",
        f"User-Agent: {USER_AGENT}",
        "Upgrade: websocket",
        f"Origin: {ORIGIN}",
        "Sec-WebSocket-Version: 13",
        "Accept-Encoding: gzip, deflate, br, zstd",
        "Accept-Language: fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7",
        f"Cookie: {cookie}",
        f"Authorization: Bearer {visitor.token}",
        f"Sec-WebSocket-Key: {key.decode()}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def handshake_reply(
    room: str, user: str, session: str, token: str, origin: str, agent: str, path: str, host: str, text: str
) -> str:
    """The app's one message: what it read from the upgrade request, then the client's message."""
    return "|".join((room, user, session, token, origin, agent, path, host, text))


def expected_reply(visitor: Visitor, host: str) -> str:
    return handshake_reply(
        visitor.room,
        visitor.user,
        visitor.session,
        visitor.token,
        ORIGIN,
        USER_AGENT,
        HANDSHAKE_PATH,
        host,
        visitor.message,
    )
