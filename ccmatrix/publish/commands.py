"""CLI subcommands of the publishing side: `history`, `diff RUN_A RUN_B`, `publish FILE`, `compare-gateways` (click
commands that `ccmatrix.cli` adds to its group; each returns its exit code).

Exit codes: history 0 (2 on error); diff 0 when nothing changed, 1 when cells changed, 2 on a bad reference;
publish 0 published and clean, 1 published and regressed, 2 refused or a publisher failed.
"""
from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from ccmatrix.publish.history import STATUSES, History, HistoryError

SHORT = {"pass": "pass", "fail": "fail", "error": "err", "not_applicable": "n/a", "not_tested": "n/t"}


def _settings(history_dir: Path | None = None, out_dir: Path | None = None, publishers: str | None = None) -> Any:
    from ccmatrix.settings import Settings

    update = {"history_dir": history_dir, "out_dir": out_dir, "publishers": publishers}
    return Settings(**{field: value for field, value in update.items() if value is not None})


def _common(command):
    """--history-dir and --out-dir."""
    command = click.option("--out-dir", type=click.Path(path_type=Path), default=None,
                           help="output directory (default: settings.out_dir)")(command)
    return click.option("--history-dir", type=click.Path(path_type=Path), default=None,
                        help="history directory (default: settings, else <out_dir>/history)")(command)


def _gateway(command):
    """--gateway: whose history (each gateway keeps its own; History.for_gateway)."""
    return click.option("--gateway", default="litellm", show_default=True, metavar="NAME",
                        help="the gateway whose runs to read (each gateway under test keeps its own history)")(command)


def _history(history_dir: Path | None, out_dir: Path | None, gateway: str, command: str) -> History | None:
    """The gateway's history; None (after one line on stderr) for a gateway with no plug-in."""
    from gateways import registry

    try:
        registry.get(gateway)
    except ValueError as error:
        print(f"ccmatrix {command}: {error}", file=sys.stderr)
        return None
    return History.for_gateway(_settings(history_dir, out_dir), gateway)


def _quiet_pipe(func):
    """`ccmatrix diff ... | head` must not end in a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs) -> int:
        try:
            return func(*args, **kwargs)
        except BrokenPipeError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 0

    return wrapper


@click.command("history", short_help="List the recorded runs, or one cell across them.")
@_common
@click.option("--feature", default=None, metavar="ID", help="with --provider: one cell's status in every kept run")
@click.option("--provider", default=None, metavar="ID", help="with --feature: one cell's status in every kept run")
@click.option("--limit", type=int, default=0, help="only the N most recent runs")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@_gateway
@_quiet_pipe
def history(history_dir: Path | None, out_dir: Path | None, feature: str | None, provider: str | None, limit: int,
            as_json: bool, gateway: str = "litellm") -> int:
    """List recorded runs: run id, time, versions, counts per status. With --feature and --provider: that cell in
    every kept run, newest first — its status and its tiers' per (LiteLLM, Claude Code) version pair, and the
    automatic bisect's result where a run has one."""
    out = sys.stdout
    recorded = _history(history_dir, out_dir, gateway, "history")
    if recorded is None:
        return 2
    if feature or provider:
        if not (feature and provider):
            print("ccmatrix history: --feature and --provider go together (one cell)", file=sys.stderr)
            return 2
        return _cell_history(recorded, feature, provider, limit, as_json)
    runs = recorded.runs()
    if limit:
        runs = runs[-limit:]
    if as_json:
        rows = [e.model_dump(mode="json", exclude={"matrix"}) for e in runs]
        print(json.dumps(rows, indent=2), file=out)
        return 0
    if not runs:
        print(f"no runs recorded under {recorded.root}", file=out)
        return 0
    header = ["RUN ID", "GENERATED (UTC)", "LITELLM", "CLAUDE CODE", *[SHORT[s] for s in STATUSES], "PUBLISHED"]
    table = [header]
    for e in runs:
        table.append([
            e.run_id, e.generated_at.strftime("%Y-%m-%d %H:%M:%S"), e.litellm_version, e.claude_code_version,
            *[str(e.counts.get(s, 0)) for s in STATUSES], "yes" if e.published else "no",
        ])
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip(), file=out)
    return 0


def _cell_history(recorded: History, feature: str, provider: str, limit: int, as_json: bool) -> int:
    from ccmatrix.publish.timeline import cell_history

    out = sys.stdout
    rows = cell_history(recorded.runs(), feature, provider)
    if limit:
        rows = rows[:limit]
    if as_json:
        print(json.dumps({"feature": feature, "provider": provider,
                          "runs": [r.model_dump(mode="json", exclude_none=True) for r in rows]}, indent=2), file=out)
        return 0
    if not rows:
        print(f"no kept run has the cell {feature} × {provider} (under {recorded.root})", file=out)
        return 0
    print(f"{feature} × {provider}: {len(rows)} run(s), newest first", file=out)
    header = ["GENERATED (UTC)", "LITELLM", "CLAUDE CODE", "STATUS", "TIERS", "RUN ID"]
    table = [header]
    for r in rows:
        tiers = " ".join(f"{t}={SHORT.get(s, s)}" for t, s in r.tiers.items())
        table.append([r.generated_at.strftime("%Y-%m-%d %H:%M:%S"), r.litellm_version, r.claude_code_version,
                      SHORT.get(r.status, r.status) + (f" ({r.cause})" if r.cause else ""), tiers or "-",
                      r.run_id + ("" if r.published else " (not published)")])
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row, r in zip(table, [None, *rows]):
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip(), file=out)
        if r is not None and r.bisect is not None:
            print(f"    bisect: {r.bisect.text}", file=out)
    return 0


