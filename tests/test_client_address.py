"""Who the client is: the socket address, or behind a proxy listed in ADUAN_TRUSTED_PROXIES
the right-most address that proxy vouches for — never what a client writes in a header.

The end-to-end tests run `aduan serve` itself in a child process and connect from several
loopback addresses (127.0.0.0/8 is all local on Linux), so each "resident" has a real socket
address of its own and the proxy is a real peer whose address the server sees.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx
import pytest
from starlette.testclient import TestClient

from tests.conftest import SECRET, make_settings
from tests.helpers import GAMBIR, add_account, login
from web.app import create_app
from web.client import parse_networks, resolve
from web.settings import Settings, SettingsError

PROXY = "127.0.0.1"  # where nginx would connect from
TRUSTED = parse_networks("127.0.0.1, 10.0.0.0/8")


@contextmanager
def aduan_serve(data_dir: Path, trusted_proxies: str | None) -> Iterator[str]:
    """`aduan serve` on a free port, as an operator starts it; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        "ADUAN_DATA_DIR": str(data_dir),
        "ADUAN_SECRET_KEY": SECRET,
        "ADUAN_BASE_URL": f"http://127.0.0.1:{port}",
        "ADUAN_ALLOWED_HOSTS": "127.0.0.1",
        "ADUAN_NO_TASKS": "1",
        "PATH": "/usr/bin:/bin",
    }
    if trusted_proxies is not None:
        env["ADUAN_TRUSTED_PROXIES"] = trusted_proxies
    process = subprocess.Popen(
        [sys.executable, "-m", "web.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"aduan serve did not start: {process.stderr}") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


def connect_from(base_url: str, address: str, **headers: str) -> httpx.Client:
    """A client whose connections leave from `address` (any of 127.0.0.0/8)."""
    return httpx.Client(
        base_url=base_url,
        transport=httpx.HTTPTransport(local_address=address),
        headers=headers,
        timeout=30,
    )


@pytest.fixture
def data_dir(tmp_path: Path, template_db: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(template_db, folder / "aduan.sqlite3")
    return folder


def file_report(client: httpx.Client) -> str:
    response = client.post(
        "/lapor",
        data={
            "category": "sampah",
            "area": GAMBIR,
            "description": "Sampah menumpuk empat hari di TPS samping masjid.",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    match = re.search(r"/t/([0-9A-Z]{8})/struk", response.headers["location"])
    assert match
    return match[1]


def mistype_codes(client: httpx.Client, times: int = 20, **headers: str) -> list[int]:
    return [client.get(f"/t/ZZZZ{n:04d}", headers=headers).status_code for n in range(times)]


# --- resolving the address ------------------------------------------------------------------


def test_the_header_counts_only_from_a_trusted_peer() -> None:
    assert resolve("198.51.100.7", ["203.0.113.1"], TRUSTED) == "198.51.100.7"
    assert resolve("198.51.100.7", ["203.0.113.1"], ()) == "198.51.100.7"
    assert resolve("127.0.0.1", ["203.0.113.1"], ()) == "127.0.0.1"
    assert resolve("127.0.0.1", [], TRUSTED) == "127.0.0.1"  # the proxy's own health check


def test_the_right_most_untrusted_address_is_the_client() -> None:
    # The client wrote "1.2.3.4" itself; nginx appended the address it saw.
    assert resolve(PROXY, ["1.2.3.4, 203.0.113.5"], TRUSTED) == "203.0.113.5"
    # Two proxies of ours: the inner one appended the outer one's address.
    assert resolve(PROXY, ["1.2.3.4, 203.0.113.5, 10.1.2.3"], TRUSTED) == "203.0.113.5"
    # Several header lines are one list, in order.
    assert resolve(PROXY, ["1.2.3.4", "203.0.113.5"], TRUSTED) == "203.0.113.5"
    # Garbage where a proxy's entry should be: the last address vouched for is the client.
    assert resolve(PROXY, ["203.0.113.5, nonsense, 10.1.2.3"], TRUSTED) == "10.1.2.3"
    assert resolve(PROXY, ["10.9.9.9"], TRUSTED) == "10.9.9.9"  # all ours: the left-most
    assert resolve(PROXY, ["[2001:db8::7]:443"], TRUSTED) == "2001:db8::7"
    assert resolve(PROXY, ["203.0.113.5:51234"], TRUSTED) == "203.0.113.5"
    assert resolve("::ffff:127.0.0.1", ["203.0.113.5"], TRUSTED) == "203.0.113.5"


def test_trusted_proxies_are_a_setting_checked_at_start(tmp_path: Path) -> None:
    env = {"ADUAN_DATA_DIR": str(tmp_path), "ADUAN_SECRET_KEY": "k" * 40}
    assert Settings.from_env(env).trusted_proxies == ()
    settings = Settings.from_env({**env, "ADUAN_TRUSTED_PROXIES": " 127.0.0.1, 10.0.0.0/8 ,"})
    assert [str(n) for n in settings.trusted_proxies] == ["127.0.0.1/32", "10.0.0.0/8"]
    with pytest.raises(SettingsError, match=r"ADUAN_TRUSTED_PROXIES.*'10\.0\.0\.300'"):
        Settings.from_env({**env, "ADUAN_TRUSTED_PROXIES": "127.0.0.1,10.0.0.300"})


def test_addresses_of_one_ipv6_network_are_one_client(settings: Settings) -> None:
    app = create_app(settings)
    with (
        TestClient(app, client=("2001:db8:1:2::10", 5000)) as first,
        TestClient(app, client=("2001:db8:1:2:abcd::99", 5000)) as same_network,
        TestClient(app, client=("2001:db8:1:3::10", 5000)) as next_network,
    ):
        assert set(mistype_codes(first)) == {404}
        assert same_network.get("/t/ZZZZZZZZ").status_code == 429
        assert next_network.get("/t/ZZZZZZZZ").status_code == 404


def test_only_a_trusted_proxy_may_say_the_site_is_served_over_https(settings: Settings) -> None:
    trusting = create_app(dataclasses.replace(settings, trusted_proxies=TRUSTED))
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5"}
    with TestClient(trusting, client=(PROXY, 5000)) as proxy:
        code = file_report(proxy)
        # A code typed in lower case is redirected to its page: the link shows the scheme.
        behind = proxy.get(f"/t/{code.lower()}", headers=https, follow_redirects=False)
    with TestClient(trusting, client=("198.51.100.7", 5000)) as stranger:
        spoofed = stranger.get(f"/t/{code.lower()}", headers=https, follow_redirects=False)
    assert behind.status_code == spoofed.status_code == 301
    assert behind.headers["location"] == f"https://testserver/t/{code}"
    assert spoofed.headers["location"] == f"http://testserver/t/{code}"


def test_a_forwarded_header_from_a_local_proxy_nobody_trusts_is_logged_once(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        TestClient(create_app(settings), client=(PROXY, 5000)) as proxy,
        caplog.at_level("WARNING"),
    ):
        for _ in range(3):
            proxy.get("/t/ZZZZZZZZ", headers={"X-Forwarded-For": "203.0.113.5"})
    warnings = [r.getMessage() for r in caplog.records if "ADUAN_TRUSTED_PROXIES" in r.getMessage()]
    assert len(warnings) == 1


# --- `aduan serve` end to end ---------------------------------------------------------------


def test_a_forwarded_for_header_is_ignored_unless_its_sender_is_trusted(data_dir: Path) -> None:
    with aduan_serve(data_dir, trusted_proxies=None) as url:
        # By default no proxy is trusted, not even a local one: each request naming another
        # address is still the same client.
        with connect_from(url, "127.0.0.1") as local:
            spoofed = [
                local.get(f"/t/ZZZZ{n:04d}", headers={"X-Forwarded-For": f"198.51.100.{n}"})
                for n in range(20)
            ]
            assert {r.status_code for r in spoofed} == {404}
            refused = local.get("/t/ZZZZZZZZ", headers={"X-Forwarded-For": "198.51.100.99"})
            assert refused.status_code == 429 and refused.headers["retry-after"] == "600"
    with aduan_serve(data_dir, trusted_proxies=PROXY) as url:
        # A peer that is not the proxy cannot name an address either.
        with connect_from(url, "127.0.0.2") as direct:
            for n in range(20):
                direct.get(f"/t/YYYY{n:04d}", headers={"X-Forwarded-For": f"203.0.113.{n}"})
            assert direct.get("/t/YYYYYYYY").status_code == 429


def test_behind_the_proxy_one_residents_mistakes_do_not_stop_another(data_dir: Path) -> None:
    with aduan_serve(data_dir, trusted_proxies=PROXY) as url:
        with connect_from(url, "127.0.0.9") as filer:
            code = file_report(filer)
        with connect_from(url, PROXY) as proxy:
            # Resident A mistypes 20 codes; whatever A writes in the header, nginx appends
            # the address it saw, and that is the one counted.
            for n in range(20):
                header = f"198.51.100.{n}, 203.0.113.5"
                assert (
                    proxy.get(f"/t/ZZZZ{n:04d}", headers={"X-Forwarded-For": header}).status_code
                    == 404
                )
            a = {"X-Forwarded-For": "10.0.0.1, 203.0.113.5", "X-Forwarded-Proto": "https"}
            assert proxy.get("/t/ZZZZZZZZ", headers=a).status_code == 429
            # A code that exists still answers A, on every page that shows it.
            assert proxy.get(f"/t/{code}", headers=a).status_code == 200
            found = proxy.get("/lacak", params={"kode": code}, headers=a, follow_redirects=False)
            assert found.status_code == 303
            # X-Forwarded-Proto from the proxy makes links and redirects https.
            assert found.headers["location"].startswith("https://127.0.0.1:")
            # Resident B, behind the same proxy, is not slowed down at all.
            b = {"X-Forwarded-For": "203.0.113.6"}
            assert proxy.get("/t/ZZZZZZZZ", headers=b).status_code == 404
            assert proxy.get(f"/t/{code}", headers=b).status_code == 200


def test_behind_the_proxy_one_clients_failed_logins_do_not_lock_out_another(
    data_dir: Path,
) -> None:
    settings = make_settings(data_dir)
    add_account(settings, "gambir1", areas=[GAMBIR])
    with aduan_serve(data_dir, trusted_proxies=PROXY) as url:
        with connect_from(url, PROXY, **{"X-Forwarded-For": "203.0.113.5"}) as guesser:
            for number in range(10):
                assert login(guesser, f"tebakan{number}", "salah-sekali-123").status_code == 400
            assert login(guesser, "gambir1").status_code == 429
        with connect_from(url, PROXY, **{"X-Forwarded-For": "203.0.113.6"}) as officer:
            response = login(officer, "gambir1")
            assert response.status_code == 303 and response.headers["location"] == "/staf"
