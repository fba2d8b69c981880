"""The typing cases (parity_cases.py, ferrosocket_cases.py) under mypy --strict and pyright strict.

parity_cases.py is checked twice: as written, against ferrosocket, and with Starlette 1.10.0's
classes imported in place of ferrosocket's. Both checkers must find on both sides exactly the
errors the cases' comments name, line by line: mypy's `# type: ignore[code]` comments must each
be used (mypy --strict reports an unused one, or an error of another code on its line), and pyright
runs with `# type: ignore` comments disabled and unnecessary `# pyright: ignore[rule]` rules
reported, so each line must give exactly the pyright rules it names. `assert_type` pins the types.

`make lint` checks the two case files as written too (mypy --strict; pyright basic, where the
`# type: ignore` comments hide its errors). Needs mypy and pyright (requirements/lint.txt) and
Starlette.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PARITY = HERE / "parity_cases.py"
FERROSOCKET_ONLY = HERE / "ferrosocket_cases.py"

BEGIN = "# >>> ferrosocket imports"
END = "# <<<"
STARLETTE_IMPORTS = (
    "from starlette.datastructures import URL, Headers, MutableHeaders, QueryParams\n"
    "from starlette.websockets import WebSocket, WebSocketState\n"
)


def starlette_side(source: str) -> str:
    """``source`` with Starlette's classes imported in place of ferrosocket's."""
    head, begin, rest = source.partition(BEGIN)
    _, end, tail = rest.partition(END)
    assert begin and end, f"{PARITY.name} lost its import markers"
    return head + begin + "\n" + STARLETTE_IMPORTS + "\n" + end + tail


def write_cases(directory: Path) -> list[Path]:
    """The three files checked: the parity cases on each side, and ferrosocket's own."""
    source = PARITY.read_text(encoding="utf-8")
    files = {
        "parity_ferrosocket.py": source,
        "parity_starlette.py": starlette_side(source),
        "ferrosocket_only.py": FERROSOCKET_ONLY.read_text(encoding="utf-8"),
    }
    paths = []
    for name, text in files.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def run_mypy(files: list[Path], directory: Path, search_path: Path | None = None) -> str:
    """mypy --strict's report on ``files`` ("" when clean). ``search_path``: where to find
    another ferrosocket package first (to check the cases against older annotations)."""
    env = dict(os.environ)
    env.pop("MYPYPATH", None)
    if search_path is not None:
        env["MYPYPATH"] = str(search_path)
    config_file = directory / "mypy.ini"  # this one only, not the project's
    config_file.write_text("[mypy]\n", encoding="utf-8")
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", os.devnull]
    command += ["--python-version", "3.11", "--config-file", str(config_file), "--hide-error-context"]
    result = subprocess.run(
        [*command, *map(str, files)], capture_output=True, text=True, cwd=directory, env=env, check=False
    )
    if result.returncode == 0:
        return ""
    return result.stdout + result.stderr


def pyright_command() -> str:
    found = Path(sys.executable).with_name("pyright")
    if found.exists():
        return str(found)
    which = shutil.which("pyright")
    assert which is not None, "pyright is missing: install requirements-dev.txt (requirements/lint.txt)"
    return which


def run_pyright(files: list[Path], directory: Path, search_path: Path | None = None) -> list[str]:
    """pyright strict's errors on ``files``, as ``file:line: message (rule)``; ``# type: ignore``
    comments left out, ``# pyright: ignore[rule]`` rules that suppress nothing reported."""
    config: dict[str, Any] = {
        "typeCheckingMode": "strict",
        "pythonVersion": "3.11",
        "enableTypeIgnoreComments": False,
        "reportUnnecessaryTypeIgnoreComment": "error",
        "include": [file.name for file in files],
    }
    if search_path is not None:
        config["extraPaths"] = [str(search_path)]
    config_file = directory / "pyrightconfig.json"
    config_file.write_text(json.dumps(config), encoding="utf-8")
    command = [pyright_command(), "--outputjson", "-p", str(config_file), "--pythonpath", sys.executable]
    result = subprocess.run(command, capture_output=True, text=True, cwd=directory, check=False)
    try:
        report = json.loads(result.stdout)
    except ValueError:
        raise AssertionError(f"pyright gave no report: {result.stdout}{result.stderr}") from None
    errors = []
    for diagnostic in report["generalDiagnostics"]:
        if diagnostic["severity"] == "information":
            continue
        where = f"{Path(diagnostic['file']).name}:{diagnostic['range']['start']['line'] + 1}"
        message = diagnostic["message"].splitlines()[0]
        errors.append(f"{where}: {message} ({diagnostic.get('rule', diagnostic['severity'])})")
    assert report["summary"]["filesAnalyzed"] == len(files), report["summary"]
    return errors


def test_starlette_side_swaps_only_the_imports() -> None:
    source = PARITY.read_text(encoding="utf-8")
    swapped = starlette_side(source)
    assert "from ferrosocket" not in swapped
    assert swapped.count("\n") == source.count("\n") + 1  # one import line becomes two
    assert "# type: ignore[" in source and "# pyright: ignore[" in source


def test_mypy_finds_exactly_the_named_errors(tmp_path: Path) -> None:
    report = run_mypy(write_cases(tmp_path), tmp_path)
    assert report == "", report


def test_pyright_finds_exactly_the_named_errors(tmp_path: Path) -> None:
    errors = run_pyright(write_cases(tmp_path), tmp_path)
    assert errors == [], "\n".join(errors)
