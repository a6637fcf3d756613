"""What the two Bedrock APIs (Invoke, Converse) share about AWS credentials: the real ones a gateway is given
(settings), and the ones the emulator issues and checks — an access key pair verified by SigV4 over the exact bytes
received (botocore's own signer), or a Bedrock API key sent as a bearer token."""
from __future__ import annotations

import datetime
import hashlib
import hmac
import re
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

from emulator.errors import EmulatorError
from providers.base import direct, env_reference

SECRET_SETTINGS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")
REAL_REQUIRES = ("aws_access_key_id", "aws_secret_access_key")

# What the emulator issues.
AWS_ACCESS_KEY_ID = "AKIAEMULATOR00000000"
AWS_SECRET_ACCESS_KEY = "emulator-aws-secret"
AWS_REGION = "us-east-1"
# A Bedrock API key (LiteLLM sends it as `Authorization: Bearer <key>` when `api_key` is set on a bedrock route).
BEDROCK_API_KEY = "emulator-bedrock-api-key"


def runtime_host(region: str) -> str:
    """The Bedrock runtime's hostname in `region` (what LiteLLM calls and signs for when no endpoint is set)."""
    return f"bedrock-runtime.{region}.amazonaws.com"


_RUNTIME_HOST = re.compile(r"^bedrock-runtime\.(?P<region>[a-z0-9-]+)\.amazonaws\.com$")


def mantle_host(region: str) -> str:
    """Bedrock's Mantle endpoint (the Anthropic Messages API on Bedrock, SigV4): where LiteLLM 1.108 counts the tokens
    of Claude models (litellm/llms/bedrock/common_utils.py build_mantle_messages_url: `https://bedrock-mantle.
    {region}.api.aws/anthropic/v1/messages`; count_tokens/mantle_handler.py appends `/count_tokens`, "AWS documents
    Mantle's /anthropic/v1/messages/count_tokens as the way to count them")."""
    return f"bedrock-mantle.{region}.api.aws"


MANTLE_HOST = r"^bedrock-mantle\.[a-z0-9-]+\.api\.aws$"


def hostnames(settings: Any) -> tuple[str, ...]:
    """Where the gateway reaches Bedrock when the column is emulated: the runtime and Mantle hosts of the emulator's
    region."""
    return (runtime_host(AWS_REGION), mantle_host(AWS_REGION))


def aws_params(settings: Any, emulator_url: str | None) -> dict[str, Any]:
    """LiteLLM's AWS parameters: the settings' real credentials, or the emulator's — as a production user writes
    them (keys and region, no endpoint: LiteLLM calls bedrock-runtime.<region>.amazonaws.com, as
    BerriAI/litellm tests/e2e/claude_code/test_config.yaml does), or with the emulator's own URL as the endpoint
    when the sandbox cannot route by hostname (providers.base.DirectEmulatorURL)."""
    if emulator_url is None:
        params = {  # the keys themselves reach the gateway's environment only (providers.base.env_reference)
            "aws_access_key_id": env_reference("aws_access_key_id"),
            "aws_secret_access_key": env_reference("aws_secret_access_key"),
            "aws_region_name": settings.aws_region,
        }
        if settings.aws_session_token:
            params["aws_session_token"] = env_reference("aws_session_token")
        return params
    params = {
        "aws_access_key_id": AWS_ACCESS_KEY_ID,
        "aws_secret_access_key": AWS_SECRET_ACCESS_KEY,
        "aws_region_name": AWS_REGION,
    }
    if direct(emulator_url):
        params["aws_bedrock_runtime_endpoint"] = str(emulator_url)
    return params


# -- SigV4, as the emulator checks it ---------------------------------------------------------------------------

_AUTH = re.compile(r"^AWS4-HMAC-SHA256\s+Credential=(?P<cred>[^,\s]+),\s*SignedHeaders=(?P<sh>[^,\s]+),\s*Signature=(?P<sig>[0-9a-f]+)$")
MAX_SKEW = datetime.timedelta(minutes=15)
MISMATCH = ("The request signature we calculated does not match the signature you provided. Check your AWS Secret "
            "Access Key and signing method. Consult the service documentation for details.")


