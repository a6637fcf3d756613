"""Latency realism: how long a provider takes to its first token and how fast it streams, drawn per request.

CCMATRIX_EMULATOR_LATENCY (the worker passes it to its emulator as --latency):
- `off` (the default): no delay at all — the emulator answers as fast as it can;
- `realistic`: per provider and model family from emulator/latency.yaml (public figures, with their sources);
- a spec, e.g. `ttft=800ms±200,tps=60` (every provider and model): `ttft=` a duration (`ms` or `s`) with an optional
  `±spread`, `tps=` output tokens per second with an optional `±spread`; `realistic,seed=7` or `...,seed=7` set the
  seed (default 0).

Each model reply's delay is drawn from a generator seeded with (seed, the job's cell and tier — its id without the run
id —, the request's number in the job), so every run of the same cells with the same seed replays the same delays,
whatever the order other jobs' requests arrive in. The time to first token is lognormal
(median `ttft`, sigma spread/median), the pace normal (floored at 5 tokens/s); a reply of N output tokens takes
ttft + N / tps: a stream waits ttft before its first frame and spreads the rest over its frames, a non-streamed
reply is held for the whole of it.
"""
from __future__ import annotations

import hashlib
import math
import random
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import yaml

DATA = Path(__file__).with_name("latency.yaml")
FAMILIES = ("haiku", "sonnet", "opus")
MIN_TPS = 5.0

_DURATION = re.compile(r"^(?P<v>\d+(?:\.\d+)?)(?P<u>ms|s)(?:(?:±|\+-|\+/-)(?P<s>\d+(?:\.\d+)?)(?P<su>ms|s)?)?$")
_RATE = re.compile(r"^(?P<v>\d+(?:\.\d+)?)(?:(?:±|\+-|\+/-)(?P<s>\d+(?:\.\d+)?))?$")


class LatencySpecError(ValueError):
    """A CCMATRIX_EMULATOR_LATENCY value that cannot be read (one line, with what is accepted)."""


@dataclass(frozen=True)
class Figures:
    ttft_ms: float
    spread_ms: float
    tps: float
    tps_spread: float


@dataclass(frozen=True)
class Delay:
    ttft_s: float
    generation_s: float  # the output tokens at the drawn pace

    @property
    def total_s(self) -> float:
        return self.ttft_s + self.generation_s


NO_DELAY = Delay(0.0, 0.0)


@dataclass(frozen=True)
class Latency:
    """A parsed setting: `table` {provider: {family: Figures}} plus `fallback` {family: Figures}; None when off."""
    mode: str  # off | realistic | spec
    seed: int = 0
    fallback: dict | None = None
    table: dict | None = None

    @property
    def off(self) -> bool:
        return self.mode == "off"

    def figures(self, provider: str, model: str | None) -> Figures:
        family = family_of(model)
        own = (self.table or {}).get(provider) or {}
        fallback = self.fallback or {}
        return own.get(family) or fallback.get(family) or fallback["default"]

    def draw(self, key: str, provider: str, model: str | None, output_tokens: int) -> Delay:
        """The delay of one reply; `key` names the request (job id and its number in the job) for the seed."""
        if self.off:
            return NO_DELAY
        f = self.figures(provider, model)
        rng = random.Random(int.from_bytes(hashlib.sha256(f"{self.seed}|{key}".encode()).digest()[:8], "big"))
        sigma = f.spread_ms / f.ttft_ms if f.ttft_ms else 0.0
        ttft_ms = f.ttft_ms * math.exp(rng.gauss(0.0, sigma)) if sigma else f.ttft_ms
        tps = max(MIN_TPS, rng.gauss(f.tps, f.tps_spread) if f.tps_spread else f.tps)
        return Delay(ttft_ms / 1000.0, max(0, output_tokens) / tps)


def family_of(model: str | None) -> str:
    text = (model or "").lower()
    return next((f for f in FAMILIES if f in text), "default")


def _figures(raw: dict, where: str) -> Figures:
    try:
        return Figures(float(raw["ttft_ms"]), float(raw.get("spread_ms", 0)), float(raw["tps"]),
                       float(raw.get("tps_spread", 0)))
    except (KeyError, TypeError, ValueError) as error:
        raise LatencySpecError(f"{DATA.name}: {where}: needs ttft_ms and tps numbers ({error})") from None


