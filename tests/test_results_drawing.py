"""The chat's /results chart is drawn off the event loop: residents are answered while it draws."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from conversations import onboarding, results
from conversations.services import Services, begin_visit
from tests.offline import offline_services
from tests.test_results import EXAMPLE, FULL, NOW, OFFICER, known_data_set, officer, respond

RESIDENT = 700_000_777
# How long the drawing waits for the resident's answer before it gives up (only ever reached when the
# drawing holds the event loop, so that the answer cannot come: the test then fails, it does not hang).
GIVE_UP_SECONDS = 10


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    async with offline_services(tmp_path / "drawing.db", NOW, EXAMPLE, admins=frozenset({OFFICER})) as found:
        yield found


async def test_a_residents_start_is_answered_while_results_draws_its_chart(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    await known_data_set(services)
    begun, answered = asyncio.Event(), threading.Event()
    loop = asyncio.get_running_loop()
    drawing: list[tuple[bool, bool]] = []  # (the resident was answered meanwhile, drawn on the event loop's thread)
    loop_thread = threading.get_ident()
    draw = results.draw_chart

    def draw_once_the_resident_is_answered(title: str, panels: Sequence[results.ChartPanel]) -> bytes:
        loop.call_soon_threadsafe(begun.set)  # the resident writes once the drawing has begun
        drawing.append((answered.wait(GIVE_UP_SECONDS), threading.get_ident() == loop_thread))
        return draw(title, panels)

    monkeypatch.setattr(results, "draw_chart", draw_once_the_resident_is_answered)
    shown = asyncio.create_task(results.results(await officer(services), "gp-opening-hours"))
    try:
        await begun.wait()
        welcome = await onboarding.start(await begin_visit(services, RESIDENT, "en"), None)
    finally:
        answered.set()
    found = await shown
    assert "privacy" in welcome.screens[0].text
    assert drawing == [(True, False)]
    assert found is not None and found.chart is not None and found.chart.startswith(b"\x89PNG")


async def test_the_chart_has_a_panel_per_charted_question_with_protected_counts_in_words(services: Services) -> None:
    await known_data_set(services)
    await respond(services, RESIDENT, {**FULL, "home_area": "faversham"}, area="faversham")
    visit = await officer(services)
    loaded = await services.consultations.current("gp-opening-hours")
    assert loaded is not None
    tally = await services.db.results.tally("gp-opening-hours", results.written_ids(loaded.model))
    panels = results.chart_panels(visit.t, loaded.model, tally, services.deployment.areas)
    assert [panel.title.split(".")[0] for panel in panels] == ["1", "2", "3", "5", "7"]
    assert panels[0].labels == ("In the last week", "In the last month", "Longer ago")
    assert panels[0].counts == (7, 2, 0)
    # The area question counts people by where they live: the one in Faversham has no bar, only words.
    area = panels[-1]
    faversham = area.labels.index("Faversham")
    assert area.counts[faversham] == 0 and (faversham, "fewer than 5") in area.notes
    chart = await results.chart_png(visit.t, loaded.model, tally, services.deployment.areas, "A &amp; B")
    assert chart is not None and chart.startswith(b"\x89PNG")
