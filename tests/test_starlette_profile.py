"""The per-release profile of ``install()`` (``ferrosocket._starlette_profile``), in this process.

Each flag is checked at the releases on both sides of the one that changed it; the connection
class an older release gets is exercised here for what does not need that release's own code
(cookies, session, state, pickling). What does (the URL rules, exceptions, the whole WebSocket) is
compared with each release's own class by ``make dropin-matrix`` (tests/dropin/diff_eras.py).
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any

import pytest

import ferrosocket
from ferrosocket import _core
from ferrosocket import _starlette_profile as profile
from ferrosocket.datastructures import URL, QueryParams

# (flag, the last release without today's behaviour, the first release with it)
BOUNDARIES = [
    ("cookies_every_header", (0, 48, 0), (0, 49, 0)),
    ("state_mapping", (0, 51, 0), (0, 52, 0)),
    ("session_mark_accessed", (0, 52, 1), (1, 0, 0)),
    ("websocket_disconnected", (1, 6, 0), (1, 7, 0)),
    ("url_rules", (1, 8, 0), (1, 9, 0)),
    ("query_params_key_order", (1, 9, 0), (1, 10, 0)),
]


@pytest.mark.parametrize(("flag", "before", "since"), BOUNDARIES)
def test_each_flag_changes_at_its_release(flag: str, before: profile.Release, since: profile.Release) -> None:
    assert getattr(profile.profile_for(before), flag) is False
    assert getattr(profile.profile_for(since), flag) is True
    assert getattr(profile.profile_for((0, 40, 0)), flag) is False
    assert getattr(profile.LATEST, flag) is True


@pytest.mark.parametrize(
    ("version", "release"),
    [("0.40.0", (0, 40, 0)), ("1.8.0rc1", (1, 8, 0)), ("1.10", (1, 10, 0)), ("0.4", (0, 4, 0)), ("x", None)],
)
def test_release_of(version: str, release: profile.Release | None) -> None:
    assert profile.release_of(version) == release


def test_supported_range() -> None:
    assert profile.SUPPORTED_STARLETTE == ((0, 40), (1, 10))
    assert [profile.is_supported(r) for r in ((0, 39, 2), (0, 40, 0), (1, 10, 9), (1, 11, 0))] == [
        False,
        True,
        True,
        False,
    ]


@pytest.mark.parametrize(
    ("release", "name"),
    [((0, 40, 0), "WebSocket_0_40"), ((0, 49, 3), "WebSocket_0_49"), ((0, 52, 1), "WebSocket_0_52")]
    + [((1, 0, 1), "WebSocket_1_0"), ((1, 8, 0), "WebSocket_1_0")],
)
def test_older_releases_get_a_subclass(release: profile.Release, name: str) -> None:
    cls = profile.connection_class(profile.profile_for(release))
    assert cls.__qualname__ == name and cls.__name__ == "WebSocket"
    assert issubclass(cls, ferrosocket.WebSocket) and getattr(profile, name) is cls


@pytest.mark.parametrize("release", [(1, 9, 0), (1, 10, 0)])
def test_releases_with_the_rules_of_1_10_get_ferrosockets_class(release: profile.Release) -> None:
    assert profile.connection_class(profile.profile_for(release)) is ferrosocket.WebSocket
    with pytest.raises(AttributeError):
        getattr(profile, f"WebSocket_{release[0]}_{release[1]}")


def make(release: profile.Release, **scope: Any) -> Any:
    cls = profile.connection_class(profile.profile_for(release))
    return cls({"type": "websocket", "path": "/", "headers": [], **scope}, None, None)


COOKIES = [(b"cookie", b"a=1; b=2"), (b"cookie", b"c=3")]


def test_cookies_before_0_49_read_the_first_header_only() -> None:
    assert make((0, 48, 0), headers=COOKIES).cookies == {"a": "1", "b": "2"}
    assert make((0, 49, 0), headers=COOKIES).cookies == {"a": "1", "b": "2", "c": "3"}
    assert make((0, 40, 0)).cookies == {}


class Session(dict[str, Any]):
    accessed = 0

    def mark_accessed(self) -> None:
        self.accessed += 1


def test_session_before_1_0_is_not_marked_accessed() -> None:
    old, new = Session(), Session()
    assert make((0, 52, 1), session=old).session is old and old.accessed == 0
    assert make((1, 0, 0), session=new).session is new and new.accessed == 1
    with pytest.raises(AssertionError, match="SessionMiddleware must be installed"):
        make((0, 40, 0)).session  # noqa: B018


def test_state_before_0_52_is_attributes_only() -> None:
    ws = make((0, 51, 0))
    ws.state.user = "u"
    assert ws.scope["state"] == {"user": "u"} and ws.state.user == "u" and ws.state is ws.state
    assert type(ws.state).__name__ == "State"
    with pytest.raises(TypeError, match="^'State' object is not subscriptable$"):
        ws.state["user"]  # noqa: B018
    with pytest.raises(TypeError, match="^argument of type 'State' is not iterable$"):
        "user" in ws.state  # noqa: B015
    with pytest.raises(AttributeError, match="^'State' object has no attribute 'missing'$"):
        ws.state.missing  # noqa: B018
    copied = pickle.loads(pickle.dumps(ws.state))
    assert type(copied) is type(ws.state) and copied.user == "u"
    assert len(make((0, 52, 0)).state) == 0  # a mapping since 0.52


@pytest.mark.parametrize("release", [(0, 40, 0), (0, 49, 0), (0, 52, 0), (1, 0, 1)])
def test_an_older_connection_pickles_as_its_class(release: profile.Release) -> None:
    ws = make(release, headers=COOKIES)
    ws.note = 1
    again = pickle.loads(pickle.dumps(ws))
    assert type(again) is type(ws) and again.scope == ws.scope and again.note == 1


def test_ferrosocket_websocket_keeps_1_10_behaviour() -> None:
    ws = ferrosocket.WebSocket({"type": "websocket", "path": "/", "headers": COOKIES}, None, None)
    assert ws.cookies == {"a": "1", "b": "2", "c": "3"} and len(ws.state) == 0


@pytest.mark.parametrize(
    "query", [b"a=1", b"a=\xff\xfe&b=2", b"\xe2\x82", b"x=\xe2\x82\xac\xed\xa0\x80", b"\xf0\x9f\x98", b""]
)
def test_older_url_rules_percent_encode_a_query_that_is_not_utf8_as_the_rust_rules_do(query: bytes) -> None:
    # Under the Starlette installed here (1.10), whose rules the Rust core implements, both
    # paths give the same URL: the bytes that are not UTF-8 percent-encoded alike.
    scope = {"type": "websocket", "path": "/p", "headers": [(b"host", b"h")], "query_string": query}
    older = profile._url_from_starlette(scope)
    assert type(older) is profile.URL and older == URL(scope=scope)


@pytest.fixture
def sorted_pairs() -> Iterator[None]:
    assert _core._query_params_equal_as_sorted_pairs(True) is False
    yield
    _core._query_params_equal_as_sorted_pairs(False)


def test_query_params_equality_before_1_10(sorted_pairs: None) -> None:
    assert QueryParams("a=1&a=2&b=3") == QueryParams("b=3&a=2&a=1")
    assert QueryParams("a=1&a=2") != QueryParams("a=1&a=3")


def test_query_params_equality_of_1_10() -> None:
    assert QueryParams("a=1&a=2&b=3") != QueryParams("b=3&a=2&a=1")
    assert QueryParams("a=1&a=2&b=3") == QueryParams("b=3&a=1&a=2")


def test_the_range_is_the_starlette_extras() -> None:
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text("utf-8"))
    (requirement,) = pyproject["project"]["optional-dependencies"]["starlette"]
    (low, high) = profile.SUPPORTED_STARLETTE
    assert requirement == f"starlette>={low[0]}.{low[1]},<{high[0]}.{high[1] + 1}"
