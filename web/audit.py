"""The audit log's rules: who is acting, what each kind of change records, how an entry
reads on the log page and in its CSV, and which changes the public `/kinerja` page must own
up to. The SQL is in db/audit.py.

What is recorded (before → after, as JSON): a category's three deadline targets; a holiday
added, renamed or removed; a category's default agency (routing) when `aduan init` changes
it; an account created, its role/scope edited, its work contacts for alerts set, its
password reset, deactivated or reactivated; an API key made or revoked (prefix, name and
rate, never the key). Never a password, a hash or a key's secret; and not a staff member's
display name, which is their real name, nor their email or phone number: an append-only log
could never forget them again, so only the fact that one is set or changed is kept. An
entry is written only when something really changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date

from db import accounts as account_db
from db import audit as audit_db
from db import stats as stats_db
from db.audit import Actor, Entry
from db.database import Connection, Database
from web import codes, i18n
from web.clock import from_text, start_of_day, to_text, utc_now
from web.i18n import gettext as _
from web.i18n import lazy_gettext as N_
from web.i18n import translate
from web.lifecycle.deadlines import UNIT_LABELS

KIND_LABELS = {
    "targets": N_("Target waktu"),
    "holiday": N_("Hari libur"),
    "routing": N_("Instansi tujuan jenis masalah"),
    "account": N_("Akun petugas"),
    "apikey": N_("Kunci API"),
    "personal_data": N_("Data pribadi warga"),
}
ACTION_LABELS = {
    "targets.change": N_("Target waktu diubah"),
    "holiday.add": N_("Hari libur ditambahkan"),
    "holiday.rename": N_("Nama hari libur diubah"),
    "holiday.remove": N_("Hari libur dihapus"),
    "routing.change": N_("Instansi tujuan diubah"),
    "routing.add": N_("Jenis masalah baru"),
    "account.create": N_("Akun dibuat"),
    "account.edit": N_("Peran atau wilayah tugas diubah"),
    "account.contacts": N_("Kontak pemberitahuan diubah"),
    "account.password": N_("Kata sandi diganti"),
    "account.deactivate": N_("Akun dinonaktifkan"),
    "account.reactivate": N_("Akun diaktifkan kembali"),
    "apikey.create": N_("Kunci API dibuat"),
    "apikey.revoke": N_("Kunci API dicabut"),
    "personal_data.export": N_("Data pribadi diserahkan (ekspor)"),
    "personal_data.erase": N_("Data pribadi dihapus"),
    "personal_data.staff_csv": N_("CSV laporan berisi kontak diunduh"),
}
FIELD_LABELS = {
    "response": N_("Tanggapan pertama"),
    "dispatch": N_("Diverifikasi dan diteruskan"),
    "resolution": N_("Selesai dikerjakan instansi"),
    "name": N_("Nama"),
    "default_agency_code": N_("Instansi tujuan"),
    "confidential": N_("Rahasia"),
    "role": N_("Peran"),
    "agency_code": N_("Instansi"),
    "areas": N_("Wilayah tugas"),
    "active": N_("Aktif"),
    "display_name_changed": N_("Nama tampilan"),
    "alert_email": N_("Email pemberitahuan"),
    "alert_email_changed": N_("Email pemberitahuan"),
    "alert_phone": N_("Nomor HP pemberitahuan"),
    "alert_phone_changed": N_("Nomor HP pemberitahuan"),
    "sessions_ended": N_("Sesi yang diakhiri"),
    "rate_per_minute": N_("Batas permintaan per menit"),
    "revoked_at": N_("Dicabut"),
    "reports": N_("Laporan"),
    "format": N_("Format"),
    "filters": N_("Saringan"),
}
ROLE_LABELS = {
    "admin": N_("Admin"),
    "supervisor": N_("Supervisor (hanya membaca)"),
    "officer": N_("Petugas"),
}
TARGETS = ("response", "dispatch", "resolution")
# Fields that name the object rather than describe it: shown in its label, not as changes.
IDENTITY = frozenset({"username", "prefix", "day"})
# Fields that say only that a value changed, never the value (personal data).
CHANGED_FACTS = frozenset({"display_name_changed", "alert_email_changed", "alert_phone_changed"})


def actor_of(account: Any) -> Actor:
    """The staff account making a change, as the log keeps it (id and username now)."""
    return Actor(int(account.id), str(account.username))


async def record(
    conn: Connection,
    actor: Actor,
    action: str,
    *,
    table: str,
    key: str | int,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    now: datetime | None = None,
) -> bool:
    """Append an entry in the caller's write transaction, unless nothing changed (a form
    saved as it was is not a change); True when one was written."""
    if before == after:
        return False
    await audit_db.record(
        conn,
        at=to_text(now or utc_now()),
        actor=actor,
        action=action,
        table=table,
        key=str(key),
        before=before,
        after=after,
    )
    return True


def account_state(row: Mapping[str, Any], areas: Iterable[str]) -> dict[str, Any]:
    """What the log keeps of an account: no display name, no password hash."""
    return {
        "username": row["username"],
        "role": row["role"],
        "agency_code": row["agency_code"],
        "areas": sorted(set(areas)),
        "active": bool(row["active"]),
    }


async def account_snapshot(conn: Connection, user_id: int) -> dict[str, Any] | None:
    """`account_state` of an account as it is now in the caller's transaction."""
    found = await account_db.account_with_areas(conn, user_id)
    return account_state(*found) if found else None


