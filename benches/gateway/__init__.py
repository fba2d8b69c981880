"""The gateway benchmark (issue 13, item 4): ferrosocket end to end, against Starlette, floors and FastAPI.

    python benches/gateway_bench.py            # the full series (make gateway); prints its estimated duration
    python benches/gateway_bench.py --quick    # smoke run, under a minute (make gateway-quick, CI);
                                               # writes benches/results/gateway-quick.* (git-ignored)
    python benches/gateway_bench.py --rounds 30 --servers granian --workloads json1k,handshake

What runs. Per server kind (uvicorn with ws="websockets-sansio"; granian --interface asgi, 1
worker), one server process per app, each serving the four workloads by path (gateway/apps.py):

    raw               raw ASGI + orjson: the floor
    starlette         Starlette's WebSocket (receive_json/send_json: the stdlib json)
    starlette-orjson  Starlette's WebSocket with orjson by hand
    ferrosocket       ferrosocket's WebSocket, the same code as starlette; the fan-out also with
                      ferrosocket.broadcast()
    fastapi           FastAPI routes, stock
    fastapi-install   the same FastAPI app with ferrosocket.install()

and, only when named in --apps (a diagnosis, not a row of the tables):

    ferrosocket-orjson  ferrosocket's WebSocket with orjson by hand, as starlette-orjson: its
                        difference from ferrosocket is receive_json/send_json's, from
                        starlette-orjson the class's

The workloads (gateway/workloads.py has the payloads):

    json1k, json16k   JSON echo round trips of the 1 KB chat message and the 16 KB page of history
                      (json_payloads.py, with nulls). Every JSON connection of the app (1,000) is
                      active: each makes M round trips one after another, all at once; a unit is a
                      round trip. The app's 1,000 fan-out subscribers stay open, idle, beside them.
    handshake         new connections with a browser-like upgrade (a dozen headers, cookies, a
                      bearer token, query parameters; unique per connection); the app reads them,
                      accepts, answers the client's one message with what it read, closes. A unit
                      is a connection, from TCP connect to the close handshake.
    fanout            1,000 subscribers; the publisher asks for a message, the app sends it to all
                      of them and acknowledges; the next one after that. A unit is a delivered
                      message. Contenders: the floor (raw ASGI, orjson once, bare sends), each
                      app's send_json loop (Starlette + orjson: encode once, send_text loop) and
                      ferrosocket.broadcast().

How it is measured. All app servers of a kind are started once and keep their connections open
(client worker processes open them: 1,000 JSON connections and 1,000 subscribers per app). The
servers are pinned to the first CPU and the clients (and this orchestrator) to the others. A
burst is a fixed number of units of one workload on one app; a round runs every contender's burst
of every workload: the workloads in a random order, and the contenders of each in a random order.
Server CPU of a burst: the first field of /proc/PID/task/TID/schedstat (ns on CPU), summed over the
threads of the app server's process group, read just before the burst and ``--settle`` seconds
after its last unit (so the group's other work counts too), divided by the units. uvicorn runs
with its keep-alive pings off (``--ws-ping-interval 0``; ``--keepalive-pings`` turns them back on):
by default it pings each open connection every 20 s, and the 2,000 connections an app server
keeps open, opened within a second or two, were pinged in one storm every 20 s that landed in
whichever burst ran then (the same work for every app, but it moved the raw app's handshake burst
by up to 45 µs per connection: its spread over 15 rounds, 13.7 µs with the pings, 7.3 without).
granian sends none. The cyclic GC's share comes from the app's /gc probe (asgi_service.py), which also runs
a full collection before each burst, outside its window, so every burst starts from the same
collector state (else whether a burst holds a full collection of the heap decides by accident: on
uvicorn, 65 or 200 µs of GC per handshake, more than the apps differ). After one warm-up round
(not counted), each measured round gives each contender's CPU per unit (the handshake: three
bursts per contender per round, ``--handshake-passes``, each pass over the contenders in a new
random order, pooled: a contender's handshake cost above the raw app is a few µs, and one burst's
noise as large); every ratio
(ferrosocket / Starlette, ...) is taken within a round, from that round's bursts, and reported as
the median over rounds with its 95% confidence interval (order statistics: gateway/stats.py).

Targets (issue 13), per server; the handshake one "in every run": its whole 95% interval must be
under the line, not only the median (each round's value is shown too):

    JSON, 1 KB and 16 KB   ferrosocket <= 1.05x Starlette + orjson by hand, and <= 0.65x Starlette
    fan-out                broadcast() <= 1.05x the floor per delivered message; ferrosocket's
                           send_json loop <= 0.55x Starlette's
    handshake              (ferrosocket - raw) <= 0.3x (Starlette - raw), in every run

Errors. Every reply is checked: each JSON echo decodes to the message sent (its sequence and
connection numbers and its body); each handshake answer carries the values sent in the upgrade
and the client's message, and the app's close is answered; each subscriber gets every message of
a burst exactly once, in order, with the right body; the publisher's acknowledgement counts every
subscriber. A failed check, a refused or dropped connection, a timeout, a unit not completed, an
unclean close at the end or an error in a server's log is an error; the run is valid only with
none (``--check`` exits 1 otherwise; without --quick, also on a missed target). Every phase is
bounded (``--phase-timeout``); no round starts after ``--budget`` seconds (split evenly between
the server kinds; at least one measured round runs).

Duration. ``--rounds`` (default 15) and the burst sizes (``--json1k``, ``--json16k``,
``--handshakes``, ``--broadcasts``, ``--connections``, ``--subscribers``) set it; the estimate is
printed first, and the time left after each round. ferrosocket is measured from a snapshot of the
installed package (``make gateway`` builds the release profile first); traffic goes to 127.0.0.1
only; the tool ends only the processes it started.

The code: gateway_bench.py runs ``__main__.main`` of this package: apps.py (the servers' apps),
workloads.py (what is sent and answered), clients.py (the client worker), series.py (one server
kind: servers, workers, rounds of bursts), stats.py (median and CI), summary.py (ratios, targets,
tables), chart.py (the SVG). Servers, client connections and worker processes are the load
test's (benches/loadtest/).
"""

