"""`websocket.url` and `URL(scope=...)` write the URL of the common scope straight from its pieces
(src/python/url.rs, `common_scope_url`) and read any other scope the general way: every
combination of pieces on either side of that boundary gives the reference's URL (Starlette's, with
docs/differences.md's rows), component by component, or its error."""

from __future__ import annotations

import itertools
from typing import Any

import reference
from differential import exc_sig, norm

import ferrosocket

COMPONENTS = ("scheme", "netloc", "path", "query", "fragment", "username", "password", "hostname", "port")

SCHEMES = ["ws", "wss", "http", "https", "WS", "ftp"]
PATHS = ["/", "/ws/room", "", "ws", "//x", "/a?b", "/a#b", "/a\\b", "/é", "/a\tb", "/a b%20"]
QUERIES = [b"", b"a=1&b=2", b"a#b", b"a\tb", b"q=\xc3\xa9", b"\xff", b"?x=/"]
HOSTS = [
    b"example.com",
    b"Example.COM:8443",
    b"h:0080",
    b"h:65536",
    b"h:",
    b"",
    b"[::1]:8000",
    b"[::FFFF:1.2.3.4]",
    b"[v1.fe:x]:80",
    b"[::1%eth0]",
    b"h\xe9",
    b"h/x",
    b"h\tx",
    b"a%41!$&'()*+,;=-._~:1",
    b"u@h",
]


def header_lists(host: bytes | None) -> list[Any]:
    """The header list in the ASGI shape, and in shapes that are not (read the general way)."""
    pairs = [(b"user-agent", b"x")] + ([(b"host", host)] if host is not None else [])
    return [pairs, [list(pair) for pair in pairs], tuple(pairs)]


def scopes() -> list[dict[str, Any]]:
    found = []
    for scheme, path, query, host in itertools.product(SCHEMES, PATHS, QUERIES, [*HOSTS, None]):
        for headers in header_lists(host):
            found.append(
                {
                    "type": "websocket",
                    "scheme": scheme,
                    "path": path,
                    "query_string": query,
                    "headers": headers,
                    "server": ("10.0.0.1", 8000),
                }
            )
    return found


def described(make: Any, scope: dict[str, Any]) -> Any:
    """The URL ``make(scope)``'s text and components, or the error that making it (or reading
    one) raised."""
    try:
        url = make(scope)
    except Exception as exc:
        return exc_sig(exc)
    parts = [str(url)]
    for name in COMPONENTS:
        try:
            parts.append(norm(getattr(url, name)))
        except Exception as exc:
            parts.append(exc_sig(exc))
    return parts


class SubURL(ferrosocket.URL):
    pass


def test_every_piece_on_both_sides_of_the_common_shape() -> None:
    mismatches = []
    checked = 0
    for scope in scopes():
        want = described(lambda s: reference.URL(scope=s), scope)
        made = {
            "URL(scope=...)": described(lambda s: ferrosocket.URL(scope=s), scope),
            "websocket.url": described(lambda s: ferrosocket.WebSocket(s, None, None).url, scope),  # type: ignore[arg-type]
            "SubURL(scope=...)": described(lambda s: SubURL(scope=s), scope),
        }
        for how, got in made.items():
            checked += 1
            if got != want:
                mismatches.append(f"{how} of {scope!r}:\n  ferrosocket: {got!r}\n  reference:   {want!r}")
    assert checked > 10_000
    assert not mismatches, f"{len(mismatches)} of {checked} differ:\n" + "\n".join(mismatches[:10])


def test_the_scope_is_read_not_changed() -> None:
    scope = scopes()[0]
    before = repr(scope)
    url = ferrosocket.WebSocket(scope, None, None).url  # type: ignore[arg-type]
    assert url == "ws://example.com/"
    assert url.path is scope["path"]  # the scope's own string, as the general way reuses it
    assert repr(scope) == before
