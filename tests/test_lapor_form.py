"""Small things on the report form that a cheap touch-screen phone gets wrong."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from tests.helpers import GAMBIR, add_account, staff_client
from web import forms
from web.settings import Settings

EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f]")


def test_the_kelurahan_hint_gives_no_keyboard_advice(client: TestClient) -> None:
    for language in ("id", "en"):
        client.cookies.set("lang", language)
        page = client.get("/lapor").text
        hint = re.search(r'<span class="hint" id="area-hint">([^<]+)</span>', page)[1]
        for keyboard_only in ("Ketik", "huruf pertama", "Type the first", "jump"):
            assert keyboard_only not in hint, (language, hint)
        assert "kecamatan" in hint.lower()


def test_the_photo_buttons_use_svg_icons_instead_of_emoji(client: TestClient) -> None:
    page = client.get("/lapor").text
    assert not EMOJI.search(page), EMOJI.findall(page)
    choices = re.findall(r'<label class="photo-choice".*?</label>', page, re.S)
    assert len(choices) == 2
    for choice, icon in zip(choices, ("camera", "gallery"), strict=True):
        img = re.search(r"<img [^>]*>", choice)[0]
        assert f"/icons/{icon}.svg" in img and 'alt=""' in img and "style=" not in img
        src = re.search(r'src="([^"]+)"', img)[1]
        served = client.get(src)
        assert served.status_code == 200
        assert served.headers["content-type"].startswith("image/svg+xml")
        assert "<script" not in served.text and "style=" not in served.text


def test_the_resident_and_the_staff_form_carry_the_same_report_fields(
    client: TestClient, settings: Settings
) -> None:
    """Both forms render the fields web/forms.py reads from one template, each with only
    its own extras: the phone's writing time, or the channel and time of a complaint."""
    add_account(settings, "petugas", areas=[GAMBIR])
    resident = client.get("/lapor").text
    with staff_client(settings, "petugas") as staff:
        desk = staff.get("/staf/lapor").text
    shared = set(forms.TEXT_FIELDS + forms.FLAG_FIELDS) - {"written_at", "channel", "complained_at"}

    def named(page: str) -> set[str]:
        (form,) = [f for f in re.findall(r"<form .*?</form>", page, re.S) if "held_photos" in f]
        return set(re.findall(r'<(?:input|select|textarea)[^>]* name="([a-z_]+)"', form))

    assert named(resident) - shared == {"written_at", "held_photos", "photos", "notify_by"}
    assert named(desk) - shared == {
        "notify_by",
        "channel",
        "complained_at",
        "held_photos",
        "photos",
        "csrf_token",
    }
    for page in (resident, desk):
        assert shared <= named(page)
        for name in shared:
            assert re.search(rf'id="{name}"[^>]* name="{name}"', page), name
