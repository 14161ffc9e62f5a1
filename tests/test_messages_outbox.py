"""The durable outbox of messages: every public step of a report enqueues one push message
per subscription following it, in the step's own transaction; internal notes enqueue
none; a step replayed or enqueued again adds nothing; senders take each due message once
and retry it with backoff."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from starlette.testclient import TestClient
from test_push_subscriptions import push_url, subscription, unsubscribe

from db import messages
from db.database import Database
from tests.backend import query, scalar
from tests.helpers import GAMBIR, act, add_account, add_report, apply, login, run_async
from web import lifecycle, outbox
from web.clock import to_text, utc_now
from web.settings import Settings


def outbox_rows(settings: Settings) -> list[tuple[str, str, str, str, str, int]]:
    """(report code, event kind, channel, recipient, state, attempts) of every message."""
    found = query(
        settings,
        "SELECT r.code, e.kind, m.channel, m.recipient, m.state, m.attempts FROM messages m"
        " JOIN reports r ON r.id = m.report_id JOIN report_events e ON e.id = m.event_id"
        " ORDER BY m.id",
    )
    return [tuple(row) for row in found]  # type: ignore[misc]


def count(settings: Settings) -> int:
    return int(scalar(settings, "SELECT COUNT(*) FROM messages"))


def officer(client: TestClient, settings: Settings) -> TestClient:
    add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "gambir1")
    return client


def test_each_public_step_enqueues_one_push_per_subscription(
    client: TestClient, settings: Settings
) -> None:
    code, other = add_report(settings), add_report(settings)
    phone, laptop, elsewhere = subscription("phone"), subscription("laptop"), subscription("x")
    for sub in (phone, laptop):
        assert client.post(push_url(code), json=sub).status_code == 201
    assert client.post(push_url(other), json=elsewhere).status_code == 201
    officer(client, settings)
    steps = [
        ("verify", {"public_note": "Sudah kami cek di lokasi."}),
        ("progress", {"public_note": "Petugas sudah di lokasi."}),
        ("resolve", {"public_note": "Sampah sudah diangkut."}),
    ]
    for kind, form in steps:
        assert act(client, code, kind, form).status_code == 303
    expected = [
        (code, kind, "push", sub["endpoint"], "pending", 0)
        for kind, _form in steps
        for sub in (phone, laptop)
    ]
    assert sorted(outbox_rows(settings)) == sorted(expected)
    # Due at once, nothing failed yet.
    row = query(settings, "SELECT next_attempt_at, created_at, last_error FROM messages")[0]
    assert row[0] == row[1] and row[2] == ""


def test_an_internal_note_enqueues_nothing_and_a_public_note_one(
    client: TestClient, settings: Settings
) -> None:
    code = add_report(settings)
    sub = subscription()
    client.post(push_url(code), json=sub)
    officer(client, settings)
    assert (
        act(client, code, "note", {"internal_note": "Warga minta dihubungi sore."}).status_code
        == 303
    )
    assert act(client, code, "recategorise", {"category_code": "jalan"}).status_code == 303
    assert count(settings) == 0
    assert act(client, code, "note", {"public_note": "Kami jadwalkan besok."}).status_code == 303
    assert outbox_rows(settings) == [(code, "note", "push", sub["endpoint"], "pending", 0)]


def test_a_replayed_step_adds_no_message(client: TestClient, settings: Settings) -> None:
    code = add_report(settings)
    client.post(push_url(code), json=subscription())
    officer(client, settings)
    form = {"public_note": "Sudah kami cek di lokasi."}
    # The same form sent twice (a double tap, a resent request): the second is refused.
    assert act(client, code, "verify", form, version=1).status_code == 303
    assert act(client, code, "verify", form, version=1).status_code == 409
    assert count(settings) == 1

    async def enqueue_again() -> int:
        event_id = scalar(settings, "SELECT event_id FROM messages")
        report_id = scalar(settings, "SELECT report_id FROM messages")
        async with Database(settings.database) as db, db.write() as conn:
            return await messages.enqueue_push(conn, report_id, event_id, now=to_text(utc_now()))

    # Another server or a retry enqueueing the same step again: the unique index holds.
    assert run_async(enqueue_again()) == 0
    assert count(settings) == 1


def test_a_refused_step_enqueues_nothing(client: TestClient, settings: Settings) -> None:
    code = add_report(settings)
    client.post(push_url(code), json=subscription())
    officer(client, settings)
    assert act(client, code, "resolve", {"public_note": "  "}).status_code == 422
    assert count(settings) == 0


def test_a_browser_that_stopped_following_gets_no_later_step(
    client: TestClient, settings: Settings
) -> None:
    code = add_report(settings)
    sub = subscription()
    client.post(push_url(code), json=sub)
    apply(settings, code, "verify")
    unsubscribe(client, code, sub["endpoint"])
    apply(settings, code, "progress", public_note="Mulai")
    assert [row[1] for row in outbox_rows(settings)] == ["verify"]


def test_the_residents_own_answer_and_the_automatic_close_are_public_steps_too(
    client: TestClient, settings: Settings
) -> None:
    reopened, closed = add_report(settings), add_report(settings)
    for code in (reopened, closed):
        client.post(push_url(code), json=subscription(code))
        apply(settings, code, "resolve", public_note="Selesai")
    later = utc_now() + timedelta(days=30)

    async def answer_and_close() -> None:
        async with Database(settings.database) as db:
            await lifecycle.resident_answer(db, reopened, fixed=False, note="Masih bocor.")
            await lifecycle.close_unanswered(db, workdays=5, now=later)

    asyncio.run(answer_and_close())
    kinds = sorted((row[0], row[1]) for row in outbox_rows(settings))
    assert kinds == sorted(
        [(reopened, "resolve"), (reopened, "reopened"), (closed, "resolve"), (closed, "closed")]
    )


def test_senders_take_each_due_message_once_and_retry_it_with_backoff(
    client: TestClient, settings: Settings
) -> None:
    code = add_report(settings)
    client.post(push_url(code), json=subscription("a"))
    client.post(push_url(code), json=subscription("b"))
    apply(settings, code, "verify")
    now = utc_now()
    lease = to_text(now + outbox.LEASE)

    async def scenario() -> None:
        async with Database(settings.database) as one, Database(settings.database) as two:

            async def claim(db: Database, at: str = to_text(now)) -> list[int]:
                async with db.write() as conn:
                    taken = await messages.claim_due(conn, now=at, lease_until=lease, limit=10)
                    return [row["id"] for row in taken]

            first, second = await asyncio.gather(claim(one), claim(two))
            assert len(first) + len(second) == 2 and not set(first) & set(second)
            assert await claim(one) == []  # taken: not due again until the lease ends
            sent, failing = sorted(first + second)
            retry = outbox.next_attempt(1, now)
            assert retry is not None
            async with one.write() as conn:
                await messages.mark_sent(conn, sent, now=to_text(now))
                await messages.retry_later(conn, failing, "502 Bad Gateway", at=to_text(retry))
            assert await claim(two, to_text(retry - timedelta(seconds=1))) == []
            assert await claim(two, to_text(retry)) == [failing]
            async with one.write() as conn:
                await messages.mark_failed(conn, failing, "400 Bad Request")

    asyncio.run(scenario())
    states = query(
        settings, "SELECT state, attempts, last_error, sent_at FROM messages ORDER BY id"
    )
    assert [tuple(r)[:3] for r in states] == [("sent", 1, ""), ("failed", 2, "400 Bad Request")]
    assert states[0][3] is not None


def test_the_wait_between_tries_doubles_up_to_a_limit_then_the_message_fails() -> None:
    now = utc_now()
    waits = [outbox.next_attempt(n, now) for n in range(1, outbox.MAX_ATTEMPTS + 1)]
    assert waits[0] == now + timedelta(seconds=30)
    assert waits[1] == now + timedelta(minutes=1)
    assert waits[-1] is None
    delays = [w - now for w in waits[:-1] if w is not None]
    assert delays == sorted(delays) and all(d <= outbox.LONGEST_WAIT for d in delays)
    assert outbox.retry_delay(40) == outbox.LONGEST_WAIT
