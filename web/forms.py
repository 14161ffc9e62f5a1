"""The report form: one parser and validator for the web form, the outbox API and staff intake.

Everything the resident typed comes back in `values`, so a failed validation re-renders the
form with nothing lost; each error is keyed by its field. Photos that passed are stored at
once (by content hash) and carried to the next attempt in a signed token, so the resident
does not pick them again.

Photos are read by web/uploads.py, as staff actions read theirs; the location and the
contact details are checked by web/validators.py, as Open311 checks its own, and worded
here for the person at the form.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import FormData

from web import contact, lifecycle, parse, text, validators
from web.i18n import current_language, translate
from web.i18n import gettext as _
from web.i18n import lazy_gettext as N_
from web.photo_store import PhotoStore
from web.photos import Photo
from web.uploads import Upload, read_photos, read_uploads

MAX_PHOTOS = 3
MAX_DESCRIPTION = 4000
MIN_DESCRIPTION = 10
HELD_PHOTOS_MAX_AGE = 24 * 3600
TEXT_FIELDS = (
    "category",
    "area",
    "description",
    "address",
    "rt_rw",
    "lat",
    "lon",
    "reporter_name",
    "reporter_phone",
    "reporter_email",
    "on_behalf_name",
    "on_behalf_phone",
    "volunteer_name",
    "written_at",
    "channel",
    "complained_at",
)
FLAG_FIELDS = ("anonymous", "confidential", "on_behalf", "on_behalf_no_phone")
# Typed fields that mean "filed on behalf of someone" (a stray "no phone" tick does not).
ON_BEHALF_FIELDS = ("on_behalf_name", "on_behalf_phone", "volunteer_name")
# Free text that is stored as typed: checked and cleaned by web/text.py.
STORED_TEXT_FIELDS = (
    "description",
    "address",
    "rt_rw",
    "reporter_name",
    "reporter_phone",
    "reporter_email",
    "on_behalf_name",
    "on_behalf_phone",
    "volunteer_name",
)
FIELD_LIMITS = {
    "address": 300,
    "rt_rw": 40,
    "reporter_name": 120,
    "reporter_email": 200,
    "on_behalf_name": 120,
    "volunteer_name": 120,
}
# The form's words for what web/validators.py finds wrong with the typed coordinates; "nan"
# or "inf" is no place in Indonesia either.
_OUTSIDE = N_("Lokasi itu di luar Indonesia. Periksa lagi angkanya (lintang dulu, lalu bujur).")
COORDINATE_MESSAGES = {
    "not_a_number": N_("Koordinat harus berupa angka, contoh -6.1754 dan 106.8272."),
    "half": N_("Isi lintang dan bujur keduanya, atau kosongkan keduanya."),
    "not_finite": _OUTSIDE,
    "outside": _OUTSIDE,
}
OUTSIDE_AREAS = N_(
    "Titik itu di luar wilayah layanan. Pilih kelurahannya dari daftar, atau periksa lagi "
    "lintang dan bujurnya."
)
# (lat, lon) → the kelurahan/desa code there, or None outside the loaded boundaries
Locate = Callable[[float, float], Awaitable[str | None]]
PHONE_MESSAGE = N_("Nomor HP tidak dikenali. Contoh: 0812 3456 7890.")
# What the form offers without any gateway: WhatsApp, which staff send by hand (wa.me).
ALWAYS_OFFERED = ("whatsapp",)


@dataclass
class ReportForm:
    """The outcome of parsing: the values to re-show, errors by field, held photos, and the
    report to create when there are no errors."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    photos: list[Photo] = field(default_factory=list)
    report: lifecycle.NewReport | None = None
    held_token: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors and self.report is not None


