"""The team and the audit log on a real SQLite file: the chat commands and the workspace's pages
use the same rules (conversations/team.py)."""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from conversations import officers, team
from conversations.services import Services, Visit, begin_visit
from conversations.workspace import token_hash
from storage import open_database
from storage.database import migration_scripts
from tests.offline import GP_HOURS, Clock, offline_services

ADMIN = 555_000_001
PRIYA = 700_000_123
SAM = 700_000_456
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def services(database_target: str) -> AsyncIterator[Services]:
    """The test once on SQLite, once on PostgreSQL."""
    async with offline_services(database_target, NOW, GP_HOURS, admins=frozenset({ADMIN})) as found:
        yield found


async def admin(services: Services) -> Visit:
    return await begin_visit(services, ADMIN, "en")


async def test_the_chat_lists_the_same_team_as_the_page_by_name(services: Services) -> None:
    await officers.add_officer(await admin(services), str(PRIYA))
    await officers.add_officer(await admin(services), str(SAM))
    await team.remember_name(services, PRIYA, "Priya", "Shah", "priya_s")
    await team.remember_name(services, ADMIN, "Olu", None, None)
    await team.remember_name(services, 700_000_999, "Amina", None, "amina")  # a resident: not kept
    await services.db.workspace.add_session(token_hash("x"), PRIYA, "csrf", NOW)
    await services.db.officers.audit(PRIYA, team.SIGN_IN_ACTION, "signed in to the workspace", NOW)

    members = await team.members(services)
    assert [(m.label, m.role, m.configured) for m in members] == [
        ("Olu", "admin", True),
        ("Priya Shah (@priya_s)", "officer", False),
        (str(SAM), "officer", False),  # has not used the bot since: no name yet
    ]
    assert members[1].last_signed_in == NOW and members[2].last_signed_in is None
    assert members[1].added_at == NOW
    assert 700_000_999 not in await services.db.officers.names()

    listing = (await officers.list_officers(await admin(services))).screens[0].text.splitlines()
    assert listing == [
        "<b>Officers</b>",
        f"Olu · {ADMIN} — admin (set in HAVEYOURSAY_ADMINS)",
        f"Priya Shah (@priya_s) · {PRIYA} — officer",
        f"{SAM} — officer",
    ]

    await team.remember_name(services, PRIYA, "Priya", "Shah-Jones", None)
    assert (await team.members(services))[1].label == "Priya Shah-Jones", "a changed name is followed"


async def test_removing_an_officer_ends_their_sessions_refreshes_their_menu_and_is_audited(
    services: Services,
) -> None:
    refreshed: list[int] = []

    async def refresh(user_id: int) -> None:
        refreshed.append(user_id)

    services.refresh_menu = refresh
    assert await team.add_officer(services, ADMIN, PRIYA, NOW) is None
    await services.db.workspace.add_session(token_hash("a"), PRIYA, "csrf", NOW)
    await services.db.workspace.add_session(token_hash("b"), PRIYA, "csrf", NOW)
    await services.db.workspace.add_session(token_hash("c"), ADMIN, "csrf", NOW)

    assert await team.remove_officer(services, ADMIN, ADMIN, NOW) is team.Refusal.YOURSELF
    assert await team.remove_officer(services, PRIYA, ADMIN, NOW) is team.Refusal.CONFIGURED_ADMIN
    assert await team.remove_officer(services, ADMIN, SAM, NOW) is team.Refusal.NOT_AN_OFFICER
    assert await team.remove_officer(services, ADMIN, -100123, NOW) is team.Refusal.GROUP
    assert await team.remove_officer(services, ADMIN, PRIYA, NOW) is None

    assert await services.db.workspace.session(token_hash("a")) is None
    assert await services.db.workspace.session(token_hash("b")) is None
    assert await services.db.workspace.session(token_hash("c")) is not None, "only theirs"
    assert await services.role_of(PRIYA) is None
    assert refreshed == [PRIYA, PRIYA]
    entries = await services.db.officers.audit_entries()
    assert [(e.actor_id, e.action, e.detail) for e in entries] == [
        (ADMIN, "remove officer", str(PRIYA)),
        (ADMIN, "add officer", str(PRIYA)),
    ]
    # The chat's /removeofficer is the same rule.
    reply = await officers.remove_officer(await admin(services), str(ADMIN))
    assert reply.screens[0].text == "You cannot remove yourself. Ask another admin."


async def test_an_invite_from_the_page_or_the_chat_makes_an_officer_once(services: Services) -> None:
    services.bot_username = "HaveYourSayTestBot"
    link = await team.make_invite(services, ADMIN, NOW)
    assert link.startswith(f"https://t.me/HaveYourSayTestBot?start={team.INVITE_PREFIX}")
    code = link.split(team.INVITE_PREFIX, 1)[1]
    assert await team.redeem_invite(services, PRIYA, code, NOW)
    assert not await team.redeem_invite(services, SAM, code, NOW)
    assert await services.role_of(PRIYA) == "officer"
    reply = await officers.invite(await admin(services))
    assert "https://t.me/HaveYourSayTestBot?start=inv_" in reply.screens[0].text


