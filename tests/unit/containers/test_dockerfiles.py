"""hadolint on every Dockerfile, and the properties issue 7 asks of the images."""
from __future__ import annotations

import re
import subprocess

import pytest

from ._helpers import DOCKER_DIR, DOCKERFILES, scan_text

pytestmark = pytest.mark.skipif(not DOCKERFILES, reason="no Dockerfiles under docker/")


def _stages(text: str) -> list[str]:
    return re.findall(r"^FROM\s+(\S+)", text, re.M)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_hadolint_passes(hadolint, dockerfile):
    done = subprocess.run([hadolint, "--no-color", str(dockerfile)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"hadolint {dockerfile.name}:\n{done.stdout}{done.stderr}"


def test_hadolint_can_fail(hadolint, tmp_path):
    """The lint step really lints: an unpinned base and `apt-get` without pins are reported."""
    bad = tmp_path / "bad.Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install curl\nCMD python app.py\n")
    done = subprocess.run([hadolint, "--no-color", str(bad)], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "DL3007" in done.stdout  # latest tag
    assert "DL3025" in done.stdout  # CMD not in JSON form


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_bases_are_pinned_and_runtime_is_non_root(dockerfile):
    text = dockerfile.read_text()
    args = dict(re.findall(r"^ARG\s+(\w+)=(\S+)", text, re.M))
    stage_names = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", text, re.M | re.I))
    for base in _stages(text):
        if base in stage_names:
            continue  # an earlier stage of the same file
        base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), base)
        assert ":" in base or "@sha256:" in base, f"{dockerfile.name}: unpinned base {base}"
        assert not base.endswith(":latest"), f"{dockerfile.name}: {base}"
        if "python" in base:
            assert re.search(r":3\.11\.\d+", base), f"{dockerfile.name}: python base not pinned to a patch version"
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users, f"{dockerfile.name}: no USER"
    assert users[-1].split(":")[0] not in ("root", "0"), f"{dockerfile.name}: runs as root"
    assert re.match(r"^\d+(:\d+)?$", users[-1]), "numeric USER, so Kubernetes can verify runAsNonRoot"
    assert re.search(r"^HEALTHCHECK\s", text, re.M), f"{dockerfile.name}: no HEALTHCHECK"
    assert len(_stages(text)) >= 2, f"{dockerfile.name}: not multi-stage"


def test_worker_image_carries_only_the_native_claude_binary():
    text = (DOCKER_DIR / "worker.Dockerfile").read_text()
    stages = re.split(r"^FROM\s", text, flags=re.M)
    final = stages[-1]
    fetch_stage = next(s for s in stages if "fetch-claude.py" in s and " AS claude-code" in s.splitlines()[0])
    assert "ARG CLAUDE_CODE_VERSION" in fetch_stage and '"${CLAUDE_CODE_VERSION}"' in fetch_stage
    # No Node anywhere: the binary comes from the npm registry's platform package, integrity-checked, without npm.
    assert not re.search(r"NODE_IMAGE|\bnpm install\b|apt-get install[^\n]*\bnodejs\b", text)
    fetch = (DOCKER_DIR / "fetch-claude.py").read_text()
    assert "integrity" in fetch and "sha512" in fetch and "--version" in fetch
    # The runtime stage never installs Node; it copies the binary into the cache layout.
    assert not re.search(r"apt-get install[^\n]*\bnodejs\b|\bnpm\b", final)
    assert "/opt/claude-code/${CLAUDE_CODE_VERSION}/node_modules/.bin/claude" in final
    assert "COPY --from=claude-code" in final
    assert "/opt/litellm" in final and "CCMATRIX_CACHE_DIR=" in final


def test_fetches_use_the_ca_bundle_as_a_build_secret_only():
    """The egress CA is mounted for the RUN steps that fetch, never COPYed or ADDed into a layer."""
    for dockerfile in DOCKERFILES:
        text = dockerfile.read_text()
        assert not re.search(r"^(COPY|ADD)\b[^\n]*(ca-certificates\.crt|\.pem|\bca\b)", text, re.M | re.I), \
            dockerfile.name
        for run in re.findall(r"^RUN\b(?:[^\n]*\\\n)*[^\n]*", text, re.M):
            offline = "--no-deps" in run and "--no-build-isolation" in run   # installs only the copied project
            if ("pip install" in run and not offline) or "fetch-claude.py" in run:
                assert "--mount=type=secret,id=ca" in run, f"{dockerfile.name}: a fetch without the CA secret"


