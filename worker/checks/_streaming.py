"""Shared judgements about streams as the CLI saw them (`--include-partial-messages` stream_event lines)."""
from __future__ import annotations


def deltas(run, delta_type: str) -> list[dict]:
    """content_block_delta events of one delta type, in arrival order."""
    return [e for e in run.transcript.stream_events("content_block_delta")
            if (e.get("delta") or {}).get("type") == delta_type]


def deltas_before_stop(run, delta_type: str) -> dict[int, int]:
    """For each content block index: how many `delta_type` deltas arrived before its content_block_stop."""
    counts: dict[int, int] = {}
    stopped: set[int] = set()
    for event in run.transcript.stream_events():
        kind, index = event.get("type"), event.get("index")
        if kind == "message_start":
            stopped.clear()  # block indexes restart with each message (turn)
        elif kind == "content_block_delta" and (event.get("delta") or {}).get("type") == delta_type:
            if index not in stopped:
                counts[index] = counts.get(index, 0) + 1
        elif kind == "content_block_stop":
            stopped.add(index)
    return counts
