"""Links to our own pages, built from the route names (each Route's `name=`), never by hand.

`path_for` gives the path alone: for links, form actions and redirects within the site,
which then work under any host name. `public_url` puts the configured public address
(ADUAN_BASE_URL) in front: for what leaves the site — a QR code, a WhatsApp message, a
printed private link — and so never takes the host from the request.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request


def path_for(request: Request, name: str, /, **params: Any) -> str:
    return str(request.app.url_path_for(name, **params))


def public_url(request: Request, name: str, /, **params: Any) -> str:
    base: str = request.app.state.settings.base_url
    return base + path_for(request, name, **params)
