"""Run the real Claude Code CLI headless against the proxy: allowlisted env, fresh HOME and cwd, hard timeout."""
from __future__ import annotations

import re
import resource
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ccmatrix.processes import stop_group
from worker.sandbox import die_with_parent
from worker.stream_json import Transcript, parse

# Never the worker's own environment: only these, plus what a check asks for explicitly.
BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",  # the switch that stops vendor DNS look-ups
    "CLAUDE_CODE_DISABLE_NONSTREAMING_FALLBACK": "1",  # a broken stream must not "pass" via fallback
    "DISABLE_TELEMETRY": "1",
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_ERROR_REPORTING": "1",
}
# Checks may set these; anything else is refused so no credential can leak in by accident.
ALLOWED_EXTRA_ENV = {
    "MAX_THINKING_TOKENS", "CLAUDE_CODE_DISABLE_THINKING", "DISABLE_PROMPT_CACHING", "ENABLE_PROMPT_CACHING_1H",
    "CLAUDE_CODE_MAX_OUTPUT_TOKENS", "API_TIMEOUT_MS", "CLAUDE_CODE_MAX_RETRIES", "BASH_DEFAULT_TIMEOUT_MS",
}

# The client mode (where the gateway is, how the CLI talks to it): exactly the variables the provider packages
# declare (providers/<id>/client.py ENV_VARS; the Anthropic API mode by default) or a gateway plug-in declares
# (gateways/<name>: Gateway.client_env_vars, e.g. ANTHROPIC_CUSTOM_HEADERS for Portkey), and the only ones that may carry
# a key are these two — holding the gateway's own key, nothing else. A declared variable named like a credential
# (AWS_SECRET_ACCESS_KEY, GOOGLE_APPLICATION_CREDENTIALS, ...) stops the worker at import.
GATEWAY_KEY_ENV = frozenset({"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"})
CREDENTIAL_NAME = re.compile(r"KEY|SECRET|TOKEN|PASSWORD|CREDENTIAL|PROFILE", re.IGNORECASE)


def _client_env_vars() -> frozenset[str]:
    from providers import registry

    from gateways import registry as gateways

    declared = frozenset().union(*(p.client_env_vars for p in registry.all()),
                                 *(g.client_env_vars for g in gateways.all()))  # a gateway plug-in's client mode
    credentials = sorted(v for v in declared if CREDENTIAL_NAME.search(v) and v not in GATEWAY_KEY_ENV)
    if credentials:
        raise RuntimeError(f"a provider package declares credential variables for the CLI: {credentials}")
    overlap = sorted(declared & (ALLOWED_EXTRA_ENV | set(BASE_ENV)))
    if overlap:
        raise RuntimeError(f"a provider package declares variables the driver or a check sets: {overlap}")
    return declared


CLIENT_ENV = _client_env_vars()


@dataclass
class CliRun:
    exit_code: int | None
    stdout: str
    stderr: str
    duration_ms: int
    cpu_s: float
    timed_out: bool
    transcript: Transcript = field(repr=False)
    argv: list[str] = field(default_factory=list)
    stopped: str | None = None  # why the worker stopped the CLI before it finished (its `watch` said so)

    @property
    def result(self):
        return self.transcript.result


def build_env(base_url: str, api_key: str, home: Path, timeout_s: float, max_retries: int,
              extra: dict[str, str] | None = None, client: dict[str, str] | None = None) -> dict[str, str]:
    """The CLI's whole environment. `client` is the column's client mode (Provider.client_env); None = the Anthropic
    API at `base_url`. Either way the only key in it is `api_key`, the proxy's per-boot master key."""
    extra = extra or {}
    refused = set(extra) - ALLOWED_EXTRA_ENV
    if refused:
        raise ValueError(f"environment variables not allowed for the CLI: {sorted(refused)}")
    if client is None:
        client = {"ANTHROPIC_BASE_URL": base_url, "ANTHROPIC_API_KEY": api_key}
    refused = set(client) - CLIENT_ENV
    if refused:
        raise ValueError(f"client-mode variables not declared by any provider package: {sorted(refused)}")
    wrong_key = sorted(name for name in set(client) & GATEWAY_KEY_ENV if client[name] != api_key)
    if wrong_key:
        raise ValueError(f"{wrong_key} must carry the gateway's key and nothing else")
    return {
        **BASE_ENV,
        "HOME": str(home),
        **client,
        "CLAUDE_CODE_MAX_RETRIES": str(max_retries),
        "API_TIMEOUT_MS": str(int(timeout_s * 1000)),
        **extra,
    }


def build_argv(binary: Path, prompt: str | None, model: str, args: list[str] | None = None) -> list[str]:
    argv = [str(binary), "-p", "--output-format", "stream-json", "--verbose", "--model", model,
            "--no-session-persistence", *(args or [])]
    if prompt is not None:
        argv += ["--", prompt]
    return argv


