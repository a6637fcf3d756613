"""The click commands `ccmatrix bisect` and `ccmatrix corpus run` (wiring only: the search is ccmatrix.bisect, the
corpus verdicts ccmatrix.corpus_run, the Celery jobs ccmatrix.probes)."""
from __future__ import annotations

import json
import signal

import click

from ccmatrix import options, probes
from ccmatrix.bisect import BisectError, Probe, bisect as search, releases_between, summary_line

# The seams the CLI tests stub: where cells run (a context manager with `.slots` and `.run(cells) -> [Ran]`) and
# where the release lists come from.
open_runner = probes.CeleryCells
final_releases = probes.final_releases
resolve_pin = probes.resolve_pin  # `latest` (the manifest's default) → a concrete release


def _say(line: str) -> None:
    click.echo(line, err=True)


def _interruptible() -> None:
    # Ctrl-C and SIGTERM both stop what was started (the runner's context manager stops its stack on the way out).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))


def _probe_line(probe: Probe) -> str:
    retry = " (retry)" if probe.attempt > 1 else ""
    if probe.verdict == "skip":
        return f"probe {probe.version}: skipped — {probe.reason}"
    cause = f" [{probe.cause}]" if probe.cause else ""
    reason = f" — {probe.reason}" if probe.reason else ""
    return f"probe {probe.version}{retry}: {probe.status or probe.verdict}{cause}{reason}"


@click.command("bisect", short_help="Find the release where a cell changed status (each probe a Celery job).")
@click.option("--feature", required=True, metavar="ID", help="A feature (row) id from the manifest.")
@click.option("--provider", required=True, metavar="ID", help="A provider (column) id from the manifest.")
@click.option("--tier", "tiers", multiple=True, metavar="TIER", help="Tier(s) to run (default: the row's tiers).")
@click.option("--good", required=True, metavar="VERSION", help="A release where the cell passes.")
@click.option("--bad", required=True, metavar="VERSION",
              help="A release where the cell fails. Older than --good: search for the first fixed release.")
@click.option("--axis", type=click.Choice(probes.AXES), default="litellm", show_default=True,
              help="Which tool's releases to search; the other one is pinned.")
@options.litellm_version
@options.claude_code_version
@options.tier_models
@options.gateway_profile
@options.manifest
@click.option("--concurrency", type=int, default=None, metavar="N",
              help="Local worker slots, and probes sent at once. Default: the number of cores.")
@click.option("--parallel", type=int, default=None, metavar="K",
              help="Probes per step (default: the worker's slots). 1: one midpoint at a time.")
def bisect_command(feature, provider, tiers, good, bad, axis, litellm_version, claude_code_version, tier_models,
                   gateway_profile, manifest_path, concurrency, parallel) -> int:
    """Binary search over the final releases between --good and --bad (package index / npm) of one axis, the other
    pinned; each probe is one `ccmatrix.run_cell` Celery job on the local stack `ccmatrix run` uses. Prints each
    probe (version, status, cause, reason) and, as the last line, the first bad release (or, when --good is the
    newer one, the first fixed release) with its release notes. An `error` probe is retried once, then reported and
    excluded (never good or bad); a release that does not install is skipped with the reason.

    Exit codes: 0 found, 1 the search could not conclude (an endpoint is not what it was claimed to be, ...),
    2 refused, 130 interrupted.
    """
    tiers = [t for value in tiers for t in value.split(",") if t.strip()] or None
    if axis == "litellm" and litellm_version:
        options.refuse(ValueError("--litellm-version pins the other axis: with --axis litellm, pin "
                                  "--claude-code-version"))
    if axis == "claude-code" and claude_code_version:
        options.refuse(ValueError("--claude-code-version pins the other axis: with --axis claude-code, pin "
                                  "--litellm-version"))
    from ccmatrix.manifest import ManifestError, load_manifest

    try:
        manifest = load_manifest(manifest_path)
        manifest.select([feature], [provider], tiers)
    except (ManifestError, ValueError) as error:
        options.refuse(error)
    other = "claude-code" if axis == "litellm" else "litellm"
    try:
        pinned = resolve_pin(other, (claude_code_version or manifest.claude_code_version) if axis == "litellm"
                             else (litellm_version or manifest.litellm_version))
    except ValueError as error:
        options.refuse(error)
    try:
        releases = releases_between(final_releases(axis), good, bad)
    except (BisectError, ValueError) as error:
        options.refuse(error)

    def make_cell(version: str) -> probes.Cell:
        litellm, claude = (version, pinned) if axis == "litellm" else (pinned, version)
        return probes.Cell(feature=feature, provider=provider, litellm_version=litellm, claude_code_version=claude,
                           tiers=tiers, tier_models=tier_models, gateway_profile=gateway_profile,
                           manifest_path=manifest_path)

    direction = "first bad" if releases.index(good) < releases.index(bad) else "first fixed"
    _say(f"bisect {feature}/{provider} over {len(releases)} {axis} releases {releases[0]} … {releases[-1]} "
         f"({other} {pinned}): looking for the {direction} release")
    _interruptible()
    try:
        with open_runner(concurrency) as runner:
            width = max(1, parallel or runner.slots)

            def probe(versions: list[str]) -> list[Probe]:
                _say(f"probing {', '.join(versions)} ...")
                return probes.bisect_probe(runner, make_cell)(versions)

            try:
                result = search(releases, good, bad, probe, width=width, on_probe=lambda p: click.echo(_probe_line(p)))
            except BisectError as error:
                click.echo(f"bisect: {' '.join(str(error).split())}")
                return 1
    except KeyboardInterrupt:
        _say("interrupted: stopping what was started")
        return 130
    for version, why in result.excluded.items():
        click.echo(f"excluded {version}: {why}")
    click.echo(f"{len(result.probes)} probes over {len(result.releases)} releases")
    click.echo(summary_line(result, lambda v: probes.notes_url(axis, v)))
    return 0


