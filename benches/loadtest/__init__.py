"""Load test: C connections x M echo round trips on loopback, against real servers.

    python benches/load.py            # the short series of `make load`: 1,000 x 100 and 10,000 x 10,
                                      # 2 repetitions, uvicorn and granian; writes benches/results/load.*
    python benches/load.py --quick    # CI smoke run: 50 x 10, 1 repetition; load-quick.* (git-ignored)
    python benches/load.py --reps 5 --sizes 1000x100 --servers uvicorn

What runs. Per server (uvicorn with ws="websockets-sansio"; granian --interface asgi, 1 worker),
per size, per repetition, three runs in a row, each against a *fresh* server process: a raw ASGI
echo (no wrapper), Starlette's WebSocket echo and ferrosocket's (the same code, another import;
benches/load_apps.py). So the series alternates raw, Starlette, ferrosocket, raw, ... and each
repetition gives one triplet whose differences are paired.

One run:
 1. start the server (own process group, free loopback port, RLIMIT_NOFILE raised to the hard
    limit, pinned to CPU 0 unless --no-pin, address space randomisation off unless --aslr,
    PYTHONHASHSEED shared by the three runs of a repetition); check through ``GET /info`` that the
    app is the one asked for and that ferrosocket comes from this run's snapshot (see below);
 2. warm it up: 2 connections x 20 round trips, closed (lazy imports and first-use allocations
    must not count as per-connection memory); after 0.5 s read the *idle* figures;
 3. client worker processes (``--clients``, pinned to the other CPUs) open the C connections, at most
    ``--concurrency`` handshakes in flight per worker, and do one warm-up round trip on each;
    after 0.5 s read the *open* figures;
 4. the measured phase: every connection does M round trips one after another (send, wait for
    the echo, check it is the same payload, send the next), all connections at once; then read
    the *after* figures;
 5. every connection does the close handshake; the server is stopped (SIGTERM to its group, then
    SIGKILL) and its log searched for tracebacks and errors.

Figures. Server CPU is user+sys from /proc/<pid>/stat summed over the server's process group
(granian's main process and its worker): *per round trip* = (after - open) / round trips, so
neither connection set-up nor start-up counts; *handshake* = (open - idle) / connections (a TCP
accept, the upgrade and one round trip per connection). RSS is summed the same way (statm):
*per connection* = (open - idle) / C. msgs/s = round trips completed / wall time of the measured
phase (first send to last echo, across workers); p50/p99 = latency of single round trips in the
measured phase. The client's own CPU per round trip is reported too, and *server busy* (server CPU
/ wall time of the phase): near 100%, the server was the bottleneck and had its core. *GC* is the
CPU time of the server's cyclic garbage collections during the measured phase (a ``gc.callbacks``
hook in asgi_service.py, read through ``GET /gc``), with the collections per generation and the
GC-tracked objects per open connection.

Noise. On a machine shared with other work, a run's CPU per round trip moves by a few µs: the
wrapper's costs are differences of that size, so take several repetitions (``--reps``) and read
the per-repetition differences the tables give. ``--nice -10`` (as root; ``make load`` passes it)
raises the priority of the servers and clients, and of their autogroups (a nice value alone only
counts inside a session's group), so that other processes disturb the measured phase less.
Diagnostics: ``--apps ...,lean`` adds a minimal pure-Python class of the same API shape;
``--profile DIR`` attaches py-spy to the server during the measured phase (``--native`` for Rust
and C frames); ``--gc-garbage`` names the types of the cyclic garbage the servers collect.

Errors and losses. ``errors`` counts failed connections (refused, handshake failure or timeout),
echoes that differ from what was sent, unexpected frames or closes, dropped connections, close
handshakes that did not complete, phase timeouts and tracebacks/errors in the server's log.
``lost`` counts messages sent and never echoed; ``missing`` counts planned round trips not done
(a failed connection's included). Every phase is bounded in time (``--phase-timeout``) and the
series stops starting runs after ``--budget`` seconds: the tool always stops by itself.

Summary. Per server, size and app: medians over repetitions. Targets, from the same series, per
server and size: 0 errors, 0 lost and 0 missing for ferrosocket; the wrapper's cost, server CPU per
round trip minus the raw echo's (the median of the paired differences, one per repetition), at
most a fifth of Starlette's (same method); RSS per connection at most the raw echo's + 1 KiB
(median of the paired differences). ``--check`` exits 1 when a target is missed (with ``--quick``
only errors and losses are checked: the numbers of a smoke run mean nothing).

The ferrosocket measured is a snapshot: at the start the installed package (python files and the
extension) is copied into a temporary directory that comes first on the servers' PYTHONPATH, so a
``make build-dev`` by someone else meanwhile cannot change it. Measure a release build:
``make build-release`` (``make load`` does it). Traffic goes to 127.0.0.1 only, and the tool ends
only the processes it started.

The code: ``benches/load.py`` runs ``__main__.main`` of this package: servers.py (the server
command lines, started and stopped through tests/e2e/server_processes.py, which the end-to-end
tests share; their CPU and memory), clients.py (the client worker processes and the warm-up
session), measurement.py (one run: the phases above), profiles.py (``--profile``), summary.py
(medians, targets, tables, chart); the machine and build figures come from benches/report.py.
"""

from __future__ import annotations

APPS = ("raw", "starlette", "ferrosocket")  # the series; "lean" on request (--apps)
ALL_APPS = (*APPS, "lean")
SERVERS = ("uvicorn", "granian")
LABELS = {
    "raw": "raw ASGI echo",
    "starlette": "Starlette",
    "ferrosocket": "ferrosocket",
    "lean": "lean class",
}
