"""SigV4 verification with botocore's own signer, over the exact bytes and path received."""
from __future__ import annotations

import datetime
import hmac
import re

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from . import credentials
from .errors import EmulatorError

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
        if hmac.compare_digest(token.encode(), credentials.BEDROCK_API_KEY.encode()):
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
    if akid != credentials.AWS_ACCESS_KEY_ID:
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
    sign_headers = {}
    for name in signed:
        value = headers.get(name)
        if value is None:
            raise _deny(MISMATCH, "InvalidSignatureException")
        sign_headers[name] = value
    declared = headers.get("x-amz-content-sha256")
    if declared and declared != "UNSIGNED-PAYLOAD":
        import hashlib
        if declared != hashlib.sha256(body).hexdigest():
            raise _deny("The provided 'x-amz-content-sha256' header does not match what was computed.",
                        "InvalidSignatureException", 400)
    host = headers.get("host", "localhost")
    url = f"http://{host}{raw_path}" + (f"?{query}" if query else "")
    req = AWSRequest(method=method, url=url, data=body, headers=sign_headers)
    req.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(credentials.AWS_ACCESS_KEY_ID, credentials.AWS_SECRET_ACCESS_KEY), service, region)
    # botocore ignores some headers when signing (user-agent, expect, x-amzn-trace-id): honour the client's list
    signer.headers_to_sign = lambda r, _names=signed: _headers_for(r, _names)
    canonical = signer.canonical_request(req)
    expected = signer.signature(signer.string_to_sign(req, canonical), req)
    if not hmac.compare_digest(expected, m.group("sig")):
        raise _deny(MISMATCH, "InvalidSignatureException")


def _headers_for(request, names):
    from botocore.awsrequest import HTTPHeaders

    out = HTTPHeaders()
    for name in names:
        out[name] = " ".join(str(request.headers[name]).split())
    return out
