"""SQL of the staff workspace. Every read of a report goes through `scope_clause`, so the
area/agency check lives in the query itself: a report outside the account's scope is simply
not found (SECURITY.md "Access"), whatever handler asked for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from db.areas import KELURAHAN_SQL
from db.database import Database
from db.dialect import Dialect
from db.reports import REPORT_JOINS, REPORT_NAMES


class Scoped(Protocol):
    """What the scope needs to know about an account (web.auth.Account has it)."""

    @property
    def id(self) -> int: ...
    @property
    def role(self) -> str: ...
    @property
    def agency_code(self) -> str | None: ...
    @property
    def area_codes(self) -> tuple[str, ...]: ...
    @property
    def is_inspectorate(self) -> bool: ...
    @property
    def sees_confidential_contact(self) -> bool: ...


# The kelurahan an officer holds: the user_areas rows themselves, or everything below a
# kecamatan/kota row. Resolved over the small areas table, so `r.area_code IN (…)` can use
# the reports (area_code, next_due_at, id) index.
_AREAS_OF_USER = (
    "SELECT a.code FROM areas a JOIN user_areas ua ON ua.user_id = :scope_user"
    " AND (a.code = ua.area_code OR a.code LIKE ua.area_code || '.%')"
)


# Kemendagri codes are fixed width, so a kecamatan (31.71.01) or kota (31.71) covers exactly
# the reports whose area code starts with it; these expressions match migration 0002's
# indexes character for character, which is what lets SQLite use them.
_PREFIX_INDEXES = {
    len("31.71.01"): "substr(r.area_code, 1, 8)",
    len("31.71"): "substr(r.area_code, 1, 5)",
}


_NOT_CONFIDENTIAL_CATEGORY = (
    "r.category_code NOT IN (SELECT code FROM categories WHERE confidential = 1)"
)


def scope_clause(account: Scoped, *, ordered: bool = True) -> tuple[str, dict[str, Any]]:
    """The SQL condition (on alias `r`) for the reports an account may see, and its params.

    Admins and supervisors see every report. An officer sees the reports of the areas in
    user_areas (an area covers everything below it) and those forwarded to their agency;
    the inspectorate also sees every confidential report, which is addressed to it. Reports
    of a confidential category (illegal levies: often about the kelurahan's own staff) are
    left out of an area officer's scope; they belong to the inspectorate. An officer without
    any scope sees nothing. `ordered=False` (counts) picks the form whose
    index covers the status column rather than the one that gives deadline order.
    """
    if account.role in ("admin", "supervisor"):
        return "1 = 1", {}
    parts: list[str] = []
    params: dict[str, Any] = {}
    single = account.area_codes[0] if len(account.area_codes) == 1 else ""
    if len(single) == len("31.71.01.1001"):
        # One kelurahan (the usual officer): an equality, so the (area_code, next_due_at,
        # id) index returns the inbox already in order, with no sort.
        parts.append("r.area_code = :scope_area")
        params["scope_area"] = single
    elif len(single) in _PREFIX_INDEXES and ordered:
        # One kecamatan or kota: the same, on the code prefix (migration 0002's indexes).
        parts.append(f"{_PREFIX_INDEXES[len(single)]} = :scope_area")
        params["scope_area"] = single
    elif account.area_codes:
        parts.append(f"r.area_code IN ({_AREAS_OF_USER})")
        params["scope_user"] = account.id
    if parts:
        parts = [f"(({' OR '.join(parts)}) AND {_NOT_CONFIDENTIAL_CATEGORY})"]
    if account.agency_code:
        parts.append("r.agency_code = :scope_agency")
        params["scope_agency"] = account.agency_code
        if account.is_inspectorate:
            parts.append("r.confidential = 1")
    if not parts:
        return "0 = 1", {}
    return "(" + " OR ".join(parts) + ")", params


CONTACT_COLUMNS = (
    "reporter_name",
    "reporter_phone",
    "reporter_email",
    "on_behalf_name",
    "on_behalf_phone",
    "volunteer_name",
)


def contact_columns(
    account: Scoped, names: tuple[str, ...] = CONTACT_COLUMNS
) -> tuple[str, dict[str, Any]]:
    """Reporter contact, selected only where the account may see it, else empty strings.

    Never for anonymous reports; for confidential ones (by flag or category) only for the
    inspectorate and admins. The data is left out of the row, not just hidden by a template.
    """
    allowed = (
        "r.anonymous = 0 AND (:sees_contact = 1 OR (r.confidential = 0 AND c.confidential = 0))"
    )
    columns = ", ".join(f"CASE WHEN {allowed} THEN r.{n} ELSE '' END AS {n}" for n in names)
    return columns, {"sees_contact": int(account.sees_confidential_contact)}


# The report page's columns: everything but the reporter's contact (`contact_columns`).
REPORT_PAGE_COLUMNS = f"""
    r.id, r.code, r.category_code, r.area_code, r.agency_code, r.description, r.address,
    r.rt_rw, r.lat, r.lon, r.location_source, r.channel, r.anonymous, r.confidential,
    r.on_behalf, r.on_behalf_no_phone, r.written_at, r.received_at, r.status,
    r.status_changed_at, r.response_due_at, r.first_response_at, r.dispatch_due_at,
    r.resolution_due_at, r.resolved_at, r.closed_at, r.next_due_at, r.duplicate_of,
    r.rating, r.reopen_count, r.version, r.updated_at, r.notify_by, c.default_agency_code,
    r.contact_erased_at, r.contact_erased_by,
    {REPORT_NAMES}
"""


async def load_report(db: Database, code: str, account: Scoped) -> Any:
    """One report by tracking code, only if it is in the account's scope; None otherwise.

    The one loader every staff handler uses, for reading and before every action.
    """
    scope, scope_params = scope_clause(account)
    contact, contact_params = contact_columns(account)
    return await db.fetchone(
        f"SELECT {REPORT_PAGE_COLUMNS}, {contact} {REPORT_JOINS} WHERE r.code = :code AND {scope}",
        {**contact_params, "code": code, **scope_params},
    )


async def photo_in_scope(db: Database, sha256: str, account: Scoped) -> bool:
    """Whether a stored photo belongs to at least one report the account may see."""
    scope, params = scope_clause(account)
    row = await db.fetchone(
        f"SELECT 1 FROM photos p JOIN reports r ON r.id = p.report_id"
        f" WHERE p.sha256 = :sha256 AND {scope} LIMIT 1",
        {"sha256": sha256, **params},
    )
    return row is not None


async def canned_replies(db: Database, category_code: str) -> list[Any]:
    """Ready-made notes for a category, then the general ones."""
    return await db.fetchall(
        "SELECT id, title, body FROM canned_replies"
        " WHERE category_code = :category_code OR category_code IS NULL"
        " ORDER BY category_code IS NULL, id",
        {"category_code": category_code},
    )


async def agencies(db: Database) -> list[Any]:
    """Every agency (code and names), in name order."""
    return await db.fetchall("SELECT code, name_id, name_en FROM agencies ORDER BY name_id")


async def kelurahan_in_scope(db: Database, account: Scoped) -> list[Any]:
    """Kelurahan to filter the inbox by: an area officer's own, else all of them."""
    sql = KELURAHAN_SQL
    params: dict[str, Any] = {}
    if account.role == "officer" and account.area_codes:
        sql += f" AND kel.code IN ({_AREAS_OF_USER})"
        params["scope_user"] = account.id
    return await db.fetchall(sql + " ORDER BY kec.name, kel.name", params)


async def kelurahan_of_user(db: Database, user_id: int) -> list[Any]:
    """The kelurahan an officer's areas cover (a kecamatan or kota row covers everything
    below it), with kecamatan and kota, in the order of the grouped picker."""
    return await db.fetchall(
        f"{KELURAHAN_SQL} AND kel.code IN ({_AREAS_OF_USER})"
        " ORDER BY kota.name, kec.name, kel.name",
        {"scope_user": user_id},
    )


# --- the inbox ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where a keyset page starts: after (next_due_at, id) of the previous page's last row.

    Rows with a deadline come first in deadline order, then those without (closed ones)
    in id order; `due` None means the cursor is already among the latter.
    """

    due: str | None
    id: int
    # Sorted by support count instead (most first): after (support_count, id) descending.
    supports: int | None = None

    def encode(self) -> str:
        """The text form in page links; web/parse.py `cursor` reads it back."""
        if self.supports is not None:
            return f"n{self.supports}_{self.id}"
        return f"{self.due or ''}_{self.id}"


@dataclass
class InboxFilter:
    """What the inbox (and its export) is filtered by."""

    statuses: tuple[str, ...] = ()  # empty: every status
    # What the statuses asked for imply about deadlines (open reports always have one,
    # closed ones never): lets the page skip a keyset run that cannot match anything.
    dated_only: bool = False
    undated_only: bool = False
    category: str = ""
    area: str = ""
    channel: str = ""
    overdue: bool = False
    code: str | None = None  # a search that reads as a tracking code
    text: str = ""
    by_support: bool = False  # most supported first instead of by deadline


def filter_sql(
    f: InboxFilter, now: str, *, dialect: Dialect, with_status: bool = True
) -> tuple[list[str], dict[str, Any]]:
    """The inbox's filter as SQL conditions on alias `r` (status list, category, kelurahan,
    channel, overdue, tracking code or words); the export uses the same."""
    where: list[str] = []
    params: dict[str, Any] = {}
    if with_status and f.statuses:
        # Kept from driving the page by the status index (SQLite would then sort every open
        # report); status is checked on the rows the scope index finds.
        where.append(f"{dialect.unindexed('r.status')} IN :statuses")
        params["statuses"] = list(f.statuses)
    for column, value in (
        ("category_code", f.category),
        ("area_code", f.area),
        ("channel", f.channel),
    ):
        if value:
            where.append(f"r.{column} = :filter_{column}")
            params[f"filter_{column}"] = value
    if with_status and f.overdue:
        where.append("r.next_due_at < :now")
        params["now"] = now
    if f.text:
        # Substring of description or address (db/dialect.py: FTS5 trigram or pg_trgm).
        search, search_params = dialect.text_search(f.text, "search")
        params.update(search_params)
        if f.code:
            search = f"r.code = :search_code OR {search}"
            params["search_code"] = f.code
        where.append(f"({search})")
    return where, params


INBOX_COLUMNS = """
    r.id, r.code, r.status, r.channel, r.next_due_at, r.received_at, r.confidential,
    r.support_count,
    substr(r.description, 1, 160) AS snippet, r.address,
    c.name_id AS category_name_id, c.name_en AS category_name_en, a.name AS area_name
