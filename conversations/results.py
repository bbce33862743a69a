"""/results and /reach for officers: counts, percentages, where people stopped, and who we did not reach.

Reports carry counts only. Any count of people by group (area, language, "About you" answer; in
/results and on the results page, the answers to an area question) under 5 is shown as "fewer than 5",
and one more count where needed so that it cannot be worked out from the total
(conversations.small_numbers): small cells identify people.
"""

from __future__ import annotations

import asyncio
import html
import io
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path

from conversations import callbacks, link_sources
from conversations.i18n import Translator, escape
from conversations.routes import ButtonRoute
from conversations.screens import MAX_MESSAGE_LENGTH, Attachment, Button, Reply, Screen, rows, shorten
from conversations.services import Services, Visit
from conversations.small_numbers import SMALL, Shown, protect
from conversations.survey.areas import Area
from conversations.survey.model import Consultation, Question, QuestionType, pick_text
from storage.clock import from_text, to_text
from storage.results import Tally

PREFIX = "r"
CHARTED = (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE, QuestionType.SCALE, QuestionType.YES_NO)


def _data(verb: str, argument: str | None = None) -> str:
    return callbacks.encode(PREFIX, verb, argument)


def percent(t: Translator, part: int, whole: int) -> str:
    # Half up, as people round: 62.5% reads as 63%.
    return t.number(int(100 * part / whole + 0.5)) + "%" if whole else "–"


async def choose_consultation(visit: Visit, verb: str) -> Reply:
    """Which consultation? (for /results, /export, /reach)"""
    t = visit.t
    ids = await visit.services.db.consultations.all_ids()
    if not ids:
        return Reply((Screen(t._("No consultations have been imported yet.")),))
    buttons = []
    for consultation_id in ids:
        loaded = await visit.services.consultations.current(consultation_id)
        title = loaded.model.text("title", visit.language) if loaded else consultation_id
        buttons.append(Button(shorten(title, 40), _data(verb, consultation_id)))
    if verb == "reach":
        buttons.append(Button(t._("All consultations"), _data(verb)))
    return Reply((Screen(t._("Which consultation?"), rows(*buttons)),))


@dataclass(frozen=True)
class Results:
    """The results text (one or more messages) and the chart."""

    screens: tuple[Screen, ...]
    chart: bytes | None
    chart_title: str = ""


async def results(visit: Visit, consultation_id: str) -> Results | None:
    loaded = await visit.services.consultations.current(consultation_id)
    if loaded is None:
        return None
    c = loaded.model
    t, areas = visit.t, visit.services.deployment.areas
    tally = await visit.services.db.results.tally(consultation_id, written_ids(c))
    comments = await visit.services.db.results.comments(consultation_id)
    blocks = _result_blocks(t, c, tally, comments, areas)
    sources = link_sources.chat_block(t, await link_sources.by_source(visit.services, consultation_id))
    blocks += [sources] if sources else []
    buttons = _export_buttons(t, consultation_id)
    if any(q.type is QuestionType.TEXT and tally.answered.get(q.id) for q in c.survey):
        buttons = ((Button(t._("Read the written answers"), _data("texts", consultation_id)),), *buttons)
    title = chart_title(t, c, tally, visit.now())
    return Results(_pack(blocks, buttons), await chart_png(t, c, tally, areas, title), title)


def _result_blocks(
    t: Translator, c: Consultation, tally: Tally, comments: list[str], areas: Sequence[Area] = ()
) -> list[str]:
    language = t.language
    title = pick_text(c.title, language, c.default_language)[0]
    blocks = [
        "<b>"
        + t._("Results: %(title)s", title=title)
        + "</b>\n"
        + t._(
            "%(submitted)s submitted of %(started)s started (%(rate)s completed)",
            submitted=t.number(tally.submitted),
            started=t.number(tally.started),
            rate=percent(t, tally.submitted, tally.started),
        ),
    ]
    stopped = [(q, tally.stopped_at.get(q.id, 0)) for q in c.survey if tally.stopped_at.get(q.id)]
    if stopped:
        lines = [f"{_number_of(c, q)}. {escape(shorten(_text(t, c, q), 50))}: {t.number(n)}" for q, n in stopped]
        blocks.append("<b>" + t._("Where people stopped") + "</b>\n" + "\n".join(lines))
    for q in c.survey:
        if q.type in CHARTED or q.type is QuestionType.AREA:
            blocks.append(_question_block(t, c, q, tally, areas))
        elif q.type is QuestionType.NUMBER:
            blocks.append(_number_block(t, c, q, tally))
        elif q.type is QuestionType.TEXT:
            blocks.append(_text_block(t, c, q, tally))
    if tally.feedback:
        feedback = " · ".join(
            f"{label}: {t.number(tally.feedback.get(key, 0))}"
            for key, label in (("yes", t._("Yes")), ("partly", t._("Partly")), ("no", t._("No")))
        )
        block = "<b>" + t._("Did we get this right?") + "</b>\n" + feedback
        if comments:
            block += "\n" + "\n".join(f"• {escape(shorten(comment, 200))}" for comment in comments)
        blocks.append(block)
    return blocks


