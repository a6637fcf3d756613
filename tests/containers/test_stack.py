"""Issue 15 for real: `make images` builds every image from the Debian mirror, PyPI and npm; the compose stack runs
the two basic rows on every column through worker containers that boot gateway containers; Flower is behind basic
auth; no image carries a credential or the egress CA; the worker is not root; nothing is left behind."""
from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .conftest import DOCKER, PROJECT_ROOT, docker

ROWS = ("basic_messaging_non_streaming", "tool_use")
PROJECT = "ccmatrix-test"
FLOWER_PORT = int(os.environ.get("CCMATRIX_TEST_FLOWER_PORT", "15555"))
REDIS_PORT = int(os.environ.get("CCMATRIX_TEST_REDIS_PORT", "16380"))
IMAGES = ("ccmatrix/worker:dev", "ccmatrix/emulator:dev", "ccmatrix/gateway:1.106.2")
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
TIMINGS: dict[str, float] = {}


def _ours() -> list[str]:
    names = docker("ps", "-a", "--format", "{{.Names}} {{.Label \"com.docker.compose.project\"}} "
                                          "{{.Label \"io.ccmatrix.stack\"}}").stdout.split("\n")
    return [line for line in names if line.strip() and PROJECT in line]


@pytest.fixture(scope="session")
def images(engine):
    started = time.monotonic()
    done = subprocess.run(["sh", "docker/build.sh"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=3600)
    TIMINGS["make images"] = time.monotonic() - started
    print(done.stdout)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="session")
