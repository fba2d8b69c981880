"""Browser-shaped inputs: what a browser's WebSocket upgrade puts in an ASGI scope.

The second family of the URL, query and handshake operations of the suite
(``test_bench_python.py``, operation ids ending in ``_browser``) is built from these:

* ``headers(i)``: fifteen headers in Firefox's order: host, user-agent, accept, accept-language,
  accept-encoding, sec-websocket-version, origin, sec-websocket-extensions, sec-websocket-key,
  connection, a cookie of seven cookies, pragma, cache-control, upgrade, and last an
  authorization bearer token (a gateway in front appends it: the browser API cannot set it).
  The key, the session cookie and the token differ per ``i``, as they differ per connection.
* ``query_string(i)``: twelve parameters, about 340 bytes: a JWT-shaped token, a key repeated
  three times (``tag``), %-escapes of UTF-8 (an emoji among them), ``+`` for a space, a whole
  %-escaped URL (``redirect``); ``since`` and ``user`` make it unique per ``i``.
* The host has no port, as a browser sends it to a ``wss://`` endpoint on 443.

Nothing here is timed: the suite builds a fresh scope per iteration from ``i`` in its untimed
setup.
"""

from __future__ import annotations

import base64
import hashlib

__all__ = ["headers", "query_string"]

# The upgrade's header lines, as the browser sends them (an ASGI server lower-cases the names).
UPGRADE = """\
Host: chat.example.com
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0
Accept: */*
Accept-Language: fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7
Accept-Encoding: gzip, deflate, br, zstd
Sec-WebSocket-Version: 13
Origin: https://chat.example.com
Sec-WebSocket-Extensions: permessage-deflate
Sec-WebSocket-Key: {key}
Connection: keep-alive, Upgrade
Cookie: _ga=GA1.1.{i}.1700000000; _gid=GA1.1.987654321.1700000000; theme=dark; lang=fr; \
sessionid={session}; csrftoken=Xk2pQ9vLmN4rT7wZ8aB3cD5eF6gH7iJ8; consent=%7B%22analytics%22%3Atrue%7D
Pragma: no-cache
Cache-Control: no-cache
Upgrade: websocket
Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.{token}"""

QUERY_TEMPLATE = (
    "room=general&user=u{i}"
    "&access_token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1{i:08x}In0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    "&tag=release&tag=q3%20planning&tag=%F0%9F%9A%80&name=Zo%C3%AB+M%C3%BCller"
    "&redirect=https%3A%2F%2Fchat.example.com%2Frooms%2Fgeneral%3Fthread%3D42%26view%3Dfull"
    "&tz=Europe%2FParis&lang=fr-FR&v=2.4.0&since={i}"
)


def query_string(i: int) -> bytes:
    return QUERY_TEMPLATE.format(i=i).encode("ascii")


def headers(i: int) -> list[tuple[bytes, bytes]]:
    """The upgrade's headers as an ASGI server lists them (lower-case names), unique by ``i``."""
    digest = hashlib.sha256(i.to_bytes(8, "big")).digest()
    lines = UPGRADE.format(
        i=i,
        key=base64.b64encode(digest[16:]).decode("ascii"),
        session=digest[:16].hex(),
        token=base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"),
    )
    pairs = (line.split(": ", 1) for line in lines.splitlines())
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in pairs]
