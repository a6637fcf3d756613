"""The job time limits: how they are derived from the settings, and the words a cut-off cell carries."""
import pytest
from celery.exceptions import SoftTimeLimitExceeded

from ccmatrix.outcomes import Status, TierResult
from ccmatrix.celery_app import make_app, time_limits


@pytest.fixture()
def settings_env(monkeypatch):
    from ccmatrix.settings import get_settings

    def set_env(**values):
        for name, value in values.items():
            monkeypatch.setenv(name, str(value))
        get_settings.cache_clear()
        return get_settings()

    yield set_env
    get_settings.cache_clear()


def test_the_soft_limit_is_the_job_limit_and_the_hard_one_comes_a_grace_later():
    assert time_limits(1800, 60) == (1800, 1860, 3720)
    soft, hard, visibility = time_limits(5, 60)  # a tiny limit is honoured, not raised to a minute
    assert (soft, hard) == (5, 65)
    assert visibility >= 3600  # never so short that a waiting or running job is delivered twice
    soft, hard, _ = time_limits(0, 0)
    assert 0 < soft < hard  # Celery refuses soft > hard; equal would leave no time to report


def test_the_app_takes_its_limits_from_the_settings(settings_env):
    settings_env(CCMATRIX_JOB_TIME_LIMIT_S=7, CCMATRIX_JOB_TIME_LIMIT_GRACE_S=3)
    conf = make_app(broker="memory://", backend="cache+memory://").conf
    assert (conf.task_soft_time_limit, conf.task_time_limit) == (7, 10)
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    settings_env(CCMATRIX_JOB_TIME_LIMIT_S=1800, CCMATRIX_JOB_TIME_LIMIT_GRACE_S=60)
    conf = make_app(broker="memory://", backend="cache+memory://").conf
    assert (conf.task_soft_time_limit, conf.task_time_limit) == (1800, 1860)


def _job(tiers):
    from ccmatrix.manifest import load_manifest
    from ccmatrix.contract import CellJob

    manifest = load_manifest()
    return CellJob(run_id="t", feature="tool_use", provider="anthropic", tiers=tiers,
                   litellm_version=manifest.litellm_version, claude_code_version=manifest.claude_code_version,
                   manifest=manifest.model_dump(mode="json"))


def test_the_task_fallback_says_what_run_cell_says(monkeypatch, settings_env):
    """run_cell keeps the tiers that finished; the task's own fallback (a limit striking outside run_cell) has no
    finished tiers to keep but uses the same words, so a reader sees one kind of time-limit error."""
    from worker import cell as cell_module
    from worker.tasks import time_limit_outcome

    settings = settings_env(CCMATRIX_JOB_TIME_LIMIT_S=42)

    def slow(job, settings, done):
        done["haiku"] = TierResult.passed(duration_ms=5)
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(cell_module, "_run_cell", slow)
    job = _job(["haiku", "sonnet"])
    cut = cell_module.run_cell(job, settings)
    assert cut.status == Status.ERROR
    assert cut.tiers["haiku"].status == Status.PASS
    fallback = time_limit_outcome(job)
    assert fallback.status == Status.ERROR and fallback.upstream == cut.upstream == "emulator"
    for tier in ("haiku", "sonnet"):
        assert fallback.tiers[tier].error == cut.tiers["sonnet"].error
        assert fallback.tiers[tier].cause == cut.tiers["sonnet"].cause == "infrastructure"
    assert cut.tiers["sonnet"].error.startswith("time limit:") and "42 s" in cut.tiers["sonnet"].error