"""


def inbox_queries(
    account: Scoped,
    f: InboxFilter,
    *,
    now: str,
    after: Cursor | None,
    limit: int,
    dialect: Dialect,
) -> tuple[tuple[str, dict[str, Any]] | None, tuple[str, dict[str, Any]] | None]:
    """The two keyset queries of an inbox page (SQL and params); None where a run is skipped.

    First the rows with a deadline by (next_due_at, id), then those without one by id: each
    follows an index in order, so no page ever sorts, and no OFFSET: a deep page costs what
    the first one does. Separate so bench/ can EXPLAIN exactly what runs.
    """
    scope, scope_params = scope_clause(account)
    where, params = filter_sql(f, now, dialect=dialect, with_status=True)
    base = f"SELECT {INBOX_COLUMNS} {REPORT_JOINS} WHERE " + " AND ".join([scope, *where])
    if f.by_support:
        # One run, most supported first; it sorts the reports in scope (supports are few
        # and change often, so no index keeps this order).
        by_count = "1 = 1"
        count_params: dict[str, Any] = {}
        if after is not None and after.supports is not None:
            by_count = (
                "(r.support_count < :after_supports"
                " OR (r.support_count = :after_supports AND r.id < :after_id))"
            )
            count_params = {"after_supports": after.supports, "after_id": after.id}
        return (
            f"{base} AND {by_count} ORDER BY r.support_count DESC, r.id DESC LIMIT :limit",
            {**scope_params, **params, **count_params, "limit": limit + 1},
        ), None
    due_run = None
    if (after is None or after.due is not None) and not f.undated_only:
        keyset: str = "r.next_due_at IS NOT NULL"
        keyset_params: dict[str, Any] = {}
        if after is not None:
            keyset = "(r.next_due_at, r.id) > (:after_due, :after_id)"
            keyset_params = {"after_due": after.due, "after_id": after.id}
        due_run = (
            f"{base} AND {keyset} ORDER BY r.next_due_at, r.id LIMIT :limit",
            {**scope_params, **params, **keyset_params, "limit": limit + 1},
        )
    undated_run = None
    if not f.overdue and not f.dated_only:  # nothing without a deadline is overdue
        after_id = after.id if after is not None and after.due is None else 0
        undated_run = (
            f"{base} AND r.next_due_at IS NULL AND r.id > :after_id ORDER BY r.id LIMIT :limit",
            {**scope_params, **params, "after_id": after_id, "limit": limit + 1},
        )
    return due_run, undated_run


async def inbox_page(
    db: Database,
    account: Scoped,
    f: InboxFilter,
    *,
    now: str,
    after: Cursor | None = None,
    limit: int = 25,
) -> tuple[list[Any], Cursor | None]:
    """One page of the inbox in deadline order (no deadline last), and the next cursor."""
    due_run, undated_run = inbox_queries(
        account, f, now=now, after=after, limit=limit, dialect=db.dialect
    )
    rows: list[Any] = []
    if due_run is not None:
        rows = await db.fetchall(*due_run)
    if len(rows) <= limit and undated_run is not None:
        sql, params = undated_run
        rows += await db.fetchall(sql, {**params, "limit": limit + 1 - len(rows)})
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    if f.by_support:
        return rows[:limit], Cursor(None, last["id"], supports=last["support_count"])
    return rows[:limit], Cursor(last["next_due_at"], last["id"])


def count_queries(
    account: Scoped, f: InboxFilter, *, now: str, dialect: Dialect
) -> tuple[tuple[str, dict[str, Any]], tuple[str, dict[str, Any]]]:
    """The SQL of the per-status counts and of the overdue count (the non-status filters
    apply, so the counts describe what the other filters select)."""
    scope, scope_params = scope_clause(account, ordered=False)
    where, params = filter_sql(f, now, dialect=dialect, with_status=False)
    condition = " AND ".join([scope, *where])
    return (
        (
            f"SELECT r.status, COUNT(*) AS n FROM reports r WHERE {condition} GROUP BY r.status",
            {**scope_params, **params},
        ),
        (
            f"SELECT COUNT(*) AS n FROM reports r WHERE {condition} AND r.next_due_at < :now",
            {**scope_params, **params, "now": now},
        ),
    )


async def status_counts(
    db: Database, account: Scoped, f: InboxFilter, *, now: str
) -> tuple[dict[str, int], int]:
    """Reports per status in scope, and how many of them are overdue."""
    per_status, overdue = count_queries(account, f, now=now, dialect=db.dialect)
    rows = await db.fetchall(*per_status)
    late = await db.fetchone(*overdue)
    return {r["status"]: r["n"] for r in rows}, int(late["n"])


async def scope_areas(db: Database) -> list[Any]:
    """Kota, kecamatan and kelurahan in tree order, for choosing an officer's areas."""
    return await db.fetchall(
        "SELECT code, name, level FROM areas WHERE level BETWEEN 2 AND 4 ORDER BY code"
    )
