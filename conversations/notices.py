"""Notices the bot sends on its own: a consultation has opened, a reminder before one closes.

Both go only within the deployment's civil hours (`Deployment.next_civil_time`): an opening
notice queued at night waits for the morning.

They are computed from the database at each tick of the scheduler and queued with a
key that makes each one unique, so a restart or a stretch of downtime neither loses
nor repeats them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from conversations import callbacks
from conversations.i18n import Translator, escape
from conversations.screens import Button, Screen, buttons_to_data, shorten
from conversations.services import Services
from conversations.survey.model import Consultation, pick_text
from storage.deliveries import PRIORITY_NOTICE, PRIORITY_REMINDER, NewDelivery
from storage.residents import Audience

SUMMARY_LENGTH = 200
# What each notice is, in its delivery's key and in its "Take part" button (conversations/taps.py).
OPENED, REMINDER, CLOSING = "opened", "reminder", "closing"


def notice_key(what: str, consultation_id: str, chat_id: int) -> str:
    """The delivery of one notice about one consultation to one resident: queued once."""
    return f"{what}:{consultation_id}:{chat_id}"


def _text(t: Translator, c: Consultation, field_name: str) -> str:
    return escape(pick_text(getattr(c, field_name), t.language, c.default_language)[0])


def _title(t: Translator, c: Consultation) -> str:
    return pick_text(c.title, t.language, c.default_language)[0]


def opening_notice(t: Translator, c: Consultation) -> Screen:
    """A new consultation is open: what it is about, when it closes, and "Take part"."""
    summary = shorten(pick_text(c.summary, t.language, c.default_language)[0], SUMMARY_LENGTH)
    parts = [
        "<b>" + t._("A new consultation is open: %(title)s", title=_title(t, c)) + "</b>",
        escape(summary),
        t._("Closes on %(date)s", date=t.date(c.closes)),
    ]
    button = Button(t._("Take part"), callbacks.take_part(c.id, message=OPENED))
    return Screen("\n\n".join(parts), ((button,),))


def unfinished_reminder(t: Translator, c: Consultation) -> Screen:
    """You started and have not sent your answers; it closes soon; continue where you left off."""
    parts = [
        "<b>" + _text(t, c, "title") + "</b>",
        t._(
            "You started answering this consultation but have not sent your answers yet. It closes on %(date)s.",
            date=t.date_time(c.closes),
        ),
    ]
    button = Button(t._("Continue where you left off"), callbacks.take_part(c.id, message=REMINDER))
    return Screen("\n\n".join(parts), ((button,),))


def closing_soon(t: Translator, c: Consultation) -> Screen:
    """A consultation in your area or interests closes soon and you have not taken part."""
    parts = [
        "<b>" + _text(t, c, "title") + "</b>",
        t._("This consultation closes on %(date)s. There is still time to have your say.", date=t.date_time(c.closes)),
    ]
    button = Button(t._("Take part"), callbacks.take_part(c.id, message=CLOSING))
    return Screen("\n\n".join(parts), ((button,),))


def audience_of(c: Consultation) -> Audience:
    """The residents a consultation concerns: its areas or topics, or everyone."""
    return Audience(areas=c.areas, topics=c.topics)


async def opening_audience(services: Services, c: Consultation) -> list[tuple[int, str]]:
    """(chat id, language) of each resident an opening notice of `c` goes to."""
    return await services.db.residents.audience(audience_of(c), wants="notices")


async def queue_opening_notices(services: Services, now: datetime) -> int:
    """Tell matching residents about each consultation that has opened and was not announced yet."""
    queued = 0
    db = services.db
    for consultation_id in await db.consultations.unannounced_open(now):
        loaded = await services.consultations.current(consultation_id)
        if loaded is None:
            continue
        c = loaded.model
        recipients = await opening_audience(services, c)
        deliveries = [
            _delivery(
                services,
                chat_id,
                language,
                "notice",
                PRIORITY_NOTICE,
                opening_notice,
                c,
                dedupe=notice_key(OPENED, c.id, chat_id),
                expires=c.closes,
                civil=True,
                not_before=services.deployment.next_civil_time(now),
            )
            for chat_id, language in recipients
        ]
        async with db.transaction():
            queued += await db.deliveries.enqueue(deliveries, now)
            await db.consultations.mark_announced(c.id, now)
    return queued


async def queue_reminders(services: Services, now: datetime, window: timedelta) -> int:
    """One reminder to each resident who started and did not submit, and one "closing soon" to subscribers.

    Computed only at civil hours, so that what is queued goes out at once: a reminder queued
    at night would wait until morning and could reach someone who has submitted meanwhile.
    """
    if not services.deployment.in_civil_hours(now):
        return 0
    queued = 0
    db = services.db
    for c in await services.consultations.open_now(now):
        if now < c.closes - window:
            continue
        unfinished = await db.residents.audience(Audience(unfinished_of=c.id), wants="reminders")
        deliveries = [
            _delivery(
                services,
                chat_id,
                language,
                "reminder",
                PRIORITY_REMINDER,
                unfinished_reminder,
                c,
                dedupe=notice_key(REMINDER, c.id, chat_id),
                expires=c.closes,
                civil=True,
            )
            for chat_id, language in unfinished
        ]
        if c.areas or c.topics:
            subscribers = replace(audience_of(c), not_taking_part_in=c.id)
            deliveries += [
                _delivery(
                    services,
                    chat_id,
                    language,
                    "closing",
                    PRIORITY_REMINDER,
                    closing_soon,
                    c,
                    dedupe=notice_key(CLOSING, c.id, chat_id),
                    expires=c.closes,
                    civil=True,
                )
                for chat_id, language in await db.residents.audience(subscribers, wants="reminders")
            ]
        queued += await db.deliveries.enqueue(deliveries, now)
    return queued


def _delivery(
    services: Services,
    chat_id: int,
    language: str,
    kind: str,
    priority: int,
    render: object,
    c: Consultation,
    *,
    dedupe: str,
    expires: datetime,
    civil: bool = False,
    not_before: datetime | None = None,
) -> NewDelivery:
    assert callable(render)
    screen: Screen = render(services.catalogs.translator(language), c)
    return NewDelivery(
        chat_id=chat_id,
        kind=kind,
        priority=priority,
        text=screen.text,
        buttons=buttons_to_data(screen.buttons),
        dedupe_key=dedupe,
        civil_only=civil,
        expires_at=expires,
        not_before=not_before,
    )
