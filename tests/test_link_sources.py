"""Links with a source tag (a poster's QR code): the payload's rules, and reach counted by source."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from conversations import answering, callbacks, deep_links, link_sources, onboarding, privacy, results
from conversations.pseudonyms import response_id_for
from conversations.services import Visit, begin_visit
from storage.responses import SourceReach
from tests.e2e_support import EXAMPLES, BotProcess, Resident, submit_after_saturday
from tests.offline import GP_HOURS, offline_services
from tests.test_e2e_resident import onboard, open_for_years

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LONGEST_ID = "a" * 40


def test_a_payload_with_a_source_round_trips() -> None:
    payload = deep_links.payload("gp-opening-hours", "surgery-waiting-room")
    assert payload == "gp-opening-hours_surgery-waiting-room"
    assert deep_links.parse(payload) == deep_links.DeepLink("gp-opening-hours", "surgery-waiting-room")
    # Printed or typed in capitals, it still finds both.
    assert deep_links.parse(payload.upper()) == deep_links.DeepLink("gp-opening-hours", "surgery-waiting-room")
    # Links without a source, printed before sources existed, keep working.
    assert deep_links.parse("gp-opening-hours") == deep_links.DeepLink("gp-opening-hours", None)
    # A malformed source still brings the resident to the consultation; a malformed id to none.
    assert deep_links.parse("gp-opening-hours_-x") == deep_links.DeepLink("gp-opening-hours", None)
    assert deep_links.parse("<script>_x") is None
    assert deep_links.parse(None) is None
    assert not deep_links.is_source("library\n") and not deep_links.is_source("x" * 31)
    assert onboarding.deep_link_consultation("GP-Opening-Hours_Library") == "gp-opening-hours"
    link = deep_links.link("SwaleBot", "gp-opening-hours", "library")
    assert link == "https://t.me/SwaleBot?start=gp-opening-hours_library"


@pytest.mark.parametrize("consultation_id", ["gp", "gp-opening-hours", LONGEST_ID])
def test_the_longest_source_allowed_fits_telegrams_limits(consultation_id: str) -> None:
    room = deep_links.source_room(consultation_id)
    assert room >= 15  # enough for "surgery-waiting" even with the longest id
    source = "s" * room
    payload = deep_links.payload(consultation_id, source)
    assert len(payload) <= 64 and deep_links.parse(payload) == deep_links.DeepLink(consultation_id, source)
    # Every button that carries it on, in the language with the longest code, fits in 64 bytes.
    callbacks.encode(onboarding.ACKNOWLEDGE, "xxx", consultation_id, source)
    callbacks.encode(onboarding.WELCOME_LANGUAGE, "xxx", consultation_id, source)
    callbacks.encode(callbacks.TAKE_PART, consultation_id, source)


def test_a_consultation_whose_link_would_read_as_an_officer_invitation_takes_no_source() -> None:
    assert deep_links.source_room("inv") == 0


async def test_reach_is_counted_by_source_and_the_first_source_stays(database_target: str) -> None:
    async with offline_services(database_target, NOW, GP_HOURS) as services:
        db = services.db

        async def arrive(chat_id: int, source: str | None, submit: bool) -> None:
            await db.residents.acknowledge(chat_id, "en", NOW, None)
            visit = await begin_visit(services, chat_id, "en")
            await answering.take_part(visit, "gp-opening-hours", source)
            if submit:
                rid = response_id_for(db.pseudonym_key, chat_id, "gp-opening-hours")
                assert await db.responses.submit(rid, {"last_visit": "week"}, {}, NOW)

        await arrive(1, "surgery", submit=True)
        await arrive(2, "surgery", submit=True)
        await arrive(3, "surgery", submit=False)
        await arrive(4, "library", submit=True)
        await arrive(5, None, submit=True)
        # A resident who started from the library's poster and then scans the surgery's is counted once.
        visit = await begin_visit(services, 4, "en")
        await answering.take_part(visit, "gp-opening-hours", "surgery")
        assert await db.responses.reach_by_source("gp-opening-hours") == [
            SourceReach("surgery", started=3, submitted=2),
            SourceReach(None, started=1, submitted=1),
            SourceReach("library", started=1, submitted=1),
        ]
        assert await db.responses.reach_by_source("no-such-consultation") == []


async def test_a_response_kept_without_its_resident_keeps_its_source(database_target: str) -> None:
    async with offline_services(database_target, NOW, GP_HOURS, erasure="anonymise") as services:
        db = services.db
        await db.residents.acknowledge(1, "en", NOW, None)
        await answering.take_part(await begin_visit(services, 1, "en"), "gp-opening-hours", "library")
        assert await db.responses.submit(response_id_for(db.pseudonym_key, 1, "gp-opening-hours"), {}, {}, NOW)
        await privacy.confirm_delete(await begin_visit(services, 1, "en"), "yes")
        assert await db.responses.reach_by_source("gp-opening-hours") == [SourceReach("library", 1, 1)]


def test_a_resident_who_arrives_by_a_posters_link_is_counted_under_its_source(
    bot: BotProcess, resident: Resident, tmp_path: Path
) -> None:
    bot.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path))
    bot.start()
    # Someone new: the source travels in the buttons through the privacy notice (nothing stored before).
    resident.say("/start GP-Opening-Hours_Surgery-Waiting-Room", expect="Your privacy")
    assert bot.query("SELECT COUNT(*) FROM responses") == [(0,)]
    resident.tap("I understand", expect="What you can influence")
    resident.tap("Take part", expect="Question 1 of 7")
    resident.tap("Longer ago", expect="Question 2 of 7")
    resident.tap("⬜ Saturday", expect="✅ Saturday")
    submit_after_saturday(resident)
    assert bot.query("SELECT source, submitted_at IS NOT NULL FROM responses") == [("surgery-waiting-room", 1)]


def test_a_known_resident_who_follows_a_posters_link_takes_its_source_along(
    bot: BotProcess, resident: Resident, tmp_path: Path
) -> None:
    bot.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path))
    bot.start()
    onboard(resident)
    resident.say("/start gp-opening-hours_library", expect="What you can influence")
    resident.tap("Take part", expect="Question 1 of 7")
    assert bot.query("SELECT source, submitted_at FROM responses") == [("library", None)]


async def test_results_name_each_source_and_put_those_without_one_last(database_target: str) -> None:
    async with offline_services(database_target, NOW, GP_HOURS) as services:
        db = services.db
        officer = await begin_visit(services, 99, "en")
        assert link_sources.chat_block(officer.t, await link_sources.by_source(services, "gp-opening-hours")) == ""

        async def arrive(chat_id: int, source: str | None, submit: bool) -> None:
            await db.residents.acknowledge(chat_id, "en", NOW, None)
            await answering.take_part(await begin_visit(services, chat_id, "en"), "gp-opening-hours", source)
            if submit:
                rid = response_id_for(db.pseudonym_key, chat_id, "gp-opening-hours")
                assert await db.responses.submit(rid, {"last_visit": "week"}, {}, NOW)

        await arrive(1, None, submit=True)
        await arrive(2, None, submit=True)
        found = await link_sources.by_source(services, "gp-opening-hours")
        assert found == (SourceReach(None, 2, 2),) and not link_sources.tagged(found)
        text = await results_text(officer)
        assert "Where people came from" not in text, "nothing to tell until a poster brings someone"

        await arrive(3, "surgery", submit=True)
        await arrive(4, "library", submit=False)
        found = await link_sources.by_source(services, "gp-opening-hours")
        assert found == (SourceReach("surgery", 1, 1), SourceReach("library", 1, 0), SourceReach(None, 2, 2))
        text = await results_text(officer)
        assert (
            "<b>Where people came from</b>\nsurgery: 1 submitted of 1 started\nlibrary: 0 submitted of 1 started\n"
            "No poster or tagged link: 2 submitted of 2 started"
        ) in text


async def results_text(officer: Visit) -> str:
    """The chat's /results for the consultation, its messages together."""
    found = await results.results(officer, "gp-opening-hours")
    assert found is not None
    return "\n".join(screen.text for screen in found.screens)
