"""The layout rules the code must keep (STYLE.md 1 and 5, DESIGN.md "Layout"): SQL lives only
in db/, db/ never imports web/, route modules do not import each other and the app lists
every one of them, and no module grows past MAX_LINES.

Both are checked by reading the source with `ast`, not by grepping: a string of SQL split
over several lines, built as an f-string or run through any connection is still found, and
a word such as "SELECT" in a docstring is not.
"""

from __future__ import annotations

import ast
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from web.app import ROUTE_MODULES

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
# STYLE.md: split a module before it passes ~500 lines; past this, split it (or say why not in
# LONG_MODULES).
MAX_LINES = 450
# Modules allowed past MAX_LINES, each with the reason. An entry that is no longer needed
# fails too, so the list never outlives its reasons.
LONG_MODULES: dict[str, str] = {}

# SQL is written in capitals, here as in db/. A statement, or a fragment of one that only
# makes sense inside SQL (a join, a condition on a column, a placeholder list).
SQL_TEXT = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b"
    r"|\bINSERT\s+(?:OR\s+[A-Z]+\s+)?INTO\b"
    r"|\bUPDATE\s+\w+\s+SET\b"
    r"|\bDELETE\s+FROM\b"
    r"|\b(?:CREATE|DROP|ALTER)\s+(?:TEMP\s+|UNIQUE\s+)?(?:TABLE|INDEX|TRIGGER|VIEW)\b"
    r"|\bPRAGMA\s+\w+"
    r"|\bJOIN\s+\w+(?:\s+\w+)?\s+ON\b"
    r"|\bWHERE\s+[\w.]+\s*(?:[=<>!]|IN\b|IS\b|LIKE\b|BETWEEN\b)"
    r"|\b(?:ORDER|GROUP)\s+BY\s+[\w.]+"
)
# What runs SQL or reads its result, on whatever object (a connection, a cursor, the
# Database facade): outside db/ nothing calls these.
CURSOR_METHODS = frozenset(
    {"execute", "executemany", "executescript", "fetchone", "fetchall", "fetchmany"}
)


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


class _SqlScanner(ast.NodeVisitor):
    def __init__(self, path: str) -> None:
        self.path = path
        self.found: list[Finding] = []

    def _flag(self, node: ast.AST, what: str) -> None:
        self.found.append(Finding(self.path, getattr(node, "lineno", 0), what))

    def _check_text(self, node: ast.AST, text: str) -> None:
        match = SQL_TEXT.search(text)
        if match:
            self._flag(node, f"SQL in a string: {match.group(0)[:60]!r}")

    def visit_Expr(self, node: ast.Expr) -> None:
        # A docstring (or any bare string statement) is prose about the code, never run.
        if isinstance(node.value, ast.Constant | ast.JoinedStr):
            return
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            self._check_text(node, node.value)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        # An f-string is checked whole, with each interpolation as a placeholder: its
        # literal parts alone ("SELECT ", " FROM reports") may not look like SQL.
        text = "".join(
            str(part.value) if isinstance(part, ast.Constant) else "x" for part in node.values
        )
        self._check_text(node, text)
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                self.visit(part.value)

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Attribute) and node.func.attr in CURSOR_METHODS:
            self._flag(node, f"calls .{node.func.attr}()")
        self.generic_visit(node)


def sql_in_source(source: str, path: str = "<snippet>") -> list[Finding]:
    """Every string that looks like SQL and every call that runs SQL in one module."""
    scanner = _SqlScanner(path)
    scanner.visit(ast.parse(source, filename=path))
    return scanner.found


def sql_outside_db(root: Path) -> dict[str, list[Finding]]:
    """Findings per module of `root`/web (paths relative to `root`), modules without any
    left out."""
    found: dict[str, list[Finding]] = {}
    for path in sorted((root / "web").rglob("*.py")):
        name = path.relative_to(root).as_posix()
        findings = sql_in_source(path.read_text(encoding="utf-8"), name)
        if findings:
            found[name] = findings
    return found