def key_state(key: Any) -> dict[str, Any]:
    """What the log keeps of an API key: its prefix and name, never the key or its hash."""
    return {
        "prefix": key.prefix,
        "name": key.name,
        "rate_per_minute": key.rate_per_minute,
        "revoked_at": key.revoked_at,
    }


# --- reading entries ----------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One field of an entry as people read it; `before` None for a new value only."""

    label: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class Names:
    """code → name of the categories, agencies and areas entries mention."""

    categories: Mapping[str, Any]
    agencies: Mapping[str, Any]
    areas: Mapping[str, Any]

    @classmethod
    async def load(cls, db: Database, entries: Iterable[Entry]) -> Names:
        area_codes: set[str] = set()
        for entry in entries:
            for state in (entry.before, entry.after):
                area_codes.update((state or {}).get("areas") or [])
        return cls(
            categories=await stats_db.category_names(db),
            agencies=await stats_db.agency_names(db),
            areas=await stats_db.area_names(db, area_codes),
        )

    def _named(self, rows: Mapping[str, Any], code: str) -> str:
        row = rows.get(code)
        if row is None:
            return code
        return str(row["name_en"] if i18n.current_language.get() == "en" else row["name_id"])

    def category(self, code: str) -> str:
        return self._named(self.categories, code)

    def agency(self, code: str) -> str:
        return self._named(self.agencies, code)

    def area(self, code: str) -> str:
        row = self.areas.get(code)
        return f"{row['name']} ({code})" if row else code


def actor_label(entry: Entry) -> str:
    return _("Konsol server") if entry.actor_id is None else entry.actor_name


def kind_label(entry: Entry) -> str:
    return translate(KIND_LABELS.get(entry.kind, entry.kind))


def action_label(entry: Entry) -> str:
    return translate(ACTION_LABELS.get(entry.action, entry.action))


def _day_label(day: str) -> str:
    try:
        return str(
            format_date(
                date.fromisoformat(day), "EEEE, d MMMM yyyy", locale=i18n.current_language.get()
            )
        )
    except ValueError:
        return day


def object_name(entry: Entry, names: Names) -> str:
    """The name of the changed object: category, holiday, username or key name."""
    state = entry.after or entry.before or {}
    if entry.table == "categories":
        return names.category(entry.key)
    if entry.table == "users":
        return str(state.get("username", entry.key))
    return str(state.get("name", ""))


def object_label(entry: Entry, names: Names) -> str:
    """What was changed, as people call it: 'Jenis masalah Sampah', 'Akun gambir1'…"""
    state = entry.after or entry.before or {}
    if entry.table == "categories":
        return _("Jenis masalah %(name)s") % {"name": names.category(entry.key)}
    if entry.table == "holidays":
        return _day_label(entry.key)
    if entry.table == "users":
        return _("Akun %(username)s") % {"username": state.get("username", entry.key)}
    if entry.table == "reports":
        return _("Laporan warga")
    if entry.table == "api_keys":
        return _("Kunci %(prefix)s… (%(name)s)") % {
            "prefix": state.get("prefix", ""),
            "name": state.get("name", ""),
        }
    return f"{entry.table} {entry.key}"


