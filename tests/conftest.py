"""Shared fixtures: the fake Bot API server and the real bot process."""

from __future__ import annotations

import asyncio
import functools
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest tests first, the quickest last (each worker sorts its collection alike): see `OneAtATime`."""
    items.sort(key=_expected_length)  # stable: the order of the files within a rank


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With `--dist load` (pyproject.toml's addopts): `OneAtATime`, rather than xdist's batches of tests in a row."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class OneAtATime(LoadScopeScheduling):  # type: ignore[misc]
        """Each worker is given the next test in the collection's order whenever it has fewer than three waiting.

        With the longest tests first, no worker is left running a long test while the others have finished, as
        happened with the browser tests last in the files' order. The tests of a module with a module-scoped
        fixture go to one worker together: the fixture takes seconds to make, in each worker that uses it.
        """

        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return path if _module_scoped_fixture(config.rootpath / path) else nodeid

    return OneAtATime(config, log)


@functools.cache
def _module_scoped_fixture(source: Path) -> bool:
    return source.suffix == ".py" and source.is_file() and 'scope="module"' in source.read_text(encoding="utf-8")


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
