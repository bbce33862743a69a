"""Replays and floods are stopped before any conversation sees them."""

from __future__ import annotations

from bot.guards import Door, FloodGuard, ReplayGuard, Verdict
from tests.e2e_support import BotProcess, Resident
from tests.fake_telegram import FakeTelegram


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_same_update_twice_or_an_older_one_is_dropped() -> None:
    guard = ReplayGuard()
    assert guard.is_new(7, 100)
    assert not guard.is_new(7, 100), "the same update again"
    assert not guard.is_new(7, 99), "an older update after a newer one"
    assert guard.is_new(8, 99), "another chat has its own order"
    assert guard.is_new(7, 101)


def test_a_flood_gets_one_notice_then_silence_and_recovers_after_the_window() -> None:
    clock = Clock()
    guard = FloodGuard(limit=20, window=60.0, clock=clock)
    verdicts = [guard.check(7) for _ in range(25)]
    assert verdicts[:20] == [Verdict.ALLOW] * 20
    assert verdicts[20:] == [Verdict.SLOW_DOWN] + [Verdict.DROP] * 4
    assert guard.check(8) is Verdict.ALLOW, "other residents are not affected"
    clock.now += 60.0
    assert guard.check(7) is Verdict.ALLOW


def test_the_door_drops_replays_everywhere_and_limits_typing_more_than_tapping() -> None:
    door = Door(clock=Clock())
    assert door.verdict(-100, False, 1, tap=False) is Verdict.ALLOW, "a group's message"
    assert door.verdict(-100, False, 1, tap=False) is None, "the same group update again"
    typed = [door.verdict(7, True, n, tap=False) for n in range(1, 22)]
    assert typed[:20] == [Verdict.ALLOW] * 20 and typed[20] is Verdict.SLOW_DOWN
    taps = [door.verdict(8, True, n, tap=True) for n in range(1, 92)]
    assert taps[:90] == [Verdict.ALLOW] * 90 and taps[90] is Verdict.SLOW_DOWN


def test_a_group_gets_a_few_replies_a_minute_then_none_until_the_minute_has_passed() -> None:
    clock = Clock()
    door = Door(clock=clock)
    replies = [door.group_reply(-100) for _ in range(8)]
    assert replies[:5] == [Verdict.ALLOW] * 5
    assert replies[5:] == [Verdict.SLOW_DOWN, Verdict.DROP, Verdict.DROP], "SLOW_DOWN only marks the first refusal"
    assert door.group_reply(-200) is Verdict.ALLOW, "each group has its own budget"
    clock.now += 60.0
    assert door.group_reply(-100) is Verdict.ALLOW


def test_a_flooding_resident_is_told_once_and_nothing_of_the_flood_is_stored(
    bot: BotProcess, fake: FakeTelegram, resident: Resident
) -> None:
    bot.start()
    resident.say("/start", expect="Your privacy")
    resident.tap("I understand", expect="Which area do you live in?")
    neighbour = Resident(fake, fake.add_user("Tom"))
    for n in range(24):
        fake.send_text(resident.user, f"flood {n}")
    fake.send_text(resident.user, "Faversham")
    neighbour.say("/start", expect="Your privacy")
    fake.wait_until_idle()
    texts = [m.text for m in fake.messages(resident.chat_id)]
    assert texts.count("You are sending messages very quickly. Please wait a minute, then try again.") == 1
    assert sum("I don't know that area" in text for text in texts) == 19, "the 20th message was the last one read"
    assert bot.query("SELECT area_id FROM residents WHERE chat_id = ?", resident.chat_id) == [(None,)]
