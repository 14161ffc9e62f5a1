"""Web Push subscriptions as a browser gives them (`PushSubscription.toJSON()`): the push
service's `endpoint` and the keys a payload is encrypted for (RFC 8291). What a page
sends is checked here before anything is stored: an endpoint is an https URL the server
will later POST to, and the keys must be what the encryption needs (a P-256 public key in
uncompressed form, 65 bytes; a 16-byte authentication secret), so a subscription that
could never be delivered to is refused when it is made, not when a step happens.

The endpoint is also the one address a stranger can make the server send requests to, so
only the browsers' own push services are accepted (KNOWN_PUSH_HOSTS, plus the operator's
ADUAN_PUSH_HOSTS): never a host inside the city's network, nor plain http. The sender checks
again before each POST (web/webpush.py), for a subscription stored before a host was
taken off the list.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from web.codes import display
from web.i18n import lazy_gettext as N_
from web.i18n import translations
from web.lifecycle.alerts import ALERT_TITLES, STAFF_CASE_PATH
from web.lifecycle.timeline import label
from web.settings import PushHost

# Push services' endpoints are a few hundred characters; far longer is not one.
MAX_ENDPOINT = 1000
P256DH_BYTES = 65
AUTH_BYTES = 16
# The push services of the browsers residents use: Chrome, Edge and Samsung Internet on
# Android, Opera and Brave (Firebase Cloud Messaging); Firefox (Mozilla's autopush); Safari on
# iOS 16.4+ and macOS (web.push.apple.com); Edge on Windows (WNS, wns2-….notify.windows.com).
KNOWN_PUSH_HOSTS = (
    PushHost("fcm.googleapis.com"),
    PushHost("updates.push.services.mozilla.com"),
    PushHost("*.push.apple.com"),
    PushHost("*.notify.windows.com"),
)
# The characters of a URL (RFC 3986) less "\\" and "@": any two URL parsers agree on where
# such an address points (no user part, no backslash read as a slash by one and not another).
_URL_CHARS = re.compile(r"[A-Za-z0-9._~:/?#\[\]!$&'()*+,;=%-]+")


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: str
    auth: str


class BadSubscription(ValueError):
    """Why what was sent is not a subscription (a message id, for web.i18n)."""


# Answers of the subscription APIs are never kept by a cache.
NO_STORE = {"Cache-Control": "no-store"}
# A PushSubscription's JSON is well under 1 KB: the body limit of the routes that take one.
SUBSCRIPTION_MAX_BYTES = 8 * 1024


def json_error(message: str, status: int, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """A refusal of the subscription APIs (residents' and staff's), in the user's words."""
    return JSONResponse(
        {"message": message}, status_code=status, headers={**NO_STORE, **(headers or {})}
    )


async def read_json(request: Request) -> Any:
    """A subscription API's body as JSON; BadSubscription when it is not JSON or too large."""
    try:
        body = await request.body()
    except HTTPException as exc:
        if exc.status_code == 413:
            raise BadSubscription(N_("Langganan tidak sah: kiriman terlalu besar.")) from exc
        raise
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadSubscription(N_("Langganan tidak sah: isinya bukan JSON.")) from exc


def _base64url(value: Any) -> bytes | None:
    if not isinstance(value, str) or not value or not value.isascii():
        return None
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None


def parse_endpoint(data: Any) -> str:
    """The `endpoint` of a JSON object: an https URL of reasonable length."""
    endpoint = data.get("endpoint") if isinstance(data, dict) else None
    if not isinstance(endpoint, str) or not endpoint:
        raise BadSubscription(N_("Langganan tidak sah: alamat (endpoint) tidak ada."))
    parts = urlsplit(endpoint)
    if (
        len(endpoint) > MAX_ENDPOINT
        or parts.scheme not in ("https", "http")
        or not parts.hostname
        or not _URL_CHARS.fullmatch(endpoint)
    ):
        raise BadSubscription(
            N_("Langganan tidak sah: alamat (endpoint) harus berupa alamat https.")
        )
    return endpoint


def _matches(pattern: str, host: str) -> bool:
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return host == pattern


