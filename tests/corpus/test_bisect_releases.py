"""An integration bisect across three real LiteLLM releases (issue 14): the tool_use cell on the Anthropic column
with Claude Code 2.1.197 and the Claude 4.5 tiers is red at 1.100.4 and 1.100.5 (the turn-2 request loses the
thinking block before the tool_use) and green at 1.101.0; `ccmatrix bisect` must probe the real releases and name
1.101.0 as the first fixed one.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CCMATRIX = str(Path(sys.executable).parent / "ccmatrix")


def test_bisect_names_the_first_fixed_release_over_three_real_releases(tmp_path):
    env = {**os.environ, "CCMATRIX_OUT_DIR": str(tmp_path / "out")}
    done = subprocess.run([CCMATRIX, "bisect", "--feature", "tool_use", "--provider",
                           "anthropic", "--tier", "haiku", "--good", "1.101.0", "--bad", "1.100.4",
                           "--claude-code-version", "2.1.197", "--tier-models",
                           "haiku=claude-haiku-4-5,sonnet=claude-sonnet-4-5,opus=claude-opus-4-5",
                           "--concurrency", "2"],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=1800)
    out = done.stdout.strip().splitlines()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "over 3 litellm releases 1.100.4 … 1.101.0" in done.stderr, done.stderr[-2000:]
    # `probe 1.100.5: fail [gateway] — ...`: the last answer per release (a retried error probe answers twice)
    probed = {}
    for line in out:
        found = re.match(r"probe (\S+?)(?: \(retry\))?: (\S+)", line)
        if found:
            probed[found[1]] = found[2]
    assert probed.get("1.100.5") == "fail", out
    assert probed.get("1.101.0") == "pass", out
    assert out[-1].startswith("first fixed release: 1.101.0"), out[-1]
    assert "last bad: 1.100.5" in out[-1], out[-1]
