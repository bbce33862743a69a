"""The results page's bar chart: drawn from the figures of the table beside it, escaped, mirrored right to left."""

from __future__ import annotations

import base64
import re
from xml.etree import ElementTree

from bot.web.charts import BARS, chart_picture, chart_svg
from conversations.results import Answer, QuestionResults
from conversations.survey.model import QuestionType

QUESTION = QuestionResults(
    3,
    "times",
    QuestionType.MULTIPLE_CHOICE,
    "Which <times> suit you?",
    10,
    (Answer("Before 8am", 8, "80%"), Answer("<b>Late</b>", 4, "40%"), Answer("Never", 0, "0%")),
    charted=True,
)


def bars(svg: str) -> list[float]:
    return [float(width) for width in re.findall(r'<rect x="[^"]+" y="[^"]+" width="([^"]+)"', svg)]


def test_a_bar_per_answer_as_long_as_its_count_with_the_text_escaped() -> None:
    svg = chart_svg(QUESTION, "GP hours · 1 December 2026 · 10 responses", ["8", "4", "0"])
    drawing = ElementTree.fromstring(svg)  # well-formed: every text escaped
    texts = [element.text for element in drawing.iter("{http://www.w3.org/2000/svg}text")]
    assert texts[:2] == ["GP hours · 1 December 2026 · 10 responses", "3. Which <times> suit you?"]
    assert texts[2:] == ["Before 8am", "8", "<b>Late</b>", "4", "Never", "0"]
    assert bars(svg) == [BARS, BARS / 2, 0]


def test_right_to_left_bars_grow_from_the_labels_on_the_right() -> None:
    svg = chart_svg(QUESTION, "title", ["٨", "٤", "٠"], rtl=True)
    first_bar = re.search(r'<rect x="([^"]+)" y="[^"]+" width="([^"]+)"', svg)
    assert first_bar is not None
    label = re.search(r'<text x="([^"]+)"[^>]*>Before 8am<', svg)
    assert label is not None and float(label.group(1)) >= float(first_bar.group(1)) + float(first_bar.group(2))
    assert 'direction="rtl"' in svg and "٨" in svg


def test_the_picture_is_in_the_page() -> None:
    picture = chart_picture(QUESTION, "title", ["8", "4", "0"])
    assert picture.startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(picture.split(",", 1)[1]).decode() == chart_svg(QUESTION, "title", ["8", "4", "0"])
