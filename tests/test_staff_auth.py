"""Staff login, sessions, CSRF and account administration."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import re
from datetime import datetime, timedelta

import pytest
from starlette.testclient import TestClient

from db.database import Database
from tests.backend import execute
from tests.helpers import (
    CIDENG,
    GAMBIR,
    PASSWORD,
    add_account,
    add_report,
    csrf_of,
    hidden,
    login,
    report_row,
    rows,
    session_cookie,
    snapshot,
    staff_client,
)
from web import auth
from web.app import create_app
from web.clock import to_text, utc_now
from web.settings import Settings

# --- login --------------------------------------------------------------------------------


def test_officer_logs_in_and_lands_in_the_inbox(client: TestClient, settings: Settings) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    response = login(client, "gambir1")
    assert response.status_code == 303 and response.headers["location"] == "/staf"
    inbox = client.get("/staf")
    assert inbox.status_code == 200 and "Kotak masuk" in inbox.text and "Gambir1" in inbox.text


def test_login_returns_to_the_staff_page_asked_for_but_never_to_another_site(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    assert login(client, "gambir1", next="/staf/lapor").headers["location"] == "/staf/lapor"
    for target in ("https://evil.example/", "//evil.example/staf", "/lapor"):
        assert login(client, "gambir1", next=target).headers["location"] == "/staf"


def test_wrong_password_and_unknown_account_get_the_same_answer(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    wrong = login(client, "gambir1", "salah-sekali-123")
    unknown = login(client, "tidakada", "salah-sekali-123")
    assert wrong.status_code == unknown.status_code == 400
    message = "Nama pengguna atau kata sandi salah."
    assert message in wrong.text and message in unknown.text
    assert wrong.text.replace("gambir1", "X") == unknown.text.replace("tidakada", "X")
    assert auth.COOKIE_NAME not in wrong.headers.get("set-cookie", "")


def test_a_deactivated_account_cannot_log_in_and_is_not_told_why(
    client: TestClient, settings: Settings
) -> None:
    user_id = add_account(settings, "gambir1", areas=[GAMBIR])
    execute(settings, "UPDATE users SET active = 0 WHERE id = ?", (user_id,))
    response = login(client, "gambir1")
    assert response.status_code == 400 and "Nama pengguna atau kata sandi salah." in response.text


def test_login_form_without_its_token_is_refused(client: TestClient, settings: Settings) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    client.get("/staf/masuk")
    response = client.post(
        "/staf/masuk",
        data={"username": "gambir1", "password": PASSWORD, "csrf_token": "palsu"},
        follow_redirects=False,
    )
    assert response.status_code == 403 and "kedaluwarsa" in response.text
    assert auth.COOKIE_NAME not in response.headers.get("set-cookie", "")


def test_five_failures_lock_the_account_with_retry_after(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    for _ in range(5):
        assert login(client, "gambir1", "salah-sekali-123").status_code == 400
    locked = login(client, "gambir1")  # even the right password waits now
    assert locked.status_code == 429
    assert 0 < int(locked.headers["retry-after"]) <= 60
    assert "Terlalu banyak percobaan" in locked.text
    assert auth.COOKIE_NAME not in locked.headers.get("set-cookie", "")
    # The same answer for a name that does not exist, once it has failed as often.
    for _ in range(5):
        login(client, "tidakada", "salah-sekali-123")
    assert login(client, "tidakada", "salah-sekali-123").status_code == 429


def test_the_lock_grows_with_each_further_failure_and_then_ends(settings: Settings) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    start = utc_now()

    async def attempt(at: datetime, password: str = "salah-sekali-123") -> auth.LoginOutcome:
        async with Database(settings.database) as db:
            return await auth.attempt_login(
                db,
                secret_key=settings.secret_key,
                username="gambir1",
                password=password,
                client="203.0.113.9",
                now=at,
            )

    for second in range(5):
        assert asyncio.run(attempt(start + timedelta(seconds=second))).account_id is None
    first_lock = asyncio.run(attempt(start + timedelta(seconds=5))).retry_after
    assert 55 <= first_lock <= 60
    # After the lock, one more failure doubles it.
    later = start + timedelta(seconds=70)
    assert asyncio.run(attempt(later)).retry_after == 0
    second_lock = asyncio.run(attempt(later + timedelta(seconds=1))).retry_after
    assert 115 <= second_lock <= 120
    # Never permanent: after the window, the right password works.
    done = asyncio.run(attempt(later + timedelta(minutes=20), PASSWORD))
    assert done.account_id is not None and done.retry_after == 0


def test_many_failures_from_one_client_lock_it_out_whatever_the_name(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    for number in range(auth.CLIENT_FAILURE_LIMIT):
        assert login(client, f"tebakan{number}", "salah-sekali-123").status_code == 400
    assert login(client, "gambir1").status_code == 429


def test_login_attempts_are_logged_with_the_account_id_only(
    client: TestClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    user_id = add_account(settings, "gambir1", areas=[GAMBIR])
    with caplog.at_level(logging.INFO):
        login(client, "gambir1", "salah-rahasia-987")
        login(client, "orang-asing", "salah-rahasia-987")
        login(client, "gambir1")
    text = caplog.text
    assert f"staff login failed account_id={user_id}" in text
    assert f"staff login ok account_id={user_id}" in text
    assert "staff login failed account_id=-" in text
    for secret in ("gambir1", "orang-asing", "salah-rahasia-987", PASSWORD):
        assert secret not in text


# --- sessions -----------------------------------------------------------------------------


def test_session_cookie_is_http_only_same_site_lax_and_kept_to_staff_pages(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    cookie = login(client, "gambir1").headers["set-cookie"]
    assert f"{auth.COOKIE_NAME}=" in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/staf" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_when_the_site_is_served_over_https(
    settings: Settings,
) -> None:
    https = dataclasses.replace(settings, base_url="https://testserver")
    add_account(https, "gambir1", areas=[GAMBIR])
    with TestClient(create_app(https), base_url="https://testserver") as client:
        assert "Secure" in login(client, "gambir1").headers["set-cookie"]


def test_the_database_keeps_only_a_hash_of_the_session_id(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "gambir1")
    raw = session_cookie(client)
    stored = [r["id_hash"] for r in rows(settings, "SELECT id_hash FROM sessions")]
    assert stored == [hashlib.sha256(raw.encode()).hexdigest()]
    assert raw not in stored


def test_login_issues_a_new_session_id_and_the_old_one_stops_working(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "gambir1")
    before = session_cookie(client)
    login(client, "gambir1")
    after = session_cookie(client)
    assert after != before
    assert rows(settings, "SELECT COUNT(*) FROM sessions")[0][0] == 1
    with TestClient(client.app) as stale:
        response = stale.get(
            "/staf", headers={"Cookie": f"{auth.COOKIE_NAME}={before}"}, follow_redirects=False
        )
        assert response.status_code == 303 and response.headers["location"].startswith(
            "/staf/masuk"
        )
    assert client.get("/staf", follow_redirects=False).status_code == 200


def test_an_id_planted_before_login_is_never_adopted(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    page = client.get("/staf/masuk")
    nonce = client.cookies.get(auth.LOGIN_NONCE_COOKIE)
    client.cookies.clear()
    response = client.post(
        "/staf/masuk",
        data={
            "username": "gambir1",
            "password": PASSWORD,
            "csrf_token": hidden(page.text, "csrf_token"),
        },
        headers={
            "Cookie": f"{auth.LOGIN_NONCE_COOKIE}={nonce}; {auth.COOKIE_NAME}=ditanam-penyerang"
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    issued = response.cookies.get(auth.COOKIE_NAME)
    assert issued and issued != "ditanam-penyerang"
    planted = hashlib.sha256(b"ditanam-penyerang").hexdigest()
    assert not rows(settings, "SELECT 1 FROM sessions WHERE id_hash = ?", (planted,))


def test_logout_ends_every_session_of_the_account(client: TestClient, settings: Settings) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "gambir1")
    with staff_client(settings, "gambir1") as phone:
        assert phone.get("/staf", follow_redirects=False).status_code == 200
        response = client.post(
            "/staf/keluar", data={"csrf_token": csrf_of(client)}, follow_redirects=False
        )
        assert response.status_code == 303 and response.headers["location"] == "/staf/masuk"
        assert phone.get("/staf", follow_redirects=False).status_code == 303
    assert client.get("/staf", follow_redirects=False).status_code == 303
    assert rows(settings, "SELECT COUNT(*) FROM sessions")[0][0] == 0


def test_logout_without_the_csrf_token_is_refused(client: TestClient, settings: Settings) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "gambir1")
    response = client.post("/staf/keluar", data={}, follow_redirects=False)
    assert response.status_code == 403
    assert client.get("/staf", follow_redirects=False).status_code == 200


def test_an_idle_session_expires(client: TestClient, settings: Settings) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "gambir1")
    idle = to_text(utc_now() - auth.IDLE_TIMEOUT - timedelta(minutes=1))
    execute(settings, "UPDATE sessions SET last_seen_at = ?", (idle,))
    assert client.get("/staf", follow_redirects=False).status_code == 303
    assert rows(settings, "SELECT COUNT(*) FROM sessions")[0][0] == 0


def test_a_session_ends_at_its_absolute_age_even_when_in_use(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "gambir1")
    born = to_text(utc_now() - auth.ABSOLUTE_AGE - timedelta(minutes=1))
    execute(settings, "UPDATE sessions SET created_at = ?", (born,))
    assert client.get("/staf", follow_redirects=False).status_code == 303


def test_a_session_is_touched_at_most_once_a_minute(client: TestClient, settings: Settings) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "gambir1")
    first = rows(settings, "SELECT last_seen_at FROM sessions")[0][0]
    client.get("/staf")
    assert rows(settings, "SELECT last_seen_at FROM sessions")[0][0] == first
    earlier = to_text(utc_now() - timedelta(minutes=5))
    execute(settings, "UPDATE sessions SET last_seen_at = ?", (earlier,))
    client.get("/staf")
    assert rows(settings, "SELECT last_seen_at FROM sessions")[0][0] > earlier


def test_staff_pages_send_visitors_without_a_session_to_the_login_page(
    client: TestClient, settings: Settings
) -> None:
    code = add_report(settings)
    for path in ("/staf", f"/staf/laporan/{code}", "/staf/lapor", "/staf/admin/akun"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/staf/masuk?next=")
        assert "Sampah menumpuk" not in response.text
    response = client.post(f"/staf/laporan/{code}/verify", data={}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/staf/masuk"
    assert report_row(settings, code)["status"] == "received"


def test_an_htmx_request_without_a_session_sends_the_whole_page_to_login(
    client: TestClient,
) -> None:
    response = client.get("/staf/inbox-rows", headers={"HX-Request": "true"})
    assert response.status_code == 401 and response.headers["hx-redirect"] == "/staf/masuk"


def test_staff_pages_are_kept_out_of_every_cache(client: TestClient, settings: Settings) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    code = add_report(settings)
    login(client, "gambir1")
    for path in ("/staf", "/staf/inbox-rows", f"/staf/laporan/{code}", "/staf/masuk"):
        assert client.get(path).headers["cache-control"] == "no-store"


# --- CSRF ---------------------------------------------------------------------------------


def test_an_action_without_the_csrf_token_is_refused_and_changes_nothing(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    code = add_report(settings)
    login(client, "gambir1")
    before = snapshot(settings, code)
    for token in (None, "", "token-palsu"):
        data = {"version": "1", "public_note": "Sudah dicek"}
        if token is not None:
            data["csrf_token"] = token
        response = client.post(f"/staf/laporan/{code}/verify", data=data, follow_redirects=False)
        assert response.status_code == 403
    assert snapshot(settings, code) == before


def test_another_sessions_token_does_not_work(client: TestClient, settings: Settings) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    add_account(settings, "gambir2", areas=[GAMBIR])
    code = add_report(settings)
    login(client, "gambir1")
    with staff_client(settings, "gambir2") as other:
        foreign = csrf_of(other)
    before = snapshot(settings, code)
    response = client.post(
        f"/staf/laporan/{code}/verify",
        data={"version": "1", "csrf_token": foreign},
        follow_redirects=False,
    )
    assert response.status_code == 403 and snapshot(settings, code) == before


def test_htmx_requests_carry_the_token_in_a_header(client: TestClient, settings: Settings) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    code = add_report(settings)
    login(client, "gambir1")
    page = client.get(f"/staf/laporan/{code}")
    token = re.search(r"hx-headers:inherited='\{\"X-CSRF-Token\": \"([^\"]+)\"\}'", page.text)
    assert token, "the body carries the token for htmx"
    wrong = client.post(
        f"/staf/laporan/{code}/verify",
        data={"version": "1"},
        headers={"HX-Request": "true", "X-CSRF-Token": "palsu"},
    )
    assert wrong.status_code == 403 and report_row(settings, code)["status"] == "received"
    right = client.post(
        f"/staf/laporan/{code}/verify",
        data={"version": "1"},
        headers={"HX-Request": "true", "X-CSRF-Token": token[1]},
    )
    assert right.status_code == 200 and report_row(settings, code)["status"] == "verified"


def test_a_post_from_another_site_is_refused_before_anything_else(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    code = add_report(settings)
    login(client, "gambir1")
    response = client.post(
        f"/staf/laporan/{code}/verify",
        data={"version": "1", "csrf_token": csrf_of(client)},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403 and report_row(settings, code)["status"] == "received"


# --- account administration ---------------------------------------------------------------


def test_admin_creates_an_officer_who_can_then_log_in(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "admin", "admin")
    login(client, "admin")
    response = client.post(
        "/staf/admin/akun",
        data={
            "csrf_token": csrf_of(client),
            "username": "cideng1",
            "display_name": "Petugas Cideng",
            "password": "sandi-awal-panjang",
            "role": "officer",
            "areas": [CIDENG],
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    created = rows(settings, "SELECT * FROM users WHERE username = 'cideng1'")[0]
    assert created["role"] == "officer" and created["display_name"] == "Petugas Cideng"
    areas = rows(settings, "SELECT area_code FROM user_areas WHERE user_id = ?", (created["id"],))
    assert [a[0] for a in areas] == [CIDENG]
    with TestClient(client.app) as officer:
        assert login(officer, "cideng1", "sandi-awal-panjang").status_code == 303


def test_account_form_refuses_short_passwords_and_officers_without_scope(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "admin", "admin")
    login(client, "admin")
    response = client.post(
        "/staf/admin/akun",
        data={
            "csrf_token": csrf_of(client),
            "username": "baru",
            "password": "pendek",
            "role": "officer",
        },
    )
    assert response.status_code == 422
    assert (
        "paling sedikit 10 karakter" in response.text and "Petugas perlu wilayah" in response.text
    )
    assert 'value="baru"' in response.text
    assert not rows(settings, "SELECT 1 FROM users WHERE username = 'baru'")


def test_only_admins_reach_account_administration(client: TestClient, settings: Settings) -> None:
    add_account(settings, "super", "supervisor")
    target = add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "super")
    assert client.get("/staf/admin/akun").status_code == 403
    response = client.post(
        f"/staf/admin/akun/{target}/nonaktif",
        data={"csrf_token": csrf_of_inbox(client)},
    )
    assert response.status_code == 403
    assert rows(settings, "SELECT active FROM users WHERE id = ?", (target,))[0][0] == 1


def csrf_of_inbox(client: TestClient) -> str:
    page = client.get("/staf")
    return hidden(page.text, "csrf_token")


def test_deactivating_an_account_ends_its_sessions_at_once(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "admin", "admin")
    target = add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "admin")
    with staff_client(settings, "gambir1") as officer:
        assert officer.get("/staf", follow_redirects=False).status_code == 200
        response = client.post(
            f"/staf/admin/akun/{target}/nonaktif",
            data={"csrf_token": csrf_of(client)},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert officer.get("/staf", follow_redirects=False).status_code == 303
        assert login(officer, "gambir1").status_code == 400
    sessions = rows(settings, "SELECT COUNT(*) FROM sessions WHERE user_id = ?", (target,))
    assert sessions[0][0] == 0


def test_an_admin_cannot_deactivate_their_own_account(
    client: TestClient, settings: Settings
) -> None:
    admin = add_account(settings, "admin", "admin")
    login(client, "admin")
    response = client.post(
        f"/staf/admin/akun/{admin}/nonaktif", data={"csrf_token": csrf_of(client)}
    )
    assert response.status_code == 422
    assert rows(settings, "SELECT active FROM users WHERE id = ?", (admin,))[0][0] == 1


def test_a_password_reset_ends_the_accounts_sessions(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "admin", "admin")
    target = add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "admin")
    with staff_client(settings, "gambir1") as officer:
        response = client.post(
            f"/staf/admin/akun/{target}/sandi",
            data={"csrf_token": csrf_of(client), "password": "sandi-baru-yang-panjang"},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert officer.get("/staf", follow_redirects=False).status_code == 303
        assert login(officer, "gambir1").status_code == 400
        assert login(officer, "gambir1", "sandi-baru-yang-panjang").status_code == 303


def test_admin_changes_an_officers_scope(client: TestClient, settings: Settings) -> None:
    add_account(settings, "admin", "admin")
    target = add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "admin")
    response = client.post(
        f"/staf/admin/akun/{target}/lingkup",
        data={
            "csrf_token": csrf_of(client),
            "display_name": "Petugas DLH",
            "role": "officer",
            "agency_code": "DLH",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    user = rows(settings, "SELECT * FROM users WHERE id = ?", (target,))[0]
    assert user["agency_code"] == "DLH" and user["display_name"] == "Petugas DLH"
    assert not rows(settings, "SELECT 1 FROM user_areas WHERE user_id = ?", (target,))
    page = client.get(f"/staf/admin/akun/{target}")
    assert page.status_code == 200 and "Peran dan wilayah tugas sudah disimpan." not in page.text
