"""Running a consultation from the workspace, end to end (issue 15's "Done means"): residents answer
in the chat in English and Welsh; the officer reads the results and the reach, where every figure
equals what SQL finds in the database and no small group can be seen or worked out; from the reach
page the officer sends a notice to the under-heard area; closes early; publishes the outcome in
English and Welsh; and each resident gets exactly what was meant for them, in their language.
The public "We asked, you said, we did" page then shows the outcome in both languages."""

from __future__ import annotations

import itertools
import re
import statistics
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import Locator, Page, expect

from tests.browser import screenshot, serious_accessibility_problems, sign_in, workspace
from tests.community import containing, join, plain, translator
from tests.e2e_support import BotProcess, Resident
from tests.fake_telegram import BotMessage, FakeTelegram
from tests.test_workspace_results import with_populations

CID = "library-hours"
TITLE, TITLE_CY = "Library opening hours", "Oriau agor llyfrgelloedd"
CONSULTATION = f"""
spec_version: 1
id: {CID}
default_language: en
title: {{en: "{TITLE}", cy: "{TITLE_CY}"}}
summary:
  en: "We want to know when you would use your library, so that its hours suit the people who use it."
  cy: "Rydym am wybod pryd y byddech yn defnyddio eich llyfrgell, fel bod ei horiau yn addas i chi."
organisation: {{en: "Swale Borough Council", cy: "Cyngor Bwrdeistref Swale"}}
can_influence: {{en: "The opening hours of each library.", cy: "Oriau agor pob llyfrgell."}}
cannot_influence: {{en: "Which libraries there are.", cy: "Pa lyfrgelloedd sydd."}}
decision_by: {{en: "The council's cabinet, in March 2027.", cy: "Cabinet y cyngor, ym mis Mawrth 2027."}}
contact: {{en: "libraries@swale.example.gov.uk", cy: "libraries@swale.example.gov.uk"}}
opens: 2020-01-01T09:00:00Z
closes: 2099-12-31T23:59:00Z
areas: []
topics: []
survey:
  - id: visits
    type: single_choice
    text: {{en: "How often do you visit a library?", cy: "Pa mor aml ydych chi'n ymweld â llyfrgell?"}}
    choices:
      - {{id: week, text: {{en: "Every week", cy: "Bob wythnos"}}}}
      - {{id: month, text: {{en: "Every month", cy: "Bob mis"}}}}
      - {{id: rarely, text: {{en: "Rarely", cy: "Anaml"}}}}
  - id: minutes
    type: number
    min: 0
    max: 300
    text: {{en: "How many minutes does it take you to get there?", cy: "Sawl munud mae'n ei gymryd i chi gyrraedd?"}}
  - id: change
    type: text
    max_length: 500
    optional: true
    text: {{en: "What would you change?", cy: "Beth fyddech chi'n ei newid?"}}
  - id: home_area
    type: area
    text: {{en: "Which area do you live in?", cy: "Ym mha ardal ydych chi'n byw?"}}
"""
VISITS = {"week": ("Every week", "Bob wythnos"), "month": ("Every month", "Bob mis"), "rarely": ("Rarely", "Anaml")}
AREA_NAMES = {
    "sittingbourne": ("Sittingbourne", "Sittingbourne"),
    "sheerness": ("Sheerness and Sheppey", "Sheerness a Sheppey"),
    "faversham": ("Faversham", "Faversham"),
}
LONDON = ZoneInfo("Europe/London")

