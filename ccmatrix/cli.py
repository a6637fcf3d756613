"""`ccmatrix`: run the matrix locally, run one cell, serve the emulator, provision tools, and read published runs."""
from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import click

from ccmatrix import options
from ccmatrix.settings import SettingsError
from ccmatrix.cli_bisect import COMMANDS as BISECT_COMMANDS
from ccmatrix.publish.commands import compare_gateways, diff, history, publish
from ccmatrix.regression_bisect import COMMAND as BISECT_REGRESSIONS

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 120}


@click.group(context_settings=CONTEXT, help=__doc__)
def cli() -> None:
    pass


@cli.result_callback()
def _exit_with(code: int | None) -> None:
    """Every subcommand returns its exit code."""
    raise click.exceptions.Exit(code or 0)


@cli.command("run", short_help="Run the matrix locally (starts its own Redis and worker when needed).")
@options.run_selection
@options.run_following
@click.option("--concurrency", type=click.IntRange(min=1), default=None, metavar="N",
              help="Jobs each worker runs at once. Default: sized from cores, free memory and the latency mode "
                   "(CCMATRIX_WORKER_CONCURRENCY; ccmatrix/sizing.py), split over --workers.")
@click.option("--workers", type=click.IntRange(min=1, max=64), default=1, show_default=True, metavar="N",
              help="Celery worker processes to start on the one broker, each with its own node name, sandboxes and "
                   "gateways, as separate hosts would.")
@click.option("--bisect-regressions", "bisect_after", is_flag=True,
              help="After a published run, bisect each cell that went green→red since the previous published run "
                   "(`ccmatrix bisect-regressions`); the results show on the page and in the regression report.")
