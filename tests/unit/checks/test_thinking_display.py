"""The thinking row follows what the CLI asked for: with `display: "omitted"` a signature-only block is the
correct answer; otherwise the block must carry its text."""
from __future__ import annotations

import json
from types import SimpleNamespace

from worker.checks.thinking import display_asked


def ctx_with(*bodies):
    captures = [{"method": "POST", "path": "/v1/messages", "body": json.dumps(b)} for b in bodies]
    captures.append({"method": "HEAD", "path": "/"})
    return SimpleNamespace(client_reader=lambda: captures)


def test_omitted_is_read_from_the_clis_own_request():
    assert display_asked(ctx_with({"thinking": {"type": "adaptive", "display": "omitted"}})) == "omitted"


def test_summarized_or_silent_requests():
    assert display_asked(ctx_with({"thinking": {"type": "adaptive", "display": "summarized"}})) == "summarized"
    assert display_asked(ctx_with({"thinking": {"type": "enabled", "budget_tokens": 1024}})) is None
    assert display_asked(ctx_with()) is None


def test_omitted_wins_when_any_request_asked_for_it():
    assert display_asked(ctx_with({"thinking": {"type": "adaptive", "display": "summarized"}},
                                  {"thinking": {"type": "adaptive", "display": "omitted"}})) == "omitted"
