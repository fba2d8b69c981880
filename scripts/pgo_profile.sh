#!/usr/bin/env bash
# Profile-guided optimisation (PGO) of ferrosocket's release builds: makes the profile and prints
# the RUSTFLAGS that use it.
#
#   flags="$(scripts/pgo_profile.sh PYTHON [MATURIN_BUILD_ARGS...])"
#   RUSTFLAGS="$RUSTFLAGS $flags" maturin build --release MATURIN_BUILD_ARGS...   (or develop)
#   scripts/pgo_check.sh path/to/_core.so     # did the build use it?
#   scripts/pgo_profile.sh --find-profdata    # prints the llvm-profdata it would use, or exits 1
#
# 1. An instrumented release build (-Cprofile-generate): `maturin build --release` for PYTHON
#    with MATURIN_BUILD_ARGS, in its own target directory (target/pgo-instrumented); only run
#    here, so not audited for manylinux.
# 2. The training run: scripts/pgo_training.py on that build (the wheel unpacked into a
#    temporary directory first on PYTHONPATH; PYTHON needs orjson), which writes raw profiles.
# 3. llvm-profdata merges them into target/pgo/ferrosocket-<digest>.profdata (the digest in the
#    name makes Cargo rebuild when it changes); stdout gets `-Cprofile-use=<that file>`. Beside
#    it, <same name>.symbols lists the instrumented build's function symbols, for pgo_check.sh.
#
# The profile names functions by their symbols, which carry a hash of the crate's Cargo metadata:
# it only fits a build by the same rustc for the same target in the same Cargo environment, so
# pass the real build's arguments that change them (--target; --zig, whose cargo-zigbuild sets
# Cargo variables; `maturin develop --release` matches no arguments). llvm-profdata must be the one of rustc's own LLVM: rustup's llvm-tools
# component, else `llvm-profdata-<major>` (Debian's llvm-<major> package), else `llvm-profdata`
# of that major.
#
# Without such an llvm-profdata, or if a step fails, stdout stays empty and stderr says why: the
# caller builds without PGO. FERROSOCKET_PGO=required makes that an error (exit 1) instead;
# FERROSOCKET_PGO=off skips PGO. MATURIN (default: maturin) is the maturin to run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

llvm_major=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
host=$(rustc -vV | sed -n 's/^host: //p')
profdata=""
for candidate in "$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata" \
    "$(command -v "llvm-profdata-$llvm_major" || true)" "$(command -v llvm-profdata || true)"; do
    if [[ -x $candidate ]] && "$candidate" merge --version 2>/dev/null | grep -q "LLVM version $llvm_major\."; then
        profdata=$candidate
        break
    fi
done
if [[ ${1:-} == --find-profdata ]]; then
    [[ -n $profdata ]] && echo "$profdata"
    [[ -n $profdata ]]
    exit
fi

python=${1:?usage: scripts/pgo_profile.sh PYTHON [MATURIN_BUILD_ARGS...]}
shift
mode=${FERROSOCKET_PGO:-auto}
maturin=${MATURIN:-maturin}

skip() {
    echo "pgo: no profile-guided optimisation: $1" >&2
    [[ $mode == required ]] && exit 1
    exit 0
}
[[ $mode == off ]] && skip "FERROSOCKET_PGO=off"
[[ -n $profdata ]] || skip "no llvm-profdata of rustc's LLVM $llvm_major (rustup component add llvm-tools, or Debian's llvm-$llvm_major)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

generate="-Cprofile-generate=$work/raw"
# zig's linker wrapper takes the `-u __llvm_profile_runtime` rustc passes for a file: the
# instrumented build links with the system's cc instead (the linker is not in the metadata).
[[ " $* " == *" --zig "* ]] && generate="$generate -Clinker=${CC:-cc}"

echo "pgo: 1/3 instrumented build (llvm-profdata: $profdata)" >&2
if ! RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }$generate" "$maturin" build --release \
    --interpreter "$python" --target-dir target/pgo-instrumented --out "$work/wheel" --auditwheel skip \
    "$@" >&2; then
    skip "the instrumented build failed"
fi
"$python" -m zipfile -e "$work"/wheel/ferrosocket-*.whl "$work/site" >&2 || skip "the instrumented wheel could not be unpacked"

echo "pgo: 2/3 training run (scripts/pgo_training.py)" >&2
if ! PYTHONPATH="$work/site" LLVM_PROFILE_FILE="$work/training/ferrosocket-%p-%m.profraw" \
    "$python" scripts/pgo_training.py >&2; then
    skip "the training run failed"
fi

echo "pgo: 3/3 merge" >&2
compgen -G "$work/training/*.profraw" >/dev/null || skip "the training run wrote no raw profile"
"$profdata" merge -o "$work/merged.profdata" "$work"/training/*.profraw >&2 || skip "llvm-profdata merge failed"
mkdir -p target/pgo
digest=$("$python" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest()[:16])' "$work/merged.profdata")
out="$PWD/target/pgo/ferrosocket-$digest.profdata"
find target/pgo -name 'ferrosocket-*' ! -name "ferrosocket-$digest.*" -delete
mv "$work/merged.profdata" "$out"
scripts/pgo_check.sh --symbols "$work"/site/ferrosocket/_core* > "${out%.profdata}.symbols"
echo "pgo: profile $out" >&2
echo "-Cprofile-use=$out"
