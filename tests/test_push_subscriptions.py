"""Following a report through Web Push: `POST /api/v1/reports/{code}/push` with a
browser's PushSubscription JSON subscribes, `DELETE` with its endpoint stops; unknown
codes, malformed subscriptions, confidential reports and cross-site requests."""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest
from itsdangerous import URLSafeSerializer
from starlette.testclient import TestClient

from tests.backend import query, scalar
from tests.helpers import add_report
from web.settings import Settings


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def subscription(name: str = "a") -> dict[str, Any]:
    """A PushSubscription as a browser serialises it (keys of the right form and size)."""
    return {
        "endpoint": f"https://fcm.googleapis.com/fcm/send/{name}-{b64(os.urandom(12))}",
        "expirationTime": None,
        "keys": {"p256dh": b64(b"\x04" + os.urandom(64)), "auth": b64(os.urandom(16))},
    }


def push_url(code: str) -> str:
    return f"/api/v1/reports/{code}/push"


def unsubscribe(client: TestClient, code: str, endpoint: str) -> Any:
    return client.request("DELETE", push_url(code), json={"endpoint": endpoint})


def private_token(settings: Settings, code: str) -> str:
    return str(URLSafeSerializer(settings.secret_key, salt="aduan.report-private").dumps(code))


def follows(settings: Settings) -> list[tuple[str, str]]:
    """(report code, endpoint) of every follow."""
    found = query(
        settings,
        "SELECT r.code, s.endpoint FROM push_follows f"
        " JOIN reports r ON r.id = f.report_id"
        " JOIN push_subscriptions s ON s.id = f.subscription_id ORDER BY r.code, s.endpoint",
    )
    return [(row[0], row[1]) for row in found]


def subscriptions(settings: Settings) -> int:
    return int(scalar(settings, "SELECT COUNT(*) FROM push_subscriptions"))


def test_a_browser_subscribes_once_and_is_told_when_it_already_follows(
    client: TestClient, settings: Settings
) -> None:
    code = add_report(settings)
    sub = subscription()
    first = client.post(push_url(code), json=sub)
    assert first.status_code == 201
    assert first.json() == {"code": code, "following": True}
    assert first.headers["cache-control"] == "no-store"
    again = client.post(push_url(code), json=sub)
    assert again.status_code == 200
    assert follows(settings) == [(code, sub["endpoint"])]
    assert subscriptions(settings) == 1


def test_the_dashed_code_a_resident_reads_finds_the_report(
    client: TestClient, settings: Settings
) -> None:
    code = add_report(settings)
    assert client.post(push_url(f"{code[:4]}-{code[4:]}"), json=subscription()).status_code == 201
    assert [c for c, _ in follows(settings)] == [code]


def test_one_subscription_follows_several_reports(client: TestClient, settings: Settings) -> None:
    first, second = add_report(settings), add_report(settings)
    sub = subscription()
    assert client.post(push_url(first), json=sub).status_code == 201
    assert client.post(push_url(second), json=sub).status_code == 201
    assert subscriptions(settings) == 1
    assert sorted(follows(settings)) == sorted(
        [(first, sub["endpoint"]), (second, sub["endpoint"])]
    )


def test_subscribing_again_with_new_keys_keeps_the_new_keys(
    client: TestClient, settings: Settings
) -> None:
    code = add_report(settings)
    sub = subscription()
    client.post(push_url(code), json=sub)
    renewed = {
        **sub,
        "keys": {"p256dh": b64(b"\x04" + os.urandom(64)), "auth": b64(os.urandom(16))},
    }
    assert client.post(push_url(code), json=renewed).status_code == 200
    row = query(settings, "SELECT p256dh, auth FROM push_subscriptions")
    assert [tuple(r) for r in row] == [(renewed["keys"]["p256dh"], renewed["keys"]["auth"])]


def test_the_language_of_the_page_is_kept_for_the_notifications(
    client: TestClient, settings: Settings
) -> None:
    code = add_report(settings)
    client.cookies.set("lang", "en")
    client.post(push_url(code), json=subscription())
    assert scalar(settings, "SELECT language FROM push_subscriptions") == "en"


def test_unsubscribing_stops_following_and_forgets_a_subscription_left_with_nothing(
    client: TestClient, settings: Settings
) -> None:
    first, second = add_report(settings), add_report(settings)
    sub = subscription()
    client.post(push_url(first), json=sub)
    client.post(push_url(second), json=sub)
    gone = unsubscribe(client, first, sub["endpoint"])
    assert gone.status_code == 204 and gone.content == b""
    assert follows(settings) == [(second, sub["endpoint"])]
    assert unsubscribe(client, second, sub["endpoint"]).status_code == 204
    assert follows(settings) == [] and subscriptions(settings) == 0
    # Stopping what was already stopped is no error.
    assert unsubscribe(client, second, sub["endpoint"]).status_code == 204


def test_unsubscribing_one_browser_leaves_the_others(
    client: TestClient, settings: Settings
) -> None:
    code = add_report(settings)
    mine, theirs = subscription("mine"), subscription("theirs")
    client.post(push_url(code), json=mine)
    client.post(push_url(code), json=theirs)
    assert unsubscribe(client, code, mine["endpoint"]).status_code == 204
    assert follows(settings) == [(code, theirs["endpoint"])]


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_an_unknown_code_is_404_with_a_message(
    client: TestClient, settings: Settings, method: str
) -> None:
    answer = client.request(method, push_url("ZZZZZZZZ"), json=subscription())
    assert answer.status_code == 404
    assert answer.json() == {"message": "Laporan tidak ditemukan."}
    assert subscriptions(settings) == 0