def run_cli(
    binary: Path,
    *,
    prompt: str | None,
    model: str,
    base_url: str,
    api_key: str,
    sandbox,
    timeout_s: float = 180.0,
    max_retries: int = 0,
    args: list[str] | None = None,
    env: dict[str, str] | None = None,
    stdin_data: str | None = None,
    files: dict[str, bytes] | None = None,
    keep_dir: Path | None = None,
    client_env: dict[str, str] | None = None,
    watch: Callable[[], str | None] | None = None,
    watch_every_s: float = 1.0,
) -> CliRun:
    """Run the CLI once. A fresh HOME and cwd per run; stdin /dev/null unless stdin_data is given. `client_env`: the
    column's client mode (Provider.client_env), None = the Anthropic API at `base_url` with `api_key`.
    `watch`, called every `watch_every_s` while the CLI runs: a reason (str) stops the CLI at once (its process
    group killed, what it printed so far kept) and becomes `CliRun.stopped` — e.g. the model-call loop bound."""
    workdir = Path(tempfile.mkdtemp(prefix="ccmatrix-cli-"))
    home, cwd = workdir / "home", workdir / "project"
    home.mkdir()
    cwd.mkdir()
    for name, data in (files or {}).items():
        (cwd / name).write_bytes(data)
    argv = build_argv(binary, prompt, model, args)
    child_env = build_env(base_url, api_key, home, timeout_s, max_retries, env, client_env)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    process = subprocess.Popen(
        sandbox.wrap(argv, cwd=cwd), cwd=cwd, env=child_env, start_new_session=True, text=True,
        stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=die_with_parent,
    )
    timed_out = False
    stopped = None
    try:
        stdout, stderr, timed_out, stopped = _wait(process, stdin_data, started + timeout_s, watch, watch_every_s)
    except BaseException:
        # Interrupted: the job's soft time limit (Celery raises SoftTimeLimitExceeded right here, out of the wait),
        # Ctrl-C, SIGTERM. The CLI and everything it started go now, it is reaped, its HOME and cwd removed.
        _abandon(process, workdir)
        raise
    finally:
        stop_group(process, grace_s=0)  # anything the CLI left behind (tool subprocesses)
    duration_ms = int((time.monotonic() - started) * 1000)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if keep_dir:
        keep_dir.mkdir(parents=True, exist_ok=True)
        (keep_dir / "stdout.jsonl").write_text(stdout)
        (keep_dir / "stderr.txt").write_text(stderr)
    shutil.rmtree(workdir, ignore_errors=True)
    return CliRun(exit_code=None if timed_out else process.returncode, stdout=stdout, stderr=stderr,
                  duration_ms=duration_ms, cpu_s=cpu_s, timed_out=timed_out,
                  transcript=Transcript(parse(stdout)), argv=argv, stopped=stopped)


def _feed(process: subprocess.Popen, stdin_data: str | None) -> None:
    """Write stdin_data to the CLI and close its stdin, in a daemon thread; communicate() then leaves stdin alone."""
    pipe = process.stdin
    if pipe is None:
        return
    process.stdin = None

    def feed() -> None:
        try:
            if stdin_data:
                pipe.write(stdin_data)
        except (BrokenPipeError, OSError, ValueError):
            pass  # the CLI ended or was stopped: what it read is what it got
        finally:
            try:
                pipe.close()
            except (BrokenPipeError, OSError, ValueError):
                pass

    threading.Thread(target=feed, name="cli-stdin", daemon=True).start()


def _wait(process: subprocess.Popen, stdin_data: str | None, deadline: float,
          watch: Callable[[], str | None] | None, every_s: float) -> tuple[str, str, bool, str | None]:
    """Wait for the CLI until `deadline` (monotonic), asking `watch` between waits: (stdout, stderr, timed out,
    stopped because). The output pipes are drained all along (communicate is resumed after each wait). The input is
    written by a thread of its own: a resumed communicate() never goes on writing an input it did not finish
    (CPython registers stdin only when `input` is passed, and refuses input once communication started), so a large
    stdin (the long-context prompt) would stay half-written and the CLI wait for the rest."""
    _feed(process, stdin_data)
    while True:
        remaining = deadline - time.monotonic()
        step = remaining if watch is None else min(remaining, every_s)
        try:
            stdout, stderr = process.communicate(None, timeout=max(step, 0.0))
            return stdout, stderr, False, None
        except subprocess.TimeoutExpired:
            pass
        if time.monotonic() >= deadline:
            stop_group(process, grace_s=0)
            stdout, stderr = process.communicate()
            return stdout, stderr, True, None
        reason = watch() if watch is not None else None
        if reason:
            stop_group(process, grace_s=0)
            stdout, stderr = process.communicate()
            return stdout, stderr, False, reason


def _abandon(process: subprocess.Popen, workdir: Path) -> None:
    stop_group(process, grace_s=0)  # SIGKILLed and reaped: no zombie left in a long-lived worker
    for pipe in (process.stdin, process.stdout, process.stderr):
        try:
            if pipe is not None:
                pipe.close()
        except OSError:
            pass
    shutil.rmtree(workdir, ignore_errors=True)