# Who takes part, in which language and area, and what they answer.
PEOPLE = [
    ("Amy", "en", "ME10 1AA", "week", "10", "Open on Sundays", "sittingbourne"),
    ("Ben", "en", "ME10 2AB", "week", "25", "", "sittingbourne"),
    ("Cara", "en", "ME10 3AC", "month", "5", "Later on Thursdays <please> & Fridays", "sittingbourne"),
    ("Dan", "en", "ME9 7AD", "rarely", "40", "", "sheerness"),
    ("Eve", "en", "ME10 4AE", "week", "15", "More study space", "sittingbourne"),
    ("Gwen", "cy-GB", "ME12 1AF", "month", "30", "Oriau hwyr", "sheerness"),
    ("Huw", "cy-GB", "ME12 2AG", "week", "20", "", "sheerness"),
]
FAVERSHAM = [("Fay", "en", "ME13 7AJ"), ("Ffion", "cy-GB", "ME13 8AK")]  # they do not take part
NOTICE = "The library at Faversham wants to hear from you: it takes two minutes."
NOTICE_CY = "Mae llyfrgell Faversham eisiau clywed gennych: mae'n cymryd dau funud."
QUESTION_TO_TEAM = "Ydy'r llyfrgell ar agor ar <ddydd Sul> & gŵyl y banc?"
ANSWER_FROM_TEAM = "Ydy, 10 tan 4 ar ddydd Sul & gŵyl y banc."
TOLD = "Most of you want the libraries open later on weekdays."
TOLD_CY = "Mae'r rhan fwyaf ohonoch eisiau i'r llyfrgelloedd fod ar agor yn hwyrach."
DID = "From April, every library stays open until 7pm on Thursdays."
DID_CY = "O fis Ebrill, bydd pob llyfrgell ar agor tan 7yh ar ddydd Iau."


def takes_part(resident: Resident, language: str, home: str, visits: str, minutes: str, change: str, area: str) -> None:
    """A resident who has just joined (living in `home`) picks the consultation from the list and answers
    every question."""
    t, welsh = translator(language), language == "cy"
    resident.tap(TITLE_CY if welsh else TITLE, expect=t._("Take part"))
    resident.tap(t._("Take part"), expect="ydych chi" if welsh else "How often do you visit")
    resident.tap(VISITS[visits][welsh], expect="Sawl munud" if welsh else "How many minutes")
    resident.say(minutes, expect="newid?" if welsh else "What would you change?")
    if change:
        resident.say(change, expect="Ym mha ardal" if welsh else "Which area do you live in?")
    else:
        resident.tap(t._("Skip"), expect="Ym mha ardal" if welsh else "Which area do you live in?")
    name = AREA_NAMES[area][welsh]
    label = plain(t._("Yes, %(area)s", area=name)) if area == home else name  # their own area is offered first
    resident.tap(label, expect=plain(t._("Please check your answers")))
    resident.tap(t._("Submit"), expect=plain(t._("Thank you. We have received your answers.")))


def looked_at(page: Page, name: str, *, phone: bool = True) -> None:
    """A page as an officer sees it: no serious accessibility problem, kept as a picture on a laptop and on a
    375-pixel phone (test-artifacts/journey-NAME.png and journey-NAME-phone.png), pictures loaded."""
    page.wait_for_function("() => [...document.images].every(img => img.complete && img.naturalWidth > 0)")
    assert serious_accessibility_problems(page) == []
    screenshot(page, f"journey-{name}")
    if phone:
        page.set_viewport_size({"width": 375, "height": 800})
        screenshot(page, f"journey-{name}-phone")
        page.set_viewport_size({"width": 1280, "height": 800})


def reading(text: str) -> Callable[[BotMessage], bool]:
    """A message that reads exactly `text`."""
    return lambda message: message.text == text


def cells(row: Locator) -> list[str]:
    return [text.strip() for text in row.locator("th, td").all_inner_texts()]


def table_rows(page: Page, caption: str) -> dict[str, list[str]]:
    """A table of the page by its caption: each body row's cells after the first, by the first."""
    table = page.locator("table").filter(has=page.locator("caption", has_text=caption))
    expect(table).to_have_count(1)
    found = {}
    for row in table.locator("tbody tr").all():
        head, *rest = cells(row)
        found[head] = rest
    return found


def shown(count: int) -> str:
    """How a count of people may be shown when it is exact (the small ones never are)."""
    return f"{count:,}"


def assert_protected(shown_cells: dict[str, str], counts: dict[str, int], total: int) -> None:
    """What an officer sees of one table: exact counts are the true ones; 1 to 4 is never exact; and no
    small count follows from the total and the other cells, even for a reader who knows the rule (a
    "fewer than 5" is 1 to 4, a "not shown" is 5 or more)."""
    hidden = [key for key, text in shown_cells.items() if not text.replace(",", "").isdigit()]
    for key, text in shown_cells.items():
        if key not in hidden:
            assert text == shown(counts[key]) and not 0 < counts[key] < 5, (key, text, counts[key])
        else:
            assert text in ("fewer than 5", "not shown"), (key, text)
            assert (text == "fewer than 5") == (0 < counts[key] < 5), (key, text, counts[key])
    left = total - sum(counts[key] for key in shown_cells if key not in hidden)
    ranges = [range(1, 5) if shown_cells[key] == "fewer than 5" else range(5, total + 1) for key in hidden]
    possible = [values for values in itertools.product(*ranges) if sum(values) == left]
    assert tuple(counts[key] for key in hidden) in possible
    for i, key in enumerate(hidden):
        if 0 < counts[key] < 5:
            assert len({values[i] for values in possible}) > 1, f"{key} can be worked out: {possible}"


