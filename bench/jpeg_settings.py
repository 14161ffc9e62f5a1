"""Which JPEG encoder settings Aduan's photos should use: bytes vs CPU vs what a resident
on 2G sees first, for the full 1600 px photo and the 400 px thumbnail.

For each setting it prints the median encode time of camera-like photos (bench/_photos.py),
their median size, the seconds a 2G link (~50 kbit/s of goodput, as EDGE gives) takes to
bring them, and when a first picture is on screen: a progressive JPEG shows a coarse
whole picture once its first scan (the DC coefficients) has arrived, a baseline one only
paints top to bottom, so its first full picture is the whole file. It also times the paths
of `web/photos.py` on a phone-shrunk photo (the re-encode vs the lossless strip of an
upright ≤ 1600 px JPEG) and on a 12 MP camera photo.

    .venv/bin/python bench/jpeg_settings.py
    .venv/bin/python bench/jpeg_settings.py --code /tmp/before   # its process_photo too
"""

from __future__ import annotations

import argparse
import functools
import importlib
import statistics
import sys
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._photos import jpeg, photo_like, variants

LINK_BYTES_PER_S = 50_000 / 8  # 2G (EDGE) goodput, 50 kbit/s


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median milliseconds of `repeat` calls."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def first_scan_bytes(data: bytes) -> int:
    """Bytes up to the end of the first scan of a progressive JPEG (the start of the second
    SOS), or the whole file for a baseline one."""
    first = data.find(b"\xff\xda")
    second = data.find(b"\xff\xda", first + 2)
    return len(data) if second < 0 else second


def encode(im: Image.Image, quality: int, **params: object) -> bytes:
    out = BytesIO()
    im.save(out, "JPEG", quality=quality, **params)
    return out.getvalue()


SETTINGS: list[tuple[str, dict[str, object]]] = [
    ("baseline", {}),
    ("baseline, optimize", {"optimize": True}),
    ("progressive", {"progressive": True}),
    ("progressive, optimize", {"progressive": True, "optimize": True}),
    ("baseline, 4:2:0 explicit", {"subsampling": 2}),
]


def compare(label: str, images: list[Image.Image], quality: int, repeat: int) -> None:
    print(f"\n{label} ({images[0].width}×{images[0].height}, quality {quality})")
    print("| setting | encode ms | KB | 2G: whole s | 2G: first picture s |")
    print("|---|---:|---:|---:|---:|")
    for name, params in SETTINGS:
        ms = statistics.median(
            timed(functools.partial(encode, im, quality, **params), repeat) for im in images
        )
        outs = [encode(im, quality, **params) for im in images]
        size = statistics.median(len(o) for o in outs)
        first = statistics.median(first_scan_bytes(o) for o in outs)
        print(
            f"| {name} | {ms:.1f} | {size / 1024:.0f} | {size / LINK_BYTES_PER_S:.1f} | "
            f"{first / LINK_BYTES_PER_S:.1f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", type=Path, help="time the process_photo of this checkout")
    args = parser.parse_args()
    if args.code:
        sys.path.insert(0, str(args.code.resolve()))
    photos = importlib.import_module("web.photos")
    print(f"process_photo of {photos.__file__}", file=sys.stderr)
    repeat = 7
    bases = [photo_like((1600, 1200), seed=s) for s in range(3)]
    compare("full photo", bases, photos.JPEG_QUALITY, repeat)
    thumbs = []
    for im in bases:
        t = im.copy()
        t.thumbnail((photos.THUMB_EDGE, photos.THUMB_EDGE), Image.Resampling.LANCZOS)
        thumbs.append(t)
    compare("thumbnail", thumbs, photos.THUMB_QUALITY, repeat * 3)

    print("\nprocess_photo, the whole pipeline (decode, checks, encode, thumbnail)")
    print("| upload | ms | stored KB | thumb KB |")
    print("|---|---:|---:|---:|")
    phone = variants(bases[0], 3, 70)  # what js/photo-shrink.js sends: 1600 px, JPEG 0.7
    phone80 = variants(bases[0], 3, 80)  # bench/speed.py's photo
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: must be turned upright, so re-encoded
    rotated = [jpeg(bases[0], 80, exif=exif.tobytes())]
    camera = variants(photo_like((4000, 3000), seed=7), 2, 90, seed=3)
    runs = [
        ("phone JPEG 1600×1200 q70", phone),
        ("phone JPEG 1600×1200 q80", phone80),
        ("1600×1200 q80, EXIF orientation 6", rotated),
        ("camera JPEG 4000×3000 q90", camera),
    ]
    for name, uploads in runs:
        ms = statistics.median(
            timed(functools.partial(photos.process_photo, d), repeat) for d in uploads
        )
        result = photos.process_photo(uploads[0])
        print(
            f"| {name} ({len(uploads[0]) / 1024:.0f} KB) | {ms:.1f} | "
            f"{len(result.jpeg) / 1024:.0f} | {len(result.thumb) / 1024:.1f} |"
        )


if __name__ == "__main__":
    main()
