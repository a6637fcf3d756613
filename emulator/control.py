"""Control API under /_emulator/ (same port as the dialects), routed by Starlette.

POST   /_emulator/jobs      {"job_id", "faults": [Fault], "scenario": {...}} -> that job is current
GET    /_emulator/jobs      -> the current job, its scenario and faults
GET    /_emulator/captures?job_id=X -> {"captures": [...]}  (each with cause + cause_reason, README "Why it answered")
DELETE /_emulator/captures?job_id=X -> forget a finished job's captures (memory and disk)
POST   /_emulator/faults    Fault (added to the current job's faults)
GET    /_emulator/faults
DELETE /_emulator/faults
GET    /_emulator/health    -> {"ok": true}
"""
from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Router

from .faults import Fault
from .routing import MethodRoute


def _bad(msg: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": msg}, status_code=400)


def app(state) -> Router:
    """The control API over `state` (an ASGI app to mount at /_emulator)."""

    async def health(request: Request):
        return JSONResponse({"ok": True, "job_id": state.job_id})

    async def jobs(request: Request):
        if request.method == "GET":
            return JSONResponse({"job_id": state.job_id, "scenario": state.scenario,
                                 "faults": [f.to_json() for f in state.faults.faults]})
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

    async def captures(request: Request):
        job = request.query_params.get("job_id")
        if request.method == "GET":
            return JSONResponse({"captures": state.captures.query(job)})
        if not job:  # DELETE: a long-lived emulator forgets finished jobs (memory and disk)
            return _bad("job_id is required")
        return JSONResponse({"ok": True, "forgotten": state.captures.forget(job)})

    async def faults(request: Request):
        if request.method == "POST":
            try:
                fault = Fault.from_json(json.loads(await request.body() or b"{}"))
            except (ValueError, TypeError) as exc:
                return _bad(f"bad fault: {exc}")
            state.faults.add(fault)
            return JSONResponse({"ok": True, "faults": [f.to_json() for f in state.faults.faults]})
        if request.method == "DELETE":
            state.faults.clear()
            return JSONResponse({"ok": True})
        return JSONResponse({"faults": [f.to_json() for f in state.faults.faults]})

    async def no_route(request: Request):
        sub = request.url.path.split("/_emulator/", 1)[-1]
        return JSONResponse({"ok": False, "error": f"no control route {request.method} /_emulator/{sub}"},
                            status_code=404)

    async def default(scope, receive, send):
        await (await no_route(Request(scope, receive)))(scope, receive, send)

    endpoints = [("/health", health, ["GET", "HEAD"]), ("/jobs", jobs, ["GET", "POST"]),
                 ("/captures", captures, ["GET", "DELETE"]), ("/faults", faults, ["GET", "POST", "DELETE"])]
    routes = [MethodRoute(path, endpoint, methods=methods, wrong_method=no_route)
              for path, endpoint, methods in endpoints]
    return Router(routes, redirect_slashes=False, default=default)