def _question_block(t: Translator, c: Consultation, q: Question, tally: Tally, areas: Sequence[Area] = ()) -> str:
    answered = tally.answered.get(q.id, 0)
    counts = tally.values.get(q.id, {})
    lines = [f"<b>{_number_of(c, q)}. {escape(_text(t, c, q))}</b>"]
    labelled = _labelled_values(t, c, q, areas)
    cells = answer_counts(q, counts, labelled)
    for (_value, label), cell in zip(labelled, cells, strict=True):
        if cell.shown is Shown.EXACT:
            lines.append(f"{escape(label)} — {t.number(cell.count)} ({percent(t, cell.count, answered)})")
        else:  # a share would tell the count
            lines.append(f"{escape(label)} — {shown_count(t, cell)}")
    lines.append("<i>" + t.n_("%(n)d person answered", "%(n)d people answered", answered) + "</i>")
    if any(cell.shown is Shown.HIDDEN for cell in cells):  # say why
        lines.append(t._("Some counts are not shown, so that a group of fewer than 5 cannot be worked out."))
    return "\n".join(lines)


def _number_block(t: Translator, c: Consultation, q: Question, tally: Tally) -> str:
    """A number question: how many answered, the median and the range."""
    answered = tally.answered.get(q.id, 0)
    lines = [f"<b>{_number_of(c, q)}. {escape(_text(t, c, q))}</b>"]
    spread = _spread(tally.values.get(q.id, {}))
    if spread:
        median, lowest, highest = spread
        lines.append(
            t._(
                "Median %(median)s · lowest %(lowest)s · highest %(highest)s",
                median=t.number(median),
                lowest=t.number(lowest),
                highest=t.number(highest),
            )
        )
    lines.append("<i>" + t.n_("%(n)d person answered", "%(n)d people answered", answered) + "</i>")
    return "\n".join(lines)


def _spread(counts: dict[str, int]) -> tuple[float, float, float] | None:
    """The median, lowest and highest of the numbers given (stored as text, one entry per value with how many
    gave it), from the counts: no list of every answer. None when no number was given."""
    given: list[tuple[float, int]] = []
    for value, count in counts.items():
        try:
            number = float(value)
        except ValueError:
            continue
        if count > 0:
            given.append((int(number) if number.is_integer() else number, count))
    if not given:
        return None
    given.sort()
    total = sum(count for _number, count in given)

    def at(position: int) -> float:  # the number at this place (from 0) of them all in order
        for number, count in given:
            if position < count:
                return number
            position -= count
        raise AssertionError("position beyond the numbers given")

    middle = total // 2
    median = at(middle) if total % 2 else (at(middle - 1) + at(middle)) / 2  # as statistics.median does
    return median, given[0][0], given[-1][0]


def _text_block(t: Translator, c: Consultation, q: Question, tally: Tally) -> str:
    """A free-text question: how many wrote something (the button below sends what they wrote)."""
    answered = tally.answered.get(q.id, 0)
    return (
        f"<b>{_number_of(c, q)}. {escape(_text(t, c, q))}</b>\n<i>"
        + t.n_("%(n)d written answer", "%(n)d written answers", answered)
        + "</i>"
    )


