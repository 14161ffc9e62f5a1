"""Out-of-range numbers, dates and cursors: every one gets a clear 4xx answer, never a 500.

`str.isdigit()` accepts "²" (which `int()` refuses), unbounded integers overflow SQLite's
64 bits, `int()` refuses more than 4,300 digits, and date arithmetic overflows at the ends of
the calendar. Each test below was a 500 before web/params.py.
"""

from __future__ import annotations

import re
import uuid

import pytest
from starlette.testclient import TestClient

from tests.backend import query, set_operator_environment
from tests.helpers import GAMBIR, act, add_account, add_report, csrf_of, login, post_scope
from tests.test_cli import run_cli
from tests.test_deadlines import targets_form
from tests.test_open311 import BASE, FORMATS, assert_errors
from tests.test_tracking import file_report
from web.settings import Settings

HUGE = "99999999999999999999"
VALID_FORM = {
    "category": "sampah",
    "area": GAMBIR,
    "description": "Sampah menumpuk empat hari di TPS samping masjid.",
}


def rows(settings: Settings, sql: str, params: tuple[object, ...] = ()) -> list[tuple]:
    return [r.astuple() for r in query(settings, sql, params)]


def logged_in_admin(client: TestClient, settings: Settings) -> int:
    user_id = add_account(settings, "admin1", "admin")
    assert login(client, "admin1").status_code == 303
    return user_id


# --- Open311 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("query", "named"),
    [
        (f"page={HUGE}", "page"),
        ("page=²", "page"),
        ("page_size=" + "9" * 5000, "page_size"),
        ("start_date=9999-12-31T00:00:00", "start_date"),
        ("end_date=0001-01-02T00:00:00", "end_date"),
        ("start_date=0001-01-01T00:00:00%2B14:00", "start_date"),
        ("service_code=" + ",".join(["jalan"] * 500), "service_code"),
    ],
)
def test_open311_out_of_range_parameters_get_the_standard_400(
    client: TestClient, fmt: str, query: str, named: str
) -> None:
    response = client.get(f"{BASE}/requests.{fmt}?{query}")
    assert_errors(response, fmt, 400)
    assert named in response.text


def test_open311_pages_within_range_still_work(client: TestClient) -> None:
    response = client.get(f"{BASE}/requests.json?page=1000000&page_size=1000")
    assert response.status_code == 200 and response.json() == []
    response = client.get(f"{BASE}/requests.json?start_date=2100-12-31T00:00:00")
    assert response.status_code == 200


# --- the phone's written_at ----------------------------------------------------------------


@pytest.mark.parametrize(
    "written_at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "1969-12-31T23:59Z"]
)
def test_a_written_at_outside_the_calendar_is_ignored_on_the_form(
    client: TestClient, settings: Settings, written_at: str
) -> None:
    response = client.post(
        "/lapor", data={**VALID_FORM, "written_at": written_at}, follow_redirects=False
    )
    assert response.status_code == 303
    assert rows(settings, "SELECT written_at FROM reports") == [(None,)]


