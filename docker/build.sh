#!/bin/sh
# `make images`: every image the compose stack and the docker proxy runtime use, idempotent (BuildKit's cache;
# the base is built once and cached by its tag).
#
#   ccmatrix/base:bookworm-py3.11   Debian minbase + Python 3.11 from the Debian mirror (docker/base.sh), only when
#                                   CCMATRIX_PYTHON_IMAGE is not given
#   ccmatrix/worker:dev             the project + Claude Code's native binary + the LiteLLM venv (process runtime)
#   ccmatrix/emulator:dev           the provider emulator
#   ccmatrix/gateway:<V>            LiteLLM proxy <V>, one per release in CCMATRIX_GATEWAY_VERSIONS (docker runtime)
#   ccmatrix/redis:7.0-bookworm     Redis, from Debian's package (only when building on the local base)
#
# Environment: CCMATRIX_PYTHON_IMAGE (a base image you can pull, e.g. python:3.11.13-slim-bookworm: skips the local
# base and the Redis image), CLAUDE_CODE_VERSION, LITELLM_VERSION (default: the Dockerfiles' pins, = the manifest's),
# CCMATRIX_GATEWAY_VERSIONS (space separated, default LITELLM_VERSION), CCMATRIX_CA_BUNDLE (default the host's
# /etc/ssl/certs/ca-certificates.crt when present; passed as a build secret, never in a layer; "" to not pass one).
set -eu
cd "$(dirname "$0")/.."
docker="${DOCKER:-/usr/bin/docker}"   # apt's client: /usr/local/bin/docker may lack buildx / BuildKit support
export DOCKER_BUILDKIT=1
pin() { sed -n "s/^ARG $1=//p" docker/worker.Dockerfile | head -1; }
claude_version="${CLAUDE_CODE_VERSION:-$(pin CLAUDE_CODE_VERSION)}"
litellm_version="${LITELLM_VERSION:-$(pin LITELLM_VERSION)}"
gateway_versions="${CCMATRIX_GATEWAY_VERSIONS:-$litellm_version}"
ca="${CCMATRIX_CA_BUNDLE-/etc/ssl/certs/ca-certificates.crt}"

set --
if [ -n "$ca" ] && [ -s "$ca" ]; then set -- --secret "id=ca,src=$ca"; fi
if [ -n "${CCMATRIX_PYTHON_IMAGE:-}" ]; then
  base="$CCMATRIX_PYTHON_IMAGE"
  local_base=0
else
  base="${CCMATRIX_BASE_IMAGE:-ccmatrix/base:bookworm-py3.11}"
  CCMATRIX_BASE_IMAGE="$base" DOCKER="$docker" sh docker/base.sh
  local_base=1
fi

build() {  # build <tag> <dockerfile> [--build-arg ...]
  tag="$1"; file="$2"; shift 2
  started=$(date +%s)
  log="$(mktemp /tmp/ccmatrix-build.XXXXXX)"
  if ! "$docker" build --progress=plain -f "$file" --build-arg "PYTHON_IMAGE=$base" "$@" -t "$tag" . >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "images: $tag FAILED (full log: $log)" >&2
    exit 1
  fi
  rm -f "$log"
  echo "images: $tag ($(( $(date +%s) - started )) s)"
}

build ccmatrix/emulator:dev docker/emulator.Dockerfile "$@"
for v in $gateway_versions; do
  build "ccmatrix/gateway:$v" docker/gateway.Dockerfile --build-arg "LITELLM_VERSION=$v" "$@"
done
build ccmatrix/worker:dev docker/worker.Dockerfile \
  --build-arg "CLAUDE_CODE_VERSION=$claude_version" --build-arg "LITELLM_VERSION=$litellm_version" "$@"
if [ "$local_base" = 1 ]; then
  build ccmatrix/redis:7.0-bookworm docker/redis.Dockerfile "$@"
fi
# Earlier builds of these tags, now untagged: drop them (their shared layers stay in the build cache).
for title in ccmatrix-worker ccmatrix-emulator ccmatrix-gateway; do
  "$docker" image prune -f --filter dangling=true --filter "label=org.opencontainers.image.title=$title" >/dev/null
done
