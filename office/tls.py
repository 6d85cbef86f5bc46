"""The office's TLS certificate: one it makes itself at first start, or one the operator gives it.

Devices do not trust a certificate authority: each one pins the SHA-256 fingerprint of the
office's certificate (DER) at enrolment, from the enrolment QR or the code's check, and holds
every later connection to it (``sync.client.HttpTransport``). So the office's own certificate
need not be signed by anyone; it is made once, kept beside the store file (the key readable by
the office's user only) and valid for 20 years, because a new certificate means enrolling every
device again. Browsers at the console warn about it once (see docs/office-guide.md).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bank.errors import BankError

VALID_DAYS = 20 * 365


class TlsError(BankError):
    code = "tls"


def own_paths(db_path: str | Path) -> tuple[Path, Path]:
    """Where the office's own certificate and key live: beside the store (community.tls.crt/.key)."""
    db_path = Path(db_path)
    return db_path.with_suffix(".tls.crt"), db_path.with_suffix(".tls.key")


def own_certificate(db_path: str | Path, community_name: str = "") -> tuple[Path, Path]:
    """The office's own certificate and key, made now if they do not exist yet."""
    cert_path, key_path = own_paths(db_path)
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    if cert_path.exists() or key_path.exists():
        missing = key_path if cert_path.exists() else cert_path
        raise TlsError(f"办公室证书不完整:缺少 {missing}。请从备份恢复;若重新生成,所有设备都要重新登记。",
                       f"the office certificate is incomplete: {missing} is missing (restore it from the backup; "
                       f"a new certificate means enrolling every device again)")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{community_name or '社区'} 道德积分银行办公室"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Moral Points Bank office")])
    now = dt.datetime.now(dt.timezone.utc)
    alt = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
           x509.IPAddress(ipaddress.ip_address("::1"))]
    host = socket.gethostname()
    if host and host != "localhost" and all(c.isalnum() or c in "-." for c in host):
        alt.append(x509.DNSName(host))
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=VALID_DAYS))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    # the key first, 0600 from its first byte; the certificate last, so a half-made pair is
    # seen as incomplete rather than taken for a good one
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key_pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    tmp = cert_path.with_suffix(".tmp")
    tmp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    os.replace(tmp, cert_path)
    return cert_path, key_path


def fingerprint(cert_path: str | Path) -> str:
    """SHA-256 of the (first) certificate in a PEM file, as 64 lower-case hex digits."""
    try:
        certs = x509.load_pem_x509_certificates(Path(cert_path).read_bytes())
    except (OSError, ValueError) as exc:
        raise TlsError(f"无法读取证书文件 {cert_path}。", f"cannot read the certificate {cert_path}: {exc}") from None
    return certs[0].fingerprint(hashes.SHA256()).hex()


def check_pair(cert_path: str | Path, key_path: str | Path) -> None:
    """Refuse, in plain words, a certificate and key that cannot serve TLS together."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(str(cert_path), str(key_path))
    except (OSError, ssl.SSLError) as exc:
        raise TlsError(f"证书 {cert_path} 和私钥 {key_path} 无法使用(文件不对或不配套)。",
                       f"cannot serve TLS with {cert_path} and {key_path}: {exc}") from None


def spaced(fp: str) -> str:
    """A fingerprint as people compare it: AB:CD:… in groups."""
    return ":".join(fp[i:i + 2] for i in range(0, len(fp), 2)).upper()
