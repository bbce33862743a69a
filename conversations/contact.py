"""/contact: a resident writes to the engagement team; an officer's reply comes back in the same chat.

The message goes to the officers' chat (configured by chat id), naming the
consultation it concerns. An officer answers by replying to it there; the
resident can reply to the answer in turn, with Telegram's Reply gesture or
simply by typing: while the team's answer is the last thing they read, what
they type goes to the team (or, in the middle of a survey, they are asked which
it is). Each message is kept with its thread (the resident's and the team's, who wrote a reply
and when) so that the workspace's inbox shows the conversation; it is the resident's data, in
/mydata, erased by /delete and purged with old responses (conversations/retention.py). It never
goes to the log.

An officer replies from the group or from the inbox page; both go through `reply_to_resident`.
Only officers and admins speak for the team: a reply from anyone else in the group is
not sent. Each reply sent is in the audit log with the officer's id and name.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from conversations import answering, callbacks, drafts
from conversations.i18n import Translator, escape
from conversations.routes import ButtonRoute, TextRoute, Typed
from conversations.screens import Button, Reply, Screen, rows, shorten
from conversations.services import ChatMoved, Services, Visit
from storage.clock import from_text, to_text

log = logging.getLogger(__name__)

DRAFT = "contact"
REPLY = "contact_reply"  # the team's answer is the last thing the resident read: an AfterAnswer
PREFIX = "ct"
MAX_MESSAGE = 3500
# How long after the team's answer a plain message (no Reply gesture) is still taken as a reply to it.
REPLY_WINDOW = timedelta(days=3)


@dataclass(frozen=True)
class ContactDraft:
    """A resident's message to the team, once they said which consultation it is about."""

    consultation_id: str | None  # None: "Something else"

    def to_data(self) -> dict[str, Any]:
        return {"consultation_id": self.consultation_id}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ContactDraft:
        consultation_id = data.get("consultation_id")
        return cls(str(consultation_id) if consultation_id else None)


@dataclass(frozen=True)
class AfterAnswer:
    """The team's answer in a thread was the last thing the resident read: what they type may be a reply."""

    thread: int
    consultation_id: str | None
    at: datetime  # when the answer was sent
    text: str | None = None  # a message typed in a survey, held while the resident says where it goes

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"thread": self.thread, "consultation_id": self.consultation_id, "at": to_text(self.at)}
        if self.text is not None:
            data["text"] = self.text
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> AfterAnswer:
        text = data.get("text")
        return cls(
            thread=int(data["thread"]),
            consultation_id=data.get("consultation_id") or None,
            at=from_text(str(data["at"])),
            text=text if isinstance(text, str) else None,
        )


def _data(verb: str, argument: str | None = None) -> str:
    return callbacks.encode(PREFIX, verb, argument)


async def start(visit: Visit) -> Reply:
    """/contact: which consultation is it about?"""
    t, services = visit.t, visit.services
    if services.officers_chat_id is None:
        return Reply((Screen(await _contact_details(visit)),))
    open_now = await services.consultations.open_now(visit.now())
    buttons = [Button(shorten(c.text("title", visit.language), 40), _data("about", c.id)) for c in open_now]
    buttons.append(Button(t._("Something else"), _data("about")))
    text = t._("You can write to the engagement team here. Which consultation is your message about?")
    return Reply((Screen(text, (*rows(*buttons), (Button(t._("Cancel"), _data("cancel")),))),))


async def _contact_details(visit: Visit) -> str:
    """Where to write when there is no officers' chat: the deployment's contact, else each open consultation's."""
    t, services = visit.t, visit.services
    deployment = services.deployment
    if deployment.contact:
        contact = deployment.text(deployment.contact, visit.language)
        return t._("You can contact the engagement team at: %(contact)s", contact=contact)
    lines = [
        f"<b>{escape(c.text('title', visit.language))}</b>: {escape(c.text('contact', visit.language))}"
        for c in await services.consultations.open_now(visit.now())
        if c.text("contact", visit.language)
    ]
    if not lines:
        return t._(
            "To talk to a person, or to complain about how a consultation was run, use the contact "
            "details on the consultation's page."
        )
    return t._("You can contact the team running each consultation:") + "\n\n" + "\n".join(lines)


