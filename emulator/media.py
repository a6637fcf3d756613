"""Reading images and PDFs from their bytes, so an answer proves the bytes arrived intact."""
from __future__ import annotations

import hashlib
import re
import struct
import zlib

from providers._wire import messages
from providers._wire.universal import Part, UniversalRequest

from .errors import invalid

COLOURS = {
    "black": (0, 0, 0), "white": (255, 255, 255), "red": (255, 0, 0), "green": (0, 128, 0), "lime": (0, 255, 0),
    "blue": (0, 0, 255), "yellow": (255, 255, 0), "cyan": (0, 255, 255), "magenta": (255, 0, 255),
    "orange": (255, 165, 0), "purple": (128, 0, 128), "grey": (128, 128, 128), "brown": (139, 69, 19),
    "pink": (255, 192, 203), "navy": (0, 0, 128),
}


def sniff(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def check_image(data: bytes, media_type: str, where: str) -> None:
    actual = sniff(data)
    if actual is None or not actual.startswith("image/"):
        raise invalid(f"{where}: Could not process image")
    if actual != media_type:
        raise invalid(f"{where}: The image was specified using the {media_type} media type, but the image appears "
                      f"to be a {actual} image")


def nearest_colour(rgb) -> str:
    return min(COLOURS, key=lambda n: sum((a - b) ** 2 for a, b in zip(COLOURS[n], rgb)))


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def png_info(data: bytes) -> dict:
    """{width, height, colour (name of the mean colour)} for 8-bit grey/RGB/RGBA non-interlaced PNGs."""
    pos, idat, w = 8, b"", None
    while pos + 8 <= len(data):
        length, ctype = struct.unpack("!I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if ctype == b"IHDR":
            w, h, depth, colour_type, _, _, interlace = struct.unpack("!IIBBBBB", chunk[:13])
        elif ctype == b"IDAT":
            idat += chunk
        pos += 12 + length
    if w is None:
        raise ValueError("no IHDR")
    info = {"width": w, "height": h}
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour_type)
    if depth != 8 or channels is None or interlace or w * h > 4_000_000:
        return info
    raw = zlib.decompress(idat)
    stride = w * channels
    prev = bytearray(stride)
    total = [0, 0, 0]
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b = prev[x]
            c = prev[x - channels] if x >= channels else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                line[x] = (line[x] + _paeth(a, b, c)) & 255
        for x in range(0, stride, channels):
            px = line[x:x + channels]
            rgb = (px[0],) * 3 if channels <= 2 else tuple(px[:3])
            for k in range(3):
                total[k] += rgb[k]
        prev = line
    n = w * h
    info["colour"] = nearest_colour(tuple(t / n for t in total))
    return info


_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
_TJ = re.compile(rb"\((?:\\.|[^\\)])*\)\s*Tj|\[(?:[^\]]*)\]\s*TJ", re.S)
_STR = re.compile(rb"\(((?:\\.|[^\\)])*)\)", re.S)


def pdf_text(data: bytes) -> str:
    out = []
    for m in _STREAM.finditer(data):
        body = m.group(1)
        try:
            body = zlib.decompress(body)
        except zlib.error:
            pass
        for op in _TJ.finditer(body):
            parts = [s.group(1) for s in _STR.finditer(op.group(0))]
            text = b"".join(parts).replace(rb"\(", b"(").replace(rb"\)", b")").replace(rb"\\", b"\\")
            out.append(text.decode("latin-1"))
    return " ".join(t.strip() for t in out if t.strip())


def describe(block: Part | dict, corrupt: bool = False) -> str:
    """One sentence describing an image or document's decoded content (a universal part, or a Messages block)."""
    part = block if isinstance(block, Part) else messages.block(block)
    if part.source is not None:
        return "The attachment is referenced by URL; I cannot open it offline."
    data = part.data
    if part.kind == "document" and (part.media_type or "").startswith("text/") and data is not None:
        return f"The document says: {data.decode('utf-8', 'replace')[:200]}"
    if data is None:
        return "The attachment could not be decoded."
    if corrupt:
        data = bytes(b ^ 0x5A for b in data[:64]) + data[64:]
    digest = hashlib.sha256(data).hexdigest()[:12]
    kind = sniff(data)
    if part.kind == "image":
        if kind == "image/png":
            try:
                info = png_info(data)
            except (ValueError, zlib.error, struct.error):
                return f"The image (sha256 {digest}) could not be decoded."
            colour = f", solid {info['colour']}" if "colour" in info else ""
            return f"The image is a {info['width']}x{info['height']} PNG{colour} (sha256 {digest})."
        if kind:
            return f"The image is a {kind.split('/')[1].upper()} (sha256 {digest})."
        return f"The image (sha256 {digest}) could not be decoded."
    if kind == "application/pdf":
        text = pdf_text(data)
        pages = len(re.findall(rb"/Type\s*/Page\b", data))
        return f"The PDF ({pages} page{'s' if pages != 1 else ''}, sha256 {digest}) says: {text[:300] or '(no text)'}"
    return f"The document (sha256 {digest}) could not be decoded."


def validate_blocks(req: UniversalRequest) -> None:
    """Bad base64 / wrong media type -> 400, wherever the part sits (also inside a tool result)."""
    for i, m in enumerate(req.messages):
        for j, p in enumerate(m.parts):
            inner = [p] + (list(p.content or []) if p.kind == "tool_result" else [])
            for blk in inner:
                if blk.kind not in ("image", "document") or blk.source is not None:
                    continue
                where = f"messages.{i}.content.{j}.{blk.kind}.source.base64"
                if blk.data is None:
                    raise invalid(f"{where}: Invalid base64 data")
                if blk.kind == "image":
                    check_image(blk.data, blk.media_type or "", where)
                elif blk.media_type == "application/pdf" and not blk.data.startswith(b"%PDF-"):
                    raise invalid(f"{where}.data: The PDF specified was not valid.")