async def test_the_audit_log_filters_by_officer_consultation_and_days_and_pages(services: Services) -> None:
    log = services.db.officers
    await team.remember_name(services, ADMIN, "Olu", None, None)
    day = timedelta(days=1)
    await log.audit(ADMIN, "export", "gp-opening-hours as CSV, 2 responses", NOW - 2 * day)
    await log.audit(PRIYA, "publish outcome", "told_us for gp-opening-hours to 3 people", NOW - day, "gp-opening-hours")
    await log.audit(0, "publish", "gp-opening-hours: version 2", NOW)
    await log.audit(PRIYA, team.SIGN_IN_ACTION, "signed in to the workspace", NOW)
    for n in range(3):
        await log.audit(ADMIN, "invite", f"created a one-time officer invite {n}", NOW)

    everything = await team.audit_page(services, team.AuditFilter(), size=5)
    assert (everything.total, everything.pages, len(everything.rows)) == (7, 2, 5)
    assert everything.rows[0].detail == "created a one-time officer invite 2", "newest first"
    assert everything.rows[0].actor is not None and everything.rows[0].actor.label == "Olu"
    second = await team.audit_page(services, team.AuditFilter(), page=2, size=5)
    assert [row.action for row in second.rows] == ["publish outcome", "export"]
    assert (await team.audit_page(services, team.AuditFilter(), page=99, size=5)).page == 2

    about = await team.audit_page(services, team.AuditFilter(consultation_id="gp-opening-hours"))
    assert [row.action for row in about.rows] == ["publish", "publish outcome", "export"]
    assert about.rows[0].by_command_line
    by_priya = await team.audit_page(services, team.AuditFilter(officer_id=PRIYA))
    assert [row.action for row in by_priya.rows] == [team.SIGN_IN_ACTION, "publish outcome"]
    # Days in the deployment's time zone (London: UTC in December), both ends included.
    yesterday = (NOW - day).date()
    assert [r.action for r in (await team.audit_page(services, team.AuditFilter(until=yesterday))).rows] == [
        "publish outcome",
        "export",
    ]
    only = team.AuditFilter(since=yesterday, until=yesterday)
    assert [r.action for r in (await team.audit_page(services, only)).rows] == ["publish outcome"]

    people, consultations = await team.audit_choices(services, "en")
    assert [user_id for user_id, _ in people] == [ADMIN, PRIYA]
    assert consultations == [("gp-opening-hours", "GP opening hours")]


async def test_the_audit_download_is_safe_in_a_spreadsheet_and_is_itself_audited(database_target: str) -> None:
    clock = Clock(NOW)
    async with offline_services(database_target, NOW, GP_HOURS, admins=frozenset({ADMIN})) as services:
        services.clock = clock
        await services.db.officers.add(PRIYA, "officer", ADMIN, NOW)
        await team.remember_name(services, PRIYA, "=HYPERLINK(evil)", None, None)
        await services.db.officers.audit(PRIYA, "export", "gp-opening-hours as CSV, 2 responses", NOW)
        await services.db.officers.audit(0, "publish", "gp-opening-hours: version 1", NOW)
        out = io.StringIO()
        headers = ["When", "Officer", "Telegram user id", "Action", "Consultation", "Detail"]
        wanted = team.AuditFilter(consultation_id="gp-opening-hours", since=date(2026, 12, 1))
        count = await team.write_audit_csv(services, wanted, out, headers, "command line", ADMIN)
        assert count == 2
        rows = list(csv.reader(io.StringIO(out.getvalue())))
        assert rows == [
            headers,
            [
                "2026-12-01T12:00:00+00:00",
                "command line",
                "0",
                "publish",
                "gp-opening-hours",
                "gp-opening-hours: version 1",
            ],
            [
                "2026-12-01T12:00:00+00:00",
                "'=HYPERLINK(evil)",
                str(PRIYA),
                "export",
                "gp-opening-hours",
                "gp-opening-hours as CSV, 2 responses",
            ],
        ]
        latest = (await services.db.officers.audit_entries(1))[0]
        assert (latest.actor_id, latest.action, latest.consultation_id) == (
            ADMIN,
            "export audit log",
            "gp-opening-hours",
        )
        assert latest.detail == "as CSV, 2 entries (consultation gp-opening-hours, from 2026-12-01)"


async def test_older_audit_entries_learn_their_consultation_when_the_database_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:
        for number, script in migration_scripts():
            if number < 18:
                connection.executescript(f"BEGIN;\n{script}\nPRAGMA user_version={number};\nCOMMIT;")
        connection.execute(
            "INSERT INTO consultations(id, current_version, revision, opens, closes, updated_at)"
            " VALUES ('gp-hours', 1, 1, 'x', 'y', 'z'), ('gp', 1, 1, 'x', 'y', 'z')"
        )
        connection.executemany(
            "INSERT INTO audit_log(at, actor_id, action, detail) VALUES ('2026-01-01T00:00:00+00:00', 1, ?, ?)",
            [
                ("export", "gp-hours as CSV, 2 responses"),
                ("publish", "gp: version 2"),
                ("publish outcome", "told_us for gp-hours to 3 people"),
                ("correct outcome", "did for gp, version 2 replacing 1, to 3 people"),
                ("invite", "created a one-time officer invite"),
                ("add officer", "123"),
            ],
        )
    async with open_database(path):
        pass
    with sqlite3.connect(path) as connection:
        found = connection.execute("SELECT action, consultation_id FROM audit_log ORDER BY id").fetchall()
    assert found == [
        ("export", "gp-hours"),
        ("publish", "gp"),
        ("publish outcome", "gp-hours"),
        ("correct outcome", "gp"),
        ("invite", None),
        ("add officer", None),
    ]
