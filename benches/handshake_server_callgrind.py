"""The gateway's handshake inside a real server, counted by callgrind: instructions and L1 misses.

    python benches/handshake_server_callgrind.py                  # after `make build-release`; valgrind
    python benches/handshake_server_callgrind.py --server uvicorn --connections 500 --concurrency 50

`make gateway` times the handshake (gateway/apps.py: read the upgrade's headers, cookies, token
and query, accept, one message each way, close) as server CPU per connection, and its ratio
(ferrosocket - raw) / (Starlette - raw) moves by 0.1 to 0.3 from run to run with the machine's
noise. This script counts instead, so noise does not enter: for each app it starts the same
server the gateway starts (loadtest/servers.py's command line) under valgrind's callgrind with
its cache simulation (the host's L1 caches), opens ``--warm-up`` connections, zeroes the counts,
opens ``--connections`` more (at most ``--concurrency`` at once; one at a time by default, so
that each connection meets the server's own work between two connections, as in a busy server,
and the counts repeat within 1-2%), and divides the server process's counts by them. Each
answer is checked, as the gateway checks it.

Per app it prints the instructions, L1 instruction misses and L1 data read misses per connection,
split by where the code lives (ferrosocket's extension, CPython, the server's own extension, the
rest), and then the gateway target's ratio for each count. Instructions alone say ferrosocket's
extra is a few per cent of Starlette's; the L1 misses, which are what a new connection pays for
in a server whose own work evicts the app's code and data, say a quarter or more: the timed
ratio falls between the two.

``--apps raw,starlette,ferrosocket,check-free`` adds the floor of a class (gateway/apps.py's
CheckFreeWebSocket: Starlette's names, nothing checked) and its ratio: what any class-based API
costs a connection over the raw app, whatever it checks.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCHES = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCHES))

from gateway.workloads import HANDSHAKE_PATH, browser_upgrade, expected_reply, visitor  # noqa: E402
from loadtest.clients import HOST, client_frame  # noqa: E402
from loadtest.servers import server_argv, stop  # noqa: E402  (it puts tests/e2e on the path)
from server_processes import free_port, http_get  # noqa: E402

APPS = ("raw", "starlette", "ferrosocket")
FLOOR = "check-free"  # gateway/apps.py's class with nothing checked: on request (--apps)
EVENTS = {"Ir": "instructions", "I1mr": "L1i misses", "D1mr": "L1d read misses"}
SALT = "callgrind"
MASK = b"\x5a\x17\xc3\x08"


def where(binary: str) -> str:
    """The part of the server a shared object belongs to."""
    name = binary.rsplit("/", 1)[-1]
    if name.startswith("_core."):
        return "ferrosocket's extension"
    if name.startswith("libpython"):
        return "CPython"
    if name.startswith("_granian.") or "uvicorn" in binary or "websockets" in binary:
        return "the server's extension"
    return "the rest"


# --- the client: one browser-like connection, as the gateway's (gateway/clients.py)


async def handshake(port: int, n: int) -> None:
    guest = visitor(n, SALT)
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(browser_upgrade(HOST, port, base64.b64encode(n.to_bytes(16, "big")), guest))
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(f"connection {n}: {head[:80]!r}")
    writer.write(client_frame(0x1, guest.message.encode(), MASK))
    replies = []
    while True:
        b0, b1 = await reader.readexactly(2)
        length = b1 & 0x7F
        if length >= 126:
            length = int.from_bytes(await reader.readexactly(2 if length == 126 else 8), "big")
        payload = await reader.readexactly(length)
        if b0 & 0x0F == 0x8:  # the app's close: answered, as a browser does
            writer.write(client_frame(0x8, payload[:2], MASK))
            await writer.drain()
            break
        replies.append(payload)
    writer.close()
    if replies != [expected_reply(guest, HOST).encode()]:
        raise RuntimeError(f"connection {n}: answered {replies!r}")


async def connections(port: int, first: int, count: int, concurrency: int) -> None:
    limit = asyncio.Semaphore(concurrency)

    async def one(n: int) -> None:
        async with limit:
            await handshake(port, n)

    await asyncio.gather(*(one(n) for n in range(first, first + count)))


# --- the server under callgrind, and its counts


def wait_until_served(port: int, seconds: float) -> None:
    """Until the server answers ``GET /info`` (started under valgrind, it takes seconds)."""
    deadline = time.monotonic() + seconds
    while http_get(port, "/info") is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server on port {port} did not answer in {seconds:.0f} s")
        time.sleep(0.5)


def count(server: str, app: str, args: argparse.Namespace, scratch: Path) -> dict[str, dict[str, float]]:
    """{where: {event: per connection}} for ``app`` served by ``server``."""
    port = free_port()
    out = scratch / f"{server}-{app}.%p.out"
    command = [
        *("valgrind", "--tool=callgrind", "--cache-sim=yes", "--trace-children=yes", "--dump-line=no"),
        f"--callgrind-out-file={out}",
        *server_argv(server, port, target="gateway.apps:app", keepalive_pings=False),
    ]
    env = dict(os.environ, FERRO_LOAD_APP=app, PYTHONPATH=str(BENCHES), PYTHONHASHSEED="0")
    process = subprocess.Popen(
        command,
        cwd=BENCHES,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until_served(port, 300)
        asyncio.run(connections(port, 0, args.warm_up, args.concurrency))
        # The server and its workers (granian serves from a worker process): each under callgrind.
        served_by = [process.pid, *children(process.pid)]
        control(served_by, "--zero")
        asyncio.run(connections(port, args.warm_up, args.connections, args.concurrency))
        control(served_by, "--dump")
    finally:
        stop(process)  # its process group: the server and its workers
    # The dumps taken after zeroing (`.out.1`); the process that served the connections is the
    # one that ran the most instructions (granian serves from a worker process).
    dumps = [parse(path) for path in scratch.glob(f"{server}-{app}.*.out.1")]
    if not dumps:
        raise RuntimeError(f"{server} {app}: callgrind wrote no counts")
    busiest = max(dumps, key=lambda d: sum(row["Ir"] for row in d.values()))
    return {
        place: {event: value / args.connections for event, value in row.items()}
        for place, row in busiest.items()
    }


def control(pids: list[int], action: str) -> None:
    """callgrind_control ``action`` on each of ``pids`` (a process not under callgrind is skipped)."""
    for pid in pids:
        subprocess.run(["callgrind_control", action, str(pid)], capture_output=True)


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc: the 4th field of stat, after the name)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = stat.read_text().rsplit(")", 1)[1].split()[1]
        except (OSError, IndexError):
            continue  # gone meanwhile
        if parent == str(pid):
            found.append(int(stat.parent.name))
    return found


def parse(path: Path) -> dict[str, dict[str, int]]:
    """{where: {event: total}}: the self cost of every function, by the object it lives in."""
    totals: dict[str, dict[str, int]] = collections.defaultdict(lambda: dict.fromkeys(EVENTS, 0))
    names: dict[str, str] = {}
    events: list[str] = []
    binary = ""
    call_cost_next = False
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("events:"):
            events = line.split()[1:]
        elif line.startswith("ob="):
            binary = name_of(line[3:], names)
        elif line.startswith("cob="):
            name_of(line[4:], names)
        elif line.startswith("calls="):
            call_cost_next = True  # the next cost line is the call's inclusive cost
        elif line[:1].isdigit() or line[:1] in "+-*":
            if call_cost_next:
                call_cost_next = False
                continue
            row = totals[where(binary)]
            for event, value in zip(events, line.split()[1:], strict=False):
                if event in row:
                    row[event] += int(value)
    return totals


def name_of(field: str, names: dict[str, str]) -> str:
    """A compressed callgrind name: "(id) name" the first time, "(id)" after."""
    match = re.match(r"\((\d+)\)(?: (.*))?", field)
    if match is None:
        return field
    if match.group(2) is not None:
        names[match.group(1)] = match.group(2)
    return names.get(match.group(1), field)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--server", choices=("granian", "uvicorn"), default="granian")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--warm-up", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument(
        "--apps", default=",".join(APPS), help="comma-separated, of: " + ",".join((*APPS, FLOOR))
    )
    parser.add_argument(
        "--keep", type=Path, help="keep callgrind's dumps in this folder (for callgrind_annotate)"
    )
    args = parser.parse_args()
    apps = [app for app in args.apps.split(",") if app]
    known = {*APPS, FLOOR}
    if not set(apps) <= known:
        parser.error(f"--apps: not one of {', '.join(sorted(known))}: {', '.join(set(apps) - known)}")
    print(
        f"{args.server}, {HANDSHAKE_PATH}: per connection, {args.connections} connections "
        f"({args.concurrency} at a time) after {args.warm_up}, the app server's process:"
    )
    print(f"| app | where | {' | '.join(EVENTS.values())} |")
    print("| --- | --- |" + " ---: |" * len(EVENTS))
    whole: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for app in apps:
            cost = count(args.server, app, args, Path(scratch))
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                for dump in Path(scratch).glob(f"{args.server}-{app}.*.out*"):
                    shutil.copy(dump, args.keep / dump.name)
            whole[app] = {event: sum(row[event] for row in cost.values()) for event in EVENTS}
            for place in [*sorted(cost), "all"]:
                row = whole[app] if place == "all" else cost[place]
                print(f"| {app} | {place} | {' | '.join(f'{row[event]:,.0f}' for event in EVENTS)} |")
    if not {"raw", "starlette"} <= set(whole):
        return 0
    raw, starlette = whole["raw"], whole["starlette"]
    for app in (a for a in ("ferrosocket", FLOOR) if a in whole):
        print()
        print(f"({app} - raw) / (Starlette - raw), the gateway target's ratio, of each count:")
        for event, shown in EVENTS.items():
            ratio = (whole[app][event] - raw[event]) / (starlette[event] - raw[event])
            print(f"  {shown}: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
