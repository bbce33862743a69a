"""Who is an officer: admins add and remove officers (by invite link or user id); the audit log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from conversations import team
from conversations.i18n import Translator, escape
from conversations.screens import Reply, Screen
from conversations.services import Visit
from conversations.team import INVITE_PREFIX as INVITE_PREFIX


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
    """/officers: the team by name, as the workspace's Team page lists it, with each user id for
    /removeofficer."""
    t = visit.t
    lines = ["<b>" + t._("Officers") + "</b>"]
    for member in await team.members(visit.services):
        who = f"{escape(member.name.label)} · {member.user_id}" if member.name else str(member.user_id)
        if member.configured:
            role = t._("admin (set in HAVEYOURSAY_ADMINS)")
        else:
            role = t._("admin") if member.role == "admin" else t._("officer")
        lines.append(f"{who} — {role}")
    return Reply((Screen("\n".join(lines)),))


async def invite(visit: Visit) -> Reply:
    """A one-time link that makes whoever opens it an officer; it expires after a day."""
    link = await team.make_invite(visit.services, visit.chat_id, visit.now())
    text = visit.t._("Send this link to the new officer. It works once, within 24 hours: %(link)s", link=link)
    return Reply((Screen(text),))


async def redeem_invite(visit: Visit, code: str) -> Reply:
    """Someone opened an invite link."""
    if not await team.redeem_invite(visit.services, visit.chat_id, code, visit.now()):
        return Reply(
            (
                Screen(
                    visit.t._(
                        "This invite link has expired or has already been used. Please ask an admin for a new one."
                    )
                ),
            )
        )
    return Reply((Screen(visit.t._("You are now an officer. Send /officer to see what you can do.")),))


def _user_id(argument: str | None) -> int | None:
    if argument is None or not argument.strip().lstrip("-").isdigit() or len(argument.strip()) > 20:
        return None
    return int(argument.strip())  # `team.refusal_for_id` refuses what no Telegram user (or SQLite) could have


def _refused(t: Translator, refusal: team.Refusal, user_id: int) -> Reply:
    """What the chat says when a change to the team was not made."""
    user = str(user_id)
    if refusal is team.Refusal.GROUP:
        text = t._("%(user)s is the id of a group or channel, not of a person. Officers are people.", user=user)
    elif refusal is team.Refusal.NOT_A_USER_ID:
        text = t._(
            "%(user)s cannot be a Telegram user id. They can find theirs by sending /myid to this bot.", user=user
        )
    elif refusal is team.Refusal.YOURSELF:
        text = t._("You cannot remove yourself. Ask another admin.")
    elif refusal is team.Refusal.CONFIGURED_ADMIN:
        text = t._("%(user)s is an admin set in HAVEYOURSAY_ADMINS; change that setting to remove them.", user=user)
    elif refusal is team.Refusal.ALREADY_ADMIN:
        text = t._("%(user)s is already an admin.", user=user)
    elif refusal is team.Refusal.ALREADY_OFFICER:
        text = t._("%(user)s is already an officer.", user=user)
    else:
        text = t._("%(user)s is not an officer.", user=user)
    return Reply((Screen(text),))


async def add_officer(visit: Visit, argument: str | None) -> Reply:
    """/addofficer ID."""
    t = visit.t
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
    refused = await team.add_officer(visit.services, visit.chat_id, user_id, visit.now())
    if refused is not None:
        return _refused(t, refused, user_id)
    return Reply((Screen(t._("%(user)s is now an officer.", user=str(user_id))),))


async def remove_officer(visit: Visit, argument: str | None) -> Reply:
    """/removeofficer ID; an admin cannot remove themselves."""
    t = visit.t
    user_id = _user_id(argument)
    if user_id is None:
        return Reply((Screen(t._("Please give the Telegram user id of the officer, e.g. /removeofficer 123456789.")),))
    refused = await team.remove_officer(visit.services, visit.chat_id, user_id, visit.now())
    if refused is not None:
        return _refused(t, refused, user_id)
    return Reply((Screen(t._("%(user)s is no longer an officer.", user=str(user_id))),))


async def audit_log(visit: Visit) -> Reply:
    """/audit: the latest officer actions, newest first (the first entries of the workspace's Audit page)."""
    t = visit.t
    page = await team.audit_page(visit.services, team.AuditFilter(), size=20)
    if not page.rows:
        return Reply((Screen(t._("No officer actions have been recorded yet.")),))
    lines = ["<b>" + t._("Recent officer actions") + "</b>"]
    for row in page.rows:
        if row.by_command_line:
            actor = t._("command line")
        else:
            actor = escape(row.actor.label) if row.actor else str(row.actor_id)
        at = row.at.isoformat(timespec="minutes")[:16].replace("T", " ")
        lines.append(f"{at} · {actor} · {row.action} · {escape(row.detail)}")
    return Reply((Screen("\n".join(lines)),))


async def my_id(visit: Visit) -> Reply:
    """/myid: a person's Telegram user id, to give to an admin."""
    return Reply((Screen(visit.t._("Your Telegram user id is %(id)s.", id=str(visit.chat_id))),))
