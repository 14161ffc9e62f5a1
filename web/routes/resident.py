"""Resident pages: home, the report form, receipt, tracking timeline."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.templating import render


async def home(request: Request) -> Response:
    return render(request, "home.html")


routes = [
    Route("/", home, name="home"),
]
