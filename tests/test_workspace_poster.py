"""The QR poster in the browser: an officer makes one, downloads both files, and a resident follows its link."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2  # type: ignore[import-untyped]
import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser import ARTIFACTS, screenshot, serious_accessibility_problems, sign_in, workspace
from tests.e2e_support import EXAMPLES, BotProcess, Resident
from tests.test_e2e_resident import open_for_years


def test_an_officer_makes_a_poster_and_a_resident_who_scans_it_is_counted_under_its_source(
    officer_bot: BotProcess, admin: Resident, resident: Resident, page: Page, tmp_path: Path
) -> None:
    officer_bot.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path))
    officer_bot.start()
    sign_in(page, admin)
    page.goto(workspace(officer_bot, "/consultations/gp-opening-hours"))
    page.get_by_role("link", name="Make a QR poster").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Make a QR poster")
    # The consultation's own language is chosen to begin with.
    expect(page.get_by_label("English")).to_be_checked()
    assert serious_accessibility_problems(page) == []

    page.get_by_label("Source tag").fill("surgery waiting room")
    page.get_by_role("button", name="Make the poster").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("A source tag can only have letters, digits and hyphens")
    summary.get_by_role("link").click()
    expect(page.get_by_label("Source tag")).to_be_focused()
    screenshot(page, "poster-form-error")
    assert serious_accessibility_problems(page) == []

    page.get_by_label("Source tag").fill("Surgery-Waiting-Room")
    page.get_by_label("Welsh (Cymraeg)").check()
    page.get_by_role("button", name="Make the poster").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your poster")
    link = page.locator(".poster-link").inner_text()
    assert link.endswith("?start=gp-opening-hours_surgery-waiting-room"), link
    expect(page.get_by_role("img", name="The poster")).to_be_visible()
    screenshot(page, "poster-ready")
    assert serious_accessibility_problems(page) == []
    assert officer_bot.query("SELECT action, detail FROM audit_log WHERE action = 'poster'") == [
        ("poster", "gp-opening-hours surgery-waiting-room en,cy")
    ]

    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="Download the poster for printing (PDF, A4)").click()
    assert pdf_download.value.suggested_filename == "poster-gp-opening-hours-surgery-waiting-room.pdf"
    pdf = Path(pdf_download.value.path()).read_bytes()
    (ARTIFACTS / "poster.pdf").write_bytes(pdf)
    document = pypdfium2.PdfDocument(pdf)
    assert [round(side) for side in document[0].get_size()] == [595, 842]
    words = " ".join(document[0].get_textpage().get_text_range().split())  # a long title wraps
    assert "GP opening hours" in words and "Oriau agor meddygfeydd teulu" in words and link in words

    with page.expect_download() as png_download:
        page.get_by_role("link", name="Download the poster as a picture (PNG)").click()
    picture = Image.open(io.BytesIO(Path(png_download.value.path()).read_bytes()))
    picture.save(ARTIFACTS / "poster.png")
    assert [found.text for found in zxingcpp.read_barcodes(picture)] == [link]

    # On a phone, the page's content still fits.
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "poster-ready-phone")
    assert page.evaluate("document.getElementById('main').scrollWidth") <= 375

    # A resident scans it: they reach the consultation, and their response is counted under the source.
    resident.say("/start " + link.partition("?start=")[2], expect="Your privacy")
    resident.tap("I understand", expect="What you can influence")
    resident.tap("Take part", expect="Question 1 of 7")
    assert officer_bot.query("SELECT source FROM responses") == [("surgery-waiting-room",)]
