"""`ccmatrix`: run the matrix locally, serve the emulator, provision tools, and read published runs."""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--features", action="append", help="feature ids (comma separated or repeated)")
    parser.add_argument("--providers", action="append", help="provider ids")
    parser.add_argument("--tiers", action="append", help="tiers: haiku, sonnet, opus")
    parser.add_argument("--litellm-version", help="LiteLLM version under test (default: the manifest's pin)")
    parser.add_argument("--claude-code-version", help="Claude Code version (default: the manifest's pin)")
    parser.add_argument("--manifest", help="manifest file (default: manifest.yaml)")
    parser.add_argument("--strict-fidelity", action="store_true", help="unexpected differences fail the cell")
    parser.add_argument("--emulator-fault", action="append", default=[], dest="faults",
                        help='emulator fault for every job, as JSON, e.g. {"provider":"anthropic","status":500}')
    parser.add_argument("--concurrency", type=int, help="worker processes (default: number of cores)")
    parser.add_argument("--timeout", type=float, default=None, help="give up after this many seconds")


def _split(values):
    items = [i.strip() for v in values or [] for i in v.split(",") if i.strip()]
    return items or None


def cmd_run(args) -> int:
    from ccmatrix.manifest import ManifestError
    from ccmatrix.settings import get_settings

    settings = get_settings()
    from producer.plan import RunOptions, plan_run

    try:
        options = RunOptions(features=_split(args.features), providers=_split(args.providers), tiers=_split(args.tiers),
                             litellm_version=args.litellm_version, claude_code_version=args.claude_code_version,
                             faults=[json.loads(f) for f in args.faults], strict_fidelity=args.strict_fidelity)
        plan = plan_run(options, manifest_path=args.manifest)
    except (ManifestError, ValueError) as error:
        print(f"refused: {error}", file=sys.stderr)
        return 2

    from ccmatrix.provision import ProvisionError, ensure_claude, ensure_litellm

    try:
        print(f"provisioning claude-code {plan.claude_code_version} and litellm {plan.litellm_version} "
              f"under {settings.cache_dir} ...", file=sys.stderr)
        ensure_claude(settings.cache_dir, plan.claude_code_version)
        ensure_litellm(settings.cache_dir, plan.litellm_version)
    except ProvisionError as error:
        print(f"provisioning failed: {error}", file=sys.stderr)
        return 3

    from ccmatrix.local_stack import LocalStack

    log_dir = settings.cache_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    stack = LocalStack(settings.cache_dir, log_dir)
    bar = _ProgressLine()
    summary: dict = {"run_id": plan.run_id, "published": False}

    def lost(what: str) -> str:  # the one line for a run whose own broker or worker died
        return f"{what} mid-run: nothing was published; logs in {log_dir}"

    def stack_alive() -> str | None:  # a dead broker or worker: nothing will ever finish the run
        what = stack.dead()
        return lost(what) if what else None

    # Ctrl-C and SIGTERM both stop everything we started (a shell may have started us with SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        broker = settings.broker_url
        if not broker:
            broker = stack.start_redis()
            print(f"started redis at {broker}", file=sys.stderr)
            os.environ["CCMATRIX_BROKER_URL"] = broker
            os.environ["CCMATRIX_RESULT_BACKEND"] = broker
        env = dict(os.environ)
        concurrency = args.concurrency or settings.worker_concurrency
        stack.start_worker(env, concurrency)
        print(f"started a celery worker (concurrency {concurrency}); logs in {log_dir}", file=sys.stderr)
        get_settings.cache_clear()
        from producer.app import make_app
        from producer.submit import submit, wait

        app = make_app()  # bound to the broker chosen above
        if stack.broker_started:
            # Our own Redis on loopback: a refused connection means it died, and retrying (20 times by default,
            # also while unsubscribing on the way out) only delays saying so.
            options = dict(app.conf.result_backend_transport_options or {})
            app.conf.result_backend_transport_options = {**options, "retry_policy": {"max_retries": 0}}
        try:
            result = submit(plan, app)
            print(f"run {plan.run_id}: {len(plan.jobs)} cells", file=sys.stderr)
            summary = wait(plan, app, result, on_progress=bar, timeout=args.timeout, alive=stack_alive)
        except Exception as error:  # the broker went away under us (connection refused, reset, ...)
            _keep_traceback(log_dir / "ccmatrix-run.log")  # for whoever debugs it; never on the terminal
            summary["reason"] = _settled(stack_alive) or lost(
                f"the broker at {_redact(broker)} could not be reached ({_one_line(error)})")
    except KeyboardInterrupt:
        bar.end()
        print("interrupted: stopping what was started", file=sys.stderr)
        return 130
    finally:
        stack.stop()
    print(json.dumps({k: summary.get(k) for k in ("run_id", "published", "counts", "regression", "targets", "reason")
                      if k in summary}, indent=2))
    if summary.get("published"):
        print(f"matrix: {settings.out_dir / 'compatibility-matrix.json'}", file=sys.stderr)
        print(f"page:   {settings.out_dir / 'index.html'}", file=sys.stderr)
        return 0
    bar.end()
    reason = " ".join(str(summary.get("reason") or "nothing was published").split())
    print(f"ccmatrix run: {reason}", file=sys.stderr)  # the last line, one line
    return 1


