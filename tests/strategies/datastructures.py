"""Inputs for Headers, MutableHeaders, QueryParams and URL: lookup keys, header mappings and
mutable operations, query-params inputs, URL strings, components and replace() arguments."""

from __future__ import annotations

from hypothesis import strategies as st

from .scopes import QS_PIECES, header_names, header_values

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
