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


def test_an_s3_photo_store_is_read_with_the_standard_aws_variables(tmp_path: Path) -> None:
    base = {"ADUAN_DATA_DIR": str(tmp_path), "ADUAN_SECRET_KEY": "k" * 40}
    assert Settings.from_env(base).photo_store is None  # unset: files in the data folder
    env = {
        **base,
        "ADUAN_PHOTO_STORE": "s3://aduan-foto/kota-bogor/foto/",
        "ADUAN_S3_ENDPOINT_URL": "http://127.0.0.1:8333/",
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "rahasia-sekali-0123456789",
        "AWS_REGION": "ap-southeast-3",
    }
    where = Settings.from_env(env).photo_store
    assert where is not None
    assert (where.bucket, where.prefix, where.url) == (
        "aduan-foto",
        "kota-bogor/foto",
        "s3://aduan-foto/kota-bogor/foto",
    )
    assert where.endpoint_url == "http://127.0.0.1:8333" and where.region == "ap-southeast-3"
    assert where.access_key_id == "AKIAEXAMPLE"
    assert "rahasia" not in repr(Settings.from_env(env)) and "AKIA" not in repr(where)
    bare = Settings.from_env({**base, "ADUAN_PHOTO_STORE": "s3://aduan-foto"}).photo_store
    assert bare is not None and (bare.prefix, bare.region, bare.endpoint_url) == (
        "",
        "us-east-1",
        "",
    )


@pytest.mark.parametrize(
    ("value", "extra", "says"),
    [
        ("/srv/foto", {}, "must be an S3 address"),
        ("https://aduan-foto.s3.amazonaws.com/x", {}, "must be an S3 address"),
        ("s3://Aduan_Foto/x", {}, "bucket of 3 to 63"),
        ("s3://ab", {}, "bucket of 3 to 63"),
        ("s3://aduan-foto:9000/x", {}, "bucket of 3 to 63"),
        ("s3://AKIA:rahasia@aduan-foto/x", {}, "holds no keys"),
        ("s3://aduan-foto/kota//foto", {}, "single slashes"),
        ("s3://aduan-foto/../foto", {}, "single slashes"),
        ("s3://aduan-foto/foto?versi=2", {}, "no query"),
        ("s3://aduan-foto/x", {"ADUAN_S3_ENDPOINT_URL": "127.0.0.1:8333"}, "ENDPOINT_URL"),
        ("s3://aduan-foto/x", {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE"}, "go together"),
    ],
)
def test_a_photo_store_address_that_cannot_work_is_refused_with_its_reason(
    tmp_path: Path, value: str, extra: dict[str, str], says: str
) -> None:
    env = {"ADUAN_DATA_DIR": str(tmp_path), "ADUAN_SECRET_KEY": "k" * 40}
    with pytest.raises(SettingsError, match=says) as refused:
        Settings.from_env({**env, "ADUAN_PHOTO_STORE": value, **extra})
    assert "rahasia" not in str(refused.value)
