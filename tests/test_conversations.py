"""The resident's conversations without Telegram: logic functions on a real database (SQLite, PostgreSQL),
with a set clock."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot import routing
from conversations import answering, browsing, callbacks, onboarding
from conversations.pseudonyms import response_id_for
from conversations.screens import Reply, Screen
from conversations.services import Services, Visit, begin_visit
from storage.residents import Audience
from storage.responses import StoredResponse
from tests.offline import Clock, offline_services

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "gp-opening-hours.yaml"
DEPLOYMENT = Path(__file__).resolve().parent / "data" / "deployment.yaml"
OPENED = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
CLOSES = datetime(2027, 1, 31, 23, 59, tzinfo=UTC)
CHAT = 700000001


@pytest.fixture
async def services(database_target: str) -> AsyncIterator[Services]:
    one_day_in = OPENED + timedelta(days=1)
    async with offline_services(database_target, one_day_in, EXAMPLE, bot_username="HysBot") as found:
        yield found


async def visit(services: Services, language_code: str | None = "en") -> Visit:
    return await begin_visit(services, CHAT, language_code)


async def acknowledged(services: Services, language: str = "en") -> Visit:
    v = await visit(services)
    await onboarding.acknowledge(v, language, None)
    await services.db.residents.set_onboarding_step(CHAT, None)
    return await visit(services)


def data_of(screen: Screen, label: str) -> str:
    for row in screen.buttons:
        for button in row:
            if button.label == label:
                assert button.data is not None
                return button.data
    raise AssertionError(f"no button {label!r} in {[b.label for row in screen.buttons for b in row]}")


async def tap(services: Services, screen: Screen, label: str) -> Reply:
    tapped = callbacks.decode(data_of(screen, label))
    assert tapped is not None and tapped.kind == callbacks.SURVEY
    return await answering.survey_button(await visit(services), tapped.arg(0), tapped.arg(1), tapped.arg(2))


async def test_the_welcome_follows_telegrams_language_and_stores_nothing(services: Services) -> None:
    reply = await onboarding.start(await visit(services, "cy-GB"), None)
    assert "preifatrwydd" in reply.screens[0].text
    assert "English" in [b.label for row in reply.screens[0].buttons for b in row]
    assert await services.db.residents.get(CHAT) is None


async def test_the_welcome_names_the_organisation_only_when_the_deployment_gives_one(services: Services) -> None:
    named = await onboarding.start(await visit(services), None)
    assert named.screens[0].text.startswith("<b>Welcome to Have Your Say from Swale Health and Care Partnership.</b>")
    services.deployment = dataclasses.replace(services.deployment, organisation={})
    unnamed = await onboarding.start(await visit(services), None)
    assert unnamed.screens[0].text.startswith("<b>Welcome to Have Your Say.</b>")


async def test_a_language_telegram_does_not_have_falls_back_to_the_default(services: Services) -> None:
    assert (await visit(services, "xx-YY")).language == "en"
    assert (await visit(services, "pt-BR")).language == "pt"


async def test_changing_language_mid_survey_continues_at_the_same_question(services: Services) -> None:
    v = await acknowledged(services)
    first = (await answering.take_part(v, "gp-opening-hours")).screens[0]
    await tap(services, first, "In the last month")
    reply = await onboarding.choose_language(await visit(services), "cy")
    confirmed, question = reply.screens
    assert "Cymraeg" in confirmed.text
    assert question.text.startswith("📋 <i>Oriau agor meddygfeydd teulu</i>\n<b>Cwestiwn 2 o 7</b>")
    assert "Pa adegau sydd orau i chi?" in question.text


async def test_a_consultation_that_closes_mid_survey_says_so_and_records_nothing_more(services: Services) -> None:
    v = await acknowledged(services)
    first = (await answering.take_part(v, "gp-opening-hours")).screens[0]
    assert isinstance(services.clock, Clock)
    services.clock.now = CLOSES + timedelta(minutes=5)
    reply = await tap(services, first, "In the last week")
    assert reply.screens[0].text == "This consultation closed on 31 January 2027. Thank you for your interest."
    stored = await services.db.responses.get(answering_response_id(services))
    assert stored is not None and stored.state["answers"] == {}


def answering_response_id(services: Services) -> str:
    return response_id_for(services.db.pseudonym_key, CHAT, "gp-opening-hours")


async def test_taking_part_twice_resumes_instead_of_starting_again(services: Services) -> None:
    v = await acknowledged(services)
    first = (await answering.take_part(v, "gp-opening-hours")).screens[0]
    await tap(services, first, "Longer ago")
    card = (await browsing.card(await visit(services), "gp-opening-hours")).screens[0]
    assert "Continue where you left off" in [b.label for row in card.buttons for b in row]
    again = (await answering.take_part(await visit(services), "gp-opening-hours")).screens[0]
    assert again.text.startswith("📋 <i>GP opening hours</i>\n<b>Question 2 of 7</b>")


async def test_an_answer_to_a_response_submitted_meanwhile_records_nothing_and_says_so(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    v = await acknowledged(services)
    first = (await answering.take_part(v, "gp-opening-hours")).screens[0]
    read = services.db.responses.get

    async def read_then_submitted_elsewhere(response_id: str) -> StoredResponse | None:
        found = await read(response_id)
        await services.db.connection.execute(
            "UPDATE responses SET submitted_at = '2026-11-02T00:00:00+00:00' WHERE response_id = ?", (response_id,)
        )
        return found

    # Submitted between this resident's read and write (as by a second device): the write is refused.
    monkeypatch.setattr(services.db.responses, "get", read_then_submitted_elsewhere)
    reply = await tap(services, first, "Longer ago")
    assert reply.screens[0].text == "You have already taken part in this consultation. Thank you!"
    rows = await services.db.connection.execute_fetchall(
        "SELECT state FROM responses WHERE response_id = ?", (answering_response_id(services),)
    )
    assert "longer" not in str(rows[0][0])


async def test_an_unknown_deep_link_says_so_and_lists_what_is_open(services: Services) -> None:
    v = await acknowledged(services)
    reply = await onboarding.start(v, "no-such-consultation")
    assert reply.screens[0].text == "Sorry, I could not find that consultation. It may have been removed."
    assert "GP opening hours" in reply.screens[1].text


async def test_a_malformed_deep_link_is_treated_as_no_link(services: Services) -> None:
    reply = await onboarding.start(await visit(services), "<script>")
    assert all("script" not in row[0].data for s in reply.screens for row in s.buttons if row[0].data)


async def test_text_typed_by_a_resident_is_escaped_in_what_the_bot_shows(services: Services) -> None:
    v = await acknowledged(services)
    screen = (await answering.take_part(v, "gp-opening-hours")).screens[0]
    screen = (await tap(services, screen, "In the last week")).screens[0]
    screen = (await tap(services, screen, "⬜ Saturday")).screens[0]
    screen = (await tap(services, screen, "Done")).screens[0]
    screen = (await tap(services, screen, "1")).screens[0]
    session = await answering.active_session(await visit(services))
    assert session is not None
    reply = await answering.survey_text(session, "<b>bold</b> & <script>")
    back = (await tap(services, reply.screens[0], "« Back")).screens[0]
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;" in back.text
    assert not re.search(r"<(?!/?(b|i)>)", back.text), "only the bot's own tags remain"


async def test_every_survey_button_fits_telegrams_callback_limit(services: Services) -> None:
    v = await acknowledged(services)
    screen = (await answering.take_part(v, "gp-opening-hours")).screens[0]
    for row in screen.buttons:
        for button in row:
            assert button.data is not None and len(button.data.encode()) <= 64


async def test_a_resident_who_blocked_the_bot_is_reachable_again_after_start(services: Services) -> None:
    await acknowledged(services)
    await services.db.residents.mark_unreachable(CHAT, OPENED)
    assert await services.db.residents.audience(Audience()) == []
    context = SimpleNamespace(args=None)
    await routing.on_start(await visit(services), None, context)  # type: ignore[arg-type]
    assert await services.db.residents.audience(Audience()) == [(CHAT, "en")]


async def test_a_tap_on_a_survey_submitted_by_another_worker_says_already_taken_part(database_target: str) -> None:
    """Two workers on one database (SQLite, then PostgreSQL): the resident's submit went to one; a tap on
    an old button of the same survey reaches the other. Both backends answer alike: already taken part."""
    one_day_in = OPENED + timedelta(days=1)
    async with (
        offline_services(database_target, one_day_in, EXAMPLE, bot_username="HysBot") as here,
        offline_services(database_target, one_day_in, bot_username="HysBot") as elsewhere,
    ):
        v = await acknowledged(here)
        first = (await answering.take_part(v, "gp-opening-hours")).screens[0]
        second = (await tap(here, first, "In the last week")).screens[0]  # read here (and perhaps remembered)
        await elsewhere.db.responses.submit(
            answering_response_id(elsewhere), {"last_visit": "week"}, {"answers": {}}, one_day_in, area_id=None
        )

        reply = await tap(here, second, "⬜ Before 8am")
        assert reply.notice is None
        assert [screen.text for screen in reply.screens] == [
            "You have already taken part in this consultation. Thank you!"
        ]
        resident = await here.db.residents.get(CHAT)
        assert resident is not None and resident.active_consultation_id is None, "no survey in progress any more"
        rows = await here.db.connection.execute_fetchall(
            "SELECT answers FROM responses WHERE response_id = ?", (answering_response_id(here),)
        )
        assert "early" not in str(rows[0][0]), "the tap recorded nothing"
