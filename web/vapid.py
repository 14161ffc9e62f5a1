"""The server's VAPID key pair (RFC 8292), which Web Push services use to know that the
pushes for a subscription come from the server that made it.

Made once into the data directory (mode 0600, like the secret key), or given to every app
server through ADUAN_VAPID_PRIVATE_KEY: all servers of one deployment must sign with the same
key, or the browsers' subscriptions stop working."""

from __future__ import annotations

import base64
import os
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from web.settings import Settings, SettingsError

VAPID_FILE_NAME = "vapid_private_key.pem"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _from_text(text: str) -> ec.EllipticCurvePrivateKey:
    """A PEM private key, or the raw 32-byte scalar in base64url (what most Web Push tools
    print as the "private key")."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        else:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            if len(raw) != 32:
                raise ValueError("not 32 bytes")
            key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise SettingsError(
            "ADUAN_VAPID_PRIVATE_KEY must be a P-256 private key: PEM, or its 32 bytes in base64url"
        ) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise SettingsError("ADUAN_VAPID_PRIVATE_KEY must be a P-256 (prime256v1) key")
    return key


def _load_or_create(data_dir: Path) -> ec.EllipticCurvePrivateKey:
    path = data_dir / VAPID_FILE_NAME
    try:
        return _from_text(path.read_text(encoding="ascii"))
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # O_EXCL: two processes starting together agree on one key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _from_text(path.read_text(encoding="ascii"))
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())
    return key


@cache
def _key(data_dir: Path, configured: str) -> ec.EllipticCurvePrivateKey:
    return _from_text(configured) if configured else _load_or_create(data_dir)


def private_key(settings: Settings) -> ec.EllipticCurvePrivateKey:
    """The key that signs the VAPID token of every push this deployment sends."""
    return _key(settings.data_dir, settings.vapid_private_key)


def application_server_key(settings: Settings) -> str:
    """The public key in the form `PushManager.subscribe({applicationServerKey})` takes:
    the uncompressed P-256 point, base64url without padding."""
    point = (
        private_key(settings)
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return _b64url(point)
