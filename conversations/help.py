"""Help, unknown commands, messages we cannot read, and group chats."""

from __future__ import annotations

from conversations.i18n import Translator
from conversations.screens import Reply, Screen
from conversations.services import Visit


def resident_commands(t: Translator) -> list[tuple[str, str]]:
    """Every command a resident has, with what it does: the one list behind /help and Telegram's menu."""
    return [
        ("consultations", t._("see the consultations that are open now")),
        ("outcomes", t._("past consultations and what came of them")),
        ("settings", t._("notices, reminders, your area and interests")),
        ("contact", t._("write to the engagement team")),
        ("mydata", t._("see everything we hold about you")),
        ("aboutme", t._("see or withdraw your “About you” answers")),
        ("delete", t._("delete everything we hold about you")),
        ("language", t._("change the language I write in")),
        ("help", t._("how to use Have Your Say, and how to reach a person")),
    ]


def help_screen(visit: Visit) -> Screen:
    t, deployment = visit.t, visit.services.deployment
    commands = ["<b>" + t._("How to use Have Your Say") + "</b>"]
    commands += [f"/{command} — {description}" for command, description in resident_commands(t)]
    parts = ["\n".join(commands)]
    contact = deployment.text(deployment.contact, visit.language) if deployment.contact else ""
    if contact:
        parts.append(
            t._(
                "To talk to a person, or to complain about how a consultation was run, contact: %(contact)s",
                contact=contact,
            )
        )
    else:
        parts.append(
            t._(
                "To talk to a person, or to complain about how a consultation was run, use the contact "
                "details on the consultation's page."
            )
        )
    return Screen("\n\n".join(parts), menu=visit.resident is not None)


async def show_help(visit: Visit) -> Reply:
    """/help: what the bot can do and how to reach a person."""
    return Reply((help_screen(visit),))


async def unknown_command(visit: Visit) -> Reply:
    """A command we do not have (officer commands included, for residents)."""
    return Reply((Screen(visit.t._("Sorry, I don't know that command. Send /help to see what I can do.")),))


async def nothing_to_answer(visit: Visit) -> Reply:
    """A message when nothing waits for typed text: it is not kept, and we say where it could go."""
    text = visit.t._(
        "I was not expecting a message just now, so this one has not been kept or passed on. "
        "To write to the engagement team, send /contact. "
        "To take part in a consultation, send /consultations or use the menu below."
    )
    return Reply((Screen(text, menu=True),))


async def unreadable_without_survey(visit: Visit) -> Reply:
    text = visit.t._("Sorry, I can only read text and button taps. Send /help to see what I can do.")
    return Reply((Screen(text, menu=visit.resident is not None),))


def private_only_text(visit: Visit) -> str:
    username = visit.services.bot_username
    if username:
        return visit.t._(
            "I only work in private chats. Please send me a private message: @%(username)s", username=username
        )
    return visit.t._("I only work in private chats. Please send me a private message.")
