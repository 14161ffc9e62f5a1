"""Web Push subscriptions as a browser gives them (`PushSubscription.toJSON()`): the push
service's `endpoint` and the keys a payload is encrypted for (RFC 8291). What a page
sends is checked here before anything is stored: an endpoint is an https URL the server
will later POST to, and the keys must be what the encryption needs (a P-256 public key in
uncompressed form, 65 bytes; a 16-byte authentication secret), so a subscription that
could never be delivered to is refused when it is made, not when a step happens.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from web.codes import display
from web.i18n import lazy_gettext as N_
from web.i18n import translations
from web.lifecycle.alerts import ALERT_TITLES, STAFF_CASE_PATH
from web.lifecycle.timeline import label

# Push services' endpoints are a few hundred characters; far longer is not one.
MAX_ENDPOINT = 1000
P256DH_BYTES = 65
AUTH_BYTES = 16


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: str
    auth: str


class BadSubscription(ValueError):
    """Why what was sent is not a subscription (a message id, for web.i18n)."""


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
    if len(endpoint) > MAX_ENDPOINT or parts.scheme != "https" or not parts.hostname:
        raise BadSubscription(
            N_("Langganan tidak sah: alamat (endpoint) harus berupa alamat https.")
        )
    return endpoint


def parse_subscription(data: Any) -> Subscription:
    """A browser's PushSubscription JSON, checked; raises BadSubscription."""
    endpoint = parse_endpoint(data)
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
