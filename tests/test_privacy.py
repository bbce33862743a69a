"""Residents' rights: every personal table is covered; /mydata shows it all; /delete leaves nothing behind."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conversations import answering, onboarding, outcomes, privacy
from conversations.services import Services, begin_visit
from storage.deliveries import NewDelivery
from storage.personal_data import NOT_PERSONAL, PERSONAL_BY_CHAT, PERSONAL_BY_PSEUDONYM
from tests.backends import on_disk
from tests.offline import offline_services

ROOT = Path(__file__).resolve().parent.parent
DEPLOYMENT = Path(__file__).resolve().parent / "data" / "deployment.yaml"
EXAMPLE = ROOT / "examples" / "gp-opening-hours.yaml"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CHAT = 731_594_268
SECRET_ANSWER = "My neighbour Mrs Quigley drives me to the surgery every Tuesday"


@pytest.fixture
async def services(database_target: str) -> AsyncIterator[Services]:
    """The test once on SQLite, once on PostgreSQL."""
    async with offline_services(database_target, NOW, EXAMPLE) as found:
        yield found


async def resident_who_answered(services: Services) -> None:
    """A resident with an area, an interest, a submitted free-text answer, feedback and a pending message."""
    visit = await begin_visit(services, CHAT, "en")
    await onboarding.acknowledge(visit, "en", None)
    await services.db.residents.set_area(CHAT, "sheerness", None)
    await services.db.residents.toggle_topic(CHAT, "primary-care")
    visit = await begin_visit(services, CHAT, "en")
    await answering.take_part(visit, "gp-opening-hours")
    session = await answering.active_session(await begin_visit(services, CHAT, "en"))
    assert session is not None
    state = session.state
    for step in ("week", None, "1"):
        if step is None:
            state = session.engine.done(session.engine.toggle(state, "early").state).state  # type: ignore[union-attr]
        else:
            state = session.engine.choose(state, step).state  # type: ignore[union-attr]
    state = session.engine.type_answer(state, SECRET_ANSWER).state  # type: ignore[union-attr]
    state = session.engine.choose(state, "yes").state  # type: ignore[union-attr]
    state = session.engine.skip(session.engine.skip(state).state).state  # type: ignore[union-attr]
    await session.save(state)
    await answering.submit(session)
    await services.db.deliveries.enqueue([NewDelivery(CHAT, "notice", 20, "Hello", dedupe_key=f"x:{CHAT}")], NOW)
    await told_us_sent_to(services, CHAT)
    await outcomes.rate(await begin_visit(services, CHAT, "en"), "gp-opening-hours", "partly")


async def told_us_sent_to(services: Services, chat_id: int) -> None:
    """ "What you told us" was published and sent to the resident: only then is their feedback taken."""
    db = services.db
    await db.outcomes.publish("gp-opening-hours", outcomes.TOLD_US, {"en": "Mornings, mostly."}, NOW, 1)
    key = outcomes.outcome_key(outcomes.TOLD_US, "gp-opening-hours", chat_id)
    await db.deliveries.enqueue([NewDelivery(chat_id, "outcome", 20, "What you told us", dedupe_key=key)], NOW)
    await db.connection.execute("UPDATE deliveries SET state = 'sent' WHERE dedupe_key = ?", (key,))


def database_bytes(folder: Path) -> bytes:
    """Every byte of the SQLite file and its log (PostgreSQL: see storage.personal_data.checkpoint)."""
    return b"".join(path.read_bytes() for path in folder.glob("haveyoursay.db*"))


async def test_every_table_is_registered_as_personal_or_not(services: Services) -> None:
    tables = {
        row[0]
        for row in await services.db.connection.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            if services.db.connection.dialect == "sqlite"
            else "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            " AND table_name <> 'schema_version'"
        )
    }
    registered = set(PERSONAL_BY_CHAT) | set(PERSONAL_BY_PSEUDONYM) | set(NOT_PERSONAL)
    assert tables == registered, "add the new table to storage/personal_data.py, and to /mydata and /delete"


async def test_my_data_has_everything_stored_about_the_resident(services: Services) -> None:
    await resident_who_answered(services)
    reply, data_file = await privacy.my_data(await begin_visit(services, CHAT, "en"))
    held = json.loads(data_file.content)
    assert held["residents"][0]["area_id"] == "sheerness"
    assert [row["topic_id"] for row in held["resident_topics"]] == ["primary-care"]
    assert held["participation"][0]["consultation_id"] == "gp-opening-hours"
    assert held["responses"][0]["answers"]["why_hard"] == SECRET_ANSWER
    assert SECRET_ANSWER in [row["value"] for row in held["answers"]]
    assert held["outcome_feedback"][0]["rating"] == "partly"
    assert "Hello" in [row["text"] for row in held["deliveries"]]
    summary = reply.screens[0].text
    assert "1 survey answered" in summary and "1 message waiting to be sent to you" in summary


async def test_delete_leaves_nothing_in_the_database_file_or_its_log(
    services: Services, tmp_path: Path, database_target: str
) -> None:
    on_sqlite = services.db.connection.dialect == "sqlite"
    await resident_who_answered(services)
    if on_sqlite:
        assert str(CHAT).encode() in database_bytes(tmp_path) and SECRET_ANSWER.encode() in database_bytes(tmp_path)
    visit = await begin_visit(services, CHAT, "en")
    assert "Answers you have already sent will be deleted too." in (await privacy.ask_to_delete(visit)).screens[0].text
    done = await privacy.confirm_delete(visit, "yes")
    assert done.screens[0].text.startswith("Done. Everything we held about you has been deleted.")
    if on_sqlite:  # PostgreSQL's pages hold a deleted row until VACUUM: storage.personal_data.checkpoint
        stored = database_bytes(tmp_path)
        assert str(CHAT).encode() not in stored
        assert SECRET_ANSWER.encode() not in stored
        assert b"Quigley" not in stored
    for table, column in PERSONAL_BY_CHAT.items():
        assert on_disk(database_target, f"SELECT COUNT(*) FROM {table} WHERE {column} = ?", CHAT) == [(0,)]
    assert on_disk(database_target, "SELECT COUNT(*) FROM responses") == [(0,)]
    assert on_disk(database_target, "SELECT COUNT(*) FROM answers") == [(0,)]


async def test_anonymising_keeps_answers_for_results_but_nothing_links_them(services: Services, tmp_path: Path) -> None:
    services.erasure = "anonymise"
    await resident_who_answered(services)
    await privacy.confirm_delete(await begin_visit(services, CHAT, "en"), "yes")
    tally = await services.db.results.tally("gp-opening-hours")
    assert tally.submitted == 1 and tally.values["last_visit"] == {"week": 1}
    assert tally.feedback == {"partly": 1}
    _reply, data_file = await privacy.my_data(await begin_visit(services, CHAT, "en"))
    held = json.loads(data_file.content)
    assert held["responses"] == [] and held["outcome_feedback"] == [] and held["residents"] == []
    if services.db.connection.dialect == "sqlite":
        assert str(CHAT).encode() not in database_bytes(tmp_path)
    [(submitted_at,)] = await services.db.connection.execute_fetchall("SELECT submitted_at FROM responses")
    assert submitted_at == "2026-12-01", "only the day is kept"


async def test_no_thanks_deletes_nothing(services: Services) -> None:
    await resident_who_answered(services)
    reply = await privacy.confirm_delete(await begin_visit(services, CHAT, "en"), "no")
    assert reply.screens[0].text == "Nothing was deleted."
    assert await services.db.residents.get(CHAT) is not None
