"""The "Sudah beres?" question on the private page: asked first when the report is resolved,
and a refused answer comes back with its error by the control, focused, nothing lost."""

from __future__ import annotations

import re

from starlette.testclient import TestClient
from test_tracking import act, file_report

from web.settings import Settings


def resolved(client: TestClient, settings: Settings) -> tuple[str, str]:
    code, token = file_report(client)
    act(settings, code, "resolve", public_note="Sampah sudah diangkut.")
    return code, token


def main_of(page: str) -> str:
    return re.search(r'<main id="isi">(.*)</main>', page, re.S)[1]


def test_the_question_comes_first_on_the_private_page_of_a_resolved_report(
    client: TestClient, settings: Settings
) -> None:
    code, token = resolved(client, settings)
    body = main_of(client.get(f"/t/{code}/p/{token}").text)
    question = body.index("Sudah beres?")
    assert question < body.index('<dl class="facts">')
    assert question < body.index("Isi laporan") < body.index("Perjalanan laporan")
    # Before that, only the code and the status it asks about.
    assert re.sub(r"<[^>]+>|\s+", " ", body[:question]).split() == [
        "Kode",
        "lacak",
        f"{code[:4]}-{code[4:]}",
        "Status:",
        "Selesai",
    ]
    # Not resolved: nothing to answer, and the page starts with the report as before.
    other, other_token = file_report(client)
    assert "Sudah beres?" not in client.get(f"/t/{other}/p/{other_token}").text


def test_an_empty_not_fixed_note_comes_back_by_the_note_focused_with_the_rating_kept(
    client: TestClient, settings: Settings
) -> None:
    code, token = resolved(client, settings)
    response = client.post(
        f"/t/{code}/p/{token}/jawab", data={"fixed": "belum", "note": "  ", "rating": "2"}
    )
    assert response.status_code == 422
    body = main_of(response.text)
    textarea = re.search(r"<textarea[^>]*>", body)[0]
    assert 'id="note"' in textarea and "autofocus" in textarea
    assert 'aria-invalid="true"' in textarea
    assert re.search(r'aria-describedby="[^"]*\bnote-error\b', textarea)
    error = re.search(r'<p class="field-error" id="note-error" role="alert">([^<]+)</p>', body)
    assert error and "belum beres" in error[1]
    # The error sits between the note's label and the note itself, and nothing else is
    # focused or announced.
    label = body.index('<label for="note">')
    assert label < body.index('id="note-error"') < body.index('<textarea id="note"')
    assert body.count("autofocus") == 1 and body.count('role="alert"') == 1
    # The answer is still asked first, with the focus (no #fragment: it would cancel it).
    assert body.index("Sudah beres?") < body.index('<dl class="facts">')
    assert body.count(f'action="/t/{code}/p/{token}/jawab"') == 2
    assert re.search(r'name="rating" value="2" checked', body)


def test_a_note_typed_too_late_is_kept_and_the_reason_sits_by_it(
    client: TestClient, settings: Settings
) -> None:
    from datetime import timedelta

    from test_tracking import set_column

    from web.clock import to_text, utc_now

    code, token = resolved(client, settings)
    set_column(
        settings,
        code,
        "resolved_at",
        to_text(utc_now() - timedelta(days=15)),
    )
    response = client.post(
        f"/t/{code}/p/{token}/jawab", data={"fixed": "belum", "note": "Masih kotor sekali."}
    )
    assert response.status_code == 422
    body = main_of(response.text)
    assert re.search(r'id="note-error" role="alert">[^<]*14 hari', body)
    assert "Masih kotor sekali.</textarea>" in body


def test_a_rating_out_of_range_is_refused_next_to_the_stars(
    client: TestClient, settings: Settings
) -> None:
    code, token = resolved(client, settings)
    response = client.post(f"/t/{code}/p/{token}/jawab", data={"fixed": "ya", "rating": "9"})
    assert response.status_code == 422
    body = main_of(response.text)
    fieldset = re.search(r"<fieldset[^>]*>", body)[0]
    assert re.search(r'aria-describedby="rating-error"', fieldset)
    assert re.search(r'<p class="field-error" id="rating-error" role="alert">Pilih nilai', body)
    assert body.index('id="rating-error"') < body.index('id="rating-1"')
    first_radio = re.search(r'<input type="radio" id="rating-1"[^>]*>', body)[0]
    assert "autofocus" in first_radio
