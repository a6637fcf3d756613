"""The matrix with realistic provider latency at several concurrencies: how close the wall time gets to the
latency-bound ideal, the memory it takes and the per-job overhead.

    .venv/bin/python bench/latency.py [--sizes 2,8,16,32,2x16] [--features F1,F2] [--providers P1,P2]
                                      [--latency realistic] [--args "--tiers haiku"]

Each size is one `ccmatrix run` (its own Redis and worker(s)) with CCMATRIX_EMULATOR_LATENCY set; `WxC` starts W
workers of concurrency C (`--workers W --concurrency C`), a plain number one worker. Per size it prints:
- wall: the run's wall time (includes Redis/worker start and the gateways' boots);
- ideal: Σ per-tier wall time (evidence.extra.tier_ms) ÷ slots (the run if every slot were busy all the time), or
  the CPU floor (all CPU the run's process tree used ÷ cores) when that is higher; ratio = wall ÷ ideal (target
  ≤ 1.25 at 16 slots);
- peak memory: the largest sum of PSS over the run's process tree (sampled every second);
- per-job overhead: for each cell that ran a tier, its Celery runtime (the worker's "succeeded in" line) minus the
  sum of its tiers' whole wall times, median and p95 over the warm jobs (target median ≤ 100 ms); the cold jobs — the
  first of each pool process, which also started its sandbox, emulator and gateway — are counted apart (their
  median, in seconds): that cost is per slot, not per job. Figures, not assertions.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SUCCEEDED = re.compile(r"INFO/(?P<proc>[^\]]+)\] Task ccmatrix\.run_cell\[(?P<id>[^\]]+)\] succeeded in (?P<s>[0-9.]+)s")


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """"2,8,2x16" -> [(1, 2), (1, 8), (2, 16)] as (workers, concurrency each)."""
    sizes = []
    for part in text.split(","):
        part = part.strip().lower()
        workers, _, each = part.rpartition("x")
        try:
            sizes.append((int(workers or 1), int(each)))
        except ValueError:
            raise SystemExit(f"bench/latency.py: --sizes: {part!r} is not N or WxN") from None
        if sizes[-1][0] < 1 or sizes[-1][1] < 1:
            raise SystemExit(f"bench/latency.py: --sizes: {part!r} needs positive numbers")
    return sizes


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _tree(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = {pid}, {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class PeakMemory(threading.Thread):
    """The largest PSS sum over a process tree, sampled every `every_s` seconds until stopped."""

    def __init__(self, pid: int, every_s: float = 1.0):
        super().__init__(daemon=True)
        self.pid, self.every_s, self.peak_kb = pid, every_s, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.every_s):
            self.peak_kb = max(self.peak_kb, sum(_pss_kb(p) for p in _tree(self.pid)))


def job_runtimes(log_dir: Path, run_id: str) -> dict[str, tuple[float, bool]]:
    """task id -> (seconds, cold), from every worker log's "succeeded in" lines of this run; cold: the first job of
    its pool process (the workers are new for each run), which started that process's sandbox, emulator and gateway."""
    found: dict[str, tuple[float, bool]] = {}
    for log in log_dir.glob("ccmatrix-local*.log"):
        seen: set[str] = set()
        for match in SUCCEEDED.finditer(log.read_text(errors="replace")):
            if match["id"].startswith(run_id + ":"):
                found[match["id"]] = (float(match["s"]), match["proc"] not in seen)
                seen.add(match["proc"])
    return found


