"""A report's private link (`/t/{code}/p/{token}`): whoever holds it may answer "Sudah
beres?" for the resident and see a confidential report's timeline and photos. The token is
the tracking code signed with the app's secret under a salt of its own; nothing is stored.
"""

from __future__ import annotations

import hmac

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.requests import Request


def private_serializer(request: Request) -> URLSafeSerializer:
    return _serializer(request.app.state.settings.secret_key)


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="aduan.report-private")


def token_for(secret_key: str, code: str) -> str:
    """A private link's token outside a request (a push message sent in the background)."""
    return str(_serializer(secret_key).dumps(code))


def private_token(request: Request, code: str) -> str:
    """The token of a report's private link: whoever holds it may answer "Sudah beres?"."""
    return token_for(request.app.state.settings.secret_key, code)


def private_token_valid(request: Request, code: str, token: str) -> bool:
    try:
        return hmac.compare_digest(str(private_serializer(request).loads(token)), code)
    except BadSignature:
        return False
