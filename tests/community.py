"""Residents in several languages and an officer, for the end-to-end tests of officers' tools.

Labels are taken from the bot's own catalogs, so that a Welsh or Polish resident taps
exactly what they are shown.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from conversations.deployment import load_deployment
from conversations.i18n import Catalogs, Translator
from tests.e2e_support import DATA, Resident
from tests.fake_telegram import BotMessage, FakeTelegram


@cache
def catalogs() -> Catalogs:
    return Catalogs.load()


def translator(language: str) -> Translator:
    return catalogs().translator(language)


def plain(html_text: str) -> str:
    """A message of the bot's catalog as the resident sees it (entities parsed, tags gone)."""
    text = re.sub(r"</?[a-z]+>", "", html_text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def join(
    fake: FakeTelegram,
    name: str,
    language_code: str,
    *,
    postcode: str | None = None,
    topics: tuple[str, ...] = (),
) -> Resident:
    """A new resident acknowledges the privacy notice, gives an area (or skips) and interests."""
    resident = Resident(fake, fake.add_user(name, language_code=language_code))
    language = catalogs().resolve(None, language_code)
    t = translator(language)
    deployment = load_deployment(DATA / "deployment.yaml")
    resident.say("/start", expect=t._("I understand"))
    resident.tap(t._("I understand"), expect=t._("Skip"))
    if postcode is None:
        resident.tap(t._("Skip"), expect=t._("Done"))
    else:
        resident.say(postcode, expect=t._("Done"))
    for topic_id in topics:
        topic = deployment.topic(topic_id)
        assert topic is not None
        name_shown = deployment.text(topic.name, language)
        resident.tap("⬜ " + name_shown, expect="✅ " + name_shown)
    done = resident.tap(t._("Done"), expect=plain(t._("You're all set. Use the menu below at any time.")))
    resident.then(done)  # the open consultations follow
    return resident


def turn_notices_off(resident: Resident) -> None:
    resident.say("/settings", expect="Turn notices off")
    resident.tap("Turn notices off", expect="Turn notices on")


def open_for_years(example: Path, folder: Path) -> Path:
    """A copy of a consultation file open from 2020 to 2099, so tests do not age."""
    return with_dates(example, folder, opens="2020-01-01T09:00:00Z", closes="2099-12-31T23:59:00Z")


def with_dates(example: Path, folder: Path, *, opens: str, closes: str, areas: str | None = None) -> Path:
    text = example.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^opens: .*$", f"opens: {opens}", text)
    text = re.sub(r"(?m)^closes: .*$", f"closes: {closes}", text)
    if areas is not None:
        text = re.sub(r"(?m)^areas: .*$", f"areas: {areas}", text)
    copy = folder / example.name
    copy.write_text(text, encoding="utf-8")
    return copy


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def texts(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [m.text for m in fake.messages(chat_id)]


def containing(fake: FakeTelegram, chat_id: int, fragment: str) -> list[BotMessage]:
    return [m for m in fake.messages(chat_id) if fragment in m.text]