def test_an_officer_runs_a_consultation_from_results_and_reach_to_outreach_and_outcome(
    officer_bot: BotProcess, fake: FakeTelegram, admin: Resident, page: Page, tmp_path: Path
) -> None:
    with_populations(officer_bot)  # the example deployment: areas with their populations
    team = fake.add_group("Engagement team")  # the officers' group, where /contact messages arrive too
    deployment = Path(officer_bot.env["HAVEYOURSAY_CONFIG"])
    deployment.write_text(deployment.read_text(encoding="utf-8") + f"\nofficers_chat_id: {team}\n", encoding="utf-8")
    consultation = tmp_path / f"{CID}.yaml"
    consultation.write_text(CONSULTATION, encoding="utf-8")
    officer_bot.import_consultations(consultation)
    officer_bot.start()

    # 1. Seven people take part in the chat: five in English in Sittingbourne (one of whom says he lives
    # in Sheerness), two in Welsh in Sheerness. Sam stops at question 2; Fay and Ffion in Faversham do not
    # take part.
    def taking_part(name: str, code: str, postcode: str, *answers: str) -> tuple[Resident, str]:
        resident = join(fake, name, code, postcode=postcode)
        language = "cy" if code.startswith("cy") else "en"
        home = "sheerness" if postcode.startswith("ME12") else "sittingbourne"
        takes_part(resident, language, home, *answers)
        return resident, language

    def stopping() -> Resident:
        sam = join(fake, "Sam", "en", postcode="ME10 5AH")
        sam.tap(TITLE, expect="Take part")
        sam.tap("Take part", expect="Question 1 of")
        sam.tap("Every month", expect="How many minutes")
        return sam

    # Ten people at once, each in their own chat, as they would be (and the test stays short).
    with ThreadPoolExecutor(len(PEOPLE) + 3) as pool:
        answering = {person[0]: pool.submit(taking_part, *person) for person in PEOPLE}
        stopped_part_way = pool.submit(stopping)
        faversham_people = [pool.submit(join, fake, name, code, postcode=post) for name, code, post in FAVERSHAM]
        took_part = {name: future.result() for name, future in answering.items()}
        sam = stopped_part_way.result()
        fay, ffion = (future.result() for future in faversham_people)
    everyone = [*(resident for resident, _ in took_part.values()), sam, fay, ffion]

    # 2. The results page: every figure equals what SQL finds in the stored responses.
    def one(sql: str, *params: object) -> int:
        return int(officer_bot.query(sql, *params)[0][0])

    submitted = one("SELECT COUNT(*) FROM responses WHERE consultation_id = ? AND submitted_at IS NOT NULL", CID)
    started = one("SELECT COUNT(*) FROM responses WHERE consultation_id = ?", CID)
    assert (submitted, started) == (7, 8)

    def answers_to(question: str) -> list[str]:
        return [
            str(value)
            for (value,) in officer_bot.query(
                "SELECT json_extract(answers, '$.' || ?) FROM responses WHERE consultation_id = ?"
                " AND submitted_at IS NOT NULL AND json_extract(answers, '$.' || ?) IS NOT NULL",
                question,
                CID,
                question,
            )
        ]

    def share(part: int, whole: int) -> str:
        return f"{int(100 * part / whole + 0.5)}%"

    sign_in(page, admin)  # the dashboard: responses each day, and whom we are not hearing from
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.get_by_role("row", name=re.compile(f"^{TITLE}")).get_by_role("cell").last).to_have_text(str(submitted))
    expect(page.locator(".dashboard-groups li")).to_have_count(1)
    expect(page.locator(".dashboard-groups")).to_contain_text(f"Area: Faversham in {TITLE}")
    looked_at(page, "dashboard")
    page.goto(workspace(officer_bot, f"/consultations/{CID}"))
    page.get_by_role("link", name="Results").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Results: {TITLE}")
    summary = page.locator(".summary-list").first
    expect(summary).to_contain_text(f"Responses{submitted}")
    expect(summary).to_contain_text(f"Started{started}")
    expect(summary).to_contain_text(f"Completed{share(submitted, started)}")
    per_day: dict[str, int] = {}
    for (at,) in officer_bot.query("SELECT submitted_at FROM responses WHERE submitted_at IS NOT NULL"):
        day = datetime.fromisoformat(at).astimezone(LONDON)
        label = f"{day.day} {day:%B %Y}"
        per_day[label] = per_day.get(label, 0) + 1
    assert table_rows(page, "Responses submitted each day") == {day: [str(n)] for day, n in per_day.items()}
    stopped = officer_bot.query(
        "SELECT current_question, COUNT(*) FROM responses WHERE consultation_id = ? AND submitted_at IS NULL"
        " GROUP BY 1",
        CID,
    )
    assert stopped == [("minutes", 1)]
    assert table_rows(page, "People who started and stopped at each question") == {
        "2. How many minutes does it take you to get there?": ["1"]
    }

    def question(number: int) -> Locator:
        return page.locator("section").filter(has=page.get_by_role("heading", name=re.compile(f"^Question {number}:")))

    visits = answers_to("visits")
    expect(question(1)).to_contain_text(f"{len(visits)} people answered")
    assert table_rows(page, "Answers to question 1") == {
        label: [str(visits.count(value)), share(visits.count(value), len(visits))]
        for value, (label, _welsh) in VISITS.items()
    }
    expect(question(1).get_by_role("img", name=re.compile("Bar chart of the answers to question 1"))).to_have_count(1)
    minutes = sorted(float(value) for value in answers_to("minutes"))
    figures = question(2).locator(".summary-list")
    expect(question(2)).to_contain_text(f"{len(minutes)} people answered")
    expect(figures).to_contain_text(f"Median{statistics.median(minutes):g}")
    expect(figures).to_contain_text(f"Lowest{minutes[0]:g}")
    expect(figures).to_contain_text(f"Highest{minutes[-1]:g}")
    written = answers_to("change")
    expect(question(3)).to_contain_text(f"{len(written)} people answered")
    expect(question(3).get_by_role("link", name=f"Read all {len(written)} written answers")).to_be_visible()
    latest = [  # the newest first, as stored
        value
        for (value,) in officer_bot.query(
            "SELECT value FROM answers WHERE consultation_id = ? AND question_id = 'change' AND value IS NOT NULL"
            " ORDER BY rowid DESC LIMIT 3",
            CID,
        )
    ]
    assert set(latest) < set(written)
    expect(question(3).locator(".written-answers li")).to_have_text(latest)  # as written: "<please>" escaped
    # An area question counts people by where they live: groups, so its small numbers are protected too.
    areas = answers_to("home_area")
    expect(question(4)).to_contain_text(f"{len(areas)} people answered")
    by_home = {label: areas.count(value) for value, (label, _welsh) in AREA_NAMES.items()}
    assert by_home == {"Sittingbourne": 4, "Sheerness and Sheppey": 3, "Faversham": 0}
    home_rows = table_rows(page, "Answers to question 4")
    assert list(home_rows) == list(by_home)
    assert_protected({label: row[0] for label, row in home_rows.items()}, by_home, len(areas))
    assert {label: row[1] for label, row in home_rows.items()} == {  # a share would tell a hidden count
        label: share(count, len(areas)) if home_rows[label][0] == shown(count) else "–"
        for label, count in by_home.items()
    }
    assert home_rows["Sheerness and Sheppey"] == ["fewer than 5", "–"]
    looked_at(page, "results")

    # The reach page: distinct people, each counted once, with the small numbers protected.
    page.get_by_role("link", name="Who took part, and whom we did not reach").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Who took part: {TITLE}")
    people = one(
        "SELECT COUNT(DISTINCT chat_id) FROM participation WHERE consultation_id = ? AND submitted_at IS NOT NULL", CID
    )
    assert people == submitted
    expect(page.get_by_role("main")).to_contain_text(f"{people} people took part.")
    expect(page.get_by_text("Some counts are not shown")).to_be_visible()
    by_area = dict(
        officer_bot.query(
            "SELECT r.area_id, COUNT(DISTINCT p.chat_id) FROM participation p JOIN residents r USING (chat_id)"
            " WHERE p.consultation_id = ? AND p.submitted_at IS NOT NULL GROUP BY 1",
            CID,
        )
    )
    assert by_area == {"sittingbourne": 5, "sheerness": 2}
    area_rows = table_rows(page, "People who took part, by area")
    assert list(area_rows) == ["Sittingbourne", "Sheerness and Sheppey", "Faversham"]
    assert_protected(
        {label: row[0] for label, row in area_rows.items()},
        {label: by_area.get(key, 0) for key, (label, _welsh) in AREA_NAMES.items()},
        people,
    )
    assert area_rows["Sittingbourne"][:3] == ["not shown", "64,000", "–"]  # a share would tell the count
    assert area_rows["Sheerness and Sheppey"][:3] == ["fewer than 5", "41,000", "–"]
    assert area_rows["Faversham"][:3] == ["0", "32,000", "0%"]
    by_language = dict(
        officer_bot.query(
            "SELECT r.language, COUNT(DISTINCT p.chat_id) FROM participation p JOIN residents r USING (chat_id)"
            " WHERE p.consultation_id = ? AND p.submitted_at IS NOT NULL GROUP BY 1",
            CID,
        )
    )
    using = dict(officer_bot.query("SELECT language, COUNT(*) FROM residents GROUP BY 1"))
    assert by_language == {"en": 5, "cy": 2} and using == {"en": 7, "cy": 3}
    language_rows = table_rows(page, "People who took part, by language")
    labels = {"en": "English", "cy": "Welsh (Cymraeg)"}
    assert set(language_rows) == set(labels.values())
    assert_protected(
        {labels[code]: language_rows[labels[code]][0] for code in labels},
        {labels[code]: by_language[code] for code in labels},
        people,
    )
    assert_protected(
        {labels[code]: language_rows[labels[code]][1] for code in labels},
        {labels[code]: using[code] for code in labels},
        sum(using.values()),
    )
    assert [row[2] for row in language_rows.values()] == ["–", "–"]
    faversham = page.get_by_role("row", name=re.compile("^Faversham"))
    expect(faversham).to_contain_text("Under-heard")
    expect(page.locator(".row-under-heard")).to_have_count(1)  # the others: hidden or small, never marked
    looked_at(page, "reach")

    # 3. From the reach page, a notice to the under-heard area: to its residents who have not taken part.
    faversham.get_by_role("button", name="Send a notice to them (Faversham)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Write a broadcast")
    expect(page.get_by_label("Faversham")).to_be_checked()
    expect(page.get_by_label("Sittingbourne")).not_to_be_checked()
    expect(page.get_by_label("Sheerness and Sheppey")).not_to_be_checked()
    expect(page.get_by_label("Did not take part in")).to_have_value(CID)
    expect(page.get_by_label("Residents' language")).to_have_value("")
    page.get_by_label("Message in English").fill(NOTICE)
    page.get_by_label("Message in Welsh (Cymraeg)").fill(NOTICE_CY)
    page.get_by_label("“Take part” button").select_option(label=TITLE)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your broadcast")
    audience = officer_bot.query(
        "SELECT chat_id FROM residents r WHERE area_id = 'faversham' AND NOT EXISTS"
        " (SELECT 1 FROM participation p WHERE p.chat_id = r.chat_id AND p.consultation_id = ?) ORDER BY chat_id",
        CID,
    )
    assert audience == sorted([(fay.chat_id,), (ffion.chat_id,)])
    expect(page.get_by_text(f"It will go to {len(audience)} residents.")).to_be_visible()
    expect(page.get_by_role("region", name="For 1 resident in Welsh (Cymraeg)")).to_contain_text(NOTICE_CY)
    expect(page.get_by_role("region", name="For 1 resident in English")).to_contain_text(NOTICE)
    assert serious_accessibility_problems(page) == []
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_contain_text("Broadcast #1 is on its way.")
    notice = fake.wait_for_message(fay.chat_id, predicate=lambda m: NOTICE in m.text)
    assert notice.text == NOTICE and notice.labels == ["Take part"]
    notice = fake.wait_for_message(ffion.chat_id, predicate=lambda m: NOTICE_CY in m.text)
    assert notice.text == NOTICE_CY and notice.labels == [translator("cy")._("Take part")]
    fake.wait_for_message(admin.chat_id, predicate=lambda m: "has finished" in m.text)
    for resident in everyone:
        if resident not in (fay, ffion):
            assert not containing(fake, resident.chat_id, "Faversham"), "took part, or lives elsewhere"
    page.reload()
    report = page.get_by_role("row").filter(has_text="#1")
    # recipients, sent, waiting, failed, unreachable, Take-part taps
    assert cells(report)[2:] == ["2", "2", "0", "0", "0", "0"]
    expect(report).to_contain_text("Finished")

    # 4. Ffion writes to the team with /contact; the officer answers her from the inbox, and she gets the
    # answer in the chat, from the engagement team, in the conversation she started.
    cy = translator("cy")
    asked = ffion.say("/contact")
    assert TITLE_CY in asked.labels, "she picks the consultation her message is about"
    ffion.tap(TITLE_CY)
    mark = fake.mark(team)
    ffion.say(QUESTION_TO_TEAM)
    fake.wait_for_message(team, since=mark, predicate=lambda m: QUESTION_TO_TEAM in m.text)
    page.goto(workspace(officer_bot, "/inbox"))
    row = page.get_by_role("row").filter(has_text=TITLE)
    expect(row).to_contain_text("Welsh")
    row.get_by_role("link").first.click()
    expect(page.get_by_text(QUESTION_TO_TEAM)).to_be_visible()
    page.get_by_label("Your reply").fill(ANSWER_FROM_TEAM)
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status")).to_contain_text("Your reply was sent to the resident")
    answer = fake.wait_for_message(ffion.chat_id, predicate=lambda m: ANSWER_FROM_TEAM in m.text)
    assert answer.text.startswith(plain(cy._("Reply from the engagement team")))
    assert officer_bot.query("SELECT from_team, text FROM contact_texts ORDER BY id") == [
        (0, QUESTION_TO_TEAM),
        (1, ANSWER_FROM_TEAM),
    ]
    assert serious_accessibility_problems(page) == []

    # 5. Closed early (Sam, part-way through, is told), then the outcome in English and Welsh.
    page.goto(workspace(officer_bot, f"/consultations/{CID}/close"))
    page.get_by_role("button", name="Close early").click()
    expect(page.get_by_role("status")).to_contain_text("1 person who had started will get a short message")
    fake.wait_for_message(sam.chat_id, predicate=lambda m: "closed early" in m.text)
    page.get_by_role("link", name="Publish the outcome: what you heard and what you did").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Outcome of {TITLE}")
    page.get_by_label("English (What you told us)").fill(TOLD)
    page.get_by_label("Welsh (Cymraeg) (What you told us)").fill(TOLD_CY)
    looked_at(page, "outcome", phone=False)
    page.get_by_role("button", name="Preview “What you told us”").click()
    expect(page.get_by_text(f"It will go to the {people} people who took part.")).to_be_visible()
    expect(page.locator(".chat-text[lang=cy]")).to_contain_text(TOLD_CY)
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_have_text(f"Published. Sending to {people} people.")
    page.get_by_label("English (What we did)").fill(DID)
    page.get_by_label("Welsh (Cymraeg) (What we did)").fill(DID_CY)
    page.get_by_role("button", name="Preview “What we did”").click()
    expect(page.get_by_text(f"Publish “What we did” to {people} people?")).to_be_visible()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_have_text(f"Published. Sending to {people} people.")
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "journey-outcome-published-phone")
    page.set_viewport_size({"width": 1280, "height": 800})

    told_them: dict[str, BotMessage] = {}
    for name, (resident, language) in took_part.items():
        t, welsh = translator(language), language == "cy"
        title = TITLE_CY if welsh else TITLE
        told = plain(t._("What you told us: %(title)s", title=title))
        told += "\n\n" + (TOLD_CY if welsh else TOLD) + "\n\n" + plain(t._("Did we get this right?"))
        told_them[name] = fake.wait_for_message(resident.chat_id, predicate=reading(told))
        assert told_them[name].labels == [t._("Yes"), t._("Partly"), t._("No")]
        did = plain(t._("What we did: %(title)s", title=title)) + "\n\n" + (DID_CY if welsh else DID)
        fake.wait_for_message(resident.chat_id, predicate=reading(did))
    fake.wait_until_idle()
    recipients = officer_bot.query("SELECT DISTINCT chat_id FROM deliveries WHERE kind = 'outcome' ORDER BY chat_id")
    assert recipients == sorted((resident.chat_id,) for resident, _ in took_part.values())
    for resident in (sam, fay, ffion):
        assert not [m for m in fake.messages(resident.chat_id) if TOLD in m.text or DID in m.text]
        assert not [m for m in fake.messages(resident.chat_id) if TOLD_CY in m.text or DID_CY in m.text]

    # Three of them say whether we got it right, two with a comment; the results page shows it as stored.
    for name, rating, said in (("Amy", "Yes", ""), ("Gwen", "Partly", "Ac ar y Sul"), ("Dan", "No", "Open earlier")):
        resident, language = took_part[name]
        t = translator(language)
        resident.tap(t._(rating), on=told_them[name], expect=t._("No thanks"))
        if said:
            resident.say(said, expect=t._("Thank you for telling us."))
        else:
            resident.tap_and_settle(t._("No thanks"))
    ratings = dict(
        officer_bot.query("SELECT rating, COUNT(*) FROM outcome_feedback WHERE consultation_id = ? GROUP BY 1", CID)
    )
    comments = officer_bot.query(
        "SELECT comment FROM outcome_feedback WHERE consultation_id = ? AND comment IS NOT NULL ORDER BY at DESC", CID
    )
    assert ratings == {"yes": 1, "partly": 1, "no": 1} and sorted(comments) == [("Ac ar y Sul",), ("Open earlier",)]
    page.goto(workspace(officer_bot, f"/consultations/{CID}/results"))
    assert table_rows(page, "What people said about the outcome") == {
        label: [str(ratings.get(rating, 0))] for rating, label in (("yes", "Yes"), ("partly", "Partly"), ("no", "No"))
    }
    expect(page.locator(".written-answers").last.get_by_role("listitem")).to_have_text([c for (c,) in comments])

    # The report of the outcomes sent; the team; the audit log of this consultation, each action by name.
    page.goto(workspace(officer_bot, "/broadcasts"))
    notices = page.locator(".notices-table tbody th")
    expect(notices).to_have_text([f"Closed early: to people part-way through {TITLE}", f"Outcome {TITLE}"])
    sent = page.locator(".notices-table tbody tr").filter(has_text="Outcome")
    assert cells(sent)[1:] == [
        str(2 * people),
        str(2 * people),
        "0",
        "0",
        "0",
        "No button",
    ]  # both texts to each; no Take part
    looked_at(page, "broadcasts")
    page.goto(workspace(officer_bot, "/team"))
    looked_at(page, "team")
    page.goto(workspace(officer_bot, "/audit"))
    page.get_by_label("Consultation").select_option(label=TITLE)
    page.get_by_role("button", name="Show entries").click()
    actions = page.locator("tbody tr td:nth-child(3)")
    expect(actions).to_have_text(
        [
            "Published an outcome",
            "Published an outcome",
            "Closed a consultation early",
            "Replied to a resident",
            "Sent a notice",
            "Published a consultation",
        ]
    )
    looked_at(page, "audit")

    # The public page, without signing in: in English, then in Welsh.
    page.context.clear_cookies()
    page.goto(workspace(officer_bot, "/outcomes"))
    entry = page.locator("section").filter(has=page.get_by_role("heading", name=TITLE))
    expect(entry).to_contain_text(TOLD)
    expect(entry).to_contain_text(DID)
    expect(page.get_by_role("link", name="Sign out")).to_have_count(0)
    looked_at(page, "public", phone=False)
    page.get_by_label("Language").select_option("cy")
    page.get_by_role("button", name="Change language").click()
    entry = page.locator("section").filter(has=page.get_by_role("heading", name=TITLE_CY))
    expect(entry).to_contain_text(TOLD_CY)
    expect(entry).to_contain_text(DID_CY)
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "journey-public-welsh-phone")
    assert "Traceback" not in officer_bot.log()
