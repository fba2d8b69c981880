"""install() and adopt() on real Starlette releases: outside ``SUPPORTED_STARLETTE`` a clear error and
no change; inside it, the switch, with the release's own exception for a use after close.

The real releases run in subprocesses, each imported from its own directory
(``pip install --no-deps --target``, cached in ``target/starlette-releases/``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import starlette

import ferrosocket
from ferrosocket import _install

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / "target" / "starlette-releases"


def starlette_release(version: str) -> Path:
    """A directory holding Starlette ``version`` (only it: its dependencies come from here)."""
    path = CACHE / version
    if (path / "starlette" / "__init__.py").exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=CACHE))
    try:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q", "--no-deps"]
            + ["--no-compile", "--target", str(staging), f"starlette=={version}"],
            check=True,
            timeout=300,
        )
        staging.rename(path)  # atomic: a concurrent run sees all of it or none
    except OSError:
        if not (path / "starlette" / "__init__.py").exists():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path


# Runs under the release being tested: what install() (or adopt()) did, and the state of every
# object it could have changed, before and after.
PROBE = r"""
import json, sys
import starlette, starlette.datastructures as sd, starlette.websockets as sw
import ferrosocket
from ferrosocket import _install

def state():
    return {
        "websocket_meta": repr(type(sw.WebSocket)),
        "metaclasses": {n: repr(type(getattr(sd, n))) for n in ("URL", "State", "Address", "Headers")},
        "websocket_registered": issubclass(ferrosocket.WebSocket, sw.WebSocket),
        "registered": [issubclass(o, getattr(sd, n)) for n, o in _install._REGISTERED],
        "swapped": [issubclass(o, getattr(sd, n)) for n, o in _install._SWAPPED],
        "switch": [ferrosocket.installed(), _install._switch.starlette_class is None,
                   len(_install._switch.swapped)],
    }

def closed_use():
    # What a switched connection raises for receive_text() before accept().
    if not ferrosocket.installed():
        return None
    import asyncio
    ws = sw.WebSocket({"type": "websocket", "path": "/", "headers": []}, None, None)
    try:
        asyncio.run(ws.receive_text())
    except Exception as exc:
        return [type(exc).__module__, type(exc).__qualname__, str(exc), type(ws).__qualname__]

before = state()
try:
    getattr(ferrosocket, sys.argv[1])(*([] if sys.argv[1] == "install" else [lambda: None]))
except Exception as exc:
    outcome = [type(exc).__name__, str(exc)]
else:
    outcome = ["ok", ""]
print(json.dumps({"version": starlette.__version__, "file": starlette.__file__, "before": before,
                  "after": state(), "outcome": outcome, "closed_use": closed_use()}))
"""


def probe(version: str, call: str = "install") -> dict[str, object]:
    env = dict(os.environ, PYTHONPATH=str(starlette_release(version)), PYTHONDONTWRITEBYTECODE="1")
    result = subprocess.run(
        [sys.executable, "-c", PROBE, call], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    data: dict[str, object] = json.loads(result.stdout)
    assert data["version"] == version and str(data["file"]).startswith(str(CACHE))
    return data


@pytest.mark.parametrize("call", ["install", "adopt"])
@pytest.mark.parametrize("version", ["0.39.2"])
def test_unsupported_release_is_refused_and_left_unchanged(version: str, call: str) -> None:
    data = probe(version, call)
    kind, message = data["outcome"]  # type: ignore[misc]
    assert kind == "RuntimeError", message
    assert (
        f"Starlette {version}" in message and "0.40 to 1.10" in message and "nothing was changed" in message
    )
    assert data["after"] == data["before"]
    before = data["before"]
    assert isinstance(before, dict)
    assert before["websocket_meta"] == "<class 'abc.ABCMeta'>" and not before["websocket_registered"]
    assert not any(before["registered"]) and not any(before["swapped"])


# A use after close: Starlette 1.7 brought WebSocketDisconnected (a RuntimeError); before it, a
# plain RuntimeError, with the same message. Older releases build ferrosocket's subclass for them.
CLOSED = 'WebSocket is not connected. Need to call "accept" first.'
BUILT = {
    "0.40.0": ("builtins", "RuntimeError", "WebSocket_0_40"),
    "1.6.0": ("builtins", "RuntimeError", "WebSocket_1_0"),
    "1.7.0": ("ferrosocket._install", "WebSocketDisconnected", "WebSocket_1_0"),
}


@pytest.mark.parametrize("version", sorted(BUILT))
def test_supported_release_switches(version: str) -> None:
    data = probe(version)
    assert data["outcome"] == ["ok", ""]
    after = data["after"]
    assert isinstance(after, dict)
    assert after["websocket_registered"] and all(after["registered"]) and all(after["swapped"])
    assert after["switch"][:2] == [True, False]
    module, name, built = BUILT[version]
    assert data["closed_use"] == [module, name, CLOSED, built]


@pytest.fixture
def restored() -> Iterator[None]:
    yield
    ferrosocket.uninstall()


@pytest.mark.parametrize("version", ["1.11.0", "2.0.0", "0.39.2", "0.4.0", "0.3", "1.100.0", "nonsense", ""])
def test_version_bounds(monkeypatch: pytest.MonkeyPatch, restored: None, version: str) -> None:
    monkeypatch.setattr(starlette, "__version__", version)
    with pytest.raises(
        RuntimeError,
        match=rf"support Starlette 0\.40 to 1\.10, but Starlette {re.escape(version)} is installed",
    ):
        ferrosocket.install()
    assert not ferrosocket.installed() and _install._switch.starlette_class is None


@pytest.mark.parametrize("version", ["0.40.0", "0.52.1", "1.6.0", "1.7.0", "1.10.0", "1.10.3", "1.8.0rc1"])
def test_versions_in_range(monkeypatch: pytest.MonkeyPatch, restored: None, version: str) -> None:
    monkeypatch.setattr(starlette, "__version__", version)
    ferrosocket.install()
    assert ferrosocket.installed()
