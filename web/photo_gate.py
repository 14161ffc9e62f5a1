"""How many photos one process works on at once, and what happens beyond: at most
PHOTO_SLOTS decode in worker threads, of them at most LARGE_AT_ONCE large uploads
(web/photos.py does the work; Pillow releases the GIL in its codecs, so both cores decode
while the event loop serves requests), a short queue waits behind them, and an upload that
would wait too long is refused for now with PhotosBusy, which the routes answer with 503
and Retry-After (web/errors.py): the phone's outbox sends it again then, the no-JavaScript
form comes back with everything typed.

Memory is what this bounds: a waiting upload stays where the form parser put it (a
temporary file) until its slot is free, so only the photos being decoded are in memory.
And what they free goes back to the system: with glibc's defaults a decoded photo's ~10 MB
buffers soon come from the heap (its mmap threshold grows after each such free) and from
one heap per thread, which fragment, and one worker passed 390 MB under a crowd of 200
uploaders; `_tune_allocator` keeps it near 170 MB (BENCHMARKS.md, issue 13).
"""

from __future__ import annotations

import asyncio
import ctypes
import math
import time
import weakref
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack

import anyio
import anyio.to_thread
from anyio import CapacityLimiter

from web import photos
from web.photos import Photo

# Photos decoded at once per process, their bytes read only once a slot is theirs: two
# already keep both cores of a small server busy.
PHOTO_SLOTS = 2
# Of them, at most this many large uploads: a camera's 12 MP photo (3-6 MB) takes ~32 MB
# while it is decoded and resampled, a phone-shrunk one (80-400 KB, js/photo-shrink.js) a
# few; two large ones at once took a worker past 200 MB under a crowd of 200 uploaders
# (BENCHMARKS.md, issue 13). The size sent stands in for the pixels, which are known
# only once the file is opened.
LARGE_AT_ONCE = 1
LARGE_UPLOAD_BYTES = 1024 * 1024
# An upload that would wait longer than this for a slot is refused for now (PhotosBusy,
# 503 with Retry-After): the phone's outbox sends it again, the form keeps what was typed.
MAX_WAIT_SECONDS = 10.0
_FIRST_GUESS_SECONDS = 0.25  # per photo, until this process has timed a few
# glibc mallopt(): buffers from this size up are mmap()ed, so freed at once to the system;
# at most this many heaps for all threads.
_M_MMAP_THRESHOLD, _MMAP_THRESHOLD = -3, 256 * 1024
_M_ARENA_MAX, _ARENA_MAX = -8, 2


class PhotosBusy(Exception):
    """Too many photos are waiting in this process: try again in `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("photos busy")
        self.retry_after = retry_after


async def process_photo_async(
    data: bytes | Callable[[], Awaitable[bytes]], size: int | None = None
) -> Photo:
    """`process_photo` in a worker thread, so the event loop does no image work and both
    cores can decode (Pillow releases the GIL in its codecs).

    At most PHOTO_SLOTS photos are processed at once in this process; pass a function that
    reads the upload rather than its bytes, and they are read only once a slot is free, so
    the photos waiting cost no memory. Raises PhotosBusy at once when the wait would be
    longer than MAX_WAIT_SECONDS, or when it was. A cancelled request still waits for its
    thread to finish, so the bound holds.
    """
    return await current_gate().run(data, size)


def current_gate() -> Gate:
    """This event loop's gate (one per loop: each test's app runs on a loop of its own)."""
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = Gate(PHOTO_SLOTS, LARGE_AT_ONCE)
    return gate


class Gate:
    """PHOTO_SLOTS photos at once, a queue behind them as long as MAX_WAIT_SECONDS allows
    (judged by how long this process took for its recent photos), PhotosBusy beyond."""

    def __init__(self, slots: int, large: int) -> None:
        self.slots = slots
        self.limiter = CapacityLimiter(slots)
        # Taken before a slot, so a large upload waiting for its turn holds no slot.
        self.large = CapacityLimiter(large)
        self.waiting = 0
        self.seconds = _FIRST_GUESS_SECONDS  # moving average of one photo's processing

    def expected_wait(self) -> float:
        if self.limiter.available_tokens > 0 and not self.waiting:
            return 0.0
        return (self.waiting + 1) * self.seconds / self.slots

    async def run(
        self, data: bytes | Callable[[], Awaitable[bytes]], size: int | None = None
    ) -> Photo:
        """Process one photo in its turn; `size`: the upload's bytes, when `data` reads them."""
        wait = self.expected_wait()
        if wait > MAX_WAIT_SECONDS:
            raise PhotosBusy(_retry_after(wait))
        sent = len(data) if isinstance(data, bytes) else size or 0
        async with AsyncExitStack() as held:  # what was taken is given back on any exit
            self.waiting += 1
            try:
                with anyio.move_on_after(MAX_WAIT_SECONDS) as scope:
                    if sent > LARGE_UPLOAD_BYTES:
                        await held.enter_async_context(self.large)
                    await held.enter_async_context(self.limiter)
            finally:
                self.waiting -= 1
            if scope.cancelled_caught:
                raise PhotosBusy(_retry_after(self.expected_wait()))
            if not isinstance(data, bytes):
                data = await data()
            started = time.monotonic()
            photo = await anyio.to_thread.run_sync(photos.process_photo, data)
            self.seconds += (time.monotonic() - started - self.seconds) / 8
            return photo


_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Gate] = weakref.WeakKeyDictionary()


def _retry_after(wait: float) -> int:
    """Seconds for Retry-After: the queue's expected wait, within reason."""
    return max(2, min(60, math.ceil(wait)))


def _tune_allocator() -> None:
    """Set glibc's allocator for big, short-lived image buffers (see the module's
    docstring); elsewhere (musl, macOS) there is nothing to set."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
    mallopt(_M_ARENA_MAX, _ARENA_MAX)


# At import, before this process decodes its first photo: each uvicorn worker imports the
# app, and with it this module, when it starts.
_tune_allocator()
