"""Helpers shared by the tests: staff accounts, reports, logging in, acting on a report,
reading rows straight from the database file."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Coroutine, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import httpx2 as httpx
from starlette.testclient import TestClient

from db import accounts as account_db
from db.database import Database
from tests.backend import Record, query
from web import auth, lifecycle
from web.app import create_app
from web.clock import to_text, utc_now
from web.passwords import hash_password
from web.photo_store import open_photo_store
from web.photos import Photo
from web.settings import Settings

GAMBIR = "31.71.01.1001"
CIDENG = "31.71.01.1002"
KECAMATAN_GAMBIR = "31.71.01"
PASAR_BARU = "31.71.02.1001"
PASSWORD = "kata-sandi-kantor-1"
T = TypeVar("T")


# --- helpers shared by the staff tests ----------------------------------------------------


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end from sync code, even where a loop is already running
    (Playwright's sync API keeps one in the main thread)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def add_account(
    settings: Settings,
    username: str,
    role: str = "officer",
    *,
    areas: Sequence[str] = (),
    agency: str | None = None,
    password: str = PASSWORD,
) -> int:
    async def create() -> int:
        async with Database(settings.database) as db, db.write() as conn:
            return await account_db.create_account(
                conn,
                username=username,
                password_hash=hash_password(password),
                role=role,
                created_at=to_text(utc_now()),
                display_name=username.title(),
                agency_code=agency,
                area_codes=areas,
            )

    return run_async(create())


def store_photo(settings: Settings, photo: Photo) -> Photo:
    """Save a processed photo in the store the settings name (a folder or a bucket)."""
    run_async(open_photo_store(settings).save(photo))
    return photo


def add_report(
    settings: Settings,
    area: str = GAMBIR,
    *,
    description: str = "Sampah menumpuk di depan pasar sejak seminggu.",
    address: str = "",
    category: str = "sampah",
    reporter_name: str = "Siti Aminah",
    reporter_phone: str = "081234567890",
    anonymous: bool = False,
    confidential: bool = False,
    channel: str = "web",
    written_at: datetime | None = None,
    now: datetime | None = None,
    photos: Sequence[Photo] = (),
) -> str:
    new = lifecycle.NewReport(
        category=category,
        area=area,
        description=description,
        address=address,
        reporter_name=reporter_name,
        reporter_phone=reporter_phone,
        anonymous=anonymous,
        confidential=confidential,
        channel=channel,
        written_at=written_at,
    )

    async def create() -> str:
        async with Database(settings.database) as db:
            created = await lifecycle.create_report(db, new, photos, now=now)
            return created.code

    return run_async(create())


def apply(settings: Settings, code: str, kind: str, **fields: Any) -> int:
    """Move a report along with the domain directly (setting up a test, not testing it)."""

    async def run() -> int:
        async with Database(settings.database) as db:
            version = (
                await db.fetchone("SELECT version FROM reports WHERE code = :code", {"code": code})
            )["version"]
            action = lifecycle.Action(kind=kind, expected_version=version, **fields)
            return await lifecycle.apply_action(db, code, action)

    return run_async(run())


def rows(settings: Settings, sql: str, params: Sequence[Any] = ()) -> list[Record]:
    """Rows of the test's database (either backend), by name or position."""
    return query(settings, sql, params)


def report_row(settings: Settings, code: str) -> dict[str, Any]:
    return dict(rows(settings, "SELECT * FROM reports WHERE code = :code", {"code": code})[0])


def snapshot(settings: Settings, code: str) -> tuple[Any, ...]:
    """Everything an action could change: the row and the timeline of the report."""
    report = report_row(settings, code)
    events = rows(
        settings, "SELECT COUNT(*) FROM report_events WHERE report_id = ?", (report["id"],)
    )
    return (*sorted(report.items()), events[0][0])


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden {name} in the page"
    return match[1]


def login(
    client: TestClient, username: str, password: str = PASSWORD, **extra: str
) -> httpx.Response:
    page = client.get("/staf/masuk")
    data = {
        "username": username,
        "password": password,
        "csrf_token": hidden(page.text, "csrf_token"),
    }
    data.update(extra)
    return client.post("/staf/masuk", data=data, follow_redirects=False)


def session_cookie(client: TestClient) -> str:
    return next(c.value for c in client.cookies.jar if c.name == auth.COOKIE_NAME)


def act(
    client: TestClient,
    code: str,
    kind: str,
    data: dict[str, str] | None = None,
    *,
    files: Any = None,
    version: int | None = None,
) -> httpx.Response:
    """Post an action form the way the report page offers it (token and version from the page)."""
    page = client.get(f"/staf/laporan/{code}")
    form = {
        "csrf_token": hidden(page.text, "csrf_token") if page.status_code == 200 else "",
        "version": str(version if version is not None else _version(page.text)),
    }
    form.update(data or {})
    return client.post(
        f"/staf/laporan/{code}/{kind}", data=form, files=files, follow_redirects=False
    )


def _version(html: str) -> int:
    match = re.search(r'name="version" value="(\d+)"', html)
    return int(match[1]) if match else 1


def csrf_of(client: TestClient) -> str:
    return hidden(client.get("/staf/lapor").text, "csrf_token")


@contextmanager
def staff_client(settings: Settings, username: str) -> Iterator[TestClient]:
    """Another browser (its own cookies) on its own app process over the same database."""
    with TestClient(create_app(settings)) as other:
        assert login(other, username).status_code == 303
        yield other


@dataclass
class Streamed:
    """What `stream_post` saw: the answer, and how many body chunks the app asked for."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    chunks_read: int = 0


def post_scope(client: TestClient, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """The ASGI scope of a same-origin POST to `path` on the test client's app, for tests
    that call the app directly with bodies or headers no HTTP client would send."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers, (b"sec-fetch-site", b"same-origin")],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
        "state": dict(client.app_state),
    }


def stream_post(
    client: TestClient, path: str, chunks: Iterable[bytes], content_type: str
) -> Streamed:
    """POST a body without Content-Length (as chunked transfer arrives) straight to the app,
    one chunk per `receive`, counting how far the app read before it answered."""
    scope = post_scope(
        client, path, [(b"content-type", content_type.encode()), (b"transfer-encoding", b"chunked")]
    )
    seen = Streamed()
    pending = iter(chunks)

    async def receive() -> dict[str, Any]:
        chunk = next(pending, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        seen.chunks_read += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            seen.status = message["status"]
            seen.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            seen.body += message.get("body", b"")

    async def call() -> None:
        await client.app(scope, receive, send)

    client.portal.call(call)
    return seen


def stored_photos(settings: Settings) -> set[str]:
    """The photos (not thumbnails) in the settings' photo store, folder or bucket."""

    async def listing() -> set[str]:
        return {item.sha256 async for item in open_photo_store(settings).stored() if not item.thumb}

    return run_async(listing())


def stored_photo(settings: Settings, sha256: str, *, thumb: bool = False) -> bytes | None:
    """A stored photo's bytes as the settings' photo store holds them, or None."""
    return run_async(open_photo_store(settings).read(sha256, thumb=thumb))
