"""A real uvicorn emulator on a free port (real HTTP, real streaming) for the whole session."""
from __future__ import annotations

import socket
import threading
import time
import uuid

import httpx
import pytest
import uvicorn

from providers import _aws as aws
from providers.anthropic.credentials import API_KEY as anthropic_key
from ccmatrix.processes import wait_until
from emulator.server import build_app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Emu:
    def __init__(self, base: str, app, data_dir):
        self.base = base
        self.app = app
        self.state = app.state
        self.data_dir = data_dir
        self.http = httpx.Client(base_url=base, timeout=30)

    def job(self, faults=None, scenario=None) -> str:
        job_id = "job-" + uuid.uuid4().hex[:10]
        r = self.http.post("/_emulator/jobs", json={"job_id": job_id, "faults": faults or [], "scenario": scenario or {}})
        assert r.status_code == 200, r.text
        return job_id

    def captures(self, job_id: str) -> list[dict]:
        return self.http.get("/_emulator/captures", params={"job_id": job_id}).json()["captures"]

    def anthropic_headers(self, **extra) -> dict:
        h = {"x-api-key": anthropic_key, "anthropic-version": "2023-06-01",
             "content-type": "application/json"}
        h.update(extra)
        return h


@pytest.fixture(scope="session")
def emu(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("emu")
    app = build_app(data_dir)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="on")
    server = uvicorn.Server(config)
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: httpx.get(base + "/_emulator/health", timeout=1).status_code == 200, timeout_s=10,
               interval_s=0.05, what="the in-process emulator", retry_on=httpx.HTTPError)
    e = Emu(base, app, data_dir)
    yield e
    server.should_exit = True
    t.join(timeout=5)


@pytest.fixture
def job(emu):
    return emu.job()


def sigv4_headers(url: str, body: bytes, *, secret: str = aws.AWS_SECRET_ACCESS_KEY,
                  akid: str = aws.AWS_ACCESS_KEY_ID, extra: dict | None = None) -> dict:
    """Headers of a request signed with botocore's SigV4 (as LiteLLM signs Bedrock calls)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    req = AWSRequest(method="POST", url=url, data=body, headers={"content-type": "application/json", **(extra or {})})
    SigV4Auth(Credentials(akid, secret), "bedrock", aws.AWS_REGION).add_auth(req)
    return dict(req.headers.items())


def aws_post(emu: "Emu", path: str, body, **kw):
    import json as _json

    raw = body if isinstance(body, bytes) else _json.dumps(body).encode()
    url = emu.base + path
    return emu.http.post(path, content=raw, headers=sigv4_headers(url, raw, **kw))


def decode_frames(raw: bytes) -> list:
    """Every AWS event-stream frame in raw, decoded by botocore (raises on a bad CRC)."""
    from botocore.eventstream import EventStreamBuffer

    buf = EventStreamBuffer()
    buf.add_data(raw)
    return list(buf)
