"""How many jobs a worker runs at once: sized from cores, memory and whether the run waits on latency.

Against the emulator with latency off a CLI run is CPU-bound (~0.85 CPU-s per one-turn run, 10 parallel runs took
9.8 s on 2 cores: ../shared/notes/claude-code-cli.md), so one slot per core. Against real providers, or the emulator
with CCMATRIX_EMULATOR_LATENCY on, a tier mostly waits for the model (seconds to first token, tens of tokens/s:
emulator/latency.yaml), so many slots per core keep the cores busy; memory is then the limit: each slot of a
prefork worker holds its own CLI run (~300 MB RSS, notes/claude-code-cli.md), gateway (LiteLLM proxy ~460 MB RSS,
notes/litellm-proxy.md) and emulator (~100 MB, docs/deploy.md's sizing). Memory is MemAvailable, or the memory
cgroup's headroom when that is lower (inside a container /proc/meminfo shows the host's).
"""
from __future__ import annotations

import os
from pathlib import Path

SLOT_MB = 300 + 460 + 100  # CLI run + gateway + emulator per slot
MEMORY_SHARE = 0.8  # of MemAvailable: the rest for the broker, the worker's main process and the page cache
SLOTS_PER_CORE_WHEN_WAITING = 8  # a tier spends most of its wall time waiting for the model


def mem_available_mb(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    """MemAvailable in MiB (None where /proc/meminfo does not say)."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


CGROUP_FILES = (  # (limit, usage): cgroup v2, then v1 — a container's MemAvailable is the host's
    (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory.current")),
    (Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"), Path("/sys/fs/cgroup/memory/memory.usage_in_bytes")),
)


def cgroup_headroom_mb(files=CGROUP_FILES) -> int | None:
    """What the memory cgroup's limit still allows (limit − usage, MiB); None without a limit (or no cgroup files)."""
    for limit_file, usage_file in files:
        try:
            limit_text = limit_file.read_text().strip()
            usage = int(usage_file.read_text().strip())
        except (OSError, ValueError):
            continue
        if limit_text == "max" or int(limit_text) >= 1 << 60:  # unlimited
            return None
        return max(0, int(limit_text) - usage) // (1024 * 1024)
    return None


def available_mb() -> int | None:
    """The memory new slots may take: MemAvailable, or less when a cgroup limit says so."""
    known = [v for v in (mem_available_mb(), cgroup_headroom_mb()) if v is not None]
    return min(known) if known else None


def concurrency_for(cores: int, available_mb: int | None, waits_on_latency: bool) -> int:
    """Slots for one machine: cores (× SLOTS_PER_CORE_WHEN_WAITING when latency-bound), never more than memory
    holds (MEMORY_SHARE of what is available ÷ SLOT_MB), at least 1."""
    by_cpu = max(1, cores) * (SLOTS_PER_CORE_WHEN_WAITING if waits_on_latency else 1)
    if available_mb is None:
        return by_cpu
    by_memory = int(available_mb * MEMORY_SHARE // SLOT_MB)
    return max(1, min(by_cpu, by_memory))


def default_concurrency(latency: str = "off", real_columns: bool = False) -> int:
    """This machine's slots for a worker whose emulator runs with `latency` (CCMATRIX_EMULATOR_LATENCY) or that
    reaches real providers."""
    waits = real_columns or (latency or "off").strip().lower() not in ("", "off", "0", "none", "false")
    return concurrency_for(os.cpu_count() or 1, available_mb(), waits)
