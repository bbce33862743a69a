"""Preview as a resident: the screens the bot's own engine makes, in any language, the strict
Telegram-HTML-to-page converter, a draft with problems, and "Send this to me"."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from bot.web.telegram_html import telegram_to_page
from conversations import preview
from conversations.authoring import State
from conversations.screens import Screen
from conversations.services import Services
from conversations.survey.model import QuestionType
from tests.offline import GP_HOURS, offline_services

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
OFFICER = 555_000_042


@pytest.fixture
async def services(database_target: str) -> AsyncIterator[Services]:
    async with offline_services(database_target, NOW, GP_HOURS, admins=frozenset({OFFICER})) as found:
        yield found


def gp_hours() -> dict[str, Any]:
    data = yaml.safe_load(GP_HOURS.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    for key in ("opens", "closes"):
        data[key] = data[key].isoformat()
    return data


def texts(found: preview.Preview) -> str:
    return "\n".join(s.screen.text for s in found.screens)


def labels(screen: Screen) -> list[str]:
    return [button.label for row in screen.buttons for button in row]


# -- the converter ------------------------------------------------------------------------------


def test_the_converter_keeps_telegram_formatting_and_nothing_else() -> None:
    page = str(telegram_to_page('<b>Bold</b> <i>it</i> <u>u</u> <s>s</s> <code>c</code> <pre>p</pre> &amp; "q"'))
    assert page == '<b>Bold</b> <i>it</i> <u>u</u> <s>s</s> <code>c</code> <pre>p</pre> &amp; "q"'


def test_the_converter_shows_a_script_as_text() -> None:
    # As the engine escapes it (officer text), and as it would be if it were not.
    escaped = telegram_to_page("<b>Title &lt;script&gt;alert(1)&lt;/script&gt;</b>")
    assert str(escaped) == "<b>Title &lt;script&gt;alert(1)&lt;/script&gt;</b>"
    raw = str(telegram_to_page('<script>alert("x")</script><img src=x onerror=alert(1)><div onclick="y">z</div>'))
    assert "<script" not in raw and "<img" not in raw and "<div" not in raw
    assert raw.startswith("&lt;script&gt;alert(")


def test_the_converter_keeps_only_web_and_telegram_links_and_only_their_address() -> None:
    quoted = str(telegram_to_page('<a href="https://x.org/?q=&quot;onmouseover=alert(1)" onclick="evil()">ok</a>'))
    assert quoted == '<a href="https://x.org/?q=&quot;onmouseover=alert(1)" rel="noopener noreferrer">ok</a>'
    assert "onclick" not in quoted
    assert str(telegram_to_page('<a href="javascript:alert(1)">no</a> after')) == "no after"
    assert str(telegram_to_page('<a href=" JavaScript:alert(1)">no</a>')) == "no"
    assert str(telegram_to_page('<a href="tg://resolve?domain=x">tg</a>')).startswith('<a href="tg://resolve')


def test_the_converter_closes_what_it_opens() -> None:
    assert str(telegram_to_page("<b>open <i>nested")) == "<b>open <i>nested</i></b>"
    assert str(telegram_to_page("stray</b> end")) == "stray end"
    assert str(telegram_to_page("<!-- c --><?pi?>x")) == "&lt;!-- c --&gt;&lt;?pi?&gt;x"


# -- what the preview shows -----------------------------------------------------------------------


async def test_every_question_type_appears_in_welsh_with_the_catalogs_texts(services: Services) -> None:
    found = await preview.preview(services, "gp-opening-hours", "cy", NOW)
    assert found is not None and found.language == "cy" and not found.rtl
    assert [s.kind for s in found.screens] == ["card", *["question"] * 7, "summary", "receipt"]
    assert {s.question_type for s in found.questions} == {t.value for t in QuestionType}
    assert [s.number for s in found.questions] == [1, 2, 3, 4, 5, 6, 7]
    t = services.catalogs.translator("cy")
    card = found.screens[0].screen
    assert "Oriau agor meddygfeydd teulu" in card.text
    assert t._("Take part") in labels(card) and t._("Take part") != "Take part"
    single, multiple, scale, text, yes_no, number, area = (s.screen for s in found.questions)
    assert t._("Tap one answer.") in single.text and "Yn ystod yr wythnos ddiwethaf" in labels(single)
    assert "⬜ Cyn 8yb" in labels(multiple) and t._("Done") in labels(multiple)
    assert labels(scale)[:5] == ["1", "2", "3", "4", "5"]
    assert "Beth sy'n ei wneud yn anodd?" in text.text and t._("Skip") in labels(text)
    assert [t._("Yes"), t._("No")] == labels(yes_no)[:2]
    assert t._("Type a number from %(low)s to %(high)s.", low="0", high="300") in number.text
    assert "Sheerness a Sheppey" in labels(area)
    # show_if is noted: the text question follows the scale's two lowest points.
    assert found.questions[3].shown_if == preview.Condition(3, ("1 (Anodd iawn)", "2"))
    assert all(s.shown_if is None for i, s in enumerate(found.questions) if i != 3)
    summary, receipt = found.screens[-2].screen, found.screens[-1].screen
    assert t._("Please check your answers") in summary.text and t._("Submit") in labels(summary)
    assert "Yn ystod yr wythnos ddiwethaf" in summary.text  # a sample answer
    assert t._("Thank you. We have received your answers.") in receipt.text
    assert not any(s.untranslated for s in found.screens)
    assert found.real_card and found.state is State.OPEN and not found.errors


async def test_arabic_is_right_to_left_with_the_catalogs_texts_and_the_missing_translation_marked(
    services: Services,
) -> None:
    found = await preview.preview(services, "gp-opening-hours", "ar", NOW)
    assert found is not None and found.rtl and found.default_language == "en"
    t = services.catalogs.translator("ar")
    assert t._("Tap one answer.") in found.questions[0].screen.text
    assert t._("Tap one answer.") != "Tap one answer."
    # Not translated into Arabic: shown in English as the bot does (isolated), with its note, and marked.
    assert "\u2068GP opening hours\u2069" in found.screens[0].screen.text
    assert "هذه الاستشارة غير متوفرة" in found.screens[0].screen.text
    assert all(s.untranslated for s in found.screens)


async def test_the_consultations_own_language_comes_first_and_an_unknown_one_falls_back_to_it(
    services: Services,
) -> None:
    data = gp_hours()
    data["default_language"] = "cy"
    data["id"] = "welsh-first"
    await services.db.workspace.save_draft(data, OFFICER, NOW)
    found = await preview.preview(services, "welsh-first", "xx", NOW)
    assert found is not None and found.language == "cy"
    assert preview.preview_languages(services, "cy")[:2] == ["cy", "en"]
    assert len(preview.preview_languages(services, "cy")) == len(services.catalogs.languages)
    assert found.state is State.DRAFT and not found.real_card
    assert await preview.preview(services, "no-such-thing", "en", NOW) is None


async def test_a_draft_with_problems_previews_what_it_can(services: Services) -> None:
    data = gp_hours()
    data["id"] = "broken"
    del data["summary"]  # a missing text
    data["survey"][2]["max"] = 99  # the scale: too many points; the text question depends on it
    data["survey"][4]["type"] = "essay"  # an unknown type
    data["opens"] = "not a date"
    await services.db.workspace.save_draft(data, OFFICER, NOW)
    found = await preview.preview(services, "broken", "en", NOW)
    assert found is not None and found.errors
    assert found.left_out == (3, 4, 5)
    assert found.placeholders
    assert [s.number for s in found.questions] == [1, 2, 6, 7]
    assert [s.kind for s in found.screens] == ["card", *["question"] * 4, "summary", "receipt"]
    assert preview.PLACEHOLDER in found.screens[0].screen.text


async def test_a_draft_without_a_survey_still_shows_its_card(services: Services) -> None:
    data = gp_hours()
    data["id"] = "no-questions"
    data["survey"] = []
    data["title"] = {"en": 'Tea & <script>alert("x")</script>'}
    await services.db.workspace.save_draft(data, OFFICER, NOW)
    found = await preview.preview(services, "no-questions", "en", NOW)
    assert found is not None and found.errors
    assert [s.kind for s in found.screens] == ["card"]
    page = str(telegram_to_page(found.screens[0].screen.text))
    assert '<b>Tea &amp; &lt;script&gt;alert("x")&lt;/script&gt;</b>' in page


async def test_a_draft_that_is_not_a_consultation_at_all_has_nothing_to_preview(services: Services) -> None:
    await services.db.workspace.save_draft({"id": "empty"}, OFFICER, NOW)
    found = await preview.preview(services, "empty", "en", NOW)
    assert found is not None and found.errors
    # Everything is missing: every text stands in, so there is still a card to see.
    assert [s.kind for s in found.screens] == ["card"] and found.placeholders


# -- "Send this to me" --------------------------------------------------------------------------


async def queued(services: Services) -> list[tuple[int, str, str, list[list[dict[str, str]]]]]:
    rows = await services.db.connection.execute_fetchall(
        "SELECT chat_id, kind, text, buttons FROM deliveries ORDER BY id"
    )
    return [(int(r[0]), str(r[1]), str(r[2]), json.loads(r[3]) if r[3] else []) for r in rows]


async def test_an_open_consultation_sends_the_real_card(services: Services) -> None:
    officer_t = services.catalogs.translator("en")
    count = await preview.send_to_officer(services, OFFICER, officer_t, "gp-opening-hours", "cy")
    assert count == 1
    [(chat, kind, text, buttons)] = await queued(services)
    assert chat == OFFICER and kind == "preview"
    assert "Oriau agor meddygfeydd teulu" in text and "Preview" not in text
    assert buttons[0][0]["data"] == "take:gp-opening-hours"
    [entry] = await services.db.officers.audit_entries()
    assert (entry.actor_id, entry.action) == (OFFICER, "preview sent")
    assert "gp-opening-hours in cy" in entry.detail


async def test_a_draft_sends_every_screen_marked_as_a_preview_with_buttons_that_do_nothing(
    services: Services,
) -> None:
    data = copy.deepcopy(gp_hours())
    data["id"] = "new-one"
    await services.db.workspace.save_draft(data, OFFICER, NOW)
    officer_t = services.catalogs.translator("en")
    count = await preview.send_to_officer(services, OFFICER, officer_t, "new-one", "ar")
    sent = await queued(services)
    assert count == len(sent) == 10
    assert all(text.startswith("🔍 <b>Preview") for _chat, _kind, text, _buttons in sent)
    assert "Preview 1 of 10" in sent[0][2] and "Preview 10 of 10" in sent[-1][2]
    every_button = [b for _c, _k, _t, rows in sent for row in rows for b in row]
    assert every_button and {b["data"] for b in every_button} == {preview.PREVIEW_BUTTON}
    [entry] = await services.db.officers.audit_entries()
    assert entry.action == "preview sent" and "new-one in ar" in entry.detail


async def test_a_tap_on_a_previews_button_only_says_so(services: Services) -> None:
    from conversations.callbacks import decode
    from conversations.services import begin_visit

    visit = await begin_visit(services, OFFICER, "en")
    [route] = preview.BUTTONS
    tapped = decode(preview.PREVIEW_BUTTON)
    assert tapped is not None
    reply = await route.handle(visit, tapped)
    assert reply.notice == "This is only a preview: its buttons do nothing." and not reply.screens


async def test_the_about_you_invitation_follows_the_receipt_when_the_consultation_asks_it(
    services: Services,
) -> None:
    data = gp_hours()
    data["id"] = "with-about-you"
    data["about_you"] = True
    await services.db.workspace.save_draft(data, OFFICER, NOW)
    found = await preview.preview(services, "with-about-you", "cy", NOW)
    assert found is not None and [s.kind for s in found.screens][-2:] == ["receipt", "about_you"]
    t = services.catalogs.translator("cy")
    assert t._("About you (optional)") in found.screens[-1].screen.text
    assert found.title("cy") == "Oriau agor meddygfeydd teulu" and found.title("ar") == "GP opening hours"
