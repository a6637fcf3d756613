"""The full matrix (every row × every provider × every tier) against the emulator: wall time vs the ideal.

    .venv/bin/python bench/full_matrix.py [--single] [--args "--features ..."]

Prints the total wall time, the sum of CLI CPU seconds (from each tier's evidence), the ideal (that sum ÷ cores)
and the ratio; with --single also runs one worker of concurrency 1 and prints the speed-up. Targets (issue 4):
total ≤ 1.15 × ideal, and ≥ 1.8 × faster than the single-slot run. Figures, not assertions.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(concurrency: int, extra: list[str]) -> tuple[float, float, dict, float]:
    out = Path(tempfile.mkdtemp(prefix="ccmatrix-bench-"))
    env = {**os.environ, "CCMATRIX_OUT_DIR": str(out)}
    cpu_before = _children_cpu()
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "ccmatrix.cli", "run", "--concurrency", str(concurrency), *extra],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    total_cpu = _children_cpu() - cpu_before  # the whole tree: Redis, Celery, proxies, emulators, recorders, CLIs
    if done.returncode not in (0, 1):
        print(done.stderr[-2000:])
        raise SystemExit("the run failed")
    matrix = json.loads((out / "compatibility-matrix.json").read_text())
    cpu = sum((tier.get("evidence") or {}).get("extra", {}).get("cli_cpu_s", 0)
              for row in matrix["features"] for cell in row["providers"].values()
              for tier in cell.get("tiers", {}).values())
    return wall, cpu, matrix["report"].get("counts", {}), total_cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--single", action="store_true", help="also run with one worker slot, for comparison")
    parser.add_argument("--args", default="", help="extra `ccmatrix run` arguments")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    extra = shlex.split(args.args)
    wall, cpu, counts, total_cpu = run(cores, extra)
    ideal = cpu / cores
    print(f"cells by status:           {counts}")
    print(f"total wall time:           {wall:8.1f} s  (concurrency {cores}, includes Redis/worker start, proxy boots)")
    print(f"sum of CLI CPU time:       {cpu:8.1f} s")
    print(f"ideal (CPU sum / {cores} cores): {ideal:8.1f} s")
    print(f"wall / ideal:              {wall / ideal if ideal else float('nan'):8.2f}  (target <= 1.15)")
    print(f"CPU of the whole run:      {total_cpu:8.1f} s  (CLI {cpu:.1f} s + gateway, emulator, recorder, Celery "
          f"{total_cpu - cpu:.1f} s)")
    print(f"wall / (all CPU / cores):  {wall / (total_cpu / cores) if total_cpu else float('nan'):8.2f}  "
          "(how busy the cores were)")
    if args.single:
        wall1, _, _, _ = run(1, extra)
        print(f"single-slot wall time:     {wall1:8.1f} s")
        print(f"speed-up vs single slot:   {wall1 / wall:8.2f}x (target >= 1.8)")


if __name__ == "__main__":
    main()