def _labelled_values(t: Translator, c: Consultation, q: Question, areas: Sequence[Area] = ()) -> list[tuple[str, str]]:
    if q.type is QuestionType.AREA:
        listed = [a for a in areas if not c.areas or a.id in c.areas] or list(areas)
        return [(a.id, a.display_name(t.language, c.default_language)) for a in listed]
    if q.type is QuestionType.YES_NO:
        return [("yes", t._("Yes")), ("no", t._("No"))]
    if q.type is QuestionType.SCALE:
        return [
            (
                str(p),
                str(p) + (f" {pick_text(q.labels[p], t.language, c.default_language)[0]}" if p in q.labels else ""),
            )
            for p in q.scale_points()
        ]
    return [(choice.id, pick_text(choice.text, t.language, c.default_language)[0]) for choice in q.choices]


def written_ids(c: Consultation) -> list[str]:
    """The free-text questions: results count who answered them, and leave what they wrote to its own page."""
    return [q.id for q in c.survey if q.type is QuestionType.TEXT]


def answer_counts(q: Question, counts: dict[str, int], labelled: Sequence[tuple[str, str]]) -> list[Count]:
    """How many gave each answer (`labelled`'s values), as officers may see them.

    The answers to an area question count people by where they live: groups of people, so the one
    small-numbers rule applies (PRIVACY.md, conversations.small_numbers), against the total of those who
    answered. The answers to an ordinary choice, scale or yes/no question are opinions, not groups of
    people, and are shown as they are.
    """
    raw = [counts.get(value, 0) for value, _label in labelled]
    if q.type is QuestionType.AREA:
        return protected(raw)
    return [Count(count) for count in raw]


def _text(t: Translator, c: Consultation, q: Question) -> str:
    return pick_text(q.text, t.language, c.default_language)[0]


def _number_of(c: Consultation, q: Question) -> int:
    return c.survey.index(q) + 1


def _pack(blocks: list[str], buttons: tuple[tuple[Button, ...], ...]) -> tuple[Screen, ...]:
    """Blocks joined into as few messages as fit Telegram's limit; buttons on the last."""
    texts: list[str] = []
    for block in blocks:
        block = block[: MAX_MESSAGE_LENGTH - 16]
        if texts and len(texts[-1]) + len(block) + 2 <= MAX_MESSAGE_LENGTH - 16:
            texts[-1] += "\n\n" + block
        else:
            texts.append(block)
    return tuple(Screen(text, buttons if i == len(texts) - 1 else ()) for i, text in enumerate(texts))


def _export_buttons(t: Translator, consultation_id: str) -> tuple[tuple[Button, ...], ...]:
    """Buttons under the results: the two export formats."""
    return (
        (
            Button(t._("Export as CSV"), _data("csv", consultation_id)),
            Button(t._("Export as Excel"), _data("xlsx", consultation_id)),
        ),
    )


def chart_title(t: Translator, c: Consultation, tally: Tally, when: datetime) -> str:
    """What the chart is of: the consultation, when it was drawn, and how many responses it counts."""
    return t.n_(
        "%(title)s · %(date)s · %(n)d response",
        "%(title)s · %(date)s · %(n)d responses",
        tally.submitted,
        title=pick_text(c.title, t.language, c.default_language)[0],
        date=t.date(when),
    )


@dataclass(frozen=True)
class ChartPanel:
    """One question's bars, as drawn: labels and counts from the top down, and the words for a hidden count."""

    title: str
    labels: tuple[str, ...]
    counts: tuple[int, ...]  # 0 where a count is protected: its bar would tell it
    notes: tuple[tuple[int, str], ...] = ()  # (row from the top, what stands in the bar's place)


def chart_panels(t: Translator, c: Consultation, tally: Tally, areas: Sequence[Area] = ()) -> list[ChartPanel]:
    """What the chart shows for each choice, scale, yes/no and area question (none before a submission)."""
    if not tally.submitted:
        return []
    panels = []
    for q in c.survey:
        if not is_charted(q, areas):
            continue
        labelled = _labelled_values(t, c, q, areas)
        cells = answer_counts(q, tally.values.get(q.id, {}), labelled)
        # A protected count has no bar (its length would tell it): its words stand in its place.
        panels.append(
            ChartPanel(
                title=shorten(f"{_number_of(c, q)}. {_text(t, c, q)}", 60),
                labels=tuple(shorten(label, 28) for _, label in labelled),
                counts=tuple(cell.count if cell.shown is Shown.EXACT else 0 for cell in cells),
                notes=tuple(
                    (row, html.unescape(shown_count(t, cell)))
                    for row, cell in enumerate(cells)
                    if cell.shown is not Shown.EXACT
                ),
            )
        )
    return panels


