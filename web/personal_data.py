"""Residents' personal data under UU PDP (UU No. 27 Tahun 2022): how long a reporter's contact
is kept and how it is erased, by the periodic task, by the reporter through the private
link, or by an admin answering a request that came to the office.

Erasing overwrites the values (db/personal_data.py), then, on SQLite, checkpoints and empties
the WAL so the old pages leave the files too (`PRAGMA secure_delete` zeroes freed space in
the database file itself). The report, its timeline, photos and figures stay.
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from db import personal_data as pd_db
from db.audit import Actor
from db.database import Database
from web import audit, text, validators
from web.clock import to_text, utc_now
from web.forms import FIELD_LIMITS, PHONE_MESSAGE
from web.i18n import gettext as _
from web.i18n import translate

log = logging.getLogger("aduan.personal_data")
# Reports erased per write transaction by the periodic task (keeps each transaction short).
BATCH = 200


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the 31st becomes the last
    day of a shorter month)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def retention_cutoff(now: datetime, months: int) -> str:
    """Reports closed before this stored time have held their contact long enough."""
    return to_text(months_before(now, months))


async def erase_expired(db: Database, *, months: int, now: datetime | None = None) -> int:
    """Erase the contact of every report closed more than `months` months ago; returns how
    many reports were erased. Safe to repeat: an erased report is marked and not read again."""
    moment = now or utc_now()
    cutoff = retention_cutoff(moment, months)
    erased = 0
    while True:
        ids = await pd_db.due_for_erasure(db, cutoff, limit=BATCH)
        if not ids:
            break
        async with db.write() as conn:
            erased += await pd_db.erase_contacts(conn, ids, now=to_text(moment), by="retention")
        if len(ids) < BATCH:
            break
    if erased:
        await db.scrub()
        log.info("erased the contact of %d reports closed over %d months ago", erased, months)
    return erased


async def erase_reports(
    db: Database, report_ids: Sequence[int], *, by: str, now: datetime | None = None
) -> int:
    """Erase the contact of these reports at once (the reporter's or the office's request)."""
    async with db.write() as conn:
        erased = await pd_db.erase_contacts(conn, report_ids, now=to_text(now or utc_now()), by=by)
    await db.scrub()
    return erased


# --- the reporter's own correction ("Data saya") -----------------------------------------

CONTACT_FIELDS = ("reporter_name", "reporter_phone", "reporter_email")
# The channels of reports.notify_by, and the contact each needs (web/whatsapp.py reads it).
CHANNEL_NEEDS = {"whatsapp": "reporter_phone", "sms": "reporter_phone", "email": "reporter_email"}


@dataclass
class ContactCorrection:
    """A corrected contact as typed (`values`, shown again on errors), the errors by field,
    and what to store when there are none."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    stored: dict[str, str] = field(default_factory=dict)


def check_contact(form: Mapping[str, Any], notify_by: str) -> ContactCorrection:
    """The report form's checks on a reporter's name, phone and email (web/forms.py's words
    and limits); `notify_by` keeps only the channels whose contact is still given."""
    values = {name: str(form.get(name) or "") for name in CONTACT_FIELDS}
    result = ContactCorrection(values=values)
    for name in CONTACT_FIELDS:
        cleaned = text.clean(values[name], multiline=False)
        values[name] = cleaned.text
        if cleaned.problem:
            result.errors[name] = translate(text.MESSAGES[cleaned.problem])
        elif len(cleaned.text) > FIELD_LIMITS.get(name, 200):
            result.errors[name] = _("Terlalu panjang: paling banyak %(n)d huruf.") % {
                "n": FIELD_LIMITS.get(name, 200)
            }
    phone = validators.normalise_phone(values["reporter_phone"])
    if phone and not validators.is_mobile_number(phone) and "reporter_phone" not in result.errors:
        result.errors["reporter_phone"] = translate(PHONE_MESSAGE)
    email = values["reporter_email"]
    if email and not validators.is_email(email) and "reporter_email" not in result.errors:
        result.errors["reporter_email"] = _("Alamat email tidak dikenali. Contoh: nama@contoh.id.")
    if result.errors:
        return result
    given = {"reporter_phone": phone, "reporter_email": email}
    channels = [c for c in notify_by.split(",") if c and given.get(CHANNEL_NEEDS.get(c, ""))]
    result.stored = {
        "name": values["reporter_name"],
        "phone": phone,
        "email": email,
        "notify_by": ",".join(channels),
    }
    return result


