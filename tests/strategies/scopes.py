"""ASGI websocket scopes: raw header names and values (hosts, cookies), paths, query strings,
servers and clients, the fake session/router/app objects a scope can carry, and the WebSocket
properties the scope tests read."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode as _urlencode

from hypothesis import strategies as st

# ---------------------------------------------------------------------------------------------
# Header names and values
# ---------------------------------------------------------------------------------------------

HEADER_NAMES: list[bytes] = [
    b"host",
    b"Host",  # Starlette does NOT match a raw b"Host" (neither for lookups nor for the URL)
    b"HOST",
    b"cookie",
    b"Cookie",
    b"vary",
    b"user-agent",
    b"sec-websocket-key",
    b"sec-websocket-version",
    b"Sec-WebSocket-Version",
    b"sec-websocket-protocol",
    b"x-forwarded-for",
    b"content-type",
    b"k",
    b"K",
    b"x-a",
    b"X-A",
    b"x-\xe9",  # latin-1 name
    b"x-\xc9",  # upper-case latin-1 name: lookups lower-case only the key, never the raw name
    b"\xe0",
    b"",
    b"a b",
    b"x_a",
]

HEADER_VALUE_PIECES: list[bytes] = [
    b"a",
    b"B",
    b"1",
    b" ",
    b",",
    b";",
    b"=",
    b'"',
    b"\t",
    b"\xe9",  # latin-1
    b"\xc3\xa9",  # UTF-8 bytes, decoded as latin-1 by Starlette
    b"\xff",
    b"\x80",
    b"\x00",
    b"%20",
    b"text/plain",
    b"gzip",
]

header_values = st.one_of(
    st.lists(st.sampled_from(HEADER_VALUE_PIECES), max_size=5).map(b"".join),
    st.binary(max_size=8),
)

header_names = st.one_of(
    st.sampled_from(HEADER_NAMES),
    st.text(alphabet="abcxyzABCXYZ-_\xe9\xc9", min_size=1, max_size=6).map(lambda s: s.encode("latin-1")),
    st.binary(min_size=1, max_size=4),
)

# Host header values: valid and invalid ones, as Starlette's _HOST_RE / is_valid_port see them.
HOST_VALUES: list[bytes] = [
    b"example.com",
    b"EXAMPLE.com",
    b"example.com:80",
    b"example.com:443",
    b"example.com:8000",
    b"localhost:0",
    b"localhost:65535",
    b"localhost:65536",
    b"localhost:000080",
    b"localhost:0000000000080",
    b"localhost:000000",
    b"localhost:99999999999999999999",
    b"localhost:",
    b"localhost:abc",
    b"localhost:-1",
    b"localhost:+80",
    b"localhost:80:80",
    b"1.2.3.4",
    b"1.2.3.4:65535",
    b"[::1]",
    b"[::1]:8000",
    b"[::1]:",
    b"[::1]:65536",
    b"[::]",
    b"[::ffff:1.2.3.4]:80",
    b"[FE80::1]",
    b"[fe80::1%25eth0]",
    b"[1:2:3:4:5:6:7:8:9]",
    b"[:::]",
    b"[::1",
    b"::1",
    b"::1:80",
    b"[v1.x]",
    b"[v1.x]:80",
    b"[V1.x]",  # the IPvFuture "v" is case-sensitive in Starlette's regex
    b"[vz.x]",
    b"[v1.]",
    b"a%20b",
    b"a%b",
    b"a@b",
    b"user:pw@host",
    b"",
    b" ",
    b"host ",
    b" host",
    b"ex\xe4mple.com",
    b"\xff",
    b"h/p",
    b"h?q",
    b"h#f",
    b"h\\x",
    b"_:80",
    b"a.b_c~d!e$f&g'h(i)j*k+l,m;n=o-p",
    b"xn--bcher-kva.example",
    b"host\n",
]

host_fuzz = st.text(
    alphabet="abcAZ019.:[]@%vV_~!$&'()*+,;=- /?#\\\xe4",
    max_size=14,
).map(lambda s: s.encode("latin-1"))

ports = st.one_of(
    st.sampled_from([0, 1, 80, 443, 8000, 65535, 65536, 99999]),
    st.integers(min_value=0, max_value=70000),
)


def _bracketed(addr: Any, port: int | None, lead_zeros: int) -> bytes:
    host = f"[{addr}]"
    if port is None:
        return host.encode()
    return f"{host}:{'0' * lead_zeros}{port}".encode()


host_values = st.one_of(
    st.sampled_from(HOST_VALUES),
    host_fuzz,
    st.builds(
        _bracketed,
        st.ip_addresses(v=6),
        st.none() | ports,
        st.integers(min_value=0, max_value=3),
    ),
    st.builds(
        lambda name, port: f"{name}:{port}".encode(),
        st.sampled_from(["example.com", "a", "1.2.3.4", "localhost"]),
        ports,
    ),
    st.ip_addresses(v=6).map(lambda a: str(a).encode()),  # IPv6 without brackets: invalid
)

# Cookie header values for `websocket.cookies`.
COOKIE_PIECES: list[str] = [
    "a=1",
    "b=2",
    "a=3",
    " c = 4 ",
    "novalue",
    "=v",
    "k=",
    'q="quoted"',
    'q="\\101\\102"',
    'esc="a\\"b"',
    "sp=a b",
    "eq=a=b",
    "\xe9=\xe9",
    "",
    " ",
]

cookie_values = st.lists(st.sampled_from(COOKIE_PIECES), max_size=5).map(
    lambda parts: "; ".join(parts).encode("latin-1")
)

# A list of (name, value) header pairs, with duplicates and mixed case; maybe a Host, maybe cookies.
header_pair = st.tuples(header_names, header_values)


@st.composite
def header_lists(draw: st.DrawFn) -> list[tuple[bytes, bytes]]:
    pairs: list[tuple[bytes, bytes]] = draw(st.lists(header_pair, max_size=6))
    extras: list[tuple[bytes, bytes]] = []
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        host_name = draw(st.sampled_from([b"host", b"host", b"host", b"Host", b"HOST"]))
        extras.append((host_name, draw(host_values)))
    if draw(st.booleans()):
        extras.append((draw(st.sampled_from([b"cookie", b"cookie", b"Cookie"])), draw(cookie_values)))
    if draw(st.booleans()):
        # Duplicate an existing name, possibly in another case.
        if pairs:
            name, _ = draw(st.sampled_from(pairs))
            extras.append((draw(st.sampled_from([name, name.upper(), name.lower()])), draw(header_values)))
    combined = pairs + extras
    return draw(st.permutations(combined)) if combined else combined


# ---------------------------------------------------------------------------------------------
# Scopes
# ---------------------------------------------------------------------------------------------

PATH_PIECES: list[str] = [
    "/",
    "/",
    "/",
    "a",
    "b",
    "ws",
    "?",
    "#",
    "\\",
    "//",
    "%",
    "%2F",
    "%20",
    "%zz",
    "é",
    "€",
    "😀",
    " ",
    "\t",
    "\n",
    ";",
    ":",
    "@",
    "=",
    "&",
    "+",
    "..",
    ".",
    "~",
    "[",
    "]",
]

paths = st.one_of(
    st.lists(st.sampled_from(PATH_PIECES), max_size=8).map(lambda parts: "/" + "".join(parts)),
    st.lists(st.sampled_from(PATH_PIECES), max_size=6).map("".join),  # may lack the leading "/"
    st.sampled_from(["/", "", "//evil.com/x", "///x", "/api", "/api/", "/api/ws", "/apix", "\\\\x", " /x"]),
    st.text(max_size=6).map(lambda s: "/" + s),
)

QS_PIECES: list[bytes] = [
    b"a",
    b"b",
    b"A",
    b"key",
    b"=",
    b"=",
    b"&",
    b"&",
    b";",
    b"+",
    b" ",
    b"%",
    b"%4",
    b"%zz",
    b"%41",
    b"%2B",
    b"%26",
    b"%3D",
    b"%20",
    b"%00",
    b"%C3%A9",
    b"%e9",  # not UTF-8 after unquoting: U+FFFD
    b"%ff",
    b"%E2%82%AC",
    b"\xc3\xa9",  # raw UTF-8: fine for the URL, latin-1-decoded by QueryParams
    b"\xe2\x82\xac",
    b"\xe9",  # raw latin-1: Starlette's URL raises UnicodeDecodeError
    b"\xff",
    b"\x80",
    b"#",
    b"?",
    b"/",
]

query_strings = st.one_of(
    st.lists(st.sampled_from(QS_PIECES), max_size=10).map(b"".join),
    st.binary(max_size=10),
    st.sampled_from([b"", b"a=1&a=2&b=3", b"a=2&a=1", b"q=x+y", b"&&", b"=", b"a", b"a=1;b=2"]),
)

# ASCII-only query strings (so the URL can be built) for the URL-method tests: raw pieces, or
# well-formed pairs over the keys that remove/include_query_params are called with.
ascii_query_strings = st.one_of(
    st.lists(st.sampled_from([p for p in QS_PIECES if all(c < 0x80 for c in p)]), max_size=10).map(b"".join),
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "q", "é", "missing", "", "key", "ab", "a b", "k", "e", "y", "x"]),
            st.sampled_from(["1", "", "a b", "%41", "é", "&", "="]),
        ),
        max_size=5,
    ).map(lambda pairs: _urlencode(pairs).encode("ascii")),
)

SERVER_HOSTS: list[str] = [
    "127.0.0.1",
    "10.0.0.2",
    "::1",
    "[::1]",
    "fe80::1",
    "example.org",
    "Example.ORG",
    "localhost",
    "/tmp/server.sock",
    "",
]

servers = st.one_of(
    st.none(),
    st.tuples(st.sampled_from(SERVER_HOSTS), st.sampled_from([80, 443, 8000, 0, 65535, None]) | ports),
    st.tuples(st.sampled_from(SERVER_HOSTS), st.sampled_from([80, 443, 8000])).map(list),
)

clients = st.one_of(
    st.none(),
    st.tuples(st.sampled_from(["127.0.0.1", "::1", "testclient", "", "/tmp/c.sock"]), st.integers(0, 65535)),
    st.tuples(st.sampled_from(["127.0.0.1", "::1"]), st.integers(0, 65535)).map(list),
)

schemes = st.sampled_from(["ws", "wss", "http", "https"])

root_paths = st.sampled_from(["", "", "/api", "/api/", "/ap", "/", "/é", "/a b"])

path_params = st.dictionaries(
    st.sampled_from(["id", "name", "x", "é"]),
    st.one_of(st.text(max_size=4), st.integers(-5, 5)),
    max_size=3,
)

state_dicts = st.dictionaries(st.sampled_from(["a", "b", "user", "x_y"]), st.integers(0, 9), max_size=3)

extensions = st.one_of(
    st.just({}),
    st.just({"websocket.http.response": {}}),
    st.just({"websocket.http.response": {}, "tls": {}}),
    st.just({"http.response.trailers": {}}),
)


class FakeSession(dict):  # type: ignore[type-arg]
    """A session object with the `mark_accessed` hook Starlette calls."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.accessed = 0

    def mark_accessed(self) -> None:
        self.accessed += 1


