import json

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from providers.vertex_ai import credentials as vertex


def test_vertex_service_account_idempotent_and_real_key(tmp_path):
    p1 = vertex.service_account(tmp_path, "http://127.0.0.1:1/token")
    info = json.loads(p1.read_text())
    assert info["type"] == "service_account" and info["token_uri"] == "http://127.0.0.1:1/token"
    key = serialization.load_pem_private_key(info["private_key"].encode(), password=None)
    sig = key.sign(b"x", padding.PKCS1v15(), hashes.SHA256())
    vertex.public_key(tmp_path).verify(sig, b"x", padding.PKCS1v15(), hashes.SHA256())
    p2 = vertex.service_account(tmp_path, "http://127.0.0.1:1/token")
    assert p2 == p1 and json.loads(p2.read_text()) == info
    p3 = vertex.service_account(tmp_path, "http://127.0.0.1:2/token")
    info3 = json.loads(p3.read_text())
    assert info3["token_uri"].endswith(":2/token") and info3["private_key"] == info["private_key"]