def tier_wall_s(tier: dict) -> float | None:
    """A tier's whole wall time (evidence.extra.tier_ms: every CLI run, direct call and capture read), else its
    primary CLI run's (duration_ms, from workers older than tier_ms)."""
    whole = ((tier.get("evidence") or {}).get("extra") or {}).get("tier_ms")
    if whole is not None:
        return whole / 1000
    return tier["duration_ms"] / 1000 if tier.get("duration_ms") is not None else None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def run_size(workers: int, concurrency: int, latency: str, extra: list[str]) -> dict:
    from ccmatrix.settings import get_settings

    out = Path(tempfile.mkdtemp(prefix="ccmatrix-bench-latency-"))
    env = {**os.environ, "CCMATRIX_OUT_DIR": str(out), "CCMATRIX_EMULATOR_LATENCY": latency}
    cmd = [sys.executable, "-m", "ccmatrix.cli", "run", "--concurrency", str(concurrency), "--workers", str(workers),
           *extra]
    cpu_before = _children_cpu()
    started = time.monotonic()
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = PeakMemory(process.pid)
    sampler.start()
    stdout, stderr = process.communicate()
    wall = time.monotonic() - started
    sampler.done.set()
    sampler.join()
    cpu = _children_cpu() - cpu_before
    if process.returncode not in (0, 1, 4) or not (out / "compatibility-matrix.json").exists():
        print(stderr[-2000:], file=sys.stderr)
        raise SystemExit(f"bench/latency.py: the run at {workers}x{concurrency} published nothing")
    summary = json.loads(stdout)
    matrix = json.loads((out / "compatibility-matrix.json").read_text())
    tier_wall, overheads, cold = 0.0, [], []
    runtimes = job_runtimes(get_settings().cache_dir / "logs", summary["run_id"])
    for row in matrix["features"]:
        for provider, cell in row["providers"].items():
            ran = [tier_wall_s(t) for t in cell.get("tiers", {}).values()
                   if t.get("status") != "not_applicable" and tier_wall_s(t) is not None]
            tier_wall += sum(ran)
            runtime, first = runtimes.get(f"{summary['run_id']}:{row['id']}:{provider}", (None, False))
            if ran and runtime is not None:
                (cold if first else overheads).append(max(0.0, runtime - sum(ran)))
    slots = workers * concurrency
    cores = os.cpu_count() or 1
    ideal = max(tier_wall / slots, cpu / cores)
    return {"size": f"{workers}x{concurrency}" if workers > 1 else str(concurrency), "slots": slots, "wall": wall,
            "ideal": ideal, "bound": "latency" if tier_wall / slots >= cpu / cores else "cpu",
            "tier_wall": tier_wall, "cpu": cpu, "peak_gib": sampler.peak_kb / 1024 / 1024,
            "overhead": overheads, "cold": cold, "counts": matrix["report"].get("counts", {})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="2,8,16,32,2x16", help="concurrencies: N (one worker) or WxN (W workers)")
    parser.add_argument("--features", default=None, help="comma-separated rows (default: all)")
    parser.add_argument("--providers", default=None, help="comma-separated columns (default: all)")
    parser.add_argument("--latency", default="realistic", help="CCMATRIX_EMULATOR_LATENCY for the runs")
    parser.add_argument("--args", default="", help="more `ccmatrix run` arguments, e.g. \"--tiers haiku\"")
    args = parser.parse_args()
    sizes = parse_sizes(args.sizes)
    from emulator.latency import LatencySpecError, parse_spec

    try:
        parse_spec(args.latency)
    except LatencySpecError as error:
        raise SystemExit(f"bench/latency.py: {error}") from None
    extra = shlex.split(args.args)
    if args.features:
        extra += ["--features", args.features]
    if args.providers:
        extra += ["--providers", args.providers]
    from ccmatrix.sizing import mem_available_mb

    total_mb = next((int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                     if line.startswith("MemTotal:")), 0)
    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC · {os.cpu_count()} cores, {total_mb / 1024:.1f} GiB "
          f"({mem_available_mb() / 1024:.1f} GiB available) · latency {args.latency} · "
          f"features {args.features or 'all'} · providers {args.providers or 'all'} {' '.join(shlex.split(args.args))}")
    header = (f"{'size':>6} {'slots':>5} {'wall s':>8} {'ideal s':>8} {'bound':>7} {'ratio':>6} {'peak GiB':>8} "
              f"{'ovh med ms':>10} {'ovh p95 ms':>10} {'warm jobs':>9} {'cold med s':>10}  cells")
    print(header)
    for workers, concurrency in sizes:
        r = run_size(workers, concurrency, args.latency, extra)
        med = statistics.median(r["overhead"]) * 1000 if r["overhead"] else float("nan")
        p95 = percentile(r["overhead"], 0.95) * 1000 if r["overhead"] else float("nan")
        cold = statistics.median(r["cold"]) if r["cold"] else float("nan")
        print(f"{r['size']:>6} {r['slots']:>5} {r['wall']:>8.1f} {r['ideal']:>8.1f} {r['bound']:>7} "
              f"{r['wall'] / r['ideal'] if r['ideal'] else float('nan'):>6.2f} {r['peak_gib']:>8.2f} {med:>10.0f} "
              f"{p95:>10.0f} {len(r['overhead']):>9} {cold:>10.1f}  {r['counts']} "
              f"(Σ tier wall {r['tier_wall']:.0f} s, CPU {r['cpu']:.0f} s)", flush=True)
    print("targets: ratio <= 1.25 at 16 slots; per-job overhead median <= 100 ms at every size")


if __name__ == "__main__":
    main()
