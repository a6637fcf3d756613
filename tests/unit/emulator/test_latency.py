"""Latency realism (emulator/latency.py): seeded draws, off adds nothing, specs parse or fail in one line, and the
emulator holds a reply as long as the draw says."""
from __future__ import annotations

import statistics
import time

import anthropic
import pytest

from emulator.latency import NO_DELAY, LatencySpecError, RequestCounter, family_of, load_realistic, parse_spec
from providers.anthropic.credentials import API_KEY as anthropic_key

MODEL = "claude-sonnet-4-5-20250929"


def test_same_seed_and_request_give_the_same_delay_and_others_differ():
    a, b = parse_spec("realistic,seed=7"), parse_spec("realistic,seed=7")
    draws = [a.draw(f"job-1#{n}", "anthropic", MODEL, 200) for n in range(1, 6)]
    assert draws == [b.draw(f"job-1#{n}", "anthropic", MODEL, 200) for n in range(1, 6)]
    assert len({d.ttft_s for d in draws}) == 5  # each request of the job draws its own
    other_seed = parse_spec("realistic,seed=8").draw("job-1#1", "anthropic", MODEL, 200)
    assert other_seed != draws[0]
    assert all(d.ttft_s > 0 and d.generation_s > 0 for d in draws)


def test_two_runs_of_the_same_cells_draw_the_same_delays():
    latency = parse_spec("realistic,seed=3")
    first, second = RequestCounter(), RequestCounter()
    keys_a = [first.next_key("20261129T100000Z-aaaaaa:tool_use:anthropic:haiku") for _ in range(3)]
    keys_b = [second.next_key("20261130T100000Z-bbbbbb:tool_use:anthropic:haiku") for _ in range(3)]
    assert keys_a == keys_b == ["tool_use:anthropic:haiku#1", "tool_use:anthropic:haiku#2", "tool_use:anthropic:haiku#3"]
    assert [latency.draw(k, "anthropic", MODEL, 50) for k in keys_a] == [latency.draw(k, "anthropic", MODEL, 50) for k in keys_b]
    assert first.next_key("20261129T100000Z-aaaaaa:tool_use:anthropic:sonnet") == "tool_use:anthropic:sonnet#1"
    assert first.next_key("job-1") == "job-1#1" and first.next_key(None) == "-#1"  # other ids stay whole


def test_off_is_the_default_and_adds_no_delay():
    for text in (None, "", "off", " OFF "):
        latency = parse_spec(text)
        assert latency.off
        assert latency.draw("job#1", "anthropic", MODEL, 5000) == NO_DELAY
    assert NO_DELAY.total_s == 0


def test_a_spec_sets_every_provider_and_model():
    latency = parse_spec("ttft=800ms±200,tps=60")
    assert latency.mode == "spec" and latency.seed == 0
    for provider, model in (("anthropic", MODEL), ("vertex_ai", "claude-opus-4-5@20251101"), ("x", None)):
        f = latency.figures(provider, model)
        assert (f.ttft_ms, f.spread_ms, f.tps, f.tps_spread) == (800, 200, 60, 0)
    f = parse_spec("ttft=1.2s±0.3,tps=60±10,seed=4").figures("anthropic", MODEL)
    assert (f.ttft_ms, f.spread_ms, f.tps, f.tps_spread) == (1200, 300, 60, 10)
    steady = parse_spec("ttft=250ms,tps=50").draw("k", "anthropic", MODEL, 100)
    assert steady.ttft_s == pytest.approx(0.25) and steady.generation_s == pytest.approx(2.0)


def test_the_draws_follow_the_figures():
    latency = parse_spec("ttft=800ms±200,tps=60±5,seed=1")
    draws = [latency.draw(f"job#{n}", "anthropic", MODEL, 60) for n in range(2000)]
    assert statistics.median(d.ttft_s for d in draws) == pytest.approx(0.8, rel=0.05)
    assert 0.1 < statistics.pstdev(d.ttft_s for d in draws) < 0.35
    assert statistics.median(d.generation_s for d in draws) == pytest.approx(1.0, rel=0.05)


def test_realistic_figures_differ_by_provider_and_family():
    latency = load_realistic()
    assert family_of("anthropic.claude-haiku-4-5-20251001-v1:0") == "haiku" and family_of(None) == "default"
    haiku, opus = latency.figures("anthropic", "claude-haiku-4-5"), latency.figures("anthropic", "claude-opus-4-5")
    assert haiku.ttft_ms < opus.ttft_ms and haiku.tps > opus.tps
    assert latency.figures("vertex_ai", MODEL) != latency.figures("anthropic", MODEL)
    assert latency.figures("unknown_column", MODEL) == latency.fallback["sonnet"]


@pytest.mark.parametrize("text", ["fast", "ttft=800ms", "tps=60", "ttft=800,tps=60", "ttft=800ms±x,tps=60",
                                  "ttft=800ms,tps=0", "ttft=800ms,tps=60,seed=abc", "realistic,ttft=1s",
                                  "ttft=800ms,tps=60,ttft=1s", "ttft=800ms;tps=60"])
def test_a_bad_spec_is_one_clear_line(text):
    with pytest.raises(LatencySpecError) as caught:
        parse_spec(text)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("emulator latency ") and len(message) < 300


def test_a_bad_setting_is_refused_in_one_line(monkeypatch):
    from ccmatrix.settings import SettingsError, get_settings

    monkeypatch.setenv("CCMATRIX_EMULATOR_LATENCY", "ttft=soon")
    get_settings.cache_clear()
    try:
        with pytest.raises(SettingsError) as caught:
            get_settings()
    finally:
        get_settings.cache_clear()
    assert str(caught.value).startswith("bad setting(s): CCMATRIX_EMULATOR_LATENCY: ")
    assert "\n" not in str(caught.value)


def test_the_emulator_holds_and_paces_replies_as_drawn(emu):
    client = anthropic.Anthropic(base_url=emu.base, api_key=anthropic_key, max_retries=0)
    saved = emu.state.latency
    emu.state.latency = parse_spec("ttft=300ms,tps=100")
    try:
        job = emu.job()
        started = time.monotonic()
        client.messages.create(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Reply with exactly the word: zebra"}])
        held = time.monotonic() - started
        with client.messages.stream(model=MODEL, max_tokens=64, messages=[
                {"role": "user", "content": "Count from 1 to 7, separated by spaces."}]) as stream:
            text = "".join(stream.text_stream)
        caps = emu.captures(job)
    finally:
        emu.state.latency = saved
    assert held >= 0.3  # sleeps last at least as long as asked (a lower bound, not a timing target)
    assert "7" in text
    assert [c["latency_ms"]["ttft"] for c in caps] == [300.0, 300.0]
    tokens = caps[1]["response"]["usage"]["output_tokens"]
    assert caps[1]["latency_ms"]["generation"] == pytest.approx(tokens * 10, abs=0.1)
    job = emu.job()
    client.messages.create(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Reply with exactly the word: zebra"}])
    assert "latency_ms" not in emu.captures(job)[0]  # off again: nothing drawn, nothing held
