from __future__ import annotations

import re

from web import codes


def test_new_codes_use_only_the_unambiguous_alphabet() -> None:
    generated = {codes.new_code() for _ in range(2000)}
    assert len(generated) == 2000
    for code in generated:
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{8}", code)
        assert not set(code) & set("ILOU")


def test_typed_codes_are_forgiving_as_crockford_specifies() -> None:
    assert codes.normalise("k7qm-3xpa") == "K7QM3XPA"
    assert codes.normalise(" K7QM 3XPA ") == "K7QM3XPA"
    assert codes.normalise("O0Il-1LoO") == "00111100"  # O→0, I/L→1


def test_anything_else_is_not_a_code() -> None:
    for typed in ("", "K7QM3XP", "K7QM3XPAB", "K7QM-3XP!", "K7QM3XPU", "../../etc"):
        assert codes.normalise(typed) is None, typed


def test_codes_are_shown_in_two_groups_of_four() -> None:
    assert codes.display("K7QM3XPA") == "K7QM-3XPA"
