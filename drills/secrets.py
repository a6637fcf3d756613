"""Drill 7: secrets.

A worker configured with fake real-provider credentials (Anthropic key, an AWS key pair, an Azure key) runs the
columns they switch to the real providers (this machine has no internet: the cells end `error`), keeping every run
file. Then every artifact is scanned for the credential values: the published directory (matrix JSON, page, schema,
regression report), the history, the worker's log, the run directories (proxy configs and logs, captures, CLI
homes), and everything the broker and result backend hold. Held: none found anywhere, and each gateway config
names the credentials with LiteLLM's `os.environ/<NAME>` instead of holding them.
"""
from __future__ import annotations

from pathlib import Path

from drills.stack import Redis, WorkerStack, descendants, plan, private_cache, quiet_env
from drills.verdict import Verdict

CREDENTIALS = {
    "CCMATRIX_ANTHROPIC_API_KEY": "sk-ant-api03-ccmatrix-drill-FAKE-5ecret-0123456789abcdef",
    "CCMATRIX_AWS_ACCESS_KEY_ID": "AKIADRILLFAKE5ECRET7",
    "CCMATRIX_AWS_SECRET_ACCESS_KEY": "drill/FAKE+5ecretAccessKey0123456789abcdefgh",
    "CCMATRIX_AZURE_API_KEY": "drillFAKE5ecretAzureKey0123456789abcdef",
}
PROVIDERS = ["anthropic", "bedrock_converse", "azure"]


def _files(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file() and not p.is_symlink()]


def _gateway_env(stack: WorkerStack) -> set[str]:
    """The credential variables the running gateway processes hold with their values (else the scan proves
    nothing: credentials that never reached the gateway are trivially absent from everything)."""
    found = set()
    for pid, command in descendants(stack.process.pid).items():
        if "litellm" in command and "--config" in command:
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            found |= {name for name, value in CREDENTIALS.items() if f"{name}={value}".encode() in environ}
    return found


def run(work: Path) -> Verdict:
    from producer.submit import submit, wait

    work.mkdir(parents=True)
    redis = Redis(work / "redis").start()
    cache = private_cache(work)
    out = work / "out"
    env = quiet_env(CCMATRIX_KEEP_RUN_FILES="1", CCMATRIX_CACHE_DIR=str(cache), CCMATRIX_CLI_TIMEOUT_S="60",
                    CCMATRIX_AZURE_API_BASE="https://ccmatrix-drill.services.ai.azure.com/anthropic", **CREDENTIALS)
    stack = WorkerStack(redis.url, out, work / "worker.log", concurrency=1, extra_env=env)
    try:
        planned = plan(features=["basic_messaging_non_streaming"], providers=PROVIDERS, tiers=["haiku"])
        summary = wait(planned, stack.app, submit(planned, stack.app), timeout=240, poll_s=0.5)
        broker = redis.values()
        handed = _gateway_env(stack)
    finally:
        stack.stop()
        redis.stop()
    files = _files(out, cache / "run", cache / "logs", work / "redis") + [work / "worker.log"]
    scanned = 0
    hits = []
    for path in files:
        data = path.read_bytes()
        scanned += len(data)
        hits += [f"{path.relative_to(work)}: {name}" for name, value in CREDENTIALS.items() if value.encode() in data]
    hits += [f"broker/result backend: {name}" for name, value in CREDENTIALS.items() if value in broker]
    configs = [p for p in _files(cache / "run") if p.parent.name == "proxy" and p.suffix == ".yaml"]
    named = {name for p in configs for name in CREDENTIALS if f"os.environ/{name}" in p.read_text()}
    problems = [f"found in {hit}" for hit in hits]
    if not summary.get("published"):
        problems.append(f"not published: {summary.get('reason')}")
    if handed != set(CREDENTIALS):
        problems.append(f"the gateway process holds only {sorted(handed)}: the credentials never reached it")
    if named != set(CREDENTIALS):
        problems.append(f"the gateway configs ({len(configs)}) name only {sorted(named)}")
    return Verdict.check(problems, f"{len(CREDENTIALS)} fake credentials, {len(files)} files "
                                   f"({scanned / 1e6:.1f} MB) + broker ({len(broker) / 1e3:.0f} kB) scanned: "
                                   f"{len(hits)} found; gateway configs name {len(named)}/{len(CREDENTIALS)} "
                                   f"by os.environ/, its process holds {len(handed)}/{len(CREDENTIALS)}")
