"""`python -m drills [NAME ...]`: run the drills, one line each (`drill | held/broken | figure`), then
`N/N drills held`. Exit 0 when every drill held, 1 otherwise, 2 for an unknown drill name."""
from __future__ import annotations

import importlib
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from drills.verdict import Verdict

DRILLS = ["broker_restart", "callback_kill", "gateway_crash", "cli_hang", "disk_full", "malformed_inputs",
          "secrets", "egress"]
LIMIT_S = 300  # one drill that hangs is `broken`, never the end of the others


class DrillTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise DrillTimeout(f"the drill did not finish in {LIMIT_S} s")


def run_one(name: str, work: Path) -> tuple[Verdict, float]:
    started = time.monotonic()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(LIMIT_S)
    try:
        module = importlib.import_module(f"drills.{name}")
        verdict = module.run(work / name)
    except Exception as error:  # a drill that could not run its fault did not show that the system held
        verdict = Verdict(False, f"drill crashed: {type(error).__name__}: {' '.join(str(error).split())}"[:600])
    finally:
        signal.alarm(0)
    return verdict, time.monotonic() - started


def main(argv: list[str]) -> int:
    names = argv or DRILLS
    unknown = [n for n in names if n not in DRILLS]
    if unknown:
        print(f"unknown drill(s): {', '.join(unknown)}; known: {', '.join(DRILLS)}", file=sys.stderr)
        return 2
    from drills.stack import ensure_tools

    ensure_tools()
    work = Path(tempfile.mkdtemp(prefix="ccmatrix-drills-"))
    held = 0
    started = time.monotonic()
    try:
        for name in names:
            verdict, took = run_one(name, work)
            held += verdict.held
            print(f"{name} | {'held' if verdict.held else 'broken'} | {verdict.figure} ({took:.0f} s)", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{held}/{len(names)} drills held ({time.monotonic() - started:.0f} s)", flush=True)
    return 0 if held == len(names) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
