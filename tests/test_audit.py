"""The audit log: every change to the rules that judge staff — deadline targets, holidays,
category routing, accounts, API keys — leaves one append-only entry (who, when, before →
after), written in the same transaction as the change, from the browser and the console.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from starlette.testclient import TestClient

from db import reference
from tests.backend import execute, query, refusing_writes, scalar
from tests.helpers import (
    CIDENG,
    GAMBIR,
    PASSWORD,
    add_account,
    hidden,
    rows,
    staff_client,
)
from tests.test_apikeys import add_key, operator_env  # noqa: F401 (fixture)
from tests.test_deadlines import logged_in, targets_form
from web.app import create_app
from web.cli import main
from web.settings import Settings

UTC_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
NEW_KEY = re.compile(r'id="new-key" value="(ak_[A-Za-z0-9_-]{43})"')


def entries(settings: Settings) -> list[dict[str, Any]]:
    """Every audit entry, oldest first, with before/after decoded."""
    found = []
    for row in rows(settings, "SELECT * FROM audit_log ORDER BY id"):
        entry = dict(row)
        entry["before"] = json.loads(row["before_json"]) if row["before_json"] else None
        entry["after"] = json.loads(row["after_json"]) if row["after_json"] else None
        found.append(entry)
    return found


def csrf(client: TestClient) -> str:
    return hidden(client.get("/staf/admin/libur").text, "csrf_token")


def admin_in(client: TestClient, settings: Settings) -> tuple[int, str]:
    """Log `admin1` in; returns its account id and the session's form token."""
    logged_in(client, settings, "admin1", "admin")
    admin_id = rows(settings, "SELECT id FROM users WHERE username = 'admin1'")[0][0]
    return admin_id, csrf(client)


# --- the table itself ---------------------------------------------------------------------


def test_the_database_refuses_to_change_or_delete_an_entry(
    client: TestClient, settings: Settings
) -> None:
    _, token = admin_in(client, settings)
    client.post("/staf/admin/libur", data={"csrf_token": token, "day": "2026-03-19", "name": "x"})
    before = rows(settings, "SELECT * FROM audit_log")
    assert len(before) == 1
    statements = [
        "UPDATE audit_log SET actor_name = 'someone-else'",
        "UPDATE audit_log SET after_json = NULL WHERE id = 1",
        "DELETE FROM audit_log",
        "DELETE FROM audit_log WHERE id = 1",
    ]
    if not settings.uses_sqlite:
        statements.append("TRUNCATE audit_log")
    for statement in statements:
        with pytest.raises(IntegrityError, match="append-only"):
            execute(settings, statement)
    assert rows(settings, "SELECT * FROM audit_log") == before


def test_loading_a_new_database_is_not_recorded_as_a_change(settings: Settings) -> None:
    # The shared template ran migrations and the first load of areas, agencies, categories
    # and holidays: that is the starting point, not an edit.
    assert entries(settings) == []


# --- deadline targets ---------------------------------------------------------------------


def test_a_change_of_targets_is_recorded_with_who_and_before_and_after(
    client: TestClient, settings: Settings
) -> None:
    admin_id, _ = admin_in(client, settings)
    old = dict(rows(settings, "SELECT * FROM categories WHERE code = 'sampah'")[0])
    form = targets_form(client, response_amount="2", response_unit="workdays")
    assert client.post("/staf/admin/tenggat/sampah", data=form).status_code == 200
    [entry] = entries(settings)
    assert (entry["actor_id"], entry["actor_name"]) == (admin_id, "admin1")
    assert (entry["kind"], entry["action"]) == ("targets", "targets.change")
    assert (entry["object_table"], entry["object_key"]) == ("categories", "sampah")
    assert UTC_TEXT.match(entry["at"])
    names = ("response", "dispatch", "resolution")
    assert entry["before"] == {
        f"{n}_{part}": old[f"{n}_{part}"] for n in names for part in ("amount", "unit")
    }
    assert entry["after"] == {
        "response_amount": 2,
        "response_unit": "workdays",
        "dispatch_amount": 1,
        "dispatch_unit": "workdays",
        "resolution_amount": 3,
        "resolution_unit": "workdays",
    }
    # Saving the form as it is changes nothing, so it records nothing.
    client.post("/staf/admin/tenggat/sampah", data=form)
    assert len(entries(settings)) == 1


