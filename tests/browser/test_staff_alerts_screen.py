"""The supervisors' list of staff alerts that went unanswered, on a 320 px phone in real
Chromium: it reads without sideways scrolling, in Indonesian and in English."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from db import alerts as alert_db
from db.database import Database
from tests.helpers import GAMBIR, PASSWORD, add_account, add_report, run_async
from tests.test_push_subscriptions import subscription
from web.clock import from_text, to_text, utc_now
from web.lifecycle.alerts import deadline_alerts
from web.settings import Settings

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"


def an_unanswered_alert(settings: Settings) -> None:
    officer = add_account(settings, "petugas-kelurahan-gambir-dengan-nama-panjang", areas=[GAMBIR])
    add_report(settings, GAMBIR, now=utc_now() - timedelta(hours=30))

    async def alert() -> None:
        async with Database(settings.database) as db:
            async with db.write() as conn:
                sub = subscription()
                await alert_db.subscribe(
                    conn,
                    officer,
                    session_hash="x",
                    endpoint=sub["endpoint"],
                    p256dh=sub["keys"]["p256dh"],
                    auth=sub["keys"]["auth"],
                    language="id",
                    now=to_text(utc_now()),
                )
            due = await db.fetchone("SELECT response_due_at FROM reports")
            await deadline_alerts(db, now=from_text(due["response_due_at"]))

    run_async(alert())


def test_the_unanswered_alerts_read_on_a_320_px_phone(live_server: Any, browser: Any) -> None:
    settings = live_server.settings
    an_unanswered_alert(settings)
    add_account(settings, "spv", "supervisor")
    context = browser.new_context(
        viewport={"width": 320, "height": 640}, device_scale_factor=2, is_mobile=True
    )
    try:
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(f"{live_server.url}/staf/terlambat")
        page.get_by_label("Nama pengguna").fill("spv")
        page.get_by_label("Kata sandi").fill(PASSWORD)
        page.get_by_role("button", name="Masuk").click()
        page.wait_for_url("**/staf/terlambat")
        for language, heading in (
            ("id", "Pemberitahuan yang tidak ditanggapi"),
            ("en", "Alerts nobody answered"),
        ):
            if language == "en":
                context.add_cookies([{"name": "lang", "value": "en", "url": live_server.url}])
                page.reload()
            section = page.locator("section[aria-labelledby=pemberitahuan]")
            assert heading in section.inner_text()
            assert section.locator("li.case-card").count() == 1  # the overdue alert
            section.scroll_into_view_if_needed()
            overflow = page.evaluate(
                "document.scrollingElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"scrolls sideways by {overflow}px at 320px ({language})"
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(
                path=str(ARTIFACTS / f"unanswered-alerts-{language}-320.png"), full_page=True
            )
        assert problems == []
    finally:
        context.close()
