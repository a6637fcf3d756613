"""A run's emulator faults are checked when the run is planned: one the emulator would refuse ends the command with
one line (exit 2) instead of turning every cell of the run into an error (drills/malformed_inputs.py)."""
from __future__ import annotations

import pytest

from producer.plan import check_faults


@pytest.mark.parametrize("fault,words", [({"mode": "nope"}, "unknown fault mode"),
                                         ({"nope": 1}, "unknown fault fields"),
                                         ("not an object", "must be an object")])
def test_a_fault_the_emulator_would_refuse_is_refused_when_planning(fault, words):
    with pytest.raises(ValueError, match=words) as caught:
        check_faults([{"provider": "anthropic", "status": 500}, fault])
    assert "\n" not in str(caught.value)


def test_good_faults_pass():
    check_faults([{"provider": "anthropic", "status": 500, "times": 1}, {"mode": "buffer_stream"}])


def test_the_run_commands_refuse_it_in_one_line(capsys):
    import click

    from ccmatrix import options

    with pytest.raises(click.exceptions.Exit) as exited:
        options.plan_or_refuse(features=["basic_messaging_streaming"], providers=["anthropic"],
                               faults=[{"mode": "nope"}])
    assert exited.value.exit_code == 2
    err = capsys.readouterr().err
    assert err.startswith("refused: --emulator-fault") and "unknown fault mode" in err and err.count("\n") == 1, err