def run(manifest_path, timeout, fail_on_regression, concurrency, workers=1, bisect_after=False, **selection) -> int:
    """Run the matrix locally: plan it, provision the tools, start a Redis (unless a broker is configured) and a
    worker, enqueue one job per cell, show a progress bar, print a JSON summary on stdout, and stop everything it
    started, also on Ctrl-C.

    Exit codes: 0 published, 1 nothing was published, 2 refused (before anything started), 3 provisioning failed,
    4 published a regression (when asked to fail on one), 130 interrupted.
    """
    from ccmatrix.settings import get_settings

    settings = get_settings()
    plan = options.plan_or_refuse(manifest_path, **selection)

    from ccmatrix.provision import ProvisionError, ensure_claude, ensure_litellm

    try:
        gateways = [g["name"] for g in plan.gateways] or ["litellm"]
        print(f"provisioning claude-code {plan.claude_code_version}"
              f"{f' and litellm {plan.litellm_version}' if 'litellm' in gateways else ''} "
              f"under {settings.cache_dir} ...", file=sys.stderr)
        ensure_claude(settings.cache_dir, plan.claude_code_version)
        if "litellm" in gateways:
            ensure_litellm(settings.cache_dir, plan.litellm_version)
        from producer.gateway_selection import plugin

        for gateway in plan.gateways:  # every other gateway by its plug-in (idempotent, file-locked)
            if gateway["name"] != "litellm":
                print(f"provisioning {gateway['name']} {gateway['version']} ...", file=sys.stderr)
                plugin(gateway["name"]).provision(settings.cache_dir, gateway["version"])
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
        concurrency = concurrency or max(1, settings.worker_concurrency // workers)
        # one node each (<name>-<pid>@host), its own log, and per pool process its own sandbox, emulator and gateway
        names = ["ccmatrix-local"] if workers == 1 else [f"ccmatrix-local-{n}" for n in range(1, workers + 1)]
        for name in names:
            stack.start_worker(env, concurrency, name=name)
        print(f"started {workers} celery worker(s) (concurrency {concurrency} each); logs in {log_dir}", file=sys.stderr)
        get_settings.cache_clear()
        from ccmatrix.celery_app import make_app
        from producer.submit import submit, wait

        app = make_app()  # bound to the broker chosen above
        if stack.broker_started:
            # Our own Redis on loopback: a refused connection means it died, and retrying (20 times by default,
            # also while unsubscribing on the way out) only delays saying so.
            transport = dict(app.conf.result_backend_transport_options or {})
            app.conf.result_backend_transport_options = {**transport, "retry_policy": {"max_retries": 0}}
        try:
            result = submit(plan, app)
            print(f"run {plan.run_id}: {len(plan.jobs)} cells", file=sys.stderr)
            summary = wait(plan, app, result, on_progress=bar, timeout=timeout, alive=stack_alive)
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
    print(json.dumps({k: summary.get(k) for k in ("run_id", "published", "counts", "gateways", "regression", "targets",
                                                  "reason") if k in summary}, indent=2))
    if summary.get("published"):
        print(f"matrix: {settings.out_dir / 'compatibility-matrix.json'}", file=sys.stderr)
        if len(plan.gateways) > 1:  # one matrix per gateway, listed by the index
            print(f"index:  {settings.out_dir / 'compatibility-matrix.index.json'}", file=sys.stderr)
        print(f"page:   {settings.out_dir / 'index.html'}", file=sys.stderr)
        if bisect_after:
            _bisect_after_run(plan.run_id, stack.broker_started, concurrency)
        return options.exit_code(summary, fail_on_regression)
    bar.end()
    reason = " ".join(str(summary.get("reason") or "nothing was published").split())
    print(f"ccmatrix run: {reason}", file=sys.stderr)  # the last line, one line
    return options.exit_code(summary, fail_on_regression)


def _bisect_after_run(run_id: str, own_broker: bool, concurrency: int | None) -> int:
    """`ccmatrix bisect-regressions --run RUN_ID` after a published run, its lines on stderr (stdout is the run's
    JSON summary). The run's own Redis is gone: the bisect starts its own stack."""
    from ccmatrix.regression_bisect import bisect_regressions
    from ccmatrix.settings import get_settings

    if own_broker:
        for name in ("CCMATRIX_BROKER_URL", "CCMATRIX_RESULT_BACKEND"):
            os.environ.pop(name, None)
    get_settings.cache_clear()
    say = lambda line: print(line, file=sys.stderr)  # noqa: E731
    try:
        return bisect_regressions(get_settings(), run_id, concurrency=concurrency, say=say)
    except KeyboardInterrupt:
        say("interrupted: stopping what was started")
        return 130


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


@cli.command("cell", short_help="Run one (feature, provider) cell in this process, print its result.")
@click.argument("feature")
@click.argument("provider")
@options.tiers
@options.litellm_version
@options.claude_code_version
@options.tier_models
@options.manifest
@options.gateway_profile
@options.strict_fidelity
@options.emulator_fault
def cell(feature, provider, manifest_path, **selection) -> int:
    """Run one cell in this process, with no broker (for debugging a check or a provider), and print its result as
    JSON. FEATURE and PROVIDER are ids from the manifest.

    Exit codes: 0 pass or not applicable, 1 any other status, 2 refused.
    """
    plan = options.plan_or_refuse(manifest_path, features=[feature], providers=[provider], **selection)
    job = plan.jobs[0].model_copy(update={"run_id": "debug"})

    from ccmatrix.settings import get_settings
    from worker.cell import run_cell
    from worker.environment import shutdown_all

    try:
        result = run_cell(job, get_settings())
    finally:
        shutdown_all()
    print(result.model_dump_json(indent=2, exclude_none=True))
    return 0 if result.status.value in ("pass", "not_applicable") else 1


@cli.command("gateway-config", short_help="Print the gateway config a cell uses for one provider column.")
@click.option("--provider", "provider_id", required=True, metavar="ID", help="A provider column id from the manifest.")
@options.litellm_version
@options.gateway_profile
@options.manifest
def gateway_config(provider_id, litellm_version, gateway_profile, manifest_path) -> int:
    """Print, as YAML, the exact LiteLLM proxy config a cell of provider column ID runs with: its model_list entries
    (emulated, or real when that column's credentials are set), the gateway profile's settings and the harness
    settings on top. Secrets (the emulator's keys, real credentials) are masked as ***; `os.environ/...` references
    stay as they are. Exit codes: 0 printed, 2 refused (an unknown provider or profile, a bad version pin)."""
    import tempfile

    from ccmatrix.manifest import parse_manifest
    from ccmatrix.settings import get_settings
    from providers import registry
    from worker.proxy_config import build_config, masked, to_yaml
    from worker.sandbox import SERVICE_PORTS

    plan = options.plan_or_refuse(manifest_path, providers=[provider_id], litellm_version=litellm_version,
                                  gateway_profile=gateway_profile)
    settings = get_settings()
    manifest = parse_manifest(plan.manifest, "run manifest")
    column = manifest.provider(provider_id)
    real = column.route in registry.real_ids(settings)
    emulator_url = f"http://127.0.0.1:{SERVICE_PORTS['emulator']}"  # the emulator inside a worker's sandbox
    profile = plan.gateway_profile["name"]
    with tempfile.TemporaryDirectory(prefix="ccmatrix-gateway-config-") as tmp:
        secrets_dir = Path(tmp) / "emulator"
        config = build_config(manifest, settings, emulator_url, secrets_dir, [provider_id], real=real,
                              profile=profile)
        text = to_yaml(masked(config, registry.secret_values(settings))).replace(str(secrets_dir), "$RUN_DIR/emulator")
    upstream = ("the real provider (credentials from the settings)" if real
                else f"the emulator, inside a worker's sandbox ({emulator_url})")
    lines = [f"# The LiteLLM proxy config a ccmatrix cell uses for the {provider_id} column ({column.name}).",
             f"# LiteLLM {plan.litellm_version}; gateway profile {profile!r}; upstream: {upstream}.",
             "# Secrets are masked as ***. The master key is per boot, in the proxy's environment (LITELLM_MASTER_KEY).",
             *(["# $RUN_DIR: the worker process's run directory (.cache/run/<host>-<pid>-emulated)."]
               if "$RUN_DIR" in text else []),
             "# Harness settings, applied on top of every profile (the run report lists them as report.harness):",
             *(f"#   {h['setting']}: {json.dumps(h['value'])} — {' '.join(h['reason'].split())}" for h in plan.harness)]
    click.echo("\n".join(lines) + "\n" + text, nl=False)
    return 0


@cli.command("emulator", short_help="Serve the five provider dialects on one port.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, required=True, help="Port to listen on.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Where the emulator keeps its captures. Default: .cache/emulator.")
def emulator(host: str, port: int, data_dir: Path | None) -> int:
    """Serve the emulated providers, each on its own routes, on one port (with CCMATRIX_EMULATOR_LATENCY's latency:
    off, realistic or a spec, emulator/latency.py)."""
    from ccmatrix.settings import get_settings
    from emulator.server import serve

    latency = get_settings().emulator_latency
    data_dir = data_dir or Path(".cache") / "emulator"
    data_dir.mkdir(parents=True, exist_ok=True)
    serve(host, port, data_dir, latency=latency)
    return 0


@cli.command("resolve", short_help="Print what `latest` means right now (and the newer releases skipped).")
@options.manifest
@options.litellm_version
@options.claude_code_version
@options.offline
def resolve(manifest_path, litellm_version, claude_code_version, offline) -> int:
    """Resolve the versions a run would test (default: `latest` for both) and print them as JSON, with the registry
    each came from and the newer releases passed over, with why. Exit codes: 0 done, 2 a registry could not answer."""
    from producer.plan import resolve_versions

    try:
        found = resolve_versions(litellm_version or "latest", claude_code_version or "latest", offline=offline)
    except ValueError as error:
        options.refuse(error)
    print(json.dumps(found, indent=2))
    return 0


@cli.command("provision", short_help="Install the pinned claude-code and litellm under the cache.")
@options.manifest
@options.litellm_version
@options.claude_code_version
def provision(manifest_path, litellm_version, claude_code_version) -> int:
    """Install Claude Code and LiteLLM (the manifest's pins, or the versions given) under the cache directory and
    print where they are. Exit codes: 0 done, 2 a bad manifest, 3 provisioning failed."""
    from ccmatrix.manifest import ManifestError, load_manifest
    from ccmatrix.provision import ProvisionError, ensure_claude, ensure_litellm
    from ccmatrix.settings import get_settings

    settings = get_settings()
    try:
        manifest = load_manifest(manifest_path)
    except ManifestError as error:
        options.refuse(error)
    from producer.plan import resolve_versions

    try:
        versions = resolve_versions(litellm_version or manifest.litellm_version,
                                    claude_code_version or manifest.claude_code_version)
    except ValueError as error:
        options.refuse(error)
    try:
        print(ensure_claude(settings.cache_dir, versions["claude_code"]["version"]))
        print(ensure_litellm(settings.cache_dir, versions["litellm"]["version"]))
    except ProvisionError as error:
        print(f"provisioning failed: {error}", file=sys.stderr)
        return 3
    return 0


for _command in (history, diff, publish, compare_gateways, *BISECT_COMMANDS, BISECT_REGRESSIONS):
    cli.add_command(_command)
for _command in cli.commands.values():  # -h too, also when a command is used without the group's context
    _command.context_settings = {**CONTEXT, **_command.context_settings}


def main(argv: list[str] | None = None) -> int:
    """The `ccmatrix` entry point: the exit code, never a traceback for a usage error or a Ctrl-C."""
    try:
        return cli.main(args=argv, prog_name="ccmatrix", standalone_mode=False) or 0
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except SettingsError as error:  # a CCMATRIX_* variable that cannot be read
        print(f"ccmatrix: {error}", file=sys.stderr)
        return 2
    except click.exceptions.Abort:  # Ctrl-C outside the run's own handling (e.g. while provisioning)
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
