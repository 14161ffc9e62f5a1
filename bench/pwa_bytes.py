"""What the service worker and the outbox save, measured in real Chromium:

1. bytes on the wire for a first and a repeat visit to /lapor (service worker active),
   counted at the server (every byte it sent, the service worker's own fetches included);
2. time from "Kirim" to the tracking code for a 4000×3000 photo under emulated slow 3G
   (CDP Network.emulateNetworkConditions on the page, which makes the upload itself),
   beside the floor for the same bytes: upload / bandwidth + round trips. The code is on
   screen when the receipt it leads to has loaded (or, if the page stays, in the outbox).

Prints figures; run `.venv/bin/python bench/pwa_bytes.py` (`--without-webp`: as a browser
whose canvas cannot encode WebP, e.g. Safari, so the phone sends JPEG; `--street`: one of
bench/phone_photo.py's street-like photos, near their median size, instead of the smoother
photo of tests/browser/test_offline.py, which shrinks less well than most).
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._photos import photo_like
from bench._server import live_server
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, Recorder
from tests.browser.test_offline import UNTIL_CONTROLLED, fill_report, phone_photo
from tests.browser.test_phone_photo import WITHOUT_WEBP

LATENCY_MS = 400
UP_BPS = 400_000 / 8  # 400 kbit/s
DOWN_BPS = 400_000 / 8
RECEIPT = re.compile(r"/t/[^/]+/struk")


class PhotoTypes:
    """Notes the type of each photo part of an upload, as the phone sent it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def sniff() -> Any:
            message = await receive()
            for found in re.findall(rb"Content-Type: (image/[a-z]+)", message.get("body", b"")):
                self.seen.append(found.decode())
            return message

        await self.app(scope, sniff if scope.get("path") == "/api/v1/reports" else receive, send)


def wire(recorder: Recorder) -> tuple[int, int, list[str]]:
    hits = recorder.hits
    static = sum(h.bytes_out for h in hits if h.path.startswith("/static/"))
    return sum(h.bytes_out for h in hits), static, [f"{h.path} {h.status}" for h in hits]


def main() -> None:
    recorders: list[Recorder] = []
    types = PhotoTypes(None)

    def record(app: Any) -> Recorder:
        types.app = app
        recorders.append(Recorder(cast(Any, types)))
        return recorders[0]

    with tempfile.TemporaryDirectory() as tmp_name, live_server(wrap=record) as (base, _):
        recorder = recorders[0]
        tmp = Path(tmp_name)
        photo = phone_photo(tmp)
        if "--street" in sys.argv:
            photo_like((4000, 3000), seed=2).save(photo, "JPEG", quality=90)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            context = browser.new_context()
            if "--without-webp" in sys.argv:
                context.add_init_script(WITHOUT_WEBP)

            recorder.hits.clear()
            page = context.new_page()
            page.goto(base + "/lapor")
            page.wait_for_load_state("load")
            page_only = wire(recorder)
            page.evaluate(UNTIL_CONTROLLED)
            page.wait_for_timeout(500)
            first = wire(recorder)
            page.close()

            recorder.hits.clear()
            page = context.new_page()
            page.goto(base + "/lapor")
            page.wait_for_load_state("load")
            page.wait_for_timeout(500)
            repeat = wire(recorder)

            print("Bytes on the wire for /lapor (counted at the server: headers + gzip body)")
            print(f"  first visit, page load        {page_only[0]:>8} B  (static {page_only[1]} B)")
            print(f"  first visit, + worker install {first[0]:>8} B  (static {first[1]} B)")
            print(f"  repeat visit, worker active   {repeat[0]:>8} B  (static {repeat[1]} B)")
            print(f"    requests: {', '.join(repeat[2])}")

            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send(
                "Network.emulateNetworkConditions",
                {
                    "offline": False,
                    "latency": LATENCY_MS,
                    "downloadThroughput": DOWN_BPS,
                    "uploadThroughput": UP_BPS,
                },
            )
            fill_report(
                page, "Jalan berlubang besar di depan SD Negeri 05, motor sering jatuh.", photo
            )
            recorder.hits.clear()
            started = time.monotonic()
            page.click("#lapor-form button[type=submit]")
            page.locator("#outbox").get_by_text("Tersimpan di HP Anda").wait_for()
            saved = time.monotonic() - started
            shown = page.locator("#outbox .code")
            deadline = time.monotonic() + 120
            while not RECEIPT.search(page.url) and not shown.count():
                assert time.monotonic() < deadline, "no tracking code within 120 s"
                page.wait_for_timeout(20)
            if RECEIPT.search(page.url):
                page.wait_for_load_state("load")
            total = time.monotonic() - started
            upload = next(h for h in recorder.hits if h.path == "/api/v1/reports")
            # Request line and headers (~700 B) up; one round trip for the request on the
            # open connection; the JSON answer down.
            floor = (
                (upload.bytes_in + 700) / UP_BPS + LATENCY_MS / 1000 + upload.bytes_out / DOWN_BPS
            )
            original = photo.stat().st_size
            print(
                f"\nSlow 3G ({UP_BPS * 8 / 1000:.0f} kbit/s up and down, {LATENCY_MS} ms latency), "
                f"one 4000×3000 photo of {original} B"
            )
            print(f"  saved on the phone (shrink + IndexedDB)  {saved:6.2f} s")
            print(f"  'Kirim' to tracking code                 {total:6.2f} s")
            photo_kind = ", ".join(types.seen)
            print(
                f"  upload {upload.bytes_in} B ({photo_kind}): floor {floor:.2f} s "
                f"(+ {saved:.2f} s on the phone = {floor + saved:.2f} s)"
            )
            print(f"  the unshrunk photo alone would need      {original / UP_BPS:6.1f} s")
            browser.close()


if __name__ == "__main__":
    main()