class FakeRouter:
    """Stands in for a Starlette Router in `scope["router"]` / `scope["app"]` for `url_for`."""

    def __init__(self, protocol: str = "websocket", host: str = "") -> None:
        self.protocol = protocol
        self.host = host

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        from starlette.datastructures import URLPath
        from starlette.routing import NoMatchFound

        if name == "missing":
            raise NoMatchFound(name, path_params)
        suffix = "".join(f"/{k}/{v}" for k, v in sorted(path_params.items()))
        return URLPath(f"/{name}{suffix}", protocol=self.protocol, host=self.host)  # type: ignore[arg-type]


OPTIONAL_KEYS = (
    "scheme",
    "server",
    "client",
    "root_path",
    "app_root_path",
    "path_params",
    "state",
    "extensions",
    "subprotocols",
    "asgi",
    "http_version",
    "raw_path",
    "session",
    "auth",
    "user",
    "app",
    "router",
)


@st.composite
def websocket_scopes(
    draw: st.DrawFn, *, ascii_query: bool = False, with_query: bool | None = None
) -> dict[str, Any]:
    """A websocket ASGI scope.  Required keys: type, path, headers (and usually query_string)."""
    root_path = draw(root_paths)
    path = draw(paths)
    if root_path and draw(st.booleans()):
        path = root_path.rstrip("/") + path if path.startswith("/") else root_path + path
    headers: Any = draw(header_lists())
    if draw(st.integers(0, 4)) == 0:
        headers = tuple(headers)  # ASGI allows any iterable; Starlette stores list() of it back
    scope: dict[str, Any] = {"type": "websocket", "path": path, "headers": headers}
    include_qs = with_query if with_query is not None else draw(st.integers(0, 9)) != 0
    if include_qs:
        scope["query_string"] = draw(ascii_query_strings if ascii_query else query_strings)
    present = draw(st.sets(st.sampled_from(OPTIONAL_KEYS)))
    for key in OPTIONAL_KEYS:  # fixed order, so generated scopes differ only in content
        if key not in present:
            continue
        if key == "scheme":
            scope[key] = draw(schemes)
        elif key == "server":
            scope[key] = draw(servers)
        elif key == "client":
            scope[key] = draw(clients)
        elif key == "root_path":
            scope[key] = root_path
        elif key == "app_root_path":
            scope[key] = draw(root_paths)
        elif key == "path_params":
            scope[key] = draw(path_params)
        elif key == "state":
            scope[key] = draw(state_dicts)
        elif key == "extensions":
            scope[key] = draw(extensions)
        elif key == "subprotocols":
            scope[key] = draw(st.lists(st.sampled_from(["chat", "superchat", "v1.proto"]), max_size=2))
        elif key == "asgi":
            scope[key] = {"version": "3.0", "spec_version": draw(st.sampled_from(["2.0", "2.3", "2.4"]))}
        elif key == "http_version":
            scope[key] = draw(st.sampled_from(["1.1", "2"]))
        elif key == "raw_path":
            scope[key] = path.encode("utf-8", "surrogatepass")
        elif key == "session":
            scope[key] = draw(st.sampled_from([{}, {"u": 1}, "fake"]))
            if scope[key] == "fake":
                scope[key] = FakeSession(u=2)
        elif key == "auth":
            scope[key] = draw(st.sampled_from([None, "token", ("scheme", "cred")]))
        elif key == "user":
            scope[key] = draw(st.sampled_from([None, "alice"]))
        elif key == "app":
            scope[key] = draw(st.sampled_from(["router", "plain"]))
            scope[key] = FakeRouter() if scope[key] == "router" else FakeApp()
        elif key == "router":
            scope[key] = FakeRouter(
                protocol=draw(st.sampled_from(["websocket", "http", ""])),
                host=draw(st.sampled_from(["", "other.example:81"])),
            )
    return scope


class FakeApp:
    """An `app` object without `url_path_for`: `url_for` raises AttributeError through it."""


# Keys that WebSocket properties are accessed under, in a generated order.
WS_PROPERTIES = [
    "url",
    "base_url",
    "headers",
    "query_params",
    "path_params",
    "cookies",
    "client",
    "state",
    "app",
    "session",
    "auth",
    "user",
    "url_for",
    "url_for_missing",
    "url_for_params",
    "mapping",
    "state_write",
    "scope_identity",
    "states",
]
