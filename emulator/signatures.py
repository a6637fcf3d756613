"""Thinking-block signatures: base64 HMAC-SHA256 of the thinking text under a per-data_dir secret."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from .errors import injected, invalid


class Signer:
    def __init__(self, data_dir: Path):
        path = Path(data_dir) / ".thinking-secret"
        if not path.exists():
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(secrets.token_hex(32))
            os.replace(tmp, path) if not path.exists() else tmp.unlink()
        self.secret = path.read_text().strip().encode()

    def sign(self, text: str) -> str:
        mac = hmac.new(self.secret, b"thinking\x00" + text.encode(), hashlib.sha256).digest()
        return base64.b64encode(b"EMU1" + mac).decode()

    def tampered(self, text: str) -> str:
        """The signature fault mode tamper_signature hands out instead of sign(text)."""
        sig = self.sign(text)
        return sig[:-6] + ("AAAAA=" if not sig.endswith("AAAAA=") else "BBBBB=")

    def sign_omitted(self, hidden: str) -> str:
        """The signature of a thinking block whose text the API omitted (`display: "omitted"`): it carries the
        hidden thinking's digest, so the block replayed with `thinking: ""` verifies (as the real API accepts an
        omitted block back with its signature) and one with any text put back does not."""
        digest = hashlib.sha256(hidden.encode()).digest()
        mac = hmac.new(self.secret, b"omitted\x00" + digest, hashlib.sha256).digest()
        return base64.b64encode(b"EMU2" + digest + mac).decode()

    def verify(self, text: str, signature: str) -> bool:
        if not isinstance(signature, str):
            return False
        if text == "":
            try:
                raw = base64.b64decode(signature, validate=True)
            except ValueError:
                raw = b""
            if raw.startswith(b"EMU2") and len(raw) == 4 + 64:
                digest, mac = raw[4:36], raw[36:]
                want = hmac.new(self.secret, b"omitted\x00" + digest, hashlib.sha256).digest()
                return hmac.compare_digest(mac, want)
        return hmac.compare_digest(signature.encode(), self.sign(text).encode())

    def check_messages(self, req, stripped: bool = False) -> None:
        """Every replayed thinking block must carry the signature we issued (400 like the real API).

        A replayed signature that is exactly the one fault mode tamper_signature handed out is refused the same
        way, but tagged injected; so is a missing thinking block while strip_thinking applies (`stripped`): the
        emulator's own faulty answers made the client send them."""
        for i, m in enumerate(req.messages):
            if m.role != "assistant":
                continue
            for j, p in enumerate(m.parts):
                if p.kind != "reasoning":
                    continue
                if p.redacted:
                    if not p.data:
                        raise invalid(f"messages.{i}.content.{j}: Invalid `data` in `redacted_thinking` block")
                    continue
                text = p.text or ""
                if not self.verify(text, p.signature or ""):
                    message = f"messages.{i}.content.{j}: Invalid `signature` in `thinking` block"
                    if isinstance(p.signature, str) and hmac.compare_digest(
                            p.signature.encode(), self.tampered(text).encode()):
                        raise injected(message, "mode tamper_signature: the replayed signature is the tampered one "
                                                "the emulator handed out")
                    raise invalid(message)
        if not (req.reasoning and req.reasoning.mode in ("enabled", "adaptive")):
            return
        # with thinking on, the last assistant turn of a tool loop must start with its thinking block
        for i in range(len(req.messages) - 1, -1, -1):
            m = req.messages[i]
            if m.role != "assistant":
                continue
            has_tool = any(p.kind == "tool_use" for p in m.parts)
            if has_tool and m.parts and m.parts[0].kind != "reasoning":
                found = m.parts[0].type or m.parts[0].kind
                message = (f"messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but found "
                           f"`{found}`. When `thinking` is enabled, a final `assistant` message must start with a "
                           "thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). We "
                           "recommend you include thinking blocks from previous turns. To avoid this requirement, "
                           "disable `thinking`. Please consult our documentation at "
                           "https://docs.claude.com/en/docs/build-with-claude/extended-thinking")
                if stripped:
                    raise injected(message, "mode strip_thinking: the emulator's answers carried no thinking block "
                                            "to replay")
                raise invalid(message)
            break
