"""Pure helpers of the media/caching/long-context checks: built media round-trip through the emulator's readers,
usage judgements on synthetic transcripts."""
from __future__ import annotations

import json

import pytest

from emulator import media as emu_media
from emulator import tokens
from providers._wire import messages as codec
from providers._wire.universal import Envelope


def NeutralRequest(provider: str, model: str, messages: list, **fields):  # noqa: N802 - the request the emulator sees
    return codec.decode_body({"model": model, "messages": messages, **fields}, Envelope(format=provider, model=model), [])
from worker.checks import _caching, _media
from worker.checks.long_context_1m import CHARS_PER_TOKEN, filler, input_total
from worker.checks.vision import names_image
from worker.stream_json import Transcript, parse


@pytest.mark.parametrize("colour", sorted(_media.COLOURS))
def test_png_round_trips_through_the_emulator_reader(colour):
    data = _media.png(37, 19, _media.COLOURS[colour])
    assert emu_media.sniff(data) == "image/png"
    assert emu_media.png_info(data) == {"width": 37, "height": 19, "colour": colour}


def test_check_colours_are_the_emulator_names():
    for name, rgb in _media.COLOURS.items():
        assert emu_media.COLOURS[name] == rgb


def test_random_png_describes_itself():
    data, colour, width, height = _media.random_png()
    text = emu_media.describe(_media.image_block(data))
    assert f"{width}x{height}" in text and colour in text
    assert names_image(text, colour, width, height) is None


def test_pdf_round_trips_through_the_emulator_reader():
    word = _media.random_word()
    data = _media.pdf(f"The code word is {word} (really)")
    assert emu_media.sniff(data) == "application/pdf"
    assert emu_media.pdf_text(data) == f"The code word is {word} (really)"
    assert word in emu_media.describe(_media.document_block(data))
    # a well-formed xref: each offset points at its object
    xref = data.index(b"\nxref\n") + 1
    offsets = [int(line.split()[0]) for line in data[xref:].split(b"\n")[3:8]]
    for number, offset in enumerate(offsets, start=1):
        assert data[offset:].startswith(b"%d 0 obj" % number)
    assert int(data.split(b"startxref\n")[1].split(b"\n")[0]) == xref


def test_corrupted_media_cannot_be_read():
    data, colour, width, height = _media.random_png()
    text = emu_media.describe(_media.image_block(data), corrupt=True)
    assert names_image(text, colour, width, height) is not None
    word = _media.random_word()
    assert word not in emu_media.describe(_media.document_block(_media.pdf(word)), corrupt=True)


def test_user_message_is_one_stream_json_line():
    line = _media.user_message([{"type": "text", "text": "hi"}])
    assert line.endswith("\n") and line.count("\n") == 1
    assert json.loads(line) == {"type": "user", "message": {"role": "user", "content": [{"type": "text", "text": "hi"}]}}


def test_names_image_needs_colour_and_size():
    assert names_image("A 40x50 PNG, solid red", "red", 40, 50) is None
    assert names_image("It is red, 40 × 50 pixels", "red", 40, 50) is None
    assert "colour" in names_image("A 40x50 PNG, solid blue", "red", 40, 50)
    assert "size" in names_image("A 40x51 PNG, solid red", "red", 40, 50)
    assert names_image("redish 40x50", "red", 40, 50) is not None  # whole word only


def test_filler_reaches_the_target_under_the_emulator_count():
    text = filler(1000)
    req = NeutralRequest(provider="anthropic", model="m", messages=[{"role": "user", "content": [
        {"type": "text", "text": text}]}])
    assert 1000 <= tokens.count(req) <= 1100
    assert len(text) >= 1000 * CHARS_PER_TOKEN


def test_input_total_sums_cached_and_uncached():
    assert input_total({"input_tokens": 3, "cache_creation_input_tokens": 5, "cache_read_input_tokens": 7}) == 15
    assert input_total({"input_tokens": None}) == 0


# --- caching judgements on synthetic transcripts -----------------------------------------------------


class _Run:
    def __init__(self, turns: list[tuple[dict, dict]], total: dict):
        lines = []
        for start, delta in turns:
            lines.append({"type": "stream_event", "event": {"type": "message_start", "message": {"usage": start}}})
            lines.append({"type": "stream_event", "event": {"type": "message_delta", "usage": delta}})
        lines.append({"type": "result", "is_error": False, "usage": total, "result": "ok"})
        self.transcript = Transcript(parse("\n".join(json.dumps(x) for x in lines)))

    @property
    def result(self):
        return self.transcript.result


def _u(create=0, read=0, five=None, hour=None):
    u = {"input_tokens": 0, "cache_creation_input_tokens": create, "cache_read_input_tokens": read}
    if five is not None or hour is not None:
        u["cache_creation"] = {"ephemeral_5m_input_tokens": five or 0, "ephemeral_1h_input_tokens": hour or 0}
    return u


