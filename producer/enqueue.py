"""`celery -A producer enqueue`: a real Celery subcommand (registered through the `celery.commands` entry point)."""
from __future__ import annotations

import json
import sys

import click
from celery.bin.base import CeleryCommand

from ccmatrix.manifest import ManifestError


def _split(values: tuple[str, ...]) -> list[str] | None:
    items = [item.strip() for value in values for item in value.split(",") if item.strip()]
    return items or None


@click.command(cls=CeleryCommand, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--features", multiple=True, help="Feature ids (comma separated or repeated). Default: all rows.")
@click.option("--providers", multiple=True, help="Provider ids. Default: all columns.")
@click.option("--tiers", multiple=True, help="Tiers (haiku, sonnet, opus). Default: all.")
@click.option("--litellm-version", default=None, help="LiteLLM version under test (default: the manifest's pin).")
@click.option("--claude-code-version", default=None, help="Claude Code version (default: the manifest's pin).")
@click.option("--manifest", "manifest_path", default=None, type=click.Path(), help="Manifest file.")
@click.option("--strict-fidelity", is_flag=True, help="An unexpected translation difference fails the cell.")
@click.option("--emulator-fault", "faults", multiple=True,
              help='Emulator fault for every job, as JSON, e.g. \'{"provider":"anthropic","status":500}\'.')
@click.option("--wait", is_flag=True, help="Wait for the run to finish and print the publishing summary.")
@click.option("--fail-on-regression", is_flag=True,
              help="With --wait: exit 4 when a cell went green→red or a new error appeared (for CronJobs/CI).")
@click.option("--timeout", type=float, default=None, help="With --wait: give up after this many seconds.")
@click.pass_context
def enqueue(ctx, features, providers, tiers, litellm_version, claude_code_version, manifest_path, strict_fidelity,
            faults, wait, fail_on_regression, timeout):
    """Plan a run from the manifest and enqueue one job per (feature, provider) cell as a chord."""
    from producer.plan import RunOptions, plan_run
    from producer.submit import progress_bar, submit
    from producer.submit import wait as wait_for

    app = ctx.obj.app
    try:
        parsed_faults = [json.loads(f) for f in faults]
        options = RunOptions(features=_split(features), providers=_split(providers), tiers=_split(tiers),
                             litellm_version=litellm_version, claude_code_version=claude_code_version,
                             faults=parsed_faults, strict_fidelity=strict_fidelity)
        plan = plan_run(options, manifest_path=manifest_path)
    except (ManifestError, ValueError) as error:
        click.echo(f"refused: {error}", err=True)
        ctx.exit(2)
    result = submit(plan, app)
    click.echo(f"enqueued run {plan.run_id}: {len(plan.jobs)} cells "
               f"(litellm {plan.litellm_version}, claude-code {plan.claude_code_version})")
    if not wait:
        return
    summary = wait_for(plan, app, result, on_progress=progress_bar(), timeout=timeout)
    click.echo(json.dumps({k: v for k, v in summary.items() if k != "report"}, indent=2, default=str))
    if not summary.get("published"):
        ctx.exit(1)
    if fail_on_regression and summary.get("regression") == "regressed":
        ctx.exit(4)
    ctx.exit(0)
