"""End to end, two `haveyoursay run` workers at the same time on one PostgreSQL database (issue 16).

Both run in the several-workers mode (HAVEYOURSAY_WORKERS=several), in webhook mode, each on a port
of its own. The test stands for the load balancer: each update the fake Bot API makes (a resident
typing or tapping) is posted to one worker's webhook, alternating between the two, so that one
resident's updates go to both workers. Waits are on the fake's conditions, never on sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storage.deliveries import FINAL_STATES
from tests.e2e_support import EXAMPLES, BotProcess, free_port, haveyoursay
from tests.fake_telegram import BotMessage, FakeTelegram, FakeUser, RateLimits
from tests.test_e2e_delivery import SHOWN, broadcast_states, seed_broadcast, started_user
from tests.test_e2e_resident import open_for_years
from tests.test_e2e_webhook import SECRET, post, wait_until_listening

pytestmark = pytest.mark.postgresql

ANSWERS = {
    "last_visit": "week",
    "good_times": ["early"],
    "rating": 2,
    "why_hard": "The phone line is always busy",
    "online": "yes",
    "travel_minutes": 15,
    "home_area": "sheerness",
}


class Worker:
    """One `haveyoursay run` worker: its own directory, log and webhook port; the shared database."""

    def __init__(self, fake: FakeTelegram, workdir: Path, database_url: str, **extra_env: str) -> None:
        workdir.mkdir()
        self.port = free_port()
        self.bot = BotProcess(
            fake,
            workdir,
            database_url=database_url,
            HAVEYOURSAY_WEBHOOK_URL="https://bot.example.org/telegram",
            HAVEYOURSAY_WEBHOOK_LISTEN=f"127.0.0.1:{self.port}",
            HAVEYOURSAY_WEBHOOK_SECRET=SECRET,
            HAVEYOURSAY_WEB="off",
            HAVEYOURSAY_WORKERS="several",
            **extra_env,
        )

    def start(self) -> None:
        log = self.bot.log_path.open("ab")
        self.bot.process = subprocess.Popen(
            [haveyoursay(), "run"], env=self.bot.env, cwd=self.bot.workdir, stdout=log, stderr=log
        )

    @property
    def pid(self) -> int | None:
        return self.bot.process.pid if self.bot.process is not None else None


class Balancer:
    """Posts each update to the next worker, in turn, as a load balancer would."""

    def __init__(self, fake: FakeTelegram, ports: list[int]) -> None:
        self.fake = fake
        self.ports = ports
        self.turn = 0
        self.lock = threading.Lock()
        self.posted: dict[int, int] = {}  # update_id -> the port it went to

    def deliver(self, update_id: int, port: int | None = None) -> None:
        """Post the update to `port`, or to the next worker in turn."""
        [update] = [u for u in self.fake.pending_updates if u["update_id"] == update_id]
        with self.lock:
            if port is None:
                port = self.ports[self.turn % len(self.ports)]
                self.turn += 1
            self.posted[update_id] = port
        assert post(port, update, secret=SECRET) == 200

    def replay(self, update_id: int) -> None:
        """The same update again, to another worker than the first time (as after a timeout)."""
        [update] = [u for u in self.fake.pending_updates if u["update_id"] == update_id]
        [port] = [p for p in self.ports if p != self.posted[update_id]][:1]
        assert post(port, update, secret=SECRET) == 200


class WebhookResident:
    """A resident whose every update goes through the balancer; each waits for the bot's answer."""

    def __init__(self, fake: FakeTelegram, balancer: Balancer, user: FakeUser) -> None:
        self.fake = fake
        self.balancer = balancer
        self.user = user
        self.updates: list[int] = []

    def say(self, text: str, expect: str, port: int | None = None) -> BotMessage:
        """Type `text` (posted to worker `port`, or the next in turn); the bot's answer containing `expect`."""
        mark = self.fake.mark(self.user.id)
        self._deliver(self.fake.send_text(self.user, text), port)
        return self._wait(mark, expect)

    def tap(self, label: str, expect: str, on: BotMessage | None = None, port: int | None = None) -> BotMessage:
        message = on or self._latest_with_buttons()
        mark = self.fake.mark(self.user.id)
        self._deliver(self.fake.press_button(self.user, message, label), port)
        return self._wait(mark, expect)

    def burst(self, texts: list[str], expect: str) -> BotMessage:
        """Several messages typed at once, each posted to the next worker without waiting for an answer;
        returns the bot's answer to the last one (the `len(texts)`th message containing `expect`)."""
        mark = self.fake.mark(self.user.id)
        for turn, text in enumerate(texts):
            update_id = self.fake.send_text(self.user, text)
            self.updates.append(update_id)
            self.balancer.deliver(update_id, self.balancer.ports[turn % len(self.balancer.ports)])
        answer = self._wait(mark, expect)
        for _ in texts[1:]:
            answer = self._wait(answer.seq, expect)
        return answer

    def then(self, previous: BotMessage, expect: str) -> BotMessage:
        return self._wait(previous.seq, expect)

    def _deliver(self, update_id: int, port: int | None = None) -> None:
        self.updates.append(update_id)
        self.balancer.deliver(update_id, port)

    def _latest_with_buttons(self) -> BotMessage:
        return next(m for m in reversed(self.fake.messages(self.user.id)) if m.buttons)

    def _wait(self, mark: int, expect: str) -> BotMessage:
        return self.fake.wait_for_message(
            self.user.id,
            since=mark,
            predicate=lambda m: expect in m.text or expect in m.labels,
            timeout=20,
        )


