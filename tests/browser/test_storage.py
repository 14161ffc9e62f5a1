"""A server that cannot store photos (full or read-only disk) answers 503 with Retry-After;
the phone's outbox keeps the report and sends it once the disk takes writes again."""

from __future__ import annotations

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
    uploads,
    wait_until,
)
from tests.mounts import tmpfs

pytestmark = pytest.mark.browser


def test_a_report_refused_for_lack_of_storage_waits_on_the_phone_and_goes_through_later(
    live_server: LiveServer, context: Any, tmp_path: Path
) -> None:
    # The page's clock runs as usual but can be moved on: the 503's Retry-After is minutes.
    context.clock.install()
    page = open_controlled(context, live_server)
    photo = phone_photo(tmp_path, size=(1200, 900))
    with tmpfs(live_server.settings.photo_dir, readonly=True):
        fill_report(page, "Lampu jalan mati sejak seminggu di gang kami.", photo)
        submit(page)
        wait_until(page, lambda: len(uploads(live_server)) >= 1, what="the first attempt")
        page.locator("#outbox").get_by_text("Menunggu sinyal").wait_for()
        assert uploads(live_server)[0].status == 503
        assert page.evaluate(OUTBOX_STATES) == ["waiting"]
        assert live_server.report_count() == 0
    # The disk takes writes again; once the Retry-After has passed on the phone, the
    # outbox's own retry delivers the report, once.
    page.clock.fast_forward("03:00")
    page.locator("#outbox").get_by_text("Terkirim", exact=True).wait_for(timeout=30_000)
    assert [hit.status for hit in uploads(live_server)][-1] == 201
    assert live_server.report_count() == 1
    assert page.evaluate(OUTBOX_STATES) == []
