"""Process-wide emulator state: current job, faults, captures, the scripted model, and what each provider's
dialect keeps between requests (e.g. the Vertex access tokens it issued)."""
from __future__ import annotations

from pathlib import Path

from .capture import CaptureStore
from .faults import FaultBook
from .latency import Latency, RequestCounter, parse_spec
from .model import ScriptedModel


class State:
    def __init__(self, data_dir: Path, latency: Latency | None = None):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.job_id: str | None = None
        self.scenario: dict = {}
        self.faults = FaultBook()
        self.captures = CaptureStore(self.data_dir)
        self.model = ScriptedModel(self.data_dir, scenario_ref=lambda: self.scenario)
        self.providers: dict[str, dict] = {}
        self.latency = latency or parse_spec("off")  # emulator/latency.py: off unless --latency says otherwise
        self.latency_keys = RequestCounter()

    def of(self, provider: str) -> dict:
        """The state a provider's dialect keeps (its own keys), created empty on first use."""
        return self.providers.setdefault(provider, {})
