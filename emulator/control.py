"""Control API under /_emulator/ (same port as the dialects).

POST   /_emulator/jobs      {"job_id", "faults": [Fault], "scenario": {...}} -> that job is current
GET    /_emulator/captures?job_id=X -> {"captures": [...]}  (each with cause + cause_reason, README "Why it answered")
POST   /_emulator/faults    Fault (added to the current job's faults)
DELETE /_emulator/faults
GET    /_emulator/health    -> {"ok": true}
"""
from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse

from .faults import Fault


def _bad(msg: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": msg}, status_code=400)


async def handle(state, request: Request, sub: str):
    method = request.method
    if sub == "health" and method in ("GET", "HEAD"):
        return JSONResponse({"ok": True, "job_id": state.job_id})
    if sub == "jobs" and method == "POST":
        try:
            body = json.loads(await request.body() or b"{}")
            job_id = body["job_id"]
            faults = [Fault.from_json(f) for f in body.get("faults") or []]
            scenario = body.get("scenario") or {}
            if not isinstance(scenario, dict):
                raise ValueError("scenario must be an object")
        except (ValueError, KeyError, TypeError) as exc:
            return _bad(f"bad job: {exc}")
        state.job_id = str(job_id)
        state.faults.set(faults)
        state.scenario = scenario
        return JSONResponse({"ok": True, "job_id": state.job_id, "faults": [f.to_json() for f in faults]})
    if sub == "jobs" and method == "GET":
        return JSONResponse({"job_id": state.job_id, "scenario": state.scenario,
                             "faults": [f.to_json() for f in state.faults.faults]})
    if sub == "captures" and method == "GET":
        job = request.query_params.get("job_id")
        return JSONResponse({"captures": state.captures.query(job)})
    if sub == "captures" and method == "DELETE":  # a long-lived emulator forgets finished jobs (memory and disk)
        job = request.query_params.get("job_id")
        if not job:
            return _bad("job_id is required")
        return JSONResponse({"ok": True, "forgotten": state.captures.forget(job)})
    if sub == "faults" and method == "POST":
        try:
            fault = Fault.from_json(json.loads(await request.body() or b"{}"))
        except (ValueError, TypeError) as exc:
            return _bad(f"bad fault: {exc}")
        state.faults.add(fault)
        return JSONResponse({"ok": True, "faults": [f.to_json() for f in state.faults.faults]})
    if sub == "faults" and method == "DELETE":
        state.faults.clear()
        return JSONResponse({"ok": True})
    if sub == "faults" and method == "GET":
        return JSONResponse({"faults": [f.to_json() for f in state.faults.faults]})
    return JSONResponse({"ok": False, "error": f"no control route {method} /_emulator/{sub}"}, status_code=404)
