"""Demo data for `aduan init --demo`: staff accounts and realistic reports in every state."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from db import accounts as account_db
from db import areas as area_db
from db import reports as report_db
from db.audit import CONSOLE
from db.database import Database
from web import audit, lifecycle
from web.clock import to_text, utc_now
from web.passwords import hash_password
from web.settings import Settings

DEMO_PASSWORD = "demo-aduan-2026"  # noqa: S105 - printed to the operator on purpose

SAMPLES: list[tuple[str, str, str]] = [
    (
        "jalan",
        "Jalan berlubang cukup dalam di depan sekolah, motor sering terperosok saat hujan.",
        "Depan SDN 03, dekat pos ronda",
    ),
    (
        "sampah",
        "Sampah menumpuk di TPS sudah 4 hari tidak diangkut, bau sampai ke rumah warga.",
        "TPS samping masjid",
    ),
    (
        "banjir",
        "Saluran air tersumbat lumpur, setiap hujan sebentar langsung tergenang.",
        "Gang Kelor, RT 05",
    ),
    (
        "lampu",
        "Lampu jalan mati tiga tiang berturut-turut, jalan gelap dan rawan.",
        "Jalan utama dekat jembatan",
    ),
    (
        "pohon",
        "Dahan pohon besar patah menggantung di atas trotoar, berbahaya bagi pejalan kaki.",
        "Trotoar depan kantor pos",
    ),
    (
        "parkir",
        "Mobil parkir di trotoar setiap sore, pejalan kaki terpaksa turun ke jalan.",
        "Depan minimarket",
    ),
    (
        "fasum",
        "Atap halte bocor dan kursinya patah, lansia tidak bisa duduk menunggu bus.",
        "Halte dekat pasar",
    ),
    (
        "sungai",
        "Banyak sampah plastik menyangkut di pintu air, air kali meluap ke jalan.",
        "Pintu air kali, belakang pasar",
    ),
    (
        "layanan",
        "Sudah tiga kali datang untuk surat pengantar tapi petugas selalu tidak ada.",
        "Kantor kelurahan",
    ),
    (
        "kesehatan",
        "Banyak jentik nyamuk di genangan lahan kosong, dua warga kena DBD bulan ini.",
        "Lahan kosong ujung gang",
    ),
    ("ketertiban", "Pedagang kaki lima menutup seluruh trotoar sejak pagi.", "Trotoar stasiun"),
    ("lainnya", "Papan nama jalan hilang, pengemudi ojek sering tersesat.", "Pertigaan gang"),
]
# (how many days ago it was filed, the actions it went through)
HISTORIES: list[tuple[float, list[str]]] = [
    (0.1, []),
    (0.4, []),
    (0.9, []),
    (2.5, []),
    (1.0, ["verify"]),
    (3.0, ["verify"]),
    (2.0, ["verify", "dispatch"]),
    (6.0, ["verify", "dispatch"]),
    (9.0, ["dispatch"]),
    (4.0, ["verify", "dispatch", "progress"]),
    (12.0, ["verify", "dispatch", "progress"]),
    (5.0, ["verify", "dispatch", "progress", "resolve"]),
    (8.0, ["verify", "resolve"]),
    (20.0, ["verify", "dispatch", "progress", "resolve"]),
    (7.0, ["reject"]),
    (3.0, ["verify", "duplicate"]),
]
NOTES = {
    "verify": "Laporan sudah kami cek, benar ada di lokasi.",
    "dispatch": "Diteruskan ke dinas terkait untuk ditangani.",
    "progress": "Petugas sudah di lokasi dan mulai bekerja.",
    "resolve": "Sudah selesai dikerjakan. Terima kasih atas laporannya.",
    "reject": "Lokasi berada di luar wilayah kota; silakan lapor ke pemerintah kabupaten.",
    "duplicate": "Masalah yang sama sudah dilaporkan warga lain.",
}


async def add_demo_data(db: Database, settings: Settings, region: str) -> list[tuple[str, ...]]:
    """Creates demo accounts and reports; returns the logins to print."""
    # Central Jakarta's Gambir for the default region, else the province's first kecamatan
    kelurahan = await area_db.kelurahan_under(db, "31.71.01" if region == "31" else region, limit=6)
    if not kelurahan:
        return []
    first, second = kelurahan[0], kelurahan[min(1, len(kelurahan) - 1)]
    accounts: list[tuple[str, str, str | None, list[str], str]] = [
        ("admin", "admin", None, [], "semua"),
        ("supervisor", "supervisor", None, [], "semua (baca)"),
        ("petugas1", "officer", None, [first["code"]], f"Kelurahan {first['name']}"),
        ("petugas2", "officer", None, [second["code"]], f"Kelurahan {second['name']}"),
        ("dlh", "officer", "DLH", [], "Dinas Lingkungan Hidup"),
        ("inspektorat", "officer", "INSPEKTORAT", [], "Inspektorat"),
    ]
    logins: list[tuple[str, ...]] = []
    password_hash = hash_password(DEMO_PASSWORD)
    async with db.write() as conn:
        for username, role, agency, areas, scope in accounts:
            if await account_db.account_by_username(conn, username) is not None:
                continue
            user_id = await account_db.create_account(
                conn,
                username=username,
                password_hash=password_hash,
                role=role,
                created_at=to_text(utc_now()),
                display_name=username.capitalize(),
                agency_code=agency,
                area_codes=areas,
            )
            await audit.record(
                conn,
                CONSOLE,
                "account.create",
                table="users",
                key=user_id,
                before=None,
                after=await audit.account_snapshot(conn, user_id),
            )
            logins.append((username, DEMO_PASSWORD, role, scope))
        officer = await account_db.account_by_username(conn, "petugas1")
    if officer is None:  # the demo accounts existed from an earlier run with other names
        return logins
    rng = random.Random(31)
    now = utc_now()
    created: list[str] = []
    for index, (days_ago, history) in enumerate(HISTORIES * 2):
        category, text, place = SAMPLES[index % len(SAMPLES)]
        area = kelurahan[index % len(kelurahan)]
        # The second round lies a month back, so /kinerja's "last month" has figures too.
        month_back = 30 if index >= len(HISTORIES) else 0
        filed = now - timedelta(days=days_ago + month_back + rng.random() / 3)
        new = lifecycle.NewReport(
            category=category,
            area=area["code"],
            description=text,
            address=place,
            rt_rw=f"RT {rng.randint(1, 12):02d}/RW {rng.randint(1, 9):02d}",
            channel=rng.choice(["web", "web", "outbox", "walk_in", "whatsapp"]),
            reporter_name=rng.choice(["Siti", "Budi", "Wati", ""]),
            reporter_phone=f"0812{rng.randint(10_000_000, 99_999_999)}",
            anonymous=index % 5 == 0,
            written_at=filed,
        )
        report = await lifecycle.create_report(db, new, tz=settings.timezone, now=filed)
        created.append(report.code)
        await _play(db, report.code, history, filed, officer["id"], created, settings, now)
    return logins


async def _play(
    db: Database,
    code: str,
    history: list[str],
    filed: datetime,
    user_id: int,
    created: list[str],
    settings: Settings,
    now: datetime,
) -> None:
    version = 1
    step = (now - filed) / (len(history) + 1)
    for number, kind in enumerate(history, start=1):
        extra: dict[str, Any] = {}
        if kind == "dispatch":
            extra["agency_code"] = await report_db.default_agency(db, code)
        if kind == "duplicate":
            extra["duplicate_of_code"] = created[0] if created[0] != code else created[1]
        action = lifecycle.Action(
            kind=kind, expected_version=version, user_id=user_id, public_note=NOTES[kind], **extra
        )
        version = await lifecycle.apply_action(
            db, code, action, tz=settings.timezone, now=filed + step * number
        )