# One chart drawn at a time: matplotlib's font and text caches are shared by every figure.
_drawing = threading.Lock()


def draw_chart(title: str, panels: Sequence[ChartPanel]) -> bytes:
    """The PNG of `panels`, one bar chart under another, sized to read on a phone, under `title` (plain text).

    Runs in a worker thread (`chart_png`): ~0.15 s of CPU a question, which would otherwise hold up
    every resident's reply. So matplotlib's object-oriented API on a figure of its own and the Agg
    canvas, never pyplot, whose current figure is global state.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with _drawing:
        figure = Figure(figsize=(6, 2.4 * len(panels) + 0.5))
        FigureCanvasAgg(figure)
        axes = figure.subplots(len(panels), 1, squeeze=False)
        if title:
            figure.suptitle(shorten(title, 70), fontsize=11, fontweight="bold")
        for axis, panel in zip(axes[:, 0], panels, strict=True):
            axis.barh(list(panel.labels[::-1]), list(panel.counts[::-1]), color="#005eb8")
            last = len(panel.labels) - 1
            for row, words in panel.notes:
                axis.text(0, last - row, " " + words, va="center", fontsize=9)
            axis.set_title(panel.title, fontsize=10, loc="left")
            axis.tick_params(labelsize=9)
            axis.xaxis.get_major_locator().set_params(integer=True)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


async def chart_png(
    t: Translator,
    c: Consultation,
    tally: Tally,
    areas: Sequence[Area] = (),
    title: str = "",
) -> bytes | None:
    """A bar chart per choice, scale, yes/no and area question, under `title`; None when there is nothing to chart.

    The figures and words are worked out here; the drawing runs in a worker thread, so that the
    event loop goes on answering residents meanwhile.
    """
    panels = chart_panels(t, c, tally, areas)
    if not panels:
        return None
    # Plain text for matplotlib: the title as a person reads it, with no HTML escapes.
    return await asyncio.to_thread(draw_chart, html.unescape(title), panels)


def _about_you_lines(t: Translator, tables: Sequence[ReachTable]) -> list[str]:
    """Equality monitoring totals, each below 5 shown as "fewer than 5"."""
    if not tables:
        return []
    lines = ["", "<b>" + t._("About you (equality monitoring)") + "</b>"]
    for table in tables:
        parts = [f"{row.label}: {shown_count(t, row.people)}" for row in table.rows]
        lines.append(f"{escape(table.title)}\n  " + escape(" · ".join(parts)))
    return lines


async def reach(visit: Visit, consultation_id: str | None) -> Reply:
    """Who took part against who could have, by area (population) and by language (registered residents)."""
    t = visit.t
    found = await reach_report(visit.services, t, consultation_id)
    lines = ["<b>" + t._("Who took part: %(scope)s", scope=found.scope) + "</b>", "", "<b>" + t._("By area") + "</b>"]
    for row in found.areas:
        if not row.key:
            lines.append(t._("Area not given: %(count)s", count=shown_count(t, row.people)))
        elif row.base is not None:
            lines.append(
                t._(
                    "%(area)s: %(count)s of %(population)s people",
                    area=row.label,
                    count=shown_count(t, row.people),
                    population=t.number(row.base.count),
                )
            )
        else:
            lines.append(t._("%(area)s: %(count)s", area=row.label, count=shown_count(t, row.people)))
    lines += ["", "<b>" + t._("By language") + "</b>"]
    for row in found.languages:
        assert row.base is not None
        lines.append(
            t._(
                "%(language)s: %(count)s of %(registered)s residents using the bot",
                language=row.label,
                count=shown_count(t, row.people),
                registered=shown_count(t, row.base),
            )
        )
    lines += _about_you_lines(t, found.equality)
    if found.under_heard:
        names = ", ".join(row.label for row in found.under_heard)
        lines += ["", "⚠️ " + t._("Lowest participation: %(areas)s", areas=names)]
    if found.hidden:  # a count hidden by secondary suppression: say why
        lines += ["", t._("Some counts are not shown, so that a group of fewer than 5 cannot be worked out.")]
    return Reply((Screen("\n".join(lines)),))


async def tapped(visit: Visit, verb: str | None, consultation_id: str | None) -> Reply:
    """A button of /results, /export or /reach."""
    t = visit.t
    if verb == "reach":
        return await reach(visit, consultation_id)
    if not consultation_id or await visit.services.consultations.current(consultation_id) is None:
        return Reply(notice=t._("That button is out of date."))
    if verb == "show":
        found = await results(visit, consultation_id)
        assert found is not None
        chart = (
            (Attachment(f"{consultation_id}.png", found.chart, caption=found.chart_title, picture=True),)
            if found.chart
            else ()
        )
        return Reply(found.screens, attachments=chart)
    if verb == "texts":
        return await written_answers(visit, consultation_id)
    if verb in ("csv", "xlsx"):
        return await export_file(visit, consultation_id, verb)
    return Reply(notice=t._("That button is out of date."))


EXPORT_FORMATS = ("csv", "xlsx")


async def export_command(visit: Visit, argument: str | None) -> Reply:
    """/export, /export xlsx, /export ID, /export ID xlsx: the file at once when the consultation is
    named, else a choice of consultation; CSV unless the officer asks for Excel."""
    t = visit.t
    words = (argument or "").split()
    file_format = "csv"
    if words and words[-1].lower() in EXPORT_FORMATS:
        file_format = words.pop().lower()
    if len(words) > 1:
        return Reply((Screen(_export_usage(t)),))
    if not words:
        return await choose_consultation(visit, file_format)
    ids = await visit.services.db.consultations.all_ids()
    found = next((cid for cid in ids if cid.lower() == words[0].lower()), None)
    if found is None:
        return Reply((Screen(t._("There is no consultation “%(id)s”.", id=words[0]) + "\n" + _export_usage(t)),))
    return await export_file(visit, found, file_format)


def _export_usage(t: Translator) -> str:
    return t._("Send /export csv or /export xlsx, or /export followed by a consultation's id and the format.")


async def written_answers(visit: Visit, consultation_id: str) -> Reply:
    """Every answer to the consultation's free-text questions, as a text file: question by question."""
    t, db = visit.t, visit.services.db
    loaded = await visit.services.consultations.current(consultation_id)
    assert loaded is not None
    c = loaded.model
    parts: list[str] = [pick_text(c.title, t.language, c.default_language)[0]]
    count = 0
    for q in c.survey:
        if q.type is not QuestionType.TEXT:
            continue
        answers = await db.results.text_answers(consultation_id, q.id)
        count += len(answers)
        parts.append(f"{_number_of(c, q)}. {_text(t, c, q)}")
        parts += ["- " + answer.replace("\n", "\n  ") for answer in answers] or ["-"]
    caption = t.n_("%(n)d written answer", "%(n)d written answers", count)
    content = ("\n\n".join(parts) + "\n").encode("utf-8")
    return Reply(attachments=(Attachment(f"{consultation_id}-written-answers.txt", content, caption=caption),))


