"""One bot per database: a second `haveyoursay run` refuses to start; a crash leaves nothing stuck."""

from __future__ import annotations

from pathlib import Path

from tests.e2e_support import DATA, BotProcess, Resident
from tests.fake_telegram import FakeTelegram


def test_a_second_bot_on_the_same_database_refuses_to_start(
    bot: BotProcess, fake: FakeTelegram, resident: Resident, tmp_path: Path
) -> None:
    bot.start()

    second = bot.command("run")

    assert second.returncode != 0
    assert "already using the database" in second.stderr
    assert str(bot.database) in second.stderr
    assert len(fake.calls_to("getMe")) == 1, "the second process never reached Telegram"
    # The commands an officer uses beside the running bot still work.
    assert bot.command("check", str(DATA / "closed.yaml")).returncode == 0
    bot.import_consultations(DATA / "closed.yaml")
    exported = bot.command("export", "old-pharmacy-hours", "-o", str(tmp_path / "out.csv"))
    assert exported.returncode == 0, exported.stderr
    assert resident.say("/start", expect="privacy")

    bot.kill()  # a crash: the lock goes with the process
    bot.start()
    assert resident.say("/help")
