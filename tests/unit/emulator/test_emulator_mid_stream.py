"""Fault stream_error_after: the provider's own mid-stream error inside an HTTP 200, as real streams deliver it."""
from __future__ import annotations

import pytest
from botocore.exceptions import EventStreamError
from test_emulator_bedrock import MID, client

BODY = {"model": "claude-sonnet-4-5-20250929", "max_tokens": 64, "stream": True,
        "messages": [{"role": "user", "content": "Count from 1 to 20"}]}


def test_anthropic_stream_ends_with_an_overloaded_error_event(emu):
    emu.job(faults=[{"stream_error_after": 3}])
    r = emu.http.post("/v1/messages", headers=emu.anthropic_headers(), json=BODY)
    assert r.status_code == 200
    events = [line.split(":", 1)[1].strip() for line in r.text.splitlines() if line.startswith("event:")]
    assert events[:3] == ["message_start", "ping", "content_block_start"][: len(events[:3])]
    assert events[-1] == "error" and "message_stop" not in events
    assert '"overloaded_error"' in r.text


def test_bedrock_converse_stream_raises_the_service_exception(emu):
    emu.job(faults=[{"provider": "bedrock_converse", "stream_error_after": 2}])
    response = client(emu).converse_stream(modelId=MID, messages=[{"role": "user",
                                                                    "content": [{"text": "Count from 1 to 9"}]}])
    seen = []
    with pytest.raises(EventStreamError) as caught:
        for event in response["stream"]:
            seen.append(next(iter(event)))
    assert caught.value.response["Error"]["Code"] == "serviceUnavailableException"
    assert len(seen) == 2 and "messageStop" not in seen