@click.command("diff", short_help="What changed between two runs, cell by cell.")
@_common
@click.argument("run_a", metavar="RUN_A")
@click.argument("run_b", metavar="RUN_B")
@click.option("--markdown", is_flag=True, help="print the markdown summary (for a pull request body)")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@_gateway
@_quiet_pipe
def diff(history_dir: Path | None, out_dir: Path | None, run_a: str, run_b: str, markdown: bool,
         as_json: bool, gateway: str = "litellm") -> int:
    """Compare two recorded runs cell by cell (and tier by tier). A run is named by its run id, a unique prefix,
    `latest` or `latest~N`."""
    from ccmatrix.publish.regressions import compare

    out = sys.stdout
    recorded = _history(history_dir, out_dir, gateway, "diff")
    if recorded is None:
        return 2
    try:
        a = recorded.resolve(run_a)
        b = recorded.resolve(run_b)
    except HistoryError as exc:
        print(f"ccmatrix diff: {exc}", file=sys.stderr)
        return 2
    report = compare(a.matrix, b.matrix)
    if as_json:
        print(report.model_dump_json(indent=2), file=out)
    elif markdown:
        print(report.markdown(), file=out, end="")
    else:
        print(f"A: {a.run_id}  LiteLLM {a.litellm_version}  Claude Code {a.claude_code_version}  {a.generated_at.isoformat()}", file=out)
        print(f"B: {b.run_id}  LiteLLM {b.litellm_version}  Claude Code {b.claude_code_version}  {b.generated_at.isoformat()}", file=out)
        if not report.changes:
            print("no cell changed", file=out)
        for c in report.changes:
            line = f"{c.feature} × {c.provider}: {c.before or '-'} -> {c.after or '-'}  [{c.kind}]"
            if c.cause:
                line += f"  cause: {c.cause}"
            if c.error and c.after not in (None, "pass"):
                line += f"  {' '.join(c.error.split())[:160]}"
            print(line, file=out)
            for t in c.tiers:
                tier_line = f"    {t.tier}: {t.before or '-'} -> {t.after or '-'}" + (f"  ({t.cause})" if t.cause else "")
                if t.error and t.after not in (None, "pass"):
                    tier_line += f"  {' '.join(t.error.split())[:120]}"
                print(tier_line, file=out)
        print(f"{len(report.changes)} cell(s) changed; B is {report.status} against A", file=out)
    return 1 if report.changes else 0


@click.command("publish", short_help="Publish an existing matrix JSON file.")
@_common
@click.argument("file", metavar="FILE", type=click.Path(path_type=Path))
@click.option("--publishers", default=None, help="comma separated: directory, git (default: settings.publishers)")
def publish(history_dir: Path | None, out_dir: Path | None, file: Path, publishers: str | None) -> int:
    """Validate a matrix JSON file and publish it with the configured publishers."""
    from pydantic import ValidationError

    from ccmatrix.matrix import Matrix
    from ccmatrix.publish import PublishRefused, publish_run

    out = sys.stdout
    try:
        matrix = Matrix.model_validate_json(Path(file).read_text(encoding="utf-8"))
    except (OSError, ValidationError, ValueError) as exc:
        print(f"ccmatrix publish: refused, {file} is not a valid matrix: {exc}", file=sys.stderr)
        return 2
    try:
        report = publish_run(matrix, _settings(history_dir, out_dir, publishers))
    except PublishRefused as exc:
        print(f"ccmatrix publish: refused: {exc.reason}", file=sys.stderr)
        return 2
    for target in report.targets:
        print(f"wrote {target}", file=out)
    for skipped in report.skipped:
        print(f"skipped {skipped}", file=out)
    for problem in report.problems:
        print(f"problem: {problem}", file=sys.stderr)
    if report.regression is not None:
        print(report.regression.markdown(), file=out, end="")
    if report.problems:
        return 2
    return report.regression.exit_code if report.regression else 0


@click.command("compare-gateways", short_help="Write 'Which gateway keeps which feature' from a run's index.")
@click.option("--index", "index_path", type=click.Path(path_type=Path), default=None, metavar="FILE",
              help="the run's index of gateway matrices (default: <out_dir>/compatibility-matrix.index.json)")
@click.option("--out-dir", type=click.Path(path_type=Path), default=None,
              help="output directory (default: settings.out_dir)")
@click.option("--readme", type=click.Path(path_type=Path), default=None, metavar="FILE",
              help="write the section into FILE, between its markers (appended with them when absent); "
                   "without it the section is printed")
def compare_gateways(index_path: Path | None, out_dir: Path | None, readme: Path | None) -> int:
    """The README section "Which gateway keeps which feature" from a published run of several gateways: per feature
    and gateway, the columns that pass out of those it applies to, and the others by status; dated, with each
    gateway's release and profile. Exit codes: 0 written, 2 the index or a matrix could not be read or validated."""
    from ccmatrix.publish.gateway_comparison import CompareError, keeps_section, load_run, write_section

    index_path = index_path or Path(_settings(out_dir=out_dir).out_dir) / "compatibility-matrix.index.json"
    try:
        section = keeps_section(*load_run(index_path))
        if readme is None:
            click.echo(section, nl=False)
        else:
            write_section(readme, section)
            click.echo(f"wrote {readme}", err=True)
    except (CompareError, OSError) as error:
        click.echo(f"refused: {' '.join(str(error).split())}", err=True)
        return 2
    return 0
