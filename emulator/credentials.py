"""Fixed fake credentials the emulator accepts, and the Vertex service-account file."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from filelock import FileLock

ANTHROPIC_API_KEY = "emulator-anthropic-key"
AZURE_API_KEY = "emulator-azure-key"
AWS_ACCESS_KEY_ID = "AKIAEMULATOR00000000"
AWS_SECRET_ACCESS_KEY = "emulator-aws-secret"
AWS_REGION = "us-east-1"
VERTEX_PROJECT = "ccmatrix-emulator"
VERTEX_LOCATION = "us-east5"

SA_FILENAME = "vertex-service-account.json"
SA_CLIENT_EMAIL = f"emulator@{VERTEX_PROJECT}.iam.gserviceaccount.com"


def _key_pem_path(data_dir: Path) -> Path:
    return Path(data_dir) / "vertex-sa-key.pem"


def _ensure_key(data_dir: Path) -> str:
    """The RSA private key (PEM) shared by every service-account file of this data_dir."""
    path = _key_pem_path(data_dir)
    if path.exists():
        return path.read_text()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    _atomic_write(path, pem)
    return pem


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def vertex_service_account(data_dir: Path, token_uri: str) -> Path:
    """Write (idempotently) a service_account JSON whose token_uri points at the emulator; return its path."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SA_FILENAME
    with FileLock(str(data_dir / ".vertex-sa.lock")):
        pem = _ensure_key(data_dir)
        info = {
            "type": "service_account",
            "project_id": VERTEX_PROJECT,
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


def vertex_public_key(data_dir: Path):
    """Public key of the data_dir's service account (None when no SA was written yet)."""
    path = _key_pem_path(Path(data_dir))
    if not path.exists():
        return None
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(path.read_bytes(), password=None).public_key()

# Bedrock API key (sent by LiteLLM as `Authorization: Bearer <key>` when `api_key` is set on a bedrock route)
BEDROCK_API_KEY = "emulator-bedrock-api-key"