def _without_keys(sub: dict[str, Any]) -> dict[str, Any]:
    return {"endpoint": sub["endpoint"]}


def _with_key(name: str, value: Any) -> Any:
    def change(sub: dict[str, Any]) -> dict[str, Any]:
        return {**sub, "keys": {**sub["keys"], name: value}}

    return change


MALFORMED = {
    "not an object": (lambda sub: ["endpoint"], "endpoint"),
    "no endpoint": (lambda sub: {"keys": sub["keys"]}, "endpoint"),
    "endpoint not a string": (lambda sub: {**sub, "endpoint": 42}, "endpoint"),
    "plain http endpoint": (
        lambda sub: {**sub, "endpoint": "http://push.example/x"},
        "https",
    ),
    "endpoint far too long": (
        lambda sub: {**sub, "endpoint": "https://push.example/" + "x" * 2000},
        "https",
    ),
    "no keys": (_without_keys, "keys"),
    "p256dh not base64": (_with_key("p256dh", "not*base64!"), "p256dh"),
    "p256dh too short": (_with_key("p256dh", b64(b"\x04" + os.urandom(30))), "p256dh"),
    "p256dh not an uncompressed point": (
        _with_key("p256dh", b64(b"\x03" + os.urandom(64))),
        "p256dh",
    ),
    "auth missing": (_with_key("auth", None), "auth"),
    "auth of the wrong size": (_with_key("auth", b64(os.urandom(8))), "auth"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_subscription_is_refused_with_a_clear_message(
    client: TestClient, settings: Settings, case: str
) -> None:
    code = add_report(settings)
    change, named = MALFORMED[case]
    answer = client.post(push_url(code), json=change(subscription()))
    assert answer.status_code == 422
    message = answer.json()["message"]
    assert message.startswith("Langganan tidak sah") and named in message
    assert subscriptions(settings) == 0


def test_a_body_that_is_not_json_is_refused_with_a_clear_message(
    client: TestClient, settings: Settings
) -> None:
    code = add_report(settings)
    for body in (b"endpoint=https://x", b"\xff\xfe", b""):
        answer = client.post(
            push_url(code), content=body, headers={"content-type": "application/json"}
        )
        assert answer.status_code == 422
        assert answer.json()["message"] == "Langganan tidak sah: isinya bukan JSON."
    assert unsubscribe(client, code, "").status_code == 422


def test_the_message_is_in_english_for_a_resident_who_chose_english(
    client: TestClient, settings: Settings
) -> None:
    code = add_report(settings)
    client.cookies.set("lang", "en")
    answer = client.post(push_url(code), json={"keys": {}})
    assert answer.status_code == 422
    assert answer.json()["message"].startswith("Invalid subscription")


def test_a_confidential_report_is_followed_only_with_its_private_link_token(
    client: TestClient, settings: Settings
) -> None:
    code = add_report(settings, confidential=True)
    sub = subscription()
    for query_string in (
        "",
        "?k=",
        "?k=not-the-token",
        f"?k={private_token(settings, 'AAAAAAAA')}",
    ):
        refused = client.post(push_url(code) + query_string, json=sub)
        assert refused.status_code == 403
        assert "tautan pribadi" in refused.json()["message"]
    assert subscriptions(settings) == 0
    token = private_token(settings, code)
    assert client.post(push_url(code) + f"?k={token}", json=sub).status_code == 201
    # Stopping needs only the endpoint, which only the browser knows.
    assert unsubscribe(client, code, sub["endpoint"]).status_code == 204
    assert subscriptions(settings) == 0


def test_a_request_a_browser_sends_from_another_site_is_refused(
    client: TestClient, settings: Settings
) -> None:
    code = add_report(settings)
    sub = subscription()
    cross_site = {"origin": "https://evil.example", "sec-fetch-site": "cross-site"}
    assert client.post(push_url(code), json=sub, headers=cross_site).status_code == 403
    assert subscriptions(settings) == 0
    ours = {"origin": settings.origin, "sec-fetch-site": "same-origin"}
    assert client.post(push_url(code), json=sub, headers=ours).status_code == 201
    refused = client.request(
        "DELETE", push_url(code), json={"endpoint": sub["endpoint"]}, headers=cross_site
    )
    assert refused.status_code == 403
    assert subscriptions(settings) == 1


def test_a_client_adding_many_browsers_is_slowed_down_but_following_again_still_answers(
    client: TestClient, settings: Settings
) -> None:
    code = add_report(settings)
    subs = [subscription(str(n)) for n in range(21)]
    for sub in subs[:20]:
        assert client.post(push_url(code), json=sub).status_code == 201
    refused = client.post(push_url(code), json=subs[20])
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["message"].startswith("Terlalu banyak langganan")
    assert subscriptions(settings) == 20
    # A browser following again what it already follows is not a new follow.
    assert client.post(push_url(code), json=subs[0]).status_code == 200
