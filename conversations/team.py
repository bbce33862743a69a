"""The team and the audit log: who is an officer (by name), inviting, adding and removing them, and
what officers did. One implementation of each rule: the chat's /officers, /invite, /addofficer,
/removeofficer and /audit (conversations/officers.py) and the workspace's Team and Audit pages
(bot/web/team.py) both call these functions."""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import TextIO
from zoneinfo import ZoneInfo

from conversations.authoring import consultation_overview
from conversations.services import Services
from conversations.spreadsheet import CsvRows
from storage.officers import AuditQuery, StaffName

INVITE_PREFIX = "inv_"
INVITE_LIFETIME = timedelta(hours=24)
# How conversations/workspace.py audits a sign-in to the workspace.
SIGN_IN_ACTION = "workspace"
# Telegram user ids are positive and have at most 52 significant bits; groups and channels have
# negative ids. Anything else cannot be a person who could use the bot.
MAX_USER_ID = 2**52
AUDIT_PAGE_SIZE = 50
COMMAND_LINE = 0  # the audit log's actor for `haveyoursay import` and `export`


class Refusal(StrEnum):
    """Why a change to the team was not made."""

    GROUP = "group"  # the id of a group or channel
    NOT_A_USER_ID = "not a user id"  # zero, or more than a Telegram user id can be
    YOURSELF = "yourself"
    CONFIGURED_ADMIN = "configured admin"  # set in HAVEYOURSAY_ADMINS: only that setting changes it
    ALREADY_ADMIN = "already admin"
    ALREADY_OFFICER = "already officer"
    NOT_AN_OFFICER = "not an officer"


@dataclass(frozen=True)
class Member:
    """An officer or admin as the team list shows them."""

    user_id: int
    role: str  # "officer" or "admin"
    configured: bool  # an admin set in HAVEYOURSAY_ADMINS (not removable from the bot)
    name: StaffName | None  # None until they have used the bot since they were added
    added_at: datetime | None
    last_signed_in: datetime | None  # to the workspace

    @property
    def label(self) -> str:
        """Their name as Telegram gives it, or their user id while it is not known."""
        return self.name.label if self.name is not None else str(self.user_id)


def _by_name(member: Member) -> tuple[bool, str, int]:
    return (member.name is None, member.name.full_name.casefold() if member.name else "", member.user_id)


async def members(services: Services) -> list[Member]:
    """Everyone who is an officer or admin, by name (those whose name is not known yet last)."""
    db = services.db
    names, added, signed_in = (
        await db.officers.names(),
        await db.officers.added(),
        await db.officers.last_audited(SIGN_IN_ACTION),
    )
    roles = {user_id: role for user_id, role in await db.officers.all()}
    roles.update(dict.fromkeys(services.admins, "admin"))
    found = [
        Member(
            user_id,
            role,
            user_id in services.admins,
            names.get(user_id),
            added.get(user_id),
            signed_in.get(user_id),
        )
        for user_id, role in roles.items()
    ]
    return sorted(found, key=_by_name)


async def member(services: Services, user_id: int) -> Member | None:
    return next((found for found in await members(services) if found.user_id == user_id), None)


async def remember_name(
    services: Services, user_id: int, first_name: str, last_name: str | None, username: str | None
) -> None:
    """Keep the name Telegram gives for an officer or admin who has just used the bot; a resident's
    name is never stored."""
    if await services.role_of(user_id) not in ("officer", "admin"):
        return
    await services.db.officers.remember_name(user_id, first_name, last_name or None, username or None, services.clock())


async def name_of(services: Services, user_id: int) -> StaffName | None:
    return (await services.db.officers.names()).get(user_id)


def refusal_for_id(user_id: int) -> Refusal | None:
    """Why this id cannot be a Telegram user's, or None when it can."""
    if user_id < 0:
        return Refusal.GROUP
    if user_id == 0 or user_id >= MAX_USER_ID:
        return Refusal.NOT_A_USER_ID
    return None


async def make_invite(services: Services, by: int, now: datetime) -> str:
    """A one-time link that makes whoever opens it an officer; it expires after a day."""
    code = secrets.token_urlsafe(12).replace("-", "x").replace("_", "y")
    async with services.db.transaction():
        await services.db.officers.create_invite(code, by, now, now + INVITE_LIFETIME)
        await services.db.officers.audit(by, "invite", "created a one-time officer invite", now)
    return f"https://t.me/{services.bot_username}?start={INVITE_PREFIX}{code}"


async def redeem_invite(services: Services, user_id: int, code: str, now: datetime) -> bool:
    """Someone opened an invite link: they are an officer now, unless it expired or was used."""
    inviter = await services.db.officers.use_invite(code, user_id, now)
    if inviter is None:
        return False
    async with services.db.transaction():
        if await services.role_of(user_id) is None:  # an admin is not made a mere officer
            await services.db.officers.add(user_id, "officer", inviter, now)
        await services.db.officers.audit(inviter, "add officer", f"{user_id} by invite link", now)
    await services.refresh_menu(user_id)
    return True


async def add_officer(services: Services, by: int, user_id: int, now: datetime) -> Refusal | None:
    """Make a Telegram user an officer; None when done."""
    refused = refusal_for_id(user_id)
    if refused is not None:
        return refused
    role = await services.role_of(user_id)
    if role == "admin":
        return Refusal.ALREADY_ADMIN
    if role == "officer":
        return Refusal.ALREADY_OFFICER
    async with services.db.transaction():
        await services.db.officers.add(user_id, "officer", by, now)
        await services.db.officers.audit(by, "add officer", str(user_id), now)
    await services.refresh_menu(user_id)
    return None


