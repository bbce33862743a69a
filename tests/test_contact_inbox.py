"""Conversations with the team as the inbox keeps them, on a real database (SQLite, PostgreSQL): what was
said is stored, the inbox lists it, a reply from the page takes the group's path, close; /mydata shows the messages,
/delete erases them from the file, retention purges them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from conversations import contact, contact_inbox, onboarding, privacy
from conversations.retention import apply_retention
from conversations.screens import Screen
from conversations.services import Services, begin_visit
from tests.backends import holds_text, on_disk
from tests.offline import GP_HOURS, Clock, offline_services

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CHAT = 731_594_268
OFFICERS_CHAT = -100_555
PRIYA = 880_000_001
QUESTION = "Is the Saturday clinic at Quigley Lane open?"
ANSWER = "Yes, 9 to 12 every Saturday."


@dataclass
class Sent:
    """What the bot sent, chat by chat (a fake send_now)."""

    messages: list[tuple[int, str]] = field(default_factory=list)

    async def __call__(self, chat_id: int, screen: Screen) -> int:
        self.messages.append((chat_id, screen.text))
        return len(self.messages)

    def to(self, chat_id: int) -> list[str]:
        return [text for chat, text in self.messages if chat == chat_id]


@pytest.fixture
def sent() -> Sent:
    return Sent()


@pytest.fixture
async def services(database_target: str, sent: Sent) -> AsyncIterator[Services]:
    async with offline_services(database_target, NOW, GP_HOURS, send_now=sent) as found:
        found.deployment = replace(found.deployment, officers_chat_id=OFFICERS_CHAT)
        found.officers_chat_id = OFFICERS_CHAT
        await found.db.officers.add(PRIYA, "officer", 1, NOW)
        await found.db.officers.remember_name(PRIYA, "Priya", "Shah", "priya_s", NOW)
        yield found


def clock(services: Services) -> Clock:
    assert isinstance(services.clock, Clock)
    return services.clock


async def resident_writes(services: Services, text: str = QUESTION) -> int:
    """A resident sends /contact about GP opening hours and types their message; the thread's id."""
    visit = await begin_visit(services, CHAT, "en")
    if visit.resident is None:
        await onboarding.acknowledge(visit, "en", None)
        visit = await begin_visit(services, CHAT, "en")
    await contact.tapped(visit, "about", "gp-opening-hours")
    await contact.send_to_team(visit, text)
    [(thread,)] = await services.db.connection.execute_fetchall("SELECT MAX(id) FROM contact_threads")
    return int(thread)


async def test_the_officers_who_replied_are_named_in_the_order_of_their_first_reply(services: Services) -> None:
    thread = await resident_writes(services)
    later = 990_000_002  # a larger id, who replies first
    for officer in (later, PRIYA, later):
        await services.db.contact.keep_text(thread, CHAT, ANSWER, NOW, officer_id=officer)
    found = await services.db.contact.thread(thread)
    assert found is not None and found.officer_ids == (later, PRIYA)
    [listed] = await services.db.contact.threads("all")
    assert listed.officer_ids == (later, PRIYA)


async def test_each_message_is_kept_and_the_inbox_shows_the_conversation(services: Services, sent: Sent) -> None:
    t = services.catalogs.translator("en")
    thread = await resident_writes(services)
    assert QUESTION in sent.to(OFFICERS_CHAT)[0]

    listed = await contact_inbox.inbox(services, t, "open")
    assert [c.id for c in listed.conversations] == [thread]
    [waiting] = listed.conversations
    assert (waiting.about, waiting.language, waiting.state) == ("GP opening hours", "English", "open")
    assert waiting.answered_by == () and waiting.first_answer_after is None
    assert listed.counts == {"all": 1, "open": 1, "answered": 0, "closed": 0}

    # Priya answers from the officers' group 90 minutes later.
    clock(services).now = NOW + timedelta(minutes=90)
    note = await contact.officer_replied(services, OFFICERS_CHAT, 1, ANSWER, PRIYA, "Priya Shah")
    assert note == "Sent to the resident by Priya Shah. Conversation #1 is answered."
    assert sent.to(CHAT)[-1].startswith("<b>Reply from the engagement team</b>")
    assert "Priya" not in sent.to(CHAT)[-1], "the resident hears from the team, not from a named officer"

    found = await contact_inbox.conversation(services, t, thread)
    assert found is not None
    answered, messages = found
    assert [(m.from_team, m.text) for m in messages] == [(False, QUESTION), (True, ANSWER)]
    assert messages[1].by is not None and messages[1].by.label == "Priya Shah (@priya_s)"
    assert answered.state == "answered" and answered.first_answer_after == timedelta(minutes=90)
    assert [o.label for o in answered.answered_by] == ["Priya Shah (@priya_s)"]
    assert (await services.db.contact.waiting())[0] == 0


