"""Web Push delivered: a browser subscribes through the API with keys it made, staff move
the report along, and a real HTTP server standing in for the push service receives one
push per public step, which the test decrypts as the browser would (RFC 8291) and whose
VAPID token it verifies (RFC 8292). The push service's answers (410, 500, 400, none at all)
and endpoints the server must never POST to."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient
from test_push_subscriptions import private_token, push_url

from db.database import Database
from tests.backend import query, scalar, set_operator_environment
from tests.helpers import act, add_account, add_report, login, run_async
from tests.push_service import Browser, PushService, push_service, vapid_claims
from web import notify, outbox, vapid, webpush
from web.app import create_app
from web.cli import main
from web.clock import to_text, utc_now
from web.settings import PushHost, Settings, SettingsError, parse_push_hosts

PERSONAL = ("Siti Aminah", "081234567890", "Jl. Kenari II no. 12", "depan rumah Pak Budi")
STEPS = [
    ("verify", {"public_note": "Sudah kami cek di lokasi."}),
    ("dispatch", {"agency_code": "DLH", "public_note": "Diteruskan ke DLH."}),
    ("note", {"internal_note": "Pelapor Siti minta ditelepon di 081234567890."}),
    ("resolve", {"public_note": "Sampah sudah diangkut."}),
]


@pytest.fixture
def service() -> Iterator[PushService]:
    with push_service() as running:
        yield running


@pytest.fixture
def push_settings(settings: Settings, service: PushService) -> Settings:
    """The app allowed to POST to the local push service (ADUAN_PUSH_HOSTS=http://…)."""
    return dataclasses.replace(settings, push_hosts=(service.host,))


@pytest.fixture
def web(push_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(push_settings)) as client:
        yield client


def filed(settings: Settings, **extra: Any) -> str:
    return add_report(
        settings,
        reporter_name=PERSONAL[0],
        reporter_phone=PERSONAL[1],
        address=PERSONAL[2],
        description=f"Sampah menumpuk di {PERSONAL[3]} sejak seminggu.",
        **extra,
    )


def deliver(settings: Settings) -> int:
    """What the delivery loop does every few seconds, once."""

    async def run() -> int:
        async with Database(settings.database) as db:
            return await notify.deliver_now(db, settings)

    return run_async(run())


def admin(client: TestClient, settings: Settings) -> TestClient:
    add_account(settings, "admin1", role="admin")
    login(client, "admin1")
    return client


def states(settings: Settings) -> list[tuple[str, str, int, str]]:
    """(recipient, state, attempts, last_error) of every message."""
    found = query(
        settings, "SELECT recipient, state, attempts, last_error FROM messages ORDER BY id"
    )
    return [(r[0], r[1], r[2], r[3]) for r in found]


def test_each_public_step_reaches_the_browser_once_and_only_it_can_read_it(
    web: TestClient, push_settings: Settings, service: PushService
) -> None:
    code = filed(push_settings)
    phone = Browser.new(service.url("/push/phone"))
    assert web.post(push_url(code), json=phone.subscription()).status_code == 201
    admin(web, push_settings)
    for kind, form in STEPS:
        assert act(web, code, kind, form).status_code == 303
    assert deliver(push_settings) == 3
    assert deliver(push_settings) == 0  # each sent once

    pushes = service.to("/push/phone")
    assert len(pushes) == 3
    read = [phone.read(push) for push in pushes]
    assert [p["step"] for p in read] == ["verify", "dispatch", "resolve"]
    assert {p["code"] for p in read} == {code}
    assert {p["url"] for p in read} == {f"/t/{code}"}
    assert read[0]["body"] == "Diverifikasi: Sudah kami cek di lokasi."
    assert read[2]["title"] == f"Laporan {code[:4]}-{code[4:]}"
    for push, plain in zip(pushes, read, strict=True):
        text = str(plain)
        assert not any(personal in text for personal in PERSONAL), text
        # The push service sees only ciphertext.
        assert code.encode() not in push.body and b"Sampah" not in push.body
        assert push.headers["urgency"] == "high"
        assert push.headers["ttl"] == str(4 * 24 * 3600)
        claims = vapid_claims(push, vapid.application_server_key(push_settings))
        assert claims["aud"] == service.setting
        assert claims["sub"] == "http://testserver"
        assert 0 < claims["exp"] - time.time() <= 12 * 3600 + 5
    assert [s[1] for s in states(push_settings)] == ["sent"] * 3


def test_a_confidential_report_s_push_opens_its_private_link_and_names_no_step(
    web: TestClient, push_settings: Settings, service: PushService
) -> None:
    code = filed(push_settings, confidential=True)
    token = private_token(push_settings, code)
    browser = Browser.new(service.url("/push/c"))
    answer = web.post(f"{push_url(code)}?k={token}", json=browser.subscription())
    assert answer.status_code == 201
    admin(web, push_settings)
    assert act(web, code, "verify", {"public_note": "Sudah kami cek."}).status_code == 303
    assert deliver(push_settings) == 1
    (push,) = service.to("/push/c")
    read = browser.read(push)
    assert read["url"] == f"/t/{code}/p/{token}"
    assert read["step"] == "" and "cek" not in read["body"]
    web.cookies.clear()
    assert web.get(read["url"]).status_code == 200


def test_a_note_with_a_public_note_is_sent_without_waking_the_phone(
    web: TestClient, push_settings: Settings, service: PushService
) -> None:
    code = filed(push_settings)
    browser = Browser.new(service.url("/push/n"))
    web.post(push_url(code), json=browser.subscription())
    admin(web, push_settings)
    assert act(web, code, "note", {"public_note": "Kami jadwalkan besok."}).status_code == 303
    assert deliver(push_settings) == 1
    (push,) = service.to("/push/n")
    assert push.headers["urgency"] == "normal"
    assert browser.read(push)["body"] == "Catatan petugas: Kami jadwalkan besok."


def test_a_subscription_the_push_service_calls_gone_is_forgotten(
    web: TestClient, push_settings: Settings, service: PushService
) -> None:
    code = filed(push_settings)
    gone, kept = Browser.new(service.url("/push/gone")), Browser.new(service.url("/push/kept"))
    service.answers["/push/gone"] = 410
    for browser in (gone, kept):
        assert web.post(push_url(code), json=browser.subscription()).status_code == 201
    admin(web, push_settings)
    assert act(web, code, "verify", {}).status_code == 303
    assert deliver(push_settings) == 2
    endpoints = query(push_settings, "SELECT endpoint FROM push_subscriptions")
    assert [row[0] for row in endpoints] == [kept.endpoint]
    assert act(web, code, "resolve", {"public_note": "Selesai."}).status_code == 303
    assert deliver(push_settings) == 1
    assert len(service.to("/push/gone")) == 1
    assert len(service.to("/push/kept")) == 2


def test_a_500_is_tried_again_later_and_a_400_fails_with_its_status(
    web: TestClient, push_settings: Settings, service: PushService
) -> None:
    code = filed(push_settings)
    service.answers.update({"/push/busy": 500, "/push/bad": 400, "/push/slow": 429})
    for path in ("/push/busy", "/push/bad", "/push/slow"):
        assert web.post(push_url(code), json=Browser.new(service.url(path)).subscription())
    admin(web, push_settings)
    assert act(web, code, "verify", {}).status_code == 303
    assert deliver(push_settings) == 3
    found = {
        row[0].rsplit("/", 1)[1]: row
        for row in query(
            push_settings,
            "SELECT recipient, state, attempts, last_error, next_attempt_at FROM messages",
        )
    }
    for retried in ("busy", "slow"):
        _endpoint, state, attempts, error, next_at = found[retried]
        assert (state, attempts) == ("pending", 1)
        assert error.startswith("HTTP 500" if retried == "busy" else "HTTP 429")
        assert next_at > to_text(utc_now())  # a wait, not due again at once
    assert found["bad"][1:4] == ("failed", 1, "HTTP 400: ok")
    assert scalar(push_settings, "SELECT COUNT(*) FROM push_subscriptions") == 3


def test_a_push_service_that_never_answers_is_given_up_on_and_staff_work_on(
    web: TestClient, push_settings: Settings, service: PushService
) -> None:
    code = filed(push_settings)
    service.answers["/push/silent"] = None
    web.post(push_url(code), json=Browser.new(service.url("/push/silent")).subscription())
    admin(web, push_settings)
    assert act(web, code, "verify", {}).status_code == 303

    async def send_with_short_timeout() -> int:
        async with Database(push_settings.database) as db, webpush.http_client() as http:
            sender = webpush.WebPush(push_settings, db, http, timeout=4)
            return await outbox.deliver_due(db, {"push": sender})

    result: list[int] = []
    sending = threading.Thread(target=lambda: result.append(run_async(send_with_short_timeout())))
    sending.start()
    service.wait_for(1)
    # While the push hangs, an officer's next step goes through.
    assert act(web, code, "progress", {"public_note": "Petugas di lokasi."}).status_code == 303
    assert sending.is_alive()
    sending.join(15)
    assert result == [1]
    (verify, progress) = query(
        push_settings,
        "SELECT state, attempts, last_error, next_attempt_at FROM messages ORDER BY id",
    )
    assert verify[:3] == ("pending", 1, "no answer within 4 s")
    assert verify[3] > to_text(utc_now())
    assert progress[:2] == ("pending", 0)


# --- endpoints the server must never POST to ------------------------------------------------

REFUSED = {
    "a host that is no push service": "https://push.example.org/send/1",
    "a private address": "https://10.0.0.5/send/1",
    "the server itself": "https://127.0.0.1/send/1",
    "a look-alike host": "https://fcm.googleapis.com.evil.example/send/1",
    "a known service over plain http": "http://updates.push.services.mozilla.com/wpush/v2/x",
    "a known service on another port": "https://fcm.googleapis.com:8443/fcm/send/x",
    "a user part": "https://evil.example@fcm.googleapis.com/fcm/send/x",
    "a backslash": "https://evil.example\\.fcm.googleapis.com/fcm/send/x",
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_an_endpoint_outside_the_push_services_is_refused_when_subscribing(
    client: TestClient, settings: Settings, case: str
) -> None:
    code = add_report(settings)
    sub = Browser.new(REFUSED[case]).subscription()
    answer = client.post(push_url(code), json=sub)
    assert answer.status_code == 422
    assert answer.json()["message"].startswith("Langganan tidak sah: alamat (endpoint)")
    assert scalar(settings, "SELECT COUNT(*) FROM push_subscriptions") == 0


def test_the_browsers_push_services_are_accepted_and_the_refusal_speaks_english(
    client: TestClient, settings: Settings
) -> None:
    code = add_report(settings)
    for endpoint in (
        "https://fcm.googleapis.com/fcm/send/abc:APA91b",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAAA",
        "https://web.push.apple.com/QGuQyavXutnMH",
        "https://wns2-sg2p.notify.windows.com/w/?token=BQYAAA%3d",
    ):
        answer = client.post(push_url(code), json=Browser.new(endpoint).subscription())
        assert answer.status_code == 201, (endpoint, answer.text)
    client.cookies.set("lang", "en")
    answer = client.post(
        push_url(code), json=Browser.new(REFUSED["a private address"]).subscription()
    )
    assert answer.json()["message"] == (
        "Invalid subscription: the address (endpoint) is not a known browser push service."
    )


def test_a_local_push_service_over_http_is_refused_unless_the_operator_allows_it(
    client: TestClient, settings: Settings, service: PushService
) -> None:
    code = add_report(settings)
    answer = client.post(push_url(code), json=Browser.new(service.url("/p")).subscription())
    assert answer.status_code == 422 and "https" in answer.json()["message"]


def test_an_endpoint_no_longer_allowed_is_failed_at_send_time_and_never_posted_to(
    web: TestClient, push_settings: Settings, settings: Settings, service: PushService
) -> None:
    code = filed(push_settings)
    browser = Browser.new(service.url("/push/x"))
    assert web.post(push_url(code), json=browser.subscription()).status_code == 201
    admin(web, push_settings)
    assert act(web, code, "verify", {}).status_code == 303
    # The operator took the local service off ADUAN_PUSH_HOSTS since.
    assert deliver(settings) == 1
    assert service.received == []
    assert states(settings) == [
        (browser.endpoint, "failed", 1, "endpoint is not a push service this server may reach")
    ]


# --- settings -------------------------------------------------------------------------------


def test_push_hosts_are_read_from_the_environment() -> None:
    assert parse_push_hosts(
        " push.example.org, *.push.example.net:8443 ,http://127.0.0.1:8089"
    ) == (
        PushHost("push.example.org", 443, "https"),
        PushHost("*.push.example.net", 8443, "https"),
        PushHost("127.0.0.1", 8089, "http"),
    )
    assert parse_push_hosts("") == ()


@pytest.mark.parametrize("value", ["push example", "ftp://x.org", "x.org:99999", "x.org/path"])
def test_a_push_host_that_is_not_one_is_refused_with_a_clear_message(
    tmp_path: Any, value: str
) -> None:
    with pytest.raises(SettingsError, match="ADUAN_PUSH_HOSTS must be a comma list"):
        Settings.from_env({"ADUAN_DATA_DIR": str(tmp_path), "ADUAN_PUSH_HOSTS": value})


def test_the_vapid_contact_defaults_to_the_base_url_and_must_be_mailto_or_https(
    tmp_path: Any,
) -> None:
    env = {"ADUAN_DATA_DIR": str(tmp_path), "ADUAN_BASE_URL": "https://aduan.kota.go.id"}
    assert Settings.from_env(env).push_subject == "https://aduan.kota.go.id"
    given = Settings.from_env({**env, "ADUAN_VAPID_SUBJECT": "mailto:admin@kota.go.id"})
    assert given.push_subject == "mailto:admin@kota.go.id"
    with pytest.raises(SettingsError, match="ADUAN_VAPID_SUBJECT must be a contact"):
        Settings.from_env({**env, "ADUAN_VAPID_SUBJECT": "admin@kota.go.id"})


# --- delivery runs by itself ----------------------------------------------------------------


def test_the_server_sends_due_pushes_by_itself(
    push_settings: Settings, service: PushService
) -> None:
    running = dataclasses.replace(push_settings, run_tasks=True)
    code = filed(running)
    browser = Browser.new(service.url("/push/auto"))
    with TestClient(create_app(running)) as client:
        assert client.post(push_url(code), json=browser.subscription()).status_code == 201
        admin(client, running)
        assert act(client, code, "verify", {}).status_code == 303
        (push,) = service.wait_for(1, timeout=15)
        assert browser.read(push)["step"] == "verify"
        deadline = time.monotonic() + 5
        while states(running)[0][1] != "sent" and time.monotonic() < deadline:
            time.sleep(0.05)
    assert states(running)[0][1] == "sent"


def test_aduan_tasks_run_sends_the_due_pushes(
    web: TestClient,
    push_settings: Settings,
    service: PushService,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = filed(push_settings)
    browser = Browser.new(service.url("/push/cron"))
    web.post(push_url(code), json=browser.subscription())
    admin(web, push_settings)
    assert act(web, code, "verify", {}).status_code == 303
    set_operator_environment(push_settings, monkeypatch)
    monkeypatch.setenv("ADUAN_PUSH_HOSTS", service.setting)
    assert main(["tasks", "run"]) == 0
    assert "Sent or tried 1 due messages" in capsys.readouterr().out
    (push,) = service.to("/push/cron")
    assert browser.read(push)["step"] == "verify"
