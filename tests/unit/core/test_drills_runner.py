"""`python -m drills`: one line per drill `drill | held/broken | figure`, then `N/N drills held`; a drill that crashes
or hangs is `broken` with the reason, never the end of the others (drills/__main__.py)."""
from __future__ import annotations

import sys
import time
import types

import pytest

from drills import __main__ as runner
from drills.verdict import Verdict


@pytest.fixture
def fake_drills(monkeypatch):
    behaviours = {
        "fine": lambda work: Verdict(True, "3 cells, 0 lost"),
        "broke": lambda work: Verdict.check(["1 lost"], "3 cells"),
        "crashes": lambda work: (_ for _ in ()).throw(RuntimeError("no tmpfs\nhere")),
        "hangs": lambda work: time.sleep(30),
    }
    for name, run in behaviours.items():
        monkeypatch.setitem(sys.modules, f"drills.{name}", types.SimpleNamespace(run=run))
    monkeypatch.setattr(runner, "DRILLS", list(behaviours))
    monkeypatch.setattr(runner, "LIMIT_S", 1)
    import drills.stack

    monkeypatch.setattr(drills.stack, "ensure_tools", lambda: None)


def test_one_line_per_drill_then_the_count(fake_drills, capsys):
    assert runner.main([]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5, lines
    assert lines[0].startswith("fine | held | 3 cells, 0 lost (")
    assert lines[1].startswith("broke | broken | 3 cells; 1 lost (")
    assert lines[2].startswith("crashes | broken | drill crashed: RuntimeError: no tmpfs here (")
    assert lines[3].startswith("hangs | broken | drill crashed: DrillTimeout: the drill did not finish in 1 s (")
    assert lines[4].startswith("1/4 drills held (")


def test_all_held_is_exit_0_and_an_unknown_name_exit_2(fake_drills, capsys):
    assert runner.main(["fine"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("1/1 drills held")
    assert runner.main(["nope"]) == 2
    assert "unknown drill(s): nope" in capsys.readouterr().err
