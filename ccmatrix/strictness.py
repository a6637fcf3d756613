"""The installed packages whose code decides what the emulator accepts, and the versions a run's cells report.

The emulator judges a request with other projects' code: the anthropic SDK's request types (emulator/
anthropic_schema.py) validated by pydantic-core, botocore's bedrock-runtime service model and ParamValidator
(providers/_bedrock/emulator.py) and SigV4 (providers/_aws.py), google-auth's JWT checks (providers/vertex_ai/
credentials.py). Another version of one of them can accept or refuse the same request, so the matrix records them
next to the gateway and CLI versions (requirements.lock pins them). The list, each with where it is used and why,
is ccmatrix/strictness.yaml.
"""
from __future__ import annotations

from collections import Counter
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

import yaml

PACKAGES = tuple(p["name"] for p in yaml.safe_load((Path(__file__).with_name("strictness.yaml")).read_text())["packages"])


def installed_versions(packages: Iterable[str] = PACKAGES) -> dict[str, str]:
    """{package: version} in this environment (the worker's, where its emulator runs); "missing" when absent.
    Read once per process (~20 ms of metadata parsing), as every job of a worker asks."""
    return dict(_versions(tuple(packages)))


@lru_cache(maxsize=4)
def _versions(packages: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    found = []
    for name in packages:
        try:
            found.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            found.append((name, "missing"))
    return tuple(found)


def run_strictness(cells: Iterable[Any]) -> tuple[dict[str, str] | None, list[str]]:
    """The strictness versions the run's emulated cells report, and the problems found: workers that disagree are
    named (the most common set wins); None when no cell reported any (real columns only, or older workers)."""
    said = Counter(tuple(sorted(v.items())) for c in cells if (v := getattr(c, "emulator_strictness", None)))
    if not said:
        return None, []
    problems = []
    if len(said) > 1:
        variants = "; ".join(", ".join(f"{k} {v}" for k, v in variant) + f" ({n} cells)" for variant, n in said.most_common())
        problems.append(f"workers judged with different emulator package versions: {variants}")
    return dict(said.most_common(1)[0][0]), problems