def export_detail(consultation_id: str, file_format: str, count: int) -> str:
    """The audit log's account of an export (chat and command line alike)."""
    return f"{consultation_id} as {'Excel' if file_format == 'xlsx' else 'CSV'}, {count} responses"


async def export_file(visit: Visit, consultation_id: str, file_format: str) -> Reply:
    """The export as a file in the officer's chat."""
    name, content, count = await export_download(
        visit.services, visit.chat_id, consultation_id, file_format, visit.now()
    )
    caption = visit.t.n_("%(n)d response", "%(n)d responses", count)
    return Reply(attachments=(Attachment(name, content, caption=caption),))


async def export_download(
    services: Services, officer_id: int, consultation_id: str, file_format: str, now: datetime
) -> tuple[str, bytes, int]:
    """One consultation's export (file name, content, responses), audited: the chat and the workspace
    alike (written to disk first, as the command line does)."""
    from conversations.export import write_csv, write_xlsx

    db, catalogs, areas = services.db, services.catalogs, services.deployment.areas
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{consultation_id}.{file_format}"
        if file_format == "xlsx":
            count = await write_xlsx(db, consultation_id, path, catalogs, areas)
        else:
            with path.open("w", encoding="utf-8", newline="") as handle:
                count = await write_csv(db, consultation_id, handle, catalogs, areas)
        content = path.read_bytes()
    # Personal data leaving the system: who, which consultation, which format, when.
    await db.officers.audit(officer_id, "export", export_detail(consultation_id, file_format, count), now)
    return path.name, content, count


