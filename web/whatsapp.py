""" "Kabari via WhatsApp": a wa.me link that opens the officer's own WhatsApp with the update
written for the resident (no paid API, nothing sent by the server). Only for a resident who
left a mobile number and agreed to be contacted on WhatsApp (reports.notify_by)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from web.codes import display
from web.i18n import lazy_gettext as N_
from web.i18n import translations
from web.lifecycle.timeline import label
from web.notices import sees_contact
from web.validators import is_mobile_number, normalise_phone

# WhatsApp shows a long text fine, but a phone screen of it is enough for an update.
NOTE_LENGTH = 500


def consents(report: Mapping[str, Any]) -> bool:
    """Whether the reporter agreed to hear back on WhatsApp and left a number for it."""
    chosen = str(report.get("notify_by") or "").split(",")
    return "whatsapp" in chosen and wa_number(str(report.get("reporter_phone") or "")) != ""


def may_tell(report: Mapping[str, Any], account: Any) -> bool:
    """Whether this staff account may open WhatsApp to the reporter: it acts on cases, the
    reporter agreed and the account sees the reporter's contact at all (never for an
    anonymous report; for a confidential one only the accounts that see its contact)."""
    return bool(account.can_act) and sees_contact(report, account) and consents(report)


def wa_number(phone: str) -> str:
    """The number as wa.me takes it (country code, digits only: 6281234567890), or '' when
    it is not an Indonesian mobile number."""
    number = normalise_phone(phone)
    if not is_mobile_number(number):
        return ""
    digits = number.lstrip("+")
    return "62" + digits[1:] if digits.startswith("0") else digits


def text(
    report: Mapping[str, Any], event: Mapping[str, Any], tracking_url: str, language: str = "id"
) -> str:
    """The update as the resident reads it: the code, the step, its public note and the
    tracking page. Nothing internal."""
    gettext = translations(language).gettext
    lines = [
        gettext(N_("Kabar laporan %(code)s")) % {"code": display(str(report["code"]))},
        gettext(label(str(event["kind"]), "public")),
    ]
    note = " ".join(str(event["public_note"] or "").split())
    if note:
        lines.append(note if len(note) <= NOTE_LENGTH else note[: NOTE_LENGTH - 1] + "…")
    lines.append(gettext(N_("Lihat perkembangannya: %(url)s")) % {"url": tracking_url})
    return "\n".join(lines)


def link(phone: str, message: str) -> str:
    """https://wa.me/<number>?text=<message>, or '' without a usable number."""
    number = wa_number(phone)
    return f"https://wa.me/{number}?text={quote(message, safe='')}" if number else ""
