"""Hypothesis strategies for the differential tests (ferrosocket against tests/reference.py).

Everything here produces plain data (dicts, lists, tuples, str, bytes, ints), so each side of a
comparison can get its own ``copy.deepcopy`` of the same example.  Scopes stay inside what ASGI
allows (str paths, bytes query strings, iterables of (bytes, bytes) headers); the edge cases are in
the values, which is where Starlette's behaviour is easy to get wrong.
"""

from __future__ import annotations

import enum
import json
import math
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


# ---------------------------------------------------------------------------------------------
# Lookup keys (for Headers and QueryParams)
# ---------------------------------------------------------------------------------------------

SPECIAL_KEYS: list[str] = [
    "host",
    "HOST",
    "Host",
    "cookie",
    "k",
    "\u212a",  # KELVIN SIGN: str.lower() gives ASCII "k"
    "\u0130",  # LATIN CAPITAL I WITH DOT: lower() is two code points, not latin-1
    "\xdf",  # sharp s
    "\xc9",  # upper-case latin-1: lower() is "\xe9"
    "x-\xc9",
    "x-\xe9",
    "\u20ac",  # not latin-1: encode raises UnicodeEncodeError
    "",
    "missing",
    "x-a",
    "X-A",
    "a b",
    "vary",
    "Vary",
]


def _case_variants(name: str) -> st.SearchStrategy[str]:
    return st.one_of(
        st.just(name),
        st.just(name.upper()),
        st.just(name.lower()),
        st.just(name.swapcase()),
    )


@st.composite
def header_keys(draw: st.DrawFn, raw: list[tuple[bytes, bytes]]) -> str:
    names = [k.decode("latin-1") for k, _ in raw]
    if names and draw(st.booleans()):
        return draw(st.sampled_from(names).flatmap(_case_variants))
    return draw(st.one_of(st.sampled_from(SPECIAL_KEYS), st.text(max_size=4)))


# ---------------------------------------------------------------------------------------------
# MutableHeaders operations
# ---------------------------------------------------------------------------------------------

header_str_keys = st.one_of(
    st.sampled_from(SPECIAL_KEYS), st.text(alphabet="abAB-\xe9\xc9\u212a\u20ac", max_size=4)
)
header_str_values = st.one_of(
    st.sampled_from(
        ["", "v", "V", "a, b", "\xe9", "\u20ac", "x y", "Accept-Encoding", "Cookie", "Origin", "origin"]
    ),
    st.text(alphabet="ab ,\xe9\u20ac", max_size=4),
)
header_mappings = st.dictionaries(header_str_keys, header_str_values, max_size=3)

mutable_header_ops = st.lists(
    st.one_of(
        st.tuples(st.just("set"), header_str_keys, header_str_values),
        st.tuples(st.just("del"), header_str_keys),
        st.tuples(st.just("append"), header_str_keys, header_str_values),
        st.tuples(st.just("setdefault"), header_str_keys, header_str_values),
        st.tuples(st.just("update"), header_mappings),
        st.tuples(st.just("update_headers"), header_mappings),
        st.tuples(st.just("or"), header_mappings),
        st.tuples(st.just("ior"), header_mappings),
        st.tuples(st.just("or_list"), st.just([("a", "b")])),
        st.tuples(st.just("ior_list"), st.just([("a", "b")])),
        st.tuples(st.just("add_vary_header"), header_str_values),
        st.tuples(st.just("raw_append"), st.tuples(header_names, header_values)),
        st.tuples(st.just("getitem"), header_str_keys),
    ),
    max_size=8,
)

# ---------------------------------------------------------------------------------------------
# QueryParams inputs
# ---------------------------------------------------------------------------------------------

QS_TEXT_PIECES = [p.decode("latin-1") for p in QS_PIECES] + ["é", "€", "😀", "%E2%82%AC"]

query_texts = st.lists(st.sampled_from(QS_TEXT_PIECES), max_size=10).map("".join)

qp_scalars = st.one_of(
    st.text(alphabet="ab=&+% é€", max_size=4),
    st.integers(-3, 3),
    st.none(),
    st.booleans(),
    st.sampled_from([0.0, 1.5, -2.0, 1e-07, 1e20]),
)

query_pairs = st.lists(
    st.tuples(st.one_of(st.sampled_from(["a", "b", "A", "é", "", "a b"]), qp_scalars), qp_scalars), max_size=6
)

