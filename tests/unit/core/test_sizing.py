"""Worker concurrency from cores, memory and the latency mode; `ccmatrix run --workers N` starts N named workers."""
from __future__ import annotations

import json

import pytest

from ccmatrix import sizing
from ccmatrix.cli import cli
from tests.unit.core.test_cli import FEATURE, FakeStack, _invoke, _waits_for, fake_stack  # noqa: F401 (fixture)


def test_cpu_bound_runs_get_a_slot_per_core_latency_bound_many():
    assert sizing.concurrency_for(2, 22000, waits_on_latency=False) == 2
    assert sizing.concurrency_for(2, 22000, waits_on_latency=True) == 2 * sizing.SLOTS_PER_CORE_WHEN_WAITING


def test_memory_caps_the_slots():
    # 4 GiB available: 0.8 × 4096 / 860 MB per slot = 3 slots, whatever the cores say
    assert sizing.concurrency_for(2, 4096, waits_on_latency=True) == 3
    assert sizing.concurrency_for(64, 4096, waits_on_latency=False) == 3
    assert sizing.concurrency_for(2, 300, waits_on_latency=True) == 1  # never 0
    assert sizing.concurrency_for(3, None, waits_on_latency=False) == 3  # memory unknown: cores alone


def test_mem_available_is_read_from_meminfo(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24683520 kB\nMemFree:        15060000 kB\nMemAvailable:   23182336 kB\n")
    assert sizing.mem_available_mb(meminfo) == 22639
    meminfo.write_text("MemTotal: 1 kB\n")
    assert sizing.mem_available_mb(meminfo) is None
    assert sizing.mem_available_mb(tmp_path / "absent") is None


def test_a_cgroup_limit_lowers_what_is_available(tmp_path, monkeypatch):
    limit, usage = tmp_path / "memory.max", tmp_path / "memory.current"
    limit.write_text(f"{3 * 1024 ** 3}\n")
    usage.write_text(f"{1024 ** 3}\n")
    assert sizing.cgroup_headroom_mb([(limit, usage)]) == 2048
    limit.write_text("max\n")
    assert sizing.cgroup_headroom_mb([(limit, usage)]) is None
    limit.write_text("9223372036854771712\n")  # cgroup v1's "no limit"
    assert sizing.cgroup_headroom_mb([(limit, usage)]) is None
    assert sizing.cgroup_headroom_mb([(tmp_path / "absent", usage)]) is None
    monkeypatch.setattr(sizing, "mem_available_mb", lambda: 20000)
    monkeypatch.setattr(sizing, "cgroup_headroom_mb", lambda: 2048)
    assert sizing.available_mb() == 2048
    monkeypatch.setattr(sizing, "cgroup_headroom_mb", lambda: None)
    assert sizing.available_mb() == 20000


def test_settings_size_the_worker_from_the_latency_mode(monkeypatch):
    from ccmatrix.settings import Settings

    monkeypatch.setattr(sizing.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(sizing, "available_mb", lambda: 8192)
    for name in ("CCMATRIX_WORKER_CONCURRENCY", "CCMATRIX_EMULATOR_LATENCY"):
        monkeypatch.delenv(name, raising=False)
    assert Settings().worker_concurrency == 2
    assert Settings(emulator_latency="realistic").worker_concurrency == 7  # 0.8 × 8192 / 860, below 2 × 8
    assert Settings(emulator_latency="ttft=1s,tps=50", worker_concurrency=4).worker_concurrency == 4


def test_run_starts_n_workers_with_distinct_names_and_splits_the_sized_slots(fake_stack, monkeypatch):
    monkeypatch.setenv("CCMATRIX_WORKER_CONCURRENCY", "16")
    fake_stack.summary(_waits_for({"published": True, "counts": {"pass": 1}}))
    result = _invoke(cli, ["run", "--features", FEATURE, "--tiers", "haiku", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["published"] is True
    assert FakeStack.instances[-1].workers == [("ccmatrix-local-1", 8), ("ccmatrix-local-2", 8)]
    result = _invoke(cli, ["run", "--features", FEATURE, "--tiers", "haiku", "--workers", "2", "--concurrency", "16"])
    assert FakeStack.instances[-1].workers == [("ccmatrix-local-1", 16), ("ccmatrix-local-2", 16)]
    result = _invoke(cli, ["run", "--features", FEATURE, "--tiers", "haiku"])
    assert FakeStack.instances[-1].workers == [("ccmatrix-local", 16)]


@pytest.mark.parametrize("args", [["--workers", "0"], ["--workers", "x"], ["--concurrency", "0"]])
def test_bad_counts_are_refused_before_anything_starts(fake_stack, args):
    result = _invoke(cli, ["run", "--features", FEATURE, *args])
    assert result.exit_code == 2
    assert FakeStack.instances == []
