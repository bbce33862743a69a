"""/results and /reach for officers: counts, percentages, where people stopped, and who we did not reach.

Reports carry counts only. In /reach any group of fewer than 5 people is shown as
"fewer than 5": small cells identify people.
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.i18n import Translator, escape
from conversations import callbacks
from conversations.screens import MAX_MESSAGE_LENGTH, Attachment, Button, Reply, Screen, rows, shorten
from conversations.services import Visit
from conversations.survey.model import Consultation, Question, QuestionType, pick_text
from storage.results import Tally

PREFIX = "r"
SMALL = 5
CHARTED = (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE, QuestionType.SCALE, QuestionType.YES_NO)


def _data(verb: str, argument: str | None = None) -> str:
    return callbacks.encode(PREFIX, verb, argument)


def small_count(t: Translator, count: int) -> str:
    """A count as officers may see it: "fewer than 5" below five."""
    return t._("fewer than %(n)d", n=SMALL) if 0 < count < SMALL else t.number(count)


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


async def results(visit: Visit, consultation_id: str) -> Results | None:
    loaded = await visit.services.consultations.current(consultation_id)
    if loaded is None:
        return None
    c = loaded.model
    tally = await visit.services.db.results.tally(consultation_id)
    comments = await visit.services.db.results.comments(consultation_id)
    blocks = _result_blocks(visit.t, c, tally, comments)
    return Results(_pack(blocks, _export_buttons(visit.t, consultation_id)), chart_png(visit.t, c, tally))


def _result_blocks(t: Translator, c: Consultation, tally: Tally, comments: list[str]) -> list[str]:
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
        if q.type in CHARTED:
            blocks.append(_question_block(t, c, q, tally))
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


def _question_block(t: Translator, c: Consultation, q: Question, tally: Tally) -> str:
    answered = tally.answered.get(q.id, 0)
    counts = tally.values.get(q.id, {})
    lines = [f"<b>{_number_of(c, q)}. {escape(_text(t, c, q))}</b>"]
    for value, label in _labelled_values(t, c, q):
        count = counts.get(value, 0)
        lines.append(f"{escape(label)} — {t.number(count)} ({percent(t, count, answered)})")
    lines.append("<i>" + t.n_("%(n)d person answered", "%(n)d people answered", answered) + "</i>")
    return "\n".join(lines)


def _labelled_values(t: Translator, c: Consultation, q: Question) -> list[tuple[str, str]]:
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


def chart_png(t: Translator, c: Consultation, tally: Tally) -> bytes | None:
    """A bar chart per choice, scale and yes/no question, sized to read on a phone."""
    charted = [q for q in c.survey if q.type in CHARTED]
    if not charted or not tally.submitted:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(len(charted), 1, figsize=(6, 2.4 * len(charted)), squeeze=False)
    for axis, q in zip(axes[:, 0], charted, strict=True):
        labelled = _labelled_values(t, c, q)
        counts = [tally.values.get(q.id, {}).get(value, 0) for value, _ in labelled]
        axis.barh([shorten(label, 28) for _, label in labelled][::-1], counts[::-1], color="#005eb8")
        axis.set_title(shorten(f"{_number_of(c, q)}. {_text(t, c, q)}", 60), fontsize=10, loc="left")
        axis.tick_params(labelsize=9)
        axis.xaxis.get_major_locator().set_params(integer=True)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    pyplot.close(figure)
    return buffer.getvalue()


def _about_you_lines(t: Translator, counts: dict[str, dict[str, int]]) -> list[str]:
    """Equality monitoring totals, each below 5 shown as "fewer than 5"."""
    from conversations.about_you import PREFER_NOT, QUESTIONS

    if not counts:
        return []
    lines = ["", "<b>" + t._("About you (equality monitoring)") + "</b>"]
    for question in QUESTIONS:
        given = counts.get(question.key)
        if not given:
            continue
        labels = [*question.choices(t), (PREFER_NOT, t._("Prefer not to say"))]
        parts = [f"{label}: {small_count(t, given.get(value, 0))}" for value, label in labels]
        lines.append(f"{escape(question.text(t))}\n  " + escape(" · ".join(parts)))
    return lines


async def reach(visit: Visit, consultation_id: str | None) -> Reply:
    """Who took part against who could have, by area (population) and by language (registered residents)."""
    t, services = visit.t, visit.services
    deployment = services.deployment
    db = services.db
    by_area = await db.results.submitted_by("area_id", consultation_id)
    by_language = await db.results.submitted_by("language", consultation_id)
    registered = await db.results.residents_by_language()
    scope = t._("All consultations")
    if consultation_id:
        loaded = await services.consultations.current(consultation_id)
        scope = loaded.model.text("title", visit.language) if loaded else consultation_id
    lines = ["<b>" + t._("Who took part: %(scope)s", scope=scope) + "</b>", "", "<b>" + t._("By area") + "</b>"]
    rates: list[tuple[float, str]] = []
    for area in deployment.areas:
        name = area.display_name(visit.language, deployment.default_language)
        count = by_area.get(area.id, 0)
        if area.population:
            rates.append((count / area.population, name))
            lines.append(
                t._(
                    "%(area)s: %(count)s of %(population)s people",
                    area=name,
                    count=small_count(t, count),
                    population=t.number(area.population),
                )
            )
        else:
            lines.append(t._("%(area)s: %(count)s", area=name, count=small_count(t, count)))
    unknown_area = by_area.get("", 0)
    if unknown_area:
        lines.append(t._("Area not given: %(count)s", count=small_count(t, unknown_area)))
    lines += ["", "<b>" + t._("By language") + "</b>"]
    for language in sorted(set(registered) | set(by_language)):
        lines.append(
            t._(
                "%(language)s: %(count)s of %(registered)s residents using the bot",
                language=t.language_name(language),
                count=small_count(t, by_language.get(language, 0)),
                registered=small_count(t, registered.get(language, 0)),
            )
        )
    lines += _about_you_lines(t, await db.equality.counts(consultation_id))
    lowest = [name for _rate, name in sorted(rates)[:2]]
    if lowest and len(rates) > 2:
        lines += ["", "⚠️ " + t._("Lowest participation: %(areas)s", areas=", ".join(lowest))]
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
        chart = (Attachment(f"{consultation_id}.png", found.chart, picture=True),) if found.chart else ()
        return Reply(found.screens, attachments=chart)
    if verb in ("csv", "xlsx"):
        return await export_file(visit, consultation_id, verb)
    return Reply(notice=t._("That button is out of date."))


def export_detail(consultation_id: str, file_format: str, count: int) -> str:
    """The audit log's account of an export (chat and command line alike)."""
    return f"{consultation_id} as {'Excel' if file_format == 'xlsx' else 'CSV'}, {count} responses"


async def export_file(visit: Visit, consultation_id: str, file_format: str) -> Reply:
    """The export as a file in the officer's chat (written to disk first, as the command line does)."""
    from conversations.export import write_csv, write_xlsx

    db = visit.services.db
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{consultation_id}.{file_format}"
        if file_format == "xlsx":
            count = await write_xlsx(db, consultation_id, path)
        else:
            with path.open("w", encoding="utf-8", newline="") as handle:
                count = await write_csv(db, consultation_id, handle)
        content = path.read_bytes()
    # Personal data leaving the system: who, which consultation, which format, when.
    await db.officers.audit(visit.chat_id, "export", export_detail(consultation_id, file_format, count), visit.now())
    caption = visit.t.n_("%(n)d response", "%(n)d responses", count)
    return Reply(attachments=(Attachment(path.name, content, caption=caption),))
