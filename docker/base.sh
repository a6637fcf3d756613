#!/bin/sh
# The local base image for machines that reach no container registry: Debian bookworm (minbase) with Python 3.11
# from Debian's packages, built with debootstrap from a Debian mirror and `docker import`ed. Built once, cached by
# tag; `--force` rebuilds. Users with a registry never need it: every Dockerfile defaults to the official
# python:3.11.x-slim-bookworm (build argument PYTHON_IMAGE).
set -eu
tag="${CCMATRIX_BASE_IMAGE:-ccmatrix/base:bookworm-py3.11}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
docker="${DOCKER:-/usr/bin/docker}"
if [ "${1:-}" != "--force" ] && "$docker" image inspect "$tag" >/dev/null 2>&1; then
  echo "base: $tag (cached)"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "base: debootstrap missing (apt-get install -y debootstrap)" >&2; exit 1; }
root="$(mktemp -d /tmp/ccmatrix-base.XXXXXX)"
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,python-is-python3,ca-certificates \
  bookworm "$root" "$mirror" >"$root.log" 2>&1 || { tail -20 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"
cat >"$root/etc/apt/sources.list" <<LIST
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security} bookworm-security main
LIST
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/log/* "$root"/tmp/* "$root"/root/.cache
tar -C "$root" -c . | "$docker" import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["python3"]' \
  --message "debootstrap --variant=minbase bookworm + python3 ($mirror)" - "$tag" >/dev/null
echo "base: $tag (built)"
