"""A CCMATRIX_* variable that cannot be read ends a command with one line naming it (never its value, never a
traceback), exit 2 — the settings part of drills/malformed_inputs.py."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ccmatrix.settings import SettingsError, get_settings

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def fresh_settings():
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize("name,value", [("CCMATRIX_CLI_TIMEOUT_S", "abc-secret-looking"),
                                        ("CCMATRIX_JOB_TIME_LIMIT_GRACE_S", "0"),
                                        ("CCMATRIX_RATE_LIMITS", "{not-json-secret-looking")])
def test_a_bad_variable_is_one_line_without_its_value(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        get_settings()
    message = str(caught.value)
    assert "\n" not in message and value not in message, message
    assert name in message or name.removeprefix("CCMATRIX_").lower() in message, message


def test_the_cli_ends_with_that_line_and_exit_2(monkeypatch, capsys):
    from ccmatrix.cli import main

    monkeypatch.setenv("CCMATRIX_WORKER_CONCURRENCY", "two")
    assert main(["run", "--features", "basic_messaging_streaming"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ccmatrix: bad setting(s): CCMATRIX_WORKER_CONCURRENCY") and "\n" not in err, err


def test_celery_loading_the_app_ends_with_that_line_too():
    env = {"PATH": "/usr/bin:/bin", "CCMATRIX_CLI_TIMEOUT_S": "abc"}
    proc = subprocess.run([sys.executable, "-m", "celery", "-A", "producer", "enqueue", "--help"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines()[-1].startswith("ccmatrix: bad setting(s): CCMATRIX_CLI_TIMEOUT_S")