def imported_modules(source: str, package: str) -> list[str]:
    """Every module a module of `package` imports, by full dotted name (relative imports
    resolved; `from a import b` counts as both a and a.b, since b may be a module)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from .x import y
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found.extend(t for t in targets if t not in found)
    return found


def route_imports(source: str, module: str) -> list[str]:
    """The route modules (web.routes.x) that the route module `module` imports."""
    found: list[str] = []
    for target in imported_modules(source, "web.routes"):
        parts = target.split(".")
        if parts[:2] == ["web", "routes"] and len(parts) >= 3:
            imported = ".".join(parts[:3])
            if imported != module and imported not in found:
                found.append(imported)
    return found


def web_imports_in_db(root: Path) -> dict[str, list[str]]:
    """db/ module → the web modules it imports (db/ sits below web/ and never reaches up)."""
    found: dict[str, list[str]] = {}
    for path in sorted((root / "db").glob("*.py")):
        imported = [
            name
            for name in imported_modules(path.read_text(encoding="utf-8"), "db")
            if name == "web" or name.startswith("web.")
        ]
        if imported:
            found[f"db/{path.name}"] = imported
    return found


def route_modules(root: Path) -> dict[str, str]:
    """Module name → source of every route module under `root`/web/routes."""
    return {
        f"web.routes.{path.stem}": path.read_text(encoding="utf-8")
        for path in sorted((root / "web" / "routes").glob("*.py"))
        if path.stem != "__init__"
    }


def unlisted_route_modules(root: Path, listed: Iterable[str]) -> list[str]:
    """Route modules under `root`/web/routes that are not among `listed` (dotted names)."""
    return sorted(set(route_modules(root)) - set(listed))


def long_modules(root: Path) -> dict[str, int]:
    """Python modules of `root`/web and `root`/db longer than MAX_LINES → their lines."""
    found: dict[str, int] = {}
    for package in ("web", "db"):
        for path in sorted((root / package).rglob("*.py")):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > MAX_LINES:
                found[path.relative_to(root).as_posix()] = lines
    return found


# --- the rules -------------------------------------------------------------------------------


def test_no_sql_outside_db() -> None:
    found = sql_outside_db(ROOT)
    assert not found, "SQL belongs in db/:\n" + "\n".join(
        str(f) for findings in found.values() for f in findings
    )


def test_db_never_imports_web() -> None:
    found = web_imports_in_db(ROOT)
    assert not found, f"db/ must not import web/ (pass values in instead): {found}"


def test_no_route_module_imports_another() -> None:
    found = {
        module: imported
        for module, source in route_modules(ROOT).items()
        if (imported := route_imports(source, module))
    }
    assert not found, f"route modules importing route modules: {found}"


def test_the_app_lists_every_route_module() -> None:
    listed = [module.__name__ for module in ROUTE_MODULES]
    assert len(listed) == len(set(listed)), f"listed twice in web/app.py: {listed}"
    assert unlisted_route_modules(ROOT, listed) == [], "not in web.app.ROUTE_MODULES"


def test_no_module_in_web_or_db_passes_the_line_limit() -> None:
    found = long_modules(ROOT)
    too_long = {path: lines for path, lines in found.items() if path not in LONG_MODULES}
    assert not too_long, f"split these modules (over {MAX_LINES} lines): {too_long}"
    outlived = sorted(set(LONG_MODULES) - set(found))
    assert not outlived, f"no longer over {MAX_LINES} lines, drop from LONG_MODULES: {outlived}"


# --- the checks can fail ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "snippet",
    [
        'row = await fetch("SELECT code FROM reports WHERE id = ?", (1,))',
        'sql = ("SELECT code"\n       " FROM reports")',
        'sql = f"SELECT {columns} FROM reports r WHERE {where}"',
        'sql = "INSERT INTO rate_events (bucket, at) VALUES (?, ?)"',
        'sql = "INSERT OR REPLACE INTO held_photos VALUES (?, ?)"',
        'sql = "UPDATE users SET active = 0"',
        'sql = "DELETE FROM sessions"',
        'sql = "CREATE TABLE x (id INTEGER)"',
        'sql = "PRAGMA integrity_check"',
        'tail = " JOIN categories c ON c.code = r.category_code"',
        'tail = " WHERE r.code = ?"',
        'tail = " ORDER BY r.id"',
        "await conn.execute(sql)",
        "conn.executemany(sql, rows)",
        "row = await db.fetchone(sql)",
        "rows = await cur.fetchall()",
        "source.execute(pragma).fetchone()",
    ],
)
def test_the_sql_check_flags_sql_in_strings_and_calls_that_run_it(snippet: str) -> None:
    assert sql_in_source(snippet)


@pytest.mark.parametrize(
    "snippet",
    [
        'def f():\n    """Reads SELECT … FROM reports WHERE id = ? through db/."""',
        'message = _("Pilih kelurahan dari daftar.")',
        'log.info("select a report from the list, then update it")',
        'label = "Sampah menumpuk, DELETE tidak ada"',
        "rows = await report_db.events(db, report_id)",
        "async with db.write() as conn:\n    await q.touch_session(conn, 'x', now)",
    ],
)
def test_the_sql_check_leaves_prose_and_calls_of_db_functions_alone(snippet: str) -> None:
    assert sql_in_source(snippet) == []


def test_the_sql_check_finds_a_module_with_sql_added_under_web(tmp_path: Path) -> None:
    shutil.copytree(WEB, tmp_path / "web", ignore=shutil.ignore_patterns("static", "locale"))
    before = sql_outside_db(tmp_path)
    sneaky = tmp_path / "web" / "routes" / "sneaky.py"
    sneaky.write_text(
        "async def count(request):\n"
        "    row = await request.state.db.fetchone(\n"
        '        "SELECT COUNT(*) AS n FROM reports"\n'
        "    )\n"
        '    return row["n"]\n',
        encoding="utf-8",
    )
    after = sql_outside_db(tmp_path)
    assert set(after) - set(before) == {"web/routes/sneaky.py"}
    assert [f.line for f in after["web/routes/sneaky.py"]] == [2, 3]


@pytest.mark.parametrize(
    ("snippet", "imported"),
    [
        ("from web.routes.dashboard import csv_chunk", ["web.routes.dashboard"]),
        ("from web.routes import staff_admin", ["web.routes.staff_admin"]),
        ("import web.routes.resident", ["web.routes.resident"]),
        ("from . import pwa", ["web.routes.pwa"]),
        ("from .system import healthz", ["web.routes.system"]),
        ("from web.routes.staff import routes\nfrom web import auth", ["web.routes.staff"]),
        ("from web import auth, lifecycle\nfrom db import reports", []),
        ("from web.routes.open311 import x", []),  # itself
    ],
)
def test_the_route_import_check_sees_every_form_of_import(
    snippet: str, imported: list[str]
) -> None:
    assert route_imports(snippet, "web.routes.open311") == imported


def test_the_listing_check_finds_a_route_module_the_app_leaves_out(tmp_path: Path) -> None:
    shutil.copytree(WEB / "routes", tmp_path / "web" / "routes")
    listed = [module.__name__ for module in ROUTE_MODULES]
    assert unlisted_route_modules(tmp_path, listed) == []
    (tmp_path / "web" / "routes" / "nearby.py").write_text("routes = []\n", encoding="utf-8")
    assert unlisted_route_modules(tmp_path, listed) == ["web.routes.nearby"]


def test_the_line_limit_check_finds_a_module_that_grew_too_long(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "db", tmp_path / "db", ignore=shutil.ignore_patterns("data"))
    (tmp_path / "web" / "lifecycle").mkdir(parents=True)
    (tmp_path / "web" / "lifecycle" / "short.py").write_text("x = 1\n" * MAX_LINES)
    before = long_modules(tmp_path)
    (tmp_path / "web" / "lifecycle" / "long.py").write_text("x = 1\n" * (MAX_LINES + 1))
    (tmp_path / "db" / "long.py").write_text("x = 1\n" * (MAX_LINES + 30))
    assert long_modules(tmp_path) == {
        **before,
        "web/lifecycle/long.py": MAX_LINES + 1,
        "db/long.py": MAX_LINES + 30,
    }
    assert "web/lifecycle/short.py" not in before


def test_the_db_import_check_finds_a_db_module_that_imports_web(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "db", tmp_path / "db", ignore=shutil.ignore_patterns("data"))
    assert web_imports_in_db(tmp_path) == {}
    (tmp_path / "db" / "clocked.py").write_text(
        "from web.clock import to_text\nfrom web import lifecycle\n", encoding="utf-8"
    )
    assert web_imports_in_db(tmp_path) == {
        "db/clocked.py": ["web.clock", "web.clock.to_text", "web", "web.lifecycle"]
    }
