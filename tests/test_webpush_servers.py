"""Two `aduan serve` processes on one database, each running its delivery loop, and one of
them stopped mid-send and started again: every push reaches the (local) push service
exactly once, and none is left waiting for a lease to run out."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx2 as httpx
import pytest
from test_push_subscriptions import push_url

from tests.backend import query
from tests.helpers import add_report, apply
from tests.push_service import Browser, PushService, push_service
from tests.test_serve import running_server
from tests.test_two_servers import from_client, operator_env, url
from web.settings import Settings

BROWSERS = 8


@pytest.fixture
def service() -> Iterator[PushService]:
    with push_service() as running:
        yield running


def test_two_servers_and_a_restarted_one_send_each_push_exactly_once(
    settings: Settings, tmp_path: Path, service: PushService
) -> None:
    # Each push takes the service a second: the first server is stopped while sending.
    service.delay = 1.0
    env = {**operator_env(settings), "ADUAN_NO_TASKS": None, "ADUAN_PUSH_HOSTS": service.setting}
    code = add_report(settings)
    browsers = {f"/push/{n}": Browser.new(service.url(f"/push/{n}")) for n in range(BROWSERS)}

    with ExitStack() as first:
        a = first.enter_context(running_server(settings.data_dir, tmp_path / "a.log", env=env))
        for n, browser in enumerate(browsers.values()):
            answer = httpx.post(
                url(a, push_url(code)), json=browser.subscription(), headers=from_client(n)
            )
            assert answer.status_code == 201, answer.text
        apply(settings, code, "verify", public_note="Sudah kami cek di lokasi.")
        service.wait_for(1)
        took = a.stop()
    # It finished the pushes in hand before it stopped, and wrote down that they were sent.
    assert took < 15, a.log
    sent = query(settings, "SELECT state, attempts FROM messages")
    assert [tuple(row) for row in sent] == [("sent", 1)] * BROWSERS, a.log
    assert len(service.received) == BROWSERS

    with ExitStack() as both:
        servers = [
            both.enter_context(running_server(settings.data_dir, tmp_path / f"{n}.log", env=env))
            for n in ("a-again", "b")
        ]
        apply(settings, code, "dispatch", agency_code="DLH", public_note="Diteruskan ke DLH.")
        apply(settings, code, "resolve", public_note="Sampah sudah diangkut.")
        service.wait_for(3 * BROWSERS, timeout=60)
        time.sleep(3)  # time for a second copy to arrive, if either server sent one
        logs = [server.log for server in servers]

    steps = Counter(
        (push.path, browsers[push.path].read(push)["step"]) for push in service.received
    )
    expected = {(path, step) for path in browsers for step in ("verify", "dispatch", "resolve")}
    assert set(steps) == expected, logs
    assert set(steps.values()) == {1}, logs
    stored = query(settings, "SELECT state, attempts FROM messages")
    assert [tuple(row) for row in stored] == [("sent", 1)] * 3 * BROWSERS
    assert not any("Traceback" in log for log in logs), logs