def _readable(state: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored state with each target's amount and unit joined into one field."""
    if state is None:
        return None
    shown = {k: v for k, v in state.items() if k not in IDENTITY}
    for target in TARGETS:
        if f"{target}_amount" in shown:
            amount = shown.pop(f"{target}_amount")
            unit = shown.pop(f"{target}_unit", "")
            shown[target] = (amount, unit)
    return shown


def _value(field: str, value: Any, names: Names, tz: str) -> str:
    if value is None:
        return "—"
    if field in TARGETS:
        amount, unit = value
        return f"{amount} {translate(UNIT_LABELS.get(unit, unit))}"
    if field in CHANGED_FACTS:
        return _("diubah")
    if isinstance(value, bool):
        return _("ya") if value else _("tidak")
    if field == "role":
        return translate(ROLE_LABELS.get(value, value))
    if field in ("agency_code", "default_agency_code"):
        return names.agency(value)
    if field == "areas":
        return ", ".join(names.area(code) for code in value) or "—"
    if field == "revoked_at":
        return i18n.format_time(value, tz)
    if field == "reports":
        return ", ".join(codes.display(code) for code in value) or "—"
    return str(value)


def changes(entry: Entry, names: Names, tz: str) -> list[Change]:
    """The fields that differ between before and after (every field of a new or removed
    object), in a fixed order."""
    before, after = _readable(entry.before), _readable(entry.after)
    fields = [f for f in FIELD_LABELS if f in (before or {}) or f in (after or {})]
    found: list[Change] = []
    for field in fields:
        old = (before or {}).get(field)
        new = (after or {}).get(field)
        if before is not None and after is not None and old == new:
            continue
        label = translate(FIELD_LABELS[field])
        if field in CHANGED_FACTS:
            found.append(Change(label, None, _value(field, new, names, tz)))
        elif before is None:
            found.append(Change(label, None, _value(field, new, names, tz)))
        elif after is None:
            found.append(Change(label, _value(field, old, names, tz), None))
        else:
            found.append(
                Change(label, _value(field, old, names, tz), _value(field, new, names, tz))
            )
    return found


def changes_text(found: Iterable[Change]) -> str:
    """The changes on one line, for the CSV: 'Peran: Petugas → Admin; …'."""
    parts = []
    for change in found:
        if change.before is None:
            parts.append(f"{change.label}: {change.after}")
        elif change.after is None:
            parts.append(f"{change.label}: {change.before} → —")
        else:
            parts.append(f"{change.label}: {change.before} → {change.after}")
    return "; ".join(parts)


# --- the log page's filter ----------------------------------------------------------------


LOG_FILTERS = ("jenis", "dari", "sampai")


def _day(text: str) -> date | None:
    if not (text.isascii() and len(text) == 10):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if 2000 <= day.year <= 2100 else None


def _utc_start_of(day: date, tz: str) -> str:
    return to_text(start_of_day(day, tz))


def log_filter(
    query: Mapping[str, str], tz: str
) -> tuple[audit_db.LogFilter, dict[str, str], dict[str, str]]:
    """The log's filter from the query string (the page and its CSV), what was typed (to
    show it again), and errors by field; a part that cannot be read is left out of the
    filter and said so."""
    values = {k: query.get(k, "").strip()[:20] for k in LOG_FILTERS}
    errors: dict[str, str] = {}
    kind = values["jenis"]
    if kind and kind not in audit_db.KINDS:
        errors["jenis"] = _("Jenis perubahan tidak dikenal.")
        kind = ""
    days: dict[str, date | None] = {}
    for name in ("dari", "sampai"):
        days[name] = _day(values[name]) if values[name] else None
        if values[name] and days[name] is None:
            errors[name] = _("Isi tanggal, contoh 2026-12-25.")
    first, last = days["dari"], days["sampai"]
    if first and last and first > last:
        errors["sampai"] = _("Tanggal akhir tidak boleh sebelum tanggal awal.")
        last = None
    return (
        audit_db.LogFilter(
            kind=kind,
            since=_utc_start_of(first, tz) if first else None,
            until=_utc_start_of(last + timedelta(days=1), tz) if last else None,
        ),
        values,
        errors,
    )


# --- what /kinerja must say ---------------------------------------------------------------


async def rule_changes_after_start(db: Database, period: Any, tz: str) -> list[date]:
    """The local days on which the rules of a period changed after it had started.

    Counted: the targets of any public category, and the holidays that fall in the period,
    changed at or after the period's first moment (a change before it is simply the rule
    the period ran under). Reports keep the due times they were given, so such a change
    judges only the reports that arrived after it by the new rule — which is exactly why
    the public page says so.
    """
    since, _end = period.bounds(tz)
    times = await audit_db.rule_change_times(
        db, since=since, first_day=period.first.isoformat(), last_day=period.last.isoformat()
    )
    zone = ZoneInfo(tz)
    return sorted({from_text(t).astimezone(zone).date() for t in times})
