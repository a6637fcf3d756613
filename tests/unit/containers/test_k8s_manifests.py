"""The kustomize overlays render, every object validates against the Kubernetes schema, and the wiring holds."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ._helpers import K8S_DIR, OVERLAYS, PROJECT_ROOT, find, objects, pod_spec, render, scan_k8s_objects, scan_text

pytestmark = pytest.mark.skipif(not OVERLAYS, reason="no overlays under k8s/overlays/")

JOB_TIME_LIMIT_S = 1800
CLI_RUN_MB = 300
PROXY_MB = 500


def _validate(kubernetes_validate: str, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([kubernetes_validate, "--strict", "--quiet", str(path)], capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module", params=[p.name for p in OVERLAYS])
def overlay(request, kubectl):
    path = K8S_DIR / "overlays" / request.param
    rendered = render(path)
    return request.param, rendered, objects(rendered)


def _mem_mib(quantity: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "K": 1e3 / 2**20, "M": 1e6 / 2**20, "G": 1e9 / 2**20}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return float(quantity[: -len(suffix)]) * factor
    return float(quantity) / 2**20


def _env(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}


# --- schema ----------------------------------------------------------------------------------------------------

def test_every_rendered_object_validates(overlay, kubernetes_validate, tmp_path):
    name, rendered, objs = overlay
    assert len(objs) >= 10
    path = tmp_path / f"{name}.yaml"
    path.write_text(rendered)
    done = _validate(kubernetes_validate, path)
    assert done.returncode == 0, f"kubernetes-validate --strict on overlay {name}:\n{done.stdout}\n{done.stderr}"


@pytest.mark.parametrize("breakage", ["unknown_field", "wrong_type", "missing_required"])
def test_a_broken_manifest_fails_validation(breakage, kubectl, kubernetes_validate, tmp_path):
    """The validation can fail: a copy of the tree with one deliberate mistake is refused."""
    tree = tmp_path / "k8s"
    shutil.copytree(K8S_DIR, tree)
    worker = tree / "base" / "worker.yaml"
    text = worker.read_text()
    if breakage == "unknown_field":
        text = text.replace("      terminationGracePeriodSeconds: 1920",
                            "      terminationGracePeriodSeconds: 1920\n      restartPolicyy: Always", 1)
    elif breakage == "wrong_type":
        text = text.replace("  replicas: 2\n", "  replicas: two\n", 1)
    else:
        # containers[].name is required
        text = text.replace("        - name: worker\n          image: ccmatrix-worker\n", "        - image: ccmatrix-worker\n", 1)
    assert text != worker.read_text(), "the breakage did not apply"
    worker.write_text(text)
    rendered = render(tree / "overlays" / "emulator")
    path = tmp_path / "broken.yaml"
    path.write_text(rendered)
    done = _validate(kubernetes_validate, path)
    assert done.returncode != 0, f"a broken manifest ({breakage}) passed validation:\n{done.stdout}"
    assert "deployment/ccmatrix-worker" in (done.stdout + done.stderr).lower()


# --- the CronJob -------------------------------------------------------------------------------------------------

def test_cronjob_enqueues_daily_without_overlap(overlay):
    _, _, objs = overlay
    cron = find(objs, "CronJob", "ccmatrix-daily")
    spec = cron["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    assert len(spec["schedule"].split()) == 5 and spec["schedule"].split()[2:] == ["*", "*", "*"], "daily"
    assert spec["successfulJobsHistoryLimit"] >= 1 and spec["failedJobsHistoryLimit"] >= 1
    job = spec["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 0, "a retried enqueue would start a second run"
    (container,) = pod_spec(cron)["containers"]
    argv = container.get("command", []) + container.get("args", [])
    assert argv == ["celery", "-A", "producer", "enqueue", "--wait"]
    assert pod_spec(cron)["restartPolicy"] == "Never"
    env = _env(container)
    assert env["CCMATRIX_BROKER_URL"]["value"].startswith("redis://:$(REDIS_PASSWORD)@ccmatrix-redis:6379/")


# --- Flower ------------------------------------------------------------------------------------------------------

def test_flower_basic_auth_comes_from_a_secret(overlay):
    _, _, objs = overlay
    flower = find(objs, "Deployment", "ccmatrix-flower")
    (container,) = pod_spec(flower)["containers"]
    argv = container.get("command", []) + container.get("args", [])
    assert argv[:4] == ["celery", "-A", "producer", "flower"]
    assert not any(a.startswith("--basic-auth=") and "$(" not in a for a in argv), "literal credentials in args"
    auth = _env(container)["FLOWER_BASIC_AUTH"]
    assert "value" not in auth
    ref = auth["valueFrom"]["secretKeyRef"]
    assert ref["name"] == "ccmatrix-flower" and ref["key"] == "basic-auth"
    assert ref.get("optional", False) is False, "Flower must not start without its credentials"
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthcheck"


# --- Redis ---------------------------------------------------------------------------------------------------------

def test_redis_requires_the_password_from_a_secret(overlay):
    _, _, objs = overlay
    redis = find(objs, "Deployment", "ccmatrix-redis")
    (container,) = pod_spec(redis)["containers"]
    args = container["args"]
    assert args[args.index("--requirepass") + 1] == "$(REDIS_PASSWORD)"
    ref = _env(container)["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": "ccmatrix-redis", "key": "password"}
    for name in ("ccmatrix-worker", "ccmatrix-flower"):
        (c,) = pod_spec(find(objs, "Deployment", name))["containers"]
        env = _env(c)
        names = list(env)
        assert names.index("REDIS_PASSWORD") < names.index("CCMATRIX_BROKER_URL"), "$(VAR) must be defined first"
        assert "$(REDIS_PASSWORD)@ccmatrix-redis:6379" in env["CCMATRIX_BROKER_URL"]["value"]


# --- the workers ------------------------------------------------------------------------------------------------------

def test_worker_sizing_concurrency_and_shutdown(overlay):
    _, _, objs = overlay
    worker = find(objs, "Deployment", "ccmatrix-worker")
    spec = pod_spec(worker)
    (container,) = spec["containers"]
    assert "command" not in container, "use args: the image entrypoint seeds the tool cache"
    assert "--concurrency=$(CCMATRIX_WORKER_CONCURRENCY)" in container["args"]
    assert "-E" in container["args"], "Flower needs task events"
    env = _env(container)
    concurrency = int(env["CCMATRIX_WORKER_CONCURRENCY"]["value"])
    names = list(env)
    assert names.index("CCMATRIX_WORKER_CONCURRENCY") < names.index("CCMATRIX_BROKER_URL")
    requests = container["resources"]["requests"]
    limits = container["resources"]["limits"]
    assert _mem_mib(requests["memory"]) >= concurrency * CLI_RUN_MB + PROXY_MB
    assert _mem_mib(limits["memory"]) >= _mem_mib(requests["memory"])
    assert float(requests["cpu"]) >= concurrency * 0.85
    assert spec["terminationGracePeriodSeconds"] > JOB_TIME_LIMIT_S
    config = find_configmap(objs, "ccmatrix-config")
    assert config["data"]["CCMATRIX_NETWORK_ISOLATION"] == "off"
    assert int(config["data"]["CCMATRIX_JOB_TIME_LIMIT_S"]) < spec["terminationGracePeriodSeconds"]
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert {"/tmp", "/var/cache/ccmatrix", "/app/manifest.yaml"} <= set(mounts)
    assert mounts["/app/manifest.yaml"]["subPath"] == "manifest.yaml"
    manifest_volume = next(v for v in spec["volumes"] if v["name"] == mounts["/app/manifest.yaml"]["name"])
    assert manifest_volume["configMap"]["name"] == find_configmap(objs, "ccmatrix-manifest")["metadata"]["name"]
    assert config["data"]["CCMATRIX_MANIFEST_PATH"] == "/app/manifest.yaml"


def find_configmap(objs: list[dict], prefix: str) -> dict:
    matches = [o for o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith(prefix + "-")]
    assert len(matches) == 1, f"ConfigMap {prefix}-<hash>: {matches}"
    return matches[0]


def test_manifest_configmap_is_a_valid_manifest(overlay, tmp_path):
    _, _, objs = overlay
    data = find_configmap(objs, "ccmatrix-manifest")["data"]["manifest.yaml"]
    path = tmp_path / "manifest.yaml"
    path.write_text(data)
    from ccmatrix.manifest import load_manifest

    load_manifest(path)  # raises with a message naming the field when the cluster copy is wrong
    # kustomize cannot read files outside its root, so the cluster gets a copy; it must not drift.
    assert data == (PROJECT_ROOT / "manifest.yaml").read_text(), (
        "k8s/base/manifest.yaml differs from the root manifest.yaml: run `make k8s-manifest`")


# --- pod security -------------------------------------------------------------------------------------------------------

def test_pod_security(overlay):
    _, _, objs = overlay
    namespace = find(objs, "Namespace", "ccmatrix")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    workloads = [o for o in objs if o["kind"] in ("Deployment", "CronJob", "StatefulSet", "Job")]
    assert len(workloads) >= 4
    for obj in workloads:
        spec = pod_spec(obj)
        ident = f"{obj['kind']}/{obj['metadata']['name']}"
        assert obj["metadata"].get("namespace", "ccmatrix") == "ccmatrix"
        pod_sc = spec["securityContext"]
        assert pod_sc["runAsNonRoot"] is True and pod_sc.get("runAsUser", 0) != 0, ident
        assert pod_sc["seccompProfile"]["type"] == "RuntimeDefault", ident
        assert spec["automountServiceAccountToken"] is False, ident
        for container in spec["containers"]:
            sc = container["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, ident
            assert sc["capabilities"]["drop"] == ["ALL"] and "add" not in sc["capabilities"], ident
            assert sc["readOnlyRootFilesystem"] is True, ident
            assert "privileged" not in sc or sc["privileged"] is False, ident
            assert "memory" in container["resources"]["limits"], ident
            mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
            if container["name"] != "redis":
                assert "/tmp" in mounts, f"{ident}: read-only root needs a writable /tmp"
            image = container["image"]
            assert ":" in image and not image.endswith(":latest"), f"{ident}: unpinned image {image}"


# --- network policies ---------------------------------------------------------------------------------------------------

def _policies_for(objs: list[dict], component: str, direction: str) -> list[dict]:
    selected = []
    for obj in objs:
        if obj["kind"] != "NetworkPolicy" or direction not in obj["spec"]["policyTypes"]:
            continue
        selector = obj["spec"]["podSelector"]
        labels = selector.get("matchLabels", {})
        exprs = selector.get("matchExpressions", [])
        if not selector or labels.get("app.kubernetes.io/component") == component or any(
                e["key"] == "app.kubernetes.io/component" and component in e["values"] for e in exprs):
            selected.append(obj)
    return selected


def test_network_policies_confine_the_workers(overlay):
    name, _, objs = overlay
    deny = find(objs, "NetworkPolicy", "ccmatrix-default-deny")
    assert deny["spec"]["podSelector"] == {} and set(deny["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny["spec"] and "egress" not in deny["spec"]
    rules = [rule for p in _policies_for(objs, "worker", "Egress") for rule in p["spec"].get("egress", [])]
    destinations = set()
    for rule in rules:
        ports = {(p.get("protocol", "TCP"), p["port"]) for p in rule.get("ports", [])}
        assert ports, f"an egress rule without ports: {rule}"
        for peer in rule["to"]:
            if "ipBlock" in peer:
                assert ports == {("TCP", 443)}, "the internet only on 443"
                assert "169.254.0.0/16" in peer["ipBlock"]["except"], "never the metadata endpoint"
                assert "10.0.0.0/8" in peer["ipBlock"]["except"]
                destinations.add("internet:443")
            elif peer.get("namespaceSelector"):
                assert ports <= {("UDP", 53), ("TCP", 53)}
                destinations.add("dns")
            else:
                destinations.add(peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"])
    expected = {"dns", "redis", "emulator"} if name == "emulator" else {"dns", "redis", "internet:443"}
    assert destinations == expected, f"{name}: workers may reach {destinations}"
    redis_in = [r for p in _policies_for(objs, "redis", "Ingress") for r in p["spec"].get("ingress", [])]
    assert redis_in and all(r.get("from") for r in redis_in), "Redis takes connections from ccmatrix pods only"


def test_overlay_specific_wiring(overlay):
    name, _, objs = overlay
    (worker,) = pod_spec(find(objs, "Deployment", "ccmatrix-worker"))["containers"]
    env = _env(worker)
    if name == "emulator":
        find(objs, "Deployment", "ccmatrix-emulator")
        service = find(objs, "Service", "ccmatrix-emulator")
        assert env["CCMATRIX_EMULATOR_URL"]["value"] == f"http://ccmatrix-emulator:{service['spec']['ports'][0]['port']}"
        assert not any("secret" in v for v in pod_spec(find(objs, "Deployment", "ccmatrix-worker"))["volumes"])
    else:
        secrets_dir = env["CCMATRIX_SECRETS_DIR"]["value"]
        mounts = {m["mountPath"]: m for m in worker["volumeMounts"]}
        assert mounts[secrets_dir]["readOnly"] is True
        volumes = {v["name"]: v for v in pod_spec(find(objs, "Deployment", "ccmatrix-worker"))["volumes"]}
        secret = volumes[mounts[secrets_dir]["name"]]["secret"]
        assert secret["secretName"] == "ccmatrix-providers" and secret["defaultMode"] & 0o007 == 0
        vertex_file = Path(env["CCMATRIX_VERTEX_CREDENTIALS_FILE"]["value"])
        assert volumes[mounts[str(vertex_file.parent)]["name"]]["secret"]["secretName"] == "ccmatrix-vertex"


# --- credentials ---------------------------------------------------------------------------------------------------------

def test_no_credentials_in_rendered_manifests(overlay):
    name, rendered, objs = overlay
    findings = scan_text(rendered, f"overlay {name}") + scan_k8s_objects(objs, f"overlay {name}")
    assert not [o for o in objs if o["kind"] == "Secret"], "Secrets are created out of band, never rendered"
    assert not findings, "\n".join(findings)


def test_no_credentials_in_k8s_sources():
    findings = []
    for path in sorted(K8S_DIR.rglob("*.yaml")):
        text = path.read_text()
        findings += scan_text(text, str(path.relative_to(PROJECT_ROOT)))
        findings += scan_k8s_objects([d for d in yaml.safe_load_all(text) if d and "kind" in d and "metadata" in d],
                                     str(path.relative_to(PROJECT_ROOT)))
    assert not findings, "\n".join(findings)


def test_the_scanner_finds_planted_credentials():
    """The scan can fail: planted values of each kind are found, references are not."""
    planted = "\n".join([
        "aws_access_key_id: AKIAIOSFODNN7EXAMPLE",
        "key: sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
        "-----BEGIN RSA PRIVATE KEY-----",
        "CCMATRIX_BROKER_URL: redis://:hunter2@redis:6379/0",
        "REDIS_PASSWORD=hunter2",
        "FLOWER_BASIC_AUTH: admin:admin",
    ])
    assert len(scan_text(planted, "planted")) >= 6
    references = "\n".join([
        "CCMATRIX_BROKER_URL: redis://:$(REDIS_PASSWORD)@ccmatrix-redis:6379/0",
        "CCMATRIX_BROKER_URL: redis://:${REDIS_PASSWORD:?set it}@redis:6379/0",
        "FLOWER_BASIC_AUTH: ${FLOWER_BASIC_AUTH:?set FLOWER_BASIC_AUTH=user:password}",
        "api_key: os.environ/ANTHROPIC_API_KEY",
    ])
    assert scan_text(references, "references") == []
    objs = [{"kind": "Deployment", "metadata": {"name": "x"}, "spec": {"template": {"spec": {"containers": [
        {"name": "c", "env": [{"name": "CCMATRIX_ANTHROPIC_API_KEY", "value": "abc"}]}]}}}},
            {"kind": "Secret", "metadata": {"name": "s"}, "stringData": {"password": "x"}}]
    assert len(scan_k8s_objects(objs, "planted")) == 2
