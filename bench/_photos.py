"""Photo-like test images for the benchmarks, made with Pillow alone (no image files ship
with Aduan): colour fields with a 1/f-like spread of detail, shapes with hard edges and a
little sensor noise. They compress about as a street photo does (a 1600×1200 one is about
400 KB at JPEG quality 80), unlike pure noise, which no encoder can shrink."""

from __future__ import annotations

import random
from io import BytesIO

from PIL import Image, ImageChops, ImageDraw, ImageFilter


def photo_like(size: tuple[int, int], seed: int = 0) -> Image.Image:
    rnd = random.Random(seed)
    width, height = size
    channels = []
    for _channel in range(3):
        layer: Image.Image | None = None
        total = 0.0
        # coarse to fine octaves, the coarse ones weighing most (as in natural images)
        for octave, (divisor, weight) in enumerate([(256, 8), (64, 4), (16, 2), (4, 1), (1, 0.6)]):
            small = (max(2, width // divisor), max(2, height // divisor))
            noise = Image.effect_noise(small, 60 + 10 * octave).convert("L")
            noise = noise.resize(size, Image.Resampling.BICUBIC)
            layer = noise if layer is None else Image.blend(layer, noise, weight / (total + weight))
            total += weight
        assert layer is not None
        channels.append(layer)
    im = Image.merge("RGB", channels)
    draw = ImageDraw.Draw(im)
    for _shape in range(60):
        x0, y0 = rnd.randrange(width), rnd.randrange(height)
        x1 = x0 + rnd.randrange(20, width // 3)
        y1 = y0 + rnd.randrange(20, height // 3)
        colour = (rnd.randrange(40, 220), rnd.randrange(40, 220), rnd.randrange(40, 220))
        if rnd.random() < 0.5:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        else:
            draw.line((x0, y0, x1, y1), fill=colour, width=rnd.randrange(2, 12))
    grain = Image.effect_noise(size, 8).convert("RGB")
    return ImageChops.add(im.filter(ImageFilter.GaussianBlur(1.2)), grain, offset=-128)


def jpeg(im: Image.Image, quality: int, **params: object) -> bytes:
    out = BytesIO()
    im.save(out, "JPEG", quality=quality, **params)
    return out.getvalue()


def webp(im: Image.Image, quality: int) -> bytes:
    out = BytesIO()
    im.save(out, "WEBP", quality=quality)
    return out.getvalue()


def variants(
    base: Image.Image, count: int, quality: int, seed: int = 1, *, encode: str = "JPEG"
) -> list[bytes]:
    """`count` different JPEGs (or WebPs) of one image (a small patch changed in each), so
    that no two uploads are stored under the same hash."""
    rnd = random.Random(seed)
    out = []
    for _ in range(count):
        im = base.copy()
        x, y = rnd.randrange(im.width - 64), rnd.randrange(im.height - 64)
        colour = (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256))
        im.paste(colour, (x, y, x + 64, y + 64))
        out.append(webp(im, quality) if encode == "WEBP" else jpeg(im, quality))
    return out