async def tapped(visit: Visit, verb: str | None, argument: str | None) -> Reply:
    t = visit.t
    if verb == "cancel":
        await visit.services.db.drafts.drop(visit.chat_id, DRAFT)
        return Reply((Screen(t._("Cancelled. Nothing was sent.")),), edit=True)
    if verb == "about":
        await drafts.save(visit.services.db, visit.chat_id, DRAFT, ContactDraft(argument), visit.now())
        text = t._("Please type your message and send it. A member of the team will reply here, in this chat.")
        # Told when it is collected: the conversation is kept (the workspace's inbox shows it).
        kept = t._(
            "We keep your messages and the team's replies so that the team can follow the conversation. "
            "To see them, send /mydata; to delete them, send /delete."
        )
        text = f"{text}\n\n<i>{kept}</i>"
        return Reply((Screen(text, ((Button(t._("Cancel"), _data("cancel")),),)),), edit=True)
    if verb in ("team", "answer"):
        return await _held_message_goes(visit, to_team=verb == "team")
    return Reply(notice=t._("That button is out of date."))


async def send_to_team(visit: Visit, text: str, message_id: int | None = None) -> Reply:
    """The resident typed their message: pass it to the officers' chat and open a thread.

    `message_id` (the resident's message) is linked to the thread once it has been passed on,
    so the same message handled again after a crash is only confirmed (see `already_sent`).
    """
    services, t = visit.services, visit.t
    draft = await drafts.load(services.db, visit.chat_id, DRAFT, ContactDraft.from_data) or ContactDraft(None)
    if len(text) > MAX_MESSAGE:
        return Reply(
            (Screen(t._("Your message is too long. Please keep it under %(max)s characters.", max=str(MAX_MESSAGE))),)
        )
    consultation_id = draft.consultation_id
    thread = await services.db.contact.open_thread(visit.chat_id, consultation_id, visit.now())
    try:
        await _to_officers(services, visit.chat_id, thread, consultation_id, visit.language, text, message_id)
    except Exception:
        # Nothing reached the team: no thread is left behind, and the draft stays for a second try.
        await services.db.contact.discard_thread(thread)
        raise
    await services.db.drafts.drop(visit.chat_id, DRAFT)
    return _sent(visit)


async def resident_replied(
    visit: Visit, thread_id: int, consultation_id: str | None, text: str, message_id: int | None = None
) -> Reply:
    """The resident replied to an answer from the team: it goes to the same thread."""
    await _to_officers(
        visit.services, visit.chat_id, thread_id, consultation_id, visit.language, text[:MAX_MESSAGE], message_id
    )
    return _sent(visit)


async def already_sent(visit: Visit, message_id: int) -> Reply | None:
    """A message handled again after a crash that was already passed to the team: confirm it again.

    The resident may not have been told before the crash; the team is not sent it twice.
    """
    if await visit.services.db.contact.thread_of(visit.chat_id, message_id) is None:
        return None
    await visit.services.db.drafts.drop(visit.chat_id, DRAFT)
    return _sent(visit)


def _sent(visit: Visit) -> Reply:
    return Reply(
        (Screen(visit.t._("Thank you. Your message has been sent to the engagement team. They will reply here.")),)
    )


async def awaiting_reply(services: Services, chat_id: int, thread_id: int, consultation_id: str | None) -> None:
    """The team's answer was sent to the resident: what they type next may be their reply to it."""
    now = services.clock()
    await drafts.save(services.db, chat_id, REPLY, AfterAnswer(thread_id, consultation_id, now), now)