def _settled(check, seconds: float = 1.0):
    """`check()` once more after a moment: a killed process may take a few milliseconds to be seen as dead."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    return None


class _ProgressLine:
    """The progress bar on stderr; `end()` finishes its line so what follows starts on a line of its own."""

    def __init__(self) -> None:
        from producer.submit import progress_bar

        self._show = progress_bar()
        self._open = False

    def __call__(self, done: int, total: int) -> None:
        self._show(done, total)
        self._open = done != total

    def end(self) -> None:
        if self._open:
            sys.stderr.write("\n")
            self._open = False


def _keep_traceback(path: Path) -> None:
    import time
    import traceback

    try:
        with open(path, "a") as log:
            log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} ccmatrix run\n{traceback.format_exc()}\n")
    except OSError:
        pass


def _one_line(error: BaseException) -> str:
    text = " ".join(f"{type(error).__name__}: {error}".split())
    return text[:300]


def _redact(url: str) -> str:
    """A broker URL without its password."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        host = parts.hostname or ""
        netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


def cmd_emulator(args) -> int:
    from emulator.server import serve

    data_dir = Path(args.data_dir) if args.data_dir else Path(".cache") / "emulator"
    data_dir.mkdir(parents=True, exist_ok=True)
    serve(args.host, args.port, data_dir)
    return 0


def cmd_provision(args) -> int:
    from ccmatrix.manifest import load_manifest
    from ccmatrix.provision import ProvisionError, ensure_claude, ensure_litellm
    from ccmatrix.settings import get_settings

    settings = get_settings()
    manifest = load_manifest(args.manifest)
    try:
        print(ensure_claude(settings.cache_dir, args.claude_code_version or manifest.claude_code_version))
        print(ensure_litellm(settings.cache_dir, args.litellm_version or manifest.litellm_version))
    except ProvisionError as error:
        print(f"provisioning failed: {error}", file=sys.stderr)
        return 3
    return 0


def cmd_cell(args) -> int:
    """Run one cell in this process (no broker): for debugging a check or a provider."""
    from ccmatrix.manifest import load_manifest
    from ccmatrix.settings import get_settings
    from worker.cell import CellJob, run_cell
    from worker.environment import shutdown_all

    manifest = load_manifest(args.manifest)
    job = CellJob(run_id="debug", feature=args.feature, provider=args.provider,
                  tiers=_split(args.tiers) or list(manifest.tiers),
                  litellm_version=args.litellm_version or manifest.litellm_version,
                  claude_code_version=args.claude_code_version or manifest.claude_code_version,
                  manifest=manifest.model_dump(mode="json"), faults=[json.loads(f) for f in args.faults])
    try:
        result = run_cell(job, get_settings())
    finally:
        shutdown_all()
    print(result.model_dump_json(indent=2, exclude_none=True))
    return 0 if result.status.value in ("pass", "not_applicable") else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ccmatrix", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the matrix locally (starts its own Redis and worker when needed)")
    _add_run_options(run)
    run.set_defaults(func=cmd_run)
    emu = sub.add_parser("emulator", help="serve the five provider dialects")
    emu.add_argument("--host", default="127.0.0.1")
    emu.add_argument("--port", type=int, required=True)
    emu.add_argument("--data-dir")
    emu.set_defaults(func=cmd_emulator)
    cell = sub.add_parser("cell", help="run one (feature, provider) cell in this process, print its result")
    cell.add_argument("feature")
    cell.add_argument("provider")
    cell.add_argument("--tiers", action="append")
    cell.add_argument("--manifest")
    cell.add_argument("--litellm-version")
    cell.add_argument("--claude-code-version")
    cell.add_argument("--emulator-fault", action="append", default=[], dest="faults")
    cell.set_defaults(func=cmd_cell)
    prov = sub.add_parser("provision", help="install the pinned claude-code and litellm under the cache")
    prov.add_argument("--manifest")
    prov.add_argument("--litellm-version")
    prov.add_argument("--claude-code-version")
    prov.set_defaults(func=cmd_provision)
    try:
        from ccmatrix.publish import commands

        commands.register(sub)
    except ImportError:
        pass
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
