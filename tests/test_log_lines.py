"""The log of `aduan serve` (web/server.py): lines logged in one turn of the event loop leave
in one write at its end, lines from elsewhere at once, none is lost when the loop stops, and
the per-second time text reads exactly as logging's own formatter writes it."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator

import pytest

from web.server import LOG_FORMAT, BatchingStreamHandler, LineFormatter

RECORD_FLAGS = ("logThreads", "logProcesses", "logMultiprocessing", "_srcfile")


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


@pytest.fixture
def handler() -> Iterator[tuple[BatchingStreamHandler, CountingStream]]:
    saved = {name: getattr(logging, name) for name in RECORD_FLAGS}
    stream = CountingStream()
    made = BatchingStreamHandler(stream)
    made.setFormatter(logging.Formatter("%(message)s"))
    try:
        yield made, stream
    finally:
        for name, value in saved.items():
            setattr(logging, name, value)


def record(message: str, created: float = 1_790_000_000.25) -> logging.LogRecord:
    made = logging.LogRecord("aduan.request", logging.INFO, __file__, 1, message, None, None)
    made.created = created
    made.msecs = (created - int(created)) * 1000
    return made


def test_lines_of_one_loop_turn_leave_together_at_its_end(
    handler: tuple[BatchingStreamHandler, CountingStream],
) -> None:
    batching, stream = handler

    async def main() -> tuple[str, str]:
        for n in range(3):
            batching.handle(record(f"line {n}"))
        during = stream.getvalue()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return during, stream.getvalue()

    during, after = asyncio.run(main())
    assert during == ""
    assert after == "line 0\nline 1\nline 2\n"
    assert stream.writes == 1


def test_lines_outside_the_loop_are_written_at_once_after_those_waiting(
    handler: tuple[BatchingStreamHandler, CountingStream],
) -> None:
    batching, stream = handler
    batching.handle(record("at once"))
    assert stream.getvalue() == "at once\n"

    async def main() -> None:
        batching.handle(record("in the loop"))
        # logged from a thread while the loop's line still waits
        await asyncio.to_thread(batching.handle, record("from a thread"))

    asyncio.run(main())
    assert stream.getvalue() == "at once\nin the loop\nfrom a thread\n"


def test_a_line_left_when_the_loop_stops_is_written_at_shutdown(
    handler: tuple[BatchingStreamHandler, CountingStream],
) -> None:
    batching, stream = handler
    loop = asyncio.new_event_loop()

    def last_words() -> None:
        loop.stop()  # this is the loop's last turn
        batching.handle(record("stopping"))

    loop.call_soon(last_words)
    loop.run_forever()
    loop.close()  # the flush it scheduled never ran
    assert stream.getvalue() == ""
    batching.flush()  # what logging.shutdown does at exit
    assert stream.getvalue() == "stopping\n"


@pytest.mark.parametrize(
    "created",
    [1_790_000_000.0, 1_790_000_000.999, 1_790_000_001.0005, 1_790_003_600.5, 1_790_000_000.5],
)
def test_the_time_reads_as_loggings_own_formatter_writes_it(created: float) -> None:
    ours = LineFormatter(LOG_FORMAT)
    theirs = logging.Formatter(LOG_FORMAT)
    # the same formatter over several seconds, as in a running server
    for earlier in (created - 1, created - 0.2, created):
        assert ours.format(record("x", earlier)) == theirs.format(record("x", earlier))
