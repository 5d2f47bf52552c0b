#!/usr/bin/env bash
# bench/vector: the VectorIndex contract against raw hnswlib 0.8 and an exact scan of the
# matching subset, same data, same run, one query thread (see vector_bench.cc).
#   N=100000 DIM=512 QUERIES=200 bench/vector/run.sh
#   N=1000000 QUERIES=100 RAW_BUILD=0 bench/vector/run.sh   the large run (raw hnswlib searches
#   the contract's saved graph instead of building its own: about 25 minutes instead of 50)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin="$root/build/bench/vector/argus_bench_vector"
[[ -x "$bin" ]] || { echo "bench: $bin is missing; run 'make build' first" >&2; exit 1; }
DIR=${DIR:-$(mktemp -d)} exec "$bin"
