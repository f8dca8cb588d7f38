"""A throwaway certificate authority for the secure dev servers (``streamcore dev up --secure``).

The CA and one server certificate (valid for 127.0.0.1 and localhost) are made once per
state directory with the ``cryptography`` package: ``ca.pem`` is what clients trust
(``STREAMCORE_KAFKA__SSL_CA_LOCATION``, ``STREAMCORE_CASSANDRA__SSL_CA_FILE``), and
``server.p12`` (PKCS#12, password ``KEYSTORE_PASSWORD``) is the keystore both Kafka and
Cassandra serve. For tests and local work only: the keys sit unencrypted on disk.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from streamcore.errors import DevServerError

KEYSTORE_PASSWORD = "streamcore-dev-keystore"


@dataclass(frozen=True)
class DevTlsFiles:
    directory: Path

    @property
    def ca(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def keystore(self) -> Path:
        return self.directory / "server.p12"

    def ensure(self) -> DevTlsFiles:
        """Make the CA and the server keystore unless both exist already."""
        if not (self.ca.exists() and self.keystore.exists()):
            self.directory.mkdir(parents=True, exist_ok=True)
            ca_pem, keystore = make_ca_and_server_keystore(KEYSTORE_PASSWORD)
            self.keystore.write_bytes(keystore)
            self.ca.write_bytes(ca_pem)
        return self


def make_ca_and_server_keystore(password: str, days: int = 3650) -> tuple[bytes, bytes]:
    """(CA certificate as PEM, PKCS#12 keystore of a server key and certificate it signed)."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.serialization import pkcs12
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ImportError as exc:  # a dev extra, not a runtime dependency
        raise DevServerError(
            "the secure dev servers need the 'cryptography' package (pip install -e '.[dev]')"
        ) from exc

    now = datetime.now(UTC) - timedelta(minutes=5)
    until = now + timedelta(days=days)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(name("streamcore dev CA"))
        .issuer_name(name("streamcore dev CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(name("localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    keystore = pkcs12.serialize_key_and_certificates(
        b"server",
        server_key,
        server_cert,
        [ca_cert],
        serialization.BestAvailableEncryption(password.encode()),
    )
    return ca_cert.public_bytes(serialization.Encoding.PEM), keystore
