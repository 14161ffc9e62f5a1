"""The words of an email, SMS or WhatsApp message about a report's public step, written at
send time from the event (db.messages.contact_details) in the language the reporter filed
in: the code, the step's public name, its public note and the tracking link, and a stop
link on every message. Nothing about the reporter; for a confidential report not even the
step or the note (as its public page and Web Push), only that there is news.

An SMS fits one 160-character GSM-7 message: the text is folded into the GSM-7 alphabet
(a character it lacks becomes its nearest plain letter, or goes), and the note is cut to
what is left beside the code, the step and both links.

A staff alert (web/lifecycle/alerts.py) to an officer's work email or phone is
`compose_alert` instead: the alert's title with the case code, the category and the link to
the staff case page, in Indonesian (an account has no language of its own); nothing from the
report's description, address or reporter, and no stop link (an admin removes the contact).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from web import contact
from web.codes import display
from web.i18n import lazy_gettext as N_
from web.i18n import translations
from web.lifecycle.alerts import ALERT_TITLES, STAFF_CASE_PATH
from web.lifecycle.timeline import label

SMS_LENGTH = 160
# GSM 03.38: the basic alphabet (one septet each) and its extension table (two each).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€")
_PLAIN = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "\u00a0": " ",
    "\t": " ",
}
CONFIDENTIAL_NEWS = N_("Ada kabar baru tentang laporan ini. Buka tautan pribadinya.")


def gsm7_length(text: str) -> int:
    """Septets `text` takes in an SMS; ValueError when a character is not GSM-7."""
    total = 0
    for char in text:
        if char in GSM7_BASIC:
            total += 1
        elif char in GSM7_EXTENDED:
            total += 2
        else:
            raise ValueError(f"{char!r} is not in the GSM-7 alphabet")
    return total


def to_gsm7(text: str) -> str:
    """`text` in the GSM-7 alphabet on one line: quotes and dashes made plain, accents
    dropped where GSM-7 lacks the letter, anything else (emoji) left out."""
    out = []
    for char in " ".join(text.split()):
        char = _PLAIN.get(char, char)
        if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in char):
            out.append(char)
            continue
        folded = unicodedata.normalize("NFKD", char)
        out.append("".join(c for c in folded if c in GSM7_BASIC))
    return " ".join("".join(out).split())


def _cut(text: str, room: int) -> str:
    """`text` cut to at most `room` septets, marked by "..." when cut."""
    if gsm7_length(text) <= room:
        return text
    if room < 4:
        return ""
    kept, used = [], 0
    for char in text:
        used += gsm7_length(char)
        if used > room - 3:
            break
        kept.append(char)
    cut = "".join(kept).rstrip()
    return cut + "..." if cut else ""


@dataclass(frozen=True)
class Text:
    """One message in its three shapes: an email (subject and body), an SMS, and a
    WhatsApp template's parameters (with the same words as one text)."""

    subject: str
    body: str
    sms: str
    parameters: tuple[str, ...]
    language: str
    stop: str = ""  # the stop link (List-Unsubscribe); none on a staff alert


def compose(details: Mapping[str, Any], *, base_url: str, secret_key: str) -> Text:
    """The message of a contact-channel row (db.messages.contact_details)."""
    language = details["language"] if details["language"] in ("id", "en") else "id"
    _ = translations(language).gettext
    code = details["code"]
    shown = display(code)
    track = f"{base_url}/t/{code}"
    stop = f"{base_url}/berhenti/{contact.stop_token(secret_key, code, details['channel'])}"
    note = ""
    if details["confidential"]:
        step = _(CONFIDENTIAL_NEWS)
        subject = _("Kabar baru laporan %(code)s") % {"code": shown}
    else:
        step = _(label(details["kind"], "public"))
        note = " ".join(str(details["public_note"] or "").split())
        subject = _("Laporan %(code)s: %(step)s") % {"code": shown, "step": step}
    body = "\n\n".join(
        part
        for part in (
            subject if not details["confidential"] else step,
            note,
            _("Lihat perkembangannya: %(url)s") % {"url": track},
            _("Anda menerima pesan ini karena meminta dikabari tentang laporan ini.")
            + "\n"
            + _("Berhenti menerima pesan ini: %(url)s") % {"url": stop},
        )
        if part
    )
    return Text(
        subject=subject,
        body=body,
        sms=_sms(_, shown, step, note, track, stop),
        parameters=(shown, step, note or "-", track, stop),
        language=language,
        stop=stop,
    )


def compose_alert(details: Mapping[str, Any], *, base_url: str, language: str = "id") -> Text:
    """The message of a staff alert by email, SMS or WhatsApp (db.alerts.alert_details):
    the alert's title with the case code, the category and the staff case page. The
    WhatsApp template's parameters are the title, the category and the link."""
    _ = translations(language).gettext
    code = details["code"]
    title = _(ALERT_TITLES[details["alert"]]) % {"code": display(code)}
    category = str(details["category_name_en" if language == "en" else "category_name_id"])
    link = base_url + STAFF_CASE_PATH.format(code=code)
    body = "\n\n".join(
        (
            title,
            _("Jenis masalah: %(category)s") % {"category": category},
            _("Buka kasusnya: %(url)s") % {"url": link},
            _(
                "Pesan ini dikirim ke kontak kerja yang dicatat admin pada akun petugas Anda."
                " Minta admin mengubahnya bila tidak lagi tepat."
            ),
        )
    )
    head, tail = to_gsm7(f"{title}."), to_gsm7(link)
    room = SMS_LENGTH - gsm7_length(f"{head}  {tail}")
    cut = _cut(to_gsm7(f"{category}."), room)
    sms = " ".join(part for part in (head, cut, tail) if part)
    if gsm7_length(sms) > SMS_LENGTH:  # a base URL too long for any SMS: keep the start
        sms = _cut(sms, SMS_LENGTH)
    return Text(
        subject=title,
        body=body,
        sms=sms,
        parameters=(title, category, link),
        language=language,
    )


def _sms(_: Any, shown: str, step: str, note: str, track: str, stop: str) -> str:
    """One GSM-7 SMS: code and step, then both links, and the note in what room is left
    (the tracking link goes too if even the links do not fit)."""
    head = to_gsm7(_("Laporan %(code)s: %(step)s.") % {"code": shown, "step": step.rstrip(".")})
    see = to_gsm7(_("Lihat: %(url)s") % {"url": track})
    end = to_gsm7(_("Berhenti: %(url)s") % {"url": stop})
    tail = f"{see} {end}"
    if gsm7_length(f"{head} {tail}") > SMS_LENGTH:
        tail = end
    room = SMS_LENGTH - gsm7_length(f"{head}  {tail}")
    cut = _cut(to_gsm7(note), room) if note else ""
    text = " ".join(part for part in (head, cut, tail) if part)
    if gsm7_length(text) > SMS_LENGTH:  # a base URL too long for any SMS: keep the start
        text = _cut(text, SMS_LENGTH)
    return text
