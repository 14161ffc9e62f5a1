"""Health check, static files and the language switch."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from db import migrations
from web import i18n


async def healthz(request: Request) -> Response:
    """Answers from the database, so a broken or missing file shows as 503."""
    try:
        applied = await migrations.applied_count(request.state.db)
        return JSONResponse(
            {"status": "ok", "migrations": applied}, headers={"Cache-Control": "no-store"}
        )
    except Exception:
        return JSONResponse(
            {"status": "error"}, status_code=503, headers={"Cache-Control": "no-store"}
        )


async def static_file(request: Request) -> Response:
    static = request.app.state.static
    return await static.response(
        request.path_params["digest"],
        request.path_params["path"],
        request.headers.get("accept-encoding", ""),
    )


def _safe_next(value: str | None) -> str:
    # Only a local path: never an open redirect to another site.
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


async def set_language(request: Request) -> Response:
    """POST from the language switch in every page's header (works without JavaScript)."""
    form = await request.form()
    language = i18n.negotiate(str(form.get("lang") or ""))
    response = RedirectResponse(_safe_next(str(form.get("next") or "")), status_code=303)
    response.set_cookie(
        i18n.COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.https,
    )
    return response


routes = [
    Route("/healthz", healthz, name="healthz"),
    Route("/static/{digest}/{path:path}", static_file, name="static"),
    Route("/bahasa", set_language, methods=["POST"], name="set_language"),
]