query_mappings = st.dictionaries(
    st.sampled_from(["a", "b", "A", "é", "", "a b", "&"]), qp_scalars, max_size=4
)

query_kwargs = st.dictionaries(st.sampled_from(["a", "b", "c", "é", "x_y"]), qp_scalars, max_size=3)

qp_keys = st.one_of(
    st.sampled_from(["a", "b", "A", "é", "", "a b", "key", "missing", " a"]), st.text(max_size=3)
)

# ---------------------------------------------------------------------------------------------
# URL inputs
# ---------------------------------------------------------------------------------------------

URL_STRINGS: list[str] = [
    "",
    "/",
    "ws://example.com/",
    "ws://example.com:80/path?x=1#frag",
    "wss://user:pass@example.com:443/p?q=a+b&q=c",
    "http://user@host/",
    "http://:pw@host/",
    "http://user:@host/",
    "https://[::1]:8000/x",
    "https://[::1/x",
    "http://host:99999/",
    "http://host:abc/",
    "http://host:-1/",
    "http://HOST.Example/",
    "//host/path",
    "/%2F/x",
    "relative/path?q",
    "ws://a@b@c/",
    "http://h/p;params?q#f#g",
    "mailto:x@y",
    " http://h/ ",
    "http://h/\tp",
    "http://é.com/é?é=é#é",
    "http://[v1.x]/",
    "http://h:0/",
    "http://h:/",
]

url_strings = st.one_of(
    st.sampled_from(URL_STRINGS),
    st.text(alphabet="hw:/?#@[]%.:ab01é +\\", max_size=16),
)

url_component_values = st.one_of(
    st.sampled_from(
        ["", "a", "ws", "wss", "http", "/p", "p", "x=1&y=2", "host:8000", "[::1]:80", "é", "a b", "#", "?"]
    ),
    st.text(alphabet="ab:/?#@[]% é", max_size=6),
)

url_component_kwargs = st.dictionaries(
    st.sampled_from(["scheme", "netloc", "path", "query", "fragment"]),
    url_component_values,
    max_size=4,
)

url_replace_kwargs = st.dictionaries(
    st.sampled_from(
        ["scheme", "netloc", "path", "query", "fragment", "username", "password", "hostname", "port"]
    ),
    url_component_values,
    max_size=4,
).flatmap(
    lambda kw: st.fixed_dictionaries(
        {
            k: (
                st.one_of(st.none(), st.sampled_from([0, 80, 443, 8000, 65535, 65536]))
                if k == "port"
                else st.just(v)
            )
            for k, v in kw.items()
        }
    )
)

url_replace_kwargs_with_hosts = st.one_of(
    url_replace_kwargs,
    st.fixed_dictionaries(
        {"hostname": st.sampled_from(["::1", "fe80::1", "[::1]", "1:2", "example.com", "Ex.COM", "", "a@b"])},
        optional={
            "port": st.sampled_from([None, 80, 8080]),
            "username": st.sampled_from(["u", "", "a@b", "u:v"]),
            "password": st.sampled_from(["p", "", "p@ss"]),
        },
    ),
)

query_param_kwargs = st.dictionaries(
    st.sampled_from(["a", "b", "q", "é", "x y", "&", "=", "key", "ab"]),
    st.one_of(st.text(alphabet="ab &=+é", max_size=4), st.integers(-2, 2), st.none(), st.booleans()),
    max_size=3,
)

_remove_names = ["a", "b", "q", "é", "missing", "", "key", "ab", "a b"]
remove_keys = st.one_of(
    st.sampled_from(_remove_names),
    st.lists(st.sampled_from(_remove_names), max_size=3),
    st.lists(st.sampled_from(_remove_names), max_size=3).map(tuple),
)

# ---------------------------------------------------------------------------------------------
# JSON payloads
# ---------------------------------------------------------------------------------------------


# (What send_json sends is compared by its parsed value: json.dumps and orjson spell floats differently.)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
)

json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.text(max_size=4), children, max_size=3),
    ),
    max_leaves=6,
)


class Circular(list):  # type: ignore[type-arg]
    """Marker: replaced by a self-containing list when the payload is built."""


class Color(enum.Enum):
    """A plain Enum: orjson writes its members as their value, Starlette (json.dumps) raises TypeError."""

    RED = "red"
    HALF = 0.5


