"""The inbox: cases in scope by next deadline, overdue marked, filters, search, counts,
keyset pages, and the list fragment at its own URL for htmx."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from tests.helpers import CIDENG, GAMBIR, add_account, add_report, apply, login, rows
from web.clock import utc_now
from web.settings import Settings

CODE_LINK = re.compile(r'<a class="case-code" href="/staf/laporan/([0-9A-Z]{8})"')


def listed(html: str) -> list[str]:
    return CODE_LINK.findall(html)


@pytest.fixture
def admin(client: TestClient, settings: Settings) -> TestClient:
    add_account(settings, "admin", "admin")
    login(client, "admin")
    return client


def walk_in(settings: Settings, hours_ago: float, area: str = GAMBIR, **fields: object) -> str:
    """A staff-channel report timed from `hours_ago`, so its deadline is that much earlier."""
    return add_report(
        settings,
        area,
        channel="walk_in",
        written_at=utc_now() - timedelta(hours=hours_ago),
        **fields,  # type: ignore[arg-type]
    )


def test_reports_come_in_order_of_their_next_deadline_closed_ones_last(
    admin: TestClient, settings: Settings
) -> None:
    fresh = walk_in(settings, 1)
    older = walk_in(settings, 5)
    oldest = walk_in(settings, 30)  # 24-hour response deadline already passed
    done = walk_in(settings, 50)
    apply(settings, done, "resolve", public_note="Selesai")
    page = admin.get("/staf", params={"status": "semua"}).text
    assert listed(page) == [oldest, older, fresh, done]
    assert listed(admin.get("/staf").text) == [oldest, older, fresh]  # open cases by default


def test_overdue_reports_are_marked_in_words_not_only_colour(
    admin: TestClient, settings: Settings
) -> None:
    late = walk_in(settings, 30)
    on_time = walk_in(settings, 1)
    page = admin.get("/staf").text
    cards = re.findall(
        r'<li class="case-card( is-late)?">\s*<p class="case-head">\s*'
        r'<a class="case-code" href="/staf/laporan/([0-9A-Z]{8})"',
        page,
    )
    assert cards == [(" is-late", late), ("", on_time)]
    assert '<strong class="overdue">Terlambat</strong>' in page
    only_late = admin.get("/staf", params={"terlambat": "1"}).text
    assert listed(only_late) == [late]


def test_filters_narrow_the_list(admin: TestClient, settings: Settings) -> None:
    sampah = walk_in(settings, 1, category="sampah")
    jalan = walk_in(settings, 2, category="jalan")
    cideng = walk_in(settings, 3, area=CIDENG)
    phone = add_report(settings, GAMBIR, channel="phone", written_at=utc_now())
    verified = walk_in(settings, 4)
    apply(settings, verified, "verify")
    assert set(listed(admin.get("/staf", params={"category": "jalan"}).text)) == {jalan}
    assert set(listed(admin.get("/staf", params={"kelurahan": CIDENG}).text)) == {cideng}
    assert set(listed(admin.get("/staf", params={"channel": "phone"}).text)) == {phone}
    assert set(listed(admin.get("/staf", params={"status": "verified"}).text)) == {verified}
    both = admin.get("/staf", params={"category": "sampah", "kelurahan": GAMBIR}).text
    assert sampah in listed(both) and jalan not in listed(both) and cideng not in listed(both)


def test_search_finds_a_tracking_code_however_it_is_typed(
    admin: TestClient, settings: Settings
) -> None:
    target = walk_in(settings, 1)
    walk_in(settings, 2)
    typed = f"{target[:4].lower()}-{target[4:].lower()}".replace("0", "o")
    assert listed(admin.get("/staf", params={"q": typed, "status": "semua"}).text) == [target]


def test_search_finds_words_in_the_description_or_address(
    admin: TestClient, settings: Settings
) -> None:
    drain = walk_in(settings, 1, description="Got mampet di belakang musala, air meluap.")
    walk_in(settings, 2, description="Lampu jalan mati tiga tiang.")
    assert listed(admin.get("/staf", params={"q": "musala"}).text) == [drain]
    assert listed(admin.get("/staf", params={"q": "100%_"}).text) == []


def test_search_matches_any_part_of_a_word_in_either_case(
    admin: TestClient, settings: Settings
) -> None:
    """Substring semantics on both backends (FTS5 trigram, pg_trgm): "lubang" finds
    "berlubang"; one or two characters fall back to a plain scan with the same meaning."""
    hole = walk_in(settings, 1, description="Jalan BERLUBANG dalam di depan sekolah.")
    drain = walk_in(
        settings, 2, description="Got mampet, air meluap.", address="Gg. Kelor 5 depan Musala"
    )
    lamp = walk_in(settings, 3, description='Lampu "PJU" mati 100% sejak_kemarin.')

    def found(q: str) -> set[str]:
        return set(listed(admin.get("/staf", params={"q": q, "status": "semua"}).text))

    assert found("lubang") == found("Lubang") == {hole}
    assert found("ang dal") == {hole}  # across a space, as typed
    assert found("musala") == {drain}  # in the address
    assert found("kelor 5") == {drain}
    assert found('"pju"') == found("PJU") == {lamp}  # quotes are text, not syntax
    assert found("100%") == found("k_") == {lamp}  # wildcards are text too
    assert found("ep") == {hole, drain}  # "depan", "mampet": two characters, scanned
    assert found("q") == set()
    assert found("lubangan") == found("zzzz") == set()


def test_counts_per_status_follow_the_scope(client: TestClient, settings: Settings) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    for _ in range(3):
        walk_in(settings, 1)
    verified = walk_in(settings, 1)
    apply(settings, verified, "verify")
    walk_in(settings, 1, area=CIDENG)
    login(client, "gambir1")
    page = client.get("/staf").text
    assert re.search(r"Diterima <strong>3</strong>", page)
    assert re.search(r"Diverifikasi <strong>1</strong>", page)


def test_keyset_pages_cover_every_report_once_in_order(
    admin: TestClient, settings: Settings
) -> None:
    codes = [walk_in(settings, hours) for hours in range(1, 31)]
    for code in codes[:4]:
        apply(settings, code, "resolve", public_note="Selesai")  # no deadline any more
    expected = [
        r["code"]
        for r in rows(
            settings,
            "SELECT code FROM reports ORDER BY next_due_at IS NULL, next_due_at, id",
        )
    ]
    seen: list[str] = []
    url = "/staf?status=semua"
    pages = 0
    while url:
        page = admin.get(url).text
        seen += listed(page)
        pages += 1
        next_link = re.search(r'rel="next" href="([^"]+)"', page)
        url = next_link[1].replace("&amp;", "&") if next_link else ""
        assert "OFFSET" not in url
    assert seen == expected and pages == 2


def test_a_cursor_in_the_middle_of_equal_deadlines_loses_nothing(
    admin: TestClient, settings: Settings
) -> None:
    moment = utc_now() - timedelta(hours=2)
    same = [
        add_report(settings, GAMBIR, channel="walk_in", written_at=moment, now=utc_now())
        for _ in range(27)
    ]
    first = admin.get("/staf").text
    second_url = re.search(r'rel="next" href="([^"]+)"', first)[1].replace("&amp;", "&")
    second = admin.get(second_url).text
    assert sorted(listed(first) + listed(second)) == sorted(same)
    assert len(set(listed(first)) & set(listed(second))) == 0


def test_a_broken_cursor_is_refused_with_a_link_to_the_first_page(
    admin: TestClient, settings: Settings
) -> None:
    walk_in(settings, 1)
    for cursor in ("garbage", "2026-01-01_x", "_", "'; DROP TABLE reports;--_1"):
        page = admin.get("/staf", params={"after": cursor})
        assert page.status_code == 400
        assert 'href="/staf"' in page.text and "Ke halaman pertama" in page.text


def test_the_list_has_its_own_url_that_returns_only_the_fragment(
    admin: TestClient, settings: Settings
) -> None:
    code = walk_in(settings, 1)
    fragment = admin.get("/staf/inbox-rows")
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section id="inbox"')
    assert "<html" not in fragment.text and 'id="saring"' not in fragment.text
    assert code in fragment.text
    page = admin.get("/staf").text
    assert "<html" in page and 'id="saring"' in page and 'id="inbox"' in page


def test_the_filter_form_works_as_a_plain_get_and_through_htmx(
    admin: TestClient, settings: Settings
) -> None:
    page = admin.get("/staf").text
    form = re.search(r'<form id="saring"[^>]*>', page, re.S)[0]
    assert 'method="get" action="/staf"' in form
    assert 'hx-get="/staf/inbox-rows?push=1"' in form and 'hx-target="#inbox"' in form
    swapped = admin.get("/staf/inbox-rows", params={"push": "1", "category": "jalan", "q": ""})
    assert swapped.headers["hx-push-url"] == "/staf?category=jalan"
    polled = admin.get("/staf/inbox-rows", params={"category": "jalan"})
    assert "hx-push-url" not in polled.headers


def test_the_list_polls_for_new_reports_once_a_minute(
    admin: TestClient, settings: Settings
) -> None:
    walk_in(settings, 1)
    fragment = admin.get("/staf/inbox-rows", params={"category": "sampah"}).text
    container = re.search(r'<section id="inbox"[^>]*>', fragment, re.S)[0]
    assert 'hx-trigger="every 60s"' in container
    assert 'hx-get="/staf/inbox-rows?category=sampah"' in container
    new = walk_in(settings, 2)
    assert new in admin.get("/staf/inbox-rows", params={"category": "sampah"}).text


def test_paging_links_work_with_and_without_javascript(
    admin: TestClient, settings: Settings
) -> None:
    for hours in range(1, 28):
        walk_in(settings, hours)
    page = admin.get("/staf").text
    link = re.search(r'<a class="button primary" rel="next"[^>]*>', page)[0]
    href = re.search(r'href="([^"]+)"', link)[1]
    hx_get = re.search(r'hx-get="([^"]+)"', link)[1]
    push = re.search(r'hx-push-url="([^"]+)"', link)[1]
    assert href.startswith("/staf?") and push == href
    assert hx_get == href.replace("/staf?", "/staf/inbox-rows?")
