"""Run the atheris harnesses in this folder, each for a bounded time, each in its own process.

    python tests/fuzz/run.py --seconds 20            # every harness, 20 s each (make fuzz)
    python tests/fuzz/run.py --seconds 300 --only fuzz_url
    python tests/fuzz/run.py --known-divergences     # also the inputs of README.md's known list

First the Rust extension is built again with coverage instrumentation (sancov, plus debug
assertions and overflow checks) into target/fuzz/build/, and a copy of the package using it is laid
out in target/fuzz/pkg/: the harnesses import that copy, so libFuzzer sees the Rust code's branches
(the .venv build is left alone). ``--no-native`` skips this and fuzzes the installed package,
guided by Python coverage only.

Exit status 1 if any harness found a failing input (a Rust panic, a difference from Starlette, a
broken property), hung on one input (``-timeout``), ran no input, or ran past its time. Each
harness keeps its corpus, log and crash files in target/fuzz/<name>/ (git-ignored); the report
prints the command that replays a crash file.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
HARNESSES = ["fuzz_query", "fuzz_headers", "fuzz_url", "fuzz_close"]
# Start-up and the final report, on top of -max_total_time.
GRACE_SECONDS = 120
# One input taking longer than this is a hang.
PER_INPUT_TIMEOUT = 10
# What cargo-fuzz passes for coverage, without its (nightly-only) sanitizer flag.
SANCOV_FLAGS = [
    "-Cpasses=sancov-module",
    "-Cllvm-args=-sanitizer-coverage-level=4",
    "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
    "-Cllvm-args=-sanitizer-coverage-pc-table",
    "-Cllvm-args=-sanitizer-coverage-trace-compares",
    "-Cdebug-assertions=on",
    "-Coverflow-checks=on",
]


def build_instrumented(workdir: Path) -> Path:
    """Build the instrumented extension; return the folder holding the package copy."""
    build = workdir / "build"
    env = dict(os.environ, PYO3_PYTHON=sys.executable, PYO3_BUILD_EXTENSION_MODULE="1")
    cmd = ["cargo", "rustc", "--lib", "--features", "python", "--profile", "fast"]
    cmd += ["--target-dir", str(build), "--", *SANCOV_FLAGS]
    print("== building the instrumented extension: " + " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=REPO, env=env)
    pkg = workdir / "pkg"
    dest = pkg / "ferrosocket"
    shutil.rmtree(dest, ignore_errors=True)
    ignore = shutil.ignore_patterns("_core*.so", "_core*.pyd", "__pycache__")
    shutil.copytree(REPO / "python" / "ferrosocket", dest, ignore=ignore)
    shutil.copy2(
        build / "fast" / "libferrosocket.so", dest / f"_core{sysconfig.get_config_var('EXT_SUFFIX')}"
    )
    return pkg


def run_one(name: str, seconds: int, workdir: Path, env: dict[str, str]) -> tuple[bool, str]:
    home = workdir / name
    corpus = home / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for old in [*home.glob("crash-*"), *home.glob("timeout-*"), *home.glob("oom-*")]:
        old.unlink()
    log_path = home / "log.txt"
    cmd = [
        sys.executable,
        str(HERE / f"{name}.py"),
        f"-max_total_time={seconds}",
        f"-timeout={PER_INPUT_TIMEOUT}",
        "-rss_limit_mb=4096",
        f"-artifact_prefix={home}/",
        f"-dict={HERE / 'fuzz.dict'}",
        "-print_final_stats=1",
        str(corpus),
    ]
    start = time.monotonic()
    rc: int | None
    with log_path.open("w") as log:
        try:
            proc = subprocess.run(
                cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=HERE, timeout=seconds + GRACE_SECONDS
            )
            rc = proc.returncode
        except subprocess.TimeoutExpired:
            rc = None
    elapsed = time.monotonic() - start
    text = log_path.read_text(errors="replace")
    runs = re.findall(r"^Done (\d+) runs", text, re.MULTILINE)
    coverage = re.findall(r"^#\d+\s+DONE\s+cov: (\d+)", text, re.MULTILINE)
    found = sorted(str(p) for pattern in ("crash-*", "timeout-*", "oom-*") for p in home.glob(pattern))
    if rc == 0 and runs and int(runs[-1]) > 0 and not found:
        edges = f", {coverage[-1]} edges covered" if coverage else ""
        return True, f"{name}: ok, {runs[-1]} inputs in {elapsed:.0f} s{edges}"
    why = "ran past its time" if rc is None else f"exit status {rc}"
    if rc == 0 and not found:
        why = "ran no input"
    lines = [line for line in text.splitlines() if not line.startswith("INFO: Instrumenting")]
    tail = "\n".join("    " + line for line in lines[-40:])
    prefix = "".join(
        f"{var}={env[var]} " for var in ("FUZZ_KNOWN_DIVERGENCES", "FERROSOCKET_FUZZ_PKG") if var in env
    )
    replay = "".join(f"\n  replay: {prefix}{sys.executable} {HERE / name}.py {path}" for path in found)
    return False, f"{name}: FAILED ({why}) after {elapsed:.0f} s; log {log_path}{replay}\n{tail}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=20, help="fuzzing time per harness (default 20)")
    parser.add_argument("--only", nargs="+", choices=HARNESSES, help="run only these harnesses")
    parser.add_argument(
        "--workdir", type=Path, default=REPO / "target" / "fuzz", help="build, corpus, logs, crashes"
    )
    parser.add_argument(
        "--no-native", action="store_true", help="fuzz the installed package (no Rust coverage)"
    )
    parser.add_argument(
        "--known-divergences",
        action="store_true",
        help="also generate the inputs of the known divergences from Starlette (README.md)",
    )
    args = parser.parse_args()
    if args.seconds < 1:
        parser.error("--seconds must be at least 1")

    env = dict(os.environ)
    env.pop("FERROSOCKET_FUZZ_PKG", None)
    if args.known_divergences:
        env["FUZZ_KNOWN_DIVERGENCES"] = "1"
    if not args.no_native:
        env["FERROSOCKET_FUZZ_PKG"] = str(build_instrumented(args.workdir.resolve()))
    passed = failed = 0
    for name in args.only or HARNESSES:
        print(f"== {name}: fuzzing for {args.seconds} s", flush=True)
        ok, report = run_one(name, args.seconds, args.workdir.resolve(), env)
        print(report, flush=True)
        passed += ok
        failed += not ok
    print(f"fuzz: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
