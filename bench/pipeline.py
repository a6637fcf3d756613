"""Print the pipeline's figures: proxy boot, median CLI run, one cell end to end, per-job overhead.

    .venv/bin/python bench/pipeline.py [--runs 5]

Figures, not assertions: run it on the target machine and compare with the notes (~10 s boot, ~1 s CLI run).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ccmatrix.manifest import alias_for, load_manifest  # noqa: E402
from ccmatrix.provision import ensure_claude, ensure_litellm  # noqa: E402
from ccmatrix.settings import get_settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    settings = get_settings()
    manifest = load_manifest()
    claude = ensure_claude(settings.cache_dir, manifest.claude_code_version)
    ensure_litellm(settings.cache_dir, manifest.litellm_version)

    from worker.driver import run_cli
    from worker.environment import environment_for, shutdown_all

    env = environment_for(settings, real=False)
    t0 = time.monotonic()
    env.ensure_started()
    sandbox_s = time.monotonic() - t0
    t0 = time.monotonic()
    proxy = env.proxy(manifest, manifest.litellm_version)
    boot_s = time.monotonic() - t0
    model = alias_for(manifest.tiers["haiku"], manifest.providers[0].id)
    durations, cpu = [], []
    for i in range(args.runs + 1):
        run = run_cli(claude, prompt="Reply with exactly the word: BENCH", model=model, base_url=proxy.url,
                      api_key=proxy.master_key, sandbox=env.sandbox)
        if i == 0:
            first = run.duration_ms
            continue  # the proxy's first request pays its lazy imports
        durations.append(run.duration_ms)
        cpu.append(run.cpu_s)
    print(f"sandbox + emulator start:   {sandbox_s * 1000:8.0f} ms")
    print(f"proxy boot to alive:        {boot_s * 1000:8.0f} ms")
    print(f"first CLI run after boot:   {first:8.0f} ms")
    print(f"median CLI run (n={len(durations)}):     {statistics.median(durations):8.0f} ms  "
          f"(CPU {statistics.median(cpu):.2f} s)")

    from ccmatrix.contract import CellJob
    from worker.cell import run_cell

    job = CellJob(run_id="bench", feature="basic_messaging_non_streaming", provider=manifest.providers[0].id,
                  tiers=list(manifest.tiers), litellm_version=manifest.litellm_version,
                  claude_code_version=manifest.claude_code_version, manifest=manifest.model_dump(mode="json"))
    t0 = time.monotonic()
    cell = run_cell(job, settings)
    cell_s = time.monotonic() - t0
    inside = sum(t.duration_ms or 0 for t in cell.tiers.values()) / 1000
    print(f"one cell, 3 tiers, warm:    {cell_s * 1000:8.0f} ms  status={cell.status.value}")
    print(f"  of which tier runs:       {inside * 1000:8.0f} ms")
    print(f"  per-job overhead:         {(cell_s - inside) * 1000:8.0f} ms  (outside the CLI and the proxy)")
    shutdown_all()

    # End to end through Celery: own Redis, a real worker process, the chord and the publisher.
    import subprocess

    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "ccmatrix.cli", "run", "--providers", manifest.providers[0].id, "--features",
                           "basic_messaging_non_streaming"], capture_output=True, text=True)
    print(f"`ccmatrix run`, one cell:   {(time.monotonic() - t0) * 1000:8.0f} ms  exit={done.returncode} "
          "(includes Redis + worker start and a cold proxy boot)")


if __name__ == "__main__":
    main()