async def _tapped(visit: Visit, tapped_: callbacks.Callback) -> Reply:
    return await tapped(visit, tapped_.arg(0), tapped_.arg(1))


BUTTONS = (ButtonRoute(PREFIX, _tapped, needs_resident=False, officers_only=True),)


# Reach as data: the chat's /reach and the workspace's reach page both show this.

UNDER_HEARD = 0.5
"""A group is under-heard when the share of it that took part is under half the share of all groups together."""


@dataclass(frozen=True)
class Count:
    """One count of a table, and how officers may see it (conversations.small_numbers)."""

    count: int
    shown: Shown = Shown.EXACT


def shown_count(t: Translator, cell: Count) -> str:
    """A count as the chat shows it: the number, "fewer than 5", or "not shown"."""
    if cell.shown is Shown.EXACT:
        return t.number(cell.count)
    return t._("fewer than %(n)d", n=SMALL) if cell.shown is Shown.FEWER else t._("not shown")


def small_counts(t: Translator, counts: list[int]) -> list[str]:
    """One table's counts as officers may see them: "fewer than 5", and "not shown" where subtraction would tell."""
    return [shown_count(t, cell) for cell in protected(counts)]


def protected(counts: list[int]) -> list[Count]:
    return [Count(count, how) for count, how in zip(counts, protect(counts), strict=True)]


@dataclass(frozen=True)
class ReachRow:
    """One group: its people who took part, against its population (areas) or residents using the bot (languages)."""

    key: str  # the area's id ("" for "area not given"), the language's code, or the equality answer
    label: str
    people: Count
    base: Count | None = None
    under_heard: bool = False

    @property
    def rate(self) -> float | None:
        """The share of the group that took part, where both counts may be seen (a rate would tell a hidden one)."""
        if self.base is None or not self.base.count:
            return None
        if self.people.shown is not Shown.EXACT or self.base.shown is not Shown.EXACT:
            return None
        return self.people.count / self.base.count


@dataclass(frozen=True)
class ReachTable:
    """One "About you" question's answers among the people who took part."""

    key: str
    title: str
    rows: tuple[ReachRow, ...]


@dataclass(frozen=True)
class Reach:
    consultation_id: str | None
    scope: str
    people: int
    areas: tuple[ReachRow, ...]
    languages: tuple[ReachRow, ...]
    equality: tuple[ReachTable, ...]

    @property
    def under_heard(self) -> list[ReachRow]:
        return [row for row in (*self.areas, *self.languages) if row.under_heard]

    @property
    def hidden(self) -> bool:
        cells = [row.people for row in (*self.areas, *self.languages)]
        cells += [row.base for row in self.languages if row.base is not None]
        cells += [row.people for table in self.equality for row in table.rows]
        return any(cell.shown is Shown.HIDDEN for cell in cells)


def is_under_heard(people: Count, base: Count | None, overall: float) -> bool:
    """Whether a group took part at under half the rate of all groups together, as far as the counts shown
    tell: a "fewer than 5" group counts as 4 and a "not shown" one is never marked, so the mark cannot give
    a hidden count away."""
    if base is None or base.shown is not Shown.EXACT or not base.count or overall <= 0:
        return False
    if people.shown is Shown.HIDDEN:
        return False
    most = people.count if people.shown is Shown.EXACT else SMALL - 1
    return most / base.count < overall * UNDER_HEARD


def _rated(rows: list[ReachRow]) -> tuple[ReachRow, ...]:
    """The rows with their under-heard mark, against the rate of every group with a known size."""
    sized = [row for row in rows if row.base is not None and row.base.count]
    total_base = sum(row.base.count for row in sized if row.base is not None)
    overall = sum(row.people.count for row in sized) / total_base if total_base else 0.0
    return tuple(
        ReachRow(row.key, row.label, row.people, row.base, is_under_heard(row.people, row.base, overall))
        for row in rows
    )