async def test_a_reply_from_the_inbox_takes_the_groups_path_and_close_leaves_the_open_list(
    services: Services, sent: Sent
) -> None:
    t = services.catalogs.translator("en")
    thread = await resident_writes(services)
    assert await contact_inbox.reply(services, thread, "   ", PRIYA) is contact.NotSent.EMPTY
    assert await contact_inbox.reply(services, thread, "x" * 3501, PRIYA) is contact.NotSent.TOO_LONG
    assert await contact_inbox.reply(services, thread, ANSWER, 123) is contact.NotSent.NOT_AN_OFFICER
    assert sent.to(CHAT) == []

    assert await contact_inbox.reply(services, thread, "Yes <b>every</b> Saturday & Sunday", PRIYA) is None
    assert sent.to(CHAT) == [
        "<b>Reply from the engagement team</b>\n\nYes &lt;b&gt;every&lt;/b&gt; Saturday &amp; Sunday\n\n"
        "<i>You can reply to this message to answer them.</i>"
    ]
    assert sent.to(OFFICERS_CHAT)[-1] == (
        f"<b>Answered from the workspace by Priya Shah (conversation #{thread}):</b>\n\n"
        "Yes &lt;b&gt;every&lt;/b&gt; Saturday &amp; Sunday"
    )
    audit = await services.db.connection.execute_fetchall(
        "SELECT actor_id, action, detail, consultation_id FROM audit_log"
    )
    assert list(audit) == [(PRIYA, "contact reply", f"conversation #{thread}, by Priya Shah", "gp-opening-hours")]

    # The resident answers the reply by typing: it goes to the same conversation, open again.
    visit = await begin_visit(services, CHAT, "en")
    assert await contact.typed_after_answer(visit, "And on bank holidays?") is not None
    assert [c.id for c in (await contact_inbox.inbox(services, t, "open")).conversations] == [thread]

    assert await contact_inbox.close(services, thread, PRIYA)
    assert not await contact_inbox.close(services, thread, PRIYA), "already closed"
    assert (await contact_inbox.inbox(services, t, "open")).conversations == ()
    assert [c.state for c in (await contact_inbox.inbox(services, t, "closed")).conversations] == ["closed"]
    assert (await services.db.contact.waiting())[0] == 0
    actions = await services.db.connection.execute_fetchall("SELECT action FROM audit_log ORDER BY id")
    assert [row[0] for row in actions] == ["contact reply", "contact close"]

    # Writing again opens it again.
    await contact.resident_replied(await begin_visit(services, CHAT, "en"), thread, "gp-opening-hours", "Hello?")
    assert [c.state for c in (await contact_inbox.inbox(services, t)).conversations] == ["open"]


async def test_open_conversations_come_first_the_longest_waiting_first(services: Services) -> None:
    t = services.catalogs.translator("en")
    first = await resident_writes(services, "first")
    clock(services).now = NOW + timedelta(hours=1)
    second = await resident_writes(services, "second")
    clock(services).now = NOW + timedelta(hours=2)
    third = await resident_writes(services, "third")
    assert await contact_inbox.reply(services, first, ANSWER, PRIYA) is None
    listed = await contact_inbox.inbox(services, t)
    assert [(c.id, c.state) for c in listed.conversations] == [
        (second, "open"),
        (third, "open"),
        (first, "answered"),
    ]


async def test_my_data_lists_the_messages_without_the_officers_id(services: Services) -> None:
    thread = await resident_writes(services)
    assert await contact_inbox.reply(services, thread, ANSWER, PRIYA) is None
    reply, data_file = await privacy.my_data(await begin_visit(services, CHAT, "en"))
    held = json.loads(data_file.content)
    assert [(row["from_team"], row["text"]) for row in held["contact_texts"]] == [(0, QUESTION), (1, ANSWER)]
    assert all("officer_id" not in row for row in held["contact_texts"])
    assert str(PRIYA) not in data_file.content.decode()
    assert "1 message from you to the engagement team, kept with their replies" in reply.screens[0].text


async def test_delete_erases_the_messages_from_the_file_and_its_log(services: Services, database_target: str) -> None:
    thread = await resident_writes(services)
    assert await contact_inbox.reply(services, thread, ANSWER, PRIYA) is None
    assert holds_text(database_target, QUESTION)
    await privacy.confirm_delete(await begin_visit(services, CHAT, "en"), "yes")
    assert not holds_text(database_target, "Quigley") and not holds_text(database_target, ANSWER)
    for table in ("contact_threads", "contact_messages", "contact_texts"):
        assert on_disk(database_target, f"SELECT COUNT(*) FROM {table}") == [(0,)], table
    assert (await contact_inbox.inbox(services, services.catalogs.translator("en"))).conversations == ()


async def test_retention_purges_a_conversation_as_long_after_its_last_message_as_responses(
    services: Services, database_target: str
) -> None:
    thread = await resident_writes(services)
    clock(services).now = NOW + timedelta(days=10)
    assert await contact_inbox.reply(services, thread, ANSWER, PRIYA) is None
    last = NOW + timedelta(days=10)
    still = await apply_retention(services, last + services.response_retention - timedelta(seconds=1))
    assert still["conversations with the team purged"] == 0
    assert holds_text(database_target, QUESTION)
    done = await apply_retention(services, last + services.response_retention + timedelta(seconds=1))
    assert done["conversations with the team purged"] == 1
    assert not holds_text(database_target, "Quigley") and not holds_text(database_target, ANSWER)
    [(left,)] = await services.db.connection.execute_fetchall("SELECT COUNT(*) FROM contact_texts")
    assert left == 0
