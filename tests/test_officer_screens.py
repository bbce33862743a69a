"""Officer screens on a real SQLite file, without Telegram: /addofficer, the audit log, language names."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot import routing
from conversations import broadcasting, officers
from conversations.screens import Reply
from conversations.services import Services, Visit, begin_visit
from tests.offline import GP_HOURS, offline_services

ADMIN = 555_000_001
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def services(database_target: str) -> AsyncIterator[Services]:
    async with offline_services(database_target, NOW, GP_HOURS, admins=frozenset({ADMIN})) as found:
        yield found


async def admin(services: Services) -> Visit:
    return await begin_visit(services, ADMIN, "en")


async def said(services: Services, argument: str) -> str:
    return (await officers.add_officer(await admin(services), argument)).screens[0].text


async def test_addofficer_refuses_ids_that_cannot_be_people_and_says_who_already_is(services: Services) -> None:
    refreshed: list[int] = []

    async def refresh(user_id: int) -> None:
        refreshed.append(user_id)

    services.refresh_menu = refresh
    assert await said(services, "-1001234567890") == (
        "-1001234567890 is the id of a group or channel, not of a person. Officers are people."
    )
    cannot = "cannot be a Telegram user id. They can find theirs by sending /myid to this bot."
    assert await said(services, "0") == f"0 {cannot}"
    assert await said(services, str(2**52)) == f"{2**52} {cannot}"
    assert await said(services, str(2**64)) == f"{2**64} {cannot}"
    assert await services.db.officers.all() == [], "nothing stored for any of them"

    assert await said(services, "700000123") == "700000123 is now an officer."
    assert refreshed == [700_000_123], "their menu now shows the officer commands"
    assert await said(services, "700000123") == "700000123 is already an officer."
    assert await said(services, str(ADMIN)) == f"{ADMIN} is already an admin."
    entries = await services.db.officers.audit_entries()
    assert [(e.action, e.detail) for e in entries] == [("add officer", "700000123")], "added once, audited once"

    removed = await officers.remove_officer(await admin(services), "-5")
    assert "not of a person" in removed.screens[0].text
    await officers.remove_officer(await admin(services), "700000123")
    assert refreshed == [700_000_123, 700_000_123], "and back to everyone's menu when removed"


async def test_the_audit_names_a_broadcasts_audience_in_words(services: Services) -> None:
    await services.db.residents.acknowledge(700_000_500, "cy", NOW, None)
    await services.db.residents.set_area(700_000_500, "sheerness", None)
    visit = await admin(services)
    await broadcasting.start(visit)
    draft = await broadcasting.draft_of(visit)
    assert draft is not None
    await broadcasting.typed(visit, draft, "Road closed on Friday")
    for verb, argument in [
        ("nolang", None),
        ("nobutton", None),
        ("areas", None),
        ("toggle", "sittingbourne"),
        ("toggle", "sheerness"),
        ("chosen", None),
    ]:
        await broadcasting.tapped(visit, verb, argument)
    await broadcasting.send(visit)
    audit = (await officers.audit_log(visit)).screens[0].text
    assert "broadcast · #1 to 1 residents (areas: Sittingbourne, Sheerness and Sheppey)" in audit
    assert "[" not in audit and "'" not in audit

    await broadcasting.start(visit)
    draft = await broadcasting.draft_of(visit)
    assert draft is not None
    await broadcasting.typed(visit, draft, "Pharmacy hours")
    for verb, argument in [("nolang", None), ("nobutton", None), ("language", None), ("in", "cy")]:
        await broadcasting.tapped(visit, verb, argument)
    await broadcasting.send(visit)
    audit = (await officers.audit_log(visit)).screens[0].text
    assert "#2 to 1 residents (language: Welsh (Cymraeg))" in audit


async def test_language_names_on_officer_screens_are_in_the_officers_language_too(services: Services) -> None:
    visit = await admin(services)
    await broadcasting.start(visit)
    draft = await broadcasting.draft_of(visit)
    assert draft is not None
    more = (await broadcasting.typed(visit, draft, "Hello")).screens[0]
    labels = [button.label for row in more.buttons for button in row]
    assert "Urdu (اردو)" in labels and "Welsh (Cymraeg)" in labels and "Polish (Polski)" in labels
    welsh = services.catalogs.translator("cy")
    assert welsh.language_label("cy") == "Cymraeg", "a language is not named twice in itself"
    assert welsh.language_label("en") == "Saesneg (English)"


async def test_export_honours_the_format_and_the_consultation_it_is_given(services: Services) -> None:
    visit = await admin(services)

    def verbs(reply: Reply) -> set[str]:
        return {
            (button.data or "").split(":")[1] for screen in reply.screens for row in screen.buttons for button in row
        }

    assert verbs(await routing.export_responses(visit, None)) == {"csv"}
    assert verbs(await routing.export_responses(visit, "xlsx")) == {"xlsx"}
    assert verbs(await routing.export_responses(visit, "CSV")) == {"csv"}
    direct = await routing.export_responses(visit, "gp-opening-hours xlsx")
    assert [a.filename for a in direct.attachments] == ["gp-opening-hours.xlsx"]
    assert direct.attachments[0].content.startswith(b"PK"), "a real workbook"
    plain = await routing.export_responses(visit, "GP-Opening-Hours")
    assert [a.filename for a in plain.attachments] == ["gp-opening-hours.csv"]
    unknown = await routing.export_responses(visit, "no-such-thing pdf")
    assert "Send /export csv or /export xlsx" in unknown.screens[0].text and not unknown.attachments