async def typed_after_answer(visit: Visit, text: str) -> Reply | None:
    """Plain text (no Reply gesture) typed after the team's answer, with nothing else done since.

    Outside a survey it goes to the team. In the middle of one the resident is asked, with
    buttons, whether it is for the team or their answer. None when the answer is too old.
    """
    db, t = visit.services.db, visit.t
    held = await drafts.load(db, visit.chat_id, REPLY, AfterAnswer.from_data)
    if held is None:
        return None
    if visit.now() - held.at > REPLY_WINDOW or visit.services.deployment.officers_chat_id is None:
        await db.drafts.drop(visit.chat_id, REPLY)
        return None
    session = await answering.active_session(visit)
    if session is None:
        return await resident_replied(visit, held.thread, held.consultation_id, text)
    await drafts.save(db, visit.chat_id, REPLY, replace(held, text=text[:MAX_MESSAGE]), visit.now())
    ask = t._("Is this message for the engagement team, or your answer to the survey question?")
    buttons = (
        (Button(t._("Send it to the team"), _data("team")),),
        (Button(t._("It is my answer"), _data("answer")),),
    )
    return Reply((Screen(f"{ask}\n\n<i>{escape(shorten(text, 300))}</i>", buttons),))


async def _held_message_goes(visit: Visit, *, to_team: bool) -> Reply:
    """The resident said where the message typed after the team's answer goes."""
    db, t = visit.services.db, visit.t
    held = await drafts.load(db, visit.chat_id, REPLY, AfterAnswer.from_data)
    text = held.text if held is not None else None
    if held is None or text is None or visit.services.deployment.officers_chat_id is None:
        return Reply(notice=t._("That button is out of date."))
    if not to_team:
        # Back to the survey: what they type from now on answers its questions.
        await db.drafts.drop(visit.chat_id, REPLY)
        session = await answering.active_session(visit)
        if session is None:
            return Reply(notice=t._("That button is out of date."))
        answered = await answering.survey_text(session, text)
        return Reply(answered.screens, clear_buttons=True, notice=answered.notice)
    await drafts.save(db, visit.chat_id, REPLY, replace(held, text=None), visit.now())
    await _to_officers(visit.services, visit.chat_id, held.thread, held.consultation_id, visit.language, text)
    sent = Screen(t._("Thank you. Your message has been sent to the engagement team. They will reply here."))
    question = await answering.current_survey_screen(visit)
    return Reply((sent, question) if question is not None else (sent,), edit=True)


async def _to_officers(
    services: Services,
    chat_id: int,
    thread: int,
    consultation_id: str | None,
    language: str,
    text: str,
    resident_message_id: int | None = None,
) -> None:
    """Pass a resident's message (from `chat_id`) to the officers' chat, and keep it with its thread.

    The resident's message (`resident_message_id`) is linked to the thread in the same unit as its
    text is kept: handled again after a crash, it is found passed on and not kept twice.
    """
    t = services.catalogs.translator(services.catalogs.default_language)
    about = t._("Something else")
    if consultation_id:
        loaded = await services.consultations.current(consultation_id)
        about = loaded.model.text("title", t.language) if loaded else consultation_id
    header = t._(
        "Message from a resident (conversation #%(thread)s, language: %(language)s)",
        thread=str(thread),
        language=t.language_label(language),
    )
    body = (
        f"<b>{header}</b>\n"
        + t._("About: %(about)s", about=about)
        + f"\n\n{escape(text)}\n\n<i>"
        + t._("Reply to this message to answer the resident.")
        + "</i>"
    )
    officers_chat = services.officers_chat_id
    assert officers_chat is not None
    try:
        message_id = await services.send_now(officers_chat, Screen(body))
    except ChatMoved as moved:
        officers_chat = moved.new_chat_id
        await officers_chat_moved(services, moved.new_chat_id)
        message_id = await services.send_now(officers_chat, Screen(body))
    async with services.db.transaction():
        await services.db.contact.link(officers_chat, message_id, thread)
        if resident_message_id is not None:
            await services.db.contact.link(chat_id, resident_message_id, thread)
        await services.db.contact.keep_text(thread, chat_id, text, services.clock())
        await services.db.contact.set_state(thread, "open")


