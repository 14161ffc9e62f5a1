"""SQL of the audit log: who changed the rules that judge staff (deadline targets, holidays,
category routing, accounts, API keys), when, and the object before and after the change.

`record` runs inside the caller's write transaction, next to the change it describes, so
both are committed or neither is. The table is append-only (migration 0004's triggers
refuse UPDATE and DELETE), and this module only ever inserts and reads.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from db.database import Connection, Database

KINDS = ("targets", "holiday", "routing", "account", "apikey", "personal_data")
ACTIONS = frozenset(
    {
        "targets.change",
        "holiday.add",
        "holiday.rename",
        "holiday.remove",
        "routing.change",
        "routing.add",
        "account.create",
        "account.edit",
        "account.contacts",
        "account.password",
        "account.deactivate",
        "account.reactivate",
        "apikey.create",
        "apikey.revoke",
        # residents' personal data (UU PDP, migration 0011): an admin's export or erasure
        # for a request that came to the office, and each staff CSV holding contacts
        "personal_data.export",
        "personal_data.erase",
        "personal_data.staff_csv",
    }
)
BATCH_SIZE = 1000
COLUMNS = (
    "id, at, actor_id, actor_name, kind, action, object_table, object_key, before_json, after_json"
)


@dataclass(frozen=True)
class Actor:
    """Who made a change: a staff account (id and username at the time) or the console."""

    id: int | None
    name: str


CONSOLE = Actor(None, "cli")


@dataclass(frozen=True)
class Entry:
    """One audit log entry as stored; `before` and `after` decode its JSON."""

    id: int
    at: str
    actor_id: int | None
    actor_name: str
    kind: str
    action: str
    table: str
    key: str
    before_json: str | None
    after_json: str | None

    @property
    def before(self) -> dict[str, Any] | None:
        return json.loads(self.before_json) if self.before_json else None

    @property
    def after(self) -> dict[str, Any] | None:
        return json.loads(self.after_json) if self.after_json else None

    @classmethod
    def from_row(cls, row: Any) -> Entry:
        return cls(
            id=row["id"],
            at=row["at"],
            actor_id=row["actor_id"],
            actor_name=row["actor_name"],
            kind=row["kind"],
            action=row["action"],
            table=row["object_table"],
            key=row["object_key"],
            before_json=row["before_json"],
            after_json=row["after_json"],
        )


def _json(value: dict[str, Any] | None) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


async def record(
    conn: Connection,
    *,
    at: str,
    actor: Actor,
    action: str,
    table: str,
    key: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> int:
    """Append one entry in the caller's write transaction; returns its id.

    The caller passes what it may show: never a password, a hash or a key's secret.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry_id = await conn.insert(
        "INSERT INTO audit_log (at, actor_id, actor_name, kind, action, object_table,"
        " object_key, before_json, after_json) VALUES (:at, :actor_id, :actor_name, :kind,"
        " :action, :object_table, :object_key, :before_json, :after_json) RETURNING id",
        {
            "at": at,
            "actor_id": actor.id,
            "actor_name": actor.name,
            "kind": action.split(".", 1)[0],
            "action": action,
            "object_table": table,
            "object_key": str(key),
            "before_json": _json(before),
            "after_json": _json(after),
        },
    )
    assert entry_id is not None
    return entry_id


@dataclass(frozen=True)
class LogFilter:
    """Which entries to read: one kind (or all), and a [since, until) window of UTC text."""

    kind: str = ""
    since: str | None = None
    until: str | None = None


def _where(f: LogFilter, before_id: int | None) -> tuple[str, dict[str, Any]]:
    where: list[str] = []
    params: dict[str, Any] = {}
    if f.kind:
        where.append("kind = :kind")
        params["kind"] = f.kind
    if f.since:
        where.append("at >= :since")
        params["since"] = f.since
    if f.until:
        where.append("at < :until")
        params["until"] = f.until
    if before_id is not None:
        where.append("id < :before_id")
        params["before_id"] = before_id
    return (" WHERE " + " AND ".join(where) if where else ""), params


async def page(
    db: Database, f: LogFilter, *, before_id: int | None = None, limit: int = 50
) -> tuple[list[Entry], int | None]:
    """One page of entries, newest first, and the id the next page starts below (keyset by
    id: entries are only ever appended, so a page never shifts under the reader)."""
    where, params = _where(f, before_id)
    rows = await db.fetchall(
        f"SELECT {COLUMNS} FROM audit_log{where} ORDER BY id DESC LIMIT :limit",
        {**params, "limit": limit + 1},
    )
    entries = [Entry.from_row(r) for r in rows[:limit]]
    return entries, (entries[-1].id if len(rows) > limit else None)


async def batches(
    db: Database, f: LogFilter, *, batch_size: int = BATCH_SIZE
) -> AsyncIterator[list[Entry]]:
    """Every entry of the filter, newest first, `batch_size` per short read (for the CSV)."""
    before_id: int | None = None
    while True:
        entries, before_id = await page(db, f, before_id=before_id, limit=batch_size)
        if entries:
            yield entries
        if before_id is None:
            return


async def rule_change_times(
    db: Database, *, since: str, first_day: str, last_day: str
) -> list[str]:
    """When the rules that judge a period were changed at or after `since` (its start): any
    category's targets but those of confidential categories (left out of public figures),
    and holidays falling between `first_day` and `last_day` (ISO dates). Oldest first."""
    rows = await db.fetchall(
        "SELECT at FROM audit_log WHERE at >= :since AND ("
        " (kind = 'targets' AND object_key NOT IN"
        "   (SELECT code FROM categories WHERE confidential = 1))"
        " OR (kind = 'holiday' AND object_key BETWEEN :first_day AND :last_day)"
        ") ORDER BY at",
        {"since": since, "first_day": first_day, "last_day": last_day},
    )
    return [r["at"] for r in rows]
