"""Browsing consultations: the open ones, and one consultation's card with "Take part"."""

from __future__ import annotations

from datetime import datetime

from conversations import callbacks, outcomes
from conversations.i18n import escape
from conversations.routes import ButtonRoute, out_of_date
from conversations.screens import Button, Reply, Screen, shorten
from conversations.services import Visit
from conversations.survey.model import Consultation, pick_text

SUMMARY_LENGTH = 160  # about two lines on a phone
LIST_LABEL_LENGTH = 40
OPEN_CARD = "card"  # card:<consultation id>
LIST = "list"  # list


def content(visit: Visit, consultation: Consultation, field_name: str) -> str:
    """A consultation's text in the resident's language, escaped for HTML.

    Text shown in the default language inside a right-to-left message is isolated,
    so that its punctuation and numbers keep their order.
    """
    text, fallback = pick_text(getattr(consultation, field_name), visit.language, consultation.default_language)
    return visit.t.isolate(escape(text)) if fallback else escape(text)


def fallback_note(visit: Visit, consultation: Consultation) -> str | None:
    """A line in the resident's language when the consultation is not translated into it."""
    if consultation.is_translated_into(visit.language):
        return None
    t = visit.t
    return (
        "<i>"
        + t._(
            "This consultation is not available in %(language)s yet, so it is shown in %(default)s.",
            language=t.language_name(visit.language),
            default=t.language_name(consultation.default_language),
        )
        + "</i>"
    )


async def open_list(visit: Visit) -> Reply:
    """/consultations: every consultation open now, with a button to open each."""
    t = visit.t
    open_now = await visit.services.consultations.open_now(visit.now())
    if not open_now:
        return Reply((Screen(t._("There are no open consultations right now. Please come back soon.")),))
    parts = ["<b>" + t._("Open consultations") + "</b>"]
    buttons = []
    for consultation in open_now:
        title = consultation.text("title", visit.language)
        summary = shorten(consultation.text("summary", visit.language), SUMMARY_LENGTH)
        closes = t._("Closes on %(date)s", date=t.date(consultation.closes))
        parts.append(f"<b>{escape(title)}</b>\n{escape(summary)}\n<i>{closes}</i>")
        buttons.append((Button(shorten(title, LIST_LABEL_LENGTH), callbacks.encode(OPEN_CARD, consultation.id)),))
    parts.append(t._("Tap a consultation to find out more and take part."))
    return Reply((Screen("\n\n".join(parts), tuple(buttons)),))


async def unknown_consultation(visit: Visit) -> Reply:
    """A link to a consultation we do not have: say so, then show the open ones."""
    sorry = Screen(visit.t._("Sorry, I could not find that consultation. It may have been removed."))
    listing = await open_list(visit)
    return Reply((sorry, *listing.screens))


async def card(visit: Visit, consultation_id: str, *, edit: bool = False, source: str | None = None) -> Reply:
    """One consultation: why, what can and cannot change, who decides, contact, closing date.

    `source`: the source tag of the link the resident came by; "Take part" carries it on.
    """
    loaded = await visit.services.consultations.current(consultation_id)
    if loaded is None:
        return await unknown_consultation(visit)
    return Reply((await card_screen(visit, loaded.model, source=source),), edit=edit)


async def card_screen(
    visit: Visit, c: Consultation, now: datetime | None = None, *, source: str | None = None
) -> Screen:
    """The card itself, as it is at `now` (the workspace's preview shows it while open)."""
    t = visit.t
    now = now or visit.now()
    parts = [f"<b>{content(visit, c, 'title')}</b>"]
    note = fallback_note(visit, c)
    if note:
        parts.append(note)
    parts += [
        content(visit, c, "summary"),
        "<b>" + t._("What you can influence") + "</b>\n" + content(visit, c, "can_influence"),
        "<b>" + t._("What you cannot influence") + "</b>\n" + content(visit, c, "cannot_influence"),
        "<b>" + t._("Who decides, and when") + "</b>\n" + content(visit, c, "decision_by"),
        "<b>" + t._("Questions or concerns") + "</b>\n" + content(visit, c, "contact"),
        "<i>" + t._("From %(organisation)s", organisation=c.text("organisation", visit.language)) + "</i>",
    ]
    buttons: list[tuple[Button, ...]] = []
    if now < c.opens:
        parts.append("<b>" + t._("This consultation opens on %(date)s.", date=t.date(c.opens)) + "</b>")
    elif now >= c.closes:
        parts.append(
            "<b>"
            + t._("This consultation closed on %(date)s. Thank you for your interest.", date=t.date(c.closes))
            + "</b>"
        )
        parts += await _after_closing(visit, c, buttons)
    else:
        parts.append("<b>" + t._("Closes on %(date)s", date=t.date(c.closes)) + "</b>")
        action = await _take_part_button(visit, c, source)
        if action is None:
            parts.append(t._("You have already taken part in this consultation. Thank you!"))
        else:
            buttons.append((action,))
    buttons.append((Button(t._("« All consultations"), callbacks.encode(LIST)),))
    return Screen("\n\n".join(parts), tuple(buttons))


async def _after_closing(visit: Visit, c: Consultation, buttons: list[tuple[Button, ...]]) -> list[str]:
    """A closed consultation: whether the resident took part, and its outcome (a button) or when it will come."""
    t, services = visit.t, visit.services
    lines = []
    if visit.resident is not None:
        stored = await services.db.responses.get(visit.pseudonyms.response(c.id))
        took_part = stored is not None and stored.submitted
        lines.append(
            t._("You took part in this consultation. Thank you!")
            if took_part
            else t._("You did not take part in this consultation.")
        )
    if await services.db.outcomes.get(c.id):
        lines.append(t._("The outcome has been published: what people told us and what was decided."))
        buttons.append((Button(t._("Read the outcome"), callbacks.encode(outcomes.READ, c.id)),))
    else:
        lines.append(t._("The outcome will be published here when it has been decided."))
    return lines


async def _take_part_button(visit: Visit, c: Consultation, source: str | None = None) -> Button | None:
    """ "Take part", "Continue where you left off", or None once the resident has submitted."""
    t = visit.t
    label = t._("Take part")
    if visit.resident is not None:
        services = visit.services
        stored = await services.db.responses.get(visit.pseudonyms.response(c.id))
        if stored is not None and stored.submitted:
            return None
        if stored is not None:
            label = t._("Continue where you left off")
    return Button(label, callbacks.encode(callbacks.TAKE_PART, c.id, *((source,) if source else ())))


async def _card_tapped(visit: Visit, tapped: callbacks.Callback) -> Reply:
    consultation_id = tapped.arg(0)
    if not consultation_id:
        return out_of_date(visit)
    return await card(visit, consultation_id, edit=True)


async def _list_tapped(visit: Visit, tapped: callbacks.Callback) -> Reply:
    listing = await open_list(visit)
    return Reply(listing.screens, edit=True)


BUTTONS = (
    ButtonRoute(OPEN_CARD, _card_tapped),
    ButtonRoute(LIST, _list_tapped),
)
