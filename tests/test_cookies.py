"""``WebSocket.cookies``' parser (Rust) against Starlette's ``cookie_parser`` on generated
``Cookie`` headers: the separators, quotes, escapes and whitespace its algorithm reacts to, with
the characters Python's ``str.strip()`` strips but Rust's ``trim()`` would not (and back)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import cookie_parser as starlette_cookie_parser

from ferrosocket._core import cookie_parser

# What the parser reacts to, then plain text: letters, digits (octal escapes), latin-1 and beyond.
SPECIAL = [
    ";",
    "=",
    '"',
    "\\",
    "\n",
    " ",
    "\t",
    "\x0b",
    "\r",
    "\x1b",
    "\x1c",
    "\x1f",
    "\x7f",
    "\x85",
    "\xa0",
    "\u2003",
    "\u200b",
    "0",
    "3",
    "7",
    "8",
]
cookie_text = st.lists(
    st.one_of(st.sampled_from(SPECIAL), st.text(alphabet=st.characters(max_codepoint=0x3000), max_size=4)),
    max_size=24,
).map("".join)


def quoted(value: str) -> str:
    return f'"{value}"'


cookie_pair = st.tuples(
    st.text(alphabet='ab \\"=;', max_size=3), st.one_of(cookie_text, cookie_text.map(quoted))
).map(lambda pair: f"{pair[0]}={pair[1]}")
cookie_header = st.one_of(cookie_text, st.lists(cookie_pair, max_size=6).map("; ".join))


@given(cookie_header)
def test_same_dict_as_starlette(header: str) -> None:
    expected = starlette_cookie_parser(header)
    got = cookie_parser(header)
    assert got == expected
    assert list(got) == list(expected)  # the same order too


def test_browser_header_and_starlettes_own_cases() -> None:
    for header in [
        "_ga=GA1.1.5.1700000000; theme=dark; session=s5.x; lang=fr",
        "keebler=E=mc2; L=c",
        'a="\\101\\"b"; a=2; b',
        "=; ;",
        '"',
        'x="\\400\\',
    ]:
        assert cookie_parser(header) == starlette_cookie_parser(header), header


def test_not_a_str_is_a_type_error() -> None:
    for bad in [b"a=1", None, 1]:
        try:
            cookie_parser(bad)  # type: ignore[arg-type]
        except TypeError:
            continue
        raise AssertionError(f"cookie_parser({bad!r}) did not raise TypeError")
