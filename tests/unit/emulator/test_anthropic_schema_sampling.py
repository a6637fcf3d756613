"""The legacy sampling parameters the API accepts under anthropic-version 2023-06-01 (the SDK no longer types them)."""
from emulator.anthropic_schema import validate

BODY = {"model": "claude-sonnet-4-5-20250929", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}


def test_temperature_top_p_top_k_accepted_in_range():
    assert validate({**BODY, "temperature": 1, "top_p": 0.9, "top_k": 5}) is None


def test_out_of_range_or_wrong_type_refused():
    assert "temperature" in validate({**BODY, "temperature": 1.5})
    assert "top_k" in validate({**BODY, "top_k": "many"})
    assert "top_p" in validate({**BODY, "top_p": -0.1})


def test_unknown_keys_still_refused():
    assert "Extra inputs" in validate({**BODY, "temprature": 1})
