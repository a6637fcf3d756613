"""Automatic bisect of the cells that went green→red since the previous published run (`ccmatrix bisect-regressions`,
`ccmatrix run --bisect-regressions`, the CronJob's second step).

1. `plan(report, baseline, new)`: for each green_to_red cell of the regression report (ccmatrix.publish.regressions,
   the same comparison the publisher made), which axis and which range: the two runs' LiteLLM releases when they
   differ (Claude Code pinned at the new run's), else their Claude Code releases (LiteLLM pinned); the same releases
   on both runs: no bisect (the change is elsewhere). Only the tiers that went pass → fail are probed; the run's
   `--tier-models` overrides and gateway profile are kept.
2. `run(plans, runner)`: each plan through the search of `ccmatrix bisect` (ccmatrix.bisect over
   ccmatrix.probes.bisect_probe: each probe one Celery job). When both releases changed and the cell already fails at
   the old LiteLLM with the new Claude Code, the Claude Code axis is searched instead (LiteLLM pinned at the old one).
3. The results are kept with the run's cells in the history (RunEntry.bisects) and the page and the regression
   report in the out dir are rewritten to show them (ccmatrix.publish.refresh_outputs).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from ccmatrix import probes
from ccmatrix.bisect import BisectError, bisect as search, releases_between
from ccmatrix.publish.history import CellBisect, History, HistoryError, cell_key
from ccmatrix.publish.regressions import RegressionReport, compare

# The seams the tests stub: where cells run (ccmatrix.probes.CeleryCells: a context manager with `.slots` and
# `.run(cells) -> [Ran]`) and where each axis's release list comes from.
open_runner = probes.CeleryCells
final_releases = probes.final_releases


@dataclass
class Plan:
    feature: str
    provider: str
    tiers: list[str] = field(default_factory=list)
    axis: str | None = None  # None: no bisect (`skip` says why)
    good: str | None = None  # the baseline's release on the axis
    bad: str | None = None  # the new run's release on the axis
    pinned: str | None = None  # the other axis's release
    tier_models: dict[str, str] | None = None
    gateway_profile: str | None = None
    skip: CellBisect | None = None
    fallback: "Plan | None" = None  # both releases changed: the Claude Code axis, if the LiteLLM one cannot start

    @property
    def key(self) -> str:
        return cell_key(self.feature, self.provider)

    def cell(self, version: str) -> probes.Cell:
        litellm, claude = (version, self.pinned) if self.axis == "litellm" else (self.pinned, version)
        return probes.Cell(feature=self.feature, provider=self.provider, litellm_version=litellm,
                           claude_code_version=claude, tiers=self.tiers or None, tier_models=self.tier_models,
                           gateway_profile=self.gateway_profile)

    def describe(self) -> str:
        if self.axis is None:
            return f"{self.key}: {self.skip.text if self.skip else 'no bisect'}"
        other = "Claude Code" if self.axis == "litellm" else "LiteLLM"
        tool = "LiteLLM" if self.axis == "litellm" else "Claude Code"
        tiers = f", tiers {','.join(self.tiers)}" if self.tiers else ""
        models = f", --tier-models {','.join(f'{t}={m}' for t, m in self.tier_models.items())}" if self.tier_models else ""
        profile = f", gateway profile {self.gateway_profile}" if self.gateway_profile else ""
        return (f"{self.key}: {tool} {self.good} (good) … {self.bad} (bad), {other} {self.pinned} pinned"
                f"{tiers}{models}{profile}")


def _no_bisect(feature: str, provider: str, outcome: str, text: str, **extra: Any) -> CellBisect:
    return CellBisect(feature=feature, provider=provider, outcome=outcome, text=text,
                      bisected_at=datetime.now(timezone.utc), **extra)


def _run_tier_models(document: dict[str, Any]) -> dict[str, str] | None:
    """The run's `--tier-models` overrides (the manifest's own tier policies are planned again, per probe)."""
    chosen = {tier: m.get("model") for tier, m in (document.get("tier_models") or {}).items()
              if isinstance(m, dict) and m.get("source") == "--tier-models" and m.get("model")}
    return chosen or None


def _profile(document: dict[str, Any]) -> str | None:
    profile = document.get("gateway_profile")
    return profile.get("name") if isinstance(profile, dict) else None


def plan(report: RegressionReport, baseline: dict[str, Any], new: dict[str, Any]) -> list[Plan]:
    """One Plan per green_to_red cell of `report` (made by comparing `baseline` with `new`)."""
    from ccmatrix.local_source import parse_spec

    old_lite, new_lite = baseline.get("litellm_version"), new.get("litellm_version")
    old_cc, new_cc = baseline.get("claude_code_version"), new.get("claude_code_version")
    plans = []
    for change in report.green_to_red:
        tiers = [t.tier for t in change.tiers if t.before == "pass" and t.after == "fail"]
        common = dict(feature=change.feature, provider=change.provider, tiers=tiers,
                      tier_models=_run_tier_models(new), gateway_profile=_profile(new))
        base = dict(baseline_run_id=baseline.get("run_id"), tiers=tiers)
        local = [v for v in (old_lite, new_lite) if parse_spec(v) is not None]
        if old_lite == new_lite and old_cc == new_cc:
            elsewhere = "the change is elsewhere"
            if _profile(baseline) != _profile(new):
                elsewhere += f" (the gateway profile changed: {_profile(baseline)} → {_profile(new)})"
            else:
                elsewhere += " (the emulator, the checks or the manifest changed, or the cell is flaky)"
            skip = _no_bisect(change.feature, change.provider, "same_releases",
                              f"no bisect: the same releases (LiteLLM {new_lite}, Claude Code {new_cc}) on both runs "
                              f"— {elsewhere}", **base)
            plans.append(Plan(**common, skip=skip))
        elif old_lite != new_lite and local:
            skip = _no_bisect(change.feature, change.provider, "could_not",
                              f"could not bisect: a local LiteLLM source ({local[0]}) has no releases to search",
                              **base)
            plans.append(Plan(**common, skip=skip))
        elif old_lite != new_lite:
            fallback = (Plan(**common, axis="claude-code", good=old_cc, bad=new_cc, pinned=old_lite)
                        if old_cc != new_cc else None)
            plans.append(Plan(**common, axis="litellm", good=old_lite, bad=new_lite, pinned=new_cc, fallback=fallback))
        else:
            plans.append(Plan(**common, axis="claude-code", good=old_cc, bad=new_cc, pinned=new_lite))
    return plans


def _found_text(result, axis: str, bad: str) -> str:
    tool = "LiteLLM" if axis == "litellm" else "Claude Code"
    if result.direction == "regression":
        verb = "broke in" if axis == "litellm" else "changed with"
        text = f"{verb} {tool} {result.first} (last good: {result.last})"
    else:  # the new run went back to an older release than the baseline's
        text = (f"fixed in {tool} {result.first} (last bad: {result.last}): this run is at the older {bad}, "
                f"before the fix")
    if result.untested:
        text += f" — or any of the untested {', '.join(result.untested)}"
    return text


def _one(plan: Plan, runner, width: int, say: Callable[[str], None], baseline_run_id: str | None) -> CellBisect:
    base = dict(feature=plan.feature, provider=plan.provider, axis=plan.axis, good=plan.good, bad=plan.bad,
                pinned=plan.pinned, tiers=plan.tiers, baseline_run_id=baseline_run_id)
    try:
        releases = releases_between(final_releases(plan.axis), plan.good, plan.bad)
    except (BisectError, ValueError, OSError) as error:
        return _no_bisect(outcome="could_not", text=f"could not bisect: {probes.one_line(error, 300)}", **base)
    say(f"bisect {plan.describe()}: {len(releases)} releases")

    def probe(versions: list[str]):
        say(f"  probing {', '.join(versions)} ...")
        return probes.bisect_probe(runner, plan.cell)(versions)

    def shown(p) -> None:
        said = p.status or p.verdict
        say(f"  probe {p.version}{' (retry)' if p.attempt > 1 else ''}: {said}"
            + (f" [{p.cause}]" if p.cause else "") + (f" — {probes.one_line(p.reason, 160)}" if p.reason else ""))

    try:
        result = search(releases, plan.good, plan.bad, probe, width=width, on_probe=shown)
    except BisectError as error:
        why = probes.one_line(error, 300).replace("--good ", "the good end ").replace("--bad ", "the bad end ")
        return _no_bisect(outcome="could_not", text=f"could not bisect: {why}", **base)
    return CellBisect(outcome="found", text=_found_text(result, plan.axis, plan.bad), direction=result.direction,
                      first=result.first, last=result.last, untested=result.untested, probes=len(result.probes),
                      releases=len(result.releases), notes_url=probes.notes_url(plan.axis, result.first),
                      bisected_at=datetime.now(timezone.utc), **base)


def run(plans: list[Plan], runner, *, width: int | None = None, say: Callable[[str], None] = print,
        baseline_run_id: str | None = None) -> dict[str, CellBisect]:
    """Bisect each plan on `runner` (its skip, as is, when it has no axis); cell_key → result."""
    width = max(1, width or getattr(runner, "slots", 1) or 1)
    results: dict[str, CellBisect] = {}
    for item in plans:
        if item.axis is None:
            results[item.key] = item.skip
            continue
        found = _one(item, runner, width, say, baseline_run_id)
        if found.outcome == "could_not" and item.fallback is not None and "is not good" in found.text:
            say(f"{item.key}: {found.text}; both releases changed: searching the Claude Code releases instead")
            second = _one(item.fallback, runner, width, say, baseline_run_id)
            if second.outcome == "could_not":
                second.text = f"{found.text}; on the Claude Code axis: {second.text.removeprefix('could not bisect: ')}"
            found = second
        results[item.key] = found
    return results


def regressions_of(history: History, run_ref: str | None) -> tuple[Any, Any, RegressionReport]:
    """The run (default: the last published one), the published run before it and the report comparing them.
    A HistoryError when there is no such run; the baseline is None when nothing was published before it."""
    entry = history.resolve(run_ref) if run_ref else history.last_published()
    if entry is None:
        raise HistoryError(f"no published run recorded under {history.root}")
    baseline = history.published_before(entry.run_id)
    report = compare(baseline.matrix if baseline else None, entry.matrix)
    return entry, baseline, report


def bisect_regressions(settings: Any, run_ref: str | None = None, *, concurrency: int | None = None,
                       parallel: int | None = None, again: bool = False,
                       say: Callable[[str], None] = print, log: Callable[[str], None] | None = None) -> int:
    """The command's body: plan, bisect, store, rewrite the page and the report. Exit code 0 done (whatever was
    found), 2 no such run, 130 interrupted. `say`: the result lines; `log`: progress (default: `say`)."""
    from ccmatrix.publish import refresh_outputs

    log = log or say
    history = History.from_settings(settings)
    try:
        entry, baseline, report = regressions_of(history, run_ref)
    except HistoryError as error:
        say(f"bisect-regressions: {error}")
        return 2
    if baseline is None:
        say(f"run {entry.run_id}: no published run before it, nothing to compare with: nothing to bisect")
        return 0
    plans = plan(report, baseline.matrix, entry.matrix)
    say(f"run {entry.run_id} (LiteLLM {entry.litellm_version}, Claude Code {entry.claude_code_version}) against "
        f"{baseline.run_id} (LiteLLM {baseline.litellm_version}, Claude Code {baseline.claude_code_version}): "
        f"{len(plans)} cell(s) went green→red")
    if not again:
        done = [p for p in plans if p.key in entry.bisects]
        for item in done:
            say(f"{item.key}: already bisected: {entry.bisects[item.key].text} (--again to redo)")
        plans = [p for p in plans if p.key not in entry.bisects]
    if not plans:
        return 0
    for item in plans:
        log(f"plan {item.describe()}")
    results: dict[str, CellBisect] = {k: p.skip for p in plans if p.axis is None for k in [p.key]}
    searched = [p for p in plans if p.axis is not None]
    if searched:
        try:
            with open_runner(concurrency) as runner:
                results.update(run(searched, runner, width=parallel, say=log, baseline_run_id=baseline.run_id))
        except KeyboardInterrupt:
            say("interrupted: stopping what was started; nothing stored")
            return 130
    history.store_bisects(entry.run_id, results)
    for key in [p.key for p in plans]:
        say(f"{key}: {results[key].text}")
    try:
        for path in refresh_outputs(settings, entry.run_id):
            log(f"rewrote {path}")
    except (OSError, HistoryError) as error:
        say(f"bisect-regressions: the results are stored, but the page could not be rewritten: {error}")
    return 0


# --- the click command (ccmatrix.cli adds it to its group) --------------------------------------------------------
def _command():
    import click

    @click.command("bisect-regressions",
                   short_help="Bisect the cells that went green→red since the previous published run.")
    @click.option("--run", "run_ref", default=None, metavar="RUN_ID",
                  help="The run (id, unique prefix, latest, latest~N). Default: the last published run.")
    @click.option("--again", is_flag=True, help="Bisect again the cells that already have a result.")
    @click.option("--concurrency", type=int, default=None, metavar="N",
                  help="Local worker slots, and probes sent at once. Default: the number of cores.")
    @click.option("--parallel", type=int, default=None, metavar="K",
                  help="Probes per step (default: the worker's slots). 1: one midpoint at a time.")
    @click.option("--out-dir", type=click.Path(), default=None, help="Output directory (default: settings.out_dir).")
    @click.option("--history-dir", type=click.Path(), default=None,
                  help="History directory (default: settings, else <out_dir>/history).")
    def bisect_regressions_command(run_ref, again, concurrency, parallel, out_dir, history_dir) -> int:
        """Compare the run with the published run before it (the regression report's comparison) and bisect each
        cell that went green→red: over the LiteLLM releases between the two runs' when they differ (Claude Code
        pinned at the run's), else over the Claude Code releases (LiteLLM pinned); the same releases on both runs: no
        bisect (the change is elsewhere). Each probe is one Celery job on the local stack `ccmatrix bisect` uses. The
        result ("broke in LiteLLM X", "changed with Claude Code Y", "could not bisect: why") is kept with the cell in
        the history, and the page and regression-report.md in the out dir are rewritten to show it.

        Exit codes: 0 done (whatever was found), 2 no such run, 130 interrupted.
        """
        import signal

        from ccmatrix.publish.commands import _settings

        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        settings = _settings(history_dir, out_dir)
        return bisect_regressions(settings, run_ref, concurrency=concurrency, parallel=parallel, again=again,
                                  say=click.echo, log=lambda line: click.echo(line, err=True))

    return bisect_regressions_command


COMMAND = _command()
