"""A recording pass-through in front of the gateway: captures what the CLIENT sent.

    python -m fidelity.recorder --listen-port P --upstream http://127.0.0.1:Q --data-dir DIR

Every request is forwarded to the upstream with its method, path, query, body bytes and headers unchanged
(hop-by-hop headers and Host excepted), and the response is streamed back chunk by chunk as it arrives (raw bytes,
content-encoding untouched). Each request is recorded — method, path, query, headers with secrets masked, body
parsed as JSON, response status — tagged with a job id, in ``<DIR>/client/<job_id>.jsonl``.

Job tagging, two ways:
- ``POST /_recorder/jobs {"job_id": "..."}`` sets the current job (one CLI run at a time per recorder);
- or a path prefix ``/_job/<job_id>/...`` (set ``ANTHROPIC_BASE_URL=http://host:P/_job/<job_id>``): the prefix is
  stripped before forwarding; safe with concurrent runs through one recorder.

Control: ``GET /_recorder/captures?job_id=X`` → ``{"captures": [...]}``, ``GET /_recorder/health``.
Recording is off the forwarding path: the body is kept as bytes and parsed/written after the response is done.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import httpx

log = logging.getLogger("fidelity.recorder")

SECRET_HEADERS = {"authorization", "x-api-key", "api-key", "proxy-authorization", "x-goog-api-key", "cookie"}
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "trailers",
    "transfer-encoding", "upgrade", "host",
}
UNASSIGNED = "_unassigned"
_JOB_PREFIX = re.compile(r"^/_job/(?P<job>[^/]+)(?P<rest>/.*)?$")
_SAFE_JOB = re.compile(r"[^A-Za-z0-9._-]")


def mask_headers(headers: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in headers:
        k = k.lower()
        v = "***" if k in SECRET_HEADERS else v
        out[k] = f"{out[k]}, {v}" if k in out else v
    return out


class _ErrorKeeper:
    """Keeps what the gateway answered when it answered an error: the body of a non-2xx response, or the
    `event: error` frame of a stream that failed inside an HTTP 200 (bounded; nothing kept for good answers)."""

    LIMIT = 4096

    def __init__(self, status: int, content_type: str) -> None:
        self.status = status
        self.stream = "event-stream" in content_type
        self.buf = bytearray()
        self.error_frame: bytes | None = None
        self.tail = b""

    def feed(self, chunk: bytes, encoding: str | None) -> None:
        if encoding and encoding != "identity":
            return  # compressed: not worth decoding here
        if self.status >= 400:
            if len(self.buf) < self.LIMIT:
                self.buf += chunk[: self.LIMIT - len(self.buf)]
        elif self.stream and self.error_frame is None:
            window = self.tail + chunk
            at = window.find(b"event: error")
            if at >= 0:
                self.error_frame = window[at:at + self.LIMIT]
            self.tail = window[-64:]

    def text(self) -> str | None:
        data = bytes(self.buf) if self.status >= 400 else self.error_frame
        if not data:
            return None
        return data.decode("utf-8", "replace")


def parse_body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {"_raw": raw.decode("utf-8", "replace")[:100_000], "_not_json": True}


def safe_job(job_id: str) -> str:
    return _SAFE_JOB.sub("_", job_id)[:200] or UNASSIGNED


class Recorder:
    """The ASGI app. ``upstream`` is the base URL of the gateway (a path in it is kept as a prefix)."""

    def __init__(self, upstream: str, data_dir: str | Path, timeout_s: float = 900.0) -> None:
        self.upstream = upstream.rstrip("/")
        self.data_dir = Path(data_dir)
        (self.data_dir / "client").mkdir(parents=True, exist_ok=True)
        self.timeout_s = timeout_s
        self.current_job: str = UNASSIGNED
        self.captures: dict[str, list[dict[str, Any]]] = {}
        self.seq = 0
        self._client: httpx.AsyncClient | None = None
        self._write_lock = threading.Lock()

    # ----------------------------------------------------------------------------------------------- ASGI
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = scope.get("path") or "/"
        if path.startswith("/_recorder/"):
            await self._control(scope, receive, send, path)
            return
        await self._forward(scope, receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                if self._client is not None:
                    await self._client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout_s, connect=30.0),
                limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
                follow_redirects=False,
                trust_env=False,
            )
        return self._client

    # ----------------------------------------------------------------------------------------- forwarding
    async def _forward(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        t0 = time.monotonic()
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        path = raw_path.decode("latin-1")
        job = self.current_job
        m = _JOB_PREFIX.match(path)
        if m:
            job = safe_job(unquote(m.group("job")))
            path = m.group("rest") or "/"
        query = (scope.get("query_string") or b"").decode("latin-1")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
        chunks = []
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            chunks.append(msg.get("body", b""))
            if not msg.get("more_body"):
                break
        body = b"".join(chunks)
        self.seq += 1
        cap: dict[str, Any] = {
            "seq": self.seq,
            "ts": time.time(),
            "job_id": job,
            "method": scope["method"],
            "path": path,
            "query": query,
            "headers": mask_headers(headers),
            "_body": body,
            "status": None,
        }
        self.captures.setdefault(job, []).append(cap)

        url = self.upstream + path + (f"?{query}" if query else "")
        fwd_headers = [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"]
        status = 502
        try:
            req = self.client().build_request(scope["method"], url, headers=fwd_headers, content=body)
            resp = await self.client().send(req, stream=True)
        except httpx.HTTPError as e:
            msg = json.dumps({"type": "error", "error": {"type": "recorder_upstream_error", "message": str(e)}}).encode()
            await send({"type": "http.response.start", "status": 502,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(msg)).encode())]})
            await send({"type": "http.response.body", "body": msg})
            self._finish(cap, 502, t0, error=str(e))
            return
        status = resp.status_code
        keep = _ErrorKeeper(status, resp.headers.get("content-type", ""))
        try:
            out_headers = [(k, v) for k, v in resp.headers.raw if k.decode("latin-1").lower() not in HOP_BY_HOP]
            await send({"type": "http.response.start", "status": status, "headers": out_headers})
            async for chunk in resp.aiter_raw():
                if chunk:
                    keep.feed(chunk, resp.headers.get("content-encoding"))
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except (httpx.HTTPError, OSError) as e:
            self._finish(cap, status, t0, error=f"stream broken: {e}")
            raise
        finally:
            await resp.aclose()
            if keep.text() is not None:
                cap["response_error"] = keep.text()  # the gateway's own words when it answered an error
        self._finish(cap, status, t0)

    def _finish(self, cap: dict[str, Any], status: int, t0: float, error: str | None = None) -> None:
        cap["status"] = status
        cap["duration_ms"] = int((time.monotonic() - t0) * 1000)
        if error:
            cap["error"] = error
        # parse + append off the event loop: the next request is not held up by a large body
        loop = asyncio.get_running_loop()
        loop.run_in_executor(None, self._persist, cap)

    def _public(self, cap: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in cap.items() if not k.startswith("_")}
        out["body"] = parse_body(cap.get("_body") or b"")
        return out

    def _persist(self, cap: dict[str, Any]) -> None:
        try:
            line = json.dumps(self._public(cap), ensure_ascii=False)
            path = self.data_dir / "client" / f"{safe_job(cap['job_id'])}.jsonl"
            with self._write_lock, open(path, "a", encoding="utf-8") as f:
                f.write(line + "\n")
        except Exception:  # never let recording break forwarding
            log.exception("could not persist capture")

    # ----------------------------------------------------------------------------------------- control
    async def _control(self, scope: dict[str, Any], receive: Any, send: Any, path: str) -> None:
        body = b""
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        method = scope["method"]
        q = parse_qs((scope.get("query_string") or b"").decode())
        if path == "/_recorder/health" and method == "GET":
            return await _json(send, 200, {"status": "ok", "upstream": self.upstream, "current_job": self.current_job,
                                           "requests": self.seq})
        if path == "/_recorder/jobs" and method == "POST":
            try:
                data = json.loads(body or b"{}")
                job = data.get("job_id")
            except (json.JSONDecodeError, AttributeError):
                job = None
            if not isinstance(job, str) or not job:
                return await _json(send, 400, {"error": "job_id (a non-empty string) is required"})
            self.current_job = safe_job(job)
            return await _json(send, 200, {"job_id": self.current_job})
        if path == "/_recorder/captures" and method == "GET":
            job = (q.get("job_id") or [None])[0]
            if not job:
                return await _json(send, 400, {"error": "job_id is required"})
            return await _json(send, 200, {"captures": self.load(safe_job(job))})
        if path == "/_recorder/captures" and method == "DELETE":  # forget a finished job (memory and disk)
            job = (q.get("job_id") or [None])[0]
            if not job:
                return await _json(send, 400, {"error": "job_id is required"})
            job = safe_job(job)
            forgotten = len(self.captures.pop(job, []))
            (self.data_dir / "client" / f"{job}.jsonl").unlink(missing_ok=True)
            return await _json(send, 200, {"forgotten": forgotten})
        return await _json(send, 404, {"error": f"no control endpoint {method} {path}"})

    def load(self, job: str) -> list[dict[str, Any]]:
        """The captures of a job: from memory, else from its file (after a restart)."""
        if job in self.captures:
            return [self._public(c) for c in self.captures[job]]
        path = self.data_dir / "client" / f"{job}.jsonl"
        if not path.exists():
            return []
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]


async def _json(send: Any, status: int, data: Any) -> None:
    body = json.dumps(data, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def make_server(port: int, upstream: str, data_dir: str | Path, host: str = "127.0.0.1"):
    """A configured uvicorn.Server (call ``.run()`` or run ``.serve()`` in a loop)."""
    import uvicorn

    app = Recorder(upstream, data_dir)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="on",
                            timeout_keep_alive=75)
    server = uvicorn.Server(config)
    server.recorder = app  # type: ignore[attr-defined]
    return server


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fidelity.recorder", description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen-port", type=int, required=True)
    ap.add_argument("--listen-host", default="127.0.0.1")
    ap.add_argument("--upstream", required=True, help="the gateway's base URL, e.g. http://127.0.0.1:4000")
    ap.add_argument("--data-dir", required=True)
    args = ap.parse_args(argv)
    logging.basicConfig(level=os.environ.get("FIDELITY_RECORDER_LOG", "WARNING"))
    make_server(args.listen_port, args.upstream, args.data_dir, host=args.listen_host).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