async def is_officers_chat(services: Services, chat_id: int) -> bool:
    """Whether `chat_id` is the officers' chat. Where several workers share the database, another may
    have followed the group's upgrade to a supergroup: a chat not recognised is checked against the
    moves recorded (only groups' messages ask, and they are few)."""
    if services.officers_chat_id is None or chat_id == services.officers_chat_id:
        return services.officers_chat_id is not None
    if not services.db.connection.shared:
        return False
    services.officers_chat_id = await services.db.contact.current_chat(services.officers_chat_id)
    return chat_id == services.officers_chat_id


async def officers_chat_moved(services: Services, new_chat_id: int) -> None:
    """Telegram upgraded the officers' group to a supergroup: use its new id from now on, and tell the admins."""
    old_chat_id = services.officers_chat_id
    if old_chat_id is None or old_chat_id == new_chat_id:
        return
    recorded = await services.db.contact.record_move(old_chat_id, new_chat_id)
    services.officers_chat_id = new_chat_id
    if not recorded:  # another worker (or Telegram's other notice of it) got here first: it told the admins
        return
    log.warning("The officers' group became a supergroup: %s is now %s", old_chat_id, new_chat_id)
    admins = set(services.admins) | {user for user, role in await services.db.officers.all() if role == "admin"}
    for admin in sorted(admins):
        resident = await services.db.residents.get(admin)
        t = services.catalogs.translator(resident.language if resident else services.catalogs.default_language)
        text = t._(
            "Telegram upgraded the officers' group to a supergroup with a new id, %(id)s. Messages to the team "
            "now go there. Please put officers_chat_id: %(id)s in the deployment file.",
            id=str(new_chat_id),
        )
        try:
            await services.send_now(admin, Screen(text))
        except Exception as error:  # an admin who never wrote to the bot cannot be told here
            log.info("Could not tell admin %s that the officers' group moved: %s", admin, type(error).__name__)


class NotSent(StrEnum):
    """Why an officer's reply did not reach the resident."""

    NOT_AN_OFFICER = "not an officer"
    EMPTY = "empty"
    TOO_LONG = "too long"
    NO_CONVERSATION = "no conversation"
    RESIDENT_GONE = "resident gone"  # they deleted their data
    BLOCKED = "blocked"  # they blocked the bot


async def reply_to_resident(
    services: Services, thread_id: int, text: str, officer_id: int, officer_name: str
) -> NotSent | None:
    """An officer's reply, from the officers' chat or the workspace's inbox, goes to the resident.

    Attributed to the engagement team (the resident is not told which officer), kept with the
    thread and audited with the officer's id and name. None when it was sent.
    """
    if await services.role_of(officer_id) not in ("officer", "admin"):
        return NotSent.NOT_AN_OFFICER
    if not text.strip():
        return NotSent.EMPTY
    if len(text) > MAX_MESSAGE:
        return NotSent.TOO_LONG
    thread = await services.db.contact.thread(thread_id)
    if thread is None:
        return NotSent.NO_CONVERSATION
    resident = await services.db.residents.get(thread.chat_id)
    if resident is None:
        return NotSent.RESIDENT_GONE
    rt = services.catalogs.translator(resident.language)
    body = (
        "<b>"
        + rt._("Reply from the engagement team")
        + f"</b>\n\n{escape(text)}\n\n<i>"
        + rt._("You can reply to this message to answer them.")
        + "</i>"
    )
    # Before it is sent: the resident may answer it as soon as they read it.
    await awaiting_reply(services, thread.chat_id, thread_id, thread.consultation_id)
    try:
        message_id = await services.send_now(thread.chat_id, Screen(body))
    except PermissionError:
        await services.db.drafts.drop(thread.chat_id, REPLY)
        return NotSent.BLOCKED
    now = services.clock()
    async with services.db.transaction():
        await services.db.contact.link(thread.chat_id, message_id, thread_id)
        await services.db.contact.keep_text(thread_id, thread.chat_id, text, now, officer_id=officer_id)
        await services.db.contact.set_state(thread_id, "answered", now)
        await services.db.officers.audit(
            officer_id, "contact reply", f"conversation #{thread_id}, by {officer_name}", now, thread.consultation_id
        )
    return None


