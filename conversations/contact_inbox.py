"""The workspace's inbox: every conversation residents started with /contact, and what was said.

The rules for sending a reply and closing a conversation are conversations/contact.py's
(`reply_to_resident`, `close_conversation`), the same the officers' group uses. Officers are
named as the Team page names them (conversations/team.py); the resident is never named, only
numbered as the group sees them ("conversation #12").
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import get_args

from conversations import contact, team
from conversations.i18n import Translator, escape
from conversations.screens import Screen
from conversations.services import Services
from storage.contact import ContactText, Shown, Thread
from storage.officers import StaffName

log = logging.getLogger(__name__)

PAGE_SIZE = 50
SHOWN: tuple[Shown, ...] = get_args(Shown)


def shown_from(value: str | None) -> Shown:
    """The inbox's filter from the page's address; anything else shows every conversation."""
    return next((shown for shown in SHOWN if shown == value), "all")


@dataclass(frozen=True)
class Officer:
    """An officer who wrote in a conversation: their name as the Team page shows it, if known."""

    user_id: int
    name: StaffName | None

    @property
    def label(self) -> str | None:
        return self.name.label if self.name is not None else None


@dataclass(frozen=True)
class Conversation:
    """One conversation as the inbox lists it."""

    id: int
    about: str | None  # the consultation's title in the officer's language; None: "Something else"
    consultation_id: str | None
    language: str | None  # the resident's language, named in the officer's; None once they are gone
    state: str  # "open" (the resident waits for a reply), "answered" or "closed"
    started: datetime
    last: datetime
    answered_by: tuple[Officer, ...]
    first_answer_after: timedelta | None  # from the resident's first message to the team's first reply


@dataclass(frozen=True)
class Message:
    id: int
    from_team: bool
    by: Officer | None  # the officer, for a reply from the team
    text: str  # as written: the page escapes it
    sent_at: datetime


@dataclass(frozen=True)
class InboxPage:
    conversations: tuple[Conversation, ...]
    shown: Shown
    counts: dict[str, int]  # conversations under each filter
    page: int  # from 1
    pages: int


async def _about(services: Services, t: Translator, consultation_id: str | None) -> str | None:
    if consultation_id is None:
        return None
    loaded = await services.consultations.current(consultation_id)
    return loaded.model.text("title", t.language) if loaded is not None else consultation_id


def _officer(names: dict[int, StaffName], user_id: int) -> Officer:
    return Officer(user_id, names.get(user_id))


async def _conversation(services: Services, t: Translator, thread: Thread, names: dict[int, StaffName]) -> Conversation:
    return Conversation(
        id=thread.id,
        about=await _about(services, t, thread.consultation_id),
        consultation_id=thread.consultation_id,
        language=t.language_label(thread.language) if thread.language else None,
        state=thread.state,
        started=thread.created_at,
        last=thread.last_at,
        answered_by=tuple(_officer(names, user_id) for user_id in thread.officer_ids),
        first_answer_after=thread.first_answer_at - thread.created_at if thread.first_answer_at else None,
    )


async def inbox(services: Services, t: Translator, shown: Shown = "all", page: int = 1) -> InboxPage:
    """A page of the inbox: open conversations first (the longest waiting first), then the latest."""
    contact_db = services.db.contact
    counts: dict[str, int] = {name: await contact_db.count_threads(name) for name in SHOWN}
    pages = max(1, math.ceil(counts[shown] / PAGE_SIZE))
    page = min(max(1, page), pages)
    threads = await contact_db.threads(shown, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    names = await services.db.officers.names()
    found = tuple([await _conversation(services, t, thread, names) for thread in threads])
    return InboxPage(found, shown, counts, page, pages)


async def conversation(
    services: Services, t: Translator, thread_id: int
) -> tuple[Conversation, tuple[Message, ...]] | None:
    """A conversation and its messages in order; None when there is no such conversation (or it was erased)."""
    thread = await services.db.contact.thread(thread_id)
    if thread is None:
        return None
    names = await services.db.officers.names()
    texts = await services.db.contact.texts(thread_id)
    return await _conversation(services, t, thread, names), tuple(_message(names, text) for text in texts)


def _message(names: dict[int, StaffName], text: ContactText) -> Message:
    by = _officer(names, text.officer_id) if text.officer_id is not None else None
    return Message(text.id, text.from_team, by, text.text, text.sent_at)


async def reply(services: Services, thread_id: int, text: str, officer_id: int) -> contact.NotSent | None:
    """An officer's reply from the inbox: the group's rule, attributed and audited the same way.

    The officers' group is told too, with the reply, so that nobody there answers it a second time.
    """
    name = await team.name_of(services, officer_id)
    officer_name = name.full_name if name is not None else str(officer_id)
    not_sent = await contact.reply_to_resident(services, thread_id, text, officer_id, officer_name)
    if not_sent is None and services.officers_chat_id is not None:
        t = services.catalogs.translator(services.catalogs.default_language)
        note = t._(
            "Answered from the workspace by %(name)s (conversation #%(thread)s):",
            name=officer_name,
            thread=str(thread_id),
        )
        try:
            await services.send_now(services.officers_chat_id, Screen(f"<b>{note}</b>\n\n{escape(text)}"))
        except Exception as error:  # the resident has the reply; the group's copy is a courtesy
            log.warning("Could not tell the officers' group about a reply from the workspace: %s", type(error).__name__)
    return not_sent


async def close(services: Services, thread_id: int, officer_id: int) -> bool:
    return await contact.close_conversation(services, thread_id, officer_id)
