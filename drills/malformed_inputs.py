"""Drill 6: malformed input, everywhere it comes in.

- Manifests, settings and run arguments, given to the real commands (`ccmatrix run`, `celery -A producer enqueue`):
  refused before anything starts, exit 2, the last stderr line the one clear reason, no traceback.
- Lines the CLI prints (stream-json): what the driver hands to the classification (worker.stream_json +
  worker.classify.classify_run) becomes an `error`/`fail` outcome with its reason, never an exception.
- What the upstream answers: one run through a real stack (Redis, a worker, the gateway, the emulator), each cell
  with an emulator fault of its own (emulator/faults.py): truncated SSE and event-stream, a corrupt frame (bad JSON,
  bad CRC), a provider error mid-stream, a provider error instead of a body. Each cell is in the published matrix,
  `fail` or `error` with its reason.
- Bodies sent to the emulator itself (not JSON, the wrong JSON, 1e5-deep nesting, over its 48 MB limit, a bad fault):
  a 4xx in the provider's error shape, and the emulator still answers.
Held: every input handled that way, none lost, none hanging; the figure counts them.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from drills.stack import CACHE_DIR, PROJECT_ROOT, Redis, WorkerStack, plan, quiet_env, wait_until
from drills.verdict import Verdict

CELL_ARGS = ["--features", "basic_messaging_streaming", "--providers", "anthropic", "--tiers", "haiku"]

MANIFESTS = {
    "missing file": None,
    "not YAML": "features: [1, 2\n  providers: {",
    "a YAML list": "- 1\n- 2\n",
    "empty": "",
    "binary": b"\x00\xff\xfe\x00garbage\x89PNG",
    "no columns": "features:\n  - id: x\n    name: X\n    check: basic_messaging_streaming\nproviders: []\n",
    "a row without id": "features:\n  - name: X\nproviders:\n  - id: anthropic\n",
}
ARGUMENTS = {
    "unknown feature": ["--features", "nope"],
    "unknown provider": ["--providers", "nope"],
    "unknown tier": ["--tiers", "nope"],
    "fault not JSON": ["--emulator-fault", "{nope"],
    "fault unknown mode": ["--emulator-fault", '{"mode": "nope"}'],
    "tier models malformed": ["--tier-models", "haiku"],
    "unknown gateway profile": ["--gateway-profile", "nope"],
    "version pin not a version": ["--litellm-version", "../../etc/passwd"],
    "timeout not a number": ["--timeout", "abc"],
}
SETTINGS = {
    "CCMATRIX_CLI_TIMEOUT_S": "abc",
    "CCMATRIX_RATE_LIMITS": "{not json",
    "CCMATRIX_JOB_TIME_LIMIT_GRACE_S": "0",
    "CCMATRIX_WORKER_CONCURRENCY": "two",
}
STREAM_JSON = {
    "not JSON": "this is not json",
    "truncated object": '{"type":"result","subtype":"success","is_err',
    "a JSON array": "[1, 2, 3]",
    "a result of the wrong shape": '{"type":"result","is_error":"maybe","usage":7,"num_turns":"x"}',
    "binary noise": "\x00\ufffd\ufffd garbage \x1b[31m",
    "a 2 MB line": "x" * (2 << 20),
    "an assistant message that is a string": '{"type":"assistant","message":"not an object"}',
}
# Upstream faults, one cell each (the feature/provider the fault is aimed at).
UPSTREAM = {
    "basic_messaging_streaming/anthropic": ("corrupt SSE frame (bad JSON)", {"malformed_frame": True}),
    "basic_messaging_streaming/bedrock_invoke": ("corrupt event-stream frame (bad CRC)", {"malformed_frame": True}),
    "basic_messaging_streaming/bedrock_converse": ("truncated event-stream", {"cut_stream_after": 2}),
    "basic_messaging_streaming/vertex_ai": ("truncated SSE", {"cut_stream_after": 2}),
    "basic_messaging_streaming/azure": ("provider error mid-stream", {"stream_error_after": 2}),
    "basic_messaging_non_streaming/anthropic": ("413 instead of a body", {"status": 413}),
    "basic_messaging_non_streaming/bedrock_converse": ("500 instead of a body", {"status": 500}),
    "basic_messaging_non_streaming/vertex_ai": ("400 instead of a body", {"status": 400}),
}
ANTHROPIC_HEADERS = {"x-api-key": "emulator-anthropic-key", "anthropic-version": "2023-06-01",
                     "content-type": "application/json"}
BODIES = {
    "not JSON": b"not json",
    "a JSON array": b"[1, 2]",
    "the wrong types": json.dumps({"model": "claude-haiku-4-5-20251001", "messages": "nope",
                                   "max_tokens": "x"}).encode(),
    "1e5-deep nesting": b"[" * 100_000 + b"]" * 100_000,
    "over 48 MB": b'{"x": "' + b"a" * (49 << 20) + b'"}',
}


SCRATCH = Path("/tmp")  # set by run(): where an input that is wrongly accepted would publish


def _command(args: list[str], env: dict[str, str] | None = None, celery: bool = False) -> tuple[bool, str]:
    """Refused cleanly: exit 2, no traceback, the last stderr line says why."""
    cmd = ([sys.executable, "-m", "celery", "-A", "producer", "enqueue"] if celery
           else [sys.executable, "-m", "ccmatrix.cli", "run"]) + args
    if "--features" not in args:  # an input that is not refused runs one cell, never a whole matrix
        cmd += CELL_ARGS
    scratch = {"CCMATRIX_OUT_DIR": str(SCRATCH / "out"), "CCMATRIX_HISTORY_DIR": str(SCRATCH / "history")}
    try:
        proc = subprocess.run(cmd, cwd=PROJECT_ROOT, env={**os.environ, **scratch, **(env or {})},
                              capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return False, "hung"
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    ok = proc.returncode == 2 and "Traceback" not in proc.stderr + proc.stdout and len(last) > 10
    return ok, f"exit {proc.returncode}: {last[:160]}"


def _commands(work: Path) -> list[tuple[str, bool, str]]:
    results = []
    for name, text in MANIFESTS.items():
        path = work / f"manifest-{len(results)}.yaml"
        if text is not None:
            path.write_bytes(text if isinstance(text, bytes) else text.encode())
        results.append((f"manifest: {name}", *_command(["--manifest", str(path)])))
    for name, args in ARGUMENTS.items():
        results.append((f"run argument: {name}", *_command(args)))
    for name, args in list(ARGUMENTS.items())[:3]:
        results.append((f"enqueue argument: {name}", *_command(args, celery=True)))
    for name, value in SETTINGS.items():
        results.append((f"setting {name}", *_command([], env={name: value})))
    return results


def _stream_json() -> list[tuple[str, bool, str]]:
    from ccmatrix.outcomes import Status
    from worker.classify import classify_run
    from worker.driver import CliRun
    from worker.stream_json import Transcript, parse

    results = []
    for name, line in STREAM_JSON.items():
        try:
            run = CliRun(exit_code=1, stdout=line + "\n", stderr="", duration_ms=10, cpu_s=0.0, timed_out=False,
                         transcript=Transcript(parse(line)))
            outcome = classify_run(run, [], emulated=True)
            ok = outcome is not None and outcome.status in (Status.ERROR, Status.FAIL) and bool(outcome.error)
            detail = f"{outcome.status.value}: {(outcome.error or '')[:100]}" if outcome else "judged as an answer"
        except Exception as error:
            ok, detail = False, f"raised {type(error).__name__}: {error}"[:160]
        results.append((f"stream-json: {name}", ok, detail))
    return results


def _upstream(work: Path) -> list[tuple[str, bool, str]]:
    from producer.submit import submit, wait

    redis = Redis(work / "redis").start()
    out = work / "out"
    stack = WorkerStack(redis.url, out, work / "worker.log", concurrency=1, extra_env=quiet_env())
    faults = {key: [{"provider": key.split("/")[1], **fault}] for key, (_, fault) in UPSTREAM.items()}
    try:
        planned = plan(faults, features=sorted({k.split("/")[0] for k in UPSTREAM}),
                       providers=sorted({k.split("/")[1] for k in UPSTREAM}), tiers=["haiku"])
        planned.jobs = [j for j in planned.jobs if f"{j.feature}/{j.provider}" in UPSTREAM] + \
                       [j for j in planned.jobs if f"{j.feature}/{j.provider}" not in UPSTREAM]
        summary = wait(planned, stack.app, submit(planned, stack.app), timeout=240, poll_s=0.5)
    finally:
        stack.stop()
        redis.stop()
    cells = {}
    if summary.get("published"):
        document = json.loads((out / "compatibility-matrix.json").read_text())
        cells = {f"{row['id']}/{p}": cell for row in document["features"] for p, cell in row["providers"].items()}
    results = []
    for key, (name, _) in UPSTREAM.items():
        tier = (cells.get(key) or {}).get("tiers", {}).get("haiku") or {}
        reason = tier.get("error") or tier.get("reason") or ""
        ok = tier.get("status") in ("fail", "error") and bool(reason)
        detail = f"{tier.get('status') or 'lost: ' + str(summary.get('reason'))[:120]}: {reason[:100]}"
        results.append((f"upstream {key.split('/')[1]}: {name}", ok, detail))
    return results


def _emulator_bodies(work: Path) -> list[tuple[str, bool, str]]:
    from worker.sandbox import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(work / "emulator.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "emulator", "--port", str(port), "--data-dir", str(work / "emu")],
                            cwd=PROJECT_ROOT, stdout=log, stderr=log, start_new_session=True)
    results = []
    try:
        wait_until(lambda: httpx.get(url + "/", timeout=1).status_code == 200, timeout_s=30, interval_s=0.2,
                   what="the emulator", retry_on=httpx.HTTPError)
        requests = [(f"emulator body: {name}", "/v1/messages", body, ANTHROPIC_HEADERS)
                    for name, body in BODIES.items()]
        requests += [("emulator fault: not JSON", "/_emulator/faults", b"{nope", {}),
                     ("emulator fault: unknown field", "/_emulator/faults", b'{"nope": 1}', {})]
        for name, path, body, headers in requests:
            try:
                answer = httpx.post(url + path, content=body, headers=headers, timeout=60)
                alive = httpx.get(url + "/", timeout=5).status_code == 200
                ok = 400 <= answer.status_code < 500 and alive and "Traceback" not in answer.text
                detail = f"{answer.status_code} {' '.join(answer.text[:100].split())}"
            except httpx.HTTPError as error:
                ok, detail = False, f"{type(error).__name__}: {error}"[:160]
            results.append((name, ok, detail))
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
    return results


def run(work: Path) -> Verdict:
    global SCRATCH
    work.mkdir(parents=True)
    SCRATCH = work / "scratch"
    results = _commands(work) + _stream_json() + _emulator_bodies(work) + _upstream(work)
    report = CACHE_DIR / "drills" / "malformed-inputs.txt"  # every input and what became of it, kept after the run
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(
        "\n".join(f"{'ok' if ok else 'BAD'} | {name} | {detail}" for name, ok, detail in results) + "\n")
    bad = [f"{name} ({detail})" for name, ok, detail in results if not ok]
    return Verdict.check(bad, f"{len(results) - len(bad)}/{len(results)} malformed inputs handled "
                              f"(one-line refusal, or fail/error with the reason)")
