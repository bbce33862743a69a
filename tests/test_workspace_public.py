"""The public "We asked, you said, we did" page: anyone can read it, in their language, and it holds
only what the organisation published."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Page, expect

from bot.web.app import workspace_app
from conversations.services import Services
from tests.browser import screenshot, serious_accessibility_problems
from tests.e2e_support import DATA, EXAMPLES, BotProcess
from tests.offline import GP_HOURS, offline_services

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
CLOSED = DATA / "closed.yaml"


@pytest.fixture
async def services(database_target: str) -> AsyncIterator[Services]:
    async with offline_services(database_target, NOW, GP_HOURS, CLOSED, bot_username="SwaleSaysBot") as services:
        await services.db.outcomes.publish(
            "old-pharmacy-hours", "told_us", {"en": "Most of you <want> evenings.", "cy": "Roedd y rhan fwyaf"}, NOW, 1
        )
        await services.db.outcomes.publish("old-pharmacy-hours", "decided", {"en": "Open until 8pm."}, NOW, 1)
        yield services


async def public_page(services: Services, **headers: str) -> httpx.Response:
    app = workspace_app(services, "1:x", "http://workspace.test")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://workspace.test") as http:
        return await http.get("/outcomes", headers=headers)


async def test_anyone_reads_what_was_asked_said_and_done_without_signing_in(services: Services) -> None:
    page = await public_page(services)
    assert page.status_code == 200
    text = page.text
    assert "Pharmacy opening hours" in text and "Most of you &lt;want&gt; evenings." in text
    assert "Open until 8pm." in text
    assert "GP opening hours" in text and "https://t.me/SwaleSaysBot?start=gp-opening-hours" in text
    assert "Sign out" not in text


async def test_the_page_is_in_the_visitors_language_with_the_default_languages_text_where_none(
    services: Services,
) -> None:
    welsh = (await public_page(services, **{"accept-language": "cy-GB,en;q=0.5"})).text
    assert 'lang="cy"' in welsh
    assert "Roedd y rhan fwyaf" in welsh  # the Welsh "You said"
    assert "Open until 8pm." in welsh  # "We did" has no Welsh: the default language's text


def test_the_public_page_is_accessible(bot: BotProcess, page: Page) -> None:
    bot.import_consultations(EXAMPLES / "gp-opening-hours.yaml", CLOSED)
    bot.start()
    page.goto(bot.web_url + "/outcomes")
    expect(page.get_by_role("heading", level=1)).to_have_text("We asked, you said, we did")
    expect(page.get_by_role("heading", name="Pharmacy opening hours")).to_be_visible()
    screenshot(page, "public-outcomes")
    assert serious_accessibility_problems(page) == []