def test_refused_target_changes_record_nothing(client: TestClient, settings: Settings) -> None:
    admin_in(client, settings)
    wrong = targets_form(client, dispatch_amount="0")
    assert client.post("/staf/admin/tenggat/sampah", data=wrong).status_code == 422
    unknown = client.post("/staf/admin/tenggat/tidakada", data=targets_form(client))
    assert unknown.status_code == 404
    assert entries(settings) == []


# --- holidays -----------------------------------------------------------------------------


def test_holidays_added_renamed_and_removed_are_recorded(
    client: TestClient, settings: Settings
) -> None:
    _, token = admin_in(client, settings)
    add = {"csrf_token": token, "day": "2026-03-19", "name": "Hari Suci Nyepi"}
    client.post("/staf/admin/libur", data=add)
    client.post("/staf/admin/libur", data={**add, "name": "Nyepi"})
    client.post("/staf/admin/libur", data={**add, "name": "Nyepi"})  # the same: no change
    client.post("/staf/admin/libur/2026-12-24/hapus", data={"csrf_token": token})
    found = [(e["action"], e["object_key"], e["before"], e["after"]) for e in entries(settings)]
    assert found == [
        ("holiday.add", "2026-03-19", None, {"day": "2026-03-19", "name": "Hari Suci Nyepi"}),
        (
            "holiday.rename",
            "2026-03-19",
            {"day": "2026-03-19", "name": "Hari Suci Nyepi"},
            {"day": "2026-03-19", "name": "Nyepi"},
        ),
        ("holiday.remove", "2026-12-24", {"day": "2026-12-24", "name": "Cuti bersama Natal"}, None),
    ]
    assert {e["kind"] for e in entries(settings)} == {"holiday"}


def test_refused_holiday_changes_record_nothing(client: TestClient, settings: Settings) -> None:
    _, token = admin_in(client, settings)
    bad = client.post("/staf/admin/libur", data={"csrf_token": token, "day": "x", "name": "a"})
    assert bad.status_code == 422
    gone = client.post("/staf/admin/libur/2026-03-03/hapus", data={"csrf_token": token})
    assert gone.status_code == 404
    assert entries(settings) == []


# --- accounts -----------------------------------------------------------------------------


