"""The emulator app: every provider's dialect (found through the provider registry) and the control API on one
port, routed by Starlette.

    build_app(data_dir, hosts=None) -> ASGI app (in-process tests)
    serve(host, port, data_dir, https_port=None, tls_dir=None, hosts=None)  (blocking; uvicorn)

Production-shaped routing: a request whose Host is one of the providers' real hostnames (`hosts`: hostname →
provider ids, from each package's `hostnames(settings)`; by default the registry's) is routed among the routes of
the providers reached at that host only — a Bedrock path sent to api.anthropic.com is not Bedrock: it is refused
there, in Anthropic's shape. Any other Host (the plain-HTTP port at 127.0.0.1, the control API) sees every route.
With `https_port`, the same app is also served over HTTPS with a certificate for those hostnames signed by a CA
generated for this run (emulator/tls.py), written to `tls_dir`.

Each provider package's dialect (providers/<id>/emulator.py) declares its routes; every request on them is
captured under the current job and tagged with why it was answered (`tag`, the one place a cause is set). A path
no route serves is captured too, as an emulator gap (or the provider's own refusal, when the provider that claims
the path says so), and answered in that provider's error shape; a provider's route with the wrong method is a
refusal (405).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from functools import partial
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Router

from providers import registry

from . import anthropic_schema, control
from .dialect import Call, Dialect, Op, StreamCut
from .latency import parse_spec
from .errors import CAUSES, STATUS_KIND, EmulatorError
from .routing import MethodRoute
from .state import State

log = logging.getLogger("emulator")

MAX_BODY_BYTES = 48 * 1024 * 1024


def fault_error(status: int, retry_after: int | None) -> EmulatorError:
    kind = STATUS_KIND.get(status, "api_error" if status >= 500 else "invalid_request_error")
    messages = {
        "rate_limit_error": "Number of request tokens has exceeded your per-minute rate limit (emulator fault)",
        "overloaded_error": "Overloaded (emulator fault)",
        "permission_error": "Your credentials do not have permission to use this model (emulator fault)",
        "authentication_error": "invalid credentials (emulator fault)",
        "not_found_error": "model not found (emulator fault)",
        "service_unavailable": "Service unavailable (emulator fault)",
    }
    if status == 429 and retry_after is None:
        retry_after = 1
    return EmulatorError(kind, messages.get(kind, f"Internal server error (emulator fault {status})"), status,
                         retry_after=retry_after, cause="injected",
                         reason=f"fault: status {status}" + (f" (retry-after {retry_after}s)" if retry_after else ""))


def tag(rec: dict, cause: str, reason: str | None) -> None:
    """Why the emulator answered what it did: the record's `cause` and `cause_reason` (README "Why it answered")."""
    assert cause in CAUSES, cause
    rec["cause"] = cause
    rec["cause_reason"] = None if reason is None else " ".join(str(reason).split())[:1000]


def default_hosts() -> dict[str, list[str]]:
    """Hostname → provider ids, from every provider package's `hostnames(settings)`."""
    from ccmatrix.settings import get_settings
    from providers.base import host_map

    return host_map(registry.all(), get_settings())


def request_host(scope) -> str:
    """The Host a request was sent to, lower-case, without a port ("" when absent)."""
    for name, value in scope.get("headers", ()):
        if name == b"host":
            host = value.decode("latin-1").strip().lower()
            return host if host.startswith("[") else host.rsplit(":", 1)[0]
    return ""


