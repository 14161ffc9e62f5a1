"""Links, form actions and redirects come from the route names (web/urls.py, `path_for` in
templates), and tracking codes are shown through one filter: a path changed in one Route
changes every link to it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from starlette.routing import Route
from starlette.testclient import TestClient

from tests.helpers import GAMBIR, add_account, add_report, login
from web.app import create_app
from web.settings import Settings

WEB = Path(__file__).resolve().parent.parent / "web"
# An attribute whose value is a path written out: href="/lapor", hx-get="/staf/...".
WRITTEN_PATH = re.compile(r'\b(?:href|action|src|formaction|hx-[a-z-]+)="/')
HAND_SLICED_CODE = re.compile(r"\[:4\]|\[4:\]")


def test_templates_write_no_path_and_slice_no_code() -> None:
    found = [
        f"{path.relative_to(WEB)}:{number}: {line.strip()}"
        for path in sorted((WEB / "templates").rglob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if WRITTEN_PATH.search(line) or HAND_SLICED_CODE.search(line) or '"/t/"' in line
    ]
    assert found == []


def _written_paths(source: str) -> list[str]:
    """String literals (f-strings too) that start with "/" outside a Route(...) and outside
    module constants (which are the paths Routes are made from)."""
    tree = ast.parse(source)
    allowed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Route":
            allowed.update(id(n) for n in ast.walk(node.args[0]))
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            allowed.update(id(n) for n in ast.walk(node))
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):  # judged whole, by its opening text
            allowed.update(id(n) for n in node.values)
    found = []
    for node in ast.walk(tree):
        if id(node) in allowed:
            continue
        if isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            text = first.value if isinstance(first, ast.Constant) else ""
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        # "/" alone is the site's root (the manifest's `id` and `scope`, the fallback of a
        # `next` parameter); "//" is what a safe `next` must not start with.
        if isinstance(text, str) and text.startswith("/") and text not in {"/", "//"}:
            found.append(f"line {node.lineno}: {text!r}")
    return found


def test_route_modules_build_no_path_by_hand() -> None:
    found = {
        path.name: paths
        for path in sorted((WEB / "routes").glob("*.py"))
        if (paths := _written_paths(path.read_text(encoding="utf-8")))
    }
    assert found == {}


def test_the_check_above_would_see_a_redirect_written_by_hand() -> None:
    source = 'def f(code):\n    return RedirectResponse(f"/staf/laporan/{code}?ok=1")\n'
    assert _written_paths(source) == ["line 2: '/staf/laporan/'"]


def test_every_route_is_named_and_no_name_is_taken_twice(settings: Settings) -> None:
    unnamed = [
        f"{path.name}:{node.lineno}"
        for path in sorted((WEB / "routes").glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", "") == "Route"
        and not any(keyword.arg == "name" for keyword in node.keywords)
    ]
    assert unnamed == []
    names = [route.name for route in create_app(settings).routes if isinstance(route, Route)]
    assert len(names) == len(set(names))


def test_a_staff_page_shows_codes_grouped_and_links_by_route(
    client: TestClient, settings: Settings
) -> None:
    code = add_report(settings, GAMBIR)
    add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "gambir1")
    shown = f"{code[:4]}-{code[4:]}"
    inbox = client.get("/staf").text
    assert f'href="/staf/laporan/{code}">{shown}</a>' in inbox
    page = client.get(f"/staf/laporan/{code}").text
    assert f"<title>Laporan {shown} · Aduan</title>" in page
    assert f'href="/t/{code}"' in page and f'action="/staf/laporan/{code}/verify"' in page


def test_static_urls_are_the_paths_of_the_static_route(settings: Settings) -> None:
    app = create_app(settings)
    static = app.state.static
    for rel in ("css/app.css", "js/outbox.js", "icons/icon.svg"):
        digest = static.files[rel].digest
        assert static.url(rel) == app.url_path_for("static", digest=digest, path=rel)