@dataclass
class ReportDraft:
    """A submitted report read but not checked: the typed values, the photos held from an
    earlier attempt and the uploads as sent. Reading it decodes no photo, so a replay is
    recognised by its `fingerprint` before any photo work (50 replays of a 12 MP photo
    would otherwise decode it 50 times)."""

    form: FormData
    values: dict[str, Any]
    held: list[Photo]
    uploads: list[Upload]

    def fingerprint(self) -> str:
        """A hash of the content, to tell an idempotent replay from a different report:
        the text fields, the held-photos token and the uploaded bytes."""
        content: dict[str, Any] = {k: self.values.get(k, "") for k in (*TEXT_FIELDS, *FLAG_FIELDS)}
        content.pop("written_at", None)
        if self.values.get("notify_by"):  # absent otherwise: older replays keep their hash
            content["notify_by"] = self.values["notify_by"]
        content["held_photos"] = _text(self.form, "held_photos")
        content["photos"] = sorted(u.sha256 for u in self.uploads)
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def held_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="aduan.held-photos")


def sign_held(secret_key: str, photos: list[Photo]) -> str:
    if not photos:
        return ""
    return held_serializer(secret_key).dumps(
        [[p.sha256, p.width, p.height, list(p.gps) if p.gps else None] for p in photos]
    )


async def read_held(secret_key: str, token: str, store: PhotoStore) -> list[Photo]:
    """Photos accepted on an earlier attempt; a forged, stale or swept token gives none."""
    if not token:
        return []
    try:
        raw = held_serializer(secret_key).loads(token, max_age=HELD_PHOTOS_MAX_AGE)
    except BadSignature:
        return []
    held = []
    for sha, width, height, gps in raw[:MAX_PHOTOS]:
        if await store.exists(sha):
            held.append(Photo(sha, int(width), int(height), tuple(gps) if gps else None))
    return held


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _parse_written_at(text: str) -> datetime | None:
    """When the phone says the report was written. Only a hint: a time that is unreadable,
    has no zone or lies outside the years Aduan knows is dropped, not refused."""
    if not text:
        return None
    try:
        return parse.moment(text, name="written_at")
    except parse.ParamError:
        return None


def _phone_read_gps(form: Mapping[str, Any]) -> tuple[float, float] | None:
    """The position the outbox read from a photo's EXIF on the phone before shrinking it
    (the shrunk copy has none). Ignored when it is not a point in Indonesia."""
    point = validators.coordinates(
        _text(form, "photo_lat"), _text(form, "photo_lon"), decimal_comma=True
    )
    if point.lat is None or point.lon is None:
        return None
    return (point.lat, point.lon)


def form_values(form: Mapping[str, Any]) -> dict[str, Any]:
    """What was typed, as the form shows it again, whatever became of the submission."""
    values: dict[str, Any] = {name: _text(form, name) for name in TEXT_FIELDS}
    for flag in FLAG_FIELDS:
        values[flag] = bool(form.get(flag))
    getlist = getattr(form, "getlist", None)
    chosen = getlist("notify_by") if getlist else [form.get("notify_by")]
    values["notify_by"] = list(contact.split(",".join(c for c in chosen if isinstance(c, str))))
    return values


async def read_report_form(form: FormData, *, store: PhotoStore, secret_key: str) -> ReportDraft:
    """Read a submitted report (multipart form or the outbox's FormData) without checking it
    and without decoding any photo."""
    values = form_values(form)
    uploads = await read_uploads(form)
    held = await read_held(secret_key, _text(form, "held_photos"), store)
    return ReportDraft(form=form, values=values, held=held, uploads=uploads)


async def parse_report_form(
    form: FormData,
    *,
    store: PhotoStore,
    secret_key: str,
    categories: Mapping[str, Any],
    kelurahan: Mapping[str, Any],
    channel: str = "web",
    parse_complained_at: Any = None,
    offered: Collection[str] = ALWAYS_OFFERED,
    language: str | None = None,
) -> ReportForm:
    """Read and check a submitted report in one step (`read_report_form`, then
    `check_report_form`)."""
    draft = await read_report_form(form, store=store, secret_key=secret_key)
    return await check_report_form(
        draft,
        store=store,
        secret_key=secret_key,
        categories=categories,
        kelurahan=kelurahan,
        channel=channel,
        parse_complained_at=parse_complained_at,
        offered=offered,
        language=language,
    )


