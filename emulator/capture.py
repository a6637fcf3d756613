"""Every request the emulator receives, per job, secrets masked; memory + <data_dir>/captures/<job>.jsonl."""
from __future__ import annotations

import base64
import json
import time
from pathlib import Path

SECRET_HEADERS = {"authorization", "x-api-key", "x-amz-security-token", "api-key"}


def mask_headers(headers) -> dict:
    out = {}
    for k, v in headers.items():
        out[k.lower()] = "***" if k.lower() in SECRET_HEADERS else v
    return out


def body_for_capture(raw: bytes, content_type: str = ""):
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: JSON nested too deep
        pass
    if "x-www-form-urlencoded" in content_type:
        from urllib.parse import parse_qsl
        try:
            form = dict(parse_qsl(raw.decode()))
            if "assertion" in form:
                form["assertion"] = "***"
            return {"_form": form}
        except UnicodeDecodeError:
            pass
    return {"_raw_b64": base64.b64encode(raw[:1_000_000]).decode()}


class CaptureStore:
    def __init__(self, data_dir: Path):
        self.dir = Path(data_dir) / "captures"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.records: list[dict] = []
        self.seq = 0

    def new(self, job_id, provider, operation, method, path, query, headers, raw, content_type) -> dict:
        self.seq += 1
        rec = {
            "seq": self.seq,
            "job_id": job_id,
            "provider": provider,
            "operation": operation,
            "method": method,
            "path": path,
            "query": query,
            "headers": mask_headers(headers),
            "body": body_for_capture(raw, content_type),
            "status": None,
            "error": None,
            "stream": False,
            "response": None,
            # why the emulator answered what it did: ok | injected | refused | emulator_gap, with a one-line reason
            # (set by server.tag once the answer is known; README "Why it answered")
            "cause": None,
            "cause_reason": None,
            "ts": time.time(),
        }
        self.records.append(rec)
        return rec

    def finish(self, rec: dict) -> None:
        """Persist once the status (and for streams, the final reply) is known."""
        name = _safe(rec["job_id"] or "_none")
        with open(self.dir / f"{name}.jsonl", "a") as fh:
            fh.write(json.dumps(rec, default=str) + "\n")

    def forget(self, job_id: str) -> int:
        """Drop a job's captures from memory and disk; returns how many there were."""
        before = len(self.records)
        self.records = [r for r in self.records if r["job_id"] != job_id]
        (self.dir / f"{_safe(job_id)}.jsonl").unlink(missing_ok=True)
        return before - len(self.records)

    def query(self, job_id: str | None) -> list[dict]:
        if job_id is None:
            return list(self.records)
        return [r for r in self.records if r["job_id"] == job_id]


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name))[:200]
