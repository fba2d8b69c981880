"""The benchmarked operations: their labels and the targets ferrosocket is held to.

Shared by the pytest-benchmark suite (``test_bench_python.py``) and the runner (``report.py``);
it imports nothing heavy so the runner can read it without loading ferrosocket.

A target is a ratio ``ferrosocket / <reference> <= limit`` where the reference is one of the
variants of the same operation: ``starlette``, or a floor or peer named by its variant id.
The limits come from the project's issues; benches/README.md lists them. An operation may also
name pairs of other variants whose ratio the report prints beside the targets (``between``): how
far apart two floors are, measured in the same processes.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CHECK_FREE", "OPERATIONS", "Operation", "Target"]


@dataclass(frozen=True)
class Target:
    reference: str  # a variant id of the same operation
    limit: float  # met when ferrosocket / reference <= limit (strictly < when strict)
    strict: bool = False

    def describe(self) -> str:
        return f"{'<' if self.strict else '≤'} {self.limit:g}× {self.reference}"

    def met(self, ratio: float) -> bool:
        return ratio < self.limit if self.strict else ratio <= self.limit


@dataclass(frozen=True)
class Operation:
    id: str
    label: str
    targets: tuple[Target, ...]
    between: tuple[tuple[str, str], ...] = ()  # (variant, reference): ratios printed for context


# The round trips' floor of any class with coroutine methods (benches/check_free.py), and the
# bare loop it is compared with.
CHECK_FREE = "floor:check-free class"
# The check-free class plus the three crossings into compiled code a class checking in Rust
# needs per round trip (check_free.BoundaryFloor): the floor of ferrosocket's design.
BOUNDARY = "floor:checked boundary"
CLASS_COST = ((CHECK_FREE, "floor:bare"), (BOUNDARY, CHECK_FREE))


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "headers_getitem",
        'headers["Sec-WebSocket-Version"]',
        (Target("floor:dict", 1.5), Target("peer:CIMultiDict", 1.0, strict=True)),
    ),
    Operation("headers_get_missing", 'headers.get("x-missing")', (Target("floor:dict.get", 2.0),)),
    Operation("headers_from_scope", "headers from scope + 1 lookup", (Target("starlette", 0.5),)),
    # The URL, query and handshake rows twice: on the suite's scope, and on a browser's upgrade
    # (benches/browser_scope.py: fifteen headers, cookies, a bearer token, a longer query).
    *(
        operation
        for suffix, shape in (("", ""), ("_browser", ", browser-shaped"))
        for operation in (
            Operation(
                f"url_from_scope{suffix}",
                f"URL from scope + 4 attributes{shape}",
                (Target("starlette", 0.1),),
            ),
            Operation(
                f"query_params{suffix}",
                f"query parse + lookup + getlist{shape}",
                (Target("starlette", 0.14),),
            ),
            Operation(
                f"handshake{suffix}",
                f"handshake: construct + url, headers, query_params, path_params, client{shape}",
                (Target("starlette", 0.2),),
            ),
        )
    ),
    # The old 1.5x-bare target of the text and bytes round trips is below the check-free class
    # (about 1.7x bare): the target is 1.15x that class (docs/performance.md). The
    # checked-boundary floor shows what crossing into Rust alone costs over that class.
    Operation(
        "text_round_trip",
        "text round trip (receive_text + send_text)",
        (Target(CHECK_FREE, 1.15),),
        CLASS_COST,
    ),
    Operation(
        "bytes_round_trip",
        "bytes round trip (receive_bytes + send_bytes)",
        (Target(CHECK_FREE, 1.15),),
        CLASS_COST,
    ),
    Operation(
        "json_round_trip",
        "JSON round trip, small object (receive_json + send_json)",
        (Target("starlette", 0.25),),
        ((CHECK_FREE, "peer:bare + orjson"),),
    ),
    # JSON at the floor (issue 13): send_json/receive_json against orjson by hand over the text
    # path of the same WebSocket, with and without nulls, three sizes (benches/json_payloads.py);
    # the round trip against Litestar's (msgspec) and BlackSheep's WebSocket.
    *(
        Operation(
            f"json_{way}_{size}{'_nulls' * nulls}",
            f"{way}_json, {label}{' with nulls' * nulls}",
            (Target(f"floor:orjson + {way}_text", 1.2),),
        )
        for way in ("send", "receive")
        for size, label in (("small", "small object"), ("1kb", "1 KB"), ("16kb", "16 KB"))
        for nulls in (False, True)
    ),
    *(
        Operation(
            f"json_round_trip_{size}",
            f"JSON round trip, {label} with nulls (receive_json + send_json)",
            (Target("peer:litestar", 1.0, strict=True),),
        )
        for size, label in (("1kb", "1 KB"), ("16kb", "16 KB"))
    ),
)
