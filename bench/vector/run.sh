#!/usr/bin/env bash
# bench/vector: the VectorIndex contract against raw hnswlib 0.8 and an exact scan of the
# matching subset, same data, same run, one query thread (see vector_bench.cc).
#   N=100000 DIM=512 QUERIES=200 bench/vector/run.sh      N=1000000 for the large run
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin="$root/build/bench/vector/argus_bench_vector"
[[ -x "$bin" ]] || { echo "bench: $bin is missing; run 'make build' first" >&2; exit 1; }
DIR=${DIR:-$(mktemp -d)} exec "$bin"
