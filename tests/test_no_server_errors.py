"""No input makes a route answer 500.

Hypothesis sends every route of the app (read from `app.routes`, so a new route is covered
the day it is added) values of every parameter name the code reads: text of any Unicode,
integers small and huge, digits that only `str.isdigit()` calls digits ("²"), dates and
times across the whole calendar, page cursors, control and invisible characters. Each
request starts from a valid one where the route needs it (a complete report form, the
staff token, the case's version), so a bad value reaches the code that reads it instead of
being stopped by an earlier check. Staff routes are called as a logged-in admin.

Random examples alone seldom hit the one value that breaks one parameter, so each route
also always gets, as explicit examples, every edge value of each kind of parameter it
reads (numbers past 64 bits and past int()'s 4,300 digits, "²", the first and last days of
the calendar, an open-ended date window, a garbled cursor).

One app and one database serve the whole module; examples are derandomized, so a run is
repeatable and CI sees the same requests.
"""

from __future__ import annotations

import inspect
import re
import shutil
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeSerializer
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.conftest import make_settings
from tests.helpers import GAMBIR, PASSWORD, add_account, hidden
from web import apikeys, forms, lifecycle, parse
from web.app import create_app
from web.inbox_filter import FILTER_PARAMS
from web.routes import open311, staff_reports
from web.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_PER_ROUTE = 15
NEVER_FUZZED = {("staff_logout", "POST")}  # would end the session every other route uses

# --- the parameter names the code reads ----------------------------------------------------

_NAME_PATTERNS = [
    re.compile(r'\.get\(\s*"([A-Za-z_][A-Za-z0-9_\[\]]*)"'),
    re.compile(r'getlist\(\s*"([A-Za-z_][A-Za-z0-9_\[\]]*)"'),
    re.compile(r'_param\(\s*\w+,\s*"([A-Za-z_][A-Za-z0-9_\[\]]*)"'),
    re.compile(r'_text\(\s*\w+,\s*"([A-Za-z_][A-Za-z0-9_\[\]]*)"'),
]
_FIELD = re.compile(r'\bname="([A-Za-z_][A-Za-z0-9_\[\]]*)"')  # form fields in the templates


def names_in(*paths: Path) -> set[str]:
    found: set[str] = set()
    for path in paths:
        text = path.read_text(encoding="utf-8")
        for pattern in [_FIELD] if path.suffix == ".html" else _NAME_PATTERNS:
            found.update(pattern.findall(text))
    return found


def parameter_names() -> list[str]:
    """Every name the handlers read from a query string or form, found in the code."""
    found = names_in(*ROOT.glob("web/**/*.py"), *ROOT.glob("web/templates/**/*.html"))
    found.update(forms.TEXT_FIELDS, forms.FLAG_FIELDS, staff_reports.TYPED_FIELDS, FILTER_PARAMS)
    found.update(open311.LIMITS, [open311.KELURAHAN_ATTRIBUTE])
    return sorted(name for name in found if name[0].islower())  # not ADUAN_* settings


NAMES = parameter_names()
REPORT_FORM_NAMES = {
    *forms.TEXT_FIELDS,
    *forms.FLAG_FIELDS,
    "held_photos",
    "photo_lat",
    "notify_by",
}


def route_names(route: Route, start: dict[str, str]) -> list[str]:
    """The names a route's module reads (its handler's file), those of its valid request,
    and the report form's when the route takes a report."""
    module = Path(inspect.getsourcefile(route.endpoint) or "")
    found = names_in(module) | set(start)
    if "description" in start:
        found |= REPORT_FORM_NAMES
    return sorted(found & set(NAMES) | set(start))


def test_the_parameter_names_are_found_in_the_code() -> None:
    for name in ("page", "page_size", "start_date", "written_at", "rating", "version", "after"):
        assert name in NAMES
    for name in ("setelah", "dari", "sampai", "bulan", "triwulan", "rate_per_minute"):
        assert name in NAMES


# --- values ------------------------------------------------------------------------------------

