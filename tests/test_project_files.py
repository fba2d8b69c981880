"""The project's own files agree with each other: one version, one Starlette range, one toolchain
floor, README links that work on PyPI. (Not in the core suite: it reads the source tree.)"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GITHUB = "https://github.com/ferrosocket/ferrosocket"


def pyproject() -> dict[str, object]:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def cargo_package() -> dict[str, str]:
    package: dict[str, str] = tomllib.loads((REPO / "Cargo.toml").read_text(encoding="utf-8"))["package"]
    return package


def readme() -> str:
    return (REPO / "README.md").read_text(encoding="utf-8")


def test_one_version_number() -> None:
    import ferrosocket

    project = pyproject()["project"]
    assert isinstance(project, dict)
    assert "version" not in project and project["dynamic"] == ["version"]
    assert ferrosocket.__version__ == cargo_package()["version"]
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## Versioning policy" in changelog
    assert f"## [{cargo_package()['version']}]" in changelog


def test_readme_states_the_starlette_range_of_the_extra() -> None:
    project = pyproject()["project"]
    assert isinstance(project, dict)
    (requirement,) = project["optional-dependencies"]["starlette"]
    assert requirement.startswith("starlette>=")
    assert f"`{requirement}`" in readme()


def test_readme_states_the_rust_version() -> None:
    assert f"Rust {cargo_package()['rust-version']} or newer" in " ".join(readme().split())


def test_readme_links_work_on_pypi() -> None:
    # PyPI renders the README without the repository around it: a relative link is a dead link.
    targets = re.findall(r"\]\(([^)\s]+)\)", readme())
    assert targets
    relative = [t for t in targets if not re.match(r"https://|#", t)]
    assert relative == []
    for target in targets:
        if target.startswith(f"{GITHUB}/blob/main/"):
            path = target.removeprefix(f"{GITHUB}/blob/main/").split("#")[0]
            assert (REPO / path).exists(), target
        elif target.startswith("https://raw.githubusercontent.com/ferrosocket/ferrosocket/main/"):
            assert (REPO / target.split("/main/", 1)[1]).exists(), target


def test_the_msrv_job_builds_with_cargo_tomls_rust_version() -> None:
    # .github/workflows/ci.yml reads rust-version from Cargo.toml (no second copy to drift).
    ci = (REPO / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    assert "rust-version" in ci and cargo_package()["rust-version"] not in ci
