"""End to end: an officer publishes an outcome, then corrects it; residents get the correction, marked."""

from __future__ import annotations

from pathlib import Path

from tests.community import containing, join, with_dates
from tests.e2e_support import EXAMPLES, BotProcess, Resident
from tests.fake_telegram import FakeTelegram

TOLD = "Most of you want Saturday mornings."
TOLD_CY = "Mae'r rhan fwyaf ohonoch eisiau boreau Sadwrn."
CORRECTED = "Most of you want Saturday mornings and weekday evenings."


def publish_told_us(admin: Resident) -> None:
    admin.say("/outcome", expect="Which consultation is the outcome for?")
    admin.tap("GP opening hours", expect="Which do you want to publish?")
    admin.tap("What you told us", expect="Send me “What you told us” in English")
    saved = admin.say(TOLD, expect="It will go to the 3 people who took part.")
    assert "Welsh (Cymraeg)" in saved.labels
    admin.tap("Welsh (Cymraeg)", expect="in Welsh (Cymraeg)")
    admin.say(TOLD_CY, expect="It will go to the 3 people who took part.")
    admin.tap("Publish", expect="Published. Sending to 3 people.")


def test_a_corrected_outcome_goes_as_a_marked_correction_and_every_version_is_kept(
    officer_bot: BotProcess, fake: FakeTelegram, admin: Resident, tmp_path: Path, database_target: str
) -> None:
    closed = with_dates(
        EXAMPLES / "gp-opening-hours.yaml", tmp_path, opens="2020-01-01T09:00:00Z", closes="2021-01-01T00:00:00Z"
    )
    officer_bot.import_consultations(closed)
    officer_bot.start()
    gwen = join(fake, "Gwen", "cy-GB", postcode="ME10 1AB")
    piotr = join(fake, "Piotr", "pl", postcode="ME9 7XX")
    tom = join(fake, "Tom", "en", postcode="ME12 1AA")
    for resident in (gwen, piotr, tom):  # they took part while it was open
        officer_bot.query(
            "INSERT INTO participation(chat_id, consultation_id, started_at, submitted_at)"
            " VALUES (?, 'gp-opening-hours', '2020-06-01T10:00:00+00:00', '2020-06-01T10:05:00+00:00')",
            resident.chat_id,
        )

    publish_told_us(admin)
    fake.wait_for_message(gwen.chat_id, predicate=lambda m: TOLD_CY in m.text)
    fake.wait_for_message(tom.chat_id, predicate=lambda m: TOLD in m.text)
    fake.wait_for_message(piotr.chat_id, predicate=lambda m: TOLD in m.text)
    fake.wait_until_idle()

    # The officer finds a mistake in the English and corrects it.
    admin.say("/outcome", expect="Which consultation is the outcome for?")
    admin.tap("GP opening hours", expect="Which do you want to publish?")
    admin.tap("What you told us", expect="This was sent before, to 3 people.")
    saved = admin.say(CORRECTED, expect="It will go to 2 people.")
    assert "Not corrected yet: Welsh (Cymraeg)." in saved.text, "Gwen's Welsh did not change: she is not sent it again"
    done = admin.tap("Publish", expect="Correction published. Sending to 2 people.")
    assert "Sending to 0" not in done.text

    correction = fake.wait_for_message(tom.chat_id, predicate=lambda m: CORRECTED in m.text)
    assert correction.text.startswith("Correction: What you told us: GP opening hours")
    assert "This corrects the message we sent you before" in correction.text
    assert fake.wait_for_message(piotr.chat_id, predicate=lambda m: CORRECTED in m.text)
    fake.wait_until_idle()
    assert not containing(fake, gwen.chat_id, "Correction"), "her version did not change"
    assert len(containing(fake, tom.chat_id, "Saturday mornings")) == 2, "the original stays, the correction is new"

    # /outcomes shows the latest, says it was corrected, and keeps every language.
    tom.say("/outcomes", expect="Consultations and their outcomes")
    latest = tom.tap("GP opening hours", expect=CORRECTED)
    assert "Corrected on" in latest.text and TOLD + "\n" not in latest.text
    gwen.say("/outcomes")
    assert TOLD_CY in gwen.tap("Oriau agor meddygfeydd teulu", expect="boreau Sadwrn").text, "Welsh is kept"

    versions = officer_bot.query(
        "SELECT version, texts LIKE ? FROM outcome_versions WHERE kind = 'told_us' ORDER BY version", f"%{CORRECTED}%"
    )
    assert versions == [(1, 0), (2, 1)], "both versions are stored"
    audit = admin.say("/audit", expect="Recent officer actions")
    assert "correct outcome · told_us for gp-opening-hours, version 2 replacing 1, to 2 people" in audit.text
    assert "Traceback" not in officer_bot.log()
