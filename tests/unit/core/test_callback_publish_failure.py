"""A publisher that fails (a full disk) is a run not published, with the reason in one line, and the matrix
published before it left as it was (drills/disk_full.py does the same on a real full tmpfs)."""
import errno
import json

import pytest

from ccmatrix.outcomes import TierResult, cell_from_tiers
from producer import callback
from producer.plan import RunOptions, plan_run


@pytest.fixture()
def out_dir(tmp_path, monkeypatch):
    from ccmatrix.settings import get_settings

    monkeypatch.setenv("CCMATRIX_OUT_DIR", str(tmp_path / "out"))
    get_settings.cache_clear()
    yield tmp_path / "out"
    get_settings.cache_clear()


def _finish():
    plan = plan_run(RunOptions(features=["tool_use"], providers=["anthropic"], tiers=["haiku"]))
    results = [cell_from_tiers(j.feature, j.provider, {"haiku": TierResult.passed(duration_ms=5)})
               .model_dump(mode="json") for j in plan.jobs]
    return plan.run_id, callback.finish(results, plan.model_dump(mode="json", exclude={"jobs"}))


def test_a_full_disk_publishes_nothing_says_why_and_keeps_the_last_matrix(out_dir, monkeypatch):
    first_id, first = _finish()
    assert first["published"] is True
    before = (out_dir / "compatibility-matrix.json").read_bytes()

    def full(files):
        raise OSError(errno.ENOSPC, "No space left on device")

    from ccmatrix.publish import directory

    monkeypatch.setattr(directory, "write_all", full)  # every file the publishers and the history write
    _, second = _finish()
    assert second["published"] is False
    reason = second["reason"]
    assert reason.startswith("not published: ") and "No space left on device" in reason and "\n" not in reason
    assert (out_dir / "compatibility-matrix.json").read_bytes() == before
    assert json.loads(before)["run_id"] == first_id
