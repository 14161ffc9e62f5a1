"""What a phone uploads per photo, by format and quality, measured in real Chromium.

Each camera-like 4000×3000 JPEG is decoded and drawn at 1600 px on the long side exactly as
web/static/js/photo-shrink.js does, then encoded with canvas.toBlob as JPEG and as WebP at
several qualities. For each encoding: its bytes, and its luma PSNR against the same 1600 px
canvas saved losslessly (PNG), as a measure of what is lost. Medians over the photos.
Last, photo-shrink.js itself runs on each photo: what the outbox really sends.

Run `.venv/bin/python bench/phone_photo.py` (about a minute).
"""

from __future__ import annotations

import base64
import math
import statistics
import sys
import tempfile
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageChops, ImageStat
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._photos import photo_like
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.test_offline import phone_photo

ROOT = Path(__file__).resolve().parent.parent
QUALITIES = (0.5, 0.6, 0.7, 0.8)
FORMATS = ("image/jpeg", "image/webp")

# The drawing of photo-shrink.js, with the format and quality left open.
ENCODE = """async ([input, formats, qualities]) => {
  const out = [];
  for (const file of document.getElementById(input).files) {
    const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
    const scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    const ctx = canvas.getContext('2d');
    ctx.imageSmoothingQuality = 'high';
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    const b64 = async (blob) => {
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) {
        s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
      }
      return btoa(s);
    };
    const toBlob = (type, q) => new Promise((resolve) => canvas.toBlob(resolve, type, q));
    const photo = { name: file.name, reference: await b64(await toBlob('image/png')), encoded: [] };
    for (const type of formats) {
      for (const q of qualities) {
        const started = performance.now();
        const blob = await toBlob(type, q);
        const ms = performance.now() - started;
        photo.encoded.push({ type: blob.type, asked: type, q, ms, data: await b64(blob) });
      }
    }
    out.push(photo);
  }
  return out;
}"""

SHRINK = """async (input) => {
  const out = [];
  for (const file of document.getElementById(input).files) {
    const started = performance.now();
    const shrunk = await self.AduanPhotoShrink.shrink(file);
    out.push({ name: shrunk.name, type: shrunk.blob.type, size: shrunk.blob.size,
               ms: performance.now() - started });
  }
  return out;
}"""


def camera_photos(folder: Path) -> list[Path]:
    """Six 4000×3000 camera-like JPEGs (quality 90): the slow-3G benchmark's photo and five
    of bench/_photos.py's noisier street-like ones, at two noise levels."""
    paths = [phone_photo(folder, "foto-0.jpg")]
    for seed in range(1, 6):
        path = folder / f"foto-{seed}.jpg"
        photo_like((4000, 3000), seed=seed).save(path, "JPEG", quality=90)
        paths.append(path)
    return paths


def luma_psnr(reference: Image.Image, encoded: Image.Image) -> float:
    diff = ImageChops.difference(reference.convert("L"), encoded.convert("L"))
    mse = ImageStat.Stat(diff).rms[0] ** 2
    return math.inf if mse == 0 else 10 * math.log10(255 * 255 / mse)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        paths = camera_photos(Path(tmp_name))
        print("photos:", ", ".join(f"{p.name} {p.stat().st_size // 1024} KB" for p in paths))
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.set_content('<input type="file" id="photos" multiple>')
            page.set_input_files("#photos", [str(p) for p in paths])
            print(f"Chromium {browser.version}")
            photos = page.evaluate(ENCODE, ["photos", list(FORMATS), list(QUALITIES)])
            page.add_script_tag(path=str(ROOT / "web/static/js/photo-shrink.js"))
            shipped = page.evaluate(SHRINK, "photos")
            browser.close()

    results: dict[tuple[str, float], list[tuple[int, float, float]]] = {}
    for photo in photos:
        reference = Image.open(BytesIO(base64.b64decode(photo["reference"])))
        for enc in photo["encoded"]:
            assert enc["type"] == enc["asked"], enc["type"]  # this Chromium encodes both
            data = base64.b64decode(enc["data"])
            psnr = luma_psnr(reference, Image.open(BytesIO(data)))
            results.setdefault((enc["asked"], enc["q"]), []).append((len(data), psnr, enc["ms"]))

    print(f"\nMedian over {len(photos)} photos, 1600×1200 (per photo: KB)")
    print(f"{'format':<12}{'quality':>8}{'median KB':>11}{'PSNR dB':>9}{'encode ms':>11}   each")
    for (fmt, q), rows in results.items():
        sizes = [r[0] for r in rows]
        print(
            f"{fmt:<12}{q:>8.2f}{statistics.median(sizes) / 1024:>11.1f}"
            f"{statistics.median(r[1] for r in rows):>9.2f}"
            f"{statistics.median(r[2] for r in rows):>11.0f}   "
            + " ".join(f"{s / 1024:.0f}" for s in sizes)
        )
    sizes = [s["size"] for s in shipped]
    median = statistics.median(sizes) / 1024
    print(
        f"\nphoto-shrink.js sends: {shipped[0]['type']}, median {median:.1f}"
        f" KB (each: {' '.join(f'{s / 1024:.0f}' for s in sizes)}), median "
        f"{statistics.median(s['ms'] for s in shipped):.0f} ms per photo on this machine"
    )


if __name__ == "__main__":
    main()
