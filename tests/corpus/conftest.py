"""The corpus suite (`make test-corpus`): known gateway bugs replayed against real LiteLLM releases.

Not part of `make test`: each case provisions two LiteLLM releases (and its era's Claude Code) and runs its cell at
both, minutes per case. It runs only with CCMATRIX_CORPUS_TESTS=1 (the Makefile target sets it); otherwise nothing
under tests/corpus/ is collected.
"""
from __future__ import annotations

import os

if os.environ.get("CCMATRIX_CORPUS_TESTS") != "1":
    collect_ignore_glob = ["test_*.py"]
