"""Who is an officer: admins add and remove officers (by invite link or user id); the audit log."""

from __future__ import annotations

import secrets
from datetime import timedelta

from bot.i18n import escape
from conversations.screens import Reply, Screen
from conversations.services import Visit

INVITE_PREFIX = "inv_"
INVITE_LIFETIME = timedelta(hours=24)


async def is_officer(visit: Visit) -> bool:
    return await visit.services.role_of(visit.chat_id) in ("officer", "admin")


async def is_admin(visit: Visit) -> bool:
    return await visit.services.role_of(visit.chat_id) == "admin"


async def officer_help(visit: Visit) -> Reply:
    """/officer: the officer commands."""
    t = visit.t
    lines = [
        "<b>" + t._("Officer commands") + "</b>",
        "/broadcast — " + t._("send a notice to residents"),
        "/broadcasts — " + t._("see how your notices are being delivered"),
    ]
    if await is_admin(visit):
        lines += [
            "/officers — " + t._("list officers"),
            "/invite — " + t._("make a one-time link that makes someone an officer"),
            "/addofficer ID — " + t._("make a Telegram user an officer"),
            "/removeofficer ID — " + t._("remove an officer"),
            "/audit — " + t._("see what officers did recently"),
        ]
    return Reply((Screen("\n".join(lines)),))


async def list_officers(visit: Visit) -> Reply:
    t, services = visit.t, visit.services
    lines = ["<b>" + t._("Officers") + "</b>"]
    lines += [f"{admin} — " + t._("admin (set in HAVEYOURSAY_ADMINS)") for admin in sorted(services.admins)]
    for user_id, role in await services.db.officers.all():
        lines.append(f"{user_id} — " + (t._("admin") if role == "admin" else t._("officer")))
    return Reply((Screen("\n".join(lines)),))


async def invite(visit: Visit) -> Reply:
    """A one-time link that makes whoever opens it an officer; it expires after a day."""
    services = visit.services
    code = secrets.token_urlsafe(12).replace("-", "x").replace("_", "y")
    now = visit.now()
    await services.db.officers.create_invite(code, visit.chat_id, now, now + INVITE_LIFETIME)
    await services.db.officers.audit(visit.chat_id, "invite", "created a one-time officer invite", now)
    link = f"https://t.me/{services.bot_username}?start={INVITE_PREFIX}{code}"
    text = visit.t._("Send this link to the new officer. It works once, within 24 hours: %(link)s", link=link)
    return Reply((Screen(text),))


async def redeem_invite(visit: Visit, code: str) -> Reply:
    """Someone opened an invite link."""
    services = visit.services
    now = visit.now()
    inviter = await services.db.officers.use_invite(code, visit.chat_id, now)
    if inviter is None:
        return Reply(
            (
                Screen(
                    visit.t._(
                        "This invite link has expired or has already been used. Please ask an admin for a new one."
                    )
                ),
            )
        )
    async with services.db.transaction():
        if visit.chat_id not in services.admins:
            await services.db.officers.add(visit.chat_id, "officer", inviter, now)
        await services.db.officers.audit(inviter, "add officer", f"{visit.chat_id} by invite link", now)
    return Reply((Screen(visit.t._("You are now an officer. Send /officer to see what you can do.")),))


# Telegram ids have at most 52 significant bits; SQLite's integers stop at 2^63 (OverflowError beyond).
MAX_USER_ID = 2**53


def _user_id(argument: str | None) -> int | None:
    if argument is None or not argument.strip().lstrip("-").isdigit() or len(argument.strip()) > 20:
        return None
    value = int(argument.strip())
    return value if abs(value) < MAX_USER_ID else None


async def add_officer(visit: Visit, argument: str | None) -> Reply:
    """/addofficer ID."""
    t, services = visit.t, visit.services
    user_id = _user_id(argument)
    if user_id is None:
        return Reply(
            (
                Screen(
                    t._(
                        "Please give the Telegram user id of the new officer, e.g. /addofficer 123456789. "
                        "They can find it by sending /myid to this bot."
                    )
                ),
            )
        )
    now = visit.now()
    async with services.db.transaction():
        await services.db.officers.add(user_id, "officer", visit.chat_id, now)
        await services.db.officers.audit(visit.chat_id, "add officer", str(user_id), now)
    return Reply((Screen(t._("%(user)s is now an officer.", user=str(user_id))),))


async def remove_officer(visit: Visit, argument: str | None) -> Reply:
    """/removeofficer ID; an admin cannot remove themselves."""
    t, services = visit.t, visit.services
    user_id = _user_id(argument)
    if user_id is None:
        return Reply((Screen(t._("Please give the Telegram user id of the officer, e.g. /removeofficer 123456789.")),))
    if user_id == visit.chat_id:
        return Reply((Screen(t._("You cannot remove yourself. Ask another admin.")),))
    if user_id in services.admins:
        return Reply(
            (
                Screen(
                    t._(
                        "%(user)s is an admin set in HAVEYOURSAY_ADMINS; change that setting to remove them.",
                        user=str(user_id),
                    )
                ),
            )
        )
    now = visit.now()
    async with services.db.transaction():
        removed = await services.db.officers.remove(user_id)
        if removed:
            await services.db.officers.audit(visit.chat_id, "remove officer", str(user_id), now)
    if not removed:
        return Reply((Screen(t._("%(user)s is not an officer.", user=str(user_id))),))
    return Reply((Screen(t._("%(user)s is no longer an officer.", user=str(user_id))),))


async def audit_log(visit: Visit) -> Reply:
    """/audit: the latest officer actions, newest first."""
    t = visit.t
    entries = await visit.services.db.officers.audit_entries(20)
    if not entries:
        return Reply((Screen(t._("No officer actions have been recorded yet.")),))
    lines = ["<b>" + t._("Recent officer actions") + "</b>"]
    for entry in entries:
        actor = t._("command line") if entry.actor_id == 0 else str(entry.actor_id)
        lines.append(f"{entry.at[:16].replace('T', ' ')} · {actor} · {entry.action} · {escape(entry.detail)}")
    return Reply((Screen("\n".join(lines)),))


async def my_id(visit: Visit) -> Reply:
    """/myid: a person's Telegram user id, to give to an admin."""
    return Reply((Screen(visit.t._("Your Telegram user id is %(id)s.", id=str(visit.chat_id))),))
