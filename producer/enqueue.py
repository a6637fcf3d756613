"""`celery -A producer enqueue`: a real Celery subcommand (registered through the `celery.commands` entry point).

Its run options are `ccmatrix run`'s, from the one definition in ccmatrix/options.py.
"""
from __future__ import annotations

import json

import click
from celery.bin.base import CeleryCommand

from ccmatrix import options


@click.command(cls=CeleryCommand, context_settings={"help_option_names": ["-h", "--help"]})
@options.run_selection
@click.option("--wait", is_flag=True, help="Wait for the run to finish and print its publishing summary.")
@options.run_following
@click.pass_context
def enqueue(ctx, manifest_path, wait, fail_on_regression, timeout, **selection):
    """Plan a run from the manifest and enqueue one job per (gateway, feature, provider) cell as a chord.

    --fail-on-regression and --timeout apply with --wait. Exit codes: 0 enqueued (with --wait: published),
    1 nothing was published, 2 refused (nothing was enqueued), 4 published a regression (when asked to fail on one).
    """
    from producer.submit import progress_bar, submit
    from producer.submit import wait as wait_for

    plan = options.plan_or_refuse(manifest_path, **selection)
    app = ctx.obj.app
    result = submit(plan, app)
    gateways = ", ".join(f"{g['name']} {g['version']}" for g in plan.gateways) or f"litellm {plan.litellm_version}"
    click.echo(f"enqueued run {plan.run_id}: {len(plan.jobs)} cells "
               f"({gateways}, claude-code {plan.claude_code_version})"
               + (f"; {len(plan.no_route)} cells not applicable (no route)" if plan.no_route else ""))
    if not wait:
        return
    summary = wait_for(plan, app, result, on_progress=progress_bar(), timeout=timeout)
    click.echo(json.dumps({k: v for k, v in summary.items() if k != "report"}, indent=2, default=str))
    ctx.exit(options.exit_code(summary, fail_on_regression))