def test_a_written_at_outside_the_calendar_is_ignored_by_the_outbox_api(
    client: TestClient, settings: Settings
) -> None:
    response = client.post(
        "/api/v1/reports",
        data={**VALID_FORM, "written_at": "0001-01-01T00:00:00+14:00"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201
    assert rows(settings, "SELECT written_at FROM reports") == [(None,)]


# --- the resident's rating ---------------------------------------------------------------------


@pytest.mark.parametrize("rating", ["²", HUGE, "9" * 5000, "0", "-1", "٣"])
def test_an_unreadable_rating_is_refused_with_the_note_kept(
    client: TestClient, settings: Settings, rating: str
) -> None:
    code, token = file_report(client)
    from tests.test_tracking import act as resolve

    resolve(settings, code, "resolve", public_note="Sudah diangkut.")
    response = client.post(
        f"/t/{code}/p/{token}/jawab",
        data={"fixed": "ya", "rating": rating, "note": "Terima kasih petugas"},
    )
    assert response.status_code == 422
    assert "Pilih nilai 1 sampai 5." in response.text
    assert "Terima kasih petugas" in response.text
    assert rows(settings, "SELECT status, rating FROM reports") == [("resolved", None)]


# --- the staff dashboard, the overdue list and the inbox ---------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "periode=rentang&dari=9999-12-30&sampai=9999-12-31",
        "periode=rentang&dari=0001-01-01&sampai=0001-01-02",
        "periode=bulan&bulan=0001-01",
        "periode=bulan&bulan=9999-12",
        "periode=bulan&bulan=²⁰²⁶-0³",
        "periode=triwulan&triwulan=0001-Q1",
        "periode=triwulan&triwulan=9999-Q4",
        "periode=triwulan&triwulan=2026-Q³",
        f"periode=bulan&bulan={HUGE}-01",
    ],
)
def test_a_dashboard_period_outside_the_calendar_is_explained(
    client: TestClient, settings: Settings, query: str
) -> None:
    add_account(settings, "spv", "supervisor")
    login(client, "spv")
    page = client.get(f"/staf/dasbor?{query}")
    assert page.status_code == 200
    assert "ditampilkan bulan ini" in page.text
    assert client.get(f"/staf/dasbor.csv?{query}").status_code == 200


@pytest.mark.parametrize(
    "cursor", [f"2026-03-01T00:00:00Z_{HUGE}", "_²", "2026-03-01T00:00:00Z_" + "9" * 5000]
)
def test_an_unreadable_overdue_list_cursor_is_a_400_with_a_way_back(
    client: TestClient, settings: Settings, cursor: str
) -> None:
    add_account(settings, "spv", "supervisor")
    login(client, "spv")
    page = client.get("/staf/terlambat", params={"setelah": cursor})
    assert page.status_code == 400
    assert "Alamat halaman ini tidak terbaca" in page.text
    assert 'href="/staf/terlambat"' in page.text


@pytest.mark.parametrize(
    "cursor", ["_²", f"_{HUGE}", "٢٠٢٦-٠٣-٠١T٠٠:٠٠:٠٠Z_1", "9999-99-99T99:99:99Z_1"]
)
def test_an_unreadable_inbox_cursor_is_a_400_with_a_way_back(
    client: TestClient, settings: Settings, cursor: str
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "gambir1")
    for path in ("/staf", "/staf/inbox-rows"):
        page = client.get(path, params={"after": cursor})
        assert page.status_code == 400, path
        assert "Alamat halaman ini tidak terbaca" in page.text


def test_a_cursor_the_inbox_made_still_pages(client: TestClient, settings: Settings) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    for _ in range(27):
        add_report(settings)
    login(client, "gambir1")
    first = client.get("/staf").text
    link = re.search(r'href="/staf\?after=([^"&]+)"', first)
    assert link, "no next-page link"
    assert client.get(f"/staf?after={link[1]}").status_code == 200


# --- account pages and case actions ------------------------------------------------------------


@pytest.mark.parametrize("user_id", ["²", HUGE, "9" * 5000, "٣"])
def test_an_account_id_that_is_not_one_is_a_404(
    client: TestClient, settings: Settings, user_id: str
) -> None:
    logged_in_admin(client, settings)
    assert client.get(f"/staf/admin/akun/{user_id}").status_code == 404
    response = client.post(
        f"/staf/admin/akun/{user_id}/nonaktif", data={"csrf_token": csrf_of(client)}
    )
    assert response.status_code == 404


