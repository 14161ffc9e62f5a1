"""Two `aduan serve` processes on one database and one photo store, as a province runs
Aduan behind a load balancer: on PostgreSQL with the photos in a SeaweedFS bucket, and on
SQLite with two processes on one data folder. What a resident or an officer does through
one server, the other sees; what both are asked at once, only one does; a server killed
mid-stream loses nothing it acknowledged; the hourly tasks run on one of them."""

from __future__ import annotations

import hashlib
import os
import random
import re
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.backend import query, scalar
from tests.helpers import GAMBIR, add_account, add_report, apply, hidden, login
from tests.images import camera_like, encode
from tests.test_serve import Server, running_server
from web.settings import Settings

FIELDS = {
    "category": "banjir",
    "area": "31.71.01.1002",
    "description": "Saluran air tersumbat, setiap hujan langsung tergenang.",
}


def operator_env(settings: Settings) -> dict[str, str | None]:
    """What an operator sets on every app server: the shared database, photo store and key."""
    env: dict[str, str | None] = {
        "ADUAN_DATABASE_URL": settings.database_url or None,
        "ADUAN_PHOTO_STORE": None,
        # Behind the load balancer: the client's address comes from X-Forwarded-For.
        "ADUAN_TRUSTED_PROXIES": "127.0.0.1",
    }
    store = settings.photo_store
    if store is not None:
        env.update(
            ADUAN_PHOTO_STORE=store.url,
            ADUAN_S3_ENDPOINT_URL=store.endpoint_url,
            AWS_REGION=store.region,
            AWS_ACCESS_KEY_ID=store.access_key_id,
            AWS_SECRET_ACCESS_KEY=store.secret_access_key,
        )
    return env


