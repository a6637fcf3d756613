"""Streaming frames, encoders only: how a reply is cut into deltas, SSE events, AWS event-stream frames.

AWS event-stream (application/vnd.amazon.eventstream):
frame = u32 total length | u32 headers length | u32 CRC32(prelude) | headers | payload | u32 CRC32(all before)
header = u8 name length | name | u8 type (7 = string) | u16 value length | value
botocore ships only the decoder (botocore.eventstream.EventStreamBuffer); tests round-trip every frame through it.
"""
from __future__ import annotations

import binascii
import json
import re
import struct


# -- deltas ------------------------------------------------------------------------------------------------------

def split_text(text: str, buffer: bool) -> list[str]:
    """Text as streamed: word by word (at least two deltas for anything splittable), or whole when `buffer`."""
    if buffer or len(text) <= 1:
        return [text]
    parts = re.findall(r"\S+\s*|\s+", text)
    if len(parts) == 1 and len(text) > 1:
        mid = len(text) // 2
        parts = [text[:mid], text[mid:]]
    return parts


def split_json(s: str, buffer: bool) -> list[str]:
    """A tool input's JSON as streamed: two to six pieces, or whole when `buffer`."""
    if buffer or len(s) < 4:
        return [s]
    n = min(6, max(2, len(s) // 12))
    step = -(-len(s) // n)
    return [s[i:i + step] for i in range(0, len(s), step)]


# -- server-sent events --------------------------------------------------------------------------------------------

def sse(event: str, data: dict) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


# -- AWS event-stream ----------------------------------------------------------------------------------------------


def _header(name: str, value: str) -> bytes:
    n, v = name.encode(), value.encode()
    return struct.pack("!B", len(n)) + n + struct.pack("!BH", 7, len(v)) + v


def frame(headers: dict[str, str], payload: bytes, *, corrupt: bool = False) -> bytes:
    hb = b"".join(_header(k, v) for k, v in headers.items())
    total = 12 + len(hb) + len(payload) + 4
    prelude = struct.pack("!II", total, len(hb))
    head = prelude + struct.pack("!I", binascii.crc32(prelude) & 0xFFFFFFFF) + hb + payload
    crc = binascii.crc32(head) & 0xFFFFFFFF
    if corrupt:
        crc ^= 0xDEADBEEF
    return head + struct.pack("!I", crc)


def event(event_type: str, payload: dict, *, corrupt: bool = False) -> bytes:
    return frame({":event-type": event_type, ":content-type": "application/json", ":message-type": "event"},
                 json.dumps(payload, separators=(",", ":")).encode(), corrupt=corrupt)


def exception(exception_type: str, message: str) -> bytes:
    return frame({":exception-type": exception_type, ":content-type": "application/json", ":message-type": "exception"},
                 json.dumps({"message": message}).encode())
