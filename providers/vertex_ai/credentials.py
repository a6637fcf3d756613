"""The credentials the emulated Vertex AI issues and checks: a service-account file whose `token_uri` is Google's
own (https://oauth2.googleapis.com/token, served by the emulator under production-shaped routing) or the emulator's
URL, the OAuth JWT-bearer exchange (RS256 assertion verified with google-auth against that account's key), and the
access tokens it hands out."""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qsl

from filelock import FileLock

PROJECT = "ccmatrix-emulator"
LOCATION = "us-east5"
SA_FILENAME = "vertex-service-account.json"
# Google's token endpoint, the `token_uri` of every real service-account key file.
TOKEN_URI = "https://oauth2.googleapis.com/token"
SA_CLIENT_EMAIL = f"emulator@{PROJECT}.iam.gserviceaccount.com"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_TTL_S = 3600
CLOCK_SKEW_S = 60
SHORT_LIVED = ("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check "
               "your iat and exp values in the JWT claim.")


# -- the service account -----------------------------------------------------------------------------------------

def _key_pem_path(data_dir: Path) -> Path:
    return Path(data_dir) / "vertex-sa-key.pem"


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _ensure_key(data_dir: Path) -> str:
    """The RSA private key (PEM) shared by every service-account file of this data_dir."""
    path = _key_pem_path(data_dir)
    if path.exists():
        return path.read_text()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    _atomic_write(path, pem)
    return pem


def service_account(data_dir: Path, token_uri: str = TOKEN_URI) -> Path:
    """Write (idempotently) a service_account JSON with this token_uri (Google's own by default); return its path.
    One file per token_uri (the default one is SA_FILENAME), all signed by the data_dir's one key."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / (SA_FILENAME if token_uri == TOKEN_URI else
                       f"vertex-service-account-{hashlib.sha256(token_uri.encode()).hexdigest()[:10]}.json")
    with FileLock(str(data_dir / ".vertex-sa.lock")):
        pem = _ensure_key(data_dir)
        info = {
            "type": "service_account",
            "project_id": PROJECT,
            "private_key_id": "emulator-key-1",
            "private_key": pem,
            "client_email": SA_CLIENT_EMAIL,
            "client_id": "100000000000000000001",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/emulator",
            "universe_domain": "googleapis.com",
        }
        text = json.dumps(info, indent=2)
        if not path.exists() or path.read_text() != text:
            _atomic_write(path, text)
    return path


def public_key(data_dir: Path):
    """Public key of the data_dir's service account (None when no account was written yet)."""
    path = _key_pem_path(Path(data_dir))
    if not path.exists():
        return None
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(path.read_bytes(), password=None).public_key()


def public_key_pem(data_dir: Path) -> str | None:
    key = public_key(data_dir)
    if key is None:
        return None
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


# -- the OAuth exchange ------------------------------------------------------------------------------------------

class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


def verify_assertion(assertion: str, data_dir, audiences: set[str]) -> dict:
    """The claims of a JWT-bearer assertion signed (RS256) by the data_dir's service account, or OAuthError with
    Google's own descriptions. Signature and iat/exp go through google-auth's `jwt.decode`."""
    from google.auth import exceptions as gexc
    from google.auth import jwt

    try:
        header = jwt.decode_header(assertion)
        claims = jwt.decode(assertion, verify=False)
    except (ValueError, TypeError):
        raise OAuthError("invalid_grant", "Invalid JWT: Token must be a short-lived token and in a reasonable "
                                          "timeframe")
    if header.get("alg") != "RS256":
        raise OAuthError("invalid_grant", "Invalid JWT Signature.")
    pem = public_key_pem(data_dir)
    if pem is None:
        raise OAuthError("invalid_client", "The OAuth client was not found.", 401)
    if not all(isinstance(claims.get(k), (int, float)) for k in ("iat", "exp")):
        raise OAuthError("invalid_grant", SHORT_LIVED)
    try:
        jwt.decode(assertion, certs=pem, verify=True, clock_skew_in_seconds=CLOCK_SKEW_S)
    except gexc.InvalidValue:   # iat / exp outside the window (the signature held)
        raise OAuthError("invalid_grant", SHORT_LIVED)
    except (ValueError, TypeError):   # MalformedError: "Could not verify token signature."
        raise OAuthError("invalid_grant", "Invalid JWT Signature.")
    if claims.get("iss") != SA_CLIENT_EMAIL:
        raise OAuthError("invalid_grant", "Invalid grant: account not found")
    if claims.get("aud") not in audiences:
        raise OAuthError("invalid_grant", "Invalid JWT: Failed audience check.")
    return claims


def exchange(raw: bytes, data_dir, token_uris: set[str], issued: dict) -> dict:
    """The token endpoint: a form `grant_type=<jwt-bearer>&assertion=<JWT>` → an access token (recorded in
    `issued`, token → expiry)."""
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


def bearer_ok(headers, issued: dict) -> bool:
    """An `Authorization: Bearer` token this emulator issued and that has not expired."""
    auth = headers.get("authorization", "")
    if not auth.lower().startswith("bearer "):
        return False
    exp = issued.get(auth[7:].strip())
    return exp is not None and exp > time.time()
