"""The short way in for public pages already rendered (web/front.py): a GET of `/t/{code}`,
`/` or `/lapor` whose current version is kept is answered before the middleware stack, with
the very answer the stack gives — headers, body, 304, log line — and everything else goes
down the stack, which counts, redirects, refuses and renders as before."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.helpers import add_report
from web.app import create_app
from web.front import PublicPageFront
from web.settings import Settings

# Differ between any two answers: the request's own id, and when it was made.
OWN = {"x-request-id", "date"}


class Probe:
    """The middleware stack behind the front, unchanged, noting which paths reached it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.reached: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.reached.append(f"{scope['method']} {scope['path']}")
        await self.app(scope, receive, send)


def behind_front(client: TestClient) -> Probe:
    client.get("/healthz")  # Starlette builds its middleware on the first request
    front = client.app.middleware_stack.app  # type: ignore[attr-defined]
    assert isinstance(front, PublicPageFront)
    probe = Probe(front.app)
    front.app = probe
    return probe


@pytest.fixture
def reader(settings: Settings) -> Iterator[tuple[TestClient, Probe]]:
    with TestClient(create_app(settings)) as client:
        yield client, behind_front(client)


def headers_of(response: httpx.Response) -> list[tuple[str, str]]:
    return sorted((k, v) for k, v in response.headers.multi_items() if k not in OWN)


def test_a_kept_page_is_answered_in_front_exactly_as_the_stack_answers_it(
    reader: tuple[TestClient, Probe], settings: Settings
) -> None:
    client, probe = reader
    code = add_report(settings)
    pages = [f"/t/{code}", "/", "/lapor"]
    for language in ("id", "en"):
        client.cookies.set("lang", language)
        for path in pages:
            for coding in ("br", "gzip", "identity"):
                wanted = {"Accept-Encoding": coding}
                client.get(path, headers=wanted)  # rendered and kept (the stack, the first time)
                probe.reached.clear()
                front = client.get(path, headers=wanted)
                assert probe.reached == [], (path, language, coding)
                # HEAD always goes down the stack, which answers it as it answers GET.
                stack = client.head(path, headers=wanted)
                assert probe.reached == [f"HEAD {path}"]
                assert front.status_code == stack.status_code == 200
                assert headers_of(front) == headers_of(stack), (path, language, coding)
                assert front.headers.get("content-encoding", "identity") == coding
                assert int(front.headers["content-length"]) > 0
                assert front.headers["x-request-id"] != stack.headers["x-request-id"]
                assert f'<html lang="{language}"' in front.text
                # a browser holding this version: 304 from the key alone, in front
                probe.reached.clear()
                etag = {**wanted, "If-None-Match": front.headers["etag"]}
                not_modified = client.get(path, headers=etag)
                assert probe.reached == []
                stack_not_modified = client.head(path, headers=etag)
                assert not_modified.status_code == stack_not_modified.status_code == 304
                assert headers_of(not_modified) == headers_of(stack_not_modified)
                assert not_modified.content == b""


def test_one_language_is_never_answered_to_a_reader_of_the_other(
    reader: tuple[TestClient, Probe], settings: Settings
) -> None:
    client, probe = reader
    code = add_report(settings)
    client.get(f"/t/{code}")  # kept in Indonesian only
    probe.reached.clear()
    client.cookies.set("lang", "en")
    english = client.get(f"/t/{code}")
    assert probe.reached == [f"GET /t/{code}"]  # not kept in English yet: rendered there
    assert '<html lang="en"' in english.text
    client.cookies.clear()
    indonesian = client.get(f"/t/{code}", headers={"If-None-Match": english.headers["etag"]})
    assert indonesian.status_code == 200 and '<html lang="id"' in indonesian.text


def test_the_request_log_line_is_the_one_the_stack_writes(
    reader: tuple[TestClient, Probe], settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    client, probe = reader
    code = add_report(settings)
    with caplog.at_level(logging.INFO, logger="aduan.request"):
        client.get(f"/t/{code}")
        client.get(f"/t/{code}")
    assert len(probe.reached) == 1  # the first down the stack, the second in front
    lines = [r.getMessage() for r in caplog.records if r.name == "aduan.request"]

    def fields(line: str) -> dict[str, str]:
        found = dict(part.split("=", 1) for part in line.split())
        return {k: v for k, v in found.items() if k not in {"request_id", "ms"}}

    assert len(lines) == 2
    assert fields(lines[0]) == fields(lines[1])
    assert fields(lines[1])["route"] == "track" and fields(lines[1])["status"] == "200"
    assert "report_id" in fields(lines[1])
    assert code not in lines[1]  # the path (a tracking code) is never logged


def passes(client: TestClient, probe: Probe, path: str, **kwargs: Any) -> httpx.Response:
    probe.reached.clear()
    response = client.request(kwargs.pop("method", "GET"), path, **kwargs)
    assert len(probe.reached) == 1, path
    return response


def test_what_the_front_does_not_know_goes_down_the_stack(
    reader: tuple[TestClient, Probe], settings: Settings
) -> None:
    client, probe = reader
    code = add_report(settings)
    client.get(f"/t/{code}")
    client.get("/lapor")
    # an unknown code: counted per client and answered 404 there
    assert passes(client, probe, "/t/ZZZZZZZZ").status_code == 404
    # a code typed in lower case: sent to its one address
    lower = passes(client, probe, f"/t/{code.lower()}", follow_redirects=False)
    assert lower.status_code == 301 and lower.headers["location"].endswith(f"/t/{code}")
    # a query string, another method, a deeper path
    assert passes(client, probe, "/lapor?kecamatan=3171010").status_code == 200
    assert passes(client, probe, f"/t/{code}", method="HEAD").status_code == 200
    assert passes(client, probe, f"/t/{code}/p/nope").status_code == 404
    post = passes(client, probe, "/lapor", method="POST", headers={"Origin": "https://evil.test"})
    assert post.status_code == 403


def test_a_host_the_deployment_does_not_name_is_refused_by_the_stack(
    settings: Settings,
) -> None:
    named = dataclasses.replace(settings, allowed_hosts=("aduan.example.id",))
    code = add_report(settings)
    with TestClient(create_app(named), base_url="http://aduan.example.id") as client:
        probe = behind_front(client)
        client.get(f"/t/{code}")
        probe.reached.clear()
        assert client.get(f"/t/{code}").status_code == 200
        assert probe.reached == []  # the named host, in front
        other = passes(client, probe, f"/t/{code}", headers={"Host": "evil.example"})
        assert other.status_code == 400
