"""Tracking codes: 8 Crockford base32 characters (40 random bits), shown as XXXX-XXXX.

The alphabet has no I, L, O or U, so a code read aloud or typed on a phone is unambiguous;
typed input is forgiving (lower case, missing dash, O for 0, I/L for 1), as Crockford
specifies. 2^40 codes: with a city's million reports, a guess hits one in a million, and
unknown-code lookups are rate-limited.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 8
_NORMALISE = str.maketrans({"O": "0", "I": "1", "L": "1"})
_VALID = re.compile(f"^[{ALPHABET}]{{{LENGTH}}}$")


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(typed: str) -> str | None:
    """The stored form of a typed code, or None when it cannot be one."""
    cleaned = re.sub(r"[\s\-_.]", "", typed or "").upper().translate(_NORMALISE)
    return cleaned if _VALID.match(cleaned) else None


def display(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"
