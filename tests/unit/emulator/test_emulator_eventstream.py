import json

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer

from providers._wire import framing as eventstream


def _decode(raw):
    buf = EventStreamBuffer()
    buf.add_data(raw)
    return list(buf)


@pytest.mark.parametrize("payload", [{}, {"a": "x" * 5000}, {"unicode": "héllo ☃"}])
def test_event_frame_round_trips(payload):
    raw = eventstream.event("chunk", payload)
    (msg,) = _decode(raw)
    assert msg.headers[":event-type"] == "chunk" and msg.headers[":message-type"] == "event"
    assert json.loads(msg.payload) == payload


def test_several_frames_and_exception_frame():
    raw = eventstream.event("a", {"n": 1}) + eventstream.exception("ThrottlingException", "slow down") + eventstream.event("b", {"n": 2})
    msgs = _decode(raw)
    assert [m.headers.get(":event-type") or m.headers.get(":exception-type") for m in msgs] == ["a", "ThrottlingException", "b"]
    assert json.loads(msgs[1].payload) == {"message": "slow down"}


def test_corrupt_frame_is_detected_by_botocore():
    with pytest.raises(ChecksumMismatch):
        _decode(eventstream.event("chunk", {"x": 1}, corrupt=True))
