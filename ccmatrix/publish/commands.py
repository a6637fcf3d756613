"""CLI subcommands of the publishing side: `history`, `diff RUN_A RUN_B`, `publish FILE`.

`register(subparsers)` adds them to an argparse sub-parser set; each sets `func(args) -> int`.
Exit codes: history 0 (2 on error); diff 0 when nothing changed, 1 when cells changed, 2 on a bad reference;
publish 0 published and clean, 1 published and regressed, 2 refused or a publisher failed.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ccmatrix.publish.history import STATUSES, History, HistoryError

SHORT = {"pass": "pass", "fail": "fail", "error": "err", "not_applicable": "n/a", "not_tested": "n/t"}


def _settings(args: argparse.Namespace) -> Any:
    from ccmatrix.settings import Settings

    update = {}
    for field in ("out_dir", "history_dir", "publishers"):
        value = getattr(args, field, None)
        if value is not None:
            update[field] = Path(value) if field.endswith("_dir") else value
    return Settings(**update)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--history-dir", dest="history_dir", help="history directory (default: settings, else <out_dir>/history)")
    parser.add_argument("--out-dir", dest="out_dir", help="output directory (default: settings.out_dir)")


def _quiet_pipe(func):
    """`ccmatrix diff ... | head` must not end in a traceback."""
    import functools
    import os

    @functools.wraps(func)
    def wrapper(args: argparse.Namespace, out=None) -> int:
        try:
            return func(args, out)
        except BrokenPipeError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 0

    return wrapper


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("history", help="list the recorded runs", description="List recorded runs: run id, time, versions, counts per status.")
    _common(p)
    p.add_argument("--limit", type=int, default=0, help="only the N most recent runs")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_quiet_pipe(cmd_history))

    p = subparsers.add_parser("diff", help="what changed between two runs, cell by cell",
                              description="Compare two recorded runs cell by cell (and tier by tier). A run is named by its run id, "
                                          "a unique prefix, `latest` or `latest~N`.")
    _common(p)
    p.add_argument("run_a", metavar="RUN_A")
    p.add_argument("run_b", metavar="RUN_B")
    p.add_argument("--markdown", action="store_true", help="print the markdown summary (for a pull request body)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_quiet_pipe(cmd_diff))

    p = subparsers.add_parser("publish", help="publish an existing matrix JSON file",
                              description="Validate a matrix JSON file and publish it with the configured publishers.")
    _common(p)
    p.add_argument("file", metavar="FILE", type=Path)
    p.add_argument("--publishers", help="comma separated: directory, git (default: settings.publishers)")
    p.set_defaults(func=cmd_publish)


def cmd_history(args: argparse.Namespace, out=None) -> int:
    out = out or sys.stdout
    history = History.from_settings(_settings(args))
    runs = history.runs()
    if args.limit:
        runs = runs[-args.limit:]
    if args.json:
        rows = [e.model_dump(mode="json", exclude={"matrix"}) for e in runs]
        print(json.dumps(rows, indent=2), file=out)
        return 0
    if not runs:
        print(f"no runs recorded under {history.root}", file=out)
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


def cmd_diff(args: argparse.Namespace, out=None) -> int:
    from ccmatrix.publish.regressions import compare

    out = out or sys.stdout
    history = History.from_settings(_settings(args))
    try:
        a = history.resolve(args.run_a)
        b = history.resolve(args.run_b)
    except HistoryError as exc:
        print(f"ccmatrix diff: {exc}", file=sys.stderr)
        return 2
    report = compare(a.matrix, b.matrix)
    if args.json:
        print(report.model_dump_json(indent=2), file=out)
    elif args.markdown:
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


def cmd_publish(args: argparse.Namespace, out=None) -> int:
    from pydantic import ValidationError

    from ccmatrix.matrix import Matrix
    from ccmatrix.publish import PublishRefused, publish_run

    out = out or sys.stdout
    try:
        matrix = Matrix.model_validate_json(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, ValidationError, ValueError) as exc:
        print(f"ccmatrix publish: refused, {args.file} is not a valid matrix: {exc}", file=sys.stderr)
        return 2
    try:
        report = publish_run(matrix, _settings(args))
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
