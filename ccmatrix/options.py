"""The options that select and follow a run, defined once.

`ccmatrix run` and `celery -A producer enqueue` both take `run_selection` and `run_following`, so the two commands
cannot drift; `ccmatrix cell` and `ccmatrix provision` take the single options that apply to them. Each name here is a
click decorator that makes a fresh option every time it is applied.

Nothing here names a feature, a provider or a tier: those come from the manifest when the run is planned, and an
unknown one is refused there, with the manifest's own list, before anything is started or enqueued.
"""
from __future__ import annotations

import json
from typing import Any, Callable, NoReturn

import click


def _split(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[str] | None:
    """`--x a,b --x c` → ["a", "b", "c"]; nothing given → None (the manifest's default: all of them)."""
    items = [item.strip() for value in values for item in value.split(",") if item.strip()]
    return items or None


def _faults(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[dict[str, Any]]:
    faults = []
    for value in values:
        try:
            fault = json.loads(value)
        except ValueError as error:
            raise click.BadParameter(f"{value!r} is not JSON ({error})") from None
        if not isinstance(fault, dict):
            raise click.BadParameter(f"{value!r} is not a JSON object")
        faults.append(fault)
    return faults


def _tier_models(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str] | None:
    """`--tier-models haiku=ID,sonnet=ID` → {"haiku": "ID", "sonnet": "ID"}; nothing given → None."""
    from ccmatrix.tiers import parse_overrides

    try:
        return parse_overrides(_split(ctx, param, values))
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def _compose(*decorators: Callable) -> Callable:
    """Apply `decorators` so that the options show in the order given."""

    def apply(command: Callable) -> Callable:
        for decorator in reversed(decorators):
            command = decorator(command)
        return command

    return apply


features = click.option("--features", multiple=True, callback=_split, metavar="IDS",
                        help="Feature ids from the manifest, comma separated or repeated. Default: every row.")
providers = click.option("--providers", multiple=True, callback=_split, metavar="IDS",
                         help="Provider ids from the manifest, comma separated or repeated. Default: every column.")
tiers = click.option("--tiers", multiple=True, callback=_split, metavar="TIERS",
                     help="Tiers from the manifest, comma separated or repeated. Default: every tier.")
gateway = click.option("--gateway", "gateways", multiple=True, callback=_split, metavar="NAME[@VERSION],...",
                       help="The gateways under test, comma separated or repeated: litellm (default; its version is "
                            "--litellm-version, or litellm@VERSION), portkey, claude-code-router... each at a release "
                            "or `latest` (resolved when the run is planned). Several make one matrix per gateway "
                            "in the same run, a tab each on the page and a comparison view.")
litellm_version = click.option("--litellm-version", default=None, metavar="VERSION|PATH",
                               help="LiteLLM version under test, `latest` (the newest final release whose proxy "
                                    "installs), or a local source tree / built wheel (.../litellm-X-*.whl) to gate a "
                                    "change before it ships (installed as PATH[proxy] into a venv keyed by its "
                                    "content hash; the path must exist on every worker host). Default: the "
                                    "manifest's.")
claude_code_version = click.option("--claude-code-version", default=None, metavar="VERSION",
                                   help="Claude Code version, or `latest` (the newest final release at least "
                                        "CCMATRIX_CLAUDE_CODE_MIN_AGE_DAYS old). Default: the manifest's.")
tier_models = click.option("--tier-models", multiple=True, callback=_tier_models, metavar="TIER=ID,...",
                           help="Tier models for this run only, e.g. haiku=claude-haiku-4-5,sonnet=claude-sonnet-4-5 "
                                "(Claude API ids; each column's id comes from the CLI's model table, else from the "
                                "manifest's `models`). Default: the manifest's tiers.")
offline = click.option("--offline", is_flag=True,
                       help="Resolve `latest` from the last resolution instead of asking the registries.")
manifest = click.option("--manifest", "manifest_path", default=None, type=click.Path(), metavar="FILE",
                        help="Manifest file. Default: $CCMATRIX_MANIFEST_PATH, else the project's manifest.yaml.")
strict_fidelity = click.option("--strict-fidelity", is_flag=True,
                               help="An unexpected or unknown fidelity verdict fails the tier "
                                    "(by default it is only reported).")
emulator_fault = click.option("--emulator-fault", "faults", multiple=True, callback=_faults, metavar="JSON",
                              help="An emulator fault for every job, as a JSON object, e.g. "
                                   "'{\"provider\": \"<id>\", \"status\": 500}'. Repeatable.")
gateway_profile = click.option("--gateway-profile", default=None, metavar="NAME",
                                help="The gateway's settings, by profile name from gateway_profiles/litellm.yaml "
                                     "(`recommended`: what LiteLLM's own Claude Code suite runs with; `defaults`: "
                                     "nothing set). Default: $CCMATRIX_GATEWAY_PROFILE. LiteLLM's only: another "
                                     "--gateway runs with its plug-in's default profile.")
fail_on_regression = click.option("--fail-on-regression", is_flag=True,
                                  help="Exit 4 when the published run regressed: a cell went green→red or a new "
                                       "error appeared (for CronJobs and CI).")
timeout = click.option("--timeout", type=float, default=None, metavar="SECONDS",
                       help="Stop waiting for the run after this many seconds.")

#: What a run is: its cells, versions, manifest and judging. The keyword names are RunOptions' fields + manifest_path.
run_selection = _compose(features, providers, tiers, gateway, litellm_version, claude_code_version, tier_models, offline,
                         manifest, gateway_profile, strict_fidelity, emulator_fault)
#: How a command that waits for a run ends: exit code and patience.
run_following = _compose(fail_on_regression, timeout)


def plan_or_refuse(manifest_path: str | None = None, **selection: Any):
    """Plan the run `selection` (the RunOptions fields) asks for.

    A bad manifest, an unknown name or a bad version pin ends the command here, with one line on stderr and exit code
    2, before anything is started or enqueued.
    """
    from ccmatrix.manifest import ManifestError
    from producer.plan import RunOptions, plan_run

    try:
        return plan_run(RunOptions(**selection), manifest_path=manifest_path)
    except (ManifestError, ValueError) as error:
        refuse(error)


def refuse(error: Exception) -> NoReturn:
    """End the command: one line on stderr, exit code 2."""
    click.echo(f"refused: {' '.join(str(error).split())}", err=True)
    raise click.exceptions.Exit(2)


def exit_code(summary: dict, fail_on_regression: bool) -> int:
    """0 published; 4 published but regressed, when asked to fail on it; 1 nothing was published."""
    if not summary.get("published"):
        return 1
    if fail_on_regression and summary.get("regression") == "regressed":
        return 4
    return 0