JSON_EDGE_VALUES: list[Any] = [
    {1: "int key"},
    {None: 1},
    {True: 1, "a": 2},
    {1.5: 1},
    {"b": 1, "a": 2},
    (1, 2),
    2**64,
    2**70,
    -(2**64),
    1e-7,
    1e-5,
    1e16,
    1.5e300,
    5e-324,
    -0.0,
    0.1,
    math.nan,
    math.inf,
    -math.inf,
    "\ud800",
    "é€😀",
    "\x00\x1f",
    "</script>",
    {"a": (1, "x")},
    {1, 2},
    b"bytes",
    bytearray(b"x"),
    object(),
    Circular(),
    "line\u2028sep",
    Color.RED,
    Color.HALF,
    [Color.RED, math.nan],  # both would send the stdlib's way; the enum member must still raise
]

json_edge_values = st.one_of(st.sampled_from(JSON_EDGE_VALUES), json_values)

JSON_TEXT_EDGES: list[str] = [
    "",
    "{",
    " 1 ",
    "[1,]",
    "1 2",
    "01",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "-1e400",
    "18446744073709551616",
    "9223372036854775808",
    "-9223372036854775809",
    '"\\ud800"',
    '"\\udc00\\ud800"',
    '{"a":1,"a":2}',
    "\ufeff1",
    "[" * 50 + "]" * 50,
    "true",
    "nul",
    '"\x01"',
    "1.0",
    "1E2",
    "-0",
    '{"a": [1, 2, {"b": null}]}',
]

json_texts = st.one_of(
    st.sampled_from(JSON_TEXT_EDGES),
    json_values.map(lambda v: json.dumps(v)),
    json_values.map(lambda v: json.dumps(v, ensure_ascii=False)),
)


def materialise_json(value: Any) -> Any:
    """Turn markers into the real (unbuildable-by-hypothesis) objects; call once per side."""
    if isinstance(value, Circular):
        circ: list[Any] = []
        circ.append(circ)
        return circ
    return value


# ---------------------------------------------------------------------------------------------
# Receive scripts (what the "server" hands to the app)
# ---------------------------------------------------------------------------------------------

texts = st.one_of(st.text(max_size=8), json_texts)
binaries = st.one_of(st.binary(max_size=8), json_texts.map(lambda t: t.encode("utf-8", "surrogatepass")))

receive_text_msgs = st.builds(lambda t: {"type": "websocket.receive", "text": t}, texts)
receive_bytes_msgs = st.builds(lambda b: {"type": "websocket.receive", "bytes": b}, binaries)
receive_text_none_bytes = st.builds(lambda t: {"type": "websocket.receive", "bytes": None, "text": t}, texts)
receive_bytes_none_text = st.builds(
    lambda b: {"type": "websocket.receive", "text": None, "bytes": b}, binaries
)


@st.composite
def disconnect_msgs(draw: st.DrawFn, *, well_formed: bool = True) -> dict[str, Any]:
    msg: dict[str, Any] = {"type": "websocket.disconnect"}
    if well_formed or draw(st.integers(0, 3)) != 0:
        msg["code"] = draw(st.sampled_from([1000, 1001, 1005, 1006, 1011, 3000, 4001]))
    if draw(st.booleans()):
        msg["reason"] = draw(st.sampled_from([None, "", "bye", "é€"]))
    return msg


odd_receive_msgs = st.one_of(
    st.just({"type": "websocket.receive"}),  # neither text nor bytes
    st.builds(
        lambda t, b: {"type": "websocket.receive", "text": t, "bytes": b},
        st.text(max_size=3),
        st.binary(max_size=3),
    ),
    st.builds(lambda b: {"type": "websocket.receive", "text": b}, st.binary(max_size=3)),  # wrong type
    st.builds(lambda t: {"type": "websocket.receive", "bytes": t}, st.text(max_size=3)),  # wrong type
    st.just({"type": "websocket.receive", "text": None, "bytes": None}),
    st.just({"type": "websocket.http.response.start", "status": 403, "headers": []}),
    st.just({"type": "websocket.send", "text": "x"}),
    st.just({"type": "websocket.accept"}),
    st.just({"type": "http.request", "body": b""}),
    st.just({"type": "lifespan.startup"}),
    st.just({"type": "websocket.connect", "extra": 1}),
    st.just({"type": ["websocket.connect"]}),  # unhashable: Starlette compares it with != while CONNECTING
)

