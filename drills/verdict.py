"""What a drill reports: whether the system held, and the figure that shows it."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    held: bool
    figure: str

    @classmethod
    def check(cls, problems: list[str], figure: str) -> "Verdict":
        """Held when no problem was found; the figure, followed by the problems when there are any."""
        if problems:
            return cls(False, f"{figure}; " + "; ".join(problems))
        return cls(True, figure)