@pytest.mark.parametrize("version", ["²", "9" * 5000, HUGE, "٣"])
def test_an_unreadable_report_version_is_answered_as_changed_meanwhile(
    client: TestClient, settings: Settings, version: str
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    code = add_report(settings)
    login(client, "gambir1")
    page = client.get(f"/staf/laporan/{code}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
    response = client.post(
        f"/staf/laporan/{code}/verify",
        data={"csrf_token": token, "version": version, "public_note": "Sudah dicek"},
    )
    assert response.status_code == 409
    assert "baru saja diubah petugas lain" in response.text
    assert "Sudah dicek" in response.text
    assert rows(settings, "SELECT status FROM reports") == [("received",)]
    assert act(client, code, "verify").status_code == 303


# --- API key rate ------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", ["³", HUGE, "9" * 4000, "٣", "0"])
def test_an_unreadable_api_key_rate_is_refused_with_the_form_kept(
    client: TestClient, settings: Settings, rate: str
) -> None:
    logged_in_admin(client, settings)
    token = csrf_of(client)
    response = client.post(
        "/staf/admin/api", data={"csrf_token": token, "name": "JAKI", "rate_per_minute": rate}
    )
    assert response.status_code == 422
    assert "Isi angka 1 sampai 10000." in response.text
    assert 'value="JAKI"' in response.text
    assert rows(settings, "SELECT COUNT(*) FROM api_keys") == [(0,)]


@pytest.mark.parametrize("rate", ["٣", "³"])
def test_the_console_refuses_a_rate_that_is_not_plain_digits(
    settings: Settings, rate: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_operator_environment(settings, monkeypatch)
    done = run_cli("apikey", "add", "JAKI", "--rate-per-minute", rate, data_dir=settings.data_dir)
    assert done.returncode == 2
    assert "between 1 and 10000" in done.stderr and "Traceback" not in done.stderr
    assert rows(settings, "SELECT COUNT(*) FROM api_keys") == [(0,)]


# --- deadline targets and holidays ------------------------------------------------------------


@pytest.mark.parametrize("amount", ["9" * 5000, "²", HUGE])
def test_an_unreadable_deadline_target_is_refused_with_the_form_kept(
    client: TestClient, settings: Settings, amount: str
) -> None:
    logged_in_admin(client, settings)
    form = targets_form(client, response_amount=amount)
    response = client.post("/staf/admin/tenggat/sampah", data=form)
    assert response.status_code == 422
    assert "Isi angka 1 sampai 720." in response.text


@pytest.mark.parametrize("day", ["٢٠٢٦-١٢-٢٥", "9999-12-31", "2026-W52-5"])
def test_a_holiday_day_outside_the_calendar_is_not_found(
    client: TestClient, settings: Settings, day: str
) -> None:
    logged_in_admin(client, settings)
    token = csrf_of(client)
    response = client.post(f"/staf/admin/libur/{day}/hapus", data={"csrf_token": token})
    assert response.status_code == 404
    response = client.post("/staf/admin/libur", data={"csrf_token": token, "day": day, "name": "X"})
    assert response.status_code == 422 and "Isi tanggal, contoh 2026-12-25." in response.text


# --- Content-Length headers no HTTP parser checked -----------------------------------------------


def asgi_post(client: TestClient, path: str, content_length: bytes, body: bytes) -> int:
    """POST straight to the ASGI app with a Content-Length that no HTTP client would send
    (a server in front may pass it on unchecked). Returns the status sent."""
    form = b"application/x-www-form-urlencoded"
    scope = post_scope(client, path, [(b"content-type", form), (b"content-length", content_length)])
    sent: list[dict] = []

    async def call() -> None:
        chunks = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict:
            return chunks.pop(0) if chunks else {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            sent.append(message)

        await client.app(scope, receive, send)

    client.portal.call(call)
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


@pytest.mark.parametrize("length", ["²".encode("latin-1"), b"9" * 5000])
@pytest.mark.parametrize("path", ["/lapor", f"{BASE}/requests.json"])
def test_a_content_length_of_odd_digits_is_not_a_server_error(
    client: TestClient, length: bytes, path: str
) -> None:
    status = asgi_post(client, path, length, b"description=x")
    assert status < 500
    if length.isdigit():
        assert status == 413 or (path.startswith(BASE) and status == 400)


@pytest.mark.parametrize("key_id", ["9" * 5000, HUGE, "²"])
def test_revoking_an_api_key_id_that_is_not_one_is_a_404(
    client: TestClient, settings: Settings, key_id: str
) -> None:
    logged_in_admin(client, settings)
    response = client.post(f"/staf/admin/api/{key_id}/cabut", data={"csrf_token": csrf_of(client)})
    assert response.status_code == 404
