"""End to end: opening notices and broadcasts wait for civil hours; an officer may send now anyway, or choose a time.

The bot runs with civil hours set to a window that starts three hours from now, so that what
is sent on its own must wait.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conversations.deployment import load_deployment
from storage.clock import to_text
from tests.community import containing, join, stamp, with_dates
from tests.e2e_support import DATA, EXAMPLES, BotProcess, Resident
from tests.fake_telegram import FakeTelegram

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def start_hour() -> int:
    return (datetime.now(LONDON).hour + 3) % 24


@pytest.fixture
def deployment_file(tmp_path: Path, start_hour: int) -> Path:
    end = "24:00" if start_hour == 23 else f"{start_hour + 1:02d}:00"
    path = tmp_path / "civil.yaml"
    text = (DATA / "deployment.yaml").read_text(encoding="utf-8")
    path.write_text(text + f"\ncivil_hours: '{start_hour:02d}:00-{end}'\n", encoding="utf-8")
    return path


@pytest.fixture
def officer_bot(fake: FakeTelegram, admin: Resident, tmp_path: Path, deployment_file: Path) -> Iterator[BotProcess]:
    process = BotProcess(fake, tmp_path, HAVEYOURSAY_ADMINS=str(admin.chat_id), HAVEYOURSAY_CONFIG=str(deployment_file))
    try:
        yield process
    finally:
        process.stop()


def write_broadcast(admin: Resident, text: str) -> None:
    admin.say("/broadcast", expect="Send me the notice, in English.")
    admin.say(text, expect="The notice is ready in: English.")
    admin.tap("No more languages", expect="Add a “Take part” button for a consultation?")
    admin.tap("No button", expect="Who should receive it?")


def test_notices_and_broadcasts_wait_for_civil_hours_unless_sent_now_anyway(
    officer_bot: BotProcess,
    fake: FakeTelegram,
    admin: Resident,
    tmp_path: Path,
    deployment_file: Path,
    start_hour: int,
) -> None:
    officer_bot.start()
    gwen = join(fake, "Gwen", "cy-GB", postcode="ME10 1AB")
    tom = join(fake, "Tom", "en", postcode="ME12 1AA")
    officer_bot.kill()
    opened = datetime.now(UTC) - timedelta(minutes=10)
    officer_bot.import_consultations(
        with_dates(
            EXAMPLES / "home-care-changes.yaml",
            tmp_path,
            opens=stamp(opened),
            closes="2099-12-31T23:59:00Z",
            areas="[sittingbourne]",
        )
    )
    officer_bot.start()  # the consultation is found open at start-up, and its notice queued
    morning = load_deployment(deployment_file).next_civil_time(datetime.now(UTC))
    assert morning > datetime.now(UTC) + timedelta(hours=1)
    assert officer_bot.query("SELECT chat_id, state, not_before FROM deliveries WHERE kind = 'notice'") == [
        (gwen.chat_id, "waiting", to_text(morning))
    ], "the opening notice waits for civil hours"

    # A broadcast waits too; the preview says when it will go, in the deployment's time zone.
    write_broadcast(admin, "Clinic moved to Milton Road")
    confirm = admin.tap("Everyone", expect="This notice will go to 2 residents.")
    local = morning.astimezone(LONDON)
    assert f"so it will go on {local.day} " in confirm.text
    assert f"at {start_hour:02d}:00 (Europe/London time)." in confirm.text
    assert confirm.labels == ["Send", "Send now anyway (urgent)", "Send at…", "Cancel"]
    admin.tap("Send", expect="It will go to 2 residents on")
    assert officer_bot.query("SELECT DISTINCT state, not_before FROM deliveries WHERE broadcast_id = 1") == [
        ("waiting", to_text(morning))
    ]

    # An urgent one goes at once, and the audit says it was sent outside civil hours.
    write_broadcast(admin, "Water is off at the Milton Road clinic today")
    admin.tap("Everyone", expect="This notice will go to 2 residents.")
    admin.tap("Send now anyway (urgent)", expect="Sending to 2 residents.")
    fake.wait_for_message(tom.chat_id, predicate=lambda m: "Water is off" in m.text)
    fake.wait_for_message(gwen.chat_id, predicate=lambda m: "Water is off" in m.text)
    audit = admin.say("/audit", expect="Recent officer actions")
    assert "send now anyway · #2, outside civil hours" in audit.text

    # Send at…: a time typed in the deployment's time zone.
    write_broadcast(admin, "Flu clinic on Saturday")
    admin.tap("Everyone", expect="This notice will go to 2 residents.")
    admin.tap("Send at…", expect="When should it go?")
    day = (local + timedelta(days=1)).date()
    chosen = admin.say(f"{day.isoformat()} {start_hour:02d}:30", expect="This notice will go to 2 residents.")
    assert f"It will go on {day.day} " in chosen.text and f"at {start_hour:02d}:30 (Europe/London time)." in chosen.text
    admin.tap("Send", expect="It will go to 2 residents on")
    at = datetime(day.year, day.month, day.day, start_hour, 30, tzinfo=LONDON)
    assert officer_bot.query("SELECT DISTINCT state, not_before FROM deliveries WHERE broadcast_id = 3") == [
        ("waiting", to_text(at))
    ]

    fake.wait_until_idle()
    for resident in (gwen, tom):
        assert not containing(fake, resident.chat_id, "Milton Road</b>")
        assert not containing(fake, resident.chat_id, "Clinic moved")
        assert not containing(fake, resident.chat_id, "Flu clinic")
    assert not containing(fake, gwen.chat_id, "Newidiadau i ofal cartref")
    assert "Traceback" not in officer_bot.log()