async def close_conversation(services: Services, thread_id: int, officer_id: int) -> bool:
    """An officer closed a conversation in the inbox: it leaves the open list (audited).

    False when it was already closed or is gone. The resident writing again opens it again.
    """
    now = services.clock()
    async with services.db.transaction():
        thread = await services.db.contact.thread(thread_id)
        if thread is None or not await services.db.contact.close(thread_id, now):
            return False
        await services.db.officers.audit(
            officer_id, "contact close", f"conversation #{thread_id}", now, thread.consultation_id
        )
    return True


def _not_sent_note(t: Translator, not_sent: NotSent) -> str:
    """What the officers' chat is told when a reply there was not sent."""
    if not_sent is NotSent.NOT_AN_OFFICER:
        return t._("Only officers can reply to residents. Nothing was sent.")
    if not_sent is NotSent.TOO_LONG:
        return t._("Your message is too long. Please keep it under %(max)s characters.", max=str(MAX_MESSAGE))
    if not_sent is NotSent.BLOCKED:
        return t._("The resident has blocked the bot; the reply was not sent.")
    return t._("This resident has deleted their data; the reply was not sent.")


async def officer_replied(
    services: Services, chat_id: int, officers_message_id: int, text: str, sender_id: int, sender_name: str
) -> str | None:
    """Someone replied in the officers' chat to a resident's message: an officer's reply goes to the resident.

    Returns a note for the officers' chat (None when the reply was not to a resident's message).
    """
    found = await services.db.contact.thread_of(chat_id, officers_message_id)
    t = services.catalogs.translator(services.catalogs.default_language)
    if found is None:
        return None
    thread = found[0]
    not_sent = await reply_to_resident(services, thread, text, sender_id, sender_name)
    if not_sent is not None:
        return _not_sent_note(t, not_sent)
    return t._(
        "Sent to the resident by %(name)s. Conversation #%(thread)s is answered.", name=sender_name, thread=str(thread)
    )


async def _tapped(visit: Visit, tapped_: callbacks.Callback) -> Reply:
    return await tapped(visit, tapped_.arg(0), tapped_.arg(1))


async def _confirmed_again(visit: Visit, typed: Typed) -> Reply | None:
    """A message handled again after a crash (bot/inbox.py) that the team already has is only confirmed."""
    if not typed.replayed or typed.message_id is None:
        return None
    return await already_sent(visit, typed.message_id)


async def _reply_to_the_team(visit: Visit, typed: Typed) -> Reply | None:
    """A message sent with Telegram's Reply gesture on the team's answer goes to that conversation."""
    if typed.replied_to is None:
        return None
    thread = await visit.services.db.contact.thread_of(visit.chat_id, typed.replied_to)
    if thread is None:
        return None
    return await resident_replied(visit, thread[0], thread[2], typed.text, typed.message_id)


async def _typed_after_answer(visit: Visit, typed: Typed) -> Reply | None:
    if REPLY not in await visit.services.db.drafts.kinds(visit.chat_id):  # from memory
        return None
    return await typed_after_answer(visit, typed.text)


async def _message_written(visit: Visit, typed: Typed) -> Reply | None:
    """After "Contact the team", the next typed text is the message."""
    if DRAFT not in await visit.services.db.drafts.kinds(visit.chat_id):  # from memory
        return None
    return await send_to_team(visit, typed.text, typed.message_id)


BUTTONS = (ButtonRoute(PREFIX, _tapped),)
TEXT = (
    TextRoute("message already sent to the team", 40, _confirmed_again),
    TextRoute("reply to the team's answer", 50, _reply_to_the_team),
    TextRoute("typed after the team's answer", 60, _typed_after_answer),
    TextRoute("message to the team", 80, _message_written),
)
