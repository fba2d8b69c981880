#!/usr/bin/env bash
# Did a release build use the PGO profile? (scripts/pgo_profile.sh makes it.)
#
#   scripts/pgo_check.sh EXTENSION             # a built _core*.so, or a wheel holding one
#   scripts/pgo_check.sh --log BUILD_LOG       # the build's output, built with the profile and
#                                              # -Cllvm-args=-pgo-warn-missing-function
#   scripts/pgo_check.sh --symbols EXTENSION   # prints its ferrosocket function symbols
#
# A profile names functions by their mangled symbols, whose hash comes from the crate's Cargo
# metadata: a build with other metadata (another target, other Cargo settings, another rustc)
# finds none of them in the profile and is built as if it had none, silently. Two ways to tell:
# * the extension's own symbols against the instrumented build's (target/pgo/*.symbols): at
#   least half must be there (an extension whose symbols were stripped, as zig's linker does,
#   or a Windows .pyd cannot be read: exits 0 with a note);
# * the build log: LLVM's "no profile data available for function" warnings for ferrosocket's
#   functions must be fewer than half of the profile's functions (none, when the profile fits).
# Exits 1 when the build does not match the profile.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

symbols() {
    local file=$1 tmp=""
    if [[ $file == *.whl ]]; then
        tmp=$(mktemp -d)
        python3 -m zipfile -e "$file" "$tmp"
        local extensions=("$tmp"/ferrosocket/_core*)
        file=${extensions[0]-}
    fi
    # (Mach-O symbols carry one more leading underscore: matched from _ZN on.)
    [[ -n $file ]] && nm "$file" 2>/dev/null | grep -oE '_ZN11ferrosocket[A-Za-z0-9_$.]*' | sort -u || true
    [[ -n $tmp ]] && rm -rf "$tmp"
    return 0
}

if [[ ${1:-} == --symbols ]]; then
    symbols "${2:?usage: scripts/pgo_check.sh --symbols EXTENSION}"
    exit 0
fi

shopt -s nullglob
made=(target/pgo/*.symbols)  # pgo_profile.sh keeps the newest profile only
reference=${made[0]-}
[[ -n $reference && -s $reference ]] || { echo "pgo check: no profile's symbols in target/pgo" >&2; exit 1; }
total=$(wc -l < "$reference")
fail() {
    echo "pgo check: FAILED: the build does not match the profile (another target, Cargo settings or rustc?)" >&2
    exit 1
}

if [[ ${1:-} == --log ]]; then
    log=${2:?usage: scripts/pgo_check.sh --log BUILD_LOG}
    # (When Cargo finds the crate fresh it replays the warnings of its compilation with these flags.)
    missing=$(grep -c 'no profile data available for function _ZN11ferrosocket' "$log" || true)
    echo "pgo check: the build found no profile data for $missing of the profile's $total functions"
    (( missing * 2 < total )) || fail
    exit 0
fi

extension=${1:?usage: scripts/pgo_check.sh EXTENSION}
built=$(symbols "$extension")
if [[ -z $built ]]; then
    echo "pgo check: $(basename "$extension"): no symbols to read (stripped, or a .pyd): not checked"
    exit 0
fi
shared=$(comm -12 <(echo "$built") "$reference" | wc -l)
echo "pgo check: $(basename "$extension"): $shared of the profile's $total function symbols found"
(( shared * 2 >= total )) || fail