async def check_report_form(
    draft: ReportDraft,
    *,
    store: PhotoStore,
    secret_key: str,
    categories: Mapping[str, Any],
    kelurahan: Mapping[str, Any],
    channel: str = "web",
    parse_complained_at: Any = None,
    offered: Collection[str] = ALWAYS_OFFERED,
    language: str | None = None,
    locate: Locate | None = None,
) -> ReportForm:
    """Validate a read report and process its photos (stored at once, by content hash).

    `categories` and `kelurahan` map valid codes to rows. `parse_complained_at`, given by
    staff intake, turns the `complained_at` field into an aware datetime or raises ValueError.
    `offered`: the channels the form offers to hear back on (Settings.offered_channels); one
    not offered is dropped. `language`: the one the reporter's messages are written in
    (default: the page's). `locate`: the kelurahan/desa code at a point, or None outside the
    loaded boundaries; given, a report without a kelurahan gets the one at its coordinates
    (typed, or else from a photo).
    """
    form = draft.form
    values = draft.values
    errors: dict[str, str] = {}
    text_errors: dict[str, str] = {}
    for name in STORED_TEXT_FIELDS:
        cleaned = text.clean(values[name], multiline=name == "description")
        values[name] = cleaned.text
        if cleaned.problem:
            text_errors[name] = translate(text.MESSAGES[cleaned.problem])
    if any(values[name] for name in ON_BEHALF_FIELDS):
        # Typing a name for someone else is the consent: the tick box is easy to miss on a
        # phone, and dropping the names silently would lose what was typed.
        values["on_behalf"] = True

    if values["category"] not in categories:
        errors["category"] = _("Pilih jenis masalah.")
    if values["area"] not in kelurahan:
        errors["area"] = _("Pilih kelurahan tempat masalahnya.")  # unless a point says (below)
    description = values["description"]
    if text.visible_length(description) < MIN_DESCRIPTION:
        errors["description"] = _("Ceritakan masalahnya, paling sedikit %(n)d huruf.") % {
            "n": MIN_DESCRIPTION
        }
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = _(
            "Cerita terlalu panjang: paling banyak %(n)d huruf (sekarang %(m)d)."
        ) % {"n": MAX_DESCRIPTION, "m": len(description)}
    for name, limit in FIELD_LIMITS.items():
        if len(values[name]) > limit:
            errors[name] = _("Terlalu panjang: paling banyak %(n)d huruf.") % {"n": limit}

    point = validators.coordinates(values["lat"], values["lon"], decimal_comma=True)
    if point.problem:
        errors["lat"] = translate(COORDINATE_MESSAGES[point.problem])
    lat, lon = point.lat, point.lon

    phone = validators.normalise_phone(values["reporter_phone"])
    if phone and not validators.is_mobile_number(phone):
        errors["reporter_phone"] = translate(PHONE_MESSAGE)
    if values["reporter_email"] and not validators.is_email(values["reporter_email"]):
        errors["reporter_email"] = _("Alamat email tidak dikenali. Contoh: nama@contoh.id.")
    behalf_phone = validators.normalise_phone(values["on_behalf_phone"])
    if values["on_behalf"]:
        if not values["on_behalf_name"]:
            errors["on_behalf_name"] = _("Tulis nama orang yang Anda bantu.")
        if behalf_phone and not validators.is_mobile_number(behalf_phone):
            errors["on_behalf_phone"] = translate(PHONE_MESSAGE)
        elif not behalf_phone and not values["on_behalf_no_phone"]:
            errors["on_behalf_phone"] = _(
                "Tulis nomor HP-nya, atau centang \u201ctidak punya HP\u201d."
            )

    values["notify_by"] = [c for c in values["notify_by"] if c in offered]
    _check_contacts(values, phone, errors)
    errors.update(text_errors)  # the more precise message, where a field has two

    complained_at = None
    if parse_complained_at is not None:
        try:
            complained_at = parse_complained_at(values["complained_at"])
        except ValueError as exc:
            errors["complained_at"] = str(exc)

    photos = list(draft.held)
    uploads = draft.uploads
    photo_errors: list[str] = []
    if len(photos) + len(uploads) > MAX_PHOTOS:
        photo_errors.append(
            _("Paling banyak %(n)d foto per laporan. Foto yang lebih tidak disimpan.")
            % {"n": MAX_PHOTOS}
        )
        uploads = uploads[: max(0, MAX_PHOTOS - len(photos))]
    kept, refused = await read_photos(uploads, store)
    photos += kept
    photo_errors += refused
    if photo_errors:
        errors["photos"] = " ".join(photo_errors)
    if not values["area"] and locate is not None and "lat" not in errors:
        await _locate_area(values, errors, locate, (lat, lon), photos, form)

    result = ReportForm(values=values, errors=errors, photos=photos)
    result.held_token = sign_held(secret_key, photos)
    if errors:
        return result

    location_source = "form" if lat is not None else None
    if lat is None:
        gps = next((p.gps for p in photos if p.gps), None) or _phone_read_gps(form)
        if gps is not None:
            lat, lon = gps
            location_source = "photo"
    result.report = lifecycle.NewReport(
        category=values["category"],
        area=values["area"],
        description=description,
        channel=channel,
        address=values["address"],
        rt_rw=values["rt_rw"],
        lat=lat,
        lon=lon,
        location_source=location_source,
        reporter_name=values["reporter_name"],
        reporter_phone=phone,
        reporter_email=values["reporter_email"],
        anonymous=values["anonymous"],
        confidential=values["confidential"],
        on_behalf=values["on_behalf"],
        on_behalf_name=values["on_behalf_name"] if values["on_behalf"] else "",
        on_behalf_phone=behalf_phone if values["on_behalf"] else "",
        on_behalf_no_phone=values["on_behalf"] and values["on_behalf_no_phone"],
        volunteer_name=values["volunteer_name"] if values["on_behalf"] else "",
        written_at=complained_at or _parse_written_at(values["written_at"]),
        notify_by=contact.join(values["notify_by"]),
        language=language or current_language.get(),
    )
    return result


