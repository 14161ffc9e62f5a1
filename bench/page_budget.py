"""Bytes on the wire for a first visit to the resident pages (budget: HTML + CSS ≤ 14 KB
compressed for /lapor, everything ≤ 30 KB). Prints a table; run with `make bench` or
`.venv/bin/python bench/page_budget.py`."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._server import live_server

ASSET = re.compile(r'(?:href|src)="(/static/[^"]+|/manifest\.webmanifest)"')


def visit(client: httpx2.Client, base: str, path: str) -> tuple[int, int, int]:
    """(html bytes, html+css bytes, all bytes) on the wire, compressed as served."""
    page = client.get(base + path, headers={"Accept-Encoding": "gzip"})
    html = page.num_bytes_downloaded
    css = total = 0
    for asset in sorted(set(ASSET.findall(page.text))):
        response = client.get(base + asset, headers={"Accept-Encoding": "gzip"})
        total += response.num_bytes_downloaded
        if asset.endswith(".css"):
            css += response.num_bytes_downloaded
    return html, html + css, html + total


def main() -> None:
    with live_server() as (base, _settings):
        with httpx2.Client() as client:
            code = (
                client.post(
                    base + "/lapor",
                    data={
                        "category": "jalan",
                        "area": "31.71.01.1001",
                        "description": "Jalan berlubang di depan sekolah dasar.",
                    },
                    follow_redirects=False,
                )
                .headers["location"]
                .split("/")[4]
            )
            print(f"{'page':<22}{'HTML':>8}{'HTML+CSS':>10}{'all':>8}   (bytes, gzip, first visit)")
            for path in ("/", "/lapor", f"/t/{code}", f"/t/{code}/struk"):
                html, html_css, total = visit(client, base, path)
                label = path.replace(code, "{code}")
                print(f"{label:<22}{html:>8}{html_css:>10}{total:>8}")
            print("budget for /lapor: HTML+CSS <= 14336, all <= 30720")


if __name__ == "__main__":
    main()