def push_service_allowed(
    scheme: str, host: str, port: int | None, extra: Sequence[PushHost] = ()
) -> bool:
    """Whether the server may POST to this scheme, host and port (None: the scheme's
    default): a known push service over https, or one the operator added."""
    port = port or (443 if scheme == "https" else 80)
    return any(
        entry.scheme == scheme and entry.port == port and _matches(entry.host, host.lower())
        for entry in (*KNOWN_PUSH_HOSTS, *extra)
    )


def check_push_service(endpoint: str, extra: Sequence[PushHost] = ()) -> None:
    """Raise BadSubscription unless the endpoint is at a push service the server may POST
    to (see push_service_allowed)."""
    parts = urlsplit(endpoint)
    try:
        port = parts.port
    except ValueError:
        port = -1
    host = parts.hostname or ""
    if port != -1 and push_service_allowed(parts.scheme, host, port, extra):
        return
    if parts.scheme != "https":
        raise BadSubscription(
            N_("Langganan tidak sah: alamat (endpoint) harus berupa alamat https.")
        )
    raise BadSubscription(
        N_("Langganan tidak sah: alamat (endpoint) bukan layanan notifikasi peramban yang dikenal.")
    )


def parse_subscription(data: Any, push_hosts: Sequence[PushHost] = ()) -> Subscription:
    """A browser's PushSubscription JSON, checked, its endpoint at a push service the server
    may POST to (KNOWN_PUSH_HOSTS and `push_hosts`, ADUAN_PUSH_HOSTS); raises
    BadSubscription."""
    endpoint = parse_endpoint(data)
    check_push_service(endpoint, push_hosts)
    keys = data.get("keys")
    if not isinstance(keys, dict):
        raise BadSubscription(N_("Langganan tidak sah: kunci (keys) tidak ada."))
    p256dh, auth = _base64url(keys.get("p256dh")), _base64url(keys.get("auth"))
    if p256dh is None or len(p256dh) != P256DH_BYTES or p256dh[0] != 4:
        raise BadSubscription(N_("Langganan tidak sah: kunci p256dh tidak dikenali."))
    if auth is None or len(auth) != AUTH_BYTES:
        raise BadSubscription(N_("Langganan tidak sah: kunci auth tidak dikenali."))
    return Subscription(endpoint, keys["p256dh"].rstrip("="), keys["auth"].rstrip("="))


# A notification shows a few lines; the tracking page has the whole note.
NOTE_LENGTH = 240


def payload(details: Mapping[str, Any], *, tracking_path: str) -> dict[str, str]:
    """What a push message carries to the service worker, in the subscriber's language:
    the report's code, the step's public name and its public note, and the page a tap
    opens. Nothing about the reporter; for a confidential report not even the step or
    the note (its public page shows neither), only that there is news. A staff alert
    (`alert` set) is `alert_payload` instead."""
    language = details["language"] or "id"
    translate = translations(language).gettext
    code = details["code"]
    if details.get("alert"):
        return alert_payload(details)
    if details["confidential"]:
        body = translate(N_("Ada kabar baru tentang laporan ini. Buka tautan pribadinya."))
    else:
        body = translate(label(details["kind"], "public"))
        note = " ".join(str(details["public_note"] or "").split())
        if note:
            cut = note if len(note) <= NOTE_LENGTH else note[: NOTE_LENGTH - 1].rstrip() + "…"
            body = f"{body}: {cut}"
    return {
        "code": code,
        "title": translate("Laporan %(code)s") % {"code": display(code)},
        "body": body,
        "step": "" if details["confidential"] else details["kind"],
        "url": tracking_path,
        "lang": language,
    }


def alert_payload(details: Mapping[str, Any]) -> dict[str, str]:
    """A staff alert (web/lifecycle/alerts.py) in the officer's language: which alert, the
    case code and its category, and the staff case page a tap opens. Never the reporter's
    contact nor the description."""
    language = details["language"] or "id"
    translate = translations(language).gettext
    code = details["code"]
    alert = details["alert"]
    category = details["category_name_en" if language == "en" else "category_name_id"]
    return {
        "code": code,
        "title": translate(ALERT_TITLES[alert]) % {"code": display(code)},
        "body": str(category or ""),
        "alert": alert,
        "url": STAFF_CASE_PATH.format(code=code),
        "lang": language,
    }
