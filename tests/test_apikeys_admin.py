"""Admins make and revoke Open311 API keys in the browser; nobody else can."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from db import accounts as account_db
from tests.test_open311_post import form
from web.clock import to_text, utc_now
from web.passwords import hash_password

PAGE = "/staf/admin/api"
ORIGIN = {"Origin": "http://testserver"}
PASSWORD = "kata-sandi-yang-panjang"
NEW_KEY = re.compile(r'id="new-key" value="(ak_[A-Za-z0-9_-]{43})"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def log_in(client: TestClient, role: str) -> str:
    """Create an account with `role`, log in through the login page; returns its CSRF token."""
    db = client.app_state["db"]
    username = f"{role}-1"

    async def create() -> None:
        async with db.write() as conn:
            await account_db.create_account(
                conn,
                username=username,
                password_hash=hash_password(PASSWORD),
                role=role,
                created_at=to_text(utc_now()),
                area_codes=["31.71.01.1001"] if role == "officer" else [],
            )

    client.portal.call(create)
    page = client.get("/staf/masuk")
    login_token = CSRF.search(page.text)
    assert login_token
    done = client.post(
        "/staf/masuk",
        data={"username": username, "password": PASSWORD, "csrf_token": login_token[1]},
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    token = CSRF.search(client.get(PAGE if role == "admin" else "/staf").text)
    assert token
    return token[1]


def test_an_admin_makes_a_key_sees_it_once_and_it_works(client: TestClient) -> None:
    csrf = log_in(client, "admin")
    assert "Belum ada kunci API." in client.get(PAGE).text
    made = client.post(
        PAGE,
        data={"csrf_token": csrf, "name": "JAKI", "rate_per_minute": "120"},
        headers=ORIGIN,
    )
    assert made.status_code == 200
    assert made.headers["cache-control"] == "no-store"
    secret = NEW_KEY.search(made.text)
    assert secret
    listing = client.get(PAGE).text
    assert secret[1] not in listing and secret[1][:11] in listing and "JAKI" in listing
    created = client.post("/open311/v2/requests.json", data=form(secret[1]))
    assert created.status_code == 200
    db = client.app_state["db"]
    row = client.portal.call(db.fetchone, "SELECT * FROM api_keys", ())
    assert row["rate_per_minute"] == 120 and row["created_by"] is not None


def test_an_admin_revokes_a_key_and_it_stops_working(client: TestClient) -> None:
    csrf = log_in(client, "admin")
    made = client.post(
        PAGE, data={"csrf_token": csrf, "name": "Qlue", "rate_per_minute": "60"}, headers=ORIGIN
    )
    secret = NEW_KEY.search(made.text)
    assert secret
    db = client.app_state["db"]
    key_id = client.portal.call(db.fetchone, "SELECT id FROM api_keys", ())["id"]
    revoked = client.post(
        f"{PAGE}/{key_id}/cabut", data={"csrf_token": csrf}, headers=ORIGIN, follow_redirects=False
    )
    assert revoked.status_code == 303 and revoked.headers["location"] == f"{PAGE}?ok=dicabut"
    assert "Kunci sudah dicabut" in client.get(revoked.headers["location"]).text
    assert client.post("/open311/v2/requests.json", data=form(secret[1])).status_code == 403
    unknown = client.post(f"{PAGE}/999/cabut", data={"csrf_token": csrf}, headers=ORIGIN)
    assert unknown.status_code == 404


def test_a_form_with_mistakes_comes_back_as_typed(client: TestClient) -> None:
    csrf = log_in(client, "admin")
    response = client.post(
        PAGE,
        data={"csrf_token": csrf, "name": "Aplikasi Kota", "rate_per_minute": "0"},
        headers=ORIGIN,
    )
    assert response.status_code == 422
    assert 'value="Aplikasi Kota"' in response.text and "new-key" not in response.text
    db = client.app_state["db"]
    assert client.portal.call(db.fetchone, "SELECT COUNT(*) AS n FROM api_keys", ())["n"] == 0


def test_without_the_csrf_token_nothing_is_made(client: TestClient) -> None:
    log_in(client, "admin")
    response = client.post(PAGE, data={"name": "JAKI", "rate_per_minute": "60"}, headers=ORIGIN)
    assert response.status_code == 403
    db = client.app_state["db"]
    assert client.portal.call(db.fetchone, "SELECT COUNT(*) AS n FROM api_keys", ())["n"] == 0


def test_officers_and_supervisors_cannot_see_or_make_keys(client: TestClient) -> None:
    for role in ("officer", "supervisor"):
        client.cookies.clear()
        csrf = log_in(client, role)
        assert client.get(PAGE).status_code == 403
        response = client.post(
            PAGE, data={"csrf_token": csrf, "name": "X", "rate_per_minute": "60"}, headers=ORIGIN
        )
        assert response.status_code == 403


def test_visitors_are_sent_to_the_login_page(client: TestClient) -> None:
    response = client.get(PAGE, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/staf/masuk")