# Receive-side faults, placed into the script as special entries.
RECV_FAULTS = [("raise", "OSError"), ("raise", "RuntimeError"), ("cancel",)]


@st.composite
def receive_scripts(draw: st.DrawFn, *, odd: bool = True, faults: bool = False) -> list[Any]:
    script: list[Any] = []
    if draw(st.integers(0, 9)) != 0:
        script.append({"type": "websocket.connect"})
    body_kinds = [receive_text_msgs, receive_bytes_msgs, receive_text_none_bytes, receive_bytes_none_text]
    if odd:
        body_kinds.append(odd_receive_msgs)
    body_kinds.append(disconnect_msgs(well_formed=not odd))
    if odd:
        body_kinds.append(st.just({"type": "websocket.connect"}))
    if faults:
        body_kinds.append(st.sampled_from(RECV_FAULTS))
    script += draw(st.lists(st.one_of(*body_kinds), max_size=8))
    ending = draw(st.sampled_from(["disconnect", "disconnect", "exhaust"]))
    if ending == "disconnect":
        script.append(draw(disconnect_msgs(well_formed=not odd)))
    return script


# ---------------------------------------------------------------------------------------------
# Send-side behaviour (what the "server" does when the app sends)
# ---------------------------------------------------------------------------------------------

SEND_FAULTS = ["OSError", "ConnectionResetError", "RuntimeError", "cancel"]


@st.composite
def send_faults(draw: st.DrawFn, *, enabled: bool) -> dict[int, str]:
    """Map from 0-based send-call index to the fault that call raises."""
    if not enabled:
        return {}
    return draw(st.dictionaries(st.integers(0, 6), st.sampled_from(SEND_FAULTS), max_size=2))


# ---------------------------------------------------------------------------------------------
# App-side operations on the WebSocket
# ---------------------------------------------------------------------------------------------

STATE_NAMES = ["CONNECTING", "CONNECTED", "DISCONNECTED", "RESPONSE"]

good_close_codes = st.sampled_from([1000, 1001, 1008, 1011, 3000, 4000, 4999])
odd_close_codes = st.sampled_from([0, 999, 1004, 1005, 1006, 1015, 5000, -1, 2**31])
good_reasons = st.one_of(st.none(), st.sampled_from(["", "bye", "é€"]), st.text(max_size=4))
odd_reasons = st.sampled_from([["a", "list"], {"k": [1, None]}, 5, b"bytes", "x" * 130, "é" * 70, "\ud800"])

subprotocols = st.one_of(st.none(), st.sampled_from(["chat", "", "v1.proto", "a b"]))
some_accept_headers = st.one_of(
    st.just([]),
    st.lists(st.tuples(st.sampled_from([b"x-a", b"set-cookie", b"X-B"]), st.binary(max_size=4)), max_size=3),
)
good_accept_headers = st.one_of(st.none(), some_accept_headers)
odd_accept_headers = st.one_of(
    st.lists(st.tuples(st.sampled_from([b"x-a", b"set-cookie"]), st.binary(max_size=3)), max_size=2).map(
        tuple
    ),
    st.just([[b"x-list", b"pair"]]),
    st.just([("x-str", "value")]),
    st.just({b"x-dict": b"v"}),
    st.just("gen"),  # replaced by a generator of pairs when run
)