def test_account_changes_are_recorded_without_passwords_hashes_or_real_names(
    client: TestClient, settings: Settings
) -> None:
    admin_id, token = admin_in(client, settings)
    created = client.post(
        "/staf/admin/akun",
        data={
            "csrf_token": token,
            "username": "cideng1",
            "display_name": "Ratna Kusumawati",
            "password": PASSWORD,
            "role": "officer",
            "areas": [CIDENG],
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    user_id = rows(settings, "SELECT id FROM users WHERE username = 'cideng1'")[0][0]
    path = f"/staf/admin/akun/{user_id}"
    client.post(
        f"{path}/lingkup",
        data={
            "csrf_token": token,
            "display_name": "Ratna K. Dewi",
            "role": "officer",
            "areas": [CIDENG, GAMBIR],
            "agency_code": "DLH",
        },
    )
    with staff_client(settings, "cideng1"):
        client.post(f"{path}/sandi", data={"csrf_token": token, "password": "sandi-baru-panjang"})
    client.post(f"{path}/nonaktif", data={"csrf_token": token})
    client.post(f"{path}/nonaktif", data={"csrf_token": token})  # already inactive: no change
    client.post(f"{path}/aktif", data={"csrf_token": token})
    log = entries(settings)
    assert [e["action"] for e in log] == [
        "account.create",
        "account.edit",
        "account.password",
        "account.deactivate",
        "account.reactivate",
    ]
    assert {(e["kind"], e["object_table"], e["object_key"]) for e in log} == {
        ("account", "users", str(user_id))
    }
    assert {(e["actor_id"], e["actor_name"]) for e in log} == {(admin_id, "admin1")}
    create, edit, password, deactivate, reactivate = log
    assert create["before"] is None
    assert create["after"] == {
        "username": "cideng1",
        "role": "officer",
        "agency_code": None,
        "areas": [CIDENG],
        "active": True,
    }
    assert edit["before"] == create["after"]
    assert edit["after"] == {
        **create["after"],
        "agency_code": "DLH",
        "areas": sorted([CIDENG, GAMBIR]),
        "display_name_changed": True,
    }
    assert password["after"] == {"username": "cideng1", "sessions_ended": 1}
    assert deactivate["before"] == {"username": "cideng1", "active": True}
    assert deactivate["after"] == {"username": "cideng1", "active": False, "sessions_ended": 0}
    assert reactivate["after"] == {"username": "cideng1", "active": True}
    stored = " ".join(str(r["before_json"]) + str(r["after_json"]) for r in log)
    password_hash = rows(settings, "SELECT password_hash FROM users WHERE id = ?", (user_id,))
    for secret in (
        PASSWORD,
        "sandi-baru-panjang",
        password_hash[0][0],
        "$argon2",
        "Ratna",
        "Kusumawati",
    ):
        assert secret not in stored


def test_refused_account_changes_record_nothing(client: TestClient, settings: Settings) -> None:
    admin_id, token = admin_in(client, settings)
    target = add_account(settings, "gambir1", areas=[GAMBIR])
    short = client.post(
        "/staf/admin/akun",
        data={"csrf_token": token, "username": "baru", "password": "pendek", "role": "officer"},
    )
    taken = client.post(
        "/staf/admin/akun",
        data={
            "csrf_token": token,
            "username": "gambir1",
            "password": "sandi-awal-panjang",
            "role": "officer",
            "areas": [GAMBIR],
        },
    )
    no_scope = client.post(
        f"/staf/admin/akun/{target}/lingkup", data={"csrf_token": token, "role": "officer"}
    )
    weak = client.post(f"/staf/admin/akun/{target}/sandi", data={"csrf_token": token})
    myself = client.post(f"/staf/admin/akun/{admin_id}/nonaktif", data={"csrf_token": token})
    assert [r.status_code for r in (short, taken, no_scope, weak, myself)] == [422] * 5
    assert entries(settings) == []


def test_the_console_records_the_accounts_it_creates(
    operator_env: Settings,  # noqa: F811 (fixture)
) -> None:
    assert main(["user", "add", "spv1", "--role", "supervisor", "--name", "Andi Wijaya"]) == 0
    [entry] = entries(operator_env)
    assert (entry["actor_id"], entry["actor_name"]) == (None, "cli")
    assert entry["action"] == "account.create"
    assert entry["after"] == {
        "username": "spv1",
        "role": "supervisor",
        "agency_code": None,
        "areas": [],
        "active": True,
    }


# --- API keys -----------------------------------------------------------------------------


def test_api_keys_made_and_revoked_in_the_browser_are_recorded_without_the_key(
    client: TestClient, settings: Settings
) -> None:
    admin_id, token = admin_in(client, settings)
    made = client.post(
        "/staf/admin/api", data={"csrf_token": token, "name": "JAKI", "rate_per_minute": "120"}
    )
    secret_match = NEW_KEY.search(made.text)
    assert secret_match
    secret = secret_match[1]
    key_id = rows(settings, "SELECT id FROM api_keys")[0][0]
    client.post(f"/staf/admin/api/{key_id}/cabut", data={"csrf_token": token})
    client.post(f"/staf/admin/api/{key_id}/cabut", data={"csrf_token": token})  # no change
    create, revoke = entries(settings)
    assert {(e["actor_id"], e["actor_name"], e["kind"]) for e in (create, revoke)} == {
        (admin_id, "admin1", "apikey")
    }
    assert (create["action"], create["object_table"], create["object_key"]) == (
        "apikey.create",
        "api_keys",
        str(key_id),
    )
    state = {"prefix": secret[:11], "name": "JAKI", "rate_per_minute": 120, "revoked_at": None}
    assert create["before"] is None and create["after"] == state
    assert revoke["action"] == "apikey.revoke" and revoke["before"] == state
    assert UTC_TEXT.match(revoke["after"]["revoked_at"])
    stored = str(create["after_json"]) + str(revoke["before_json"]) + str(revoke["after_json"])
    key_hash = rows(settings, "SELECT key_hash FROM api_keys")[0][0]
    assert secret not in stored and secret[11:20] not in stored and key_hash not in stored


def test_api_keys_made_and_revoked_on_the_console_are_recorded_as_the_console(
    operator_env: Settings,  # noqa: F811 (fixture)
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = add_key(capsys, "Qlue")
    assert main(["apikey", "revoke", secret[:11]]) == 0
    assert main(["apikey", "revoke", secret[:11]]) == 2  # nothing to revoke: nothing recorded
    log = entries(operator_env)
    assert [(e["action"], e["actor_id"], e["actor_name"]) for e in log] == [
        ("apikey.create", None, "cli"),
        ("apikey.revoke", None, "cli"),
    ]
    assert secret not in json.dumps([e["after_json"] for e in log])


# --- category routing (`aduan init` again with another seed) -------------------------------


def changed_seed(tmp_path: Path) -> Path:
    """The shipped seed with rubbish sent to the kelurahan instead of DLH, a new holiday and
    a renamed one."""
    text = reference.SEED_FILE.read_text(encoding="utf-8")
    assert text.count('agency = "DLH"') == 1
    text = text.replace('agency = "DLH"', 'agency = "KEL"')
    text = text.replace('"Cuti bersama Natal"', '"Cuti bersama Hari Raya Natal"')
    text += '\n[[holidays]]\nday = "2026-03-19"\nname = "Hari Suci Nyepi"\n'
    path = tmp_path / "seed.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_init_again_with_another_seed_records_what_it_changed(
    data_dir: Path, db: str | Path, tmp_path: Path
) -> None:
    assert main(["init"]) == 0
    assert main(["init"]) == 0  # the same seed again changes nothing
    assert scalar(db, "SELECT COUNT(*) FROM audit_log") == 0
    assert main(["init", "--seed", str(changed_seed(tmp_path))]) == 0
    log = query(db, "SELECT * FROM audit_log ORDER BY id")
    found = [
        (
            e["actor_name"],
            e["kind"],
            e["action"],
            e["object_key"],
            e["before_json"],
            e["after_json"],
        )
        for e in log
    ]
    assert found == [
        (
            "cli",
            "routing",
            "routing.change",
            "sampah",
            '{"confidential":false,"default_agency_code":"DLH"}',
            '{"confidential":false,"default_agency_code":"KEL"}',
        ),
        (
            "cli",
            "holiday",
            "holiday.rename",
            "2026-12-24",
            '{"day":"2026-12-24","name":"Cuti bersama Natal"}',
            '{"day":"2026-12-24","name":"Cuti bersama Hari Raya Natal"}',
        ),
        (
            "cli",
            "holiday",
            "holiday.add",
            "2026-03-19",
            None,
            '{"day":"2026-03-19","name":"Hari Suci Nyepi"}',
        ),
    ]


# --- one transaction: no change without its entry -----------------------------------------


def broken_audit_log(settings: Settings) -> AbstractContextManager[None]:
    """Make every write to the audit log fail, as a full disk or a bug would."""
    return refusing_writes(settings, ["audit_log"], ["INSERT"], "audit log unavailable")


def world(settings: Settings) -> list[Any]:
    """Everything the audited changes could touch."""
    return [
        [tuple(r) for r in rows(settings, sql)]
        for sql in (
            "SELECT * FROM categories ORDER BY code",
            "SELECT * FROM holidays ORDER BY day",
            "SELECT * FROM users ORDER BY id",
            "SELECT * FROM user_areas ORDER BY user_id, area_code",
            "SELECT * FROM api_keys ORDER BY id",
            "SELECT * FROM audit_log",
        )
    ]


Change = Callable[[TestClient, str, dict[str, int]], Any]
CHANGES: dict[str, Change] = {
    "targets": lambda c, t, ids: c.post(
        "/staf/admin/tenggat/sampah", data={**targets_form(c), "response_amount": "5"}
    ),
    "holiday add": lambda c, t, ids: c.post(
        "/staf/admin/libur", data={"csrf_token": t, "day": "2026-03-19", "name": "Nyepi"}
    ),
    "holiday rename": lambda c, t, ids: c.post(
        "/staf/admin/libur", data={"csrf_token": t, "day": "2026-12-24", "name": "Natal"}
    ),
    "holiday remove": lambda c, t, ids: c.post(
        "/staf/admin/libur/2026-12-24/hapus", data={"csrf_token": t}
    ),
    "account create": lambda c, t, ids: c.post(
        "/staf/admin/akun",
        data={
            "csrf_token": t,
            "username": "baru1",
            "password": "sandi-awal-panjang",
            "role": "supervisor",
        },
    ),
    "account edit": lambda c, t, ids: c.post(
        f"/staf/admin/akun/{ids['officer']}/lingkup",
        data={"csrf_token": t, "role": "supervisor"},
    ),
    "account password": lambda c, t, ids: c.post(
        f"/staf/admin/akun/{ids['officer']}/sandi",
        data={"csrf_token": t, "password": "sandi-baru-panjang"},
    ),
    "account deactivate": lambda c, t, ids: c.post(
        f"/staf/admin/akun/{ids['officer']}/nonaktif", data={"csrf_token": t}
    ),
    "api key create": lambda c, t, ids: c.post(
        "/staf/admin/api", data={"csrf_token": t, "name": "JAKI", "rate_per_minute": "60"}
    ),
    "api key revoke": lambda c, t, ids: c.post(
        f"/staf/admin/api/{ids['key']}/cabut", data={"csrf_token": t}
    ),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_whose_entry_cannot_be_written_is_not_made(
    settings: Settings, change: str
) -> None:
    officer = add_account(settings, "gambir1", areas=[GAMBIR])
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        _, token = admin_in(client, settings)
        client.post(
            "/staf/admin/api", data={"csrf_token": token, "name": "Qlue", "rate_per_minute": "5"}
        )
        ids = {"officer": officer, "key": rows(settings, "SELECT id FROM api_keys")[0][0]}
        before = world(settings)
        with broken_audit_log(settings):
            response = CHANGES[change](client, token, ids)
        assert response.status_code == 500
        assert world(settings) == before
        # The same change goes through, with its entry, once the log can be written.
        assert CHANGES[change](client, token, ids).status_code in (200, 303)
        assert world(settings) != before
        assert len(entries(settings)) == len(before[-1]) + 1


def rules_that_cannot_be_written(settings: Settings) -> AbstractContextManager[None]:
    """Make every write to the audited tables fail (the change itself fails, not the log)."""
    return refusing_writes(
        settings,
        ["categories", "holidays", "users", "user_areas", "api_keys"],
        ["INSERT", "UPDATE", "DELETE"],
        "disk full",
    )


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_that_fails_leaves_no_entry(settings: Settings, change: str) -> None:
    officer = add_account(settings, "gambir1", areas=[GAMBIR])
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        _, token = admin_in(client, settings)
        client.post(
            "/staf/admin/api", data={"csrf_token": token, "name": "Qlue", "rate_per_minute": "5"}
        )
        ids = {"officer": officer, "key": rows(settings, "SELECT id FROM api_keys")[0][0]}
        before = world(settings)
        with rules_that_cannot_be_written(settings):
            assert CHANGES[change](client, token, ids).status_code == 500
        assert world(settings) == before


def test_the_console_makes_no_change_whose_entry_cannot_be_written(
    operator_env: Settings,  # noqa: F811 (fixture)
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    before = world(operator_env)
    with broken_audit_log(operator_env):
        assert main(["user", "add", "spv1", "--role", "supervisor"]) == 1
        assert main(["apikey", "add", "Qlue"]) == 1
        assert main(["init", "--seed", str(changed_seed(tmp_path))]) == 1
    assert "audit log unavailable" in capsys.readouterr().err
    assert world(operator_env) == before
