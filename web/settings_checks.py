"""The settings that take more than a line to check: the error every check raises, and the
channels notifications go out on (Web Push hosts, SMTP, the SMS and WhatsApp gateways).
web/settings.py reads them with the rest."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message says which and why."""


@dataclass(frozen=True)
class PushHost:
    """A host the server may POST Web Push messages to (web/push.py): a name, or `*.suffix`
    for every name under it; https on `port` unless written as http://host:port."""

    host: str
    port: int = 443
    scheme: str = "https"


# What an entry of ADUAN_PUSH_HOSTS may be: [http://|https://]host-or-*.suffix[:port]
_PUSH_HOST_RE = re.compile(
    r"(?:(?P<scheme>https?)://)?(?P<host>(?:\*\.)?[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?"
    r"|\[[0-9a-f:.]+\])(?::(?P<port>[0-9]{1,5}))?/?"
)


def parse_push_hosts(value: str) -> tuple[PushHost, ...]:
    """ADUAN_PUSH_HOSTS: a comma list of push services beyond the browsers' own, as
    `host[:port]` (https) or `http://host:port` (plain http, for a local test service)."""
    hosts = []
    for entry in (e.strip().lower() for e in value.split(",")):
        if not entry:
            continue
        match = _PUSH_HOST_RE.fullmatch(entry)
        port = int(match["port"]) if match and match["port"] else None
        if match is None or (port is not None and not 0 < port < 65536):
            raise SettingsError(
                "ADUAN_PUSH_HOSTS must be a comma list of push service hosts such as "
                "push.example.org, push.example.org:8443, *.push.example.org or "
                f"http://127.0.0.1:8089 (got {entry!r})"
            )
        scheme = match["scheme"] or "https"
        default_port = 443 if scheme == "https" else 80
        hosts.append(PushHost(match["host"].strip("[]"), port or default_port, scheme))
    return tuple(hosts)


@dataclass(frozen=True)
class SmtpServer:
    """Where email is sent from (ADUAN_SMTP_URL): `smtp://` upgrades with STARTTLS when the
    server offers it, `smtps://` speaks TLS from the first byte. The password stays out of
    repr()."""

    host: str
    port: int
    username: str = ""
    password: str = field(default="", repr=False)
    implicit_tls: bool = False


def parse_smtp_url(value: str) -> SmtpServer:
    """`smtp://user:pass@host:port` or `smtps://…`, checked; SettingsError says what is
    wrong (without repeating the password)."""
    example = "smtp://aduan:kata-sandi@mail.kota.go.id:587"
    parts = urlsplit(value.strip())
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise SettingsError(
            f"ADUAN_SMTP_URL must be an address such as {example} or smtps://…:465 "
            f"(got one starting {value.partition(':')[0]!r})"
        )
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 587)
    except ValueError:
        raise SettingsError("ADUAN_SMTP_URL has a port that is not a number 1-65535") from None
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise SettingsError(f"ADUAN_SMTP_URL takes no path or query, e.g. {example}")
    return SmtpServer(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        implicit_tls=parts.scheme == "smtps",
    )


def _gateway_url(env: dict[str, str], name: str) -> str:
    value = (env.get(name) or "").strip()
    parts = urlsplit(value)
    if value and (parts.scheme not in {"http", "https"} or not parts.hostname):
        raise SettingsError(
            f"{name} must be the full http(s) address the gateway takes messages at, e.g. "
            f"https://gateway.example/api/send (got one starting {value.partition(':')[0]!r})"
        )
    if parts.username is not None or parts.password is not None:
        raise SettingsError(f"{name} holds no password: give the token in ADUAN_GATEWAY_TOKEN")
    return value


_MAIL_FROM = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")


def messaging_settings(env: dict[str, str]) -> dict[str, object]:
    """The gateways a city switched on (web/gateways.py), checked together."""
    smtp_url = (env.get("ADUAN_SMTP_URL") or "").strip()
    smtp = parse_smtp_url(smtp_url) if smtp_url else None
    mail_from = (env.get("ADUAN_MAIL_FROM") or "").strip()
    if smtp and not _MAIL_FROM.match(mail_from):
        raise SettingsError(
            "ADUAN_MAIL_FROM must be the address email is sent from, e.g. "
            f"aduan@kota.go.id, when ADUAN_SMTP_URL is set (got {mail_from!r})"
        )
    sms = _gateway_url(env, "ADUAN_SMS_GATEWAY_URL")
    whatsapp = _gateway_url(env, "ADUAN_WHATSAPP_GATEWAY_URL")
    token = (env.get("ADUAN_GATEWAY_TOKEN") or "").strip()
    if (sms or whatsapp) and not token:
        raise SettingsError(
            "ADUAN_GATEWAY_TOKEN (the bearer token the gateway gave you) is needed with "
            "ADUAN_SMS_GATEWAY_URL or ADUAN_WHATSAPP_GATEWAY_URL"
        )
    templates: dict[str, str] = {}
    for key, name, default in (
        ("whatsapp_template", "ADUAN_WHATSAPP_TEMPLATE", "aduan_update"),
        ("whatsapp_alert_template", "ADUAN_WHATSAPP_ALERT_TEMPLATE", "aduan_peringatan"),
    ):
        templates[key] = template = (env.get(name) or default).strip()
        if not _TEMPLATE_NAME.match(template):
            raise SettingsError(
                f"{name} must be the approved template's name: lowercase "
                f"letters, digits and underscores (got {template!r})"
            )
    return {
        "smtp": smtp,
        "mail_from": mail_from,
        "sms_gateway_url": sms,
        "whatsapp_gateway_url": whatsapp,
        "gateway_token": token,
        **templates,
    }
