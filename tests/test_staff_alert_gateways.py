"""Staff alerts through the gateways a city switches on: an admin records an officer's work
email and mobile number, and every alert that goes to the officer's browsers (a case new to
their scope, a first-response deadline 4 hours ahead and when it passes) also reaches a real
SMTP server (aiosmtpd) and a local HTTP gateway, once, with the case code, the category and
the staff link and nothing about the reporter; the reporter's consent plays no part, and a
deactivated officer gets nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from starlette.testclient import TestClient

from db.database import Database
from tests.backend import execute, query, scalar
from tests.gateway_servers import Gateway, Mailbox, http_gateway, smtp_server
from tests.helpers import GAMBIR, act, add_account, add_report, apply, hidden, login, run_async
from web import codes, lifecycle, notify, outbox, tasks
from web.app import create_app
from web.clock import from_text
from web.message_text import SMS_LENGTH, compose_alert, gsm7_length
from web.settings import Settings, SmtpServer

BASE_URL = "https://aduan.jakarta.go.id"
REPORTER = {
    "description": "Sampah di depan rumah Pak Budi nomor 12, Jl. Kenari II.",
    "address": "Jl. Kenari II no. 12",
    "reporter_name": "Siti Aminah",
    "reporter_phone": "081298765432",
}
PERSONAL = ("Siti", "Aminah", "0812 9876", "81298765432", "Budi", "Kenari", "siti@contoh.id")


@dataclasses.dataclass
class City:
    settings: Settings
    mailbox: Mailbox
    gateway: Gateway


@pytest.fixture
def city(settings: Settings) -> Iterator[City]:
    """A city that switched on email (SMTP) and SMS and WhatsApp (HTTP gateway)."""
    with smtp_server() as mailbox, http_gateway() as gateway:
        configured = dataclasses.replace(
            settings,
            base_url=BASE_URL,
            allowed_hosts=("testserver", "aduan.jakarta.go.id"),
            smtp=SmtpServer("127.0.0.1", mailbox.port),
            mail_from="aduan@jakarta.go.id",
            sms_gateway_url=gateway.url("/sms"),
            whatsapp_gateway_url=gateway.url("/wa"),
            gateway_token="rahasia-gateway-123",
        )
        yield City(configured, mailbox, gateway)


def browser(settings: Settings) -> TestClient:
    return TestClient(create_app(settings), base_url=settings.base_url)


def officer(
    settings: Settings,
    username: str,
    *,
    email: str = "",
    phone: str = "",
    role: str = "officer",
    **scope: str,
) -> int:
    """An account whose work contacts (already as they are kept) are set."""
    areas = [scope["area"]] if "area" in scope else []
    user_id = add_account(settings, username, role, areas=areas, agency=scope.get("agency"))
    execute(
        settings,
        "UPDATE users SET alert_email = ?, alert_phone = ? WHERE id = ?",
        (email, phone, user_id),
    )
    return user_id


def deliver(settings: Settings, now: datetime | None = None) -> int:
    async def run() -> int:
        # through the one registry every server's delivery loop and `aduan tasks run` use
        async with Database(settings.database) as db, notify.senders(settings, db) as senders:
            return await outbox.deliver_due(db, senders, now=now)

    return run_async(run())


def gateway_alerts(settings: Settings) -> list[tuple[str, str, str, str, str]]:
    """(code, alert, channel, recipient, state) of every alert not sent to a browser."""
    found = query(
        settings,
        "SELECT r.code, m.alert, m.channel, m.recipient, m.state FROM messages m"
        " JOIN reports r ON r.id = m.report_id WHERE m.alert <> '' AND m.channel <> 'push'"
        " ORDER BY m.id",
    )
    return [(r[0], r[1], r[2], r[3], r[4]) for r in found]


def mails_to(city: City) -> list[tuple[str, str]]:
    return sorted((str(m["To"]), str(m["Subject"])) for m in city.mailbox.mails)


def assert_staff_text(text: str, code: str) -> None:
    assert codes.display(code) in text
    assert f"{BASE_URL}/staf/laporan/{code}" in text
    assert "/berhenti/" not in text and f"/t/{code}" not in text
    for personal in PERSONAL:
        assert personal not in text, personal


def test_a_case_reaches_the_work_contacts_of_the_officers_it_is_new_to_and_no_others(
    city: City,
) -> None:
    settings = city.settings
    officer(settings, "gambir1", email="gambir1@jakarta.go.id", area=GAMBIR)
    officer(settings, "dlh1", email="dlh1@jakarta.go.id", phone="+6281111111111", agency="DLH")
    officer(settings, "dlh2", phone="+6282222222222", agency="DLH")
    officer(settings, "dlh3", agency="DLH")  # no work contacts: browsers only
    officer(
        settings, "dishub1", email="dishub1@jakarta.go.id", phone="+6283333333333", agency="DISHUB"
    )
    officer(settings, "pengawas", email="pengawas@jakarta.go.id", role="supervisor")
    with browser(settings) as resident, browser(settings) as staff:
        # The resident ticks nothing: their consent has no bearing on staff alerts.
        form = {"category": "sampah", "area": GAMBIR, **REPORTER}
        filed = resident.post("/lapor", data=form, follow_redirects=False)
        assert filed.status_code == 303, filed.text
        code = str(scalar(settings, "SELECT code FROM reports"))
        assert scalar(settings, "SELECT notify_by FROM reports") == ""
        execute(settings, "UPDATE reports SET reporter_email = 'siti@contoh.id'")
        assert login(staff, "gambir1").status_code == 303
        assert act(staff, code, "verify").status_code == 303
        assert act(staff, code, "dispatch", {"agency_code": "DLH"}).status_code == 303
        assert act(staff, code, "dispatch", {"agency_code": "DLH"}).status_code == 303

    assert deliver(settings) == 4
    assert sorted(gateway_alerts(settings)) == sorted(
        [
            (code, "new_case", "email", "gambir1@jakarta.go.id", "sent"),
            (code, "new_case", "email", "dlh1@jakarta.go.id", "sent"),
            (code, "new_case", "sms", "+6281111111111", "sent"),
            (code, "new_case", "sms", "+6282222222222", "sent"),
        ]
    )
    shown = codes.display(code)
    assert mails_to(city) == [
        ("dlh1@jakarta.go.id", f"Kasus baru: {shown}"),
        ("gambir1@jakarta.go.id", f"Kasus baru: {shown}"),
    ]
    for mail in city.mailbox.mails:
        body = mail.get_content()
        assert_staff_text(body, code)
        assert "Sampah" in body  # the category
        assert mail["List-Unsubscribe"] is None
        assert mail["Content-Language"] == "id"
    sms = city.gateway.bodies("sms")
    assert sorted(b["to"] for b in sms) == ["+6281111111111", "+6282222222222"]
    for body in sms:
        assert_staff_text(body["text"], code)
        assert body["text"].startswith(f"Kasus baru: {shown}. Sampah.")
        assert gsm7_length(body["text"]) <= SMS_LENGTH
    assert city.gateway.bodies("whatsapp") == []  # one message per phone: SMS when there is
    assert deliver(settings) == 0


def test_deadline_alerts_reach_work_contacts_once_across_runs_and_servers(city: City) -> None:
    settings = city.settings
    officer(settings, "gambir1", email="gambir1@jakarta.go.id", phone="+6281111111111", area=GAMBIR)
    officer(settings, "pengawas", email="pengawas@jakarta.go.id", role="supervisor")
    code = add_report(settings, GAMBIR, **REPORTER)
    due = from_text(str(scalar(settings, "SELECT response_due_at FROM reports")))

    def two_servers(now: datetime) -> int:
        async def run() -> int:
            async with Database(settings.database) as a, Database(settings.database) as b:
                done = await asyncio.gather(
                    tasks.run_once(a, settings, now, holder="a", hourly=False),
                    tasks.run_once(b, settings, now, holder="b", hourly=False),
                )
            return sum(report.alerts for report in done)

        return run_async(run())

    assert two_servers(due - timedelta(hours=4)) == 2  # gambir1: email and SMS
    assert two_servers(due - timedelta(hours=3)) == 0
    assert two_servers(due) == 3  # and the supervisor's email
    assert two_servers(due + timedelta(minutes=1)) == 0
    assert deliver(settings, due + timedelta(minutes=2)) == 5
    assert two_servers(due + timedelta(minutes=3)) == 0
    assert deliver(settings, due + timedelta(minutes=4)) == 0
    shown = codes.display(code)
    assert mails_to(city) == [
        ("gambir1@jakarta.go.id", f"{shown}: tenggat tanggapan terlewati"),
        ("gambir1@jakarta.go.id", f"{shown}: tenggat tanggapan tinggal 4 jam"),
        ("pengawas@jakarta.go.id", f"{shown}: tenggat tanggapan terlewati"),
    ]
    texts = [b["text"] for b in city.gateway.bodies("sms")]
    assert [t.split(".")[0] for t in texts] == [
        f"{shown}: tenggat tanggapan tinggal 4 jam",
        f"{shown}: tenggat tanggapan terlewati",
    ]
    for text in [*texts, *(m.get_content() for m in city.mailbox.mails)]:
        assert_staff_text(text, code)


def test_a_deactivated_officer_or_a_changed_contact_gets_nothing(city: City) -> None:
    configured = city.settings
    officer(configured, "dlh1", email="dlh1@jakarta.go.id", phone="+6281111111111", agency="DLH")
    gone = officer(configured, "dlh2", email="dlh2@jakarta.go.id", agency="DLH")
    moved = officer(configured, "dlh3", email="dlh3@jakarta.go.id", agency="DLH")
    execute(configured, "UPDATE users SET active = 0 WHERE id = ?", (gone,))
    code = add_report(configured, GAMBIR)
    apply(configured, code, "verify")

    run_async(dispatch(configured, code))
    assert {a[3] for a in gateway_alerts(configured)} == {
        "dlh1@jakarta.go.id",
        "+6281111111111",
        "dlh3@jakarta.go.id",
    }
    # Meanwhile dlh1 is deactivated and dlh3's address changed: neither alert is sent.
    add_account(configured, "admin1", "admin")
    dlh1 = int(scalar(configured, "SELECT id FROM users WHERE username = 'dlh1'"))
    with browser(configured) as admin:
        login(admin, "admin1")
        token = hidden(admin.get(f"/staf/admin/akun/{dlh1}").text, "csrf_token")
        off = admin.post(f"/staf/admin/akun/{dlh1}/nonaktif", data={"csrf_token": token})
        assert off.status_code in (200, 303)
        changed = admin.post(
            f"/staf/admin/akun/{moved}/kontak",
            data={"csrf_token": token, "alert_email": "dlh3.baru@jakarta.go.id"},
        )
        assert changed.status_code in (200, 303)
    assert deliver(configured) == 3
    states = {a[3]: a[4] for a in gateway_alerts(configured)}
    assert set(states.values()) == {"failed"}
    errors = query(configured, "SELECT last_error FROM messages WHERE channel <> 'push'")
    assert sorted({r[0] for r in errors}) == [
        "account deactivated",
        "no longer the account's contact",
    ]
    assert city.mailbox.mails == [] and city.gateway.requests == []


async def dispatch(settings: Settings, code: str) -> None:
    """Forward the report to DLH as the staff page does (with the city's gateways)."""
    async with Database(settings.database) as db:
        row = await db.fetchone("SELECT version FROM reports WHERE code = :c", {"c": code})
        action = lifecycle.Action(
            kind="dispatch", expected_version=row["version"], agency_code="DLH"
        )
        await lifecycle.apply_action(db, code, action, send_by=settings.message_channels)


def test_a_city_with_only_whatsapp_alerts_by_its_own_template(city: City) -> None:
    settings = dataclasses.replace(city.settings, sms_gateway_url="", smtp=None)
    officer(settings, "gambir1", email="gambir1@jakarta.go.id", phone="+6281111111111", area=GAMBIR)
    with browser(settings) as resident:
        form = {"category": "sampah", "area": GAMBIR, **REPORTER}
        assert resident.post("/lapor", data=form, follow_redirects=False).status_code == 303
    code = str(scalar(settings, "SELECT code FROM reports"))
    assert deliver(settings) == 1  # WhatsApp only: the city sends no email
    (sent,) = city.gateway.bodies("whatsapp")
    assert city.gateway.requests[0][0] == "/wa"
    assert sent["to"] == "+6281111111111" and sent["template"] == "aduan_peringatan"
    shown = codes.display(code)
    assert sent["parameters"] == [
        f"Kasus baru: {shown}",
        "Sampah",
        f"{BASE_URL}/staf/laporan/{code}",
    ]
    assert_staff_text(json.dumps(sent, ensure_ascii=False), code)


def test_an_alert_sms_fits_one_message_whatever_the_category_and_the_address() -> None:
    details = {
        "alert": "due_soon",
        "code": "ABCD2345",
        "category_name_id": "Jalan rusak, berlubang, amblas atau retak di jalan lingkungan — "
        "termasuk trotoar dan saluran air di tepi jalan kota",
        "category_name_en": "Damaged road",
    }
    short = compose_alert(details, base_url=BASE_URL)
    assert gsm7_length(short.sms) <= SMS_LENGTH
    assert short.sms.startswith("ABCD-2345: tenggat tanggapan tinggal 4 jam. Jalan rusak")
    assert short.sms.endswith(f"{BASE_URL}/staf/laporan/ABCD2345")
    assert short.stop == "" and short.language == "id"
    english = compose_alert(details, base_url=BASE_URL, language="en")
    assert english.subject.startswith("ABCD-2345: ") and "Damaged road" in english.body
    assert english.subject != short.subject
    long_base = "https://" + "aduan-kota-" * 14 + ".go.id"
    assert gsm7_length(compose_alert(details, base_url=long_base).sms) <= SMS_LENGTH


# --- the admin sets the contacts -----------------------------------------------------------


def audit_entries(settings: Settings) -> list[tuple[str, dict[str, object], dict[str, object]]]:
    found = query(settings, "SELECT action, before_json, after_json FROM audit_log ORDER BY id")
    return [
        (r[0], json.loads(r[1]) if r[1] else {}, json.loads(r[2]) if r[2] else {}) for r in found
    ]


def test_an_admin_sets_an_officers_work_contacts_and_a_mistake_keeps_what_was_typed(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "admin1", "admin")
    target = add_account(settings, "dlh1", agency="DLH")
    login(client, "admin1")
    page = client.get(f"/staf/admin/akun/{target}")
    assert page.status_code == 200 and 'name="alert_email"' in page.text
    token = hidden(page.text, "csrf_token")
    path = f"/staf/admin/akun/{target}/kontak"

    wrong = client.post(
        path,
        data={"csrf_token": token, "alert_email": "dlh1@jakarta", "alert_phone": "0812-34"},
    )
    assert wrong.status_code == 422
    assert "Alamat email tidak dikenali" in wrong.text and "Nomor HP tidak dikenali" in wrong.text
    assert 'value="dlh1@jakarta"' in wrong.text and 'value="0812-34"' in wrong.text
    assert (
        scalar(settings, "SELECT alert_email || alert_phone FROM users WHERE id = ?", (target,))
        == ""
    )
    client.cookies.set("lang", "en")
    assert (
        "not recognised"
        in client.post(
            path, data={"csrf_token": token, "alert_email": "x@y", "alert_phone": ""}
        ).text
    )
    client.cookies.delete("lang")

    saved = client.post(
        path,
        data={
            "csrf_token": token,
            "alert_email": " dlh1@jakarta.go.id ",
            "alert_phone": "0812-3456-7890",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"].endswith("?ok=kontak")
    row = query(settings, "SELECT alert_email, alert_phone FROM users WHERE id = ?", (target,))
    assert tuple(row[0]) == ("dlh1@jakarta.go.id", "+6281234567890")
    shown = client.get(saved.headers["location"]).text
    assert "Kontak pemberitahuan sudah disimpan." in shown
    assert 'value="dlh1@jakarta.go.id"' in shown and 'value="+6281234567890"' in shown
    # The same again is no change; another address, then none.
    again = {
        "csrf_token": token,
        "alert_email": "dlh1@jakarta.go.id",
        "alert_phone": "+6281234567890",
    }
    client.post(path, data=again)
    client.post(path, data={**again, "alert_email": "dlh.piket@jakarta.go.id"})
    client.post(path, data={"csrf_token": token, "alert_email": "", "alert_phone": ""})
    assert audit_entries(settings) == [
        (
            "account.contacts",
            {"username": "dlh1", "alert_email": False, "alert_phone": False},
            {"username": "dlh1", "alert_email": True, "alert_phone": True},
        ),
        (
            "account.contacts",
            {"username": "dlh1", "alert_email": True, "alert_phone": True},
            {
                "username": "dlh1",
                "alert_email": True,
                "alert_phone": True,
                "alert_email_changed": True,
            },
        ),
        (
            "account.contacts",
            {"username": "dlh1", "alert_email": True, "alert_phone": True},
            {"username": "dlh1", "alert_email": False, "alert_phone": False},
        ),
    ]
    log = client.get("/staf/admin/log").text
    assert "Kontak pemberitahuan diubah" in log and "Email pemberitahuan" in log
    stored = str(query(settings, "SELECT before_json, after_json FROM audit_log"))
    assert "jakarta.go.id" not in stored and "3456" not in stored


def test_a_new_account_gets_its_work_contacts_from_the_create_form(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "admin1", "admin")
    login(client, "admin1")
    token = hidden(client.get("/staf/admin/akun").text, "csrf_token")
    form = {
        "csrf_token": token,
        "username": "dlh1",
        "display_name": "Dewi Lestari",
        "password": "kata-sandi-yang-panjang",
        "role": "officer",
        "agency_code": "DLH",
        "alert_email": "dlh1@jakarta.go.id",
        "alert_phone": "12345",
    }
    wrong = client.post("/staf/admin/akun", data=form)
    assert wrong.status_code == 422 and "Nomor HP tidak dikenali" in wrong.text
    for typed in (
        'value="dlh1"',
        'value="Dewi Lestari"',
        'value="dlh1@jakarta.go.id"',
        'value="12345"',
    ):
        assert typed in wrong.text
    assert scalar(settings, "SELECT COUNT(*) FROM users WHERE username = 'dlh1'") == 0
    made = client.post(
        "/staf/admin/akun",
        data={**form, "alert_phone": "+62 812 3456 7890"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    row = query(settings, "SELECT alert_email, alert_phone FROM users WHERE username = 'dlh1'")
    assert tuple(row[0]) == ("dlh1@jakarta.go.id", "+6281234567890")
    ((action, _before, after),) = audit_entries(settings)
    assert (
        action == "account.create" and after["alert_email"] is True and after["alert_phone"] is True
    )


def test_only_an_admin_sets_work_contacts(client: TestClient, settings: Settings) -> None:
    target = add_account(settings, "dlh1", agency="DLH")
    login(client, "dlh1")
    token = hidden(client.get("/staf").text, "csrf_token")
    answer = client.post(
        f"/staf/admin/akun/{target}/kontak",
        data={"csrf_token": token, "alert_email": "pribadi@contoh.id"},
    )
    assert answer.status_code in (403, 404)
    assert scalar(settings, "SELECT alert_email FROM users WHERE id = ?", (target,)) == ""


def test_without_a_gateway_an_alert_goes_to_browsers_only(settings: Settings) -> None:
    officer(settings, "gambir1", email="gambir1@jakarta.go.id", phone="+6281111111111", area=GAMBIR)
    with TestClient(create_app(settings)) as resident:
        form = {"category": "sampah", "area": GAMBIR, **REPORTER}
        assert resident.post("/lapor", data=form, follow_redirects=False).status_code == 303
    # nothing queued for a sender the city does not have
    assert scalar(settings, "SELECT COUNT(*) FROM messages") == 0