def up_to_question_4(resident: WebhookResident) -> None:
    """From first contact to the GP consultation's fourth question, answering the first three."""
    resident.say("/start", expect="Your privacy")
    resident.tap("I understand", expect="Which area do you live in?")
    resident.tap("Skip", expect="What would you like to hear about?")
    listing = resident.then(resident.tap("Done", expect="You're all set"), expect="GP opening hours")
    resident.tap("GP opening hours", on=listing, expect="Take part")
    resident.tap("Take part", expect="Question 1 of 7")
    resident.tap("In the last week", expect="Question 2 of 7")
    resident.tap("⬜ Before 8am", expect="✅ Before 8am")
    resident.tap("Done", expect="Question 3 of 7")
    resident.tap("2", expect="Question 4 of 7")


def take_part(resident: WebhookResident) -> None:
    """From first contact to the receipt of the GP consultation's survey."""
    up_to_question_4(resident)
    # Typed quickly, one after another, and received by both workers: applied in the order typed.
    # The first answers question 4; the others reach the yes/no question 5, which asks for a tap.
    reminder = resident.burst([str(ANSWERS["why_hard"]), "And the queue", "Or so I think"], expect="Question 5 of 7")
    assert "Please answer by tapping" in reminder.text
    resident.tap("Yes", expect="Question 6 of 7")
    resident.say("15", expect="Question 7 of 7")
    resident.say("Sheerness", expect="Please check your answers")
    resident.tap("Submit", expect="We have received your answers")


@contextlib.contextmanager
def running(pair: list[Worker]) -> Iterator[list[Worker]]:
    """Both workers started at the same time, and stopped at the end."""
    try:
        for worker in pair:
            worker.start()
        for worker in pair:
            wait_until_listening(worker.port)
        yield pair
    finally:
        for worker in pair:
            worker.bot.stop()


def two_workers(fake: FakeTelegram, tmp_path: Path, postgres_url: str, **extra_env: str) -> list[Worker]:
    """Two workers on the database, migrated once before they start, as an operator does."""
    pair = [Worker(fake, tmp_path / name, postgres_url, **extra_env) for name in ("one", "two")]
    migrated = pair[0].bot.command("migrate")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    return pair


@pytest.fixture
def workers(fake: FakeTelegram, tmp_path: Path, postgres_url: str) -> Iterator[list[Worker]]:
    pair = two_workers(fake, tmp_path, postgres_url)
    pair[0].bot.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path))
    with running(pair):
        yield pair


def settled(bot: BotProcess, timeout: float = 20.0) -> None:
    """Wait until every stored update is handled and no chat is claimed (polling the database)."""
    deadline = time.monotonic() + timeout
    query = "SELECT (SELECT COUNT(*) FROM update_inbox) + (SELECT COUNT(*) FROM leases WHERE name LIKE 'chat:%')"
    while bot.query(query) != [(0,)]:
        assert time.monotonic() < deadline, "updates still waiting, or a chat still claimed"
        threading.Event().wait(0.05)


def stored_answers(bot: BotProcess) -> list[dict[str, Any]]:
    return [json.loads(answers) for (answers,) in bot.query("SELECT answers FROM responses ORDER BY response_id")]


