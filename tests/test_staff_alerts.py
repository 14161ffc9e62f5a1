"""Staff alerts: an officer turns alerts on in a browser (`/staf/push`, session and CSRF
token required), hears of a case new to their scope and of a first-response deadline 4 hours
ahead and when it passes, once per case, threshold and browser across servers; logout,
deactivation and a password reset turn alerts off; supervisors see the alerts that went
unanswered."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from typing import Any

from starlette.testclient import TestClient
from test_push_subscriptions import subscription

from db import messages
from db.database import Database
from tests.backend import execute, query, scalar
from tests.helpers import (
    CIDENG,
    GAMBIR,
    act,
    add_account,
    add_report,
    apply,
    login,
    run_async,
    staff_client,
)
from web import codes, lifecycle, tasks
from web.clock import from_text, utc_now
from web.lifecycle.alerts import deadline_alerts
from web.push import payload
from web.settings import Settings


def push_csrf(client: TestClient) -> str:
    """The token the inbox's "Nyalakan pemberitahuan" button carries."""
    page = client.get("/staf")
    match = re.search(
        r'<button type="button"[^>]* data-push-subscribe="/staf/push" data-push-csrf="([^"]+)"',
        page.text,
    )
    assert re.search(r'id="push-strings"[^>]* data-key="[A-Za-z0-9_-]{87}"', page.text)
    assert match, "no alert button on the inbox"
    return match[1]


def turn_on(client: TestClient, name: str = "a") -> dict[str, Any]:
    sub = subscription(name)
    answer = client.post("/staf/push", json=sub, headers={"X-CSRF-Token": push_csrf(client)})
    assert answer.status_code == 201, answer.text
    return sub


def alerts(settings: Settings) -> list[tuple[str, str, str, str]]:
    """(report code, alert, recipient endpoint, account username) of every alert."""
    found = query(
        settings,
        "SELECT r.code, m.alert, m.recipient, u.username FROM messages m"
        " JOIN reports r ON r.id = m.report_id JOIN users u ON u.id = m.user_id"
        " WHERE m.alert <> '' ORDER BY m.id",
    )
    return [(row[0], row[1], row[2], row[3]) for row in found]


def staff_browsers(settings: Settings) -> int:
    return int(scalar(settings, "SELECT COUNT(*) FROM staff_push_subscriptions"))


def due_at(settings: Settings, code: str) -> datetime:
    value = scalar(settings, "SELECT response_due_at FROM reports WHERE code = ?", (code,))
    return from_text(str(value))


def run_deadline_task(settings: Settings, now: datetime) -> int:
    async def run() -> int:
        async with Database(settings.database) as db:
            return await deadline_alerts(db, now=now)

    return run_async(run())


# --- turning alerts on and off -------------------------------------------------------------


def test_an_officer_turns_alerts_on_and_off_in_a_browser(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "gambir1")
    token = push_csrf(client)
    sub = subscription("phone")
    headers = {"X-CSRF-Token": token}
    assert client.post("/staf/push", json=sub, headers=headers).status_code == 201
    assert client.post("/staf/push", json=sub, headers=headers).status_code == 200
    assert staff_browsers(settings) == 1
    bad = client.post("/staf/push", json={"endpoint": "http://x"}, headers=headers)
    assert bad.status_code == 422 and "https" in bad.json()["message"]
    assert client.post("/staf/push", content=b"{", headers=headers).status_code == 422
    gone = client.request(
        "DELETE", "/staf/push", json={"endpoint": sub["endpoint"]}, headers=headers
    )
    assert gone.status_code == 204
    assert staff_browsers(settings) == 0


