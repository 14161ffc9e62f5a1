"""API keys: `aduan apikey add|list|revoke`, stored only as a hash, usable at once, revocable."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.backend import dump, query, set_operator_environment
from tests.test_open311_post import form
from web.app import create_app
from web.cli import main
from web.settings import Settings

KEY = re.compile(r"Key \(shown once, store it now\): (ak_[A-Za-z0-9_-]{43})$", re.MULTILINE)


@pytest.fixture
def operator_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The environment an operator runs `aduan` in, on the test's database."""
    set_operator_environment(settings, monkeypatch)
    return settings


def add_key(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["apikey", "add", *args]) == 0
    match = KEY.search(capsys.readouterr().out)
    assert match, "the key is printed once"
    return match[1]


def test_a_key_is_shown_once_and_stored_only_as_its_hash(
    operator_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = add_key(capsys, "JAKI", "--rate-per-minute", "30")
    row = query(operator_env, "SELECT * FROM api_keys")[0]
    everything = dump(operator_env)
    assert row["name"] == "JAKI" and row["rate_per_minute"] == 30
    assert row["key_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert row["prefix"] == secret[:11] and row["revoked_at"] is None
    assert secret not in everything
    assert main(["apikey", "list"]) == 0
    listing = capsys.readouterr().out
    assert row["prefix"] in listing and "JAKI" in listing and "active" in listing
    assert secret not in listing


def test_every_key_is_different(operator_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert add_key(capsys, "A") != add_key(capsys, "B")


def test_a_key_made_on_the_console_files_requests_until_revoked(
    operator_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = add_key(capsys, "Qlue")
    with TestClient(create_app(operator_env)) as client:
        assert client.post("/open311/v2/requests.json", data=form(secret)).status_code == 200
        assert main(["apikey", "revoke", secret[:11]]) == 0
        assert "Revoked" in capsys.readouterr().out
        refused = client.post("/open311/v2/requests.json", data=form(secret))
        assert refused.status_code == 403
    assert main(["apikey", "list"]) == 0
    assert "revoked" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["apikey", "revoke", "ak_tidakada"], "no active key with prefix"),
        (["apikey", "add", "JAKI", "--rate-per-minute", "0"], "between 1 and"),
        (["apikey", "add", "  "], "needs a name"),
    ],
)
def test_operator_mistakes_print_one_line_and_exit_2(
    operator_env: Settings, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_revoking_twice_says_there_is_no_active_key(
    operator_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = add_key(capsys, "JAKI")
    assert main(["apikey", "revoke", secret[:11]]) == 0
    assert main(["apikey", "revoke", secret[:11]]) == 2


def test_apikey_needs_a_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADUAN_DATA_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("ADUAN_SECRET_KEY", "x" * 40)
    assert main(["apikey", "list"]) == 2
    assert "aduan init" in capsys.readouterr().err
