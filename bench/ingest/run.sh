#!/usr/bin/env bash
# bench/ingest: 200 images through a collection's ONNX extractors (image_embedding and
# object_detection) as one batch, against the pure model time of the same work: a raw loop per
# model (decode + preprocess + ONNX Runtime Run, all cores to ORT) times 200. Same machine, same
# run. Prints the batch's wall time, the raw sum and their ratio (target <= 1.2x).
#   IMAGES=200 bench/ingest/run.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
count=${IMAGES:-200}
models=${ARGUS_MODEL_DIR:-$root/models}
raw="$root/build/bench/inference/argus_bench_inference_raw"
for f in "$root/build/argus" "$raw"; do
  [[ -x "$f" ]] || { echo "bench: $f is missing; run 'make build' first" >&2; exit 1; }
done

source "$root/bench/lib.sh"
bench_workdir ingest
key="bench-key-$(head -c 48 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9')"
argus_start "$key" ARGUS_INFERENCE_PRELOAD=true ARGUS_MODEL_DIR="$models"
api() { curl -sf -H "Authorization: Bearer $key" -H 'X-Namespace: bench' "$@"; }
curl -sf -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  -d '{"name": "bench"}' "$url/v1/namespaces" >/dev/null
api -H 'Content-Type: application/json' -d '{"name": "photos"}' "$url/v1/buckets" >/dev/null

# The packaged example images, cycled to $count objects (distinct keys; repeated bytes are
# processed again like any new object).
mapfile -t images < <(ls /usr/share/doc/opencv-doc/examples/data/*.jpg \
                         /usr/share/doc/libdlib19.1/examples/faces/*.jpg 2>/dev/null | sort)
for i in $(seq 0 $((count - 1))); do
  f=${images[$((i % ${#images[@]}))]}
  api -X PUT --data-binary "@$f" "$url/v1/buckets/photos/objects/$i-$(basename "$f")" >/dev/null
done
api -H 'Content-Type: application/json' "$url/v1/collections" -d '{"name": "scenes",
  "source": {"bucket": "photos"}, "auto_process": false,
  "extractors": [{"name": "image_embedding"}, {"name": "object_detection"}]}' >/dev/null
id=$(api -H 'Content-Type: application/json' -d '{}' "$url/v1/buckets/photos/batches" |
     python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
start=$(date +%s.%N)
api -X POST -H 'Prefer: wait=3600' "$url/v1/buckets/photos/batches/$id/submit" > "$work/batch.json"
wall=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
status=$(python3 -c 'import json, sys; b = json.load(open(sys.argv[1])); print(b["status"])' \
  "$work/batch.json")

# The raw loops, one model at a time on all cores: pure model time per image.
cores=$(nproc)
image=/usr/share/doc/opencv-doc/examples/data/messi5.jpg
ms() { "$raw" "$models/$1.onnx" "$image" "$2" "$3" 5 "$cores" "$4" | sed -n 's/.*ms_per_image=\([0-9.]*\).*/\1/p'; }
embed=$(ms mobilenet_v2 224 0.00392156862745098 1.0)
detect=$(ms centernet 512 1.0 0)
ideal=$(awk -v n="$count" -v a="$embed" -v b="$detect" 'BEGIN { printf "%.2f", n * (a + b) / 1000 }')
printf '| images | batch | argus wall | raw model time (embed %s ms + detect %s ms per image) | argus/raw |\n' "$embed" "$detect"
printf '|---|---|---|---|---|\n'
printf '| %s | %s | %s s | %s s | %sx |\n' "$count" "$status" "$wall" "$ideal" \
  "$(awk -v a="$wall" -v b="$ideal" 'BEGIN { printf "%.2f", a / b }')"
