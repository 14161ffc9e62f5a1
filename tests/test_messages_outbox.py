"""The durable outbox of messages: every public step of a report enqueues one push message
per subscription following it, in the step's own transaction; internal notes enqueue
none; a step replayed or enqueued again adds nothing; senders take each due message once
and retry it with backoff."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

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


def test_two_senders_never_take_the_same_message_and_a_late_one_writes_nothing(
    client: TestClient, settings: Settings
) -> None:
    code = add_report(settings)
    client.post(push_url(code), json=subscription("a"))
    client.post(push_url(code), json=subscription("b"))
    apply(settings, code, "verify")
    now = utc_now()

    async def scenario() -> None:
        async with Database(settings.database) as one, Database(settings.database) as two:

            async def claim(db: Database, at: datetime) -> list[tuple[int, int]]:
                async with db.write() as conn:
                    taken = await messages.claim_due(
                        conn, now=to_text(at), lease_until=to_text(at + outbox.LEASE), limit=10
                    )
                    return [(row["id"], row["attempts"]) for row in taken]

            first, second = await asyncio.gather(claim(one, now), claim(two, now))
            assert len(first) + len(second) == 2 and not set(first) & set(second)
            assert await claim(one, now) == []  # taken: not due again until the lease ends
            (late_id, late_try), _other = sorted(first + second)
            # The first sender died or stalled; after its lease another takes the message.
            retaken = await claim(two, now + outbox.LEASE)
            assert (late_id, late_try + 1) in retaken
            async with one.write() as conn:
                await messages.mark_failed(conn, late_id, late_try, "stale sender")
            async with two.write() as conn:
                await messages.mark_sent(conn, late_id, late_try + 1, now=to_text(now))

    asyncio.run(scenario())
    states = query(settings, "SELECT state, last_error FROM messages ORDER BY id")
    assert tuple(states[0]) == ("sent", "")


def endpoint_of(message: Any) -> str:
    return str(message["recipient"])


def test_a_sent_message_is_done_a_5xx_is_retried_later_and_a_4xx_fails_at_once(
    client: TestClient, settings: Settings
) -> None:
    code = add_report(settings)
    subs = {name: subscription(name) for name in ("ok", "busy", "bad", "broken")}
    for sub in subs.values():
        client.post(push_url(code), json=sub)
    apply(settings, code, "verify")
    answers = {
        subs["ok"]["endpoint"]: outbox.SENT,
        subs["busy"]["endpoint"]: outbox.Outcome(retry=True, error="503 Service Unavailable"),
        subs["bad"]["endpoint"]: outbox.Outcome(error="400 Bad Request"),
    }
    calls: list[str] = []

    async def push_service(message: Any) -> outbox.Outcome:
        calls.append(endpoint_of(message))
        if endpoint_of(message) not in answers:
            raise ConnectionResetError("connection reset by peer")
        return answers[endpoint_of(message)]

    now = utc_now()

    async def deliver(at: datetime) -> int:
        async with Database(settings.database) as db:
            return await outbox.deliver_due(db, {"push": push_service}, now=at)

    assert run_async(deliver(now)) == 4
    by_endpoint = {
        row[0]: tuple(row)[1:]
        for row in query(settings, "SELECT recipient, state, attempts, last_error FROM messages")
    }
    assert by_endpoint[subs["ok"]["endpoint"]] == ("sent", 1, "")
    assert by_endpoint[subs["busy"]["endpoint"]] == ("pending", 1, "503 Service Unavailable")
    assert by_endpoint[subs["bad"]["endpoint"]] == ("failed", 1, "400 Bad Request")
    assert by_endpoint[subs["broken"]["endpoint"]][:2] == ("pending", 1)
    assert "ConnectionResetError" in by_endpoint[subs["broken"]["endpoint"]][2]
    # Nothing is due before the first wait is over; then only the two worth retrying.
    assert run_async(deliver(now + outbox.retry_delay(1) - timedelta(seconds=1))) == 0
    calls.clear()
    assert run_async(deliver(now + outbox.retry_delay(1))) == 2
    assert sorted(calls) == sorted([subs["busy"]["endpoint"], subs["broken"]["endpoint"]])


def test_a_message_that_keeps_failing_is_given_up_after_the_last_try(
    client: TestClient, settings: Settings
) -> None:
    code = add_report(settings)
    client.post(push_url(code), json=subscription())
    apply(settings, code, "verify")

    async def down(message: Any) -> outbox.Outcome:
        return outbox.Outcome(retry=True, error="502 Bad Gateway")

    async def keep_trying() -> int:
        at, tries = utc_now(), 0
        async with Database(settings.database) as db:
            while await outbox.deliver_due(db, {"push": down}, now=at):
                tries += 1
                at += outbox.LONGEST_WAIT
        return tries

    assert run_async(keep_trying()) == outbox.MAX_ATTEMPTS
    row = query(settings, "SELECT state, attempts, last_error FROM messages")[0]
    assert tuple(row) == ("failed", outbox.MAX_ATTEMPTS, "502 Bad Gateway")


def test_a_subscription_the_push_service_says_is_gone_is_forgotten(
    client: TestClient, settings: Settings
) -> None:
    first, second = add_report(settings), add_report(settings)
    gone, kept = subscription("gone"), subscription("kept")
    for code in (first, second):
        client.post(push_url(code), json=gone)
    client.post(push_url(first), json=kept)
    apply(settings, first, "verify")

    async def push_service(message: Any) -> outbox.Outcome:
        if endpoint_of(message) == gone["endpoint"]:
            return outbox.Outcome(gone=True, error="410 Gone")
        return outbox.SENT

    async def deliver() -> int:
        async with Database(settings.database) as db:
            return await outbox.deliver_due(db, {"push": push_service})

    assert run_async(deliver()) == 2
    assert [tuple(r) for r in query(settings, "SELECT endpoint FROM push_subscriptions")] == [
        (kept["endpoint"],)
    ]
    assert scalar(settings, "SELECT COUNT(*) FROM push_follows") == 1
    states = dict(tuple(r) for r in query(settings, "SELECT recipient, state FROM messages"))
    assert states == {gone["endpoint"]: "failed", kept["endpoint"]: "sent"}
    apply(settings, second, "verify")  # the second report's step reaches nobody now
    assert count(settings) == 2


def test_two_servers_delivering_at_once_send_each_message_once(
    client: TestClient, settings: Settings
) -> None:
    code = add_report(settings)
    for n in range(6):
        client.post(push_url(code), json=subscription(str(n)))
    for kind, note in (("verify", ""), ("progress", "Mulai"), ("resolve", "Selesai")):
        apply(settings, code, kind, public_note=note)
    assert count(settings) == 18
    calls: list[int] = []

    async def push_service(message: Any) -> outbox.Outcome:
        calls.append(message["id"])
        await asyncio.sleep(0.001)
        return outbox.SENT

    async def both() -> None:
        async with Database(settings.database) as one, Database(settings.database) as two:

            async def server(db: Database) -> None:
                while await outbox.deliver_due(db, {"push": push_service}, limit=4):
                    pass

            await asyncio.gather(server(one), server(two))

    asyncio.run(both())
    assert sorted(calls) == sorted(set(calls)) and len(calls) == 18
    assert scalar(settings, "SELECT COUNT(*) FROM messages WHERE state = 'sent'") == 18


def test_a_channel_without_a_sender_is_left_for_one_that_has_it(
    client: TestClient, settings: Settings
) -> None:
    code = add_report(settings)
    client.post(push_url(code), json=subscription())
    apply(settings, code, "verify")

    async def email(message: Any) -> outbox.Outcome:
        raise AssertionError("only push messages are waiting")

    async def deliver() -> int:
        async with Database(settings.database) as db:
            return await outbox.deliver_due(db, {"email": email})

    assert run_async(deliver()) == 0
    assert tuple(query(settings, "SELECT state, attempts FROM messages")[0]) == ("pending", 0)


def test_the_wait_between_tries_doubles_up_to_a_limit_then_the_message_fails() -> None:
    now = utc_now()
    waits = [outbox.next_attempt(n, now) for n in range(1, outbox.MAX_ATTEMPTS + 1)]
    assert waits[0] == now + timedelta(seconds=30)
    assert waits[1] == now + timedelta(minutes=1)
    assert waits[-1] is None
    delays = [w - now for w in waits[:-1] if w is not None]
    assert delays == sorted(delays) and all(d <= outbox.LONGEST_WAIT for d in delays)
    assert outbox.retry_delay(40) == outbox.LONGEST_WAIT