class EmulatorApp:
    def __init__(self, data_dir: Path, hosts: dict[str, list[str]] | None = None):
        self.state = State(Path(data_dir))
        self.dialects: dict[str, Dialect] = {p.id: p.emulator() for p in registry.all()}
        routes = [MethodRoute("/", self.root, methods=["GET", "HEAD"], wrong_method=self.unrouted),
                  Mount("/_emulator", app=control.app(self.state))]
        for dialect in self._unique(self.dialects.values()):
            routes += self._routes(dialect, None)
        self.router = Router(routes, redirect_slashes=False, default=self.not_found)
        # one router per provider hostname, with the routes of the providers reached there only
        self.hosts = {h.lower(): list(ids) for h, ids in (default_hosts() if hosts is None else hosts).items()}
        self.host_routers: dict[str, Router] = {}
        for host, ids in self.hosts.items():
            served = self._unique(self.dialects[i] for i in ids if i in self.dialects)
            if served:
                self.host_routers[host] = Router([r for d in served for r in self._routes(d, host)], redirect_slashes=False,
                                                 default=partial(self.not_found_at, host, served))
        anthropic_schema.warm()

    @staticmethod
    def _unique(dialects) -> list[Dialect]:
        """Dialects once each (a pass-through package re-exports another package's dialect)."""
        out: list[Dialect] = []
        for dialect in dialects:
            if all(dialect is not d for d in out):
                out.append(dialect)
        return out

    def _routes(self, dialect: Dialect, host: str | None) -> list[MethodRoute]:
        """The dialect's routes served at `host` (None: the plain port, where host-only routes do not exist)."""
        return [MethodRoute(op.path, partial(self.handle, dialect, op), methods=[op.method],
                            wrong_method=partial(self.wrong_method, dialect, op)) for op in dialect.routes
                if op.hosts is None or (host is not None and re.match(op.hosts, host))]

    async def __call__(self, scope, receive, send):
        router = self.router
        if scope["type"] == "http":
            router = self.host_routers.get(request_host(scope), self.router)
        try:
            await router(scope, receive, send)
        except StreamCut:
            # returning with the body incomplete makes the server drop the connection mid-stream
            log.info("stream cut by fault on %s", scope.get("path"))

    @staticmethod
    async def root(request: Request) -> Response:
        return JSONResponse({"ok": True, "service": "ccmatrix-emulator"})

    # -- what no route serves ------------------------------------------------------------------------------------

    async def not_found(self, scope, receive, send) -> None:
        await (await self.unrouted(Request(scope, receive)))(scope, receive, send)

    def claimant(self, path: str, among=None) -> Dialect | None:
        """The dialect of the provider a path was most likely meant for: the longest claim (registry order)."""
        best = max(self.dialects.values() if among is None else among, key=lambda d: d.claim(path), default=None)
        return best if best is not None and best.claim(path) else None

    async def not_found_at(self, host: str, served: list[Dialect], scope, receive, send) -> None:
        await (await self.unrouted(Request(scope, receive), host, served))(scope, receive, send)

    async def unrouted(self, request: Request, host: str | None = None,
                       served: list[Dialect] | None = None) -> Response:
        method, path = request.method, request.url.path
        if served is not None:
            # at a provider's own hostname: a path another provider claims more of was sent to the wrong host —
            # the provider there refuses it (its 404, in its shape); else it is judged among that host's providers
            own = self.claimant(path, served)
            best = self.claimant(path)
            elsewhere = best is not None and all(best is not d for d in served)
            if elsewhere and best.claim(path) > (own.claim(path) if own else 0):
                err = EmulatorError("not_found_error", f"Not found: {method} {path}", 404,
                                    reason=f"a {best.provider} path sent to {host}, where "
                                           f"{', '.join(d.provider for d in served)} is served")
                return await self.refuse(request, served[0], "unknown", err)
            dialect = own or served[0]
        else:
            dialect = self.claimant(path)
        err = dialect.judge_unrouted(method, path) if dialect is not None else None
        if err is None:
            err = EmulatorError("not_found_error", f"Not found: {method} {path}", 404, cause="emulator_gap",
                                reason=f"emulator gap: {method} {path} matches no emulated route"
                                       + (f" (closest provider: {dialect.provider})" if dialect else ""))
        return await self.refuse(request, dialect, "unknown", err)

    async def wrong_method(self, dialect: Dialect, op: Op, request: Request) -> Response:
        """A provider's own path with the wrong method: the provider refuses it."""
        err = EmulatorError("not_found_error", f"{request.method} {request.url.path} not supported", 405)
        return await self.refuse(request, dialect, op.name, err)

    async def refuse(self, request: Request, dialect: Dialect | None, operation: str, err: EmulatorError) -> Response:
        """Answer (in the provider's error shape) and capture a request no dialect handles."""
        rec = self.capture(request, dialect.provider if dialect else None, operation, await self._read_body(request))
        if dialect is not None:
            response = dialect.error_response(err)
        else:
            response = JSONResponse({"type": "error", "error": {"type": err.kind, "message": err.message}},
                                    status_code=err.status)
        rec["status"] = response.status_code
        rec["error"] = err.message
        tag(rec, err.cause, err.reason)
        self.state.captures.finish(rec)
        return response

    # -- a provider's request ------------------------------------------------------------------------------------

    def capture(self, request: Request, provider: str | None, operation: str, raw: bytes | None) -> dict:
        st = self.state
        return st.captures.new(st.job_id, provider, operation, request.method, request.url.path, request.url.query,
                               request.headers, raw or b"", request.headers.get("content-type", ""))

    @staticmethod
    async def _read_body(request: Request) -> bytes | None:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return None
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def handle(self, dialect: Dialect, op: Op, request: Request) -> Response:
        st = self.state
        provider = dialect.provider
        raw = await self._read_body(request)
        raw_path = request.scope.get("raw_path", b"").decode("latin-1").split("?", 1)[0] or request.url.path
        rec = self.capture(request, provider, op.name, raw)
        applied = st.faults.take(provider, op.name, explicit_only=op.explicit_faults)
        call = Call(provider=provider, operation=op.name, method=request.method, path=request.url.path,
                    raw_path=raw_path, query=request.url.query, headers=request.headers, raw=raw or b"",
                    params={**request.path_params, **dict(op.params)}, applied=applied, rec=rec, state=st)
        try:
            if raw is None:
                raise EmulatorError("request_too_large",
                                    f"Request exceeds the maximum size of {MAX_BODY_BYTES} bytes", 413)
            if applied.delay_s:
                await asyncio.sleep(applied.delay_s)
            if applied.status:
                raise fault_error(applied.status, applied.retry_after)
            response = await dispatch_held(dialect, call)
        except EmulatorError as err:
            response = dialect.error_response(err)
            call.done(response.status_code, error=err.message)
            tag(rec, err.cause, err.reason)
        except Exception as exc:  # never crash: a provider-styled 500
            log.exception("emulator internal error on %s %s", request.method, request.url.path)
            err = EmulatorError("api_error", f"Internal server error: {type(exc).__name__}", 500)
            response = dialect.error_response(err)
            call.done(500, error=err.message)
            tag(rec, "emulator_gap", f"emulator internal error: {type(exc).__name__}: {exc}")
        else:
            if response.status_code >= 400:   # answered an error without raising (the Vertex token exchange)
                tag(rec, "refused", rec.get("error") or f"HTTP {response.status_code}")
            else:
                injected = applied.describe(call.extra.get("injected"))
                tag(rec, "injected" if injected else "ok", injected)
        if not call.extra.get("streaming"):
            rec["status"] = response.status_code
            st.captures.finish(rec)
        return response


