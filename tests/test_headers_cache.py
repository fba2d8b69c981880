"""`Headers` lookups answer from a small per-object cache after the first one: the answers must be
the uncached ones, whatever the key and however many keys a caller tries."""

from __future__ import annotations

import pytest

from ferrosocket import Headers

RAW = [(b"host", b"example.com"), (b"x-a", b"1"), (b"x-a", b"2"), (b"Upper", b"raw"), (b"x-l", b"\xe9")]


def test_repeated_lookups_agree() -> None:
    h = Headers(raw=list(RAW))
    for _ in range(3):
        assert h["Host"] == "example.com"
        assert h["x-A"] == "1"
        assert h.get("x-missing") is None
        assert h.get("x-missing", "d") == "d"
        assert "x-missing" not in h
        assert "HOST" in h
        assert h["X-L"] == "\xe9"
        assert h.getlist("x-a") == ["1", "2"]
        with pytest.raises(KeyError) as info:
            h["upper"]  # a raw name that is not lower-case never matches
        assert info.value.args == ("upper",)
        with pytest.raises(KeyError):
            h["x-missing"]


def test_str_subclass_keys_are_not_cached() -> None:
    class Key(str):
        __hash__ = str.__hash__

        def lower(self) -> str:
            return "host"

    h = Headers(raw=list(RAW))
    assert h.get("x-a") == "1"  # the cache exists from the second lookup on
    assert h[Key("x-a")] == "example.com"
    assert h["x-a"] == "1"
    assert h[Key("x-a")] == "example.com"


def test_many_keys_stay_correct() -> None:
    h = Headers(raw=[(f"k{i}".encode(), str(i).encode()) for i in range(200)])
    for _ in range(2):
        for i in range(300):
            key = f"K{i}"
            if i < 200:
                assert h[key] == str(i)
            else:
                assert h.get(key) is None


def test_errors_are_not_cached() -> None:
    h = Headers(raw=list(RAW))
    for _ in range(3):
        with pytest.raises(UnicodeEncodeError):
            h["\u20ac"]
        with pytest.raises(AttributeError):
            h[1]  # type: ignore[index]
