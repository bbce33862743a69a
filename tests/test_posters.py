"""The QR poster's rules and drawing, without Telegram: what an officer may ask for, and what is printed."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pypdfium2  # type: ignore[import-untyped]
import pytest
import zxingcpp
from PIL import Image

from conversations import deep_links, posters
from conversations.services import Services
from conversations.survey.model import Consultation
from tests.offline import GP_HOURS, offline_services

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
BOT = "SwaleHaveYourSayBot"
A4 = (595.28, 841.89)
DEJAVU_ONLY = [Path("/usr/share/fonts/truetype/dejavu")]


@pytest.fixture
async def services(database_target: str) -> AsyncIterator[Services]:
    async with offline_services(database_target, NOW, GP_HOURS, bot_username=BOT) as found:
        yield found


async def gp_hours(services: Services) -> Consultation:
    loaded = await services.consultations.current("gp-opening-hours")
    assert loaded is not None
    return loaded.model


def problems(asked: posters.PosterRequest) -> list[tuple[str, str]]:
    return [(problem.field, problem.message) for problem in asked.problems]


async def test_the_source_tag_and_the_languages_are_checked(services: Services) -> None:
    c, t = await gp_hours(services), services.catalogs.translator("en")
    assert problems(posters.make_poster(services, c, t, "  ", [])) == [
        ("source", "Enter a source tag, for example surgery-waiting-room"),
        ("languages", "Choose at least one language"),
    ]
    [(field, message)] = problems(posters.make_poster(services, c, t, "surgery waiting room", ["en"]))
    assert field == "source" and message.startswith("A source tag can only have letters, digits and hyphens")
    room = deep_links.source_room(c.id)
    too_long = problems(posters.make_poster(services, c, t, "x" * (room + 1), ["en"]))
    assert too_long == [("source", f"A source tag for this consultation can have at most {room} characters")]
    # A language the bot does not speak is not offered, so it is not printed either.
    assert problems(posters.make_poster(services, c, t, "library", ["xx"])) == [
        ("languages", "Choose at least one language")
    ]


async def test_the_poster_carries_the_link_with_its_source_in_the_consultations_order(services: Services) -> None:
    c, t = await gp_hours(services), services.catalogs.translator("en")
    asked = posters.make_poster(services, c, t, " Surgery-Waiting-Room ", ["ar", "cy", "en"])
    assert asked.problems == () and asked.poster is not None
    poster = asked.poster
    assert poster.link == f"https://t.me/{BOT}?start=gp-opening-hours_surgery-waiting-room"
    assert deep_links.parse(poster.link.partition("?start=")[2]) == deep_links.DeepLink(c.id, "surgery-waiting-room")
    # The consultation's own language first, then the catalogs' order.
    assert [text.language for text in poster.texts] == ["en", "ar", "cy"]
    english, arabic, welsh = poster.texts
    assert english == posters.PosterText(
        "en", "GP opening hours", "Scan to have your say in Telegram", "Closes on 31 January 2027"
    )
    assert welsh.title == "Oriau agor meddygfeydd teulu" and welsh.closes == "Yn cau ar 31 Ionawr 2027"
    # A title not yet translated falls back to the consultation's own language; no HTML escapes reach paper.
    assert arabic.title == "GP opening hours" and arabic.rtl and "&" not in arabic.closes
    assert poster.filename("pdf") == "poster-gp-opening-hours-surgery-waiting-room.pdf"


async def test_a_script_no_installed_font_can_draw_is_refused_not_printed_as_boxes(services: Services) -> None:
    c, t = await gp_hours(services), services.catalogs.translator("en")
    asked = posters.make_poster(services, c, t, "library", ["en", "ar", "bn"], font_dirs=DEJAVU_ONLY)
    assert asked.poster is None
    assert problems(asked) == [
        ("languages", "Arabic (العربية) cannot be printed on this server: no font for its script is installed."),
        ("languages", "Bangla (বাংলা) cannot be printed on this server: no font for its script is installed."),
    ]
    choices = posters.language_choices(services, c, t, font_dirs=DEJAVU_ONLY)
    assert {choice.code for choice in choices if not choice.printable} == {"ar", "bn", "pa", "ur"}
    assert not any(choice.printable for choice in posters.language_choices(services, c, t, font_dirs=[]))


def letters(text: str) -> str:
    """Text without the marks shaping may store in another order (ੂ and ੰ of ਨੂੰ) and without isolates."""
    return "".join(c for c in text if unicodedata.category(c) not in ("Mn", "Cf"))


@pytest.mark.slow
async def test_the_pdf_is_one_a4_page_with_every_languages_words_and_the_png_scans(services: Services) -> None:
    c, t = await gp_hours(services), services.catalogs.translator("en")
    everyone = ["en", "cy", "ar", "ur", "bn", "pa", "uk"]
    assert all(choice.printable for choice in posters.language_choices(services, c, t)), "install fonts-noto-core"
    asked = posters.make_poster(services, c, t, "library", everyone)
    assert asked.poster is not None
    document = pypdfium2.PdfDocument(posters.pdf_bytes(asked.poster))
    assert len(document) == 1
    assert document[0].get_size() == pytest.approx(A4, abs=0.5)
    # Control characters stand where a glyph of several letters maps back to no text.
    words = "".join(c for c in document[0].get_textpage().get_text_range() if unicodedata.category(c) != "Cc")
    for expected in (
        "GP opening hours",
        "Oriau agor meddygfeydd teulu",
        "Closes on 31 January 2027",
        asked.poster.link,
    ):
        assert expected in words
    # Arabic joined and right to left, Bengali and Gurmukhi shaped: their words read back as written.
    # (Nastaliq's stacked letters do not read back in order: its page was looked at instead.)
    for text in asked.poster.texts:
        if text.language in ("ar", "bn", "pa", "uk"):
            assert letters(text.closes) in letters(words), text.language
    picture = Image.open(io.BytesIO(posters.png_bytes(asked.poster)))
    assert picture.format == "PNG" and picture.size == (1241, 1754)  # A4 at 150 dots per inch
    assert [found.text for found in zxingcpp.read_barcodes(picture)] == [asked.poster.link]