ODD_DIGITS = ["²", "³", "¹⁰", "٣", "۴", "१२", "１２", "𝟗", "Ⅻ", "½", "⑦", "0²"]
NASTY_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x1b[31m",
    "\u202eexe.jpg",
    "\u200b" * 12,
    "\ufffd",
    "Ã©",
    "'; DROP TABLE reports;--",
    "<script>",
    "%00",
    "a" * 5000,
]
OFFSETS = ["", "Z", "+07:00", "+14:00", "-12:00", "+23:59"]
anything = st.one_of(
    st.sampled_from(NASTY_TEXT + ODD_DIGITS),
    st.text(max_size=30),
    st.integers().map(str),
    st.integers(min_value=10**18, max_value=10**80).map(str),
)
# For each kind of parameter: values that have broken such parsers (first), then values
# shaped like the parameter's across and beyond every range.
EDGE_INTEGERS = ["²", "0²", "٣", str(2**63), "9" * 25, "9" * 5000, "0", "-1", "+1", "1e3"]
KIND_VALUES: dict[str, tuple[list[str], st.SearchStrategy[str]]] = {
    "integer": (
        EDGE_INTEGERS,
        st.one_of(
            st.integers(min_value=-(10**30), max_value=10**30).map(str),
            st.lists(st.sampled_from([*ODD_DIGITS, *"0123456789"]), min_size=1, max_size=6).map(
                "".join
            ),
        ),
    ),
    "number": (
        ["nan", "inf", "-inf", "1e309", "-6,2", "1e-400", "١٢", "9" * 5000],
        st.floats().map(str),
    ),
    "day": (
        ["0001-01-01", "9999-12-31", "9999-12-30", "2026-02-30", "2026-W01-1", "٢٠٢٦-٠١-٠١"],
        st.dates().map(date.isoformat),
    ),
    "month": (
        ["0001-01", "9999-12", "2026-00", "2026-13", "²⁰²⁶-01", "2026-1"],
        st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(0, 9999), st.integers(0, 13)),
    ),
    "quarter": (
        ["0001-Q1", "9999-Q4", "2026-Q0", "2026-Q5", "2026-Q²"],
        st.builds(lambda y, q: f"{y:04d}-Q{q}", st.integers(0, 9999), st.integers(0, 5)),
    ),
    "moment": (
        ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "0001-01-02", "9999-12-31"],
        st.builds(lambda d, z: d.isoformat() + z, st.datetimes(), st.sampled_from(OFFSETS)),
    ),
    "local_moment": (
        ["0001-01-01T00:00", "9999-12-31T23:59", "2026-02-30T10:00"],
        st.builds(lambda d: f"{d:%Y-%m-%dT%H:%M}", st.datetimes()),
    ),
    "cursor": (
        ["_²", f"_{2**64}", "2026-03-01T00:00:00Z_" + "9" * 25, "9999-12-31T23:59:59Z_1", "x_1"],
        st.builds(
            lambda d, n: f"{d:%Y-%m-%dT%H:%M:%S}Z_{n}",
            st.datetimes(),
            st.integers(min_value=-1, max_value=10**30),
        ),
    ),
    "periode": (["bulan", "triwulan", "rentang"], st.sampled_from(["bulan", "triwulan"])),
}
KINDS = {
    **dict.fromkeys(["page", "page_size", "rating", "version", "rate_per_minute"], "integer"),
    **dict.fromkeys(["response_amount", "dispatch_amount", "resolution_amount"], "integer"),
    **dict.fromkeys(["user_id", "key_id"], "integer"),
    **dict.fromkeys(["lat", "lon", "long", "photo_lat", "photo_lon"], "number"),
    **dict.fromkeys(["dari", "sampai", "day"], "day"),
    **dict.fromkeys(["start_date", "end_date", "written_at"], "moment"),
    "complained_at": "local_moment",
    "bulan": "month",
    "triwulan": "quarter",
    "after": "cursor",
    "setelah": "cursor",
    "periode": "periode",
}


