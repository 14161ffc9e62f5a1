"""A response's head and a small body leave in one write (one system call, one TCP segment
on a TCP_NODELAY socket); a large body is not copied behind the head; a head with no body
after it still goes out, and closing sends what is held first."""

from __future__ import annotations

import asyncio

from web.server import CoalescingTransport

HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"


class Recording:
    """What asyncio's transport was asked to do (a stand-in for the socket)."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


async def test_a_head_and_a_small_body_are_one_write() -> None:
    socket = Recording()
    transport = CoalescingTransport(socket, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(HEAD)
    transport.write(b"hello")
    transport.write(b"")  # the end of the message
    await asyncio.sleep(0)
    assert socket.writes == [HEAD + b"hello"]
    assert not transport.is_closing()  # everything else reaches the real transport


async def test_a_large_body_is_written_after_the_head_not_copied_behind_it() -> None:
    socket = Recording()
    transport = CoalescingTransport(socket, asyncio.get_running_loop())  # type: ignore[arg-type]
    body = b"x" * (CoalescingTransport.JOIN_LIMIT + 1)
    transport.write(HEAD)
    transport.write(body)
    assert socket.writes == [HEAD, body]


async def test_a_head_without_a_body_goes_out_at_the_next_turn_of_the_loop() -> None:
    socket = Recording()
    transport = CoalescingTransport(socket, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"HTTP/1.1 304 Not Modified\r\n\r\n")
    assert socket.writes == []
    await asyncio.sleep(0)
    assert socket.writes == [b"HTTP/1.1 304 Not Modified\r\n\r\n"]
    transport.write(b"HTTP/1.1 204 No Content\r\n\r\n")
    transport.close()
    assert socket.writes[-1] == b"HTTP/1.1 204 No Content\r\n\r\n" and socket.closed
