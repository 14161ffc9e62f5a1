from __future__ import annotations

import stat
from pathlib import Path

import pytest

from web.settings import Settings, SettingsError


def test_secret_is_generated_once_with_mode_600_and_reused(tmp_path: Path) -> None:
    env = {"ADUAN_DATA_DIR": str(tmp_path / "d")}
    first = Settings.from_env(env)
    second = Settings.from_env(env)
    assert first.secret_key == second.secret_key and len(first.secret_key) >= 32
    mode = stat.S_IMODE((tmp_path / "d" / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_secret_from_environment_wins_and_writes_no_file(tmp_path: Path) -> None:
    env = {"ADUAN_DATA_DIR": str(tmp_path / "d"), "ADUAN_SECRET_KEY": "k" * 40}
    assert Settings.from_env(env).secret_key == "k" * 40
    assert not (tmp_path / "d" / "secret_key").exists()


def test_short_secret_and_bad_base_url_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="32"):
        Settings.from_env({"ADUAN_DATA_DIR": str(tmp_path), "ADUAN_SECRET_KEY": "short"})
    with pytest.raises(SettingsError, match="ADUAN_BASE_URL"):
        Settings.from_env({"ADUAN_DATA_DIR": str(tmp_path), "ADUAN_BASE_URL": "aduan.go.id"})


def test_defaults_debug_off_data_dir_local_and_hosts_from_base_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"ADUAN_BASE_URL": "https://lapor.kota.go.id/"})
    assert settings.debug is False
    assert settings.data_dir == tmp_path / "data"
    assert settings.base_url == "https://lapor.kota.go.id"
    assert settings.origin == "https://lapor.kota.go.id" and settings.https
    assert "lapor.kota.go.id" in settings.allowed_hosts
    assert Settings.from_env({"ADUAN_DEBUG": "1"}).debug is True


def test_an_unknown_time_zone_is_refused_at_start(tmp_path: Path) -> None:
    base = {"ADUAN_DATA_DIR": str(tmp_path)}
    assert (
        Settings.from_env({**base, "ADUAN_TIMEZONE": "Asia/Makassar"}).timezone == "Asia/Makassar"
    )
    for bad in ("WIB", "Asia/Atlantis", "../etc/passwd"):
        with pytest.raises(SettingsError, match="ADUAN_TIMEZONE"):
            Settings.from_env({**base, "ADUAN_TIMEZONE": bad})


def test_the_body_timeout_is_a_whole_number_of_seconds(tmp_path: Path) -> None:
    base = {"ADUAN_DATA_DIR": str(tmp_path)}
    assert Settings.from_env(base).body_timeout == 60
    assert Settings.from_env({**base, "ADUAN_BODY_TIMEOUT": "20"}).body_timeout == 20
    for bad in ("0", "-5", "1.5", "²", "99999"):
        with pytest.raises(SettingsError, match="ADUAN_BODY_TIMEOUT"):
            Settings.from_env({**base, "ADUAN_BODY_TIMEOUT": bad})


def test_the_secret_key_stays_out_of_the_settings_repr() -> None:
    secret = "geheim-" + "k" * 40
    shown = repr(
        Settings(data_dir=Path("/srv/aduan"), secret_key=secret, base_url="https://lapor.go.id")
    )
    assert secret not in shown and "secret_key" not in shown
    assert "https://lapor.go.id" in shown  # the rest is still there to read
