"""What a push message carries: the code, the step's public name and public note in the
subscriber's language, the page a tap opens; nothing about the reporter, and for a
confidential report nothing but that there is news."""

from __future__ import annotations

import json
from typing import Any

from starlette.testclient import TestClient
from test_push_subscriptions import private_token, push_url, subscription

from db import messages
from db.database import Database
from tests.backend import scalar
from tests.helpers import add_report, apply, run_async
from web import codes
from web.push import NOTE_LENGTH, payload
from web.settings import Settings

PERSONAL = {
    "reporter_name": "Siti Aminah",
    "reporter_phone": "081234567890",
    "description": "Sampah menumpuk di depan rumah nomor 12 milik Pak Budi.",
    "address": "Jl. Kenari II no. 12",
}


def payloads(settings: Settings) -> list[dict[str, str]]:
    async def read() -> list[dict[str, str]]:
        async with Database(settings.database) as db, db.read() as conn:
            ids = [row["id"] for row in await conn.fetchall("SELECT id FROM messages ORDER BY id")]
            found = []
            for message_id in ids:
                details = await messages.push_details(conn, message_id)
                found.append(payload(details, tracking_path=f"/t/{details['code']}"))
            return found

    return run_async(read())


def filed(settings: Settings, **extra: Any) -> str:
    return add_report(
        settings,
        description=PERSONAL["description"],
        address=PERSONAL["address"],
        reporter_name=PERSONAL["reporter_name"],
        reporter_phone=PERSONAL["reporter_phone"],
        **extra,
    )


def test_a_push_names_the_code_the_step_and_its_public_note_and_nothing_personal(
    client: TestClient, settings: Settings
) -> None:
    code = filed(settings)
    client.post(push_url(code), json=subscription())
    apply(settings, code, "verify", public_note="Sudah kami cek di lokasi.")
    apply(settings, code, "progress", public_note="", internal_note="Pelapor: Siti, 0812")
    (verified, progress) = payloads(settings)
    assert verified == {
        "code": code,
        "title": f"Laporan {codes.display(code)}",
        "body": "Diverifikasi: Sudah kami cek di lokasi.",
        "step": "verify",
        "url": f"/t/{code}",
        "lang": "id",
    }
    assert progress["body"] == "Sedang dikerjakan"
    text = json.dumps([verified, progress])
    for value in (*PERSONAL.values(), "Siti", "0812"):
        assert value not in text


def test_a_push_is_in_english_for_a_browser_that_subscribed_in_english(
    client: TestClient, settings: Settings
) -> None:
    code = add_report(settings)
    client.cookies.set("lang", "en")
    client.post(push_url(code), json=subscription())
    apply(settings, code, "note", public_note="Kami jadwalkan besok.")
    (note,) = payloads(settings)
    assert note["title"] == f"Report {codes.display(code)}"
    assert note["body"] == "Note from staff: Kami jadwalkan besok."
    assert note["lang"] == "en"


def test_a_long_note_is_cut_for_the_notification(client: TestClient, settings: Settings) -> None:
    code = add_report(settings)
    client.post(push_url(code), json=subscription())
    apply(settings, code, "resolve", public_note="Sudah diangkut. " * 40)
    (resolved,) = payloads(settings)
    note = resolved["body"].removeprefix("Selesai: ")
    assert len(note) == NOTE_LENGTH and note.endswith("…")


def test_a_confidential_reports_push_says_only_that_there_is_news(
    client: TestClient, settings: Settings
) -> None:
    code = filed(settings, confidential=True)
    token = private_token(settings, code)
    client.post(push_url(code) + f"?k={token}", json=subscription())
    apply(settings, code, "verify", public_note="Petugas akan menghubungi Ibu Siti.")
    (verified,) = payloads(settings)
    assert verified["body"] == "Ada kabar baru tentang laporan ini. Buka tautan pribadinya."
    assert verified["step"] == ""
    assert "Siti" not in json.dumps(verified) and "Diverifikasi" not in json.dumps(verified)


def test_the_details_of_a_message_whose_subscription_is_gone_have_no_keys(
    client: TestClient, settings: Settings
) -> None:
    code = add_report(settings)
    sub = subscription()
    client.post(push_url(code), json=sub)
    apply(settings, code, "verify")
    client.request("DELETE", push_url(code), json={"endpoint": sub["endpoint"]})

    async def read() -> Any:
        async with Database(settings.database) as db, db.read() as conn:
            message_id = scalar(settings, "SELECT id FROM messages")
            return await messages.push_details(conn, message_id)

    details = run_async(read())
    assert details["recipient"] == sub["endpoint"] and details["p256dh"] is None
