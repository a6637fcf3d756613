"""Drills: each a scripted fault against a real stack (Redis, Celery workers, the gateway, the emulator), with the
figure that shows whether the system held.

`python -m drills` (`make drills`) runs them all and prints one line per drill, `drill | held/broken | figure`,
then `N/N drills held`; `python -m drills NAME ...` runs only those. One module per drill, each exposing
`run(work: Path) -> Verdict`; `drills/stack.py` holds what they share (the suite's WorkerStack, a Redis with an
append-only file, process lookups).
"""
