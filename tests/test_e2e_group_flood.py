"""End to end: a flood of commands in a group draws a few replies, no 429s, and a short log."""

from __future__ import annotations

from tests.e2e_support import BotProcess
from tests.fake_telegram import FakeTelegram, RateLimits


def test_three_hundred_starts_in_a_group_get_a_few_replies_and_no_429(bot: BotProcess, fake: FakeTelegram) -> None:
    fake.set_rate_limits(RateLimits())  # Telegram's: 20 a minute in a group, 1 a second in a private chat
    bot.start()
    group = fake.add_group("Sittingbourne neighbours")
    people = [fake.add_user(f"Neighbour {n}") for n in range(5)]
    log_before = len(bot.log())
    for n in range(300):
        fake.send_text(people[n % len(people)], "/start", chat_id=group)
    fake.wait_until_idle(timeout=60)

    replies = fake.messages(group)
    assert 1 <= len(replies) <= 5, len(replies)
    assert "private chat" in replies[0].text
    assert fake.rate_limited == [], "no 429 was drawn from Telegram"
    grown = bot.log()[log_before:]
    assert "Traceback" not in grown
    assert len(grown) < 5_000, grown[:2_000]


def test_an_expected_429_is_logged_as_one_line_and_a_short_one_is_waited_out(
    bot: BotProcess, fake: FakeTelegram
) -> None:
    bot.start()
    # A short flood wait (the bot as a whole at Telegram's rate, during a broadcast): the reply
    # goes once the wait is over, and the log says so in one line.
    ada = fake.add_user("Ada", language_code="en")
    fake.fail_next("sendMessage", chat_id=ada.id, error_code=429, retry_after=1)
    fake.send_text(ada, "/start")
    assert "privacy" in fake.wait_for_message(ada.id).text.lower(), "the answer to /start, after the wait"
    # A long one is not waited: one line, and no apology that would draw another 429.
    amina = fake.add_user("Amina", language_code="en")
    fake.fail_next("sendMessage", chat_id=amina.id, error_code=429, retry_after=60)
    fake.send_text(amina, "/start")
    # One chat's updates are handled in order, error handling included: the answer to /help
    # means the 429 has been dealt with.
    mark = fake.mark(amina.id)
    fake.send_text(amina, "/help")
    fake.wait_for_message(amina.id, since=mark)
    assert not [m for m in fake.messages(amina.id) if "Sorry" in m.text], "no apology that would draw another 429"
    log = bot.log()
    assert "Traceback" not in log
    flood = [line for line in log.splitlines() if "RetryAfter" in line or "retry after" in line.lower()]
    assert len(flood) == 2, log
    assert "waiting once before a reply" in flood[0] and "a reply was not sent" in flood[1], log
