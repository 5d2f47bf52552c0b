#!/usr/bin/env bash
# bench/filter: filters through the payload indexes against the same store without them and raw
# SQLite with an expression index per field, same documents, same run (see filter_bench.cc).
#   N=100000 QUERIES=30 bench/filter/run.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin="$root/build/bench/filter/argus_bench_filter"
[[ -x "$bin" ]] || { echo "bench: $bin is missing; run 'make build' first" >&2; exit 1; }
DIR=${DIR:-$(mktemp -d)} exec "$bin"
