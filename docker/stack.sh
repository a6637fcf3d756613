#!/bin/sh
# `make stack`: start the compose stack (Redis with a password and append-only persistence, the emulator, two
# workers, Flower with basic auth), run one matrix through `celery -A producer enqueue --wait` inside the stack,
# leave the matrix in the host's out/, and take everything down again.
#
#   sh docker/stack.sh [ENQUEUE OPTIONS...]   default: the two basic rows, pinned versions (works offline)
#   sh docker/stack.sh --keep [...]            leave the stack running afterwards (Flower: 127.0.0.1:$FLOWER_PORT)
#   sh docker/stack.sh --up                    only start the stack
#   sh docker/stack.sh --down                  take it down (containers, networks, volumes; out/ stays)
#
# Environment: CCMATRIX_PROXY_RUNTIME=docker|process (default docker: each worker process boots the gateway image of
# the release under test as a sibling container; process: the proxy runs inside the worker container),
# CCMATRIX_WORKERS (2), CCMATRIX_WORKER_CONCURRENCY (1), CCMATRIX_STACK_OUT (../out, relative to docker/).
# Secrets: docker/.env (git-ignored) is created with random REDIS_PASSWORD and FLOWER_BASIC_AUTH when missing.
set -eu
cd "$(dirname "$0")"
docker="${DOCKER:-/usr/bin/docker}"
if command -v docker-compose >/dev/null 2>&1; then compose_bin="docker-compose"; else compose_bin="$docker compose"; fi
runtime="${CCMATRIX_PROXY_RUNTIME:-docker}"
project="${CCMATRIX_STACK_PROJECT:-ccmatrix}"
export COMPOSE_PROJECT_NAME="$project"

if [ ! -s .env ]; then
  (umask 077 && printf 'REDIS_PASSWORD=%s\nFLOWER_BASIC_AUTH=admin:%s\n' \
    "$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')" "$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')" > .env)
  echo "stack: wrote docker/.env (REDIS_PASSWORD, FLOWER_BASIC_AUTH)"
fi
if [ -z "${CCMATRIX_REDIS_IMAGE:-}" ] && "$docker" image inspect ccmatrix/redis:7.0-bookworm >/dev/null 2>&1; then
  export CCMATRIX_REDIS_IMAGE=ccmatrix/redis:7.0-bookworm   # no registry here: Redis from Debian's package
fi
export CCMATRIX_WORKER_CONCURRENCY="${CCMATRIX_WORKER_CONCURRENCY:-1}"
files="-f compose.yaml"
[ "$runtime" = docker ] && files="$files -f compose.docker-runtime.yaml"
DOCKER_GID="$(stat -c %g "${DOCKER_SOCKET:-/var/run/docker.sock}")"   # the socket's group, for the workers
export DOCKER_GID
compose() { $compose_bin -p "$project" $files "$@"; }

down() {
  # Gateway containers a worker started (the docker runtime removes them itself; this catches a killed worker's).
  ids="$("$docker" ps -aq --filter "label=io.ccmatrix.stack=$project" --filter "label=io.ccmatrix.role=gateway")"
  [ -z "$ids" ] || "$docker" rm -f $ids >/dev/null
  $compose_bin -p "$project" -f compose.yaml -f compose.docker-runtime.yaml --profile enqueue down -v --remove-orphans -t 60
}

up() {
  out="${CCMATRIX_STACK_OUT:-../out}"
  mkdir -p "$out"
  # The workers run as uid 10001 and publish into out/.
  if [ "$(id -u)" = 0 ]; then chown -R 10001:10001 "$out"; else chmod -R a+rwX "$out"; fi
  compose up -d --scale "worker=${CCMATRIX_WORKERS:-2}"
}

keep=0
case "${1:-}" in
  --down) down; exit 0 ;;
  --up) up; exit 0 ;;
  --keep) keep=1; shift ;;
esac
if [ $# -eq 0 ]; then
  set -- --features basic_messaging_non_streaming,tool_use \
    --claude-code-version 2.1.197 --litellm-version 1.106.2 \
    --tier-models haiku=claude-haiku-4-5,sonnet=claude-sonnet-4-5,opus=claude-opus-4-5
fi

started=$(date +%s)
up
status=0
compose --profile enqueue run --rm enqueue celery -A producer enqueue --wait "$@" || status=$?
echo "stack: enqueue exited $status after $(( $(date +%s) - started )) s (runtime: $runtime)"
ls -l "${CCMATRIX_STACK_OUT:-../out}/compatibility-matrix.json" 2>/dev/null || true
if [ "$keep" = 0 ]; then down; fi
exit $status
