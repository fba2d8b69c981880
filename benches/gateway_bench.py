"""The gateway benchmark: ferrosocket end to end on uvicorn and granian, against Starlette, floors
and FastAPI (JSON round trips with 1,000 connections open, handshakes, a 1,000-subscriber fan-out).

    python benches/gateway_bench.py            # the full series of `make gateway` (prints its duration)
    python benches/gateway_bench.py --quick    # smoke run under a minute (make gateway-quick, CI)

The method and the code: benches/gateway/ (its docstring; ``--help`` prints it).
"""

from __future__ import annotations

if __name__ == "__main__":
    # Imported here, not above: the client workers (multiprocessing, spawn) re-import this file.
    from gateway.__main__ import main

    raise SystemExit(main())