def test_litellm_stage_is_shared_by_the_worker_and_gateway_images():
    """Same text in both files, so BuildKit builds the LiteLLM venv once per release."""
    def stage(name: str) -> str:
        text = (DOCKER_DIR / name).read_text()
        start = text.index("FROM ${PYTHON_IMAGE} AS litellm")
        return text[start:text.index("\nFROM", start + 1)].split("\n\n")[0].strip()

    assert stage("worker.Dockerfile") == stage("gateway.Dockerfile")


def test_per_dockerfile_ignore_files_exist():
    for dockerfile in DOCKERFILES:
        ignore = dockerfile.with_name(dockerfile.name + ".dockerignore")
        assert ignore.exists(), f"{ignore.name} missing (BuildKit per-Dockerfile ignore file)"
        lines = [line.strip() for line in ignore.read_text().splitlines() if line.strip() and not line.startswith("#")]
        assert lines[0] == "*", "allowlist style: ignore everything, then re-include"
        assert "!.env" not in lines and not any(".cache" in line for line in lines if line.startswith("!"))


def test_no_credentials_in_docker_dir():
    findings = []
    for path in sorted(DOCKER_DIR.rglob("*")):
        if path.is_file() and path.name != ".env":
            findings += scan_text(path.read_text(errors="replace"), str(path.relative_to(DOCKER_DIR.parent)))
    for dockerfile in DOCKERFILES:
        text = dockerfile.read_text()
        # No secret-looking build args or env baked into a layer.
        for name in re.findall(r"^(?:ARG|ENV)\s+(\w+)", text, re.M):
            assert not re.search(r"KEY|SECRET|TOKEN|PASSWORD", name), f"{dockerfile.name}: {name} baked in"
    assert not findings, "\n".join(findings)


def test_root_data_files_the_code_reads_are_in_the_images():
    """Files the code resolves against the project root (`Path(__file__)...parent.parent / "x.yaml"`) must be in
    the build context allowlist, since the image's project root is /app."""
    root = DOCKER_DIR.parent
    needed = set()
    for package in ("ccmatrix", "producer", "worker", "emulator", "fidelity", "gateways"):
        for source in (root / package).rglob("*.py"):
            for name in re.findall(r"parent\.parent\s*/\s*[\"']([\w.\-]+\.(?:ya?ml|json|html|txt))[\"']",
                                   source.read_text(errors="replace")):
                needed.add(name)
            # PROJECT_ROOT / "dir" / ...: a data directory at the root (gateway_profiles/)
            for name in re.findall(r"PROJECT_ROOT\s*/\s*[\"']([\w\-]+)[\"']", source.read_text(errors="replace")):
                needed.add(name + "/")
    assert "manifest.yaml" in needed and "gateway_profiles/" in needed
    for dockerfile in [d for d in DOCKERFILES if "COPY --from=project /app" in d.read_text()]:  # the project's images
        allow = dockerfile.with_name(dockerfile.name + ".dockerignore").read_text().split()
        tracked = set(subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True).stdout.split())
        shipped = [n for n in sorted(needed)  # data in the repository (not outputs such as out/ or .cache/)
                   if n in tracked or any(t.startswith(n) for t in tracked if n.endswith("/"))]
        missing = [n for n in shipped if f"!{n}" not in allow]
        assert not missing, f"{dockerfile.name}: add {missing} to its .dockerignore allowlist"
        assert "-e ./" in dockerfile.read_text() and "COPY --from=project /app /app" in dockerfile.read_text()
        # the dependencies at the lock's versions (the emulator's strictness as in `make run`)
        assert "requirements.lock" in dockerfile.read_text() and "-c /tmp/constraints.txt" in dockerfile.read_text()
        assert "!requirements.lock" in allow
        # every package the project installs (pyproject's package discovery) is in the image
        import tomllib

        include = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
        packages = [pattern.rstrip("*") for pattern in include]
        absent = [p for p in packages if f"!{p}/" not in allow]
        assert not absent, f"{dockerfile.name}: add {absent} to its .dockerignore allowlist"
