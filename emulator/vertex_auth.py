"""Vertex OAuth: the JWT-bearer token exchange (RS256 verified with the data_dir's service-account key)."""
from __future__ import annotations

import base64
import json
import secrets
import time
from urllib.parse import parse_qsl

from . import credentials

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_TTL_S = 3600


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def verify_assertion(assertion: str, data_dir, expected_aud: set[str]) -> dict:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        h, p, s = assertion.split(".")
        header, claims, sig = json.loads(_b64url(h)), json.loads(_b64url(p)), _b64url(s)
    except (ValueError, TypeError):
        raise OAuthError("invalid_grant", "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe")
    if header.get("alg") != "RS256":
        raise OAuthError("invalid_grant", "Invalid JWT Signature.")
    key = credentials.vertex_public_key(data_dir)
    if key is None:
        raise OAuthError("invalid_client", "The OAuth client was not found.", 401)
    try:
        key.verify(sig, f"{h}.{p}".encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise OAuthError("invalid_grant", "Invalid JWT Signature.")
    now = time.time()
    if claims.get("iss") != credentials.SA_CLIENT_EMAIL:
        raise OAuthError("invalid_grant", "Invalid grant: account not found")
    if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] < now - 60 or claims.get("iat", now) > now + 300:
        raise OAuthError("invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
    if claims.get("aud") not in expected_aud:
        raise OAuthError("invalid_grant", "Invalid JWT: Failed audience check.")
    return claims


def exchange(raw: bytes, data_dir, token_uris: set[str], issued: dict) -> dict:
    try:
        form = dict(parse_qsl(raw.decode(), keep_blank_values=True))
    except UnicodeDecodeError:
        raise OAuthError("invalid_request", "Invalid request body")
    if form.get("grant_type") != GRANT:
        raise OAuthError("unsupported_grant_type", "Invalid grant_type: " + form.get("grant_type", ""))
    if not form.get("assertion"):
        raise OAuthError("invalid_request", "Missing required parameter: assertion")
    verify_assertion(form["assertion"], data_dir, token_uris)
    token = "ya29.emulator-" + secrets.token_urlsafe(32)
    issued[token] = time.time() + TOKEN_TTL_S
    return {"access_token": token, "expires_in": TOKEN_TTL_S - 1, "token_type": "Bearer"}


def check_bearer(headers, issued: dict) -> bool:
    auth = headers.get("authorization", "")
    if not auth.lower().startswith("bearer "):
        return False
    exp = issued.get(auth[7:].strip())
    return exp is not None and exp > time.time()