@st.composite
def raw_messages(draw: st.DrawFn, *, odd: bool) -> dict[str, Any]:
    """Messages for `websocket.send()`: every type, for every state."""
    kind = draw(
        st.sampled_from(
            [
                "accept",
                "send_text",
                "send_bytes",
                "close",
                "response_start",
                "response_body",
                "unknown",
            ]
            + (
                ["no_type", "send_both", "send_neither", "http_start", "close_no_code", "unhashable_type"]
                + ["send_bytearray", "bad_status", "bad_body"]
                if odd
                else []
            )
        )
    )
    if kind == "accept":
        msg: dict[str, Any] = {"type": "websocket.accept"}
        if draw(st.booleans()):
            msg["subprotocol"] = draw(subprotocols)
        if draw(st.booleans()):
            msg["headers"] = draw(some_accept_headers)
        return msg
    if kind == "send_text":
        return {"type": "websocket.send", "text": draw(st.text(max_size=4))}
    if kind == "send_bytes":
        return {"type": "websocket.send", "bytes": draw(st.binary(max_size=4))}
    if kind == "close":
        msg = {"type": "websocket.close", "code": draw(good_close_codes)}
        if draw(st.booleans()):
            msg["reason"] = draw(st.sampled_from(["", "bye"]))
        return msg
    if kind == "response_start":
        return {
            "type": "websocket.http.response.start",
            "status": draw(st.sampled_from([403, 401, 500])),
            "headers": [(b"content-type", b"text/plain")],
        }
    if kind == "response_body":
        msg = {"type": "websocket.http.response.body", "body": draw(st.binary(max_size=4))}
        more = draw(st.sampled_from(["absent", True, False]))
        if more != "absent":
            msg["more_body"] = more
        return msg
    if kind == "unknown":
        return {
            "type": draw(st.sampled_from(["websocket.foo", "http.response.start", "websocket.connect", ""]))
        }
    if kind == "no_type":
        return {"text": "no type"}
    if kind == "send_both":
        return {"type": "websocket.send", "text": "t", "bytes": b"b"}
    if kind == "send_neither":
        return {"type": "websocket.send"}
    if kind == "http_start":
        return {"type": "http.response.start", "status": 403, "headers": []}
    if kind == "unhashable_type":  # Starlette compares it with != in the RESPONSE state
        return {"type": ["websocket.http.response.body"], "body": b""}
    if kind == "send_bytearray":
        return {"type": "websocket.send", "bytes": bytearray(draw(st.binary(max_size=4)))}
    if kind == "bad_status":
        msg = {"type": "websocket.http.response.start", "headers": []}
        status = draw(st.sampled_from([True, 99, 600, "403", None, "missing"]))
        return msg if status == "missing" else {**msg, "status": status}
    if kind == "bad_body":
        body = draw(st.sampled_from(["missing", None, bytearray(b"x"), "str"]))
        msg = {"type": "websocket.http.response.body", "more_body": draw(st.booleans())}
        return msg if body == "missing" else {**msg, "body": body}
    return {"type": "websocket.close"}


# Denial responses: a tiny ASGI response that sends a sequence of messages.
DENIAL_VARIANTS: dict[str, list[dict[str, Any]]] = {
    "start+body": [
        {
            "type": "websocket.http.response.start",
            "status": 403,
            "headers": [(b"content-type", b"text/plain")],
        },
        {"type": "websocket.http.response.body", "body": b"denied"},
    ],
    "start+more+body": [
        {"type": "websocket.http.response.start", "status": 401, "headers": []},
        {"type": "websocket.http.response.body", "body": b"a", "more_body": True},
        {"type": "websocket.http.response.body", "body": b"b", "more_body": False},
    ],
    "start-only": [{"type": "websocket.http.response.start", "status": 403, "headers": []}],
    "start+body+extra": [
        {"type": "websocket.http.response.start", "status": 403, "headers": []},
        {"type": "websocket.http.response.body", "body": b""},
        {"type": "websocket.http.response.body", "body": b"late"},
    ],
    "accept": [{"type": "websocket.accept"}],
    "close": [{"type": "websocket.close", "code": 1000, "reason": ""}],
    "nothing": [],
    "starlette-plaintext": [],  # a real starlette.responses.PlainTextResponse
}


@st.composite
def accepts(draw: st.DrawFn, *, odd: bool) -> tuple[Any, ...]:
    headers = draw(st.one_of(good_accept_headers, odd_accept_headers) if odd else good_accept_headers)
    sub = draw(st.one_of(subprotocols, st.just(b"bytes-subprotocol")) if odd else subprotocols)
    style = draw(st.sampled_from(["positional", "keyword", "default"]))
    return ("accept", sub, headers, style)