def test_turn_usages_merge_message_delta_over_message_start():
    # Converse through the gateway: cache figures only in message_delta
    run = _Run([(_u(), {"cache_creation_input_tokens": 900}), (_u(), {"cache_read_input_tokens": 800})],
               _u(900, 800))
    turns = _caching.turn_usages(run)
    assert [_caching.creation(t) for t in turns] == [900, 0]
    assert [_caching.read(t) for t in turns] == [0, 800]
    assert _caching.judge_cli_usage(run, "5m") is None


def test_no_read_on_turn_two_fails():
    run = _Run([(_u(900), {}), (_u(100), {})], _u(1000))
    assert "turn 2 did not read" in _caching.judge_cli_usage(run, "5m")


def test_no_creation_on_turn_one_fails():
    run = _Run([(_u(), {}), (_u(0, 800), {})], _u(0, 800))
    assert "turn 1 created no cache" in _caching.judge_cli_usage(run, "5m")


def test_one_hour_needs_ephemeral_1h_tokens():
    ok = _Run([(_u(900, 0, 0, 900), {}), (_u(100, 800, 0, 100), {})], _u(1000, 800, 0, 1000))
    assert _caching.judge_cli_usage(ok, "1h") is None
    downgraded = _Run([(_u(900, 0, 900, 0), {}), (_u(100, 800, 100, 0), {})], _u(1000, 800, 1000, 0))
    assert "silently downgraded" in _caching.judge_cli_usage(downgraded, "1h")
    no_split = _Run([(_u(900), {}), (_u(100, 800), {})], _u(1000, 800, 0, 0))
    assert "gateway dropped the 1h split" in _caching.judge_cli_usage(no_split, "1h", upstream_1h=1000)
    assert "no ephemeral_1h" in _caching.judge_cli_usage(no_split, "1h")


def test_a_red_cache_tier_names_the_clis_symptom_and_the_upstream_cause(monkeypatch):
    """Both views are judged: a silent 1h downgrade seen by the CLI must also name what reached the provider (corpus
    bedrock-converse-message-ttl-downgrade: message-level 1h markers sent upstream as 5m)."""
    from types import SimpleNamespace

    monkeypatch.setattr(_caching, "judge_tool_round", lambda ctx, run, word: None)
    monkeypatch.setattr(_caching, "judge_cli_usage", lambda run, ttl, up: "1h TTL silently downgraded: …")
    monkeypatch.setattr(_caching, "judge_upstream",
                        lambda ctx, run, ttl: "turn 1 carried cache markers with ttl ['5m'] upstream, expected 1h")
    failed = []
    run = SimpleNamespace(transcript=SimpleNamespace(stream_events=lambda: []))
    asked_1h = [{"method": "POST", "body": json.dumps({"messages": [], "system": [
        {"type": "text", "text": "x", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]})}]
    ctx = SimpleNamespace(run_cli=lambda *a, **k: run, classify=lambda r: None, sees_upstream=True,
                          client_reader=lambda: asked_1h,
                          model_calls=lambda: [], response_usage=lambda c: {}, supporting=lambda name: True,
                          asserted=lambda *n: None, failed=lambda r, a, **kw: failed.append(a) or "red",
                          passed=lambda r, **kw: "green")
    from worker.checks.prompt_caching_1h import CHECK
    assert CHECK.run(ctx) == "red"
    assert "silently downgraded" in failed[0] and "expected 1h" in failed[0]


def _client(*markers):
    body = {"messages": [{"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": m}
                                                      for m in markers]}]}
    captures = [{"method": "POST", "body": json.dumps(body)}]
    from types import SimpleNamespace
    return SimpleNamespace(client_reader=lambda: captures)


def test_a_cli_that_asked_for_no_1h_entry_cannot_test_the_gateway():
    """Claude Code 2.1.42 honours only ENABLE_PROMPT_CACHING_1H_BEDROCK (its own Bedrock mode): through a gateway it
    sends plain ephemeral markers, and a 5m write is then not the gateway's downgrade."""
    reason = _caching.cli_did_not_ask(_client({"type": "ephemeral"}), "1h")
    assert reason and "asked for no 1h cache entry" in reason and "['5m']" in reason
    assert _caching.cli_did_not_ask(_client({"type": "ephemeral"}, {"type": "ephemeral", "ttl": "1h"}), "1h") is None
    assert _caching.cli_did_not_ask(_client({"type": "ephemeral"}), "5m") is None


def test_a_1h_tier_whose_cli_did_not_ask_is_not_tested_not_failed(monkeypatch):
    from types import SimpleNamespace

    from worker.checks.prompt_caching_1h import CHECK

    run = SimpleNamespace(duration_ms=3, transcript=SimpleNamespace(stream_events=lambda: []))
    ctx = _client({"type": "ephemeral"})
    ctx.run_cli = lambda *a, **k: run
    ctx.classify = lambda r: None
    ctx.failed = lambda *a, **k: pytest.fail("a gateway fail for what the CLI never asked")
    outcome = CHECK.run(ctx)
    assert outcome.status.value == "not_tested" and outcome.cause == "client"