def value_for(name: str) -> st.SearchStrategy[str]:
    """For a parameter of a known kind, mostly its edge values and its shape; else anything."""
    kind = KINDS.get(name)
    if kind is None:
        return anything
    edges, shaped = KIND_VALUES[kind]
    return st.one_of(st.sampled_from(edges), st.sampled_from(edges), shaped, anything)


# --- one app, one database, one admin for the whole module -------------------------------------


class World:
    """The app under test and the rows its routes can be pointed at."""

    def __init__(self, client: TestClient, config: Settings, admin_id: int, other_id: int):
        self.client = client
        self.settings = config
        self.admin_id = admin_id
        self.other_id = other_id
        self.api_key = self.call(
            partial(apikeys.create_key, self.db, "Fuzz", rate_per_minute=10_000)
        )
        self.csrf_token = ""

    @property
    def db(self) -> Any:
        return self.client.app_state["db"]

    def call(self, fn: Callable[[], Any]) -> Any:
        return self.client.portal.call(fn)

    def new_report(self, status: str = "received") -> str:
        new = lifecycle.NewReport(
            category="sampah", area=GAMBIR, description="Sampah menumpuk di depan pasar."
        )
        code = self.call(partial(lifecycle.create_report, self.db, new, ())).code
        if status == "resolved":
            action = lifecycle.Action(kind="resolve", expected_version=1, public_note="Beres.")
            self.call(partial(lifecycle.apply_action, self.db, code, action))
        return code

    def version(self, code: str) -> str:
        row = self.call(
            partial(
                self.db.fetchone, "SELECT version FROM reports WHERE code = :code", {"code": code}
            )
        )
        return str(row["version"])

    def private_token(self, code: str) -> str:
        serializer = URLSafeSerializer(self.settings.secret_key, salt="aduan.report-private")
        return str(serializer.dumps(code))

    def ensure_logged_in(self) -> None:
        page = self.client.get("/staf/admin/api", follow_redirects=False)
        if page.status_code == 200:
            self.csrf_token = hidden(page.text, "csrf_token")
            return
        page = self.client.get("/staf/masuk")
        self.client.post(
            "/staf/masuk",
            data={
                "username": "fuzzadmin",
                "password": PASSWORD,
                "csrf_token": hidden(page.text, "csrf_token"),
            },
        )
        page = self.client.get("/staf/admin/api", follow_redirects=False)
        self.csrf_token = hidden(page.text, "csrf_token")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, template_db: Path) -> Iterator[World]:
    data_dir = tmp_path_factory.mktemp("fuzz") / "data"
    data_dir.mkdir()
    shutil.copy(template_db, data_dir / "aduan.sqlite3")
    config = make_settings(data_dir)
    other_id = add_account(config, "lain1", areas=[GAMBIR])
    admin_id = add_account(config, "fuzzadmin", "admin")
    with TestClient(create_app(config)) as client:
        found = World(client, config, admin_id, other_id)
        found.ensure_logged_in()
        yield found


# --- routes ------------------------------------------------------------------------------------


def _routes() -> list[tuple[str, str]]:
    app = create_app(make_settings(Path("/nonexistent")))
    pairs = []
    for route in app.routes:
        if isinstance(route, Route):
            for method in sorted(route.methods or ()):
                if method != "HEAD" and (route.name, method) not in NEVER_FUZZED:
                    pairs.append((route.name, method))
    return pairs


ROUTES = _routes()
VALID_REPORT = {
    "category": "sampah",
    "area": GAMBIR,
    "description": "Sampah menumpuk empat hari di TPS samping masjid.",
    "written_at": "2026-11-20T08:15:00+07:00",
}


