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

Control: ``GET /_recorder/captures?job_id=X`` → ``{"captures": [...]}``, ``DELETE /_recorder/captures?job_id=X``
(forget a finished job), ``GET /_recorder/health``.
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
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route, request_response
from starlette.types import Receive, Scope, Send

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


class _EveryMethod:
    """A `request -> response` endpoint that Starlette routes for every HTTP method (a function endpoint gets GET
    only): the pass-through forwards whatever method the client used."""

    def __init__(self, endpoint: Callable[[Request], Awaitable[Response]]) -> None:
        self.app = request_response(endpoint)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class _JSON(JSONResponse):
    """JSON as `json.dumps` writes it (Starlette's own is compact and refuses NaN, which a captured body may hold)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False).encode()


class _Relay(StreamingResponse):
    """The gateway's answer relayed to the client chunk by chunk as it arrives (raw bytes, content-encoding
    untouched, hop-by-hop headers dropped). Unlike a plain StreamingResponse it does not stop when the client goes
    away: the answer is read to its end whatever the client does (the server drops what is sent after a
    disconnect). The capture is finished once the relay is over, with the gateway's own words if it answered an
    error."""

    def __init__(self, upstream: httpx.Response, cap: dict[str, Any],
                 finish: Callable[[str | None], None]) -> None:
        self.upstream = upstream
        self.keep = _ErrorKeeper(upstream.status_code, upstream.headers.get("content-type", ""))
        self.cap = cap
        self.finish = finish
        super().__init__(self._chunks(), status_code=upstream.status_code)
        self.raw_headers = [(k, v) for k, v in upstream.headers.raw if k.decode("latin-1").lower() not in HOP_BY_HOP]

    async def _chunks(self) -> AsyncIterator[bytes]:
        encoding = self.upstream.headers.get("content-encoding")
        async for chunk in self.upstream.aiter_raw():
            if chunk:
                self.keep.feed(chunk, encoding)
                yield chunk

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.stream_response(send)  # no disconnect listener: see the class docstring
        except (httpx.HTTPError, OSError) as e:
            self.finish(f"stream broken: {e}")
            raise
        finally:
            await self.upstream.aclose()
            if self.keep.text() is not None:
                self.cap["response_error"] = self.keep.text()  # the gateway's own words when it answered an error
        self.finish(None)


def _query_param(request: Request, name: str) -> str | None:
    """The first non-empty value of a query parameter."""
    return next((value for value in request.query_params.getlist(name) if value), None)


class Recorder:
    """The ASGI app (Starlette). ``upstream`` is the base URL of the gateway (a path in it is kept as a prefix)."""

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
        self.app = Starlette(
            routes=[
                Route("/_recorder/health", self._health, methods=["GET"]),
                Route("/_recorder/jobs", self._set_job, methods=["POST"]),
                Route("/_recorder/captures", self._get_captures, methods=["GET"]),
                Route("/_recorder/captures", self._forget, methods=["DELETE"]),  # a finished job: memory and disk
                Route("/_recorder/{rest:path}", _EveryMethod(self._no_control)),
                Route("/{path:path}", _EveryMethod(self._forward)),
            ],
            lifespan=self._lifespan,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    @asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        yield
        if self._client is not None:
            await self._client.aclose()

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
    async def _forward(self, request: Request) -> Response:
        t0 = time.monotonic()
        scope = request.scope
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        path = raw_path.decode("latin-1")
        job = self.current_job
        m = _JOB_PREFIX.match(path)
        if m:
            job = safe_job(unquote(m.group("job")))
            path = m.group("rest") or "/"
        query = (scope.get("query_string") or b"").decode("latin-1")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        try:
            body = await request.body()
        except ClientDisconnect:
            return Response(status_code=499)  # the client is gone: nothing to forward, record or answer
        self.seq += 1
        cap: dict[str, Any] = {
            "seq": self.seq,
            "ts": time.time(),
            "job_id": job,
            "method": request.method,
            "path": path,
            "query": query,
            "headers": mask_headers(headers),
            "_body": body,
            "status": None,
        }
        self.captures.setdefault(job, []).append(cap)

        url = self.upstream + path + (f"?{query}" if query else "")
        fwd_headers = [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"]
        try:
            req = self.client().build_request(request.method, url, headers=fwd_headers, content=body)
            resp = await self.client().send(req, stream=True)
        except httpx.HTTPError as e:
            self._finish(cap, 502, t0, error=str(e))
            return _JSON({"type": "error", "error": {"type": "recorder_upstream_error", "message": str(e)}}, 502)
        return _Relay(resp, cap, lambda error: self._finish(cap, resp.status_code, t0, error=error))

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
    async def _health(self, request: Request) -> Response:
        return _JSON({"status": "ok", "upstream": self.upstream, "current_job": self.current_job,
                      "requests": self.seq})

    async def _set_job(self, request: Request) -> Response:
        try:
            data = json.loads(await request.body() or b"{}")
            job = data.get("job_id")
        except (json.JSONDecodeError, AttributeError):
            job = None
        if not isinstance(job, str) or not job:
            return _JSON({"error": "job_id (a non-empty string) is required"}, 400)
        self.current_job = safe_job(job)
        return _JSON({"job_id": self.current_job})

    async def _get_captures(self, request: Request) -> Response:
        job = _query_param(request, "job_id")
        if not job:
            return _JSON({"error": "job_id is required"}, 400)
        return _JSON({"captures": self.load(safe_job(job))})

    async def _forget(self, request: Request) -> Response:
        job = _query_param(request, "job_id")
        if not job:
            return _JSON({"error": "job_id is required"}, 400)
        job = safe_job(job)
        forgotten = len(self.captures.pop(job, []))
        (self.data_dir / "client" / f"{job}.jsonl").unlink(missing_ok=True)
        return _JSON({"forgotten": forgotten})

    async def _no_control(self, request: Request) -> Response:
        return _JSON({"error": f"no control endpoint {request.method} {request.scope['path']}"}, 404)

    def load(self, job: str) -> list[dict[str, Any]]:
        """The captures of a job: from memory, else from its file (after a restart)."""
        if job in self.captures:
            return [self._public(c) for c in self.captures[job]]
        path = self.data_dir / "client" / f"{job}.jsonl"
        if not path.exists():
            return []
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]


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