@st.composite
def ops(draw: st.DrawFn, *, odd: bool) -> tuple[Any, ...]:
    kinds = [
        "accept",
        "accept",
        "receive",
        "receive_text",
        "receive_text",
        "receive_bytes",
        "receive_json",
        "iter_text",
        "iter_bytes",
        "iter_json",
        "send",
        "send",
        "send_text",
        "send_text",
        "send_bytes",
        "send_json",
        "close",
        "close",
        "send_denial_response",
        "set_client_state",
        "set_application_state",
    ]
    kind = draw(st.sampled_from(kinds))
    if kind == "accept":
        return draw(accepts(odd=odd))
    if kind == "receive_json":
        mode = draw(st.sampled_from(["text", "binary", "default", "invalid", "TEXT"]))
        return ("receive_json", mode)
    if kind == "send":
        return ("send", draw(raw_messages(odd=odd)))
    if kind == "send_text":
        data = draw(st.one_of(st.text(max_size=6), st.just(b"raw")) if odd else st.text(max_size=6))
        return ("send_text", data)
    if kind == "send_bytes":
        data = draw(
            st.one_of(
                st.binary(max_size=6),
                st.just("str"),
                st.binary(max_size=6).map(bytearray),
                st.binary(max_size=6).map(memoryview),
            )
            if odd
            else st.binary(max_size=6)
        )
        return ("send_bytes", data)
    if kind == "send_json":
        data = draw(json_values)
        mode = draw(st.sampled_from(["text", "binary", "default", "invalid"]))
        return ("send_json", data, mode)
    if kind == "close":
        code = draw(st.one_of(st.just("default"), good_close_codes, *([odd_close_codes] if odd else [])))
        reason = draw(st.one_of(st.just("default"), good_reasons, *([odd_reasons] if odd else [])))
        return ("close", code, reason)
    if kind == "send_denial_response":
        return ("send_denial_response", draw(st.sampled_from(sorted(DENIAL_VARIANTS))))
    if kind in ("set_client_state", "set_application_state"):
        return (kind, draw(st.sampled_from(STATE_NAMES)))
    return (kind,)


@st.composite
def op_sequences(draw: st.DrawFn, *, odd: bool, max_size: int = 10) -> list[tuple[Any, ...]]:
    seq = draw(st.lists(ops(odd=odd), max_size=max_size))
    first = draw(st.integers(0, 3))
    if first:  # most real apps accept first; the first accept is the one whose arguments are used
        seq.insert(0, ("accept", None, None, "default") if first == 1 else draw(accepts(odd=odd)))
    return seq


# A small websocket scope for the operation tests (the properties are covered elsewhere).
op_scopes = st.builds(
    lambda ext, subs: {
        "type": "websocket",
        "path": "/ws",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "scheme": "ws",
        "server": ("testserver", 80),
        "client": ("testclient", 50000),
        "subprotocols": subs,
        **({} if ext is None else {"extensions": ext}),
    },
    st.one_of(st.none(), extensions),
    st.sampled_from([[], ["chat"]]),
)

# ---------------------------------------------------------------------------------------------
# Plain inputs: well-typed, already normalised, outside every documented difference
# ---------------------------------------------------------------------------------------------
# For the tests that check that the reference still equals Starlette where docs/differences.md lists
# no difference. What cannot be excluded up front (a send after the peer's disconnect was received) is
# cut off by the test itself.

plain_header_values = st.binary(max_size=4).filter(lambda v: not any(c in v for c in b"\r\n\0"))
plain_accept_headers = st.lists(
    st.tuples(st.sampled_from([b"x-a", b"set-cookie", b"x-b"]), plain_header_values), max_size=3
)
plain_reasons = st.one_of(st.none(), st.sampled_from(["", "bye", "é€"]), st.text(max_size=4))
PLAIN_DENIALS = sorted(set(DENIAL_VARIANTS) - {"accept"})  # its {"type": "websocket.accept"} is completed

# The scope of the plain operation tests offers the one subprotocol they accept with.
plain_scopes = op_scopes.map(lambda scope: {**scope, "subprotocols": ["chat"]})


plain_accepts = st.tuples(
    st.just("accept"),
    st.sampled_from([None, "chat"]),
    st.none() | plain_accept_headers,
    st.sampled_from(["positional", "keyword", "default"]),
)


