"""Real image bytes for tests, made with Pillow: phone photos with EXIF, and helpers that
check a stored JPEG carries no metadata."""

from __future__ import annotations

import functools
from io import BytesIO

from PIL import Image

JAKARTA = (-6.1754, 106.8272)  # Monas
RED = (255, 0, 0)


def encode(im: Image.Image, fmt: str, **params: object) -> bytes:
    buf = BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


def camera_like(size: tuple[int, int]) -> Image.Image:
    """Gradient plus noise: compresses like a real photo, unlike a flat colour."""
    noise = Image.effect_noise(size, 40).convert("L")
    gradient = Image.linear_gradient("L").resize(size)
    return Image.merge("RGB", (noise, gradient, Image.blend(noise, gradient, 0.5)))


def dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round((value - degrees - minutes / 60) * 3600, 4)
    return (float(degrees), float(minutes), seconds)


def exif_with(orientation: int | None = None, gps: dict[int, object] | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make: proves EXIF as a whole is dropped, not just GPS
    if orientation is not None:
        exif[0x0112] = orientation
    if gps is not None:
        gps_ifd = exif.get_ifd(0x8825)
        gps_ifd.update(gps)
    return exif


def gps_tags(lat: float, lon: float) -> dict[int, object]:
    return {
        1: "S" if lat < 0 else "N",
        2: dms(lat),
        3: "W" if lon < 0 else "E",
        4: dms(lon),
    }


@functools.cache
def phone_jpeg() -> bytes:
    """A 4000×3000 sensor image with Orientation 6 and GPS, red marker top-left."""
    im = camera_like((4000, 3000))
    im.paste(RED, (0, 0, 400, 400))
    exif = exif_with(orientation=6, gps=gps_tags(*JAKARTA))
    return encode(im, "JPEG", quality=90, exif=exif)


def jpeg_markers(data: bytes) -> list[int]:
    """Every marker in a JPEG stream, walking segment lengths and entropy-coded data."""
    assert data[:2] == b"\xff\xd8"
    markers = [0xD8]
    i = 2
    while i < len(data):
        assert data[i] == 0xFF, f"lost sync at {i}"
        while data[i] == 0xFF:  # fill bytes
            i += 1
        marker = data[i]
        i += 1
        markers.append(marker)
        if marker == 0xD9:
            break
        if 0xD0 <= marker <= 0xD7:
            continue
        i += int.from_bytes(data[i : i + 2], "big")
        if marker == 0xDA:
            while True:  # skip scan data: FF00 is a stuffed byte, FFD0-D7 are restarts
                j = data.index(b"\xff", i)
                if data[j + 1] == 0x00 or 0xD0 <= data[j + 1] <= 0xD7:
                    i = j + 2
                    continue
                i = j
                break
    return markers


def assert_clean_jpeg(data: bytes) -> Image.Image:
    markers = jpeg_markers(data)
    assert 0xE1 not in markers, "EXIF/XMP segment (APP1) present"
    assert 0xE2 not in markers, "ICC segment (APP2) present"
    assert 0xFE not in markers, "comment segment (COM) present"
    assert markers[-1] == 0xD9
    assert b"Exif" not in data
    im = Image.open(BytesIO(data))
    assert im.format == "JPEG"
    assert im.mode == "RGB"
    assert not im.getexif()
    for key in ("exif", "comment", "icc_profile", "xmp"):
        assert key not in im.info
    im.load()  # decodes fully
    return im
