"""The gateway benchmark (issue 13, item 4): ferrosocket end to end, against Starlette, floors and FastAPI.

    python benches/gateway_bench.py           # the full series (make gateway); prints its estimated duration
    python benches/gateway_bench.py --quick   # smoke run, under a minute (make gateway-quick, CI)

METHOD_PLACEHOLDER
"""

from __future__ import annotations

SERVERS = ("uvicorn", "granian")
APPS = ("raw", "starlette", "starlette-orjson", "ferrosocket", "fastapi", "fastapi-install")
FERROSOCKET_APPS = ("ferrosocket", "fastapi-install")  # imported from the snapshot: checked
WORKLOADS = ("json1k", "json16k", "handshake", "fanout")
BROADCAST = "ferrosocket:broadcast"  # the fan-out's extra contender: ferrosocket's app, broadcast()

LABELS = {
    "raw": "raw ASGI + orjson (floor)",
    "starlette": "Starlette",
    "starlette-orjson": "Starlette + orjson by hand",
    "ferrosocket": "ferrosocket",
    "fastapi": "FastAPI",
    "fastapi-install": "FastAPI + install()",
    BROADCAST: "ferrosocket.broadcast()",
}
FANOUT_LABELS = {
    "raw": "floor: raw ASGI, orjson once",
    "starlette": "Starlette send_json loop",
    "starlette-orjson": "Starlette, orjson once + send_text loop",
    "ferrosocket": "ferrosocket send_json loop",
    "fastapi": "FastAPI send_json loop",
    "fastapi-install": "FastAPI + install() send_json loop",
    BROADCAST: "ferrosocket.broadcast()",
}
WORKLOAD_LABELS = {
    "json1k": "1 KB JSON round trip",
    "json16k": "16 KB JSON round trip",
    "handshake": "browser-like handshake + 1 message each way + close",
    "fanout": "fan-out, per delivered message",
}
UNITS = {"json1k": "round trip", "json16k": "round trip", "handshake": "connection", "fanout": "delivery"}


def contenders(workload: str, apps: tuple[str, ...] | list[str]) -> list[str]:
    """Who runs a burst of ``workload``: every app, and in the fan-out ferrosocket twice (its
    ``send_json`` loop and ``broadcast()``)."""
    found = list(apps)
    if workload == "fanout" and "ferrosocket" in apps:
        found.append(BROADCAST)
    return found


def app_of(contender: str) -> str:
    return contender.split(":")[0]


def label(workload: str, contender: str) -> str:
    return (FANOUT_LABELS if workload == "fanout" else LABELS)[contender]
