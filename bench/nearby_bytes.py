"""Bytes on the wire of the report form's "Sudah dilaporkan?" fragment (`/lapor/sekitar`) at
its largest: five open reports of one category within 250 m, each with a photo and a
support. Budget: 3 KB. Run with `.venv/bin/python bench/nearby_bytes.py`."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import httpx2
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._server import live_server

MONAS = (-6.1754, 106.8272)


def photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (120, 90, 60)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def main() -> None:
    with live_server() as (base, _settings):
        with httpx2.Client() as client:
            for i in range(5):
                answer = client.post(
                    base + "/lapor",
                    data={
                        "category": "jalan",
                        "area": "31.71.01.1001",
                        "description": f"Jalan berlubang dalam di depan sekolah dasar ({i}).",
                        "lat": f"{MONAS[0] + 0.0004 * i:.6f}",
                        "lon": f"{MONAS[1]:.6f}",
                    },
                    files={"photos": (f"{i}.jpg", photo(), "image/jpeg")},
                    follow_redirects=False,
                )
                code = answer.headers["location"].split("/")[4]
                client.post(base + f"/t/{code}/dukung", follow_redirects=False)
            page = client.get(
                base + "/lapor/sekitar",
                params={"category": "jalan", "lat": MONAS[0], "lon": MONAS[1]},
                headers={"Accept-Encoding": "gzip"},
            )
            items = page.text.count("<li ")
            assert page.text.count("<img ") == items, "every report shows its thumbnail"
            print(
                f"/lapor/sekitar: {items} reports, {len(page.content)} bytes of HTML, "
                f"{page.num_bytes_downloaded} bytes on the wire "
                f"(Content-Encoding: {page.headers.get('content-encoding', 'none')}); "
                "budget 3072"
            )


if __name__ == "__main__":
    main()
