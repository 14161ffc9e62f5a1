"""The ceiling for `/t/{code}`: a bare Starlette page, no middleware, no database, served by
the same uvicorn as `aduan serve` (`uvicorn bench.bare_app:app`). bench/speed.py runs it."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

PAGE = "<!doctype html><html lang=id><title>Laporan</title><p>Status: Diterima</p></html>"


async def page(request: Request) -> HTMLResponse:
    return HTMLResponse(PAGE)


app = Starlette(routes=[Route("/", page)])