def stack(images, tmp_path_factory):
    """The stack up, one run enqueued inside it with --wait, left up for the checks; torn down at the end."""
    out = tmp_path_factory.mktemp("stack-out")
    env = {**os.environ, "CCMATRIX_STACK_PROJECT": PROJECT, "CCMATRIX_STACK_OUT": str(out),
           "FLOWER_PORT": str(FLOWER_PORT), "CCMATRIX_REDIS_PORT": str(REDIS_PORT), "CCMATRIX_PROXY_RUNTIME": "docker"}
    started = time.monotonic()
    done = subprocess.run(["sh", "docker/stack.sh", "--keep"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=1800, env=env)
    TIMINGS["stack run"] = time.monotonic() - started
    print(done.stdout[-4000:])
    try:
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
        yield {"out": out, "stdout": done.stdout, "env": env}
    finally:
        subprocess.run(["sh", "docker/stack.sh", "--down"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                       timeout=600, env=env)
        left = _ours()
        print("timings:", json.dumps({k: round(v, 1) for k, v in TIMINGS.items()}))
        assert not left, f"left behind: {left}"


def _dotenv() -> dict[str, str]:
    return dict(line.split("=", 1) for line in (PROJECT_ROOT / "docker" / ".env").read_text().split()
                if "=" in line)


# --- the matrix --------------------------------------------------------------------------------------------------
def test_matrix_has_both_rows_on_every_column_run_by_gateway_containers(stack):
    matrix = json.loads((stack["out"] / "compatibility-matrix.json").read_text())
    from ccmatrix.manifest import load_manifest

    columns = [p.id for p in load_manifest().providers]
    cells = {(feature["id"], provider): cell for feature in matrix["features"]
             for provider, cell in feature["providers"].items()}
    for row in ROWS:
        for column in columns:
            assert (row, column) in cells, f"missing cell {row} × {column}"
    statuses = {key: cell["status"] for key, cell in cells.items()}
    assert statuses[("basic_messaging_non_streaming", "anthropic")] == "pass", statuses
    passed = sum(1 for s in statuses.values() if s == "pass")
    assert passed >= len(columns), f"too few passes for a working stack: {statuses}"
    # No tier of any cell failed to boot its gateway: the docker runtime worked on every column.
    text = json.dumps(matrix)
    assert "proxy did not boot" not in text and "docker runtime" not in text, text[:3000]
    # ... and every tier that ran says so (evidence.extra.proxy_runtime, worker/tier.py)
    runtimes = {tier["evidence"]["extra"].get("proxy_runtime") for cell in cells.values()
                for tier in cell.get("tiers", {}).values() if (tier.get("evidence") or {}).get("extra")}
    assert runtimes == {"docker"}, runtimes


def test_gateway_containers_ran_and_are_confined(stack):
    """During the run each worker process booted a ccmatrix/gateway container; on its network there is no way to
    Redis, to the internet or to the workers' other services — only to the emulator relay."""
    listing = docker("ps", "--filter", "label=io.ccmatrix.role=gateway",
                     "--filter", f"label=io.ccmatrix.stack={PROJECT}", "--format", "{{.ID}} {{.Image}}").stdout.split()
    assert listing, "no gateway container running (the docker runtime reuses them across jobs: expected one per " \
                    "worker process)"
    gateway = listing[0]
    assert listing[1].startswith("ccmatrix/gateway:1.106.2")
    probe = ("import socket,sys\n"
             "def ok(h,p):\n"
             "  try: socket.create_connection((h,p),timeout=3).close(); return True\n"
             "  except OSError: return False\n"
             "print({t: ok(*t) for t in [('redis',6379),('emulator',8080),('1.1.1.1',443),('151.101.0.223',443)]})")
    done = docker("exec", gateway, "python3", "-c", probe)
    reach = eval(done.stdout.strip())  # a dict literal printed by the probe
    assert not any(reach.values()), reach
    networks = json.loads(docker("inspect", gateway).stdout)[0]["NetworkSettings"]["Networks"]
    assert list(networks) == ["ccmatrix-gateway"]
    assert json.loads(docker("network", "inspect", "ccmatrix-gateway").stdout)[0]["Internal"] is True


# --- Flower ------------------------------------------------------------------------------------------------------
def test_flower_needs_credentials_and_lists_the_tasks(stack):
    url = f"http://127.0.0.1:{FLOWER_PORT}/api/tasks"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=10)
    assert refused.value.code == 401
    user_password = _dotenv()["FLOWER_BASIC_AUTH"]
    request = urllib.request.Request(url, headers={
        "Authorization": "Basic " + base64.b64encode(user_password.encode()).decode()})
    deadline = time.monotonic() + 60
    while True:
        tasks = json.loads(urllib.request.urlopen(request, timeout=10).read())
        names = {t.get("name") for t in tasks.values()}
        if "ccmatrix.run_cell" in names or time.monotonic() > deadline:
            break
        time.sleep(3)
    assert "ccmatrix.run_cell" in names, names
    assert sum(1 for t in tasks.values() if t.get("name") == "ccmatrix.run_cell") >= 2 * len(ROWS)


# --- the images --------------------------------------------------------------------------------------------------
def test_worker_runs_as_non_root(stack):
    config = json.loads(docker("image", "inspect", "ccmatrix/worker:dev").stdout)[0]["Config"]
    assert config["User"] == "10001:10001"
    worker = docker("ps", "-q", "--filter", f"label=com.docker.compose.project={PROJECT}",
                    "--filter", "label=com.docker.compose.service=worker").stdout.split()[0]
    assert docker("exec", worker, "id", "-u").stdout.strip() == "10001"
    for image in IMAGES:
        user = json.loads(docker("image", "inspect", image).stdout)[0]["Config"]["User"]
        assert user and user.split(":")[0] not in ("0", "root"), (image, user)


KEY_SHAPES = {
    "anthropic key": re.compile(rb"sk-ant-(?:api|admin)\d\d-[A-Za-z0-9_\-]{80,}"),
    "AWS access key id": re.compile(rb"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "ccmatrix master key": re.compile(rb"sk-ccmatrix-[0-9a-f]{24}"),
    # a PEM private key with its body (parsers and docs name the header alone)
    "private key": re.compile(rb"-----BEGIN (?:RSA |EC |OPENSSH |ENCRYPTED )?PRIVATE KEY-----\\?r?\\?n?\s*"
                              rb"[A-Za-z0-9+/]{60,}"),
}
# Public fixtures and documentation examples that ship inside third-party packages (not credentials).
ALLOWED = (
    re.compile(rb"AKIAIOSFODNN7EXAMPLE|AKIAI44QH8DHBEXAMPLE|ASIAIOSFODNN7EXAMPLE"),
    re.compile(rb"AKIAEMULATOR00000000"),  # the emulator's own fake key id (providers/_aws.py), public by design
)
ALLOWED_PATHS = re.compile(r"/site-packages/[^/]+/(?:.*/)?(?:tests?|testing|test_data|testdata)/|"
                           r"/site-packages/(?:tornado|certifi|pip/_vendor|botocore/data)/|"
                           # Debian's shared libraries carry self-test vectors (libgnutls: a PEM test key)
                           r"^/(?:\./)?usr/lib/x86_64-linux-gnu/lib[\w+\-]+\.so[.\d]*$")


def _egress_ca_blocks() -> list[bytes]:
    """The host's CA certificates that Debian's own bundle (in the base image) does not have: the TLS-intercepting
    egress's CA, passed to builds as a secret. A body line of each, to search for."""
    def blocks(pem: bytes) -> set[bytes]:
        return set(re.findall(rb"-----BEGIN CERTIFICATE-----\n(.+?)\n-----END", pem, re.S))

    image_bundle = docker("run", "--rm", "--entrypoint", "cat", "ccmatrix/emulator:dev",
                          "/etc/ssl/certs/ca-certificates.crt", check=False).stdout.encode()
    extra = blocks(HOST_CA.read_bytes()) - blocks(image_bundle) if HOST_CA.exists() else set()
    return [block.split(b"\n")[1] for block in extra if block.count(b"\n") > 2]


_SCANNED: dict[tuple, list[str]] = {}


def _scan_image(image: str, needles: dict[str, bytes]) -> list[str]:
    findings: list[str] = []
    host_bundle = HOST_CA.read_bytes() if HOST_CA.exists() else None
    saved = subprocess.Popen([DOCKER, "save", image],
                             stdout=subprocess.PIPE)
    with tarfile.open(fileobj=saved.stdout, mode="r|") as outer:
        for layer in outer:
            if not layer.name.endswith("layer.tar"):
                continue
            key = (layer.name, tuple(sorted(needles)))
            if key in _SCANNED:   # a layer shared with an image already scanned (the base, the LiteLLM venv)
                findings += [f.replace("<image>", image) for f in _SCANNED[key]]
                continue
            before = len(findings)
            data = outer.extractfile(layer).read()
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as inner:
                for member in inner:
                    if not member.isfile():
                        continue
                    path = "/" + member.name
                    content = inner.extractfile(member).read()
                    if host_bundle is not None and content == host_bundle:
                        findings.append(f"{image} {layer.name[:12]} {path}: the host's CA bundle, byte for byte")
                    for what, needle in needles.items():
                        if needle in content:
                            findings.append(f"{image} {layer.name[:12]} {path}: {what}")
                    for what, pattern in KEY_SHAPES.items():
                        for match in pattern.finditer(content):
                            if any(a.search(match.group(0)) for a in ALLOWED) or ALLOWED_PATHS.search(path):
                                continue
                            findings.append(f"{image} {layer.name[:12]} {path}: {what}")
                            break
            _SCANNED[key] = [f.replace(image, "<image>", 1) for f in findings[before:]]
    saved.wait()
    return findings


def test_no_credential_or_egress_ca_in_any_layer(stack):
    secrets_of_this_stack = {f"docker/.env {k}": v.split(":")[-1].encode() for k, v in _dotenv().items()}
    needles = {**secrets_of_this_stack,
               **{f"egress CA certificate #{i}": line for i, line in enumerate(_egress_ca_blocks())}}
    findings = []
    for image in IMAGES:
        findings += _scan_image(image, needles)
    assert needles, "nothing to look for"
    assert not findings, "\n".join(findings)


def test_the_layer_scan_finds_planted_credentials(engine, images):
    """The scan really scans: an image with a planted key id, private key and egress CA line is reported."""
    ca_lines = _egress_ca_blocks()
    planted = [b"AKIA" + b"Q" * 16, b"-----BEGIN PRIVATE KEY-----\\n" + b"MIIEvQ" * 12]  # a JSON-escaped PEM
    if ca_lines:
        planted.append(ca_lines[0])
    script = "\n".join(f"RUN printf '%s\\n' '{p.decode()}' >> /planted.txt" for p in planted)
    tag = "ccmatrix-test/planted:scan"
    docker("build", "-t", tag, "-", input=f"FROM ccmatrix/emulator:dev\nUSER 0\n{script}\nUSER 10001\n",
           env={**os.environ, "DOCKER_BUILDKIT": "1"})
    try:
        findings = _scan_image(tag, {f"egress CA certificate #{i}": line for i, line in enumerate(ca_lines)})
    finally:
        docker("rmi", "-f", tag, check=False)
    planted_findings = [f for f in findings if "/planted.txt" in f]
    assert any("AWS access key id" in f for f in planted_findings), findings
    assert any("private key" in f for f in planted_findings), findings
    if ca_lines:
        assert any("egress CA" in f for f in planted_findings), findings


def test_teardown_leaves_nothing(stack):
    """Runs last (file order): take the stack down here and check `docker ps -a` holds nothing of ours."""
    subprocess.run(["sh", "docker/stack.sh", "--down"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                   timeout=600, env=stack["env"])
    assert not _ours()
    volumes = docker("volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={PROJECT}").stdout.split()
    assert not volumes, volumes
