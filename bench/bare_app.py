"""The ceiling for `/t/{code}`: a bare Starlette page, no middleware, no database, on the
same uvicorn (h11, asyncio) as `aduan serve`. bench/speed.py runs it:

    python bench/bare_app.py --port 8001 --workers 2

uvicorn's multi-worker socket is made without IPPROTO_TCP, so asyncio does not set
TCP_NODELAY on its connections and every response written in two parts waits ~40 ms for
the client's delayed ACK (1,100 req/s instead of 4,500 with two workers). The ceiling sets
TCP_NODELAY itself, as `aduan serve` now does (web/server.py).
"""

from __future__ import annotations

import argparse
import socket
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

PAGE = "<!doctype html><html lang=id><title>Laporan</title><p>Status: Diterima</p></html>"


async def page(request: Request) -> HTMLResponse:
    return HTMLResponse(PAGE)


app = Starlette(routes=[Route("/", page)])


class NoDelayProtocol(H11Protocol):
    def connection_made(self, transport: Any) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    uvicorn.run(
        "bench.bare_app:app",
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
        http=NoDelayProtocol,
    )


if __name__ == "__main__":
    main()
