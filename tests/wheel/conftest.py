"""tests/wheel/ is collected only when FERROSOCKET_WHEEL names a built wheel (``make wheel-test``).

The default ``pytest`` run does not collect it at all (so it is neither run nor reported as
skipped): it makes a virtual environment and installs into it, which takes minutes.
"""

from __future__ import annotations

import os

collect_ignore = [] if os.environ.get("FERROSOCKET_WHEEL") else ["test_wheel.py"]