async def removal_refusal(services: Services, by: int, user_id: int) -> Refusal | None:
    """Why `by` cannot remove `user_id` (None when they can): nobody removes themself, and an
    admin set in HAVEYOURSAY_ADMINS stays one until that setting changes."""
    refused = refusal_for_id(user_id)
    if refused is not None:
        return refused
    if user_id == by:
        return Refusal.YOURSELF
    if user_id in services.admins:
        return Refusal.CONFIGURED_ADMIN
    if await services.db.officers.role(user_id) is None:
        return Refusal.NOT_AN_OFFICER
    return None


async def remove_officer(services: Services, by: int, user_id: int, now: datetime) -> Refusal | None:
    """Take the role away: their workspace sessions end at once and their command menu becomes a
    resident's; audited. None when done."""
    refused = await removal_refusal(services, by, user_id)
    if refused is not None:
        return refused
    async with services.db.transaction():
        if not await services.db.officers.remove(user_id):
            return Refusal.NOT_AN_OFFICER
        await services.db.workspace.end_sessions_of(user_id)
        await services.db.officers.audit(by, "remove officer", str(user_id), now)
    await services.refresh_menu(user_id)
    return None


# The audit log.


@dataclass(frozen=True)
class AuditFilter:
    """What an officer asked to see: by whom, about which consultation, which days (both included,
    in the deployment's time zone)."""

    officer_id: int | None = None
    consultation_id: str | None = None
    since: date | None = None
    until: date | None = None

    def query(self, zone: ZoneInfo) -> AuditQuery:
        return AuditQuery(
            actor_id=self.officer_id,
            consultation_id=self.consultation_id,
            since=datetime.combine(self.since, time(), zone) if self.since else None,
            before=datetime.combine(self.until + timedelta(days=1), time(), zone) if self.until else None,
        )


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    actor_id: int
    actor: StaffName | None  # None: the command line, or someone whose name is not known
    action: str
    detail: str
    consultation_id: str | None

    @property
    def by_command_line(self) -> bool:
        return self.actor_id == COMMAND_LINE


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    page: int  # from 1
    pages: int
    total: int


def _zone(services: Services) -> ZoneInfo:
    return ZoneInfo(services.deployment.timezone)


async def audit_page(services: Services, wanted: AuditFilter, page: int = 1, size: int = AUDIT_PAGE_SIZE) -> AuditPage:
    """One page of the audit log, newest first."""
    query = wanted.query(_zone(services))
    total = await services.db.officers.count_audit_entries(query)
    pages = max(1, math.ceil(total / size))
    page = min(max(1, page), pages)
    return AuditPage(await _audit_rows(services, query, size, (page - 1) * size), page, pages, total)


async def _audit_rows(services: Services, query: AuditQuery, limit: int | None, offset: int = 0) -> list[AuditRow]:
    entries = await services.db.officers.audit_entries(limit, offset, query)
    names = await services.db.officers.names()
    return [
        AuditRow(
            datetime.fromisoformat(entry.at),
            entry.actor_id,
            names.get(entry.actor_id),
            entry.action,
            entry.detail,
            entry.consultation_id,
        )
        for entry in entries
    ]


async def audit_choices(
    services: Services, language: str
) -> tuple[list[tuple[int, StaffName | None]], list[tuple[str, str]]]:
    """Whom and which consultations the log can be filtered by: everyone on the team or in the log
    (by name), and every consultation there is or the log names (id and title in `language`)."""
    names = await services.db.officers.names()
    on_team = [found.user_id for found in await members(services)]
    people = on_team + sorted(set(await services.db.officers.audit_actors()) - set(on_team) - {COMMAND_LINE})
    titles = {row.id: row.title for row in await consultation_overview(services, services.clock(), language)}
    for consultation_id in await services.db.officers.audited_consultations():
        titles.setdefault(consultation_id, consultation_id)
    consultations = sorted(titles.items(), key=lambda item: (item[1].casefold(), item[0]))
    return [(user_id, names.get(user_id)) for user_id in people], consultations


def describe_filter(wanted: AuditFilter) -> str:
    """The audit log's account of what was downloaded."""
    parts = []
    if wanted.officer_id is not None:
        parts.append(f"officer {wanted.officer_id}")
    if wanted.consultation_id is not None:
        parts.append(f"consultation {wanted.consultation_id}")
    if wanted.since is not None:
        parts.append(f"from {wanted.since.isoformat()}")
    if wanted.until is not None:
        parts.append(f"to {wanted.until.isoformat()}")
    return ", ".join(parts) or "everything"


async def write_audit_csv(
    services: Services, wanted: AuditFilter, out: TextIO, headers: Iterable[str], command_line: str, by: int
) -> int:
    """Every entry the filter selects, newest first, as CSV (every cell made safe for a spreadsheet);
    the download itself is audited. Returns the number of entries written."""
    zone = _zone(services)
    found = await _audit_rows(services, wanted.query(zone), None)  # all of them
    rows = CsvRows(out)
    rows.writerow(headers)
    for row in found:
        actor = command_line if row.by_command_line else (row.actor.label if row.actor else "")
        when = row.at.astimezone(zone).isoformat(timespec="seconds")
        rows.writerow([when, actor, row.actor_id, row.action, row.consultation_id or "", row.detail])
    await services.db.officers.audit(
        by,
        "export audit log",
        f"as CSV, {len(found)} entries ({describe_filter(wanted)})",
        services.clock(),
        consultation_id=wanted.consultation_id,
    )
    return len(found)
