"""Shared fixtures: the fake Bot API server and the real bot process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.backends import migrated
from tests.browser import connect, start_chromium
from tests.e2e_support import BotProcess, Resident, bot_database
from tests.fake_telegram import FakeTelegram

# The run's throw-away PostgreSQL cluster: fixtures postgres_url, database_target, postgres_cluster.
pytest_plugins = ["tests.postgres"]


def pytest_configure(config: pytest.Config) -> None:
    """Each test's PostgreSQL database is a copy of a template migrated once per run."""
    from tests.postgres import prepare_template  # imported as the plugin above, not before it

    prepare_template(migrated)


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    server = FakeTelegram().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def bot(fake: FakeTelegram, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[BotProcess]:
    """The real bot, not yet started: on SQLite, or on both backends in a test that takes `database_target`."""
    process = BotProcess(fake, tmp_path, bot_database(request))
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def resident(fake: FakeTelegram) -> Resident:
    return Resident(fake, fake.add_user("Amina", language_code="en-GB"))


@pytest.fixture
def admin(fake: FakeTelegram) -> Resident:
    """An admin (from HAVEYOURSAY_ADMINS) in a private chat with the bot."""
    return Resident(fake, fake.add_user("Olu", language_code="en"))


@pytest.fixture
def officer_bot(
    fake: FakeTelegram, admin: Resident, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[BotProcess]:
    """The real bot with `admin` as its admin, not yet started (on both backends as `bot`)."""
    process = BotProcess(fake, tmp_path, bot_database(request), HAVEYOURSAY_ADMINS=str(admin.chat_id))
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One Chromium for every browser test in this process (its DevTools address)."""
    yield from start_chromium(tmp_path_factory.mktemp("chromium-profile"))


@pytest.fixture
def browser(chromium: str) -> Iterator[Browser]:
    with connect(chromium) as connected:
        yield connected


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) and a page in it."""
    context = browser.new_context(locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()
