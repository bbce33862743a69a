"""Uploading a consultation file and an XLSForm, and downloading both, as an officer does in the browser,
against the real bot."""

from __future__ import annotations

import io
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from conversations.i18n import Catalogs
from conversations.survey.loader import load_consultation_file, load_consultation_text
from conversations.uploads import consultation_yaml, yes_no_words
from conversations.xlsform import read_xlsform, write_xlsform
from tests.browser import screenshot, serious_accessibility_problems, sign_in, workspace
from tests.e2e_support import EXAMPLES, BotProcess, Resident

GP = EXAMPLES / "gp-opening-hours.yaml"
HOME_CARE = EXAMPLES / "home-care-changes.yaml"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def gp_as_an_xlsform_with_a_new_title_a_formula_and_a_hint() -> bytes:
    """The GP example as an officer might send it back: retitled in the spreadsheet, with a hint
    column, a formula typed into a label and a calculated field the chat has no use for."""
    data = load_consultation_file(GP).data
    assert data is not None
    data["title"]["en"] = "GP opening hours: have your say"
    out = io.BytesIO()
    write_xlsform(data, out, yes_no_words(Catalogs.load()))
    book = load_workbook(io.BytesIO(out.getvalue()))
    survey = book["survey"]
    survey.cell(row=1, column=survey.max_column + 1, value="hint")
    survey.cell(row=2, column=survey.max_column, value="Think of the last time")
    survey.append(["calculate", "score", "=SUM(1,2)"])
    saved = io.BytesIO()
    book.save(saved)
    return saved.getvalue()


def choose(page: Page, name: str, content: bytes, mime_type: str) -> None:
    page.get_by_label("File to upload").set_input_files({"name": name, "mimeType": mime_type, "buffer": content})
    page.get_by_role("button", name="Upload", exact=True).click()


def test_an_officer_uploads_a_yaml_and_an_xlsform_and_downloads_both(
    officer_bot: BotProcess, admin: Resident, page: Page, tmp_path: Path
) -> None:
    officer_bot.import_consultations(GP)
    officer_bot.start()
    sign_in(page, admin)
    page.get_by_role("link", name="Consultations", exact=True).click()
    page.get_by_role("link", name="Upload a consultation file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Upload a consultation file")
    page.get_by_text("What an XLSForm may hold").click()
    screenshot(page, "upload")

    # A file that is neither says so, beside the field and in the summary at the top.
    choose(page, "minutes.txt", b"Notes from the meeting", "text/plain")
    expect(page.get_by_role("alert")).to_contain_text("neither a consultation file (.yaml) nor an XLSForm")
    screenshot(page, "upload-error")
    assert serious_accessibility_problems(page) == []
    # A file over the limit: the page says so before sending it; sent anyway, the server says so too.
    big = b"#" * (2 * 1024 * 1024 + 1)
    choose(page, "huge.yaml", big, "application/yaml")
    field = page.get_by_label("File to upload")
    expect(field).to_have_js_property("validationMessage", "The file is larger than 2 MB")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    sent = page.request.post(
        workspace(officer_bot, "/consultations/upload"),
        multipart={"csrf_token": token or "", "file": {"name": "huge.yaml", "mimeType": "text/yaml", "buffer": big}},
    )
    assert sent.status == 400 and "The file is larger than 2 MB" in sent.text()

    # A new consultation from a YAML file: a draft, with nothing left out and no problems.
    choose(page, "home-care-changes.yaml", HOME_CARE.read_bytes(), "application/yaml")
    expect(page.get_by_role("heading", level=1)).to_have_text("File uploaded")
    expect(page.get_by_role("status")).to_contain_text(
        "home-care-changes.yaml is now the draft of “Changes to home care”"
    )
    expect(page.get_by_text("Everything in the file was used.")).to_be_visible()
    expect(page.get_by_text("No problems found: it can be published.")).to_be_visible()
    assert serious_accessibility_problems(page) == []
    page.get_by_role("link", name="Open the consultation page").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Changes to home care")
    expect(page.locator(".summary-list")).to_contain_text("Draft")

    # An XLSForm for the published consultation: asked first, then it becomes the draft.
    page.goto(workspace(officer_bot, "/consultations/upload"))
    choose(page, "gp.xlsx", gp_as_an_xlsform_with_a_new_title_a_formula_and_a_hint(), XLSX)
    expect(page.get_by_role("heading", level=1)).to_have_text("Make this file the draft of “GP opening hours”?")
    expect(page.get_by_text("residents keep seeing the published version")).to_be_visible()
    screenshot(page, "upload-replace")
    assert serious_accessibility_problems(page) == []
    page.get_by_role("button", name="Make it the draft").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("File uploaded")
    notes = page.locator(".upload-notes").first
    expect(notes).to_contain_text("survey sheet, column hint: Hints are not shown in the chat")
    expect(notes).to_contain_text("survey sheet, row 9, column label::English (en): This cell holds a formula.")
    expect(notes).to_contain_text("survey sheet, row 9, column type: The chat has no question of type calculate")
    screenshot(page, "upload-done")
    assert serious_accessibility_problems(page) == []
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "upload-done-phone")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_role("link", name="Open the consultation page").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("GP opening hours: have your say")
    expect(page.get_by_text("Unpublished changes")).to_be_visible()
    with page.expect_download() as yaml_download:
        page.get_by_role("link", name="Download as a consultation file (YAML)").click()
    assert yaml_download.value.suggested_filename == "gp-opening-hours.yaml"
    yaml_text = Path(yaml_download.value.path()).read_text(encoding="utf-8")
    downloaded = load_consultation_text(yaml_text)
    assert downloaded.errors == []
    assert downloaded.data is not None and downloaded.data["title"]["en"] == "GP opening hours: have your say"
    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="Download as an XLSForm spreadsheet").click()
    assert xlsx_download.value.suggested_filename == "gp-opening-hours.xlsx"
    form = read_xlsform(Path(xlsx_download.value.path()).read_bytes(), timezone=ZoneInfo("Europe/London"))
    assert form.notes == []
    assert load_consultation_text(consultation_yaml(form.definition)).data == downloaded.data

    # Residents still see what was published; every step is in the audit log with the officer's id.
    [(published,)] = officer_bot.query(
        "SELECT v.definition FROM consultations c JOIN consultation_versions v ON v.consultation_id = c.id"
        " WHERE c.id = 'gp-opening-hours'"
    )
    assert '"GP opening hours"' in published
    actions = officer_bot.query(
        "SELECT actor_id, action, detail FROM audit_log WHERE action IN ('upload', 'download') ORDER BY id"
    )
    assert actions == [
        (admin.chat_id, "upload", "home-care-changes from home-care-changes.yaml"),
        (admin.chat_id, "upload", "gp-opening-hours from gp.xlsx"),
        (admin.chat_id, "download", "gp-opening-hours.yaml"),
        (admin.chat_id, "download", "gp-opening-hours.xlsx"),
    ]