async def reach_report(services: Services, t: Translator, consultation_id: str | None) -> Reach:
    """Distinct people who took part (in one consultation, or any) by area, language and "About you" answer,
    with every count as officers may see it, and the groups we under-heard."""
    from conversations.about_you import PREFER_NOT, QUESTIONS

    deployment, db = services.deployment, services.db
    by_area = await db.results.people_by("area_id", consultation_id)
    by_language = await db.results.people_by("language", consultation_id)
    registered = await db.results.residents_by_language()
    scope = t._("All consultations")
    if consultation_id:
        loaded = await services.consultations.current(consultation_id)
        scope = loaded.model.text("title", t.language) if loaded else consultation_id
    area_cells = protected([by_area.get(area.id, 0) for area in deployment.areas] + [by_area.get("", 0)])
    areas = [
        ReachRow(
            area.id,
            area.display_name(t.language, deployment.default_language),
            cell,
            Count(area.population) if area.population else None,
        )
        for area, cell in zip(deployment.areas, area_cells, strict=False)
    ]
    if area_cells[-1].count or area_cells[-1].shown is not Shown.EXACT:
        areas.append(ReachRow("", "", area_cells[-1]))
    codes = sorted(set(registered) | set(by_language))
    took_part = protected([by_language.get(code, 0) for code in codes])
    using = protected([registered.get(code, 0) for code in codes])
    languages = [
        ReachRow(code, t.language_label(code), part, residents)
        for code, part, residents in zip(codes, took_part, using, strict=True)
    ]
    equality: list[ReachTable] = []
    counts = await db.equality.counts(consultation_id)
    for question in QUESTIONS:
        given = counts.get(question.key)
        if not given:
            continue
        labels = [*question.choices(t), (PREFER_NOT, t._("Prefer not to say"))]
        cells = protected([given.get(value, 0) for value, _label in labels])
        rows_ = tuple(ReachRow(value, label, cell) for (value, label), cell in zip(labels, cells, strict=True))
        equality.append(ReachTable(question.key, question.text(t), rows_))
    return Reach(
        consultation_id,
        scope,
        sum(by_area.values()),
        _rated(areas),
        _rated(languages),
        tuple(equality),
    )


# Results as data: the workspace's results page shows this, from the same tally and rules as /results.


def is_charted(q: Question, areas: Sequence[Area] = ()) -> bool:
    return q.type in CHARTED or (q.type is QuestionType.AREA and bool(areas))


@dataclass(frozen=True)
class Answer:
    """One choice (or scale point, yes or no, area) and how many people gave it."""

    label: str
    count: int
    percent: str  # of the people who answered the question; "–" when the count is not shown
    shown: Shown = Shown.EXACT  # an area question's small counts are protected (conversations.small_numbers)


@dataclass(frozen=True)
class QuestionResults:
    number: int
    id: str
    type: QuestionType
    text: str
    answered: int
    answers: tuple[Answer, ...] = ()  # choice, scale, yes/no and area questions
    median: str = ""  # number and scale questions
    lowest: str = ""
    highest: str = ""
    charted: bool = False


@dataclass(frozen=True)
class Stopped:
    """Where unfinished responses stopped: the question, and how many stopped there."""

    number: int
    text: str
    count: int


@dataclass(frozen=True)
class Day:
    day: date
    count: int


@dataclass(frozen=True)
class ResultsReport:
    id: str
    title: str
    started: int
    submitted: int
    completed: str  # the share of started responses that were submitted
    stopped: tuple[Stopped, ...]
    questions: tuple[QuestionResults, ...]
    feedback: dict[str, int]  # "Did we get this right?": yes / partly / no -> count
    comments: tuple[str, ...]
    days: tuple[Day, ...]  # submitted responses per day, in the deployment's time zone, gaps as 0
    chart_title: str


async def results_report(
    services: Services, t: Translator, consultation_id: str, now: datetime, comments: int = 100
) -> ResultsReport | None:
    """Everything the results page shows about one consultation (the latest `comments` feedback comments)."""
    loaded = await services.consultations.current(consultation_id)
    if loaded is None:
        return None
    c, areas, db = loaded.model, services.deployment.areas, services.db
    tally = await db.results.tally(consultation_id, written_ids(c))
    questions = tuple(_question_results(t, c, q, tally, areas) for q in c.survey)
    stopped = tuple(
        Stopped(_number_of(c, q), _text(t, c, q), tally.stopped_at[q.id])
        for q in c.survey
        if tally.stopped_at.get(q.id)
    )
    return ResultsReport(
        id=consultation_id,
        title=_text_of(t, c),
        started=tally.started,
        submitted=tally.submitted,
        completed=percent(t, tally.submitted, tally.started),
        stopped=stopped,
        questions=questions,
        feedback=tally.feedback,
        comments=tuple(await db.results.comments(consultation_id, comments)),
        days=await submitted_days(services, consultation_id, t.timezone),
        chart_title=html.unescape(chart_title(t, c, tally, now)),
    )


