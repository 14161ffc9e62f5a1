"""All image work of Aduan: checking uploads and making clean JPEGs (stored by hash in
web/photo_store.py).

Uploaded bytes are hostile until proven otherwise. We judge them by content only, with
a short list of decoders, refuse decompression bombs from the header, decode fully as the
validity check, and write new JPEGs that carry no metadata at all (SECURITY.md, "Photos").
Nothing here logs: a photo's metadata (GPS, camera, comments) is personal data.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import numbers
import os
import threading
import warnings
import weakref
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

import anyio.to_thread
import pillow_heif
from anyio import CapacityLimiter
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 15 * 1024 * 1024  # per photo, before processing
MAX_PIXELS = 50_000_000  # from the header, before decoding
LONG_EDGE = 1600
THUMB_EDGE = 400
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")  # names for Image.open(formats=...)

JPEG_QUALITY = 82
THUMB_QUALITY = 75

# Registers the "HEIF" opener (iPhone photos); harmless to call again elsewhere.
pillow_heif.register_heif_opener()

_GPS_IFD = 0x8825
_WHITE = (255, 255, 255)

# warnings.catch_warnings() swaps the process-wide filter list; two threads entering and
# leaving it out of order would leave the "error" filter installed for good. Header
# parsing is quick, so we serialise just the open.
_OPEN_LOCK = threading.Lock()

# Decoding a 50 MP PNG needs several hundred MB; bound how many run at once.
_MAX_CONCURRENT = max(1, min(4, os.cpu_count() or 1))
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


class PhotoError(Exception):
    """Raised for a photo we refuse. `.code` is one of:
    'too_big' (over MAX_UPLOAD_BYTES), 'unsupported' (not JPEG/PNG/WebP/HEIC by content,
    e.g. a text file named .jpg), 'damaged' (truncated / cannot be decoded fully),
    'too_many_pixels' (decompression bomb / over MAX_PIXELS), 'empty' (zero bytes)."""

    code: str

    def __init__(self, code: str) -> None:
        # The message is the code only, so logging the error never leaks anything.
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Photo:
    """A photo as Aduan keeps it, from the upload to the report's timeline: named by the
    sha256 of its clean JPEG, with that JPEG's size and the position its EXIF carried (which
    may place the report; it is never stored with the photo).

    One type for every stage. `process_photo` makes a Photo that also carries its new JPEG
    and thumbnail bytes, for the photo store's `save` to write (web/photo_store.py); a
    photo held from an earlier attempt (web/forms.py's signed token) or attached to a report
    is the same value without them. The bytes ride along as optional fields rather than in
    a second type, so nothing has to pair a photo with its files again; they take no part
    in equality (a photo is known by its hash, and a held photo equals the one just
    decoded), and like the location they stay out of repr() and so out of every log line.
    """

    sha256: str
    width: int
    height: int
    gps: tuple[float, float] | None = field(default=None, repr=False)
    jpeg: bytes = field(default=b"", repr=False, compare=False)
    thumb: bytes = field(default=b"", repr=False, compare=False)


def process_photo(data: bytes) -> Photo:
    """Check an uploaded photo and return clean, upright JPEGs plus the GPS it carried.

    Synchronous and CPU-bound: call `process_photo_async` from request handlers.
    Raises PhotoError for anything we refuse.
    """
    if not data:
        raise PhotoError("empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise PhotoError("too_big")

    with _open_checked(data) as im:
        exif = _exif_or_empty(im)
        gps = _read_gps(exif)
        # draft() only works before the first load; it lets libjpeg decode a 12 MP photo
        # at 1/2..1/8 scale, which is most of the speed-up. No-op for other formats.
        if max(im.size) > LONG_EDGE:
            im.draft("RGB", _draft_size(*im.size))
        try:
            im.load()  # full decode is the validity check; verify() passes a cut JPEG
        except Image.DecompressionBombError as exc:
            raise PhotoError("too_many_pixels") from exc
        except (OSError, SyntaxError, ValueError, EOFError, RuntimeError) as exc:
            raise PhotoError("damaged") from exc
        main = _normalise_mode(_upright(im))
        # Resize before flattening: Pillow resizes RGBA premultiplied, and the white
        # background is then added to 2.5 MP instead of up to 50 MP.
        main.thumbnail((LONG_EDGE, LONG_EDGE), Image.Resampling.LANCZOS)
        main = _flatten(main)

    thumb = main.copy()
    thumb.thumbnail((THUMB_EDGE, THUMB_EDGE), Image.Resampling.LANCZOS)

    jpeg = _encode(main, JPEG_QUALITY)
    return Photo(
        sha256=hashlib.sha256(jpeg).hexdigest(),
        width=main.width,
        height=main.height,
        gps=gps,
        jpeg=jpeg,
        thumb=_encode(thumb, THUMB_QUALITY),
    )


async def process_photo_async(data: bytes) -> Photo:
    """`process_photo` in a worker thread, so the event loop keeps serving requests.

    At most a few photos are processed at once (memory); a cancelled request still waits
    for its thread to finish, so the bound holds.
    """
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = CapacityLimiter(_MAX_CONCURRENT)
    return await anyio.to_thread.run_sync(process_photo, data, limiter=limiter)


def _open_checked(data: bytes) -> Image.Image:
    """Open lazily with our decoders only and refuse bombs before any pixel is decoded."""
    with _OPEN_LOCK, warnings.catch_warnings():
        # Pillow only warns between ~89 M and ~179 M pixels; we want an error.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(BytesIO(data), formats=list(ALLOWED_FORMATS))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise PhotoError("too_many_pixels") from exc
        except UnidentifiedImageError as exc:
            # A JPEG cut after a few bytes is still "damaged" to the person sending it.
            raise PhotoError("damaged" if _has_allowed_magic(data) else "unsupported") from exc
        except (OSError, SyntaxError, ValueError, EOFError, RuntimeError) as exc:
            raise PhotoError("damaged") from exc
    width, height = im.size
    if width <= 0 or height <= 0:
        im.close()
        raise PhotoError("damaged")
    if width * height > MAX_PIXELS:
        im.close()
        raise PhotoError("too_many_pixels")
    return im


def _has_allowed_magic(data: bytes) -> bool:
    """Whether the bytes start like one of our formats (for the error code only)."""
    if data.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")):
        return True
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return True
    heif_brands = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")
    return data[4:8] == b"ftyp" and data[8:12] in heif_brands


def _draft_size(width: int, height: int) -> tuple[int, int]:
    """The size to ask draft() for, with the image's own aspect ratio.

    Pillow picks the scale from the *smaller* of the two axis ratios, so asking for a
    square box would not reduce a 4:3 photo at all; asking for LONG_EDGE on the long side
    and proportionally on the other keeps the decoded long side >= LONG_EDGE.
    """
    long_side = max(width, height)
    return (
        max(1, math.ceil(width * LONG_EDGE / long_side)),
        max(1, math.ceil(height * LONG_EDGE / long_side)),
    )


def _exif_or_empty(im: Image.Image) -> Image.Exif:
    try:
        return im.getexif()
    except Exception:  # malformed EXIF must not cost the citizen their report
        return Image.Exif()


def _read_gps(exif: Image.Exif) -> tuple[float, float] | None:
    """(lat, lon) in decimal degrees from the GPS IFD, or None if absent or implausible."""
    try:
        gps = exif.get_ifd(_GPS_IFD)
        lat = _degrees(gps.get(2), gps.get(1), "N", "S", 90.0)
        lon = _degrees(gps.get(4), gps.get(3), "E", "W", 180.0)
    except Exception:  # hostile or broken GPS data is simply ignored
        return None
    if lat is None or lon is None:
        return None
    if lat == 0.0 and lon == 0.0:
        return None  # what some phones write when they have no fix
    return (lat, lon)


def _degrees(value: Any, ref: Any, positive: str, negative: str, limit: float) -> float | None:
    """Degrees/minutes/seconds rationals plus a hemisphere letter to signed degrees."""
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    if not isinstance(ref, str):
        return None
    ref = ref.strip("\x00 ").upper()
    if ref not in (positive, negative):
        return None
    if not isinstance(value, tuple) or not 1 <= len(value) <= 3:
        return None
    if not all(isinstance(part, numbers.Real) for part in value):
        return None
    parts = [float(part) for part in value] + [0.0] * (3 - len(value))
    # A zero denominator gives NaN; negative parts are not valid DMS.
    if not all(math.isfinite(part) and part >= 0 for part in parts):
        return None
    deg, minutes, seconds = parts
    if minutes >= 60 or seconds >= 60:
        return None
    total = deg + minutes / 60 + seconds / 3600
    if total > limit:
        return None
    return round(-total if ref == negative else total, 7)


def _upright(im: Image.Image) -> Image.Image:
    """Apply the EXIF Orientation; a broken tag leaves the photo as decoded."""
    try:
        # In place: no full-size copy when the photo is already upright.
        ImageOps.exif_transpose(im, in_place=True)
    except Exception:  # a bad Orientation tag should not cost the citizen their report
        return im
    return im


def _normalise_mode(im: Image.Image) -> Image.Image:
    """RGB, or RGBA when the image has transparency (flattened after resizing)."""
    mode = im.mode
    if mode in ("RGB", "RGBA"):
        return im
    if mode in ("LA", "La", "RGBa", "PA") or "transparency" in im.info:
        return im.convert("RGBA")
    if mode.startswith("I"):
        # 16-bit greyscale: convert("L") would clip everything above 255 to white.
        return im.convert("I").point(lambda v: v / 257).convert("L").convert("RGB")
    return im.convert("RGB")  # CMYK, YCbCr, P, L, 1, ...


def _flatten(im: Image.Image) -> Image.Image:
    """A brand-new RGB image (empty info, no EXIF) with any transparency made white."""
    clean = Image.new("RGB", im.size, _WHITE)
    if im.mode == "RGBA":
        clean.paste(im, (0, 0), im.getchannel("A"))
    else:
        clean.paste(im, (0, 0))
    return clean


def _encode(im: Image.Image, quality: int) -> bytes:
    # JPEG's saver falls back to im.info["comment"]; keep info empty and pass no
    # exif/comment/xmp/icc_profile so nothing of the upload can ride along.
    im.info = {}
    out = BytesIO()
    im.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue()
