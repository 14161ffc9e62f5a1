"""Senders for the gateways a city can switch on (Settings): email through SMTP, SMS and
WhatsApp Business templates through an HTTP gateway. `senders(settings, db)` gives one per
configured channel, for web.outbox.deliver_due.

Each sender reads what the message is about at send time (db.messages.contact_details),
writes it in the reporter's language (web/message_text.py) and maps the answer to an
Outcome: delivered; worth retrying (a 4xx from SMTP, a 5xx, 408 or 429 from the gateway, a
timeout or a network error); or failed at once (a 5xx from SMTP, any other 4xx from the
gateway). A message whose channel the reporter stopped meanwhile is failed, not sent.

A staff alert (the message's `alert` set) goes to an officer's work contact, not to the
reporter: it is read with db.alerts.alert_details and written by `compose_alert`, the
reporter's consent and stop link play no part, and it is failed, not sent, when the account
was deactivated or the contact is no longer the account's. A WhatsApp alert names its own
template (ADUAN_WHATSAPP_ALERT_TEMPLATE).

Both speak through the standard library in a worker thread (smtplib, urllib): no extra
dependency for a few messages a minute, a timeout on every call, and the event loop never
waits on a gateway.
"""

from __future__ import annotations

import asyncio
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from db import alerts, messages
from db.database import Database
from web import contact
from web.message_text import Text, compose, compose_alert
from web.outbox import SENT, Outcome, Sender
from web.settings import Settings, SmtpServer

TIMEOUT = 20.0


def senders(settings: Settings, db: Database) -> dict[str, Sender]:
    """The senders of the channels this server has a gateway for (none: an empty dict)."""
    out: dict[str, Sender] = {}
    if settings.smtp is not None:
        out["email"] = _sender(settings, db, _email(settings.smtp, settings.mail_from))
    if settings.sms_gateway_url:
        out["sms"] = _sender(settings, db, _gateway(settings.sms_gateway_url, settings, "sms"))
    if settings.whatsapp_gateway_url:
        post = _gateway(settings.whatsapp_gateway_url, settings, "whatsapp")
        out["whatsapp"] = _sender(settings, db, post)
    return out


Deliver = Callable[[Any, Text], Outcome]


def _sender(settings: Settings, db: Database, deliver: Deliver) -> Sender:
    async def send(message: Any) -> Outcome:
        if message["alert"]:
            return await send_alert(message)
        async with db.read() as conn:
            details = await messages.contact_details(conn, message["id"])
        if details is None:
            return Outcome(error="the message is gone")
        if details["channel"] not in contact.split(details["notify_by"]):
            return Outcome(error="stopped by the reporter")
        text = compose(details, base_url=settings.base_url, secret_key=settings.secret_key)
        return await asyncio.to_thread(deliver, details, text)

    async def send_alert(message: Any) -> Outcome:
        async with db.read() as conn:
            details = await alerts.alert_details(conn, message["id"])
        if details is None:
            return Outcome(error="the message is gone")
        if not details["active"]:
            return Outcome(error="account deactivated")
        now = details["alert_email" if details["channel"] == "email" else "alert_phone"]
        if details["recipient"] != now:
            return Outcome(error="no longer the account's contact")
        text = compose_alert(details, base_url=settings.base_url)
        return await asyncio.to_thread(deliver, details, text)

    return send


# --- email ---------------------------------------------------------------------------------


def _email(server: SmtpServer, mail_from: str) -> Deliver:
    def deliver(details: Any, text: Text) -> Outcome:
        mail = EmailMessage()
        mail["From"] = mail_from
        mail["To"] = details["recipient"]
        mail["Subject"] = text.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain=mail_from.rpartition("@")[2])
        if text.stop:
            mail["List-Unsubscribe"] = f"<{text.stop}>"
        mail["Auto-Submitted"] = "auto-generated"
        mail.set_content(text.body)
        mail["Content-Language"] = text.language  # after set_content, which clears Content-*
        try:
            _smtp_send(server, mail)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            return _smtp_outcome(code, reply)
        except smtplib.SMTPAuthenticationError as exc:
            # the city's password, not this message: try again (someone may fix it)
            return Outcome(retry=True, error=f"SMTP {exc.smtp_code} sign-in refused")
        except smtplib.SMTPResponseException as exc:
            return _smtp_outcome(exc.smtp_code, exc.smtp_error)
        except (smtplib.SMTPException, OSError) as exc:  # refused, timed out, cut, TLS
            return Outcome(retry=True, error=f"SMTP {type(exc).__name__}: {exc}")
        return SENT

    return deliver


def _smtp_send(server: SmtpServer, mail: EmailMessage) -> None:
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if server.implicit_tls:
        client = smtplib.SMTP_SSL(server.host, server.port, timeout=TIMEOUT, context=context)
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT)
    with client:
        client.ehlo()
        if not server.implicit_tls and client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
        if server.username:
            client.login(server.username, server.password)
        client.send_message(mail)


def _smtp_outcome(code: int, reply: bytes | str) -> Outcome:
    said = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    error = f"SMTP {code} {said}".strip()
    return Outcome(retry=400 <= code < 500, error=error)


# --- the HTTP gateway (SMS, WhatsApp Business templates) -----------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A gateway that redirects is misconfigured: its 3xx is the answer, not followed."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def gateway_body(channel: str, details: Any, text: Text, template: str) -> dict[str, Any]:
    """What the gateway receives (README: "Gateways"): the number, the whole text, and for
    WhatsApp the approved template's name, language and parameters (code, step, note,
    tracking link, stop link; for a staff alert: title, category, staff link). `id` is the
    same on every try of a message, so a gateway can drop a repeat."""
    body: dict[str, Any] = {
        "id": f"aduan-{details['id']}",
        "channel": channel,
        "to": details["recipient"],
        "text": text.sms if channel == "sms" else text.body,
        "language": text.language,
    }
    if channel == "whatsapp":
        body["template"] = template
        body["parameters"] = list(text.parameters)
    return body


def _gateway(url: str, settings: Settings, channel: str) -> Deliver:
    def deliver(details: Any, text: Text) -> Outcome:
        template = settings.whatsapp_alert_template if details["alert"] else None
        body = gateway_body(channel, details, text, template or settings.whatsapp_template)
        request = urllib.request.Request(  # noqa: S310 - an http(s) URL checked in settings
            url,
            data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Authorization": f"Bearer {settings.gateway_token}",
                "Idempotency-Key": body["id"],
            },
            method="POST",
        )
        try:
            with _OPENER.open(request, timeout=TIMEOUT) as answer:
                status = answer.status
        except urllib.error.HTTPError as exc:
            said = exc.read(300).decode("utf-8", "replace")
            exc.close()
            return _http_outcome(exc.code, said)
        except (urllib.error.URLError, OSError) as exc:  # refused, unreachable, timed out
            return Outcome(retry=True, error=f"gateway: {exc}")
        return SENT if 200 <= status < 300 else _http_outcome(status, "")

    return deliver


def _http_outcome(status: int, said: str) -> Outcome:
    error = f"gateway HTTP {status} {' '.join(said.split())}".strip()
    return Outcome(retry=status >= 500 or status in (408, 429), error=error)
