"""basic_messaging_streaming judges the calls the provider answered: a call it refused (Claude Code 2.1.332 in
native Bedrock/Vertex mode retries after a beta the platform does not take) was never streamed."""
from __future__ import annotations

from types import SimpleNamespace

from worker.checks.basic_messaging_streaming import CHECK

EXPECTED = " ".join(str(i) for i in range(1, 13))


def run_streamed():
    events = [{"type": "content_block_delta", "delta": {"type": "text_delta", "text": part}}
              for part in ("1 2 3 4 5 6 ", "7 8 9 10 11 12")]
    transcript = SimpleNamespace(stream_events=lambda kind=None: [e for e in events if kind in (None, e["type"])])
    return SimpleNamespace(result=SimpleNamespace(result=EXPECTED), transcript=transcript)


def ctx_with(calls):
    ran = []
    return SimpleNamespace(model_calls=lambda: calls, asserted=ran.append, supporting=lambda name: True)


STREAM = "/model/m/invoke-with-response-stream"


def test_a_refused_retry_before_the_stream_is_not_held_against_the_gateway():
    calls = [{"path": STREAM, "status": 400, "stream": False}, {"path": STREAM, "status": 200, "stream": True}]
    assert CHECK.judge(ctx_with(calls), run_streamed()) is None


def test_an_answered_call_that_was_not_streamed_still_fails():
    calls = [{"path": "/model/m/invoke", "status": 200, "stream": False}]
    assert "not asked for a stream" in CHECK.judge(ctx_with(calls), run_streamed())


def test_only_refused_calls_is_no_stream_at_all():
    assert "not asked for a stream" in CHECK.judge(ctx_with([{"path": STREAM, "status": 400}]), run_streamed())
