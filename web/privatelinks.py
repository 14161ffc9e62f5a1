"""A report's private link (`/t/{code}/p/{token}`): whoever holds it may answer "Sudah
beres?" for the resident and see a confidential report's timeline and photos. The token is
the tracking code signed with the app's secret under a salt of its own; nothing is stored.
"""

from __future__ import annotations

import hmac

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.requests import Request


def private_serializer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(request.app.state.settings.secret_key, salt="aduan.report-private")


def private_token(request: Request, code: str) -> str:
    """The token of a report's private link: whoever holds it may answer "Sudah beres?"."""
    return str(private_serializer(request).dumps(code))


def private_token_valid(request: Request, code: str, token: str) -> bool:
    try:
        return hmac.compare_digest(str(private_serializer(request).loads(token)), code)
    except BadSignature:
        return False
