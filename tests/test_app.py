from __future__ import annotations

import re
from pathlib import Path

from starlette.testclient import TestClient

from tests.backend import execute
from web.settings import Settings

WEB = Path(__file__).resolve().parent.parent / "web"


def test_healthz_answers_from_the_database(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["migrations"] >= 1


def test_healthz_reports_a_broken_database(client: TestClient, settings: Settings) -> None:
    execute(settings, "DROP TABLE schema_migrations")
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json() == {"status": "error"}


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    for path in ("/", "/halaman-yang-tidak-ada", "/healthz"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"


def test_pages_are_in_bahasa_indonesia_until_english_is_chosen(client: TestClient) -> None:
    page = client.get("/")
    assert '<html lang="id">' in page.text and "Lacak laporan" in page.text
    switched = client.post(
        "/bahasa",
        data={"lang": "en", "next": "/"},
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert switched.status_code == 303 and switched.headers["location"] == "/"
    page = client.get("/")
    assert '<html lang="en">' in page.text and "Track a report" in page.text
    assert "Lacak laporan" not in page.text


def test_language_switch_never_redirects_to_another_site(client: TestClient) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post(
            "/bahasa",
            data={"lang": "en", "next": target},
            headers={"Origin": "http://testserver"},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/"


def test_a_cross_site_post_is_refused_before_it_reaches_a_handler(client: TestClient) -> None:
    response = client.post(
        "/bahasa", data={"lang": "en"}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert "situs lain" in response.text
    assert "lang=en" not in response.headers.get("set-cookie", "")
    cross = client.post("/bahasa", data={"lang": "en"}, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    same = client.post(
        "/bahasa",
        data={"lang": "en"},
        headers={"Sec-Fetch-Site": "same-origin"},
        follow_redirects=False,
    )
    assert same.status_code == 303


def test_unknown_page_is_a_friendly_404_without_internals(client: TestClient) -> None:
    response = client.get("/tidak/ada")
    assert response.status_code == 404
    assert "Halaman tidak ditemukan" in response.text and "Traceback" not in response.text


def test_pages_are_compressed_and_static_files_cached_for_a_year(client: TestClient) -> None:
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip"
    css_url = re.search(r'href="(/static/[^"]+/css/app\.css)"', page.text)[1]
    css = client.get(css_url)
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "immutable" in css.headers["cache-control"]
    stale = client.get(css_url.replace(css_url.split("/")[2], "0000000000"))
    assert stale.status_code == 200 and "immutable" not in stale.headers["cache-control"]
    assert client.get("/static/0000000000/../settings.py").status_code == 404


def test_requests_for_an_unknown_host_are_refused(client: TestClient) -> None:
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400


def test_a_server_error_shows_a_plain_page_with_an_incident_code(
    settings: Settings,
) -> None:
    from web.app import create_app

    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        execute(settings, "ALTER TABLE reports RENAME TO reports_gone")
        response = client.get("/t/ABCD2345")
    assert response.status_code == 500
    assert "Terjadi kesalahan di server" in response.text
    assert re.search(r"Kode kejadian: [0-9a-f]{12}", response.text)
    assert "Traceback" not in response.text and "sqlite" not in response.text.lower()


def test_a_repeat_visit_to_an_unchanged_page_gets_304_without_a_body(client: TestClient) -> None:
    first = client.get("/lapor")
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    again = client.get("/lapor", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["content-security-policy"]  # headers still apply
    client.cookies.set("lang", "en")  # another language is another version
    assert client.get("/lapor", headers={"If-None-Match": etag}).status_code == 200


def test_private_pages_get_no_etag(client: TestClient) -> None:
    response = client.post(
        "/lapor",
        data={
            "category": "jalan",
            "area": "31.71.01.1001",
            "description": "Jalan berlubang di depan sekolah.",
        },
        follow_redirects=False,
    )
    receipt = client.get(response.headers["location"])
    assert receipt.status_code == 200 and "etag" not in receipt.headers
    assert "etag" not in client.get("/healthz").headers  # JSON, not a page


def test_only_create_app_puts_anything_on_the_app_state() -> None:
    """State made when the app is made, not attached by a handler on first use: every app
    (a second one in the same process, each test's) starts from the same place."""
    assigned = re.compile(r"\bapp\.state\.\w+\s*=(?!=)|setattr\([^)]*\bstate\b")
    found = [
        f"{path.relative_to(WEB)}:{number}"
        for path in sorted(WEB.rglob("*.py"))
        if path != WEB / "app.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if assigned.search(line)
    ]
    assert found == []
