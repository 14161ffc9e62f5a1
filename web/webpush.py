"""Sending one Web Push message (the outbox's "push" channel, web/outbox.py).

What a push is:
- the payload of web/push.py, as JSON, encrypted for the subscribing browser alone (RFC 8291,
  aes128gcm, one record: the push service relays it and cannot read it);
- signed for the push service with the deployment's VAPID key (RFC 8292, web/vapid.py): an
  ES256 JWT whose `aud` is the endpoint's origin, valid 12 hours, with the operator's contact
  as `sub`;
- POSTed with `TTL` (a phone that is off gets it for four days) and `Urgency: high` for a
  step that changes the report's status (the phone wakes for it), `normal` for a note.

The push service's answer becomes an Outcome: 2xx sent; 404/410 the subscription is gone (it
is forgotten); 429, 5xx, a timeout or a network error tried again later; any other answer
failed, with its status. Redirects are never followed: the endpoint is the only address.

Before every POST the endpoint is checked again against the push services the server may
reach (web/push.py), with the parser that makes the request: a subscription stored before
an operator narrowed ADUAN_PUSH_HOSTS is failed, not sent.

The page a tap opens is the report's tracking page, except for a confidential report: its
public page shows nothing, so a resident who subscribed from the private link (the
subscription needed its token, web/routes/push.py) gets that link back. The token only
travels inside the encrypted payload, to the browser that already holds it; the words of
the notification itself, which a lock screen shows, still say nothing about the report.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import http_ece
import httpx2 as httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from starlette.routing import Router

from db import messages
from db.database import Database
from web import vapid
from web.lifecycle.rules import PUBLIC_EVENT_KINDS
from web.outbox import SENT, Outcome
from web.privatelinks import token_for
from web.push import payload, push_service_allowed
from web.routes import tracking
from web.settings import Settings

# The whole of one POST, from connecting to the last byte of the answer.
TIMEOUT = 10.0
# How long a push service keeps a message for a phone that is off or offline.
TTL_SECONDS = 4 * 24 * 3600
# RFC 8292 allows up to 24 hours; half leaves room for a server clock that runs fast.
TOKEN_SECONDS = 12 * 3600
# RFC 8291 §4: a push message is one record of at most 4096 bytes, which leaves 3993 bytes
# for the payload after the header (86 bytes), the padding delimiter and the tag.
RECORD_SIZE = 4096
MAX_PAYLOAD = 3993
# The most of a push service's answer kept as the error of a failed try.
ANSWER_BYTES = 300
# Connections open at once to push services (web.outbox sends a batch side by side).
MAX_CONNECTIONS = 20


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def vapid_authorization(
    key: ec.EllipticCurvePrivateKey, audience: str, subject: str, now: float
) -> str:
    """The `Authorization` header of a push to `audience` (the endpoint's origin)."""
    header = _b64(b'{"typ":"JWT","alg":"ES256"}')
    claims = {"aud": audience, "exp": int(now) + TOKEN_SECONDS, "sub": subject}
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{body}".encode("ascii")
    r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
    signature = _b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return f"vapid t={header}.{body}.{signature}, k={_b64(public)}"


def encrypt(plaintext: bytes, p256dh: str, auth: str) -> bytes:
    """`plaintext` encrypted for the browser whose keys these are (RFC 8291, aes128gcm), with
    a key pair made for this message alone."""
    return bytes(
        http_ece.encrypt(
            plaintext,
            salt=os.urandom(16),
            private_key=ec.generate_private_key(ec.SECP256R1()),
            dh=_unb64(p256dh),
            auth_secret=_unb64(auth),
            version="aes128gcm",
            rs=RECORD_SIZE,
        )
    )


@asynccontextmanager
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP client pushes go out through: no redirects, bounded time, closed on exit.
    HTTPS_PROXY and NO_PROXY are honoured, for a server that reaches out through a proxy."""
    async with httpx.AsyncClient(
        timeout=TIMEOUT,
        follow_redirects=False,
        limits=httpx.Limits(max_connections=MAX_CONNECTIONS),
        headers={"User-Agent": "Aduan"},
    ) as client:
        yield client


_PATHS = Router(routes=tracking.routes)


def open_path(details: Mapping[str, Any], secret_key: str) -> str:
    """The page a tap on the notification opens (see the module's docstring)."""
    code = details["code"]
    if details["confidential"]:
        return str(
            _PATHS.url_path_for("private_page", code=code, token=token_for(secret_key, code))
        )
    return str(_PATHS.url_path_for("track", code=code))


class WebPush:
    """The sender of the "push" channel (a web.outbox.Sender)."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        http: httpx.AsyncClient,
        *,
        timeout: float = TIMEOUT,
    ) -> None:
        self.settings = settings
        self.db = db
        self.http = http
        self.timeout = timeout
        self.key = vapid.private_key(settings)

    async def __call__(self, message: Any) -> Outcome:
        async with self.db.read() as conn:
            details = await messages.push_details(conn, message["id"])
        if details is None:
            return Outcome(error="message no longer stored")
        if details["p256dh"] is None:
            # Unsubscribed meanwhile. Not "gone": forgetting the endpoint would also end the
            # alerts an officer gets in the same browser.
            return Outcome(error="subscription gone")
        try:
            url = httpx.URL(message["recipient"])
        except httpx.InvalidURL:
            url = None
        if (
            url is None
            or url.userinfo
            or not push_service_allowed(url.scheme, url.host, url.port, self.settings.push_hosts)
        ):
            return Outcome(error="endpoint is not a push service this server may reach")
        data = payload(details, tracking_path=open_path(details, self.settings.secret_key))
        plaintext = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        if len(plaintext) > MAX_PAYLOAD:
            return Outcome(error=f"payload of {len(plaintext)} bytes is too large")
        headers = {
            "Authorization": vapid_authorization(
                self.key,
                f"{url.scheme}://{url.netloc.decode('ascii')}",
                self.settings.push_subject,
                time.time(),
            ),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(TTL_SECONDS),
            "Urgency": "high" if details["kind"] in PUBLIC_EVENT_KINDS else "normal",
        }
        body = encrypt(plaintext, details["p256dh"], details["auth"])
        try:
            async with asyncio.timeout(self.timeout):
                return await self._post(url, headers, body)
        except TimeoutError:
            return Outcome(retry=True, error=f"no answer within {self.timeout:g} s")
        except httpx.HTTPError as exc:
            return Outcome(retry=True, error=f"{type(exc).__name__}: {exc}")

    async def _post(self, url: httpx.URL, headers: Mapping[str, str], body: bytes) -> Outcome:
        async with self.http.stream("POST", url, headers=headers, content=body) as answer:
            status = answer.status_code
            if 200 <= status < 300:
                return SENT
            text = b""
            async for chunk in answer.aiter_bytes():
                text += chunk
                if len(text) >= ANSWER_BYTES:
                    break
        error = f"HTTP {status}: {text[:ANSWER_BYTES].decode('utf-8', 'replace').strip()}"
        if status in (404, 410):
            return Outcome(gone=True, error=error)
        if status == 429 or status >= 500:
            return Outcome(retry=True, error=error)
        return Outcome(error=error)