@click.group("corpus", short_help="The known-bug corpus (corpus/): run it against the emulator.")
def corpus() -> None:
    pass


@corpus.command("run", short_help="Run each case at its buggy and fixed release; print reproduced / not.")
@click.argument("cases", nargs=-1, metavar="[CASE...]")
@click.option("--corpus-dir", type=click.Path(file_okay=False), default=None, help="Default: the project's corpus/.")
@options.manifest
@click.option("--concurrency", type=int, default=None, metavar="N",
              help="Local worker slots. Default: the number of cores.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), default=None,
              help="Where to write the JSON report. Default: <out>/corpus-report.json.")
def corpus_run(cases, corpus_dir, manifest_path, concurrency, report_path) -> int:
    """For each case (default: all), run its cell at its newest buggy release and at its fixed release (an open case:
    the buggy one only), in the era of its bug — its Claude Code version and tier models, else the era's
    (ccmatrix.corpus ERA_CLAUDE_CODE, ERA_MODELS), never the manifest's `latest` — as Celery jobs on the local
    stack. One line per case (reproduced / not reproduced / not run, with why) and, last, `corpus: N/M reproduced`.
    Writes a JSON report (default: out/corpus-report.json).

    Exit codes: 0 done (whatever the score), 2 refused, 130 interrupted.
    """
    from pathlib import Path

    from ccmatrix import corpus_run as verdicts
    from ccmatrix.corpus import CorpusError, load_corpus
    from ccmatrix.manifest import ManifestError, load_manifest
    from ccmatrix.settings import get_settings

    try:
        manifest = load_manifest(manifest_path)
        loaded = load_corpus(corpus_dir, manifest)
    except (ManifestError, CorpusError) as error:
        options.refuse(error)
    known = {case.id: case for case in loaded}
    unknown = [c for c in cases if c not in known]
    if unknown:
        options.refuse(ValueError(f"unknown case(s) {unknown}; the corpus has {sorted(known)}"))
    chosen = [known[c] for c in cases] if cases else loaded

    from ccmatrix.corpus import CLAUDE_CODE_ERAS, ERA_MODELS

    def cell(case, version: str) -> probes.Cell:
        # the era of the bug: the case's Claude Code version and tier models, else the era's (ccmatrix.corpus)
        return probes.corpus_cell(case, version, manifest_path)

    wanted = []  # (case index, side, Cell)
    for index, case in enumerate(chosen):
        wanted.append((index, "buggy", cell(case, case.last_buggy)))
        if not case.is_open:
            wanted.append((index, "fixed", cell(case, case.fixed)))
    _say(f"corpus: {len(chosen)} case(s), {len(wanted)} cells")
    _interruptible()
    try:
        with open_runner(concurrency) as runner:
            ran = runner.run([c for _, _, c in wanted])
    except KeyboardInterrupt:
        _say("interrupted: stopping what was started")
        return 130
    sides: dict[tuple[int, str], verdicts.Side] = {}
    for (index, side, c), item in zip(wanted, ran):
        sides[(index, side)] = verdicts.Side(c.litellm_version, outcome=item.outcome, not_run=item.not_run,
                                             failed=item.failed)
    results = [verdicts.judge(case, sides[(i, "buggy")], sides.get((i, "fixed"))) for i, case in enumerate(chosen)]
    for result in results:
        click.echo(result.line())
    path = Path(report_path) if report_path else get_settings().out_dir / "corpus-report.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    from datetime import datetime, timezone

    document = verdicts.report(results, generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                               claude_code_eras={".".join(map(str, start)): claude
                                                 for start, claude in CLAUDE_CODE_ERAS},
                               tier_models_default=ERA_MODELS,
                               runs={case.id: {"claude_code": case.run_claude_code,
                                               "tier_models": {t: case.run_models[t] for t in case.cell.tiers},
                                               "gateway_profile": case.gateway_profile or "(the run's default)"}
                                     for case in chosen})
    path.write_text(json.dumps(document, indent=2) + "\n")
    _say(f"report: {path}")
    click.echo(verdicts.score_line(results))
    return 0


COMMANDS = (bisect_command, corpus)

