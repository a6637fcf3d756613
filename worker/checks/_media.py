"""Small media the checks build from scratch (stdlib only) and the stream-json user message that carries them.

- `png(width, height, rgb)`: a solid-colour 8-bit RGB PNG (what the emulator decodes: size + colour name).
- `pdf(text)`: a one-page PDF with an uncompressed content stream `(text) Tj` (what the emulator extracts).
- `user_message(blocks)`: one line of `--input-format stream-json` input.
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
import zlib

# The colours the emulator names (emulator/media.py COLOURS), restricted to ones far from every other entry,
# so the nearest-colour answer is unambiguous.
COLOURS = {
    "red": (255, 0, 0), "blue": (0, 0, 255), "yellow": (255, 255, 0), "cyan": (0, 255, 255),
    "magenta": (255, 0, 255), "orange": (255, 165, 0), "purple": (128, 0, 128), "navy": (0, 0, 128),
    "white": (255, 255, 255), "black": (0, 0, 0), "green": (0, 128, 0),
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack("!I", len(body)) + kind + body + struct.pack("!I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A solid-colour, 8-bit RGB, non-interlaced PNG."""
    row = b"\x00" + bytes(rgb) * width  # filter type 0 (None) per scanline
    header = struct.pack("!IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(row * height, 9)) + _chunk(b"IEND", b""))


def random_png() -> tuple[bytes, str, int, int]:
    """(bytes, colour name, width, height) with a random colour and size."""
    colour = secrets.choice(sorted(COLOURS))
    width, height = 24 + secrets.randbelow(200), 24 + secrets.randbelow(200)
    return png(width, height, COLOURS[colour]), colour, width, height


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf(text: str) -> bytes:
    """A valid one-page PDF 1.4 whose only content is `text`, uncompressed, with a correct xref table."""
    content = f"BT /F1 24 Tf 72 720 Td ({_pdf_escape(text)}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def random_word() -> str:
    """A word no model would guess: letters only, so PDF text extraction returns it verbatim."""
    alphabet = "bcdfghjklmnpqrstvwxz"
    return "Zq" + "".join(secrets.choice(alphabet) for _ in range(10))


def image_block(data: bytes, media_type: str = "image/png") -> dict:
    return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": b64(data)}}


def document_block(data: bytes, media_type: str = "application/pdf") -> dict:
    return {"type": "document", "source": {"type": "base64", "media_type": media_type, "data": b64(data)}}


def user_message(blocks: list[dict]) -> str:
    """One `--input-format stream-json` line: a user message with these content blocks."""
    return json.dumps({"type": "user", "message": {"role": "user", "content": blocks}}) + "\n"


def media_parts(requests, kind: str) -> list:
    """Universal parts of `kind` (image | document) anywhere in the requests' messages, tool results included."""
    found = []
    for request in requests:
        for message in request.messages:
            for part in message.parts:
                if part.kind == kind:
                    found.append(part)
                for inner in part.content or []:
                    if inner.kind == kind:
                        found.append(inner)
    return found
