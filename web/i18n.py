"""Bahasa Indonesia first, English second, through a gettext catalogue.

Message ids are the Indonesian text itself, so a string that is missing from a catalogue
still shows in Bahasa Indonesia. `locale/en/LC_MESSAGES/messages.po` holds the English;
it is compiled in memory at start (no build step, no binary in the repository).
The current language lives in a context variable that the language middleware sets for
each request, so handlers, templates and the domain code all translate the same way.
"""

from __future__ import annotations

import gettext as gettext_module
from contextvars import ContextVar
from datetime import datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as babel_format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from web.clock import from_text

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}
COOKIE_NAME = "lang"

current_language: ContextVar[str] = ContextVar("current_language", default=DEFAULT_LANGUAGE)


@cache
def translations(language: str) -> gettext_module.NullTranslations:
    """The compiled catalogue for a language (Indonesian needs none: ids are Indonesian)."""
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT_LANGUAGE or not po_path.exists():
        return gettext_module.NullTranslations()
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext_module.GNUTranslations(buffer)


def gettext(message: str) -> str:
    return translations(current_language.get()).gettext(message)


def translate(message: str) -> str:
    """Translate a message held in a variable (ids marked elsewhere with `lazy_gettext`);
    named apart from `_`/`gettext` so the extractor does not take the argument for an id."""
    return translations(current_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_language.get()).ngettext(singular, plural, n)


def lazy_gettext(message: str) -> str:
    """Marks a string for extraction where it is defined; translate it when shown."""
    return message


_ = gettext


def negotiate(cookie_value: str | None) -> str:
    return cookie_value if cookie_value in LANGUAGES else DEFAULT_LANGUAGE


def from_cookie_header(cookie_header: str) -> str:
    """The language a request's `Cookie` header asks for (its last `lang`), else the default."""
    value = None
    for part in cookie_header.split(";"):
        name, _sep, raw = part.strip().partition("=")
        if name == COOKIE_NAME:
            value = raw
    return negotiate(value)


def parse_utc(value: str | None) -> datetime | None:
    if not value:
        return None
    return from_text(value)


def format_time(
    value: str | datetime | None, tz: str = "Asia/Jakarta", *, date_only: bool = False
) -> str:
    """A stored UTC time as people in the city read it, e.g. '23 Nov 2026 14.05 WIB'."""
    moment = parse_utc(value) if isinstance(value, str) else value
    if moment is None:
        return ""
    zone = ZoneInfo(tz)
    pattern = "d MMM yyyy" if date_only else "d MMM yyyy HH.mm zzz"
    language = current_language.get()
    text = babel_format_datetime(moment, pattern, tzinfo=zone, locale=language)
    # Babel names Asia/Jakarta "GMT+07:00"; people here say WIB/WITA/WIT.
    local_names = {
        "Asia/Jakarta": "WIB",
        "Asia/Pontianak": "WIB",
        "Asia/Makassar": "WITA",
        "Asia/Jayapura": "WIT",
    }
    if tz in local_names:
        text = text.replace(
            babel_format_datetime(moment, "zzz", tzinfo=zone, locale=language), local_names[tz]
        )
    return text
