"""End to end: officers broadcast notices, admins manage officers, consultations announce themselves.

The real `haveyoursay run` process against the fake Bot API; officers and residents type and tap.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conversations.i18n import Catalogs
from storage import open_database
from tests.community import containing, join, open_for_years, stamp, turn_notices_off, with_dates
from tests.e2e_support import EXAMPLES, BotProcess, Resident, bot_database
from tests.fake_telegram import BotMessage, FakeTelegram

UNKNOWN_COMMAND = "Sorry, I don't know that command. Send /help to see what I can do."
CANCELLED = "Cancelled. Nothing was sent."
TYPED = "Flu jabs at <b>Milton Road</b> & the car park has < 50 spaces"
TYPED_CY = "Brechlyn ffliw yn <i>Ffordd Milton</i> & mae < 50 lle parcio"


@pytest.fixture
def officer_bot(
    fake: FakeTelegram, admin: Resident, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[BotProcess]:
    process = BotProcess(fake, tmp_path, bot_database(request), HAVEYOURSAY_ADMINS=f"{admin.chat_id},1234567")
    try:
        yield process
    finally:
        process.stop()


def write_broadcast_to_sittingbourne(admin: Resident) -> BotMessage:
    """English and Welsh, a "Take part" button, the area Sittingbourne; returns the confirmation."""
    admin.say("/broadcast", expect="Send me the notice, in English.")
    admin.say(TYPED, expect="The notice is ready in: English.")
    admin.tap("Welsh (Cymraeg)", expect="Send me the notice in Welsh (Cymraeg).")
    ready = admin.say(TYPED_CY, expect="The notice is ready in: English, Welsh (Cymraeg).")
    assert "Welsh (Cymraeg)" not in ready.labels and "Polish (Polski)" in ready.labels
    buttons = admin.tap("No more languages", expect="Add a “Take part” button for a consultation?")
    assert buttons.labels == ["GP opening hours", "No button", "Cancel"]
    admin.tap("GP opening hours", expect="Who should receive it?")
    areas = admin.tap("One or more areas", expect="Which areas?")
    assert "⬜ Sittingbourne" in areas.labels
    admin.tap("Done", expect="Please tick at least one, then tap Done.")
    admin.tap("⬜ Sittingbourne", expect="✅ Sittingbourne")
    return admin.tap("Done", expect="Send it now?")


def test_an_officer_broadcasts_to_one_area_in_each_residents_language(
    officer_bot: BotProcess, fake: FakeTelegram, admin: Resident, tmp_path: Path
) -> None:
    officer_bot.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path))
    officer_bot.start()
    gwen = join(fake, "Gwen", "cy-GB", postcode="ME10 1AB")
    piotr = join(fake, "Piotr", "pl", postcode="ME9 7XX")
    amina = join(fake, "Amina", "en-GB", postcode="ME10 2CD")
    turn_notices_off(amina)
    tom = join(fake, "Tom", "en", postcode="ME12 1AA")
    sian = join(fake, "Sian", "en-GB", postcode="ME10 3EF")
    fake.block(sian.user)  # the bot learns it only when a message to her fails

    assert tom.say("/broadcast").text == UNKNOWN_COMMAND, "a resident gets the answer for any unknown command"
    assert tom.say("/audit").text == UNKNOWN_COMMAND

    confirm = write_broadcast_to_sittingbourne(admin)
    # One preview per version the audience will receive, each saying who receives it.
    english, welsh_preview, polish_preview = fake.messages(admin.chat_id)[-4:-1]
    assert english.text == "For 1 resident in English:\n\n" + TYPED, "the officer's text arrives exactly as typed"
    assert english.labels == ["Take part"]
    assert polish_preview.text == "For 1 resident in Polish (Polski):\n\n" + TYPED
    assert polish_preview.labels == ["Weź udział"], "the English text, the button in Polish"
    assert welsh_preview.text == "For 1 resident in Welsh (Cymraeg):\n\n" + TYPED_CY
    assert welsh_preview.labels == ["Cymryd rhan"]
    assert "This notice will go to 3 residents." in confirm.text
    assert "Welsh (Cymraeg): 1, English: 2" in confirm.text
    assert confirm.labels == ["Send", "Send at…", "Cancel"], "civil hours all day: no need to send now anyway"

    sent = admin.tap("Send", expect="Sending to 3 residents. Send /broadcasts to follow it.")
    assert sent.message_id == confirm.message_id, "the confirmation turns into the answer; no second Send"

    welsh = fake.wait_for_message(gwen.chat_id, predicate=lambda m: "Ffordd Milton" in m.text)
    assert welsh.text == TYPED_CY
    assert welsh.labels == ["Cymryd rhan"]
    polish = fake.wait_for_message(piotr.chat_id, predicate=lambda m: "Milton Road" in m.text)
    assert polish.text == TYPED, "no Polish version: the default language's text"
    assert polish.labels == ["Weź udział"], "the bot's own words are in the resident's language"

    report = fake.wait_for_message(admin.chat_id, predicate=lambda m: "has finished" in m.text)
    assert report.text == "Your notice #1 has finished.\nsent 2, waiting 0, failed 0, unreachable 1 · finished"
    for resident in (amina, tom):
        assert not containing(fake, resident.chat_id, "Milton"), "notices off, or another area: nothing"
    assert sorted(officer_bot.query("SELECT chat_id, state FROM deliveries WHERE broadcast_id = 1")) == sorted(
        [(gwen.chat_id, "sent"), (piotr.chat_id, "sent"), (sian.chat_id, "unreachable")]
    )
    assert officer_bot.query("SELECT unreachable_at IS NOT NULL FROM residents WHERE chat_id = ?", sian.chat_id) == [
        (1,)
    ]

    progress = admin.say("/broadcasts", expect="Recent notices")
    assert re.search(r"#1 · \d{4}-\d\d-\d\d \d\d:\d\d · Flu jabs at <b>Milton Road</b>", progress.text)
    assert "sent 2, waiting 0, failed 0, unreachable 1 · finished" in progress.text

    question = gwen.tap("Cymryd rhan", on=welsh, expect="Cwestiwn 1 o 7")
    assert "Pryd wnaethoch chi gysylltu â'ch meddygfa ddiwethaf?" in question.text

    audit = admin.say("/audit", expect="Recent officer actions")
    assert f"· {admin.user.first_name} · broadcast · #1 to 3 residents (areas: Sittingbourne)" in audit.text
    assert "Traceback" not in officer_bot.log()


def test_the_broadcast_draft_survives_a_restart(officer_bot: BotProcess, fake: FakeTelegram, admin: Resident) -> None:
    officer_bot.start()
    gwen = join(fake, "Gwen", "cy-GB", postcode="ME10 1AB")
    admin.say("/broadcast", expect="Send me the notice")
    assert admin.send(fake.send_photo).text == "Send me the notice in English.", "a notice is text"
    admin.say("Road closed on Friday", expect="The notice is ready in: English.")
    assert admin.send(fake.send_sticker).text == "Please use the buttons, or tap Cancel."
    officer_bot.kill()
    officer_bot.start()
    admin.tap("No more languages", expect="Add a “Take part” button")
    admin.tap("No button", expect="Who should receive it?")
    confirm = admin.tap("Everyone", expect="Send it now?")
    assert "This notice will go to 1 resident." in confirm.text
    admin.tap("Send", expect="Sending to 1 resident.")
    notice = fake.wait_for_message(gwen.chat_id, predicate=lambda m: "Road closed" in m.text)
    assert notice.text == "Road closed on Friday" and notice.labels == []


CANCEL_STEPS: list[Callable[[Resident], BotMessage]] = [
    lambda officer: officer.say("/broadcast", expect="Send me the notice"),
    lambda officer: officer.say(TYPED, expect="The notice is ready in"),
    lambda officer: officer.tap("Welsh (Cymraeg)", expect="Send me the notice in Welsh (Cymraeg)."),
    lambda officer: officer.say(TYPED_CY, expect="The notice is ready in: English, Welsh (Cymraeg)."),
    lambda officer: officer.tap("No more languages", expect="Add a “Take part” button"),
    lambda officer: officer.tap("No button", expect="Who should receive it?"),
    lambda officer: officer.tap("One or more topics", expect="Which topics?"),
    lambda officer: officer.tap("⬜ GP and primary care", expect="✅ GP and primary care"),
    lambda officer: officer.tap("Done", expect="Send it now?"),
]


def test_cancel_at_every_step_sends_nothing(fake: FakeTelegram, tmp_path: Path) -> None:
    # One officer per step: typing the same notice over and over would trip the bot's flood guard.
    officers = [Resident(fake, fake.add_user(f"Officer {n}", language_code="en")) for n in range(11)]
    bot = BotProcess(fake, tmp_path, HAVEYOURSAY_ADMINS=",".join(str(o.chat_id) for o in officers))
    try:
        bot.start()
        gwen = join(fake, "Gwen", "cy-GB", postcode="ME10 1AB")
        for reached, officer in enumerate(officers[: len(CANCEL_STEPS)], start=1):
            for step in CANCEL_STEPS[:reached]:
                step(officer)
            assert officer.tap("Cancel").text == CANCELLED, f"Cancel after step {reached}"
            assert bot.query("SELECT COUNT(*) FROM drafts") == [(0,)]
        # /cancel while the officer is asked for the text; what they type next is not a notice.
        officer = officers[-1]
        officer.say("/broadcast", expect="Send me the notice")
        assert officer.say("/cancel").text == CANCELLED
        officer.say("this is not a notice", expect="Your privacy")

        assert bot.query("SELECT COUNT(*) FROM broadcasts") == [(0,)]
        assert bot.query("SELECT COUNT(*) FROM deliveries") == [(0,)]
        assert not containing(fake, gwen.chat_id, "Milton")
    finally:
        bot.stop()


def test_other_audiences_count_exactly_who_will_receive_it(
    officer_bot: BotProcess, fake: FakeTelegram, admin: Resident, tmp_path: Path
) -> None:
    officer_bot.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path))
    officer_bot.start()
    join(fake, "Gwen", "cy-GB", postcode="ME10 1AB", topics=("primary-care",))
    join(fake, "Piotr", "pl", topics=("social-care",))
    amina = join(fake, "Amina", "en-GB", topics=("primary-care",))
    amina.tap("GP opening hours", on=amina.latest_with_buttons(), expect="Take part")
    amina.tap("Take part", expect="Question 1 of 7")

    def count_for(*taps: str) -> str:
        admin.say("/broadcast", expect="Send me the notice")
        admin.say("Hello", expect="The notice is ready in")
        admin.tap("No more languages", expect="Add a “Take part” button")
        admin.tap("No button", expect="Who should receive it?")
        for label in taps[:-1]:
            admin.tap(label)
        confirm = admin.tap(taps[-1], expect="Send it now?")
        admin.tap("Cancel", expect=CANCELLED)
        found = re.search(r"This notice will go to (\d+) residents?\.", confirm.text)
        assert found, confirm.text
        return found.group(1)

    assert count_for("Everyone") == "3"
    assert count_for("One or more topics", "⬜ GP and primary care", "Done") == "2"
    assert count_for("One or more topics", "⬜ GP and primary care", "⬜ Social care and home care", "Done") == "3"
    assert count_for("One language", "Polish (Polski)") == "1"
    assert count_for("Took part in a consultation", "GP opening hours") == "0", "started is not taken part"
    assert officer_bot.query("SELECT COUNT(*) FROM deliveries") == [(0,)]


def test_an_invite_link_makes_an_officer_once_and_every_change_is_audited(
    officer_bot: BotProcess, fake: FakeTelegram, admin: Resident, database_target: str
) -> None:
    officer_bot.start()
    nia = Resident(fake, fake.add_user("Nia", language_code="en"))
    sam = Resident(fake, fake.add_user("Sam", language_code="en"))

    assert nia.say("/broadcast").text == UNKNOWN_COMMAND
    invite = admin.say("/invite", expect="Send this link to the new officer")
    found = re.search(r"https://t\.me/HaveYourSayTestBot\?start=(inv_[A-Za-z0-9]+)", invite.text)
    assert found, invite.text
    link_payload = found.group(1)

    welcome = nia.say(f"/start {link_payload}")
    assert welcome.text == "You are now an officer. Send /officer to see what you can do."
    assert "/broadcast" in nia.say("/officer").text
    nia.say("/broadcast", expect="Send me the notice")
    assert nia.say("/addofficer 42").text == UNKNOWN_COMMAND, "officers are not admins"
    refused = "This invite link has expired or has already been used. Please ask an admin for a new one."
    assert sam.say(f"/start {link_payload}").text == refused, "an invite works once"

    asyncio.run(expired_invite(officer_bot, admin.chat_id))
    assert sam.say("/start inv_expiredcode").text == refused
    assert sam.say("/broadcast").text == UNKNOWN_COMMAND

    assert admin.say(f"/addofficer {sam.chat_id}").text == f"{sam.chat_id} is now an officer."
    prompt = sam.say("/broadcast", expect="Send me the notice")
    assert admin.say(f"/removeofficer {sam.chat_id}").text == f"{sam.chat_id} is no longer an officer."
    assert sam.say("/broadcast").text == UNKNOWN_COMMAND, "the role is checked each time"
    fake.press_button(sam.user, prompt, "Cancel")
    fake.wait_until_idle()
    assert sam.last_notice() == "That button is out of date.", "nor do an old draft's buttons work"
    assert officer_bot.query("SELECT user_id FROM officers") == [(nia.chat_id,)]

    assert admin.say(f"/removeofficer {admin.chat_id}").text == "You cannot remove yourself. Ask another admin."
    assert admin.say("/removeofficer 1234567").text == (
        "1234567 is an admin set in HAVEYOURSAY_ADMINS; change that setting to remove them."
    )
    assert admin.say("/removeofficer 999").text == "999 is not an officer."
    assert "Please give the Telegram user id" in admin.say("/addofficer someone").text
    assert nia.say("/myid").text == f"Your Telegram user id is {nia.chat_id}."

    listing = admin.say("/officers", expect="Officers")
    assert f"{nia.chat_id} — officer" in listing.text and f"{admin.chat_id} — admin" in listing.text

    audit = admin.say("/audit", expect="Recent officer actions").text.splitlines()[1:]
    when = r"\d{4}-\d\d-\d\d \d\d:\d\d"
    olu = admin.user.first_name  # officers by the name Telegram gives
    expected = [
        f"{olu} · remove officer · {sam.chat_id}",
        f"{olu} · add officer · {sam.chat_id}",
        f"{olu} · add officer · {nia.chat_id} by invite link",
        f"{olu} · invite · created a one-time officer invite",
    ]
    assert len(audit) == len(expected), audit
    for line, action in zip(audit, expected, strict=True):
        assert re.fullmatch(f"{when} · {re.escape(action)}", line), line
    assert nia.say("/audit").text == UNKNOWN_COMMAND, "the audit log is for admins"


RESIDENT_MENU = ["consultations", "outcomes", "settings", "contact", "mydata", "aboutme", "delete", "language", "help"]
OFFICER_MENU = ["officer", "workspace", "broadcast", "broadcasts", "results", "export", "reach", "outcome"]
ADMIN_MENU = [*OFFICER_MENU, "officers", "invite", "addofficer", "removeofficer", "audit"]


def test_officers_see_every_command_their_role_allows_in_help_and_in_their_own_menu(
    officer_bot: BotProcess, fake: FakeTelegram, admin: Resident
) -> None:
    officer_bot.start()
    admin.say("/start", expect="Your privacy")
    assert fake.menu(admin.user) == RESIDENT_MENU + ADMIN_MENU, "set once the admin has written to the bot"
    listing = admin.say("/officer", expect="Officer commands").text
    for name in ADMIN_MENU:
        assert f"/{name}" in listing, name
    assert "/export [csv|xlsx] — export a consultation's responses (CSV or Excel)" in listing
    assert "/addofficer ID — make a Telegram user an officer" in listing

    nia = Resident(fake, fake.add_user("Nia", language_code="en"))
    sam = join(fake, "Sam", "en")
    assert fake.menu(sam.user) == RESIDENT_MENU
    invite = admin.say("/invite", expect="Send this link to the new officer")
    found = re.search(r"start=(inv_[A-Za-z0-9]+)", invite.text)
    assert found, invite.text
    nia.say(f"/start {found.group(1)}", expect="You are now an officer.")
    assert fake.menu(nia.user) == RESIDENT_MENU + OFFICER_MENU, "an invite redeemed sets the officer's menu"
    officer_listing = nia.say("/officer", expect="Officer commands").text
    assert all(f"/{name}" in officer_listing for name in OFFICER_MENU)
    assert "/audit" not in officer_listing and "/addofficer" not in officer_listing

    admin.say(f"/addofficer {sam.chat_id}", expect="is now an officer")
    assert fake.menu(sam.user) == RESIDENT_MENU + OFFICER_MENU
    admin.say(f"/removeofficer {sam.chat_id}", expect="is no longer an officer")
    assert fake.commands({"type": "chat", "chat_id": sam.chat_id}) == [], "the scoped menu is deleted"
    assert fake.menu(sam.user) == RESIDENT_MENU

    # Someone made an officer while the bot was down gets their menu when it starts.
    fake.wait_until_idle()  # the removal is finished, not handled again after the restart
    officer_bot.kill()
    asyncio.run(add_officer_directly(officer_bot, sam.chat_id, admin.chat_id))
    officer_bot.start()
    assert fake.menu(sam.user) == RESIDENT_MENU + OFFICER_MENU

    sam.say("/language", expect="Choose your language")
    sam.tap("Cymraeg", expect="Cymraeg")
    welsh = fake.commands({"type": "chat", "chat_id": sam.chat_id})
    in_welsh = Catalogs.load().translator("cy")._("see the consultations that are open now")
    assert welsh[0] == {"command": "consultations", "description": in_welsh}, "in their language"
    assert [c["command"] for c in welsh] == RESIDENT_MENU + OFFICER_MENU
    assert "Traceback" not in officer_bot.log()


async def add_officer_directly(bot: BotProcess, user_id: int, admin_id: int) -> None:
    async with open_database(bot.database_url or bot.database) as db:
        await db.officers.add(user_id, "officer", admin_id, datetime.now(UTC))


async def expired_invite(bot: BotProcess, admin_id: int) -> None:
    now = datetime.now(UTC)
    async with open_database(bot.database_url or bot.database) as db:
        await db.officers.create_invite("expiredcode", admin_id, now - timedelta(hours=25), now - timedelta(hours=1))


def test_a_consultation_opens_on_time_and_matching_residents_are_told_once(
    officer_bot: BotProcess, fake: FakeTelegram, tmp_path: Path
) -> None:
    officer_bot.env["HAVEYOURSAY_TICK_SECONDS"] = "1"
    officer_bot.start()
    gwen = join(fake, "Gwen", "cy-GB", postcode="ME10 1AB")  # Sittingbourne
    piotr = join(fake, "Piotr", "pl", postcode="ME13 8AA", topics=("social-care",))  # Faversham, social care
    amina = join(fake, "Amina", "en-GB", postcode="ME10 2CD")  # Sittingbourne, notices off
    turn_notices_off(amina)
    tom = join(fake, "Tom", "en", postcode="ME12 1AA", topics=("primary-care",))  # Sheerness

    # Far enough ahead that the import (a child process) and a reply fit before it, on a busy machine too.
    opens = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=8)
    source = with_dates(
        EXAMPLES / "home-care-changes.yaml",
        tmp_path,
        opens=stamp(opens),
        closes="2099-12-31T23:59:00Z",
        areas="[sittingbourne]",
    )
    officer_bot.import_consultations(source)
    before = gwen.say("/consultations")
    assert datetime.now(UTC) < opens, "the import took too long to see the consultation before it opened"
    assert "Newidiadau i ofal cartref" not in before.text, "not visible before it opens"

    notice = fake.wait_for_message(gwen.chat_id, predicate=lambda m: "Newidiadau i ofal cartref" in m.text, timeout=25)
    assert datetime.now(UTC) >= opens
    assert notice.labels == ["Cymryd rhan"]
    assert "Rydym yn bwriadu trefnu gofal cartref" in notice.text, "the summary, in Welsh"
    polish = fake.wait_for_message(piotr.chat_id, predicate=lambda m: "Changes to home care" in m.text)
    assert polish.labels == ["Weź udział"]
    assert sorted(officer_bot.query("SELECT chat_id FROM deliveries WHERE kind = 'notice'")) == sorted(
        [(gwen.chat_id,), (piotr.chat_id,)]
    ), "not another area, not with notices off"
    for resident in (amina, tom):
        assert not containing(fake, resident.chat_id, "home care")

    assert "Newidiadau i ofal cartref" in gwen.say("/consultations").text, "visible once open"
    piotr.tap("Weź udział", on=polish, expect="Do you, or someone you look after, get home care?")
    assert officer_bot.query("SELECT chat_id FROM participation") == [(piotr.chat_id,)]
    assert len(containing(fake, gwen.chat_id, "Newidiadau i ofal cartref")) == 2  # the notice and the list
    assert officer_bot.query("SELECT COUNT(*) FROM deliveries WHERE state != 'sent'") == [(0,)]


def test_a_consultation_that_opened_while_the_bot_was_down_is_announced_once(
    officer_bot: BotProcess, fake: FakeTelegram, tmp_path: Path
) -> None:
    officer_bot.start()
    gwen = join(fake, "Gwen", "cy-GB", postcode="ME10 1AB")
    tom = join(fake, "Tom", "en", postcode="ME12 1AA")
    # Tom's last tap is answered in two messages; an update still in flight at a crash is finished
    # after the restart (bot/inbox.py), and then its list would show the new consultation.
    fake.wait_until_idle()
    officer_bot.kill()

    # It opened while the bot was down.
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
    officer_bot.start()
    notice = fake.wait_for_message(gwen.chat_id, predicate=lambda m: "Newidiadau i ofal cartref" in m.text)
    assert notice.labels == ["Cymryd rhan"]
    fake.wait_until_idle()
    assert officer_bot.query("SELECT chat_id, state FROM deliveries") == [(gwen.chat_id, "sent")]

    officer_bot.kill()
    officer_bot.start()
    gwen.say("/help", expect="/consultations")
    assert officer_bot.query("SELECT chat_id, state FROM deliveries") == [(gwen.chat_id, "sent")], "nothing repeated"
    assert len(containing(fake, gwen.chat_id, "Newidiadau i ofal cartref")) == 1
    assert not containing(fake, tom.chat_id, "home care")
