#!/usr/bin/env bash
# `make run`: start argus serve, load the demo media once, and tell the user where to look.
set -euo pipefail
bin=${1:-build/argus}
data=${2:-./argus-data}
listen=${3:-127.0.0.1:7070}
url="http://${listen}"

# Demo media that ships in Debian packages (scripts/setup.sh installs what it can); whatever
# exists is uploaded into bucket "demo" of namespace "demo" on the first start.
demo_dirs=(/usr/share/sounds/alsa /usr/share/doc/opencv-doc/examples/data
           /usr/share/doc/libdlib19.1/examples/faces)

mkdir -p "$data"
rm -f "$data/listen.addr"
"$bin" serve --listen "$listen" --data-dir "$data" &
server=$!
trap 'kill -TERM "$server" 2>/dev/null || true' INT TERM
for _ in $(seq 1 200); do [[ -s "$data/listen.addr" ]] && break; sleep 0.05; done
if [[ ! -s "$data/listen.addr" ]]; then
  wait "$server"
  exit 1
fi

if [[ ! -f "$data/.demo-loaded" ]]; then
  export ARGUS_URL="$url" ARGUS_API_KEY="$(cat "$data/admin.key")"
  "$bin" ns create demo >/dev/null 2>&1 || true
  export ARGUS_NAMESPACE=demo
  "$bin" buckets create demo --description "demo media from Debian packages" >/dev/null 2>&1 || true
  loaded=0
  for dir in "${demo_dirs[@]}"; do
    [[ -d "$dir" ]] || continue
    if "$bin" upload "$dir" --bucket demo --prefix "$(basename "$dir")/" >/dev/null 2>&1; then
      loaded=1
    fi
  done
  if [[ "$loaded" == 1 ]]; then
    # The demo's collections: scenes (embedding, objects, text, properties), the faces found in
    # them, and a later tier describing each face; one batch runs them on the demo's images.
    "$bin" collections create scenes --bucket demo -e image_embedding -e object_detection \
      -e ocr -e image_properties --index label:keyword --no-auto-process >/dev/null 2>&1 || true
    "$bin" collections create faces --bucket demo -e face_detection --no-auto-process \
      >/dev/null 2>&1 || true
    "$bin" collections create people --collection faces -e face_embedding >/dev/null 2>&1 || true
    echo "Processing the demo images (one batch; a line per tier):"
    "$bin" batch submit --bucket demo --filter '{"media_type": {"starts_with": "image/"}}' \
      --wait --timeout 900 >/dev/null || echo "  (the batch goes on in the background)"
    touch "$data/.demo-loaded"
  fi
fi

cat <<MSG

  Argus is running at ${url}
  API docs:        ${url}/docs
  Metrics:         ${url}/metrics
  Admin key:       $(realpath "$data")/admin.key  (created on first start, mode 0600)
  Demo media:      bucket "demo" in namespace "demo" (loaded on the first start)

  Try:
    export ARGUS_URL=${url} ARGUS_API_KEY=\$(cat ${data}/admin.key)
    ${bin} objects ls demo --namespace demo
    curl -s -H "Authorization: Bearer \$ARGUS_API_KEY" -H 'X-Namespace: demo' \\
         '${url}/v1/buckets/demo/objects?delimiter=/'
    ${bin} models ls
    ${bin} infer object_detection /usr/share/doc/opencv-doc/examples/data/messi5.jpg
    ${bin} batch ls --bucket demo --namespace demo
    curl -s -H "Authorization: Bearer \$ARGUS_API_KEY" -H 'X-Namespace: demo' \\
         -H 'Content-Type: application/json' ${url}/v1/collections/scenes/search \\
         -d '{"object": {"bucket": "demo", "key": "data/messi5.jpg"}, "limit": 3}'
    curl -s -H "Authorization: Bearer \$ARGUS_API_KEY" -H 'X-Namespace: demo' \\
         -H 'Content-Type: application/json' ${url}/v1/collections/scenes/search \\
         -d '{"text": "students projects", "limit": 3}'

  Ctrl-C stops it (in-flight requests finish first).

MSG
wait "$server"
