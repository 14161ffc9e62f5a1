"""A desktop's notification server, for tapping a notification in headless Chromium.

Chromium on Linux shows a web page's notifications through the freedesktop notification
service on the session D-Bus (org.freedesktop.Notifications), when one is there as it
starts, and takes a click from it: the service's `ActionInvoked(id, "default")` signal is
what a desktop sends when the person clicks. Chromium then fires a trusted
`notificationclick` in the service worker, with the right to open or focus a window, as
on a phone. Neither Playwright nor the DevTools protocol can click a notification, so this
stands in for the desktop: a private bus (dbus-daemon) and a server on it that records what
Chromium shows and clicks when told.

It works for a browser's own profile (Playwright's launch_persistent_context), not for the
throwaway contexts of browser.new_context(): Chromium routes a click to the profile that
showed the notification and finds no such profile for those.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jeepney import DBusAddress, HeaderFields, MessageType, new_method_return, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"


@dataclass
class Shown:
    id: int
    summary: str  # the notification's title
    body: str  # Chromium puts the site's host and a blank line before the body


class NotificationDaemon:
    """The notification server: what was shown (`shown`), and `click(id)`."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.shown: list[Shown] = []
        self.closed: list[int] = []
        self._clicks: queue.Queue[int] = queue.Queue()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the notification server did not start")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def click(self, notification_id: int) -> None:
        self._clicks.put(notification_id)

    def _serve(self) -> None:
        conn = open_dbus_connection(bus=self.address)
        try:
            conn.send_and_get_reply(message_bus.RequestName(NAME))
            self._ready.set()
            emitter = DBusAddress(PATH, interface=NAME)
            while not self._stop.is_set():
                while not self._clicks.empty():
                    clicked = self._clicks.get()
                    conn.send(new_signal(emitter, "ActionInvoked", "us", (clicked, "default")))
                try:
                    message = conn.receive(timeout=0.05)
                except TimeoutError:
                    continue
                if message.header.message_type == MessageType.method_call:
                    self._answer(conn, message)
        finally:
            conn.close()

    def _answer(self, conn: Any, message: Any) -> None:
        member = message.header.fields.get(HeaderFields.member)
        if member == "GetCapabilities":
            conn.send(new_method_return(message, "as", (["actions", "body", "persistence"],)))
        elif member == "GetServerInformation":
            conn.send(new_method_return(message, "ssss", ("aduan-tests", "aduan", "1", "1.2")))
        elif member == "Notify":
            _app, replaces, _icon, summary, body, *_rest = message.body
            number = replaces or len(self.shown) + 1
            self.shown.append(Shown(number, summary, body))
            conn.send(new_method_return(message, "u", (number,)))
        elif member == "CloseNotification":
            self.closed.append(message.body[0])
            conn.send(new_method_return(message, "", ()))


@contextmanager
def notification_daemon() -> Iterator[NotificationDaemon]:
    """A private session bus with the notification server on it; the browser that should use
    it gets the bus's address as DBUS_SESSION_BUS_ADDRESS (`daemon.address`)."""
    if shutil.which("dbus-daemon") is None:
        if os.environ.get("CI"):
            pytest.fail("dbus-daemon is missing: install Debian's dbus-daemon package")
        pytest.skip("dbus-daemon is missing (apt-get install dbus-daemon)")
    # A short folder of its own: a socket's path may not be longer than 107 bytes.
    folder = Path(tempfile.mkdtemp(prefix="bus-", dir="/tmp"))
    bus = subprocess.Popen(
        [
            "dbus-daemon",
            "--session",
            "--nofork",
            "--print-address=1",
            f"--address=unix:path={folder / 'bus'}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert bus.stdout is not None
        address = bus.stdout.readline().strip()
        daemon = NotificationDaemon(address)
        daemon.start()
        try:
            yield daemon
        finally:
            daemon.stop()
    finally:
        bus.terminate()
        bus.wait(timeout=10)
        if bus.stdout is not None:
            bus.stdout.close()
        shutil.rmtree(folder, ignore_errors=True)
