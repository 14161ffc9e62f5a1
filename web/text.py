"""Text people typed, checked once before it is stored: every text field of every form and
API that keeps what it is sent (the report form, the outbox, staff intake, report notes,
the resident's answer, Open311, the admin pages) goes through `clean`.

- Control characters (NUL, ESC, DEL, the C1 range…) are refused, except tab and newline;
  a carriage return becomes a newline. Single-line fields turn tab and newline into spaces.
- Bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) are removed: one
  U+202E shows "Budi\u202egpj.exe" as "Budiexe.jpg". So are invisible characters that
  only serve to pad or disguise text (zero-width space, word joiner, BOM…). Zero-width
  joiners stay: emoji sequences need them.
- Text that could not be decoded arrives holding U+FFFD (web/formdata.py reads forms that
  way) and is refused, so no mangled text is stored as if someone had typed it.
- `visible_length` counts what a reader sees, so twelve zero-width spaces are no
  description of ten letters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from web.i18n import lazy_gettext as N_

UNDECODABLE = "\ufffd"
# Removed silently: they change how text around them reads, or pad it invisibly.
_INVISIBLE = re.compile(
    "[\u202a-\u202e\u2066-\u2069"  # bidi embeddings, overrides and isolates
    "\u200b\u2060-\u2064\ufeff"  # zero-width space, word joiner, invisible operators, BOM
    "\u180e\ufff9-\ufffb]"  # Mongolian vowel separator, interlinear annotation
)
# Letters and symbols that show as blank space (used for "empty" names).
_BLANK_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
MESSAGES = {
    "control": N_(
        "Ada karakter kendali tak terlihat di isian ini; sudah kami hapus. "
        "Periksa isiannya lalu kirim lagi."
    ),
    "undecodable": N_(
        "Sebagian teks tidak terbaca (kodenya rusak) dan ditandai \ufffd. "
        "Perbaiki bagian itu lalu kirim lagi."
    ),
}
# For machine clients (Open311): the same, in English, with the field's name.
DESCRIPTIONS = {
    "control": "%s contains control characters; only tab and newline are allowed",
    "undecodable": "%s is not valid UTF-8",
}


@dataclass(frozen=True)
class Cleaned:
    """The text to keep (or to show again), and what was wrong with it, if anything:
    "control" or "undecodable" (keys of MESSAGES)."""

    text: str
    problem: str | None = None


def _refused(char: str, multiline: bool) -> bool:
    if multiline and char in "\t\n":
        return False
    return unicodedata.category(char) == "Cc"


def clean(value: str, *, multiline: bool = False) -> Cleaned:
    """`value` with invisible formatting removed, newlines normalised and surrounding
    whitespace stripped; `problem` set when it holds control characters (removed from
    `text`, so a form shows what will be kept) or undecodable bytes (kept as U+FFFD, so the
    person sees where)."""
    text = _INVISIBLE.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    if not multiline:
        text = text.replace("\t", " ").replace("\n", " ")
    problem = None
    if any(_refused(char, multiline) for char in text):
        problem = "control"
        text = "".join(char for char in text if not _refused(char, multiline))
    if UNDECODABLE in text:
        problem = "undecodable"
    return Cleaned(text.strip(), problem)


def strip_invisible(value: str) -> str:
    """For text only shown, never stored (an uploaded file's name in a message): the
    characters that could disguise it removed, controls dropped."""
    cleaned = clean(value)
    return cleaned.text


def visible_length(text: str) -> int:
    """How many characters a reader sees: runs of white space count as one space, and
    format characters, combining marks and blank-looking letters not at all."""
    count = 0
    for char in " ".join(text.split()):
        category = unicodedata.category(char)
        if category[0] in "CM" or char in _BLANK_GLYPHS:
            continue
        count += 1
    return count