@pytest.fixture
def two_servers(settings: Settings, tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    with ExitStack() as stack:
        servers = tuple(
            stack.enter_context(
                running_server(
                    settings.data_dir, tmp_path / f"{name}.log", env=operator_env(settings)
                )
            )
            for name in "ab"
        )
        yield servers  # type: ignore[misc]


def url(server: Server, path: str = "") -> str:
    return f"http://127.0.0.1:{server.port}{path}"


def from_client(number: int) -> dict[str, str]:
    """As nginx passes on a resident's address (each resident has their own limits)."""
    return {"X-Forwarded-For": f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"}


def submit(server: Server, key: str, *, client: int, photo: bytes | None = None) -> httpx.Response:
    files = [("photos", ("a.jpg", photo, "image/jpeg"))] if photo else None
    return httpx.post(
        url(server, "/api/v1/reports"),
        data=FIELDS,
        files=files,
        headers={"Idempotency-Key": key, **from_client(client)},
        timeout=30,
    )


def test_a_report_filed_on_one_server_is_tracked_with_its_photo_on_the_other(
    two_servers: tuple[Server, Server],
) -> None:
    a, b = two_servers
    photo = encode(camera_like((1024, 768)), "JPEG")
    filed = submit(a, str(uuid.uuid4()), client=1, photo=photo)
    assert filed.status_code == 201, filed.text
    body = filed.json()

    public = httpx.get(url(b, body["tracking_url"]))
    assert public.status_code == 200 and FIELDS["description"] in public.text
    private = httpx.get(url(b, body["private_url"]))  # signed by A, opened on B
    assert private.status_code == 200 and FIELDS["description"] in private.text
    sha = re.search(r"/foto/([0-9a-f]{64})\.jpg", public.text)[1]  # type: ignore[index]
    served = httpx.get(url(b, f"/foto/{sha}.jpg"))
    assert served.status_code == 200
    assert hashlib.sha256(served.content).hexdigest() == sha
    assert "immutable" in served.headers["cache-control"]


def test_replays_of_one_key_sent_to_both_servers_at_once_make_one_report(
    two_servers: tuple[Server, Server], settings: Settings
) -> None:
    a, b = two_servers
    keys = [str(uuid.uuid4()) for _ in range(6)]
    answers: dict[tuple[str, str], httpx.Response] = {}

    def send(server: Server, name: str, key: str, barrier: threading.Barrier) -> None:
        barrier.wait()
        answers[(key, name)] = submit(server, key, client=7)

    for key in keys:
        barrier = threading.Barrier(2)
        threads = [
            threading.Thread(target=send, args=(server, name, key, barrier))
            for server, name in ((a, "a"), (b, "b"))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    for key in keys:
        first, second = answers[(key, "a")], answers[(key, "b")]
        assert sorted([first.status_code, second.status_code]) == [200, 201], (
            first.text,
            second.text,
        )
        assert first.json()["code"] == second.json()["code"]
    assert scalar(settings, "SELECT COUNT(*) FROM reports") == len(keys)


@contextmanager
def officer(server: Server, username: str) -> Iterator[httpx.Client]:
    """An officer signed in on one server, in their own browser."""
    with httpx.Client(base_url=url(server), timeout=30, follow_redirects=False) as client:
        assert login(client, username).status_code == 303  # type: ignore[arg-type]
        yield client


def act_at_once(code: str, officers: dict[str, httpx.Client]) -> dict[str, httpx.Response]:
    """Each officer opens the case, then all post a progress note at the same moment."""
    forms = {}
    for name, client in officers.items():
        page = client.get(f"/staf/laporan/{code}").text
        forms[name] = {"csrf_token": hidden(page, "csrf_token"), "version": hidden(page, "version")}
    answers: dict[str, httpx.Response] = {}
    barrier = threading.Barrier(len(officers))

    def act(name: str) -> None:
        barrier.wait()
        answers[name] = officers[name].post(
            f"/staf/laporan/{code}/progress",
            data={**forms[name], "public_note": f"Petugas {name} sudah ke lokasi."},
        )

    threads = [threading.Thread(target=act, args=(name,)) for name in officers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_officers_acting_on_both_servers_at_once_get_one_success_and_one_clear_conflict(
    two_servers: tuple[Server, Server], settings: Settings
) -> None:
    a, b = two_servers
    add_account(settings, "gambir1", areas=[GAMBIR])
    add_account(settings, "gambir2", areas=[GAMBIR])
    code = add_report(settings, GAMBIR)
    apply(settings, code, "verify")
    with officer(a, "gambir1") as one, officer(b, "gambir2") as two:
        answers = act_at_once(code, {"gambir1": one, "gambir2": two})

    assert sorted(r.status_code for r in answers.values()) == [303, 409]
    loser = next(name for name, r in answers.items() if r.status_code == 409)
    winner = next(name for name in answers if name != loser)
    refused = answers[loser].text
    assert "baru saja diubah petugas lain" in refused
    assert f"Petugas {loser} sudah ke lokasi." in refused  # nothing typed is lost
    notes = query(
        settings,
        "SELECT e.public_note FROM report_events e JOIN reports r ON r.id = e.report_id"
        " WHERE r.code = ? AND e.kind = 'progress'",
        (code,),
    )
    assert [n["public_note"] for n in notes] == [f"Petugas {winner} sudah ke lokasi."]
    assert scalar(settings, "SELECT version FROM reports WHERE code = ?", (code,)) == 3


def test_a_staff_session_opened_on_one_server_works_and_ends_on_the_other(
    two_servers: tuple[Server, Server], settings: Settings
) -> None:
    a, b = two_servers
    add_account(settings, "gambir1", areas=[GAMBIR])
    with officer(a, "gambir1") as on_a:
        cookies = dict(on_a.cookies)
        with httpx.Client(base_url=url(b), cookies=cookies, follow_redirects=False) as on_b:
            inbox = on_b.get("/staf")
            assert inbox.status_code == 200  # no sticky sessions needed
            out = on_b.post("/staf/keluar", data={"csrf_token": hidden(inbox.text, "csrf_token")})
            assert out.status_code == 303
        assert on_a.get("/staf").status_code == 303  # logged out everywhere


def test_failed_logins_through_both_servers_count_together(
    two_servers: tuple[Server, Server], settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    answers = []
    for attempt in range(5):  # an attacker alternating between the servers
        with httpx.Client(base_url=url(two_servers[attempt % 2]), timeout=30) as client:
            answers.append(login(client, "gambir1", "salah-sekali-123").status_code)  # type: ignore[arg-type]
    assert answers == [400] * 5
    for server in two_servers:  # locked on both, even with the right password
        with httpx.Client(base_url=url(server), timeout=30) as client:
            locked = login(client, "gambir1")  # type: ignore[arg-type]
        assert locked.status_code == 429 and "Terlalu banyak percobaan" in locked.text


def test_killing_one_server_under_load_loses_no_acknowledged_report(
    two_servers: tuple[Server, Server], settings: Settings
) -> None:
    a, b = two_servers
    acknowledged: list[str] = []
    failures: list[str] = []
    stop = threading.Event()
    lock = threading.Lock()

    def resident(worker: int) -> None:
        number = worker * 1000
        while not stop.is_set():
            number += 1
            server = random.choice((a, b))
            try:
                answer = submit(server, str(uuid.uuid4()), client=number)
            except httpx.TransportError:
                continue  # the server died mid-request: nothing was acknowledged
            with lock:
                if answer.status_code == 201:
                    acknowledged.append(answer.json()["code"])
                else:
                    failures.append(f"{answer.status_code} {answer.text[:200]}")

    workers = [threading.Thread(target=resident, args=(n,)) for n in range(4)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(a.process.pid, signal.SIGKILL)
    a.process.wait()
    before_kill = len(acknowledged)
    time.sleep(1.5)  # B carries on alone
    stop.set()
    for worker in workers:
        worker.join()

    assert not failures, failures
    assert before_kill >= 20 and len(acknowledged) > before_kill
    stored = {r["code"] for r in query(settings, "SELECT code FROM reports")}
    assert set(acknowledged) <= stored
    for code in random.sample(acknowledged, 5):
        assert httpx.get(url(b, f"/t/{code}")).status_code == 200


def test_the_hourly_tasks_run_on_one_server_only(settings: Settings, tmp_path: Path) -> None:
    env = {**operator_env(settings), "ADUAN_NO_TASKS": None}
    with ExitStack() as stack:
        servers = [
            stack.enter_context(running_server(settings.data_dir, tmp_path / f"{n}.log", env=env))
            for n in "ab"
        ]
        deadline = time.monotonic() + 20
        while True:
            logs = [server.log for server in servers]
            looked = [
                "ran on this server" in log or "left to another server" in log for log in logs
            ]
            if all(looked) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    assert all(looked), logs
    for task in ("autoclose", "photo_sweep"):
        ran = [log for log in logs if f"task {task} ran on this server" in log]
        assert len(ran) == 1, (task, logs)
        lease = query(
            settings, "SELECT holder, finished_at FROM task_leases WHERE name = ?", (task,)
        )
        holder_pid = int(lease[0]["holder"].split(":")[1])
        winner = next(s for s, log in zip(servers, logs, strict=True) if log in ran)
        assert holder_pid == winner.process.pid and lease[0]["finished_at"]
