#!/usr/bin/env bash
# Header-only libraries that Debian 12 lacks at the version Argus needs, unpacked from pinned npm
# tarballs (each checked against its SHA-256) into deps/ (ARGUS_DEPS_DIR). Nothing of them is
# committed; CMake finds them there.
#
#   deps/hnswlib/   hnswlib 0.8.0 (Apache-2.0), the headers that npm's hnswlib-node 3.0.0 ships
#                   in src/hnswlib/: the vector index (docs/adr/0014-vector-index.md). Debian's
#                   libhnswlib-dev is 0.6.2, whose search takes no filter.
#
# Idempotent: a library whose stamp matches its tarball's SHA-256 is left alone.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${ARGUS_DEPS_DIR:-$root/deps}
out=${out%/}
cache=${ARGUS_CACHE_DIR:-${HOME:?HOME is not set}/.cache/argus}/npm

fail() {
  echo "headers: error: $*" >&2
  exit 1
}

# name  npm spec  tarball  sha256  directory inside the tarball
libraries=(
  "hnswlib hnswlib-node@3.0.0 hnswlib-node-3.0.0.tgz 4a8074485e5abe659d23e9998d97a00226db056ca466ada6eedbc512a4c4df01 package/src/hnswlib"
)

mkdir -p "$out" "$cache"
for entry in "${libraries[@]}"; do
  read -r name spec tarball sha dir <<<"$entry"
  if [[ -f "$out/$name/.stamp" && "$(cat "$out/$name/.stamp")" == "$sha" ]]; then
    continue
  fi
  if [[ ! -s "$cache/$tarball" ]]; then
    echo "headers: fetching $spec"
    command -v npm >/dev/null 2>&1 || fail "npm is not installed (scripts/setup.sh installs it)"
    tmp=$(mktemp -d "$cache/.pack.XXXXXX")
    if ! npm pack "$spec" --pack-destination "$tmp" --ignore-scripts --loglevel=error \
      >"$tmp/npm.log" 2>&1; then
      cat "$tmp/npm.log" >&2
      rm -rf "$tmp"
      fail "npm pack $spec failed"
    fi
    mv "$tmp/$tarball" "$cache/$tarball"
    rm -rf "$tmp"
  fi
  got=$(sha256sum "$cache/$tarball" | cut -d' ' -f1)
  if [[ "$got" != "$sha" ]]; then
    rm -f "$cache/$tarball"
    fail "$tarball has SHA-256 $got, not the pinned $sha (removed; run again)"
  fi
  stage=$(mktemp -d "$out/.$name.XXXXXX")
  tar -xzf "$cache/$tarball" -C "$stage" "$dir"
  mkdir -p "$stage/include"
  mv "$stage/$dir" "$stage/include/$name"
  printf '%s\n' "$sha" >"$stage/include/$name/.stamp"
  rm -rf "${out:?}/$name"
  mv "$stage/include/$name" "$out/$name"
  rm -rf "$stage"
  echo "headers: $name from $spec in $out/$name"
done
