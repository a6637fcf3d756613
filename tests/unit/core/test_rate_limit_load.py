"""The Redis rate limiter under load: many worker processes asking at once, two providers at different rates, a real
redis-server — each provider's grants stay at its rate, and neither slows the other."""
from __future__ import annotations

import multiprocessing
import time

import pytest

from worker.rate_limit import RateLimiter

RATES = {"azure": 100.0, "vertex_ai": 40.0}
PROCESSES = 6
ASKS = {"azure": 10, "vertex_ai": 4}  # per process: 60 and 24 grants
WINDOW = 10  # consecutive grants checked together
SLACK_S = 0.03  # a sleeper on a loaded 2-core machine may wake this late


def _ask(url: str, prefix: str, start_at: float, queue, spacing: bool) -> None:
    limiter = RateLimiter(url, RATES, prefix=prefix)
    if not spacing:  # a limiter that reserves nothing: what the check must catch
        limiter.acquire = lambda provider, requests=1: 0.0
    order = [p for p in ASKS for _ in range(ASKS[p])]
    while time.time() < start_at:  # every process starts asking at the same moment
        time.sleep(0.001)
    grants = []
    for provider in order:
        limiter.acquire(provider)
        grants.append((provider, time.time()))
    queue.put(grants)


def grants_under_load(url: str, prefix: str, spacing: bool = True) -> dict[str, list[float]]:
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    start_at = time.time() + 0.5
    workers = [context.Process(target=_ask, args=(url, prefix, start_at, queue, spacing)) for _ in range(PROCESSES)]
    for w in workers:
        w.start()
    grants: dict[str, list[float]] = {p: [] for p in RATES}
    for _ in workers:
        for provider, at in queue.get(timeout=60):
            grants[provider].append(at)
    for w in workers:
        w.join(10)
    return {p: sorted(times) for p, times in grants.items()}


def rate_problems(grants: dict[str, list[float]]) -> list[str]:
    """Each provider: no WINDOW consecutive grants closer together than its rate allows (less SLACK_S), and the
    whole run no faster than its rate."""
    problems = []
    for provider, times in grants.items():
        interval = 1 / RATES[provider]
        for i in range(len(times) - WINDOW + 1):
            span = times[i + WINDOW - 1] - times[i]
            if span < (WINDOW - 1) * interval - SLACK_S:
                problems.append(f"{provider}: {WINDOW} grants within {span * 1000:.0f} ms")
                break
        overall = (len(times) - 1) / (times[-1] - times[0]) if times[-1] > times[0] else float("inf")
        if overall > RATES[provider] * 1.05:
            problems.append(f"{provider}: {overall:.0f}/s over the run, limit {RATES[provider]:.0f}/s")
    return problems


def test_each_provider_keeps_its_rate_across_processes(redis_url):
    grants = grants_under_load(redis_url, f"test:rate:load:{time.time_ns()}")
    assert {p: len(t) for p, t in grants.items()} == {p: PROCESSES * n for p, n in ASKS.items()}
    assert rate_problems(grants) == []
    # neither provider waits on the other: each finishes in about its own count ÷ rate
    for provider, times in grants.items():
        expected = (len(times) - 1) / RATES[provider]
        assert times[-1] - times[0] < expected + 0.5, (provider, times[-1] - times[0], expected)


def test_the_check_catches_a_limiter_that_does_not_space(redis_url):
    grants = grants_under_load(redis_url, f"test:rate:none:{time.time_ns()}", spacing=False)
    problems = rate_problems(grants)
    assert any(p.startswith("azure: ") for p in problems), problems
    assert any(p.startswith("vertex_ai: ") for p in problems), problems
