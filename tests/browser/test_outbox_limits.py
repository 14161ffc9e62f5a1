"""The outbox and the server's limits, in real Chromium: a 429 (too many reports) keeps the
report queued until the Retry-After has passed, and the phone's own device secret makes a
replay of its lost answer bring back the private link."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import LiveServer
from tests.browser.test_offline import (
    OUTBOX_STATES,
    fill_report,
    open_controlled,
    phone_photo,
    submit,
    wait_until,
)

pytestmark = pytest.mark.browser

RETRY_AFTER = 8


def test_a_429_keeps_the_report_queued_until_retry_after_and_it_goes_out_once(
    live_server: LiveServer, context: Any, tmp_path: Path
) -> None:
    page = open_controlled(context, live_server)
    attempts: list[float] = []

    def too_many_at_first(route: Any) -> None:
        attempts.append(time.monotonic())
        if len(attempts) > 1:
            route.continue_()
            return
        route.fulfill(
            status=429,
            headers={"Retry-After": str(RETRY_AFTER), "Content-Type": "application/json"},
            body='{"message": "Terlalu banyak laporan dikirim dari sambungan ini.", "errors": {}}',
        )

    page.route("**/api/v1/reports", too_many_at_first)
    fill_report(
        page, "Got mampet di depan sekolah, air meluap.", phone_photo(tmp_path, size=(800, 600))
    )
    submit(page)
    wait_until(page, lambda: len(attempts) >= 1, what="the first attempt")
    wait_until(page, lambda: page.evaluate(OUTBOX_STATES) == ["waiting"], what="waiting again")
    assert "Perlu diperbaiki" not in page.locator("#outbox").inner_text()
    # "Kirim sekarang" and the page's own timer (5 s) do not send before Retry-After.
    page.locator("#outbox button", has_text="Kirim sekarang").click()
    page.wait_for_timeout(6000)
    assert len(attempts) == 1 and live_server.report_count() == 0
    assert page.evaluate(OUTBOX_STATES) == ["waiting"]

    page.locator("#outbox").get_by_text("Terkirim", exact=True).wait_for(timeout=30_000)
    assert len(attempts) == 2 and attempts[1] - attempts[0] >= RETRY_AFTER
    assert live_server.report_count() == 1
    assert page.evaluate(OUTBOX_STATES) == []


def test_a_lost_answer_is_replayed_with_the_phones_device_secret_and_keeps_its_links(
    live_server: LiveServer, context: Any
) -> None:
    page = open_controlled(context, live_server)
    devices: list[str] = []

    def lose_the_first_answer(route: Any) -> None:
        devices.append(route.request.headers.get("x-aduan-device", ""))
        if len(devices) > 1:
            route.continue_()
            return
        route.fetch()  # the server files the report, but the phone never hears back
        route.abort("connectionreset")

    page.route("**/api/v1/reports", lose_the_first_answer)
    fill_report(page, "Lampu penerangan jalan mati di ujung gang.")
    submit(page)
    page.locator("#outbox").get_by_text("Terkirim", exact=True).wait_for(timeout=30_000)
    assert live_server.report_count() == 1
    assert len(devices) == 2 and devices[0] == devices[1]
    assert re.fullmatch(r"[0-9a-f]{64}", devices[0])
    code = live_server.rows("SELECT code FROM reports")[0]["code"]
    private = page.locator(f"#outbox a[href^='/t/{code}/p/']")
    assert private.count() == 1  # the replay's answer carried the private link
    # The secret is the phone's own: the same after a reload, kept in IndexedDB.
    page.reload()
    assert page.evaluate("() => self.AduanOutbox.deviceSecret()") == devices[0]
