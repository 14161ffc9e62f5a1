"""Photos as a request brings them, read one way wherever photos are taken: the resident's
form and the phone's outbox (web/forms.py), staff intake (the same parser) and staff
actions on a report (web/routes/staff.py).

Each upload is read up to the size limit and no further, checked by its content and
processed in a worker thread (web/photos.py), then stored by its hash. Its bytes are read
only once one of the process's photo slots is free (web/photo_gate.py): a crowd of uploads
waits on disk, not in memory, and when the wait would be too long PhotosBusy leaves here
(503 with Retry-After). A refused photo is
named in its own message, in the reader's language; the others are kept, so a form can
hold them for the next attempt instead of asking for them again.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import anyio.to_thread
from starlette.datastructures import FormData, UploadFile

from web import text
from web.i18n import lazy_gettext as N_
from web.i18n import translate
from web.photo_gate import process_photo_async
from web.photo_store import PhotoStore
from web.photos import MAX_UPLOAD_BYTES, Photo, PhotoError

# Why a photo was refused, by PhotoError code; %(name)s is the file's name as sent.
PHOTO_MESSAGES = {
    "too_big": N_(
        "Foto %(name)s terlalu besar (lebih dari 15 MB). Pilih foto lain atau kecilkan dulu."
    ),
    "unsupported": N_(
        "Berkas %(name)s bukan foto yang bisa dibaca. Gunakan foto JPEG, PNG, WebP atau HEIC."
    ),
    "damaged": N_("Foto %(name)s rusak atau tidak lengkap terkirim. Coba pilih lagi."),
    "too_many_pixels": N_("Foto %(name)s terlalu besar ukurannya (lebih dari 50 megapiksel)."),
    "empty": N_("Berkas %(name)s kosong."),
}
# How much of a file's name a message shows: its end, where the extension is.
SHOWN_NAME = 60


@dataclass(frozen=True)
class Upload:
    """A photo as uploaded: not opened yet, only hashed."""

    file: UploadFile
    name: str  # as messages show it: invisible characters removed, at most SHOWN_NAME
    sha256: str  # of the bytes as sent (at most MAX_UPLOAD_BYTES + 1 of them)


async def _hash(upload: UploadFile) -> str:
    """sha256 of an upload's bytes, read in chunks (never more than one past the limit)."""
    digest = hashlib.sha256()
    left = MAX_UPLOAD_BYTES + 1
    while left > 0:
        chunk = await upload.read(min(left, 256 * 1024))
        if not chunk:
            break
        await anyio.to_thread.run_sync(digest.update, chunk)  # ~2 ms a chunk, off the loop
        left -= len(chunk)
    await upload.seek(0)
    return digest.hexdigest()


async def read_uploads(form: FormData) -> list[Upload]:
    """The files sent in the form's `photos` field, hashed but not opened. A file input
    left empty sends a part without a name, which is no photo."""
    return [
        Upload(f, text.strip_invisible(f.filename or "")[-SHOWN_NAME:], await _hash(f))
        for f in form.getlist("photos")
        if isinstance(f, UploadFile) and f.filename
    ]


async def read_photos(
    uploads: Sequence[Upload], store: PhotoStore
) -> tuple[list[Photo], list[str]]:
    """Check, process and store each upload in turn: the photos kept (stored, in the order
    sent) and one message for each photo refused, naming its file.

    How many photos a form may carry is the caller's rule, and so are its words: pass only
    the uploads there is room for.
    """
    kept: list[Photo] = []
    refused: list[str] = []
    for upload in uploads:
        # Read one byte past the limit: enough to know it is too big, never more.
        read = functools.partial(upload.file.read, MAX_UPLOAD_BYTES + 1)
        try:
            photo = await process_photo_async(read, upload.file.size)
        except PhotoError as exc:
            name = f"\u201c{upload.name}\u201d"
            refused.append(translate(PHOTO_MESSAGES[exc.code]) % {"name": name})
            continue
        await store.save(photo)
        kept.append(photo)
    return kept, refused
