"""One rule for when the bot sends on its own: within the deployment's civil hours, in its time zone."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from conversations import broadcasting
from conversations.deployment import Deployment, load_deployment
from conversations.services import begin_visit
from tests.offline import offline_services

NINE_TO_EIGHT = Deployment()  # Europe/London, 09:00-20:00


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2027, 1, 15, 5, 30, tzinfo=UTC), datetime(2027, 1, 15, 9, 0, tzinfo=UTC)),  # GMT
        (datetime(2027, 1, 15, 12, 0, tzinfo=UTC), datetime(2027, 1, 15, 12, 0, tzinfo=UTC)),
        (datetime(2027, 1, 15, 20, 0, tzinfo=UTC), datetime(2027, 1, 16, 9, 0, tzinfo=UTC)),
        (datetime(2027, 6, 15, 5, 30, tzinfo=UTC), datetime(2027, 6, 15, 8, 0, tzinfo=UTC)),  # BST: 09:00 is 08:00Z
        (datetime(2027, 3, 27, 22, 0, tzinfo=UTC), datetime(2027, 3, 28, 8, 0, tzinfo=UTC)),  # over the clock change
    ],
)
def test_the_next_civil_time_is_now_within_civil_hours_or_the_next_morning(
    moment: datetime, expected: datetime
) -> None:
    assert NINE_TO_EIGHT.next_civil_time(moment) == expected
    assert NINE_TO_EIGHT.in_civil_hours(moment) is (moment == expected)


def test_civil_hours_may_run_to_midnight(tmp_path: Path) -> None:
    path = tmp_path / "deployment.yaml"
    path.write_text("civil_hours: '00:00-24:00'\n", encoding="utf-8")
    deployment = load_deployment(path)
    assert deployment.civil_hours == (time(0), time.max)
    for hour in (0, 5, 23):
        assert deployment.in_civil_hours(datetime(2027, 1, 15, hour, 59, 59, tzinfo=UTC))


async def test_a_broadcast_written_at_half_past_five_says_it_will_go_at_nine(database_target: str) -> None:
    early = datetime(2026, 11, 26, 5, 30, tzinfo=UTC)
    async with offline_services(database_target, early, admins=frozenset({42})) as services:
        await services.db.residents.acknowledge(7, "en", early, None)
        visit = await begin_visit(services, 42, "en")
        await broadcasting.start(visit)
        draft = await broadcasting.draft_of(visit)
        assert draft is not None
        await broadcasting.typed(visit, draft, "Road closed on Friday")
        await broadcasting.tapped(visit, "nolang", None)
        await broadcasting.tapped(visit, "nobutton", None)
        confirm = (await broadcasting.tapped(visit, "everyone", None)).screens[-1]
        assert "so it will go on 26 November 2026 at 09:00 (Europe/London time)." in confirm.text
        sent = await broadcasting.tapped(visit, "send", None)
        assert sent.screens[0].text.startswith("It will go to 1 resident on 26 November 2026 at 09:00")
        rows = await services.db.connection.execute_fetchall("SELECT not_before, civil_only FROM deliveries")
        assert list(rows) == [("2026-11-26T09:00:00+00:00", 1)]
        progress = (await broadcasting.progress(visit)).screens[0].text
        assert "waiting 1" in progress and "It will go on 26 November 2026 at 09:00 (Europe/London time)." in progress


async def test_send_at_takes_a_typed_time_in_the_deployments_time_zone(database_target: str) -> None:
    evening = datetime(2026, 11, 26, 19, 0, tzinfo=UTC)  # 19:00 in London: civil hours
    async with offline_services(database_target, evening, admins=frozenset({42})) as services:
        await services.db.residents.acknowledge(7, "en", evening, None)
        visit = await begin_visit(services, 42, "en")
        await broadcasting.start(visit)
        draft = await broadcasting.draft_of(visit)
        assert draft is not None
        await broadcasting.typed(visit, draft, "Road closed on Friday")
        for verb in ("nolang", "nobutton", "everyone"):
            await broadcasting.tapped(visit, verb, None)
        when = (await broadcasting.tapped(visit, "when", None)).screens[0]
        assert when.text.startswith("When should it go?")
        assert [b.label for row in when.buttons for b in row][:2] == [
            "27 November 2026, 09:00",
            "27 November 2026, 12:00",
        ]
        for typed, answer in (
            ("tomorrow", "Sorry, I could not read that date and time."),
            ("2026-11-25 10:00", "That time has passed."),
        ):
            draft = await broadcasting.draft_of(visit)
            assert draft is not None
            assert (await broadcasting.typed(visit, draft, typed)).screens[0].text.startswith(answer)
        draft = await broadcasting.draft_of(visit)
        assert draft is not None
        confirm = (await broadcasting.typed(visit, draft, "8:15")).screens[-1]  # passed today: tomorrow
        assert "It will go on 27 November 2026 at 09:00 (Europe/London time)." in confirm.text, "08:15: not civil"
        assert [b.label for row in confirm.buttons for b in row] == ["Send", "Send at…", "Cancel"]