def _deny(message: str, aws_type: str, status: int = 403) -> EmulatorError:
    kind = "permission_error" if status == 403 else "authentication_error"
    return EmulatorError(kind, message, status, aws_type=aws_type)


def verify(method: str, raw_path: str, query: str, headers, body: bytes, *, service: str = "bedrock") -> None:
    """Raise a Bedrock-shaped 403 unless the request is signed by the emulator's AWS key."""
    auth = headers.get("authorization")
    if not auth:
        raise _deny("Missing Authentication Token", "MissingAuthenticationTokenException")
    if auth.lower().startswith("bearer "):
        token = auth[7:].strip()
        if hmac.compare_digest(token.encode(), BEDROCK_API_KEY.encode()):
            return
        raise _deny("Invalid API Key format: Must start with pre-defined prefix", "UnrecognizedClientException")
    m = _AUTH.match(auth.strip())
    if not m:
        raise _deny(f"Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' "
                    f"parameter. Authorization header requires 'SignedHeaders' parameter.", "IncompleteSignatureException")
    parts = m.group("cred").split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise _deny("Credential should be scoped to a valid region.", "IncompleteSignatureException")
    akid, date, region, svc, _ = parts
    if akid != AWS_ACCESS_KEY_ID:
        raise _deny("The security token included in the request is invalid.", "UnrecognizedClientException")
    if svc != service:
        raise _deny(f"Credential should be scoped to correct service: '{service}'.", "InvalidSignatureException")
    amz_date = headers.get("x-amz-date")
    if not amz_date:
        raise _deny("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
                    "IncompleteSignatureException")
    try:
        ts = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        raise _deny("Invalid X-Amz-Date", "IncompleteSignatureException")
    if abs(datetime.datetime.now(datetime.timezone.utc) - ts) > MAX_SKEW:
        raise _deny("Signature expired: " + amz_date + " is now earlier/later than the allowed 15 minute window.",
                    "InvalidSignatureException")
    if not amz_date.startswith(date):
        raise _deny("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.",
                    "InvalidSignatureException")
    signed = m.group("sh").split(";")
    # At its own hostname, AWS checks the signature against the host the request was sent to: the host must be
    # signed, and the credential scope must name that endpoint's region (a request signed for another region is
    # refused before the signature is computed). The emulator's plain-HTTP port has no such host to check.
    runtime = _RUNTIME_HOST.match(headers.get("host", "").split(":", 1)[0].lower())
    if runtime is not None:
        if "host" not in signed:
            raise _deny("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
                        "InvalidSignatureException")
        if region != runtime.group("region"):
            raise _deny("Credential should be scoped to a valid region.", "InvalidSignatureException")
    sign_headers = {}
    for name in signed:
        value = headers.get(name)
        if value is None:
            raise _deny(MISMATCH, "InvalidSignatureException")
        sign_headers[name] = value
    declared = headers.get("x-amz-content-sha256")
    if declared and declared != "UNSIGNED-PAYLOAD":
        if declared != hashlib.sha256(body).hexdigest():
            raise _deny("The provided 'x-amz-content-sha256' header does not match what was computed.",
                        "InvalidSignatureException", 400)
    host = headers.get("host", "localhost")
    url = f"http://{host}{raw_path}" + (f"?{query}" if query else "")
    req = AWSRequest(method=method, url=url, data=body, headers=sign_headers)
    req.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), service, region)
    # botocore ignores some headers when signing (user-agent, expect, x-amzn-trace-id): honour the client's list
    signer.headers_to_sign = lambda r, _names=signed: _headers_for(r, _names)
    canonical = signer.canonical_request(req)
    expected = signer.signature(signer.string_to_sign(req, canonical), req)
    if not hmac.compare_digest(expected, m.group("sig")):
        raise _deny(MISMATCH, "InvalidSignatureException")


def _headers_for(request, names):
    out = HTTPHeaders()
    for name in names:
        out[name] = " ".join(str(request.headers[name]).split())
    return out
