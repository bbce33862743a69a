"""Shared fixtures: the fake Bot API server and the real bot process."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.backends import migrated
from tests.browser import connect, start_chromium
from tests.e2e_support import BotProcess, Resident
from tests.fake_telegram import FakeTelegram

# The run's throw-away PostgreSQL cluster: fixtures postgres_url, database_target, postgres_cluster.
pytest_plugins = ["tests.postgres"]


def pytest_configure(config: pytest.Config) -> None:
    """Each test's PostgreSQL database is a copy of a template migrated once per run."""
    from tests.postgres import prepare_template  # imported as the plugin above, not before it

    prepare_template(migrated)
    _keep_compiled_code()
    config.addinivalue_line("markers", "slow: a test of many seconds without the bot or a browser (run first)")


def _keep_compiled_code() -> None:
    """Keep the bytecode of the code the tests run, outside the source tree, when PYTHONDONTWRITEBYTECODE is set.

    With it set (as on the development machine), every `haveyoursay` the tests start, and every xdist worker,
    compiled the project's modules from source again: 0.3-0.4 s of CPU a process, hundreds of processes a run.
    So the run, and the processes it starts (xdist's workers too: they inherit the environment), keep it in the
    user's cache folder (PYTHONPYCACHEPREFIX): nothing is written beside the sources, and Python compiles a file
    again when it changes.
    """
    if not os.environ.get("PYTHONDONTWRITEBYTECODE") or os.environ.get("PYTHONPYCACHEPREFIX"):
        return
    prefix = str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "haveyoursay" / "pycache")
    del os.environ["PYTHONDONTWRITEBYTECODE"]
    os.environ["PYTHONPYCACHEPREFIX"] = prefix
    sys.pycache_prefix = prefix
    sys.dont_write_bytecode = False


def _expected_length(item: pytest.Item) -> int:
    """0 for the longest tests, up to 3 for the quickest: a rank, not seconds."""
    if item.get_closest_marker("slow"):
        return 0
    fixtures = getattr(item, "fixturenames", ())
    if "page" in fixtures:  # the real bot and a browser: 10-50 s on a quiet machine
        return 1
    if "fake" in fixtures or "e2e" in item.path.name:  # the real bot: 3-15 s
        return 2
    return 3


@pytest.hookimpl(tryfirst=True)  # before xdist names the groups (`--dist loadgroup`)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest tests first, the quickest last, so that the workers finish together.

    xdist (`--dist loadgroup`, pyproject.toml) gives each worker the next test whenever it has fewer than three
    waiting: with the long ones first, no worker is left with a long test when the others have finished. A module
    whose fixture takes long to make once (scope="module") stays on one worker.
    """
    for item in items:
        if any(fixture.scope == "module" for fixture in _fixtures(item)):  # made once per worker that runs it
            item.add_marker(pytest.mark.xdist_group(item.path.name))
    items.sort(key=_expected_length)  # stable: the order of the files within a rank


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    server = FakeTelegram().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def bot(fake: FakeTelegram, tmp_path: Path) -> Iterator[BotProcess]:
    process = BotProcess(fake, tmp_path)
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
def officer_bot(fake: FakeTelegram, admin: Resident, tmp_path: Path) -> Iterator[BotProcess]:
    """The real bot with `admin` as its admin, not yet started."""
    process = BotProcess(fake, tmp_path, HAVEYOURSAY_ADMINS=str(admin.chat_id))
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One Chromium for every browser test in this process (its DevTools address)."""
    yield from start_chromium(tmp_path_factory.mktemp("chromium-profile"))


@pytest.fixture(scope="session")
def connected(chromium: str) -> Iterator[Browser]:
    """One Playwright connected to the Chromium for every browser test in this process (starting Playwright's
    driver took ~0.9 s of CPU a test).

    Playwright's synchronous API marks its event loop as running in this thread after each call, which stops
    asyncio tests from running loops of their own: it is marked only while a browser test runs (`browser`).
    """
    with connect(chromium) as browser:
        asyncio._set_running_loop(None)
        try:
            yield browser
        finally:
            asyncio._set_running_loop(_loop(browser))  # as Playwright left it, to close


def _loop(browser: Browser) -> asyncio.AbstractEventLoop:
    loop: asyncio.AbstractEventLoop = browser._loop
    return loop


@contextmanager
def _running(browser: Browser) -> Iterator[None]:
    asyncio._set_running_loop(_loop(browser))
    try:
        yield
    finally:
        asyncio._set_running_loop(None)


def _fixtures(item: pytest.Item) -> list[pytest.FixtureDef[object]]:
    info = getattr(item, "_fixtureinfo", None)
    return [
        definition for definitions in (info.name2fixturedefs.values() if info else ()) for definition in definitions
    ]


@pytest.fixture
def browser(connected: Browser) -> Iterator[Browser]:
    """The shared connection to Chromium; the browser contexts a test opens are closed after it."""
    before = set(connected.contexts)
    with _running(connected):
        try:
            yield connected
        finally:
            for context in connected.contexts:
                if context not in before:
                    context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) and a page in it."""
    context = browser.new_context(locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()
