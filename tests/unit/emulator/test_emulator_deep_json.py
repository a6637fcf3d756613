"""JSON nested deeper than Python's parser goes is a body the emulator cannot parse: a 400 in the provider's shape,
captured raw — never a bare 500 (drills/malformed_inputs.py found the 500)."""
from __future__ import annotations

DEEP = b"[" * 100_000 + b"]" * 100_000


def test_a_too_deeply_nested_body_is_a_400_and_captured_raw(emu):
    job = emu.job()
    answer = emu.http.post("/v1/messages", headers=emu.anthropic_headers(), content=DEEP)
    assert answer.status_code == 400, answer.text[:300]
    assert answer.json()["error"]["type"] == "invalid_request_error"
    record = emu.captures(job)[0]
    assert "_raw_b64" in record["body"] and record["status"] == 400