async def correct_contact(db: Database, report_id: int, correction: ContactCorrection) -> bool:
    """Store a checked correction; False when the contact was erased meanwhile."""
    async with db.write() as conn:
        changed = await pd_db.correct_contact(conn, report_id, **correction.stored)
    return changed == 1


# --- requests that come to the office ------------------------------------------------------

# What a held report is exported as, in this order (CSV columns, JSON keys).
EXPORT_FIELDS = (
    "code",
    "status",
    "received_at",
    "closed_at",
    "reporter_name",
    "reporter_phone",
    "reporter_email",
    "anonymous",
    "on_behalf_name",
    "on_behalf_phone",
    "volunteer_name",
    "lat",
    "lon",
    "notify_by",
    "device_id",
    "address",
    "rt_rw",
    "description",
    "contact_erased_at",
)


@dataclass(frozen=True)
class ContactQuery:
    """A phone number or email address typed by an admin, read as what to look for."""

    typed: str
    phones: tuple[str, ...] = ()
    email: str = ""
    problem: str = ""


def phone_spellings(number: str) -> tuple[str, ...]:
    """The ways one Indonesian number is stored: 0812…, 62812… and +62812…."""
    if number.startswith("+62"):
        local = number[3:]
    elif number.startswith("62"):
        local = number[2:]
    elif number.startswith("0"):
        local = number[1:]
    else:
        return (number,)
    return (f"0{local}", f"62{local}", f"+62{local}")


def read_contact_query(typed: str) -> ContactQuery:
    """An email address, or a phone number in any of the ways people write it."""
    typed = text.clean(typed).text
    if "@" in typed:
        if not validators.is_email(typed):
            return ContactQuery(
                typed, problem=_("Alamat email tidak dikenali. Contoh: nama@contoh.id.")
            )
        return ContactQuery(typed, email=typed.lower())
    number = validators.normalise_phone(typed)
    if not number or not validators.is_telephone_number(number) or len(number) < 6:
        return ContactQuery(
            typed, problem=_("Tulis nomor HP (contoh 0812 3456 7890) atau alamat email.")
        )
    return ContactQuery(typed, phones=phone_spellings(number))


async def find_reports(db: Database, query: ContactQuery) -> list[Any]:
    """Every report holding this phone number or email address."""
    if query.problem:
        return []
    return await pd_db.reports_holding(db, phones=query.phones, email=query.email)


def export_rows(reports: Sequence[Any]) -> list[dict[str, Any]]:
    """What is held, report by report, in EXPORT_FIELDS order."""
    return [{name: report[name] for name in EXPORT_FIELDS} for report in reports]


async def record_export(db: Database, actor: Actor, reports: Sequence[Any], fmt: str) -> None:
    """The audit log entry of an export: which reports, in what format; never the contact."""
    async with db.write() as conn:
        await audit.record(
            conn,
            actor,
            "personal_data.export",
            table="reports",
            key=_key(reports),
            before=None,
            after={"reports": [r["code"] for r in reports], "format": fmt},
        )


async def erase_for_office(
    db: Database, actor: Actor, reports: Sequence[Any], *, now: datetime | None = None
) -> int:
    """Erase these reports' contact for a request that came to the office, with its audit
    log entry in the same transaction; returns how many reports were erased."""
    if not reports:
        return 0
    moment = now or utc_now()
    async with db.write() as conn:
        erased = await pd_db.erase_contacts(
            conn, [r["id"] for r in reports], now=to_text(moment), by="office"
        )
        await audit.record(
            conn,
            actor,
            "personal_data.erase",
            table="reports",
            key=_key(reports),
            before=None,
            after={"reports": [r["code"] for r in reports]},
            now=moment,
        )
    await db.scrub()
    return erased


def _key(reports: Sequence[Any]) -> str:
    codes = [str(r["code"]) for r in reports]
    return " ".join(codes[:10]) + (" …" if len(codes) > 10 else "")


async def record_staff_csv(
    db: Database, actor: Actor, export: str, filters: Mapping[str, str]
) -> None:
    """The audit log entry of a staff CSV holding reporters' contacts: who downloaded which
    export with which filters (a free-text search is left out: it may hold a name)."""
    shown = "; ".join(
        f"{name}={'…' if name == 'q' else value}" for name, value in sorted(filters.items())
    )
    async with db.write() as conn:
        await audit.record(
            conn,
            actor,
            "personal_data.staff_csv",
            table="reports",
            key=export,
            before=None,
            after={"filters": shown or "—"},
        )
