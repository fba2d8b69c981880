"""The JSON payloads of the JSON benchmarks: a small object, a 1 KB chat message and a 16 KB
page of history, each with and without nulls (real payloads are full of them: a missing
``reply_to``, an unset ``edited_at``). Unicode text, nesting and UUID-shaped strings throughout,
as a chat server sends them. Deterministic; ``PAYLOADS[name]`` is the Python object, and
``encoded(name)`` the text ``json.dumps`` makes of it (what a client sends).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["PAYLOADS", "SIZES", "encoded"]


def _uuid(i: int) -> str:
    """A UUID-shaped string (a string, as JSON carries UUIDs; never a ``uuid.UUID``)."""
    return f"{0x3F2B8C9E + i:08x}-7a41-4d6b-9e0f-{0x1C2D3E4F5A6B + i:012x}"


def small(nulls: bool) -> dict[str, Any]:
    return {
        "type": "message",
        "room": "general",
        "id": 1234,
        "user": {"id": 42, "name": "Jürgen"},
        "text": "hello, world",
        "ts": 1700000000.25,
        "reply_to": None if nulls else 1233,
        "edited": None if nulls else False,
    }


def chat_message(i: int, nulls: bool) -> dict[str, Any]:
    """About 1 KB once encoded: nested, unicode, two nulls (or not), UUID-shaped strings."""
    return {
        "type": "chat.message",
        "id": _uuid(i),
        "seq": 100_000 + i,
        "room": {"id": 42, "name": "général", "topic": "Release planning — Q3 🚀"},
        "author": {
            "id": 1001 + i % 7,
            "name": "Jürgen Müller",
            "avatar": f"https://cdn.example.com/avatars/{1001 + i % 7}.png",
            "roles": ["admin", "developer"],
            "status": None if nulls else "online",
        },
        "text": (
            "Bonjour à tous ! The build for 2.4.0 is green on every platform; "
            "les notes de version sont prêtes. Merci Zoë pour la revue 🙏 — "
            "ping me if the migration guide needs another pass before Friday. "
            "Ünïcödé everywhere: 日本語のテキストも大丈夫です。"
        ),
        "mentions": [{"id": 7, "name": "Zoë"}, {"id": 12, "name": "Ólafur"}],
        "attachments": [
            {
                "kind": "link",
                "url": "https://example.com/releases/2.4.0",
                "title": "2.4.0 notes",
                "size": 18_432,
            }
        ],
        "reply_to": None if nulls else _uuid(i + 1),
        "edited_at": None if nulls else 1700000100.5,
        "reactions": {"👍": 3, "🎉": 1, "❤️": 2},
        "ts": 1700000000.25 + i,
        "flags": {"pinned": False, "silent": True, "system": False, "priority": "normal"},
        "client": {"app": "web", "version": "2.4.0"},
    }


def history(nulls: bool) -> dict[str, Any]:
    """About 16 KB once encoded: a page of 46 records (unicode, nulls or not, UUID strings)."""
    records = [
        {
            "id": _uuid(i),
            "seq": 100_000 + i,
            "author": {"id": 1001 + i % 7, "name": ["Jürgen", "Zoë", "Ólafur", "Ana"][i % 4]},
            "text": f"Message {i}: ça marche — 🚀 déployé sur staging, tests verts ({i % 5} avertissements).",
            "reply_to": None if nulls else _uuid(i - 1),
            "edited_at": None if nulls else 1700000100.5 + i,
            "reactions": {"👍": i % 4, "🎉": i % 3},
            "ts": 1700000000.25 + i,
            "tags": ["release", "ops"] if i % 2 else ["chat"],
            "pinned": i % 10 == 0,
        }
        for i in range(46)
    ]
    return {"type": "history", "room": "général", "cursor": _uuid(999), "messages": records}


PAYLOADS: dict[str, Any] = {
    "small": small(nulls=False),
    "small_nulls": small(nulls=True),
    "1kb": chat_message(0, nulls=False),
    "1kb_nulls": chat_message(0, nulls=True),
    "16kb": history(nulls=False),
    "16kb_nulls": history(nulls=True),
}
# Sizes and the nulls in them, for labels: name -> ("small object" | "1 KB" | "16 KB", nulls?)
SIZES: dict[str, tuple[str, bool]] = {
    name: (
        {"small": "small object", "1kb": "1 KB", "16kb": "16 KB"}[name.split("_")[0]],
        name.endswith("_nulls"),
    )
    for name in PAYLOADS
}


def encoded(name: str) -> str:
    """The payload as ``json.dumps`` writes it (Starlette's ``send_json``)."""
    return json.dumps(PAYLOADS[name], separators=(",", ":"), ensure_ascii=False)
