"""atheris harness: the Host header and the URL built from the scope (``WebSocket.url``,
``WebSocket.base_url``), and ``URL(str)`` parsing.

Differential against Starlette 1.10: the URL text and every component (``urlsplit`` rules, its
``ValueError``s included). Where Starlette raises ``UnicodeDecodeError`` on a query string that is
not UTF-8, ferrosocket percent-encodes those bytes (docs/differences.md): compared then with
Starlette on the percent-encoded query. Properties: no Rust panic; a Host header that passes
Starlette's check is the URL's netloc exactly.

Run: ``python tests/fuzz/fuzz_url.py -max_total_time=20`` (or tests/fuzz/run.py).
"""

from __future__ import annotations

import re
from typing import Any

import atheris

with atheris.instrument_imports(include=["starlette"]):
    import starlette._utils as star_utils
    import starlette.datastructures as star_ds
    import starlette.websockets as star_ws

from _common import Input, ferrosocket, main, outcome, query_text, same, websocket_scope

HOSTS = [
    "example.com", "Ex.COM", "a", "h_~!$&'()*+,;=-.%41", "[::1]", "[::ffff:1.2.3.4]", "[v1.x:y]",
    "[V1.x]", "[1.2.3.4]", "[::1", "::1", "[fe80::1%25e]", "a b", "a@b", "a/b", "a?b", "a#b",
    "a\\b", "\xe9", "",
]  # fmt: skip
PORTS = ["", ":", ":80", ":443", ":8000", ":0", ":65535", ":65536", ":0000000080", ":999999", ":-1", ":a"]
SERVER_PORTS = [80, 443, 8000, 0, 65535, 65536, -1, 2**70, None]
FIELDS = ["scheme", "netloc", "path", "query", "fragment", "hostname", "port", "username", "password"]
SCHEMES = ["ws", "wss", "http", "https", "WS", "", "ftp", "gopher"]
VALID_SCHEME = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*)?")
SERVER_HOSTS = ["127.0.0.1", "::1", "[::1]", "example.com", "", "a b", "h:1"]


def components(url: Any) -> dict[str, Any]:
    """The URL text and each component, each with its own outcome."""
    calls = {
        "str": lambda: str(url),
        "scheme": lambda: url.scheme,
        "netloc": lambda: url.netloc,
        "path": lambda: url.path,
        "query": lambda: url.query,
        "fragment": lambda: url.fragment,
        "username": lambda: url.username,
        "password": lambda: url.password,
        "hostname": lambda: url.hostname,
        "port": lambda: url.port,
        "is_secure": lambda: url.is_secure,
    }
    return {name: outcome(call) for name, call in calls.items()}


def host_header(inp: Input) -> bytes:
    how = inp.int(0, 2)
    if how == 0:
        return (inp.pick(HOSTS) + inp.pick(PORTS)).encode("latin-1")
    if how == 1:
        return inp.raw(24)
    return inp.text(12).encode("latin-1", "replace")


def check_scope(inp: Input) -> None:
    scheme = inp.pick(SCHEMES) if inp.int(0, 7) else inp.text(4)
    path = inp.pick(["/", "//evil", "/a?b#c\\d", ""]) if inp.int(0, 3) == 0 else inp.text_with_surrogates(24)
    raw_query = inp.raw(32)
    headers = []
    for _ in range(inp.int(0, 3)):
        name = inp.pick([b"host", b"host", b"Host", b"x-forwarded-host", b"hos"])
        headers.append((name, host_header(inp)))
    server: Any = None
    if inp.int(0, 3):
        server_host = inp.pick(SERVER_HOSTS) if inp.bool() else inp.text(8)
        port = inp.pick(SERVER_PORTS) if inp.bool() else inp.int(0, 70000)
        server = (server_host, port) if inp.bool() else [server_host, port]
    scope = websocket_scope(scheme=scheme, path=path, query_string=raw_query, headers=headers, server=server)
    if inp.bool():
        scope["root_path"] = inp.pick(["", "/root", "/root/"])

    ferro_ws = ferrosocket.WebSocket(scope, None, None)
    ferro = outcome(lambda: components(ferro_ws.url))
    star = outcome(lambda: components(star_ws.WebSocket(scope, None, None).url))
    if star == ("raise", "UnicodeDecodeError"):
        # Starlette cannot decode the query; ferrosocket percent-encodes the bad bytes.
        escaped = dict(scope, query_string=query_text(raw_query).encode())
        star = outcome(lambda: components(star_ws.WebSocket(escaped, None, None).url))
    same("WebSocket.url", ferro, star, scope)

    ferro_base = outcome(lambda: components(ferro_ws.base_url))
    star_base = outcome(lambda: components(star_ws.WebSocket(scope, None, None).base_url))
    same("WebSocket.base_url", ferro_base, star_base, scope)

    # A Host header that passes Starlette's check is the netloc, exactly (when the scheme is one
    # that urlsplit reads back as a scheme).
    first = next((value for name, value in headers if name == b"host"), None)
    if first is not None and ferro[0] == "ok" and VALID_SCHEME.fullmatch(scheme):
        parsed = star_utils.parse_host_header(first.decode("latin-1"))
        if parsed is not None and parsed.is_valid_port:
            text = first.decode("latin-1")
            if parsed.authority != text or ferro[1]["netloc"] != ("ok", text):
                raise AssertionError(f"Host {text!r} is not the netloc: {ferro!r}")


def check_text(inp: Input) -> None:
    """``URL(str)``: parsing by the urlsplit rules, and ``replace``."""
    if inp.bool():
        text = inp.pick(["ws://", "wss://", "http://", "//", "", "HTTP://", "a:"]) + inp.text(8)
        text += inp.pick(HOSTS) + inp.pick(PORTS) + inp.text(16)
    else:
        text = inp.text_with_surrogates(40)
    ferro = outcome(lambda: components(ferrosocket.URL(text)))
    star = outcome(lambda: components(star_ds.URL(text)))
    same("URL(str)", ferro, star, text)
    field = inp.pick(FIELDS)
    value: Any = inp.int(0, 70000) if field == "port" and inp.bool() else inp.text(8)
    ferro_new = outcome(lambda: components(ferrosocket.URL(text).replace(**{field: value})))
    star_new = outcome(lambda: components(star_ds.URL(text).replace(**{field: value})))
    same("URL.replace", ferro_new, star_new, text, field, value)


def test_one_input(data: bytes) -> None:
    inp = Input(data)
    if inp.int(0, 2) == 0:
        check_text(inp)
    else:
        check_scope(inp)


if __name__ == "__main__":
    main(test_one_input)