def test_two_workers_at_once_store_each_answer_once_in_order_and_ignore_a_replay(
    fake: FakeTelegram, workers: list[Worker]
) -> None:
    balancer = Balancer(fake, [worker.port for worker in workers])
    residents = [WebhookResident(fake, balancer, fake.add_user(f"Resident {n}")) for n in range(3)]
    failures: list[BaseException] = []

    def survey(resident: WebhookResident) -> None:
        try:
            take_part(resident)
        except BaseException as failure:
            failures.append(failure)

    threads = [threading.Thread(target=survey, args=(resident,)) for resident in residents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures
    for resident in residents:
        ports = {balancer.posted[update_id] for update_id in resident.updates}
        assert ports == set(balancer.ports), "each resident's updates went to both workers"

    bot = workers[0].bot
    submitted = bot.query("SELECT COUNT(*) FROM responses WHERE submitted_at IS NOT NULL")
    assert submitted == [(len(residents),)]
    answers = stored_answers(bot)
    assert answers == [ANSWERS] * len(residents)
    assert [list(found) for found in answers] == [list(ANSWERS)] * len(residents), "in the survey's order"
    counted = bot.query(
        "SELECT question_id, COUNT(*) FROM answers WHERE first = 1 GROUP BY question_id ORDER BY question_id"
    )
    assert counted == sorted((question, len(residents)) for question in ANSWERS), "each answer stored once"
    rows_before = bot.query("SELECT * FROM answers ORDER BY response_id, question_id, value")

    # Every update of the first resident replayed, each to the worker that did not get it the first time.
    ada = residents[0]
    mark = fake.mark(ada.user.id)
    for update_id in ada.updates:
        balancer.replay(update_id)
    helped = ada.say("/help", expect="")
    after = [m.text for m in fake.messages(ada.user.id) if m.seq > mark]
    assert after[0] == helped.text, "the replayed updates brought no answer before /help's"
    survey_texts = ("Your privacy", "Question", "Please check your answers", "We have received", "already")
    assert not [text for text in after if any(part in text for part in survey_texts)], after
    assert stored_answers(bot) == answers
    assert bot.query("SELECT * FROM answers ORDER BY response_id, question_id, value") == rows_before

    for worker in workers:
        log = worker.bot.log()
        assert "Running as one of several workers" in log
        assert "Traceback" not in log and fake.token not in log
        assert "phone line is always busy" not in log, "answers are never logged"


RATE = 8  # messages a second, for the bot as a whole and the fake's strict limits alike


def test_the_sender_killed_mid_broadcast_is_taken_over_by_the_other_worker(
    fake: FakeTelegram, tmp_path: Path, postgres_url: str
) -> None:
    officer = started_user(fake, "Officer")
    residents = [started_user(fake, f"Resident {n}") for n in range(40)]
    fake.set_rate_limits(RateLimits(per_chat_per_second=1, per_group_per_minute=20, global_per_second=RATE))
    pair = two_workers(fake, tmp_path, postgres_url, HAVEYOURSAY_SEND_RATE=str(RATE))
    asyncio.run(seed_broadcast(postgres_url, officer, residents))
    bot = pair[0].bot
    with running(pair):
        fake.wait_for_sent(len(residents) // 4, timeout=30)
        # The sender says so in its log (quicker than a query on a loaded machine: the kill must come mid-broadcast).
        [sender] = [worker for worker in pair if "This worker is now the bot's sender" in worker.bot.log()]
        [other] = [worker for worker in pair if worker is not sender]
        sender.bot.kill()
        assert len(fake.calls_to("sendMessage")) < len(residents), "killed part-way through"

        report = fake.wait_for_message(officer.id, since=0, predicate=lambda m: "has finished" in m.text, timeout=30)
        assert "#1" in report.text
        [(holder,)] = bot.query("SELECT holder FROM leases WHERE name = 'sender'")
        assert f":{other.pid}:" in holder, "the other worker took the sender lease over"

    states = broadcast_states(bot)
    assert set(states) == {user.id for user in residents}
    assert set(states.values()) <= set(FINAL_STATES) - {"failed", "unreachable", "expired"}
    for user in residents:
        received = [message.text for message in fake.messages(user.id)]
        allowed = 2 if states[user.id] == "uncertain" else 1
        assert received[:1] == [SHOWN] and len(received) <= allowed, (user.id, states[user.id], received)
    assert fake.rate_limited == [], "the bot as a whole kept the fake's strict limits"
    assert "This worker is now the bot's sender" in other.bot.log()
    for worker in pair:
        assert "Traceback" not in worker.bot.log() and fake.token not in worker.bot.log()


def test_a_worker_killed_mid_survey_leaves_the_resident_to_another_that_applies_what_it_had_stored(
    fake: FakeTelegram, workers: list[Worker]
) -> None:
    balancer = Balancer(fake, [worker.port for worker in workers])
    resident = WebhookResident(fake, balancer, fake.add_user("Resident"))
    up_to_question_4(resident)

    # Worker one receives the answer to question 4, stores it, applies it, and is sending question 5
    # (held by the fake); the resident's next message reaches it too: stored, not yet applied.
    doomed, survivor = workers
    chat = resident.user.id
    settled(survivor.bot)  # whichever worker applied "2" has recorded it and let the chat go
    fake.hold_next("sendMessage", chat_id=chat)
    mark = fake.mark(chat)
    four = fake.send_text(resident.user, str(ANSWERS["why_hard"]))
    balancer.deliver(four, doomed.port)
    fake.wait_for_held(1, timeout=15)
    more = fake.send_text(resident.user, "And the queue")
    balancer.deliver(more, doomed.port)
    resident.updates += [four, more]
    assert survivor.bot.query("SELECT update_id FROM update_inbox ORDER BY update_id") == [(four,), (more,)]
    [(holder,)] = survivor.bot.query("SELECT holder FROM leases WHERE name LIKE 'chat:%'")
    assert f":{doomed.pid}:" in holder, "the chat is the doomed worker's"
    doomed.bot.kill()
    fake.release_held()
    # The dead worker is started again at once, as systemd's Restart=always does: a new worker.
    doomed.start()

    # A worker takes the chat once the dead worker's claim has run out and applies both, in order:
    # the answer once (question 5 shown), then the message, which question 5 asks to answer by a tap.
    fifth = resident._wait(mark, "Question 5 of 7")
    reminder = resident.then(fifth, expect="Question 5 of 7")
    assert "Please answer by tapping" in reminder.text
    took_over = "Took over 1 chats whose updates another worker had left unhandled"
    assert [took_over in worker.bot.log() for worker in workers].count(True) == 1

    # A resident part-way through a survey is not "back after a gap" to the restarted worker: the bot
    # as a whole never stopped. The answer typed is taken.
    wait_until_listening(doomed.port)
    resident.tap("Yes", on=reminder, expect="Question 6 of 7", port=survivor.port)
    resident.say("15", expect="Question 7 of 7", port=doomed.port)
    resident.say("Sheerness", expect="Please check your answers", port=doomed.port)
    resident.tap("Submit", expect="We have received your answers")

    bot = survivor.bot
    assert stored_answers(bot) == [ANSWERS]
    assert [list(found) for found in stored_answers(bot)] == [list(ANSWERS)], "in the survey's order"
    counted = bot.query("SELECT question_id, COUNT(*) FROM answers GROUP BY question_id ORDER BY question_id")
    assert counted == sorted((question, 1) for question in ANSWERS), "each answer stored once"
    assert bot.query("SELECT COUNT(*) FROM update_inbox") == [(0,)], "every update handled"
    sent = [m.text for m in fake.messages(chat) if m.seq > mark]
    assert sum("Question 5 of 7" in text for text in sent) == 1, "the reply the kill stopped, sent once"
    assert not [text for text in sent if "Welcome back" in text], sent
    for worker in workers:
        log = worker.bot.log()
        assert "Traceback" not in log and "phone line" not in log


def test_the_two_workers_flood_guards_together_stop_the_21st_typed_message_of_a_minute(
    fake: FakeTelegram, workers: list[Worker]
) -> None:
    """22 messages typed at once, alternating between the workers (11 each, under each one's own
    limit of 20): counted together, the 21st brings the one notice and the 22nd nothing."""
    balancer = Balancer(fake, [worker.port for worker in workers])
    user = fake.add_user("Quick typist")
    minute = time.time() // 60
    for n in range(22):
        balancer.deliver(fake.send_text(user, "/help" if n % 2 else "/start"))
    settled(workers[0].bot, timeout=30)
    texts = [m.text for m in fake.messages(user.id)]
    notices = sum("sending messages very quickly" in text for text in texts)
    if time.time() // 60 == minute:
        assert notices == 1 and len(texts) == 21, texts  # 20 answered, the notice, then nothing
        assert workers[0].bot.query("SELECT SUM(count) FROM flood_counts") == [(22,)]
    else:  # the burst went over a minute's turn (rarely): the count started again in the next minute
        assert notices <= 1 and len(texts) >= 21, texts