def test_alerts_are_refused_without_a_session_or_its_token(
    client: TestClient, settings: Settings
) -> None:
    sub = subscription()
    anonymous = client.post("/staf/push", json=sub)
    assert anonymous.status_code == 403 and anonymous.json()["message"]
    assert client.request("DELETE", "/staf/push", json={"endpoint": "https://x/y"}).status_code == (
        403
    )
    add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "gambir1")
    assert client.post("/staf/push", json=sub).status_code == 403
    wrong = client.post("/staf/push", json=sub, headers={"X-CSRF-Token": "not-the-token"})
    assert wrong.status_code == 403
    assert staff_browsers(settings) == 0


def test_logout_turns_off_the_alerts_of_the_account_in_every_browser(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    add_account(settings, "cideng1", areas=[CIDENG])
    login(client, "gambir1")
    turn_on(client, "office")
    with staff_client(settings, "gambir1") as phone:
        turn_on(phone, "phone")
    with staff_client(settings, "cideng1") as other:
        turn_on(other, "other")
    assert staff_browsers(settings) == 3
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staf").text)
    assert token
    assert client.post("/staf/keluar", data={"csrf_token": token[1]}).status_code in (200, 303)
    left = query(
        settings,
        "SELECT u.username FROM staff_push_subscriptions s JOIN users u ON u.id = s.user_id",
    )
    assert [row[0] for row in left] == ["cideng1"]


def test_deactivation_and_a_new_password_turn_alerts_off(
    client: TestClient, settings: Settings
) -> None:
    gambir = add_account(settings, "gambir1", areas=[GAMBIR])
    cideng = add_account(settings, "cideng1", areas=[CIDENG])
    for name in ("gambir1", "cideng1"):
        with staff_client(settings, name) as browser:
            turn_on(browser, name)
    add_account(settings, "admin", role="admin")
    login(client, "admin")
    page = client.get(f"/staf/admin/akun/{gambir}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    off = client.post(f"/staf/admin/akun/{gambir}/nonaktif", data={"csrf_token": token[1]})
    assert off.status_code in (200, 303)
    assert [r[0] for r in query(settings, "SELECT user_id FROM staff_push_subscriptions")] == [
        cideng
    ]
    reset = client.post(
        f"/staf/admin/akun/{cideng}/sandi",
        data={"csrf_token": token[1], "password": "kata-sandi-baru-yang-panjang"},
    )
    assert reset.status_code in (200, 303)
    assert staff_browsers(settings) == 0


def test_another_account_logging_in_on_the_browser_ends_the_alerts_turned_on_there(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    add_account(settings, "cideng1", areas=[CIDENG])
    login(client, "gambir1")
    turn_on(client, "shared-pc")
    login(client, "gambir1")  # the same officer again keeps them, twice over
    login(client, "gambir1")
    assert staff_browsers(settings) == 1
    login(client, "cideng1")
    assert staff_browsers(settings) == 0


# --- a case new to an officer's scope ------------------------------------------------------


def test_a_case_forwarded_to_an_agency_alerts_each_browser_of_its_officers_only(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "dlh1", agency="DLH")
    add_account(settings, "dlh2", agency="DLH")
    add_account(settings, "dishub1", agency="DISHUB")
    add_account(settings, "gambir1", areas=[GAMBIR])
    browsers: dict[str, list[str]] = {}
    for name, devices in (("dlh1", ["phone", "pc"]), ("dlh2", ["phone"]), ("dishub1", ["pc"])):
        for device in devices:
            with staff_client(settings, name) as browser:
                browsers.setdefault(name, []).append(turn_on(browser, device)["endpoint"])
    login(client, "gambir1")
    own = turn_on(client, "kelurahan-pc")["endpoint"]
    code = add_report(settings, GAMBIR)
    assert alerts(settings) == [(code, "new_case", own, "gambir1")]
    apply(settings, code, "verify")
    assert act(client, code, "dispatch", {"agency_code": "DLH"}).status_code == 303
    expected = sorted(
        (code, "new_case", endpoint, name)
        for name in ("dlh1", "dlh2")
        for endpoint in browsers[name]
    )
    assert sorted(alerts(settings)[1:]) == expected
    # Forwarding again to the same agency is nothing new to anyone.
    assert act(client, code, "dispatch", {"agency_code": "DLH"}).status_code == 303
    assert len(alerts(settings)) == 4


def test_a_new_case_alerts_the_officers_of_its_kelurahan_and_not_of_another(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    add_account(settings, "kecamatan", areas=["31.71.01"])
    add_account(settings, "cideng1", areas=[CIDENG])
    add_account(settings, "pengawas", role="supervisor")
    endpoints = {}
    for name in ("gambir1", "kecamatan", "cideng1", "pengawas"):
        with staff_client(settings, name) as browser:
            endpoints[name] = turn_on(browser, name)["endpoint"]
    code = add_report(settings, GAMBIR)
    assert sorted(alerts(settings)) == sorted(
        (code, "new_case", endpoints[name], name) for name in ("gambir1", "kecamatan")
    )


def test_a_case_moved_to_another_kelurahan_alerts_only_the_officers_it_is_new_to(
    settings: Settings,
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    add_account(settings, "kecamatan", areas=["31.71.01"])  # holds Gambir and Cideng
    add_account(settings, "cideng1", areas=[CIDENG])
    endpoints = {}
    for name in ("gambir1", "kecamatan", "cideng1"):
        with staff_client(settings, name) as browser:
            endpoints[name] = turn_on(browser, name)["endpoint"]
    code = add_report(settings, GAMBIR)
    before = len(alerts(settings))
    apply(settings, code, "recategorise", area_code=CIDENG)
    assert alerts(settings)[before:] == [(code, "new_case", endpoints["cideng1"], "cideng1")]
    apply(settings, code, "note", internal_note="Sudah dicek.")
    assert len(alerts(settings)) == before + 1


def test_an_alert_carries_the_code_and_category_and_nothing_about_the_reporter(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "gambir1")
    client.cookies.set("lang", "en")
    turn_on(client)
    code = add_report(
        settings,
        description="Sampah di depan rumah Pak Budi nomor 12.",
        address="Jl. Kenari II no. 12",
        reporter_name="Siti Aminah",
        reporter_phone="081234567890",
    )
    execute(settings, "UPDATE reports SET reporter_email = 'siti@example.com'")

    async def read() -> dict[str, str]:
        async with Database(settings.database) as db, db.read() as conn:
            message_id = await conn.scalar("SELECT id FROM messages WHERE alert = 'new_case'")
            details = await messages.push_details(conn, message_id)
            return payload(details, tracking_path=f"/t/{code}")

    sent = run_async(read())
    assert sent["code"] == code and codes.display(code) in sent["title"]
    assert sent["title"].startswith("New case")
    assert sent["body"] == "Rubbish"
    assert sent["url"] == f"/staf/laporan/{code}"
    text = repr(sent)
    for personal in ("Siti", "0812", "siti@example.com", "Budi", "Kenari"):
        assert personal not in text


# --- first-response deadlines --------------------------------------------------------------


def test_deadline_alerts_come_4_hours_before_and_when_the_deadline_passes(
    settings: Settings,
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    add_account(settings, "pengawas", role="supervisor")
    endpoints = {}
    for name in ("gambir1", "pengawas"):
        with staff_client(settings, name) as browser:
            endpoints[name] = turn_on(browser, name)["endpoint"]
    code = add_report(settings, GAMBIR)
    answered = add_report(settings, GAMBIR)
    apply(settings, answered, "verify")
    due = due_at(settings, code)
    new_cases = len(alerts(settings))

    def deadline_alerts_now() -> list[tuple[str, str, str, str]]:
        return [a for a in alerts(settings)[new_cases:]]

    assert run_deadline_task(settings, due - timedelta(hours=4, seconds=1)) == 0
    assert run_deadline_task(settings, due - timedelta(hours=4)) == 1
    assert deadline_alerts_now() == [(code, "due_soon", endpoints["gambir1"], "gambir1")]
    assert run_deadline_task(settings, due - timedelta(hours=1)) == 0
    assert run_deadline_task(settings, due - timedelta(seconds=1)) == 0
    assert run_deadline_task(settings, due) == 2
    assert sorted(deadline_alerts_now()[1:]) == [
        (code, "overdue", endpoints["gambir1"], "gambir1"),
        (code, "overdue", endpoints["pengawas"], "pengawas"),
    ]
    assert run_deadline_task(settings, due + timedelta(hours=2)) == 0
    # Answered in time: no deadline alert was ever made for it.
    assert all(a[0] != answered for a in deadline_alerts_now())


def test_two_servers_running_the_deadline_task_at_once_alert_each_case_once(
    settings: Settings,
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    with staff_client(settings, "gambir1") as phone:
        turn_on(phone, "phone")
        turn_on(phone, "pc")
    reports = [add_report(settings, GAMBIR) for _ in range(5)]
    due = max(due_at(settings, code) for code in reports)

    async def together(now: datetime) -> list[int]:
        async with Database(settings.database) as a, Database(settings.database) as b:
            return list(
                await asyncio.gather(*(deadline_alerts(db, now=now) for db in (a, b, a, b)))
            )

    soon = run_async(together(due - timedelta(hours=1)))
    late = run_async(together(due + timedelta(minutes=1)))
    assert sum(soon) == sum(late) == 5 * 2
    for alert in ("due_soon", "overdue"):
        found = [a for a in alerts(settings) if a[1] == alert]
        assert len(found) == len(set(found)) == 10
    assert run_async(together(due + timedelta(minutes=2))) == [0, 0, 0, 0]


def test_the_deadline_task_runs_under_its_lease_and_from_aduan_tasks_run(
    settings: Settings,
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    with staff_client(settings, "gambir1") as phone:
        turn_on(phone)
    code = add_report(settings, GAMBIR)
    due = due_at(settings, code)

    async def two_servers(now: datetime) -> list[tasks.TaskReport]:
        async with Database(settings.database) as a, Database(settings.database) as b:
            return list(
                await asyncio.gather(
                    tasks.run_once(a, settings, now, holder="a", hourly=False),
                    tasks.run_once(b, settings, now, holder="b", hourly=False),
                )
            )

    reports = run_async(two_servers(due + timedelta(seconds=30)))
    assert sorted(r.alerts for r in reports) == [0, 1]
    assert [a[1] for a in alerts(settings)] == ["new_case", "overdue"]


# --- what supervisors see ------------------------------------------------------------------


def test_supervisors_see_the_alerts_that_went_unanswered_and_not_those_answered_in_time(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    add_account(settings, "pengawas", role="supervisor")
    with staff_client(settings, "gambir1") as phone:
        turn_on(phone)
    filed = utc_now() - timedelta(hours=30)
    late = add_report(settings, GAMBIR, now=filed)
    in_time = add_report(settings, GAMBIR, now=filed)

    async def verify_in_time() -> None:
        async with Database(settings.database) as db:
            action = lifecycle.Action(kind="verify", expected_version=1)
            await lifecycle.apply_action(db, in_time, action, now=filed + timedelta(hours=23))

    assert run_deadline_task(settings, filed + timedelta(hours=22)) == 2  # both due soon
    run_async(verify_in_time())
    run_deadline_task(settings, due_at(settings, late))
    login(client, "pengawas")
    page = client.get("/staf/terlambat")
    assert page.status_code == 200
    section = page.text[page.text.index('id="pemberitahuan"') :]
    assert codes.display(late) in section
    assert codes.display(in_time) not in section
    assert "Lewat tenggat" in section and "Kasus baru" in section and "Gambir1" in section
    client.cookies.set("lang", "en")
    english = client.get("/staf/terlambat").text
    assert "Alerts nobody answered" in english and "Past the deadline" in english
