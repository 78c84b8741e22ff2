"""A self-signed TLS certificate for nginx, made at first start (SAN localhost and 127.0.0.1)."""

import subprocess
from pathlib import Path


def ensure_certificate(directory: Path, days: int = 825) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    if not (cert.exists() and key.exists()):
        directory.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", str(days),
             "-subj", "/CN=localhost/O=PiggyBank", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True)
        key.chmod(0o600)
    return cert, key
