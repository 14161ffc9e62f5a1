"""The words of the resident's email, SMS and WhatsApp messages (web/message_text.py), the
stop token they carry (web/contact.py), and the settings that switch the gateways on."""

from __future__ import annotations

from typing import Any

import pytest

from web import contact
from web.message_text import SMS_LENGTH, compose, gsm7_length, to_gsm7
from web.settings import Settings, SettingsError

SECRET = "k" * 48
BASE = "https://pengaduan.kota-tangerang-selatan.go.id"


def details(**fields: Any) -> dict[str, Any]:
    row = {
        "id": 1,
        "channel": "sms",
        "recipient": "+6281234567890",
        "code": "ABCDEFGH",
        "confidential": 0,
        "language": "id",
        "notify_by": "sms",
        "kind": "resolve",
        "public_note": "Sudah diperbaiki.",
    }
    row.update(fields)
    return row


@pytest.mark.parametrize(
    "note",
    [
        "",
        "Beres.",
        "Lubang sudah ditambal dengan aspal dingin oleh Suku Dinas Bina Marga pagi ini " * 5,
        "Kabel {ditarik} ulang [RT 05] ~ ^ | € " * 10,
        "“Sudah” diangkut — terima kasih 🙏 Ibu/Bapak, señor Çelik, ąę ő " * 5,
    ],
)
@pytest.mark.parametrize("base", ["http://x.id", BASE, BASE + "/sub/folder/aduan-kota"])
@pytest.mark.parametrize("language", ["id", "en"])
def test_an_sms_fits_160_gsm7_characters_whatever_the_note(
    note: str, base: str, language: str
) -> None:
    text = compose(details(public_note=note, language=language), base_url=base, secret_key=SECRET)
    assert gsm7_length(text.sms) <= SMS_LENGTH  # raises on a character outside GSM-7
    assert "ABCD-EFGH" in text.sms
    if len(base) < 60:
        assert f"{base}/berhenti/" in text.sms  # the stop link is never the part cut
        assert to_gsm7(note)[:5] in text.sms
    if len(note) > 80:
        assert "..." in text.sms


def test_gsm7_counts_extension_characters_twice_and_folds_what_it_lacks() -> None:
    assert gsm7_length("a{b}") == 6
    assert to_gsm7("“Sudah” — ok… ñ ą 🙏") == '"Sudah" - ok... ñ a'
    with pytest.raises(ValueError):
        gsm7_length("🙏")


def test_a_confidential_report_says_only_that_there_is_news() -> None:
    text = compose(
        details(confidential=1, public_note="Pelaku sudah ditegur.", channel="email"),
        base_url=BASE,
        secret_key=SECRET,
    )
    for shape in (text.subject, text.body, text.sms, *text.parameters):
        assert "ditegur" not in shape and "Selesai" not in shape
    assert "Ada kabar baru" in text.body and "/berhenti/" in text.body


def test_the_stop_token_names_report_and_channel_and_cannot_be_forged() -> None:
    for channel in contact.CHANNELS:
        token = contact.stop_token(SECRET, "ABCDEFGH", channel)
        assert contact.read_stop_token(SECRET, token) == ("ABCDEFGH", channel)
        assert contact.read_stop_token("x" * 48, token) is None
    token = contact.stop_token(SECRET, "ABCDEFGH", "sms")
    assert contact.read_stop_token(SECRET, "ABCDEFGHe" + token[9:]) is None  # other channel
    assert contact.read_stop_token(SECRET, "ZZZZZZZZs" + token[9:]) is None  # other report
    for junk in ("", "s", "x" * 12, token[:-1]):
        assert contact.read_stop_token(SECRET, junk) is None


def test_phone_numbers_go_to_the_gateway_as_plus_62() -> None:
    for typed in ("0812-3456-7890", "62 812 3456 7890", "+62 (812) 3456.7890"):
        assert contact.international_phone(typed) == "+6281234567890"
    assert contact.international_phone("021 555 1234") == ""


def env(**extra: str) -> dict[str, str]:
    return {"ADUAN_SECRET_KEY": SECRET, "ADUAN_DATA_DIR": "/tmp/aduan-unused", **extra}


def test_gateway_settings_are_read_with_their_secrets_kept_out_of_repr() -> None:
    settings = Settings.from_env(
        env(
            ADUAN_SMTP_URL="smtps://aduan%40kota:s%3Acret-pw@mail.kota.go.id",
            ADUAN_MAIL_FROM="aduan@kota.go.id",
            ADUAN_SMS_GATEWAY_URL="https://sms.example/send",
            ADUAN_GATEWAY_TOKEN="tok-123-secret",
        )
    )
    assert settings.smtp is not None
    assert (settings.smtp.host, settings.smtp.port) == ("mail.kota.go.id", 465)
    assert settings.smtp.username == "aduan@kota" and settings.smtp.password == "s:cret-pw"
    assert settings.smtp.implicit_tls
    assert settings.message_channels == ("sms", "email")
    assert settings.offered_channels == ("whatsapp", "sms", "email")
    assert "s:cret-pw" not in repr(settings) and "tok-123-secret" not in repr(settings)
    plain = Settings.from_env(env())
    assert plain.message_channels == () and plain.offered_channels == ("whatsapp",)


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"ADUAN_SMTP_URL": "mail.kota.go.id:587"}, "ADUAN_SMTP_URL"),
        ({"ADUAN_SMTP_URL": "smtp://h:99999", "ADUAN_MAIL_FROM": "a@b.id"}, "port"),
        ({"ADUAN_SMTP_URL": "smtp://u:pw-here@h"}, "ADUAN_MAIL_FROM"),
        ({"ADUAN_SMS_GATEWAY_URL": "ftp://sms.example"}, "ADUAN_SMS_GATEWAY_URL"),
        ({"ADUAN_SMS_GATEWAY_URL": "https://u:pw-here@sms.example"}, "ADUAN_GATEWAY_TOKEN"),
        ({"ADUAN_WHATSAPP_GATEWAY_URL": "https://wa.example/send"}, "ADUAN_GATEWAY_TOKEN"),
        ({"ADUAN_WHATSAPP_TEMPLATE": "Kabar Laporan!"}, "ADUAN_WHATSAPP_TEMPLATE"),
    ],
)
def test_a_gateway_setting_that_cannot_work_is_refused_with_a_clear_message(
    extra: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError, match=named) as refused:
        Settings.from_env(env(**extra))
    assert "pw-here" not in str(refused.value)
