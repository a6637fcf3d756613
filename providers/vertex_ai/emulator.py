"""Vertex AI (Anthropic publisher models) in the emulator: /token (the OAuth JWT-bearer exchange), :rawPredict,
:streamRawPredict (SSE), count-tokens:rawPredict; errors as `{"error": {"code", "message", "status"}}`."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from starlette.responses import JSONResponse

from emulator import catalog, messages_api, profiles
from emulator.dialect import Call, Dialect, Op
from emulator.errors import EmulatorError, gap, invalid
from providers._wire.capture import split_betas

from . import PROVIDER, credentials


ANTHROPIC_VERSION = "vertex-2023-10-16"
STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                408: "DEADLINE_EXCEEDED", 409: "ABORTED", 413: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED",
                500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED", 529: "UNAVAILABLE"}
MODEL = catalog.VERTEX_ID


def vertex_error_response(err: EmulatorError) -> JSONResponse:
    headers = {}
    if err.retry_after is not None:
        headers["retry-after"] = str(err.retry_after)
    status_name = STATUS_NAMES.get(err.status, "INTERNAL" if err.status >= 500 else "FAILED_PRECONDITION")
    return JSONResponse({"error": {"code": err.status, "message": err.message, "status": status_name}},
                        status_code=err.status, headers=headers)


def _predict_routes() -> tuple[Op, ...]:
    out = []
    for version in ("v1", "v1beta1"):
        base = f"/{version}/projects/{{project}}/locations/{{location}}/publishers/anthropic/models"
        out += [Op("count_tokens", "POST", base + "/count-tokens:rawPredict"),
                Op("messages", "POST", base + "/{model}:rawPredict", (("verb", "rawPredict"),)),
                Op("messages", "POST", base + "/{model}:streamRawPredict", (("verb", "streamRawPredict"),))]
    return tuple(out)


class VertexDialect(Dialect):
    provider = PROVIDER.id
    routes = (Op("token", "POST", "/token", explicit_faults=True), *_predict_routes())
    claims = re.compile(r"^/(?:v1(?:beta1)?/projects/|token$)")

    def error_response(self, err: EmulatorError):
        return vertex_error_response(err)

    async def dispatch(self, call: Call):
        self.check_host(call)
        if call.operation == "token":
            return self.token(call)
        if not credentials.bearer_ok(call.headers, self.issued(call)):
            raise EmulatorError("authentication_error",
                                "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
                                "cookie or other valid authentication credential. See "
                                "https://developers.google.com/identity/sign-in/web/devconsole-project.", 401)
        project, location = call.params["project"], call.params["location"]
        if project != credentials.PROJECT:
            raise EmulatorError("permission_error", f"Permission 'aiplatform.endpoints.predict' denied on resource "
                                f"'//aiplatform.googleapis.com/projects/{project}/locations/{location}' (or it may not exist).", 403)
        if location not in profiles.load(self.provider).get("locations", []):
            raise invalid(f"Location {location} is not supported for this publisher model.")
        body = call.json_body()
        betas = split_betas(call.headers.get("anthropic-beta"))
        if call.operation == "count_tokens":
            return self.count_tokens(call, body, betas)
        path_model = call.params["model"]
        not_found = (f"Publisher Model `projects/{project}/locations/{location}/publishers/anthropic/models/"
                     f"{path_model}` not found.")
        api_name = catalog.require(catalog.judge(self.provider, path_model), "not_found_error", not_found, 404)
        mm = MODEL.match(path_model)
        if profiles.model_features(self.provider, mm.group("name")) is None:
            raise gap(not_found, f"{mm.group('name')} has no feature profile in the model catalogue (emulator/catalog.yaml)",
                      kind="not_found_error", status=404)
        if body.get("anthropic_version") != ANTHROPIC_VERSION:
            raise invalid(f"anthropic_version: Input should be '{ANTHROPIC_VERSION}'" if "anthropic_version" in body
                          else "anthropic_version: Field required")
        if "model" in body:
            raise invalid("model: Extra inputs are not permitted")
        rest = {k: v for k, v in body.items() if k != "anthropic_version"}
        # Vertex answers with the Claude API id of the model (`message.model` "claude-sonnet-4-5-20250929" for
        # claude-sonnet-4-5@20250929, "claude-opus-4-6" for a dateless id): responses recorded from real Vertex in
        # public code (streamed message_start of claude-3-7-sonnet-20250219 and claude-haiku-4-5-20251001, a
        # claude-sonnet-4-5-20250929 stream-json transcript, a claude-opus-4-6 cassette). Claude Code keeps its
        # thinking history only when message.model matches the model it asked for (musistudio/claude-code-router#1629).
        rest["model"] = api_name
        req = messages_api.decode(self.provider, rest, model=mm.group("name"), betas=betas)
        reply = call.state.model.respond(req, call.applied, provider=self.provider, model=mm.group("name"))
        reply.model = api_name
        stream = call.params["verb"] == "streamRawPredict" or req.envelope.stream
        return messages_api.reply_or_stream(call, reply, stream)

    @staticmethod
    def check_host(call: Call) -> None:
        """At Google's own hostnames (production-shaped routing) the token exchange is served by the OAuth host
        only, and the prediction routes by the aiplatform hosts only; Google answers 404 elsewhere. The emulator's
        plain-HTTP port serves both."""
        host = call.headers.get("host", "").split(":", 1)[0].lower()
        if not host.endswith(".googleapis.com") and host != "googleapis.com":
            return
        token_host = urlsplit(credentials.TOKEN_URI).hostname
        if (call.operation == "token") != (host == token_host):
            raise EmulatorError("not_found_error", f"The requested URL {call.path} was not found on this server.", 404,
                                reason=f"{call.method} {call.path} sent to {host}, which does not serve it "
                                       f"(the token exchange is at {token_host}, predictions at the aiplatform hosts)")

    def count_tokens(self, call: Call, body: dict, betas: list[str]):
        model = body.get("model")
        if not isinstance(model, str):
            raise invalid("model: Field required")
        if "@" in model:
            raise invalid(f"Model {model} is not supported for token counting.")
        # count-tokens names the model in the body without `@version` (above): the Claude API id shape
        catalog.require(catalog.judge(self.provider, model, shape="api"), "not_found_error",
                        f"Publisher Model `{model}` not found.", 404)
        if profiles.model_features(self.provider, model) is None:
            raise gap(f"Publisher Model `{model}` not found.",
                      f"{model} has no feature profile in the model catalogue (emulator/catalog.yaml)",
                      kind="not_found_error", status=404)
        if "anthropic_version" in body and body["anthropic_version"] != ANTHROPIC_VERSION:
            raise invalid(f"anthropic_version: Input should be '{ANTHROPIC_VERSION}'")
        rest = {k: v for k, v in body.items() if k != "anthropic_version"}
        req = messages_api.decode(self.provider, rest, model=model, betas=betas, count=True)
        return messages_api.count_reply(call, call.state.model.count_tokens(req, call.applied))

    @staticmethod
    def issued(call: Call) -> dict:
        """Access tokens this emulator handed out (token -> expiry), per emulator state."""
        return call.state.of(PROVIDER.id).setdefault("tokens", {})

    def token(self, call: Call):
        host = call.headers.get("host", "")
        uris = {f"http://{host}/token", f"https://{host}/token", "https://oauth2.googleapis.com/token"}
        try:
            payload = credentials.exchange(call.raw, call.state.data_dir, uris, self.issued(call))
        except credentials.OAuthError as exc:
            call.done(exc.status, error=exc.description)
            return JSONResponse({"error": exc.error, "error_description": exc.description}, status_code=exc.status)
        call.done(200, {"token_type": "Bearer"})
        return JSONResponse(payload, headers={"cache-control": "no-store"})


DIALECT = VertexDialect()
