"""The package's promises about itself: what it imports, what it exports."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_imports_without_starlette() -> None:
    # Make `import starlette` (and anything under it) fail, then import ferrosocket and use it.
    code = textwrap.dedent(
        """
        import sys
        for name in ("starlette", "fastapi", "anyio", "httpx2"):
            sys.modules[name] = None
        import ferrosocket
        from ferrosocket import WebSocket, WebSocketState, WebSocketDisconnect, WebSocketDisconnected
        from ferrosocket import WebSocketClose
        ws = WebSocket({"type": "websocket", "path": "/", "headers": []}, None, None)
        assert ws.url == "/" and ws.client_state is WebSocketState.CONNECTING
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("starlette", "fastapi", "anyio")))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['anyio', 'fastapi', 'starlette']"  # only our blocking stubs


def test_runtime_dependencies_are_orjson_only() -> None:
    from importlib.metadata import requires

    required = requires("ferrosocket") or []
    assert [r for r in required if "extra ==" not in r] == ["orjson>=3.10"]
    # The one optional extra: `pip install ferrosocket[redis]` for ferrosocket.channels.
    extras = [r.replace(" ", "").replace("'", '"') for r in required if "extra ==" in r]
    assert extras == ['redis>=5.0;extra=="redis"']


def test_public_names() -> None:
    import ferrosocket

    for name in ferrosocket.__all__:
        assert getattr(ferrosocket, name) is not None
    assert issubclass(ferrosocket.WebSocketDisconnected, RuntimeError)
    assert ferrosocket.WebSocketDisconnect(code=1001, reason=None).reason == ""