def _text_of(t: Translator, c: Consultation) -> str:
    return pick_text(c.title, t.language, c.default_language)[0]


def _question_results(
    t: Translator, c: Consultation, q: Question, tally: Tally, areas: Sequence[Area]
) -> QuestionResults:
    answered = tally.answered.get(q.id, 0)
    counts = tally.values.get(q.id, {})
    answers: tuple[Answer, ...] = ()
    if q.type in CHARTED or q.type is QuestionType.AREA:
        labelled = _labelled_values(t, c, q, areas)
        answers = tuple(
            Answer(
                label,
                cell.count,
                percent(t, cell.count, answered) if cell.shown is Shown.EXACT else "–",  # a share would tell it
                cell.shown,
            )
            for (_value, label), cell in zip(labelled, answer_counts(q, counts, labelled), strict=True)
        )
    median = lowest = highest = ""
    if q.type in (QuestionType.NUMBER, QuestionType.SCALE):
        spread = _spread(counts)
        if spread:
            median, lowest, highest = (t.number(number) for number in spread)
    return QuestionResults(
        number=_number_of(c, q),
        id=q.id,
        type=q.type,
        text=_text(t, c, q),
        answered=answered,
        answers=answers,
        median=median,
        lowest=lowest,
        highest=highest,
        charted=is_charted(q, areas) and tally.submitted > 0,
    )


async def submitted_days(
    services: Services, consultation_id: str, timezone: tzinfo, first: date | None = None, last: date | None = None
) -> tuple[Day, ...]:
    """Submitted responses on each day in the deployment's time zone, from `first` to `last` (by default
    from the first submission's day to the last one's), with no gaps: the results page and the dashboard."""
    if first is None or last is None:
        span = await services.db.results.submitted_span(consultation_id)
        if span is None:
            return ()
        ends = sorted(_local_day(stored, timezone) for stored in span)  # a date alone may sort before a time
        first, last = first or ends[0], last or ends[1]
    dates = [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def starts(day: date) -> str:
        return to_text(datetime.combine(day, time(0), tzinfo=timezone))

    bounds = [(day.isoformat(), starts(day), starts(day + timedelta(days=1))) for day in dates]
    counts = await services.db.results.submitted_per_day(consultation_id, bounds)
    return tuple(Day(day, count) for day, count in zip(dates, counts, strict=True))


def _local_day(stored: str, timezone: tzinfo) -> date:
    """The day of a stored timestamp in `timezone` (an anonymised response's stores only its date)."""
    if len(stored) <= 10:
        return date.fromisoformat(stored)
    return from_text(stored).astimezone(timezone).date()


@dataclass(frozen=True)
class WrittenQuestion:
    """A free-text question as the pages of its answers name it."""

    consultation_id: str
    number: int
    id: str
    text: str


async def written_question(
    services: Services, t: Translator, consultation_id: str, question_id: str
) -> WrittenQuestion | None:
    """A consultation's free-text question, by its id (None if there is none): nothing is counted, so a page
    of its answers costs only that page."""
    loaded = await services.consultations.current(consultation_id)
    if loaded is None:
        return None
    c = loaded.model
    q = next((q for q in c.survey if q.id == question_id and q.type is QuestionType.TEXT), None)
    return None if q is None else WrittenQuestion(consultation_id, _number_of(c, q), q.id, _text(t, c, q))


async def written_answers_page(
    services: Services, consultation_id: str, question_id: str, search: str, page: int, per_page: int = 50
) -> tuple[int, list[str]]:
    """One page (from 1) of the answers to a free-text question that contain `search`, newest first,
    and how many match."""
    return await services.db.results.text_answers_page(
        consultation_id, question_id, search.strip(), per_page, max(page - 1, 0) * per_page
    )
