"""The one reader of uploaded photos (web/uploads.py), on real image bytes: what the resident's
form, staff intake and staff actions all go through."""

from __future__ import annotations

import hashlib
from io import BytesIO
from pathlib import Path

from starlette.datastructures import FormData, Headers, UploadFile

from tests.images import camera_like, encode
from web.i18n import current_language
from web.photo_store import LocalPhotoStore
from web.photos import MAX_UPLOAD_BYTES
from web.uploads import read_photos, read_uploads


def upload(name: str, data: bytes) -> UploadFile:
    return UploadFile(BytesIO(data), filename=name, headers=Headers({"content-type": "image/jpeg"}))


def photo_bytes(width: int) -> bytes:
    return encode(camera_like((width, 480)), "JPEG", quality=90)


async def test_uploads_are_hashed_as_sent_without_being_opened_and_empty_pickers_are_left_out():
    first, second = photo_bytes(640), b"not a photo at all"
    form = FormData(
        [
            ("photos", upload("a.jpg", first)),
            ("photos", upload("", b"")),  # a file input left empty
            ("photos", "text, not a file"),
            ("photos", upload("\u202egpj.exe", second)),
        ]
    )
    uploads = await read_uploads(form)
    assert [u.name for u in uploads] == ["a.jpg", "gpj.exe"]
    assert [u.sha256 for u in uploads] == [
        hashlib.sha256(first).hexdigest(),
        hashlib.sha256(second).hexdigest(),
    ]
    assert await uploads[0].file.read() == first  # read from the start again afterwards


async def test_a_refused_photo_is_named_and_the_others_are_kept_in_order(tmp_path: Path):
    store = LocalPhotoStore(tmp_path / "photos")
    form = FormData(
        [
            ("photos", upload("pertama.jpg", photo_bytes(640))),
            ("photos", upload("catatan.jpg", b"ini bukan foto, hanya teks biasa\n" * 20)),
            ("photos", upload("kedua.jpg", photo_bytes(800))),
            ("photos", upload("kosong.jpg", b"")),
        ]
    )
    kept, refused = await read_photos(await read_uploads(form), store)
    assert [p.width for p in kept] == [640, 800]
    assert [await store.exists(p.sha256) for p in kept] == [True, True]
    assert refused == [
        "Berkas \u201ccatatan.jpg\u201d bukan foto yang bisa dibaca. "
        "Gunakan foto JPEG, PNG, WebP atau HEIC.",
        "Berkas \u201ckosong.jpg\u201d kosong.",
    ]


async def test_the_messages_are_in_the_readers_language(tmp_path: Path):
    token = current_language.set("en")
    try:
        form = FormData(
            [("photos", upload("besar.jpg", b"\xff\xd8\xff" + b"0" * MAX_UPLOAD_BYTES))]
        )
        kept, refused = await read_photos(await read_uploads(form), LocalPhotoStore(tmp_path))
    finally:
        current_language.reset(token)
    assert kept == []
    assert len(refused) == 1 and "\u201cbesar.jpg\u201d" in refused[0]
    assert "terlalu" not in refused[0] and "15 MB" in refused[0]
