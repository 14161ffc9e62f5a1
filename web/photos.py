"""All image work of Aduan: checking uploads and making clean JPEGs (stored by hash in
web/photo_store.py).

Uploaded bytes are hostile until proven otherwise. We judge them by content only, with
a short list of decoders, refuse decompression bombs from the header, decode fully as the
validity check, and write new JPEGs that carry no metadata at all (SECURITY.md, "Photos").
Nothing here logs: a photo's metadata (GPS, camera, comments) is personal data.
"""

from __future__ import annotations

import functools
import hashlib
import math
import numbers
import threading
import warnings
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

import pillow_heif
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
_ORIENTATION = 0x0112
_WHITE = (255, 255, 255)

# warnings.catch_warnings() swaps the process-wide filter list; two threads entering and
# leaving it out of order would leave the "error" filter installed for good. Header
# parsing is quick, so we serialise just the open.
_OPEN_LOCK = threading.Lock()


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

    A JPEG the phone already made small and upright is kept as sent, metadata removed
    (`_as_sent`); any other photo is decoded and encoded anew. Synchronous and CPU-bound:
    call `process_photo_async` from request handlers. Raises PhotoError for anything we
    refuse.
    """
    if not data:
        raise PhotoError("empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise PhotoError("too_big")

    with _open_checked(data) as im:
        exif = _exif_or_empty(im)
        gps = _read_gps(exif)
        width, height = im.size
        kept = _as_sent(data, im, exif)
        # draft() only works before the first load; it lets libjpeg decode a 12 MP photo
        # at 1/2..1/8 scale, which is most of the speed-up. No-op for other formats. A
        # photo kept as sent is decoded only for its thumbnail (and as the validity check:
        # a scaled decode still reads every coefficient, so a cut JPEG fails as before).
        edge = THUMB_EDGE if kept else LONG_EDGE
        if max(im.size) > edge:
            im.draft("RGB", _draft_size(*im.size, edge))
        _load(im)
        if kept:
            thumb = _flatten(im)
            thumb.thumbnail((THUMB_EDGE, THUMB_EDGE), Image.Resampling.LANCZOS)
            return Photo(
                sha256=hashlib.sha256(kept).hexdigest(),
                width=width,
                height=height,
                gps=gps,
                jpeg=kept,
                thumb=_encode(thumb, THUMB_QUALITY),
            )
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


def _draft_size(width: int, height: int, edge: int = LONG_EDGE) -> tuple[int, int]:
    """The size to ask draft() for, with the image's own aspect ratio.

    Pillow picks the scale from the *smaller* of the two axis ratios, so asking for a
    square box would not reduce a 4:3 photo at all; asking for `edge` on the long side
    and proportionally on the other keeps the decoded long side >= `edge`.
    """
    long_side = max(width, height)
    return (
        max(1, math.ceil(width * edge / long_side)),
        max(1, math.ceil(height * edge / long_side)),
    )


def _load(im: Image.Image) -> None:
    try:
        im.load()  # full decode is the validity check; verify() passes a cut JPEG
    except Image.DecompressionBombError as exc:
        raise PhotoError("too_many_pixels") from exc
    except (OSError, SyntaxError, ValueError, EOFError, RuntimeError) as exc:
        raise PhotoError("damaged") from exc


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


def _as_sent(data: bytes, im: Image.Image, exif: Image.Exif) -> bytes | None:
    """The upload itself without its metadata, when it needs no other change: a plain
    colour JPEG of at most LONG_EDGE, upright (no rotation in its EXIF), and no finer
    than our own encode (so keeping it never costs a resident more bytes). Else None, and
    the photo is encoded anew.

    The phone (js/photo-shrink.js) sends just such a JPEG; decoding and re-encoding it
    again took most of a submission's CPU and lost a little quality each time.
    """
    if im.format != "JPEG" or im.mode != "RGB" or max(im.size) > LONG_EDGE:
        return None
    if exif.get(_ORIENTATION, 1) != 1:
        return None
    tables = getattr(im, "quantization", None) or {}
    if not tables or sum(tables.get(0, ())) < _our_luminance_sum():
        return None
    return _strip_jpeg(data)


@functools.cache
def _our_luminance_sum() -> int:
    """How coarse our own encode quantises brightness (the sum of its table)."""
    out = BytesIO()
    Image.new("RGB", (8, 8)).save(out, "JPEG", quality=JPEG_QUALITY)
    with Image.open(out) as im:
        return sum(im.quantization[0])  # type: ignore[attr-defined]


# A JFIF header of our own (version 1.01, no density, no thumbnail): it says the three
# components are YCbCr, as every JPEG we keep as sent has them.
_JFIF = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
_TABLES = frozenset({0xC4, 0xDB, 0xDD})  # Huffman, quantisation tables; restart interval
_FRAMES = frozenset({0xC0, 0xC1, 0xC2})  # baseline, extended, progressive (Huffman)
_METADATA = frozenset(range(0xE0, 0xF0)) | {0xFE}  # APP0..APP15 (EXIF, XMP, ICC, ...), COM
_ADOBE = 0xEE  # APP14 may declare RGB or CMYK components: not a plain JPEG


def _strip_jpeg(data: bytes) -> bytes | None:
    """The JPEG rebuilt from its tables, frame and scans only: no APPn segment (EXIF, GPS,
    XMP, ICC profile, MPF), no comment, nothing after its end (where phones append depth
    maps and other pictures). None for anything but a plain 8-bit YCbCr JPEG with the
    components numbered 1, 2, 3, or a structure we do not follow to the byte.

    What is kept decodes exactly as what `process_photo` decoded. Bytes an uploader hides
    inside a scan, after its last block, stay (libjpeg skips them), as its pixels do:
    they are the sender's own doing, not metadata a camera or phone writes, and photos are
    served as image/jpeg with nosniff."""
    if not data.startswith(b"\xff\xd8"):
        return None
    out = [b"\xff\xd8", _JFIF]
    pos, size, frames = 2, len(data), 0
    while pos + 2 <= size and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # a fill byte
            pos += 1
            continue
        if marker == 0xD9:  # end of image
            return b"".join(out) + b"\xff\xd9" if frames == 1 else None
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        end = pos + 2 + length
        if length < 2 or end > size or marker == _ADOBE:
            return None
        segment = data[pos:end]
        pos = end
        if marker in _METADATA:
            continue
        if marker in _FRAMES:
            # precision, height, width, 3 components numbered 1, 2, 3 (YCbCr)
            if length != 17 or segment[4] != 8 or segment[9] != 3:
                return None
            if (segment[10], segment[13], segment[16]) != (1, 2, 3):
                return None
            frames += 1
        elif marker == 0xDA:  # start of scan: the entropy-coded data follows
            if frames != 1:
                return None
            scan_end = _scan_end(data, pos)
            if scan_end < 0:
                return None
            segment += data[pos:scan_end]
            pos = scan_end
        elif marker not in _TABLES:
            return None  # arithmetic coding, lossless or hierarchical frames, DNL, ...
        out.append(segment)
    return None


def _scan_end(data: bytes, pos: int) -> int:
    """Where a scan's entropy-coded data ends: the 0xFF of the next marker that is not a
    stuffed 0x00 or a restart marker (bytes.find: a fraction of a regular expression's
    time, which held the GIL for ~5 ms a photo), or -1 when the data runs out."""
    while (pos := data.find(b"\xff", pos)) >= 0 and pos + 1 < len(data):
        following = data[pos + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            pos += 2
        elif following == 0xFF:  # fill bytes before a marker
            pos += 1
        else:
            return pos
    return -1


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
    # Progressive (which implies optimised Huffman tables): on 2G a whole, coarse picture
    # shows after ~1/20 of the bytes instead of the top rows (bench/jpeg_settings.py).
    im.info = {}
    out = BytesIO()
    im.save(out, "JPEG", quality=quality, progressive=True)
    return out.getvalue()
