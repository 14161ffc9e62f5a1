from __future__ import annotations

from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from web import i18n

ROOT = Path(__file__).resolve().parent.parent


def extracted_ids(tmp_path: Path) -> set[str]:
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run(
        [
            "pybabel",
            "-q",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "N_",
            "-k",
            "lazy_gettext",
            "--no-location",
            "-o",
            str(pot),
            str(ROOT),
        ]
    )
    with pot.open("rb") as fh:
        return {m.id for m in read_po(fh) if m.id}


def test_every_string_on_screen_has_an_english_translation(tmp_path: Path) -> None:
    ids = extracted_ids(tmp_path)
    assert "Lacak laporan" in ids  # the extraction really reads the templates
    with (i18n.LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="en")
    translated = {m.id for m in catalog if m.id and m.string and "fuzzy" not in m.flags}
    missing = sorted(str(i) for i in ids - translated)
    assert not missing, "run `make messages` and translate:\n" + "\n".join(missing)


def test_translation_follows_the_request_language() -> None:
    token = i18n.current_language.set("en")
    try:
        assert i18n.gettext("Diterima") == "Received"
    finally:
        i18n.current_language.reset(token)
    assert i18n.gettext("Diterima") == "Diterima"
