"""Load test: C connections x M echo round trips on loopback, against real servers.

    python benches/load.py            # the short series of `make load`: 1,000 x 100 and 10,000 x 10,
                                      # 2 repetitions, uvicorn and granian; writes benches/results/load.*
    python benches/load.py --quick    # CI smoke run: 50 x 10, 1 repetition; load-quick.* (git-ignored)
    python benches/load.py --reps 5 --sizes 1000x100 --servers uvicorn

The method and the code: benches/loadtest/ (its docstring; ``--help`` prints it).
"""

from __future__ import annotations

if __name__ == "__main__":
    # Imported here, not above: the client workers (multiprocessing, spawn) re-import this file.
    from loadtest.__main__ import main

    raise SystemExit(main())
