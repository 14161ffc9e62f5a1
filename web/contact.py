"""The channels a reporter may agree to hear back on (`reports.notify_by`), where each one
goes, and the signed stop link every message carries.

`notify_by` is a comma list in the fixed order of CHANNELS. 'whatsapp' and 'sms' go to the
reporter's own phone and 'email' to their own email (`reporter_phone`, `reporter_email`):
the person who filled in the form and ticked the box. On a report filed on behalf of
someone else that is the volunteer (or whoever typed their contact as "Kontak Anda"), never
the person helped, who did not tick anything themselves; staff can still call them.

A stop token names the report and the channel and is signed with the app's secret
(itsdangerous). It is short on purpose, because it must fit in an SMS beside the news: the
code, one letter for the channel and 11 characters of the signature (66 bits).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from itsdangerous import Signer

from web import validators

CHANNELS = ("whatsapp", "sms", "email")
_LETTERS = {"whatsapp": "w", "sms": "s", "email": "e"}
_BY_LETTER = {letter: channel for channel, letter in _LETTERS.items()}
SIGNATURE_LENGTH = 11


def join(channels: Iterable[str]) -> str:
    """The `notify_by` text of a set of channels (unknown names dropped)."""
    chosen = set(channels)
    return ",".join(c for c in CHANNELS if c in chosen)


def split(notify_by: str | None) -> tuple[str, ...]:
    chosen = set((notify_by or "").split(","))
    return tuple(c for c in CHANNELS if c in chosen)


def international_phone(number: str) -> str:
    """An Indonesian mobile number as a gateway takes it: +62 8…; '' when it is none."""
    digits = validators.normalise_phone(number or "")
    if not validators.is_mobile_number(digits):
        return ""
    if digits.startswith("+62"):
        return digits
    if digits.startswith("62"):
        return "+" + digits
    return "+62" + digits[1:]


def recipient(channel: str, *, phone: str, email: str) -> str:
    """Where a channel's message goes, or '' when the report has no such contact."""
    if channel == "email":
        return email.strip() if validators.is_email(email.strip()) else ""
    if channel in ("sms", "whatsapp"):
        return international_phone(phone)
    return ""


def _signer(secret_key: str) -> Signer:
    return Signer(secret_key, salt="aduan.stop-messages", digest_method=hashlib.sha256)


def _signature(secret_key: str, value: str) -> str:
    return _signer(secret_key).get_signature(value).decode("ascii")[:SIGNATURE_LENGTH]


def stop_token(secret_key: str, code: str, channel: str) -> str:
    """The token of the stop link for one report and channel."""
    value = code + _LETTERS[channel]
    return value + _signature(secret_key, value)


def read_stop_token(secret_key: str, token: str) -> tuple[str, str] | None:
    """(code, channel) of a genuine token; None for a forged or mangled one."""
    value, signature = token[:-SIGNATURE_LENGTH], token[-SIGNATURE_LENGTH:]
    if len(value) < 2 or value[-1] not in _BY_LETTER or not value.isascii():
        return None
    if not hmac.compare_digest(_signature(secret_key, value), signature):
        return None
    return value[:-1], _BY_LETTER[value[-1]]