async def dispatch_held(dialect: Dialect, call: Call) -> Response:
    """The dialect's answer, held as long as the latency setting says a non-streamed model reply takes."""
    response = await dialect.dispatch(call)
    if call.extra.get("hold_s"):
        await asyncio.sleep(call.extra["hold_s"])
    return response


def build_app(data_dir, hosts: dict[str, list[str]] | None = None, latency: str = "off") -> EmulatorApp:
    app = EmulatorApp(Path(data_dir), hosts)
    app.state.latency = parse_spec(latency)
    return app


def serve(host: str, port: int, data_dir, https_port: int | None = None, tls_dir=None,
          hosts: dict[str, list[str]] | None = None, latency: str = "off") -> None:
    """Serve plain HTTP on `port`; with `https_port`, HTTPS too (one process, one app, one state), with a
    certificate for the hostnames of `hosts` from a CA generated now (emulator/tls.py, files under `tls_dir`).
    The plain port answers only once HTTPS is listening, so a health check on it means both are up."""
    import uvicorn

    app = build_app(data_dir, hosts, latency)
    common = dict(log_level="warning", timeout_keep_alive=30, h11_max_incomplete_event_size=MAX_BODY_BYTES)
    plain = uvicorn.Server(uvicorn.Config(app, host=host, port=int(port), lifespan="on", **common))
    if not https_port:
        plain.run()
        return
    from . import tls

    files = tls.issue(Path(tls_dir), sorted(app.hosts))

    class SignalFree(uvicorn.Server):
        """The HTTPS server installs no signal handlers of its own: the plain one takes SIGTERM/SIGINT for the
        process (uvicorn re-raises the signal once it has shut down, which ends the process)."""

        @contextlib.contextmanager
        def capture_signals(self):
            yield

    secure = SignalFree(uvicorn.Config(app, host=host, port=int(https_port), lifespan="off",
                                       ssl_certfile=str(files.cert), ssl_keyfile=str(files.key), **common))

    async def both() -> None:
        task = asyncio.create_task(secure.serve())
        while not secure.started:
            if task.done():
                task.result()   # a failed start (e.g. the port is taken) ends the emulator with its error
                raise SystemExit("the emulator's HTTPS server did not start")
            await asyncio.sleep(0.01)
        try:
            await plain.serve()
        finally:
            secure.should_exit = True
            await task

    asyncio.run(both())
