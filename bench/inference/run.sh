#!/usr/bin/env bash
# bench/inference: POST /v1/inference/{name} against a raw loop on the same model and image, same
# machine, same run. Per target: latency at 1 client, throughput at 8 and 32 clients (wrk -t1;
# wrk shares the cores with the server), and the raw loop (decode + preprocess + ONNX Runtime
# Run, one image at a time, all cores to ORT's intra-op threads).
#   DURATION=10 IMAGE=... bench/inference/run.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
duration=${DURATION:-10}
image=${IMAGE:-/usr/share/doc/opencv-doc/examples/data/messi5.jpg}
models=${ARGUS_MODEL_DIR:-$root/models}
raw="$root/build/bench/inference/argus_bench_inference_raw"
for f in "$root/build/argus" "$raw"; do
  [[ -x "$f" ]] || { echo "bench: $f is missing; run 'make build' first" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "bench: wrk is missing (SETUP_BENCH=1 scripts/setup.sh)" >&2; exit 1; }

source "$root/bench/lib.sh"
bench_workdir inference
export BENCH_KEY="bench-key-$(head -c 48 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9')"
export BENCH_IMAGE="$image"

argus_start "$BENCH_KEY" ARGUS_MODEL_DIR="$models"

cores=$(nproc)
printf '| target (model) | 1 client p50 | 8 clients | 32 clients | raw loop | server/raw (best) |\n'
printf '|---|---|---|---|---|---|\n'
# target model size scale
while read -r target model size scale blur; do
  one=$(wrk -t1 -c1 -d"${duration}s" -s "$root/bench/inference/post_image.lua" "$url/v1/inference/$target")
  p50=$(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' <<<"$one")
  rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' <<<"$1"; }
  errs() {
    local n t
    n=$(sed -n 's/.*non200=\([0-9]*\).*/\1/p' <<<"$1")
    t=$(sed -n 's/.*timeout \([0-9]*\).*/\1/p' <<<"$1")
    echo "$n, timeouts: ${t:-0}"
  }
  eight=$(wrk -t1 -c8 -d"${duration}s" --timeout 10s -s "$root/bench/inference/post_image.lua" "$url/v1/inference/$target")
  many=$(wrk -t1 -c32 -d"${duration}s" --timeout 10s -s "$root/bench/inference/post_image.lua" "$url/v1/inference/$target")
  loop=$("$raw" "$models/$model.onnx" "$image" "$size" "$scale" "$duration" "$cores" "$blur")
  raw_rps=$(sed -n 's/images_per_s=\([0-9.]*\).*/\1/p' <<<"$loop")
  best=$(printf '%s\n%s\n' "$(rps "$eight")" "$(rps "$many")" | sort -g | tail -1)
  ratio=$(awk -v a="$best" -v b="$raw_rps" 'BEGIN { printf "%.2f", a / b }')
  printf '| %s (%s) | %s ms | %s/s (non-200: %s) | %s/s (non-200: %s) | %s/s | %sx |\n' \
    "$target" "$model" "$p50" "$(rps "$eight")" "$(errs "$eight")" "$(rps "$many")" \
    "$(errs "$many")" "$raw_rps" "$ratio"
done <<EOF2
object_detection centernet 512 1.0 0
image_embedding mobilenet_v2 224 0.00392156862745098 1.0
EOF2
