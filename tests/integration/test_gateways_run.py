"""Two gateways in one run, as a user enqueues it (issue 17): `celery -A producer enqueue --wait --gateway
litellm,portkey@1.15.2` against a real Redis and real workers, the real LiteLLM proxy and the real Portkey gateway
(npm), the real Claude Code CLI, the emulator. One chord: LiteLLM's matrix at its usual path, Portkey's next to it,
the index and the page with both; the column Portkey has no route to is not_applicable with the plug-in's reason."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
PORTKEY = "1.15.2"  # measured here (issue 17): installs from npm alone, serves /v1/messages


def test_two_gateways_in_one_chord_publish_a_matrix_each_and_the_index(worker_stack):
    env = {**os.environ, "CCMATRIX_BROKER_URL": worker_stack.redis_url, "CCMATRIX_RESULT_BACKEND": worker_stack.redis_url}
    done = subprocess.run([sys.executable, "-m", "celery", "-A", "producer", "enqueue", "--wait",
                           "--gateway", f"litellm,portkey@{PORTKEY}", "--providers", "anthropic,bedrock_invoke",
                           "--features", "basic_messaging_non_streaming", "--tiers", "haiku", "--timeout", "900"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1000)
    assert f"portkey {PORTKEY}" in done.stdout and "1 cells not applicable (no route)" in done.stdout, done.stdout
    summary = json.loads(done.stdout[done.stdout.index("{"):])
    assert done.returncode in (0, 4) and summary["published"] is True, done.stdout + done.stderr[-3000:]
    out = worker_stack.out_dir
    index = json.loads((out / "compatibility-matrix.index.json").read_text())
    assert index["run_id"] == summary["run_id"]
    assert [(g["name"], g["version"], g["file"]) for g in index["gateways"]] == [
        ("litellm", index["gateways"][0]["version"], "compatibility-matrix.json"),
        ("portkey", PORTKEY, "compatibility-matrix-portkey.json")]

    litellm = json.loads((out / "compatibility-matrix.json").read_text())
    portkey = json.loads((out / "compatibility-matrix-portkey.json").read_text())
    assert litellm["gateway"]["name"] == "litellm" and portkey["gateway"]["name"] == "portkey"
    lcells, pcells = litellm["features"][0]["providers"], portkey["features"][0]["providers"]
    # LiteLLM reaches both columns; Portkey's Bedrock route is Converse: no Invoke route, never an error
    assert lcells["anthropic"]["status"] == "pass" and lcells["bedrock_invoke"]["status"] == "pass"
    assert pcells["bedrock_invoke"]["status"] == "not_applicable"
    assert pcells["bedrock_invoke"]["reason"].startswith("gateway has no route")
    # the cell Portkey can reach was enqueued and ran through Portkey: the gateway booted, the CLI ran, the emulator
    # received Portkey's calls (what Portkey does with them is the matrix's finding, not this test's: at 1.15.2 its
    # second call carries `anthropic-beta: messages-2023-12-15`, an emulator gap as of this commit)
    tier = pcells["anthropic"]["tiers"]["haiku"]
    assert pcells["anthropic"]["status"] != "not_applicable", pcells["anthropic"]
    assert tier.get("cause") not in ("infrastructure", "client"), tier
    assert [c["path"] for c in tier["evidence"]["upstream_calls"]][:1] == ["/v1/messages"], tier
    assert portkey["report"]["problems"] == [], portkey["report"]["problems"]
    page = (out / "index.html").read_text()
    assert '"compatibility-matrix-portkey.json"' in page
