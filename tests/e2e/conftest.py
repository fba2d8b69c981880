"""The ``server`` fixture: module-scoped and parametrised over SERVER_NAMES (e2e_servers.py), so
every server starts once per test module, and is stopped afterwards, also when a test fails."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e_servers import SERVER_NAMES, Server, start_server, stop


@pytest.fixture(scope="module", params=SERVER_NAMES)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    name: str = request.param
    log_path = tmp_path_factory.mktemp("e2e") / f"{name}.log"
    srv = start_server(name, log_path)
    try:
        yield srv
    finally:
        stop(srv.process)