def baseline(world: World, name: str, code: str) -> dict[str, str]:
    """A valid request of each route that takes parameters, to start mutating from."""
    staff_form = {"csrf_token": world.csrf_token} if name.startswith("staff_") else {}
    forms_by_route: dict[str, dict[str, str]] = {
        "submit_report": VALID_REPORT,
        "api_submit_report": VALID_REPORT,
        "staff_intake": {
            **VALID_REPORT,
            "channel": "walk_in",
            "complained_at": (datetime.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        },
        "answer": {"fixed": "ya", "rating": "4", "note": "Sudah bersih."},
        "open311_requests": {
            "start_date": "2026-01-01T00:00:00+07:00",
            "page": "1",
            "page_size": "10",
        },
        "open311_create_request": {
            "api_key": world.api_key.secret,
            "service_code": "jalan",
            "lat": "-6.1754",
            "long": "106.8272",
            "description": "Jalan berlubang besar di depan halte",
            open311.KELURAHAN_ATTRIBUTE: GAMBIR,
        },
        "staff_action": {
            "version": world.version(code) if name == "staff_action" else "1",
            "public_note": "Sudah dicek petugas.",
            "internal_note": "Catatan.",
            "agency_code": "DLH",
            "category_code": "jalan",
            "area_code": GAMBIR,
        },
        "staff_dashboard": {
            "periode": "rentang",
            "dari": "2026-03-01",
            "sampai": "2026-03-31",
            "bulan": "2026-03",
            "triwulan": "2026-Q1",
        },
        "staff_dashboard_csv": {"periode": "bulan", "bulan": "2026-03"},
        "staff_overdue": {"setelah": "2026-03-01T00:00:00Z_1"},
        "staff_inbox": {"after": "2026-03-01T00:00:00Z_1", "status": "semua"},
        "staff_api_key_create": {"name": "JAKI", "rate_per_minute": "60"},
        "staff_account_create": {
            "username": "baru1",
            "password": "kata-sandi-baru-123",
            "role": "officer",
            "areas": GAMBIR,
        },
        "staff_account_scope": {"role": "officer", "areas": GAMBIR, "display_name": "Lain"},
        "staff_account_password": {"password": "kata-sandi-baru-123"},
        "staff_targets_save": {
            "response_amount": "24",
            "response_unit": "hours",
            "dispatch_amount": "1",
            "dispatch_unit": "workdays",
            "resolution_amount": "3",
            "resolution_unit": "workdays",
        },
        "staff_holiday_save": {"day": "2026-12-25", "name": "Natal"},
        "performance": {"periode": "triwulan"},
        "lookup": {"kode": code},
    }
    return {**staff_form, **forms_by_route.get(name, {})}


REAL = "\x00real"  # stands for the real value of a path parameter (the report's code, …)
PATH_KINDS = {"user_id": "integer", "key_id": "integer", "day": "day", "event": "integer"}


def real_values(world: World, code: str) -> dict[str, str]:
    sha = "a" * 64
    return {
        "code": code,
        "token": world.private_token(code),
        "fmt": "json",
        "user_id": str(world.other_id),
        "action": "verify",
        "state": "nonaktif",
        "key_id": str(world.api_key.key.id),
        "day": "2026-12-25",
        "service_code": "sampah",
        "service_request_id": code,
        "sha": sha,
        "name": f"{sha}.jpg",
        "digest": "0",
        "path": "css/app.css",
        "kode": "31.71.01.1001",  # a kelurahan: its public list
        "event": "1",  # the first report's "received": a public step
    }


def path_strategy(route: Route) -> st.SearchStrategy[dict[str, str]]:
    """The real value of each path parameter four times in five, else a value of its kind."""

    def one(name: str) -> st.SearchStrategy[str]:
        fuzz = value_for(PATH_KINDS[name]) if name in PATH_KINDS else anything
        return st.integers(0, 4).flatmap(lambda n: st.just(REAL) if n < 4 else fuzz)

    return st.fixed_dictionaries({name: one(name) for name in route.param_convertors})


def changes_strategy(names: list[str]) -> st.SearchStrategy[dict[str, str | None]]:
    """Parameters of a known kind each kept, left out (None) or replaced; a few others set."""
    typed = {
        name: st.one_of(st.none(), value_for(name), value_for(name))
        for name in names
        if name in KINDS
    }
    # a route that reads no parameter of its own (the stop link's page) still gets others
    keys = st.one_of(*(st.sampled_from(found) for found in (names, NAMES) if found))
    others = st.dictionaries(keys, anything, max_size=2)
    return st.builds(lambda a, b: {**b, **a}, st.fixed_dictionaries({}, optional=typed), others)


def edge_examples(route: Route, names: list[str]) -> list[tuple[dict[str, str], dict[str, Any]]]:
    """(path, changes) pairs that must always be tried: every edge value of each kind, in
    each parameter of that kind alone, alone with the other dates left out (a window that
    is open on one side), and in all the route's parameters of that kind at once."""
    examples: list[tuple[dict[str, str], dict[str, Any]]] = []
    typed = [n for n in names if n in KINDS]
    for name in typed:
        kind = KINDS[name]
        for edge in KIND_VALUES[kind][0]:
            examples.append(({}, {name: edge}))
            if kind in ("moment", "day") and len(typed) > 1:
                examples.append(({}, {**dict.fromkeys(typed), name: edge}))
    for kind in {KINDS[n] for n in typed}:
        same = [n for n in typed if KINDS[n] == kind]
        if len(same) > 1:
            examples.extend(({}, dict.fromkeys(same, edge)) for edge in KIND_VALUES[kind][0])
    for name in route.param_convertors:
        if name in PATH_KINDS:
            examples.extend(({name: e}, {}) for e in KIND_VALUES[PATH_KINDS[name]][0])
    return examples


def fill_path(route: Route, chosen: dict[str, str], real: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        value = chosen.get(match[1], REAL)
        return quote(real[match[1]] if value == REAL else value, safe="") or "-"

    return re.sub(r"\{(\w+)(?::\w+)?\}", replace, route.path)


def find_route(app: Any, name: str, method: str) -> Route:
    return next(
        r
        for r in app.routes
        if isinstance(r, Route) and r.name == name and method in (r.methods or ())
    )


@pytest.mark.parametrize(("route_name", "method"), ROUTES, ids=[f"{m} {n}" for n, m in ROUTES])
def test_no_input_makes_a_route_answer_500(world: World, route_name: str, method: str) -> None:
    route = find_route(world.client.app, route_name, method)
    world.ensure_logged_in()
    status = "resolved" if route_name == "answer" else "received"
    shared_code = world.new_report(status)
    names = route_names(route, baseline(world, route_name, shared_code))

    def check(chosen: dict[str, str], changes: dict[str, str | None]) -> None:
        # A case action or an answer changes its report: each example gets a fresh one.
        code = world.new_report(status) if route_name in {"staff_action", "answer"} else shared_code
        real = real_values(world, code)
        if "user_id" in chosen and chosen["user_id"] != REAL:
            try:  # never the admin's own account: its password or role could end the run
                if parse.identifier(chosen["user_id"]) == world.admin_id:
                    return
            except parse.ParamError:
                pass
        sent = baseline(world, route_name, code)
        for name, value in changes.items():
            if value is None:
                sent.pop(name, None)
            else:
                sent[name] = value
        url = fill_path(route, chosen, real)
        if method == "GET":
            response = world.client.get(url, params=sent, follow_redirects=False)
        else:
            response = world.client.request(method, url, data=sent, follow_redirects=False)
        assert response.status_code < 500, (method, url, sent, response.text[:500])

    fuzz = given(chosen=path_strategy(route), changes=changes_strategy(names))(check)
    for chosen, changes in edge_examples(route, names):
        fuzz = example(chosen=chosen, changes=changes)(fuzz)
    settings(
        max_examples=EXAMPLES_PER_ROUTE,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )(fuzz)()


def test_every_route_is_fuzzed() -> None:
    names = {name for name, _method in ROUTES}
    assert {"open311_requests", "answer", "staff_action", "staff_overdue"} <= names
    assert len(ROUTES) >= 50
