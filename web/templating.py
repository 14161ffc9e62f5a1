"""The Jinja2 environment: autoescaping, gettext, and the helpers every page uses."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from web import codes, i18n, urls, vapid
from web.lifecycle.rules import is_overdue
from web.settings import SettingsError
from web.static_files import StaticFiles

TEMPLATE_DIR = Path(__file__).parent / "templates"


def make_environment(
    static: StaticFiles, *, timezone: str, retention_months: int = 12
) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    env.globals["static_url"] = static.url
    env.globals["LANGUAGES"] = i18n.LANGUAGE_NAMES
    env.globals["is_overdue"] = is_overdue
    # how long a reporter's contact is kept after the report closes (the privacy notices)
    env.globals["retention_months"] = retention_months
    env.filters["localtime"] = lambda value, date_only=False: i18n.format_time(
        value, timezone, date_only=date_only
    )
    # a stored tracking code as people read and type it: K7QM-3XPA
    env.filters["display_code"] = codes.display
    return env


def _push_key(request: Request) -> str:
    """The server's Web Push public key; '' if it cannot be had (a bad configured key, an
    unwritable data directory): the page then shows no "Kabari saya" instead of failing."""
    try:
        return vapid.application_server_key(request.app.state.settings)
    except (SettingsError, OSError):
        return ""


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render a page or fragment with the request-wide context every template may use."""
    env: Environment = request.app.state.templates
    ctx: dict[str, Any] = {
        "request": request,
        "language": i18n.current_language.get(),
        "url_for": request.url_for,
        "path_for": partial(urls.path_for, request),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "account": getattr(request.state, "account", None),
        # Only pages with a "Kabari saya" button read the Web Push key (templates/_push.html).
        "push_key": partial(_push_key, request),
    }
    if context:
        ctx.update(context)
    html = env.get_template(template).render(ctx)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    # Every page is written in the language of the `lang` cookie: a shared cache that kept a
    # copy by URL alone would hand one language to everyone (see web/routes/performance.py).
    vary = response.headers.get("vary")
    response.headers["Vary"] = f"{vary}, Cookie" if vary else "Cookie"
    return response


def error_page(
    request: Request,
    status_code: int,
    title: str,
    detail: str,
    *,
    back_url: str = "/",
    back_label: str = "",
) -> HTMLResponse:
    """The plain error page, with a way back that suits where the person was."""
    return render(
        request,
        "error.html",
        {"title": title, "detail": detail, "back_url": back_url, "back_label": back_label},
        status_code=status_code,
    )


def bad_cursor_page(request: Request, first_page: str) -> HTMLResponse:
    """400 for a "next page" link that was cut short or edited (web/parse.py `cursor`)."""
    return error_page(
        request,
        400,
        i18n.gettext("Alamat halaman ini tidak terbaca"),
        i18n.gettext(
            "Tautan ke halaman berikutnya rusak atau terpotong. "
            "Buka daftarnya lagi dari halaman pertama."
        ),
        back_url=first_page,
        back_label=i18n.gettext("Ke halaman pertama"),
    )
