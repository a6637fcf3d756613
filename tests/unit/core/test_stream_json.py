"""The stream-json parser on transcripts recorded from the real CLI (tests/fixtures/transcripts)."""
from pathlib import Path

from worker.stream_json import AssistantMessage, NoiseLine, ResultEvent, SystemInit, Transcript, UnknownEvent, parse

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "transcripts"


def test_success_transcript():
    transcript = Transcript(parse((FIXTURES / "success.jsonl").read_text()))
    assert isinstance(transcript.events[0], SystemInit)
    assert transcript.init.claude_code_version == "2.1.197"
    assert "Bash" in transcript.init.tools
    result = transcript.result
    assert isinstance(result, ResultEvent)
    assert result.is_error is False and result.api_error_status is None
    assert result.result == "MANGO"
    assert [b["text"] for b in transcript.assistant_blocks("text")] == ["MANGO"]
    assert not transcript.noise()


def test_api_error_transcript_keeps_the_status():
    transcript = Transcript(parse((FIXTURES / "api_error_400.jsonl").read_text()))
    result = transcript.result
    assert result.is_error is True
    assert result.subtype == "success"  # the CLI says success even on errors: is_error is what counts
    assert result.api_error_status == 400
    assert result.result.startswith("API Error: 400")


def test_garbage_lines_and_unknown_events_are_tolerated():
    lines = (FIXTURES / "success.jsonl").read_text().splitlines()
    noisy = [
        "Warning: something printed to stdout",
        lines[0],
        '{"type": "brand_new_event", "payload": {"x": 1}}',
        '{"type": "assistant", "message": "not-a-dict"}',
        "[1, 2, 3]",
        '{"truncated": ',
        *lines[1:],
        "",
    ]
    events = parse("\n".join(noisy))
    kinds = [type(e).__name__ for e in events]
    assert kinds.count("NoiseLine") == 3
    assert any(isinstance(e, UnknownEvent) and e.type == "brand_new_event" for e in events)
    # a known type with a wrong shape is kept as unknown instead of crashing
    assert any(isinstance(e, UnknownEvent) and e.type == "assistant" for e in events)
    transcript = Transcript(events)
    assert transcript.result.result == "MANGO"
    assert len([e for e in events if isinstance(e, AssistantMessage)]) == 1
    assert all(isinstance(n, NoiseLine) for n in transcript.noise())
