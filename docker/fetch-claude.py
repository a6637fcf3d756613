"""Fetch the Claude Code native binary for one release from the npm registry, without Node.

The npm package @anthropic-ai/claude-code carries the CLI for each platform as an optional dependency
(@anthropic-ai/claude-code-linux-<arch>), whose tarball holds the self-contained native binary `claude`. This
reads that package's registry metadata, downloads its tarball, checks it against the registry's sha512 integrity,
extracts `package/claude`, and checks `claude --version` reports the pin. HTTPS verification uses the system's trust
store, or SSL_CERT_FILE when set (a corporate/egress CA passed as a build secret).

    python fetch-claude.py VERSION OUT_DIR [--arch x64|arm64] [--registry URL]
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import urllib.request

MAIN = "@anthropic-ai/claude-code"


def get(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "ccmatrix-build"})
    with urllib.request.urlopen(request, timeout=300) as response:
        return response.read()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("version")
    parser.add_argument("out")
    parser.add_argument("--arch", default="x64")
    parser.add_argument("--registry", default="https://registry.npmjs.org")
    args = parser.parse_args()
    registry = args.registry.rstrip("/")
    platform_pkg = f"{MAIN}-linux-{args.arch}"
    main_meta = json.loads(get(f"{registry}/{MAIN.replace('/', '%2f')}/{args.version}"))
    wanted = (main_meta.get("optionalDependencies") or {}).get(platform_pkg)
    if wanted != args.version:
        print(f"{MAIN}@{args.version} does not depend on {platform_pkg}@{args.version} (got {wanted!r})",
              file=sys.stderr)
        return 1
    meta = json.loads(get(f"{registry}/{platform_pkg.replace('/', '%2f')}/{args.version}"))
    tarball = get(meta["dist"]["tarball"])
    algo, _, expected = meta["dist"]["integrity"].partition("-")
    if algo != "sha512" or base64.b64encode(hashlib.sha512(tarball).digest()).decode() != expected:
        print(f"{platform_pkg}@{args.version}: integrity mismatch", file=sys.stderr)
        return 1
    os.makedirs(args.out, exist_ok=True)
    binary = os.path.join(args.out, "claude")
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        member = archive.getmember("package/claude")
        with archive.extractfile(member) as source, open(binary, "wb") as target:
            target.write(source.read())
    os.chmod(binary, 0o755)
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=120).stdout.strip()
    if not version.startswith(args.version):
        print(f"asked for {args.version}, the binary says {version!r}", file=sys.stderr)
        return 1
    with open(os.path.join(args.out, ".ccmatrix-ok"), "w") as marker:
        marker.write(args.version)
    print(f"claude {version} ({len(tarball)} bytes, sha512 verified)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
