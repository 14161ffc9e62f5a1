"""The Web Push key pair: made once by `aduan init`, kept across restarts, the same for
every server that is given it, and refused with a clear message when it is not a P-256 key."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.conftest import make_settings
from web import vapid
from web.cli import main
from web.settings import Settings, SettingsError


def point(key: str) -> bytes:
    return base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))


def test_init_makes_one_key_pair_that_restarts_keep(data_dir: Path) -> None:
    assert main(["init"]) == 0
    stored = data_dir / vapid.VAPID_FILE_NAME
    assert oct(stored.stat().st_mode & 0o777) == "0o600"
    first = vapid.application_server_key(Settings.from_env({"ADUAN_DATA_DIR": str(data_dir)}))
    assert main(["init"]) == 0
    vapid._key.cache_clear()  # a restarted process reads the file again
    again = vapid.application_server_key(Settings.from_env({"ADUAN_DATA_DIR": str(data_dir)}))
    assert again == first
    raw = point(first)
    assert len(raw) == 65 and raw[0] == 4  # what PushManager.subscribe accepts
    assert "=" not in first


def test_servers_given_the_key_agree_whatever_their_data_directory(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    scalar = key.private_numbers().private_value.to_bytes(32, "big")
    raw = base64.urlsafe_b64encode(scalar).rstrip(b"=").decode()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    for n, given in enumerate((raw, pem)):
        settings = Settings.from_env(
            {"ADUAN_DATA_DIR": str(tmp_path / f"s{n}"), "ADUAN_VAPID_PRIVATE_KEY": given}
        )
        assert point(vapid.application_server_key(settings)) == public
        assert not (tmp_path / f"s{n}" / vapid.VAPID_FILE_NAME).exists()
    assert raw not in repr(settings)


@pytest.mark.parametrize("given", ["not a key", "AAAA", "-----BEGIN PRIVATE KEY-----\nxx\n"])
def test_a_key_that_is_not_p256_is_refused_with_a_clear_message(tmp_path: Path, given: str) -> None:
    settings = dataclasses.replace(make_settings(tmp_path), vapid_private_key=given)
    with pytest.raises(SettingsError, match="ADUAN_VAPID_PRIVATE_KEY"):
        vapid.application_server_key(settings)
