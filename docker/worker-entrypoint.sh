#!/bin/sh
# Seed the writable cache (CCMATRIX_CACHE_DIR, an emptyDir/tmpfs in a cluster) with links to the tools baked into
# the image, so the provisioner finds the pinned Claude Code and LiteLLM without downloading anything:
#   $CCMATRIX_CACHE_DIR/claude-code/<v> -> /opt/claude-code/<v>
#   $CCMATRIX_CACHE_DIR/litellm/<v>     -> /opt/litellm/<v>          (/opt = CCMATRIX_BAKED_DIR)
# The cache itself must stay writable: the provisioner takes file locks beside each entry and the worker keeps
# its per-process run directory (proxy configs, emulator captures) under <cache>/run.
# Processes that run no cells (Flower, the enqueue CronJob) may run without a writable cache: skip quietly.
set -eu
cache="${CCMATRIX_CACHE_DIR:-/var/cache/ccmatrix}"
baked_root="${CCMATRIX_BAKED_DIR:-/opt}"
for kind in claude-code litellm; do
  mkdir -p "$cache/$kind" 2>/dev/null || { echo "ccmatrix-entrypoint: $cache not writable, not seeding" >&2; break; }
  for baked in "$baked_root/$kind"/*; do
    [ -d "$baked" ] || continue
    link="$cache/$kind/$(basename "$baked")"
    [ -e "$link" ] || ln -s "$baked" "$link" 2>/dev/null || true
  done
done
exec "$@"