def load_realistic(seed: int = 0, path: Path = DATA) -> Latency:
    data = yaml.safe_load(path.read_text()) or {}
    fallback = {fam: _figures(v, f"default.{fam}") for fam, v in (data.get("default") or {}).items()}
    if "default" not in fallback:
        raise LatencySpecError(f"{path.name}: a `default.default` entry is required")
    table = {p: {fam: _figures(v, f"{p}.{fam}") for fam, v in fams.items()}
             for p, fams in (data.get("providers") or {}).items()}
    return Latency("realistic", seed, fallback, table)


def _ms(value: str, unit: str | None, default_unit: str) -> float:
    return float(value) * (1000.0 if (unit or default_unit) == "s" else 1.0)


def parse_spec(text: str | None) -> Latency:
    """`off` | `realistic[,seed=N]` | `ttft=800ms±200,tps=60[,seed=N]`; anything else: LatencySpecError (one line)."""
    raw = (text or "off").strip()
    if raw.lower() in ("", "off", "0", "none", "false"):
        return Latency("off")
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    realistic = parts[0].lower() == "realistic"
    if realistic:
        parts = parts[1:]
    given: dict[str, str] = {}
    for part in parts:
        name, sep, value = part.partition("=")
        name = name.strip().lower()
        if not sep or name not in ("ttft", "tps", "seed") or name in given:
            raise LatencySpecError(
                f"emulator latency {raw!r}: {part!r} is not understood; expected off, realistic[,seed=N] or "
                "ttft=<n>ms[±<n>],tps=<n>[±<n>][,seed=N]")
        given[name] = value.strip()
    try:
        seed = int(given.get("seed", "0"))
    except ValueError:
        raise LatencySpecError(f"emulator latency {raw!r}: seed must be an integer") from None
    if realistic:
        if set(given) - {"seed"}:
            raise LatencySpecError(f"emulator latency {raw!r}: `realistic` takes only seed=N (ttft/tps make a spec of their own)")
        return load_realistic(seed)
    if "ttft" not in given or "tps" not in given:
        raise LatencySpecError(f"emulator latency {raw!r}: a spec needs both ttft= and tps=, e.g. ttft=800ms±200,tps=60")
    ttft = _DURATION.match(given["ttft"].replace(" ", ""))
    tps = _RATE.match(given["tps"].replace(" ", ""))
    if not ttft:
        raise LatencySpecError(f"emulator latency {raw!r}: ttft={given['ttft']!r} is not a duration like 800ms or 1.2s±0.3")
    if not tps or float(tps["v"]) <= 0:
        raise LatencySpecError(f"emulator latency {raw!r}: tps={given['tps']!r} is not a positive rate like 60 or 60±10")
    figures = Figures(_ms(ttft["v"], ttft["u"], "ms"), _ms(ttft["s"], ttft["su"] or ttft["u"], "ms") if ttft["s"] else 0.0,
                      float(tps["v"]), float(tps["s"] or 0))
    return Latency("spec", seed, {"default": figures}, {})


def cell_key(job_id: str | None) -> str:
    """The part of a job id that names what runs, not when: the worker names a tier's job
    `<run id>:<feature>:<provider>:<tier>[:<attempt>]` (worker/tier.py), so the run id is dropped and the same seed
    replays the same delays in every run of the same cells. Any other id is kept whole."""
    job = job_id or "-"
    parts = job.split(":")
    return ":".join(parts[1:]) if len(parts) >= 4 else job


class RequestCounter:
    """The number of each request within its job (the seed's key, with `cell_key`), thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, int] = {}

    def next_key(self, job_id: str | None) -> str:
        job = job_id or "-"
        with self._lock:
            n = self._seen[job] = self._seen.get(job, 0) + 1
            if len(self._seen) > 10000:  # a long-lived emulator: forget the oldest jobs
                for old in list(self._seen)[:5000]:
                    self._seen.pop(old, None)
        return f"{cell_key(job)}#{n}"