from __future__ import annotations

SERVERS = ("uvicorn", "granian")
APPS = ("raw", "starlette", "starlette-orjson", "ferrosocket", "fastapi", "fastapi-install")
EXTRA_APPS = ("ferrosocket-orjson", "check-free")  # run only when named in --apps
# Imported from the snapshot: checked.
FERROSOCKET_APPS = ("ferrosocket", "fastapi-install", "ferrosocket-orjson")
WORKLOADS = ("json1k", "json16k", "handshake", "fanout")
BROADCAST = "ferrosocket:broadcast"  # the fan-out's extra contender: ferrosocket's app, broadcast()

LABELS = {
    "raw": "raw ASGI + orjson (floor)",
    "starlette": "Starlette",
    "starlette-orjson": "Starlette + orjson by hand",
    "ferrosocket": "ferrosocket",
    "ferrosocket-orjson": "ferrosocket + orjson by hand",
    "fastapi": "FastAPI",
    "fastapi-install": "FastAPI + install()",
    "check-free": "check-free class (floor of a class)",
    BROADCAST: "ferrosocket.broadcast()",
}
FANOUT_LABELS = {
    "raw": "floor: raw ASGI, orjson once",
    "starlette": "Starlette send_json loop",
    "starlette-orjson": "Starlette, orjson once + send_text loop",
    "ferrosocket": "ferrosocket send_json loop",
    "ferrosocket-orjson": "ferrosocket, orjson once + send_text loop",
    "fastapi": "FastAPI send_json loop",
    "fastapi-install": "FastAPI + install() send_json loop",
    "check-free": "check-free class send_json loop",
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
