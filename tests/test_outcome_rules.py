"""One rule for publishing an outcome: the chat's /outcome and the workspace's outcome page store the
same rows and queue the same deliveries, for the original and for a correction (on real SQLite)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from conversations import onboarding, outcomes
from conversations.services import Services, begin_visit
from tests.offline import GP_HOURS, offline_services

NOW = datetime(2027, 2, 10, 12, 0, tzinfo=UTC)  # after it closed
OFFICER = 5001
PEOPLE = {7001: "en", 7002: "cy", 7003: "pl"}
TOLD = "Most of you want Saturday mornings."
TOLD_CY = "Mae'r rhan fwyaf ohonoch eisiau boreau Sadwrn."
CORRECTED = "Most of you want Saturday mornings and weekday evenings."


async def took_part(services: Services) -> None:
    for chat_id, language in PEOPLE.items():
        await onboarding.acknowledge(await begin_visit(services, chat_id, language), language, None)
        await services.db.connection.execute(
            "INSERT INTO participation(chat_id, consultation_id, started_at, submitted_at)"
            " VALUES (?, 'gp-opening-hours', '2026-12-01T10:00:00+00:00', '2026-12-01T10:05:00+00:00')",
            (chat_id,),
        )


async def stored(services: Services) -> dict[str, list[Any]]:
    db = services.db.connection
    return {
        "versions": list(
            await db.execute_fetchall(
                "SELECT consultation_id, kind, version, texts, published_at, published_by FROM outcome_versions"
                " ORDER BY kind, version"
            )
        ),
        "outcomes": list(await db.execute_fetchall("SELECT * FROM outcomes")),
        "deliveries": list(
            await db.execute_fetchall(
                "SELECT chat_id, kind, priority, text, buttons, dedupe_key, state FROM deliveries"
                " WHERE kind = 'outcome' ORDER BY dedupe_key"
            )
        ),
        "audit": list(
            await db.execute_fetchall(
                "SELECT actor_id, action, detail FROM audit_log WHERE action LIKE '%outcome' ORDER BY id"
            )
        ),
    }


async def all_sent(services: Services) -> None:
    await services.db.connection.execute("UPDATE deliveries SET state = 'sent' WHERE kind = 'outcome'")


async def through_the_chat(services: Services) -> None:
    visit = await begin_visit(services, OFFICER, "en")
    await outcomes.tapped(visit, "pick", "gp-opening-hours")
    await outcomes.tapped(visit, "kind", outcomes.TOLD_US)
    await outcomes.typed(visit, TOLD)
    await outcomes.tapped(visit, "lang", "cy")
    await outcomes.typed(visit, TOLD_CY)
    done = await outcomes.tapped(visit, "publish", None)
    assert "Published. Sending to 3 people." in done.screens[0].text
    await all_sent(services)
    await outcomes.tapped(visit, "pick", "gp-opening-hours")
    await outcomes.tapped(visit, "kind", outcomes.TOLD_US)
    await outcomes.typed(visit, CORRECTED)
    done = await outcomes.tapped(visit, "publish", None)
    assert "Correction published. Sending to 2 people." in done.screens[0].text


async def through_the_page(services: Services) -> None:
    """What the page does: the count first, then publishing with the version the officer saw."""
    texts = {"en": TOLD, "cy": TOLD_CY, "ar": "  "}  # an empty box is a language left out
    assert len((await outcomes.pending_recipients(services, "gp-opening-hours", outcomes.TOLD_US, texts)).everyone) == 3
    done = await outcomes.publish_outcome(
        services, "gp-opening-hours", outcomes.TOLD_US, texts, OFFICER, NOW, correcting=None
    )
    assert done == outcomes.Publishing(outcomes.Outcome.PUBLISHED, 3)
    await all_sent(services)
    corrected = {"en": CORRECTED, "cy": TOLD_CY}
    pending = await outcomes.pending_recipients(services, "gp-opening-hours", outcomes.TOLD_US, corrected)
    assert pending.correction and sorted(chat for chat, _ in pending.everyone) == [7001, 7003], "Welsh unchanged"
    # Publishing against an old version sends nothing: someone else corrected it meanwhile.
    stale = await outcomes.publish_outcome(
        services, "gp-opening-hours", outcomes.TOLD_US, corrected, OFFICER, NOW, correcting=None
    )
    assert stale.outcome is outcomes.Outcome.MEANWHILE
    same = await outcomes.publish_outcome(
        services, "gp-opening-hours", outcomes.TOLD_US, {"en": TOLD, "cy": TOLD_CY}, OFFICER, NOW, correcting=1
    )
    assert same.outcome is outcomes.Outcome.UNCHANGED
    done = await outcomes.publish_outcome(
        services, "gp-opening-hours", outcomes.TOLD_US, corrected, OFFICER, NOW, correcting=1
    )
    assert done == outcomes.Publishing(outcomes.Outcome.CORRECTED, 2)


async def test_the_page_and_the_chat_publish_and_correct_alike(database_target: str, another_target: str) -> None:
    async with offline_services(database_target, NOW, GP_HOURS) as services:
        await took_part(services)
        await through_the_chat(services)
        by_chat = await stored(services)
    async with offline_services(another_target, NOW, GP_HOURS) as services:
        await took_part(services)
        await through_the_page(services)
        by_page = await stored(services)
        versions = await services.db.outcomes.versions("gp-opening-hours", outcomes.TOLD_US)
    assert by_page == by_chat
    assert len(by_chat["deliveries"]) == 5 and len(by_chat["versions"]) == 2
    assert [(v.version, v.published_by, v.texts["en"]) for v in versions] == [
        (1, OFFICER, TOLD),
        (2, OFFICER, CORRECTED),
    ]


async def test_the_page_writes_the_consultations_own_language_first_and_needs_it(database_target: str) -> None:
    async with offline_services(database_target, NOW, GP_HOURS) as services:
        loaded = await services.consultations.current("gp-opening-hours")
        assert loaded is not None
        c = loaded.model
        assert outcomes.outcome_languages(services, c)[:2] == ["en", "cy"]
        assert outcomes.outcome_languages(services, c, {"pl": "Tak"})[-1] == "pl"
        t = services.catalogs.translator("en")
        assert [code for code, _ in outcomes.text_problems(t, c, {"en": " ", "cy": TOLD_CY})] == ["en"]
        assert [code for code, _ in outcomes.text_problems(t, c, {"en": TOLD, "cy": "x" * 5000})] == ["cy"]
        assert outcomes.text_problems(t, c, {"en": TOLD, "cy": ""}) == []