@st.composite
def plain_raw_messages(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    """Complete messages for ``websocket.send()``: nothing for the reference to check or fill in."""
    choice = draw(st.sampled_from(["accept", "send", "close", "response_start", "response_body", "unknown"]))
    if choice == "accept":
        subprotocol = draw(st.sampled_from([None, "chat"]))
        return {"type": "websocket.accept", "subprotocol": subprotocol, "headers": draw(plain_accept_headers)}
    if choice == "send":
        payload = draw(st.text(max_size=4) if kind == "text" else st.binary(max_size=4))
        return {"type": "websocket.send", kind: payload}
    if choice == "close":
        return {
            "type": "websocket.close",
            "code": draw(good_close_codes),
            "reason": draw(st.text(max_size=4)),
        }
    if choice == "response_start":
        return {"type": "websocket.http.response.start", "status": 403, "headers": [(b"x-a", b"1")]}
    if choice == "response_body":
        return {"type": "websocket.http.response.body", "body": b"x", "more_body": draw(st.booleans())}
    return {"type": draw(st.sampled_from(["websocket.foo", "http.response.start", ""]))}


@st.composite
def plain_ops(draw: st.DrawFn, kind: str) -> tuple[Any, ...]:
    """An operation whose receives match the script's payload ``kind`` ("text" or "bytes")."""
    receivers: list[tuple[Any, ...]] = (
        [
            ("receive_text",),
            ("iter_text",),
            ("receive_json", "text"),
            ("receive_json", "default"),
            ("iter_json",),
        ]
        if kind == "text"
        else [("receive_bytes",), ("iter_bytes",), ("receive_json", "binary")]
    )
    choice = draw(
        st.sampled_from(["accept", "receive", "receive", "send", "data", "data", "close", "denial"])
    )
    if choice == "accept":
        return draw(plain_accepts)
    if choice == "receive":
        return draw(st.sampled_from([("receive",), ("receive_json", "invalid"), *receivers]))
    if choice == "send":
        return ("send", draw(plain_raw_messages(kind)))
    if choice == "data":
        return draw(
            st.one_of(
                st.tuples(st.just("send_text"), st.text(max_size=6)),
                st.tuples(st.just("send_bytes"), st.binary(max_size=6)),
                st.tuples(st.just("send_json"), json_values, st.sampled_from(["text", "binary", "default"])),
            )
        )
    if choice == "close":
        return (
            "close",
            draw(st.just("default") | good_close_codes),
            draw(st.just("default") | plain_reasons),
        )
    return ("send_denial_response", draw(st.sampled_from(PLAIN_DENIALS)))


@st.composite
def plain_cases(draw: st.DrawFn) -> tuple[list[Any], list[tuple[Any, ...]]]:
    """A receive script with payloads of one kind, and operations that receive that kind."""
    kind = draw(st.sampled_from(["text", "bytes"]))
    payloads = texts if kind == "text" else binaries
    body = st.one_of(payloads.map(lambda p: {"type": "websocket.receive", kind: p}), disconnect_msgs())
    script = [{"type": "websocket.connect"}, *draw(st.lists(body, max_size=6)), draw(disconnect_msgs())]
    seq = draw(st.lists(plain_ops(kind), max_size=10))
    if draw(st.integers(0, 2)) != 0:
        seq.insert(0, draw(plain_accepts))
    return script, seq


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


# =============================================================================================
# Normalisation and comparison helpers shared by the differential tests
# =============================================================================================

import collections.abc as _abc  # noqa: E402

_MAX_DEPTH = 12

# Builtin exception classes whose membership is part of an exception's observable identity
# (`except RuntimeError:` in user code must behave the same on both sides).
BUILTIN_EXC_CHECKS: tuple[type[BaseException], ...] = (
    RuntimeError,
    OSError,
    ValueError,
    UnicodeError,
    KeyError,
    LookupError,
    TypeError,
    AttributeError,
    AssertionError,
    NotImplementedError,
)


def exc_sig(exc: BaseException) -> tuple[Any, ...]:
    """An exception as compared across the two libraries.

    Builtin exceptions compare by the type itself, others by type name; then ``str(exc)``, the
    builtin classes it is an instance of, and ``code``/``reason`` for WebSocketDisconnect.
    """
    t = type(exc)
    tkey: Any = t if t.__module__ == "builtins" else t.__name__
    bases = tuple(b.__name__ for b in BUILTIN_EXC_CHECKS if isinstance(exc, b))
    extra: tuple[Any, ...] = ()
    if t.__name__ == "WebSocketDisconnect" or any(c.__name__ == "WebSocketDisconnect" for c in t.__mro__):
        extra = (norm(getattr(exc, "code", "<no code>")), norm(getattr(exc, "reason", "<no reason>")))
    try:
        text = str(exc)
    except Exception as e:  # pragma: no cover - only on a broken __str__
        text = f"<str() raised {type(e).__name__}>"
    return ("raise", tkey, text, bases, extra)


def norm(x: Any, _depth: int = 0) -> Any:
    """A plain, comparable form of a value returned by either library."""
    if _depth > _MAX_DEPTH:
        return ("<too deep>",)
    d = _depth + 1
    t = type(x)
    name = t.__name__
    if x is None or t in (bool, int, str, bytes, bytearray):
        return (name, x)
    if t is float:
        return ("float", "nan" if math.isnan(x) else repr(x))
    if name == "URL":
        return ("URL", str(x))
    if name == "WebSocketState":
        return ("WebSocketState", getattr(x, "name", "?"), getattr(x, "value", "?"))
    if name in ("Headers", "MutableHeaders"):
        return (name, norm(outcome(lambda: list(x.raw)), d))
    if name == "QueryParams":
        return (name, norm(outcome(lambda: list(x.multi_items())), d))
    if name == "State":
        return ("State", norm(outcome(lambda: [(k, x[k]) for k in x]), d))
    if isinstance(x, BaseException):
        return exc_sig(x)
    if isinstance(x, tuple) and hasattr(t, "_fields"):  # namedtuples: Address, SplitResult
        return (name, tuple(norm(v, d) for v in x))
    if t is tuple:
        return ("tuple", tuple(norm(v, d) for v in x))
    if t is list:
        return ("list", [norm(v, d) for v in x])
    if isinstance(x, dict):
        items = sorted(((norm(k, d), norm(v, d)) for k, v in x.items()), key=repr)
        extra = getattr(x, "accessed", None)
        return (name, items) if extra is None else (name, items, ("accessed", extra))
    if isinstance(x, _abc.KeysView):
        return ("KeysView", [norm(v, d) for v in x])
    if isinstance(x, _abc.ItemsView):
        return ("ItemsView", [norm(v, d) for v in x])
    if isinstance(x, _abc.ValuesView):
        return ("ValuesView", [norm(v, d) for v in x])
    if isinstance(x, (set, frozenset)):
        return (name, sorted((norm(v, d) for v in x), key=repr))
    if t.__module__.startswith("starlette") or name in ("FakeRouter", "FakeApp"):
        return ("obj", name)
    return ("obj", t.__module__, t.__qualname__)


def outcome(thunk: Any) -> Any:
    """Call ``thunk``; its normalised value, or the signature of the exception it raised."""
    try:
        value = thunk()
    except Exception as exc:
        return exc_sig(exc)
    return ("ok", norm(value))


def show_pair(labels: tuple[str, str], r: Any, s: Any, indent: str = "    ") -> str:
    """Two differing outcomes, one line each, labelled."""
    width = max(map(len, labels)) + 1
    return "\n".join(
        f"{indent}{label + ':':<{width}} {value!r}" for label, value in zip(labels, (r, s), strict=True)
    )


class Differ:
    """Applies the same probe to both sides (the reference and ferrosocket, or Starlette and the
    reference) and records mismatches."""

    def __init__(self, ref: Any, sut: Any, labels: tuple[str, str] = ("reference", "ferrosocket")) -> None:
        self.ref = ref
        self.sut = sut
        self.labels = labels
        self.mismatches: list[str] = []
        self.checks = 0

    @classmethod
    def of(cls, impls: Any) -> Differ:
        """A Differ over a pair from conftest (``impls`` or ``starlette_vs_reference``)."""
        return cls(*impls, labels=impls.labels)

    def check(self, label: str, probe: Any) -> None:
        self.checks += 1
        r = outcome(lambda: probe(self.ref))
        s = outcome(lambda: probe(self.sut))
        if r != s:
            self.mismatches.append(f"{label}:\n{show_pair(self.labels, r, s)}")

    def same(self, label: str, r: Any, s: Any) -> None:
        """Compare two already computed values/outcomes."""
        self.checks += 1
        if r != s:
            self.mismatches.append(f"{label}:\n{show_pair(self.labels, r, s)}")

    def done(self) -> None:
        if self.mismatches:
            shown = self.mismatches[:12]
            more = len(self.mismatches) - len(shown)
            raise AssertionError(
                f"{len(self.mismatches)} of {self.checks} probes differ:\n"
                + "\n".join(shown)
                + (f"\n  ... and {more} more" if more else "")
            )


def scaled(n: int) -> int:
    """Scale a per-test example count from the "ci" baseline (100 examples) to the loaded profile."""
    from hypothesis import settings

    return max(1, n * settings.default.max_examples // 100)


def diff_settings(n: int) -> Any:
    """Hypothesis settings for a differential test that runs about ``n`` examples under "ci"."""
    from hypothesis import HealthCheck, settings

    return settings(
        max_examples=scaled(n),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
