"""The emulator's HTTPS identity: a certificate authority generated per run and one server certificate for the
providers' real hostnames (production-shaped routing, README "Production-shaped routing").

    issue(directory, hostnames) -> TlsFiles(ca, cert, key)

The CA's private key lives only in the memory of the process that calls `issue` (the emulator): nothing can sign
another certificate with it once that process is gone. `ca` (the CA certificate) is what the gateway under test,
and only it, is told to trust (SSL_CERT_FILE / REQUESTS_CA_BUNDLE, worker/environment.py); `cert` + `key` are the
server's. Every file lives under the run directory, never in the machine's trust store and never in git.

ECDSA P-256 keys (fast to generate); the extensions are the ones a strict verifier asks for (Python's
VERIFY_X509_STRICT, Node, Go): CA basicConstraints and keyUsage critical, subject/authority key identifiers, the
hostnames as subjectAltName DNS names, extendedKeyUsage serverAuth.
"""
from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_NAME = "ccmatrix emulator per-run CA"
VALIDITY = datetime.timedelta(days=7)   # a worker process lives for one run; a week leaves room for a long one


@dataclass(frozen=True)
class TlsFiles:
    ca: Path     # the per-run CA certificate (PEM): the gateway's trust bundle
    cert: Path   # the server certificate (PEM), signed by the CA, naming every hostname
    key: Path    # the server's private key (PEM, mode 0600)


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def issue(directory: Path, hostnames: list[str] | tuple[str, ...]) -> TlsFiles:
    """A fresh CA and a server certificate for `hostnames`, written to `directory` (ca.pem, server.pem,
    server-key.pem). Called once per emulator start: every run gets its own CA."""
    if not hostnames:
        raise ValueError("a server certificate needs at least one hostname")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)   # clock skew
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ccmatrix")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (x509.CertificateBuilder()
          .subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now).not_valid_after(now + VALIDITY)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(ca_ski, critical=False)
          .sign(ca_key, hashes.SHA256()))

    key = ec.generate_private_key(ec.SECP256R1())
    names = sorted({h.lower() for h in hostnames})
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + VALIDITY)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
            .sign(ca_key, hashes.SHA256()))

    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server-key.pem")
    _write(files.key, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()), mode=0o600)
    _write(files.cert, cert.public_bytes(serialization.Encoding.PEM))
    _write(files.ca, ca.public_bytes(serialization.Encoding.PEM))   # last: its presence means the set is complete
    return files


def hostnames_of(cert_pem: bytes) -> list[str]:
    """The DNS names a certificate (PEM) is valid for."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