async def _locate_area(
    values: dict[str, Any],
    errors: dict[str, str],
    locate: Locate,
    typed: tuple[float | None, float | None],
    photos: list[Photo],
    form: Mapping[str, Any],
) -> None:
    """Fill an empty kelurahan from the report's point; the error stays where it was in the
    list (a dict keeps the place of a key whose message changes)."""
    lat, lon = typed
    point = (lat, lon) if lat is not None and lon is not None else None
    gps = point or next((p.gps for p in photos if p.gps), None) or _phone_read_gps(form)
    if gps is None:
        return
    code = await locate(*gps)
    if code is not None:
        values["area"] = code
        errors.pop("area", None)
    elif point is not None:
        errors["area"] = translate(OUTSIDE_AREAS)


def _check_contacts(values: dict[str, Any], phone: str, errors: dict[str, str]) -> None:
    """A channel ticked to hear back on needs its contact: the message goes beside the
    contact field to fill in (a wrong one already has its own)."""
    chosen = values["notify_by"]
    if {"whatsapp", "sms"} & set(chosen) and not phone and "reporter_phone" not in errors:
        errors["reporter_phone"] = _(
            "Tulis nomor HP untuk dikabari lewat WhatsApp atau SMS, atau hapus centangnya."
        )
    if "email" in chosen and not values["reporter_email"] and "reporter_email" not in errors:
        errors["reporter_email"] = _(
            "Tulis alamat email untuk dikabari lewat email, atau hapus centangnya."
        )


def client_rules() -> dict[str, Any]:
    """The checks above that the phone repeats before queueing a report (js/lapor.js), so a
    mistake is shown at once by its field instead of coming back refused once a signal is
    found. The server still checks everything."""
    return {
        "min_description": MIN_DESCRIPTION,
        "max_photos": MAX_PHOTOS,
        "field_limits": FIELD_LIMITS,
        "on_behalf_fields": ON_BEHALF_FIELDS,
        "lat_range": validators.LAT_RANGE,
        "lon_range": validators.LON_RANGE,
        "phone": validators.MOBILE_NUMBER.pattern,
        "email": validators.EMAIL.pattern,
    }
