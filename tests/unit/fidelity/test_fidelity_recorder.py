"""The recording pass-through: forwards unchanged, streams incrementally, records with secrets masked."""
from __future__ import annotations

import http.server
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from ccmatrix.processes import ProcessExited, stop_group, wait_until

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Upstream:
    """A tiny upstream: records what it received; /stream answers SSE in timed chunks."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.release = threading.Event()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(n)
                outer.received.append({"method": "POST", "path": self.path, "headers": dict(self.headers.items()), "body": body})
                if self.path.startswith("/v1/stream"):
                    self.send_response(200)
                    self.send_header("content-type", "text/event-stream")
                    self.send_header("transfer-encoding", "chunked")
                    self.end_headers()
                    for i in range(3):
                        data = f"event: content_block_delta\ndata: {{\"i\": {i}}}\n\n".encode()
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                        self.wfile.flush()
                        if i == 0:
                            outer.release.wait(10)  # the rest only after the client saw the first chunk
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                    return
                if self.path.startswith("/v1/refuse"):
                    return self.answer(400, "application/json", b'{"type": "error", "error": {"message": "no such model"}}')
                if self.path.startswith("/v1/sse-error"):
                    return self.answer(200, "text/event-stream",
                                       b'event: message_start\ndata: {}\n\nevent: error\ndata: {"type": "error"}\n\n')
                self.answer(201, "application/json", json.dumps({"ok": True, "echo_len": len(body)}).encode(),
                            {"x-upstream": "yes"})

            def answer(self, status: int, content_type: str, out: bytes, headers: dict | None = None) -> None:
                self.send_response(status)
                self.send_header("content-type", content_type)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_PUT = do_POST

        self.port = free_port()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), H)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def upstream():
    u = Upstream()
    yield u
    u.close()


@pytest.fixture()
def recorder(upstream, tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "fidelity.recorder", "--listen-port", str(port), "--upstream", f"http://127.0.0.1:{upstream.port}",
         "--data-dir", str(tmp_path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if proc.poll() is not None:
            raise ProcessExited("recorder")
        return httpx.get(f"{base}/_recorder/health", timeout=1).json()["status"] == "ok"

    try:
        wait_until(healthy, timeout_s=20, interval_s=0.05, what="recorder", retry_on=httpx.HTTPError)
    except (TimeoutError, ProcessExited):
        proc.kill()
        pytest.fail(f"recorder did not start: {proc.stdout.read().decode(errors='replace')}")
    yield base, tmp_path
    stop_group(proc, grace_s=10)


def test_request_forwarded_unchanged_and_recorded_with_secrets_masked(recorder, upstream):
    base, data_dir = recorder
    assert httpx.post(f"{base}/_recorder/jobs", json={"job_id": "job-1"}).json() == {"job_id": "job-1"}
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "héllo"}], "stream": False}, indent=2).encode()
    r = httpx.post(
        f"{base}/v1/messages?beta=true",
        content=body,
        headers={"content-type": "application/json", "x-api-key": "sk-secret-1", "authorization": "Bearer sk-secret-2",
                 "api-key": "sk-secret-3", "anthropic-beta": "a,b", "x-app": "cli"},
    )
    assert r.status_code == 201 and r.headers["x-upstream"] == "yes" and r.json() == {"ok": True, "echo_len": len(body)}
    (got,) = upstream.received
    assert got["path"] == "/v1/messages?beta=true"
    assert got["body"] == body  # byte for byte
    assert got["headers"]["x-api-key"] == "sk-secret-1" and got["headers"]["authorization"] == "Bearer sk-secret-2"
    assert got["headers"]["anthropic-beta"] == "a,b" and got["headers"]["x-app"] == "cli"

    caps = httpx.get(f"{base}/_recorder/captures", params={"job_id": "job-1"}).json()["captures"]
    (cap,) = caps
    assert cap["method"] == "POST" and cap["path"] == "/v1/messages" and cap["query"] == "beta=true"
    assert cap["headers"]["x-api-key"] == "***" and cap["headers"]["authorization"] == "***" and cap["headers"]["api-key"] == "***"
    assert cap["headers"]["anthropic-beta"] == "a,b"
    assert cap["body"] == json.loads(body) and cap["status"] == 201 and cap["job_id"] == "job-1"
    # and on disk, without any secret
    text = _wait_for_file(data_dir / "client" / "job-1.jsonl")
    assert "sk-secret" not in text and json.loads(text.splitlines()[0])["body"] == json.loads(body)
    assert httpx.get(f"{base}/_recorder/captures", params={"job_id": "other"}).json() == {"captures": []}


def test_streamed_response_arrives_incrementally(recorder, upstream):
    base, _ = recorder
    chunks: list[tuple[float, bytes]] = []
    with httpx.Client(timeout=20) as c:
        with c.stream("POST", f"{base}/_job/job-s/v1/stream", json={"stream": True}) as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            for chunk in r.iter_raw():
                chunks.append((time.monotonic(), chunk))
                if len(chunks) == 1:
                    # the first event reached us while the upstream is still holding back the others
                    assert b'"i": 0' in chunk and b'"i": 1' not in chunk
                    upstream.release.set()
    data = b"".join(c for _, c in chunks)
    assert data.count(b"event: content_block_delta") == 3
    caps = httpx.get(f"{base}/_recorder/captures", params={"job_id": "job-s"}).json()["captures"]
    assert [c["path"] for c in caps] == ["/v1/stream"] and caps[0]["status"] == 200
    assert upstream.received[0]["path"] == "/v1/stream"  # the /_job/<id> prefix is not forwarded


def test_upstream_down_answers_502_and_records(tmp_path):
    from fidelity.recorder import Recorder
    import asyncio

    rec = Recorder(f"http://127.0.0.1:{free_port()}", tmp_path)

    async def run():
        sent = []
        msgs = [{"type": "http.request", "body": b"{}", "more_body": False}]

        async def receive():
            return msgs.pop(0)

        async def send(m):
            sent.append(m)

        scope = {"type": "http", "method": "POST", "path": "/v1/messages", "raw_path": b"/v1/messages", "query_string": b"",
                 "headers": [(b"content-type", b"application/json")]}
        await rec(scope, receive, send)
        await asyncio.sleep(0.05)
        return sent

    # a thread of its own: another test's library (Playwright's sync API) may leave a loop set on this one
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        sent = pool.submit(asyncio.run, run()).result()
    assert sent[0]["status"] == 502
    assert rec.load("_unassigned")[0]["status"] == 502


def _wait_for_file(path: Path) -> str:
    wait_until(lambda: path.exists() and path.read_text().strip(), timeout_s=2, interval_s=0.02, what=str(path))
    return path.read_text()


def test_the_gateways_own_words_are_kept_when_it_answers_an_error(recorder, upstream):
    base, _ = recorder
    assert httpx.post(f"{base}/_job/job-e/v1/refuse", json={}).status_code == 400
    r = httpx.post(f"{base}/_job/job-e/v1/sse-error", json={})
    assert r.status_code == 200 and b"event: error" in r.content
    assert httpx.post(f"{base}/_job/job-e/v1/messages", json={}).status_code == 201
    refused, stream, fine = httpx.get(f"{base}/_recorder/captures", params={"job_id": "job-e"}).json()["captures"]
    assert refused["status"] == 400 and refused["response_error"] == '{"type": "error", "error": {"message": "no such model"}}'
    assert stream["status"] == 200 and stream["response_error"] == 'event: error\ndata: {"type": "error"}\n\n'
    assert fine["status"] == 201 and "response_error" not in fine


def test_control_endpoints(recorder, upstream):
    base, data_dir = recorder
    for bad in (b"not json", b"[]", b"", b'{"job_id": ""}'):
        r = httpx.post(f"{base}/_recorder/jobs", content=bad)
        assert r.status_code == 400 and r.json() == {"error": "job_id (a non-empty string) is required"}
    assert httpx.post(f"{base}/_recorder/jobs", json={"job_id": "a b/c"}).json() == {"job_id": "a_b_c"}
    assert httpx.get(f"{base}/_recorder/health").json() == {
        "status": "ok", "upstream": f"http://127.0.0.1:{upstream.port}", "current_job": "a_b_c", "requests": 0}
    for method in ("GET", "DELETE"):
        r = httpx.request(method, f"{base}/_recorder/captures", params={"job_id": ""})
        assert r.status_code == 400 and r.json() == {"error": "job_id is required"}
    for method, path in (("PUT", "/_recorder/captures"), ("GET", "/_recorder/nothing"), ("POST", "/_recorder/")):
        r = httpx.request(method, f"{base}{path}")
        assert r.status_code == 404 and r.json() == {"error": f"no control endpoint {method} {path}"}
    # anything outside /_recorder/ is forwarded, whatever its method, and tagged with the current job
    r = httpx.request("PUT", f"{base}/_recorder", content=b"{}")
    assert r.status_code == 201 and upstream.received[-1]["path"] == "/_recorder"
    (cap,) = httpx.get(f"{base}/_recorder/captures", params={"job_id": "a_b_c"}).json()["captures"]
    assert cap["method"] == "PUT" and cap["path"] == "/_recorder"
    # a finished job is forgotten, in memory and on disk
    path = data_dir / "client" / "a_b_c.jsonl"
    _wait_for_file(path)
    assert httpx.delete(f"{base}/_recorder/captures", params={"job_id": "a b/c"}).json() == {"forgotten": 1}
    assert not path.exists()
    assert httpx.get(f"{base}/_recorder/captures", params={"job_id": "a_b_c"}).json() == {"captures": []}
