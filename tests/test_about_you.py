"""Equality monitoring: optional, apart from answers, reported only in totals, withdrawable alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conversations import about_you, results
from conversations.deployment import load_deployment
from conversations.i18n import Catalogs
from conversations.screens import Screen
from conversations.services import Services, begin_visit
from conversations.survey.loader import load_consultation_file, load_consultation_text
from storage import open_database

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "home-care-changes.yaml"
DEPLOYMENT = Path(__file__).resolve().parent / "data" / "deployment.yaml"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CID = "home-care-changes"


@pytest.fixture
async def services(database_target: str) -> AsyncIterator[Services]:
    async with open_database(database_target) as db:
        text = EXAMPLE.read_text(encoding="utf-8") + "about_you: true\n"
        loaded = load_consultation_text(text, "home.yaml")
        assert loaded.consultation is not None and loaded.data is not None and loaded.consultation.about_you
        c = loaded.consultation
        await db.consultations.save(loaded.data, c.structure(), c.opens, c.closes, NOW)
        yield Services(db=db, catalogs=Catalogs.load(), deployment=load_deployment(DEPLOYMENT), clock=lambda: NOW)


def labels(screen: Screen) -> list[str]:
    return [b.label for row in screen.buttons for b in row]


def data(screen: Screen, label: str) -> list[str | None]:
    button = next(b for row in screen.buttons for b in row if b.label == label)
    assert button.data is not None
    return list(button.data.split(":")[1:])


async def answer_all(services: Services, chat_id: int, picks: list[str]) -> Screen:
    visit = await begin_visit(services, chat_id, "en")
    screen = (await about_you.tapped(visit, "go", CID, None)).screens[0]
    for pick in picks:
        verb, consultation_id, value = data(screen, pick)
        screen = (await about_you.tapped(visit, verb, consultation_id, value)).screens[0]
    return screen


async def test_every_question_says_why_and_offers_prefer_not_to_say(services: Services) -> None:
    visit = await begin_visit(services, 1, "en")
    screen = (await about_you.tapped(visit, "go", CID, None)).screens[0]
    assert "About you: 1 of 6" in screen.text
    assert "We ask your age to check that we hear from people of every age." in screen.text
    assert "Prefer not to say" in labels(screen) and "Stop here" in labels(screen)
    for button in (b for row in screen.buttons for b in row):
        assert button.data is not None and len(button.data.encode()) <= 64


async def test_answers_are_stored_apart_and_reported_only_as_totals(services: Services) -> None:
    for chat in range(700_000_001, 700_000_007):
        last = await answer_all(services, chat, ["65–74", "Female", "Yes", "White", "Christian", "No"])
    assert last.text == "Thank you. You can withdraw these answers at any time with /aboutme."
    await answer_all(services, 700_000_010, ["Under 18", "Prefer not to say"])
    rows = await services.db.connection.execute_fetchall("SELECT * FROM equality_answers")
    assert all("700000" not in str(row) for row in rows), "stored under a keyed hash, never the Telegram id"
    assert await services.db.connection.execute_fetchall("SELECT COUNT(*) FROM answers") == [(0,)]
    report = (await results.reach(await begin_visit(services, 1, "en"), CID)).screens[0].text
    # 7 answered: with "Under 18: fewer than 5" shown, "65–74: 6" would tell that it is 1.
    assert "65–74: not shown" in report
    assert "Under 18: fewer than 5" in report
    assert "Female: not shown · Male: 0" in report
    assert "Prefer not to say: fewer than 5" in report


async def test_a_stale_or_forged_answer_records_nothing(services: Services) -> None:
    visit = await begin_visit(services, 5, "en")
    reply = await about_you.tapped(visit, "4", CID, "white")  # not the current question
    assert reply.notice == "That button is out of date."
    reply = await about_you.tapped(visit, "1", CID, "zebra")
    assert reply.notice == "That button is out of date."
    assert await services.db.connection.execute_fetchall("SELECT COUNT(*) FROM equality_answers") == [(0,)]


async def test_a_resident_can_withdraw_their_answers_alone(services: Services) -> None:
    await answer_all(services, 9, ["35–44", "Male"])
    visit = await begin_visit(services, 9, "en")
    mine = (await about_you.mine(visit)).screens[0]
    assert "How old are you? — 35–44" in mine.text and "What is your sex? — Male" in mine.text
    done = await about_you.withdraw(visit)
    assert done.screens[0].text == "Done: 2 answers withdrawn. Nothing else has changed."
    assert (await about_you.mine(visit)).screens[0].text == "You have not answered any “About you” questions."


def test_a_consultation_file_may_ask_about_you() -> None:
    plain = load_consultation_file(EXAMPLE)
    assert plain.consultation is not None and not plain.consultation.about_you
    wrong = load_consultation_text(EXAMPLE.read_text(encoding="utf-8") + "about_you: sometimes\n", "h.yaml")
    assert str(wrong.errors[0]).endswith("about_you: must be true or false")
