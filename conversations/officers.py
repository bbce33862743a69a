"""Who is an officer: admins add and remove officers (by invite link or user id); the audit log."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from conversations.i18n import Translator, escape
from conversations.screens import Reply, Screen
from conversations.services import Visit

INVITE_PREFIX = "inv_"
INVITE_LIFETIME = timedelta(hours=24)


async def is_officer(visit: Visit) -> bool:
    return await visit.services.role_of(visit.chat_id) in ("officer", "admin")


async def is_admin(visit: Visit) -> bool:
    return await visit.services.role_of(visit.chat_id) == "admin"


@dataclass(frozen=True)
class OfficerCommand:
    """One officer command: its name, who may use it, what it takes, and what it does."""

    name: str
    admin: bool
    describe: Callable[[Translator], str]
    argument: str = ""  # shown after the name in /officer, e.g. " ID"


# The one list of officer commands: the router's handlers, /officer and each officer's command
# menu are all made from it, so no command can be left out of one of them.
COMMANDS: tuple[OfficerCommand, ...] = (
    OfficerCommand("officer", False, lambda t: t._("see what officers can do")),
    OfficerCommand("workspace", False, lambda t: t._("sign in to the web workspace")),
    OfficerCommand("broadcast", False, lambda t: t._("send a notice to residents")),
    OfficerCommand("broadcasts", False, lambda t: t._("see how your notices are being delivered")),
    OfficerCommand("results", False, lambda t: t._("see a consultation's results")),
    OfficerCommand("export", False, lambda t: t._("export a consultation's responses (CSV or Excel)"), " [csv|xlsx]"),
    OfficerCommand("reach", False, lambda t: t._("see who took part, by area and language")),
    OfficerCommand("outcome", False, lambda t: t._("publish “What you told us” or “What we did”")),
    OfficerCommand("officers", True, lambda t: t._("list officers")),
    OfficerCommand("invite", True, lambda t: t._("make a one-time link that makes someone an officer")),
    OfficerCommand("addofficer", True, lambda t: t._("make a Telegram user an officer"), " ID"),
    OfficerCommand("removeofficer", True, lambda t: t._("remove an officer"), " ID"),
    OfficerCommand("audit", True, lambda t: t._("see what officers did recently")),
)


def commands_for(role: str | None) -> tuple[OfficerCommand, ...]:
    """The officer commands a role allows: none for a resident, all for an admin."""
    if role not in ("officer", "admin"):
        return ()
    return tuple(command for command in COMMANDS if role == "admin" or not command.admin)


def menu_commands(t: Translator, role: str | None) -> list[tuple[str, str]]:
    """(command, description) for the officer's own command menu, in their language."""
    return [(command.name, command.describe(t)) for command in commands_for(role)]


async def officer_help(visit: Visit) -> Reply:
    """/officer: every command the officer's role allows."""
    t = visit.t
    lines = ["<b>" + t._("Officer commands") + "</b>"]
    for command in commands_for(await visit.services.role_of(visit.chat_id)):
        lines.append(f"/{command.name}{command.argument} — " + command.describe(t))
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
        if await services.role_of(visit.chat_id) is None:  # an admin is not made a mere officer
            await services.db.officers.add(visit.chat_id, "officer", inviter, now)
        await services.db.officers.audit(inviter, "add officer", f"{visit.chat_id} by invite link", now)
    await services.refresh_menu(visit.chat_id)
    return Reply((Screen(visit.t._("You are now an officer. Send /officer to see what you can do.")),))


# Telegram ids have at most 52 significant bits; SQLite's integers stop at 2^63 (OverflowError beyond).
MAX_USER_ID = 2**53


def _user_id(argument: str | None) -> int | None:
    if argument is None or not argument.strip().lstrip("-").isdigit() or len(argument.strip()) > 20:
        return None
    return int(argument.strip())  # `_not_a_person` refuses what no Telegram user (or SQLite) could have


# Telegram user ids are positive and have at most 52 significant bits; groups and channels have
# negative ids. Anything else cannot be a person who could use the bot.
MAX_USER_ID = 2**52


def _not_a_person(t: Translator, user_id: int) -> Reply | None:
    """Why this id cannot be a Telegram user's, or None when it can."""
    if user_id < 0:
        text = t._("%(user)s is the id of a group or channel, not of a person. Officers are people.", user=str(user_id))
    elif user_id == 0 or user_id >= MAX_USER_ID:
        text = t._(
            "%(user)s cannot be a Telegram user id. They can find theirs by sending /myid to this bot.",
            user=str(user_id),
        )
    else:
        return None
    return Reply((Screen(text),))


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
    refused = _not_a_person(t, user_id)
    if refused is not None:
        return refused
    role = await services.role_of(user_id)
    if role == "admin":
        return Reply((Screen(t._("%(user)s is already an admin.", user=str(user_id))),))
    if role == "officer":
        return Reply((Screen(t._("%(user)s is already an officer.", user=str(user_id))),))
    now = visit.now()
    async with services.db.transaction():
        await services.db.officers.add(user_id, "officer", visit.chat_id, now)
        await services.db.officers.audit(visit.chat_id, "add officer", str(user_id), now)
    await services.refresh_menu(user_id)
    return Reply((Screen(t._("%(user)s is now an officer.", user=str(user_id))),))


async def remove_officer(visit: Visit, argument: str | None) -> Reply:
    """/removeofficer ID; an admin cannot remove themselves."""
    t, services = visit.t, visit.services
    user_id = _user_id(argument)
    if user_id is None:
        return Reply((Screen(t._("Please give the Telegram user id of the officer, e.g. /removeofficer 123456789.")),))
    refused = _not_a_person(t, user_id)
    if refused is not None:
        return refused
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
    await services.refresh_menu(user_id)
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
