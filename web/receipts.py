"""What a receipt (struk) shows, for the resident's receipt and the walk-in desk's alike.

A receipt names the problem (its category and the start of the description) and, for a
report filed for someone else, the person helped. Without the private link a confidential
report's receipt shows only what its public tracking page shows: the code and the status.
Names are shown only with the private link (or to the officer who took the complaint).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

import segno

from web import codes
from web.i18n import gettext as _

EXCERPT_LENGTH = 90


def excerpt(text: str, limit: int = EXCERPT_LENGTH) -> str:
    """The description on one line, cut at a word before `limit` characters."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[:limit].rsplit(" ", 1)[0] or line[:limit]
    return cut.rstrip(",.;:-") + "\u2026"


def share_links(code: str, *, tracking_url: str, voice: str = "own") -> dict[str, str]:
    """The public tracking address and a message to share it with (WhatsApp without
    JavaScript, the phone's own share sheet with it). Never the private link.

    `voice` is who shares: "own" the reporter, "desk" the officer who took the complaint,
    "public" anyone who opened the tracking page."""
    values = {"code": codes.display(code), "url": tracking_url}
    if voice == "desk":
        text = _("Pengaduan Anda di Aduan sudah dicatat. Kode lacak %(code)s. Lacak di %(url)s")
    elif voice == "public":
        text = _("Laporan warga di Aduan: kode %(code)s. Lacak di %(url)s")
    else:
        text = _("Laporan saya di Aduan: kode %(code)s. Lacak di %(url)s")
    text %= values
    return {
        "display_code": codes.display(code),
        "tracking_url": tracking_url,
        "share_text": text,
        "whatsapp_url": "https://wa.me/?text=" + quote(text),
    }


def follow_path(path: str, *, confidential: bool, token: str) -> str:
    """Where "Kabari saya" subscribes (`path`: the report's /api/v1/reports/{code}/push):
    with the private link's token where the page has it; a confidential report's public
    page has none, and the API refuses to follow it without one, so it gets no button."""
    if token:
        return f"{path}?{urlencode({'k': token})}"
    return "" if confidential else path


def receipt_context(
    report: Any, *, tracking_url: str, private_url: str, desk: bool = False
) -> dict[str, Any]:
    """The template values of a receipt. `private_url` is empty unless the viewer holds the
    report's private link; `desk` is the walk-in desk's wording, handed to a resident."""
    links = share_links(report["code"], tracking_url=tracking_url, voice="desk" if desk else "own")
    hidden = bool(report["confidential"]) and not private_url
    helped = bool(private_url) and bool(report["on_behalf"])
    qr = segno.make(links["tracking_url"], error="m").svg_inline(
        scale=4,
        omitsize=True,  # a viewBox instead, so CSS sizes it for screen and A6 print
        title=_("Kode QR menuju halaman lacak"),
        svgclass="qr-code",
        lineclass=None,
    )
    return {
        **links,
        "report": report,
        "private_url": private_url,
        "hidden": hidden,
        "desk": desk,
        "excerpt": "" if hidden else excerpt(report["description"]),
        "helped_name": report["on_behalf_name"] if helped else "",
        "volunteer_name": report["volunteer_name"] if helped else "",
        "qr_svg": qr,
    }
