"""/broadcast: an officer's guided notice to residents, and /broadcasts to follow it.

The draft lives in the database, so a restart half-way through loses nothing.
Steps: text → more languages → a "Take part" button → audience → preview and confirm.
Officer text is escaped, so no tag an officer types can break a message.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from conversations import callbacks, drafts, officers, taps
from conversations.i18n import Translator, escape
from conversations.routes import ButtonRoute, TextRoute, Typed
from conversations.screens import MAX_MESSAGE_LENGTH, Button, Reply, Screen, buttons_to_data, rows, shorten
from conversations.services import Services, Visit
from storage.broadcasts import Broadcast
from storage.deliveries import PRIORITY_BROADCAST, PRIORITY_REPLY, NewDelivery
from storage.residents import Audience

DRAFT = "broadcast"
PREFIX = "b"
# Room for the bot's own words around an officer's text is not needed: a notice is the text alone.
MAX_TEXT = MAX_MESSAGE_LENGTH - 96


class Step(StrEnum):
    """Where a broadcast draft is; the values are what storage keeps."""

    TEXT = "text"  # waiting for the notice in the default language
    MORE_LANGUAGES = "more_languages"
    LANGUAGE_TEXT = "language_text"  # waiting for the notice in `pending_language`
    BUTTON = "button"  # a "Take part" button, or none
    AUDIENCE = "audience"
    AREAS = "areas"
    TOPICS = "topics"
    LANGUAGE = "language"
    PARTICIPANTS = "participants"
    CONFIRM = "confirm"  # the preview, with Send
    WHEN = "when"  # Send at…


AUDIENCE_STEPS = (Step.AUDIENCE, Step.AREAS, Step.TOPICS, Step.LANGUAGE, Step.PARTICIPANTS)


@dataclass(frozen=True)
class BroadcastDraft:
    """An officer's notice being written."""

    step: Step = Step.TEXT
    texts: dict[str, str] = field(default_factory=dict)  # language code → the officer's text
    pending_language: str | None = None  # the language whose text is awaited at LANGUAGE_TEXT
    consultation_id: str | None = None  # the consultation of the "Take part" button, if any
    audience: Audience = field(default_factory=Audience)  # everyone, or one of areas, topics, language, participants_of
    send_at: datetime | None = None  # the time the officer chose; None: as soon as civil hours allow

    def to_data(self) -> dict[str, Any]:
        return {
            "step": self.step.value,
            "texts": dict(self.texts),
            "pending_language": self.pending_language,
            "consultation_id": self.consultation_id,
            "audience": audience_data(self.audience),
            "send_at": self.send_at.isoformat() if self.send_at else None,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> BroadcastDraft:
        """A draft stored by `to_data`, or by the bot before drafts were typed (the same keys, some absent)."""
        audience = data.get("audience") or {}
        send_at = datetime.fromisoformat(data["send_at"]) if data.get("send_at") else None
        if send_at is not None and send_at.tzinfo is None:
            raise ValueError("a time to send without its time zone")
        return cls(
            step=Step(data["step"]),
            texts={str(code): str(text) for code, text in (data.get("texts") or {}).items()},
            pending_language=data.get("pending_language") or None,
            consultation_id=data.get("consultation_id") or None,
            audience=Audience(
                areas=tuple(audience.get("areas") or ()),
                topics=tuple(audience.get("topics") or ()),
                language=audience.get("language") or None,
                participants_of=audience.get("participants_of") or None,
                not_taking_part_in=audience.get("not_taking_part_in") or None,
                areas_and_topics=bool(audience.get("areas_and_topics")),
            ),
            send_at=send_at,
        )


def audience_data(audience: Audience) -> dict[str, Any]:
    """A broadcast's audience as stored with it: only the filters set (none: everyone)."""
    data: dict[str, Any] = {}
    if audience.areas:
        data["areas"] = list(audience.areas)
    if audience.topics:
        data["topics"] = list(audience.topics)
    if audience.language:
        data["language"] = audience.language
    if audience.participants_of:
        data["participants_of"] = audience.participants_of
    if audience.not_taking_part_in:
        data["not_taking_part_in"] = audience.not_taking_part_in
    if audience.areas_and_topics and audience.areas and audience.topics:
        data["areas_and_topics"] = True
    return data


async def recipients_of(services: Services, audience: Audience) -> list[tuple[int, str]]:
    """(chat id, language) of everyone a broadcast to this audience reaches: the count the chat's
    preview and the workspace show, and exactly whom `queue` writes a delivery for."""
    return await services.db.residents.audience(audience, wants="notices")


def refusal_of_time(services: Services, at: datetime, now: datetime, *, urgent: bool) -> str | None:
    """Why a broadcast cannot go at `at`: "past", "outside civil hours" (unless urgent), or None."""
    if at < now - timedelta(minutes=1):
        return "past"
    if not urgent and not services.deployment.in_civil_hours(at):
        return "outside civil hours"
    return None


def _data(verb: str, argument: str | None = None) -> str:
    return callbacks.encode(PREFIX, verb) if argument is None else callbacks.encode(PREFIX, verb, argument)


def _cancel(t: Translator) -> Button:
    return Button(t._("Cancel"), _data("cancel"))


async def start(visit: Visit) -> Reply:
    """/broadcast: a new draft; ask for the text in the default language."""
    services = visit.services
    await _save(visit, BroadcastDraft())
    language = visit.t.language_label(services.catalogs.default_language)
    text = visit.t._(
        "Send me the notice, in %(language)s. Residents will see exactly the text you send.", language=language
    )
    return Reply((Screen(text, ((_cancel(visit.t),),)),))


async def draft_of(visit: Visit) -> BroadcastDraft | None:
    return await drafts.load(visit.services.db, visit.chat_id, DRAFT, BroadcastDraft.from_data)


async def typed(visit: Visit, draft: BroadcastDraft, text: str) -> Reply:
    """The officer typed the notice (or a translation of it)."""
    t = visit.t
    if draft.step is Step.WHEN:
        return await _typed_time(visit, draft, text)
    if draft.step not in (Step.TEXT, Step.LANGUAGE_TEXT):
        return Reply((Screen(t._("Please use the buttons, or tap Cancel.")),))
    if len(text) > MAX_TEXT:
        return Reply(
            (
                Screen(
                    t._(
                        "That is %(length)s characters; a notice can have at most %(max)s. Please send a shorter text.",
                        length=str(len(text)),
                        max=str(MAX_TEXT),
                    ),
                    ((_cancel(t),),),
                ),
            )
        )
    language = draft.pending_language or visit.services.catalogs.default_language
    draft = replace(draft, texts={**draft.texts, language: text}, step=Step.MORE_LANGUAGES, pending_language=None)
    await _save(visit, draft)
    return Reply((more_languages_screen(visit, draft),))


def not_text(visit: Visit, draft: BroadcastDraft) -> Reply:
    """A photo, sticker or file while writing a notice: a notice is text; ask again for what is awaited."""
    t = visit.t
    if draft.step not in (Step.TEXT, Step.LANGUAGE_TEXT):
        return Reply((Screen(t._("Please use the buttons, or tap Cancel.")),))
    code = draft.pending_language or visit.services.catalogs.default_language
    text = t._("Send me the notice in %(language)s.", language=t.language_label(code))
    return Reply((Screen(text, ((_cancel(t),),)),))


def more_languages_screen(visit: Visit, draft: BroadcastDraft) -> Screen:
    t, catalogs = visit.t, visit.services.catalogs
    have = ", ".join(t.language_label(code) for code in draft.texts)
    missing = [code for code in catalogs.languages if code not in draft.texts]
    buttons = [Button(t.language_label(code), _data("lang", code)) for code in missing]
    text = t._(
        "The notice is ready in: %(languages)s. Add a version in another language? Residents get "
        "their own language, or the default language when there is no version in theirs.",
        languages=have,
    )
    return Screen(
        text, (*rows(*buttons, per_row=3), (Button(t._("No more languages"), _data("nolang")),), (_cancel(t),))
    )


async def tapped(visit: Visit, verb: str | None, argument: str | None) -> Reply:
    """A button of the broadcast conversation."""
    draft = await draft_of(visit)
    t = visit.t
    if draft is None:
        return Reply(notice=t._("That button is out of date."))
    if verb == "cancel":
        await visit.services.db.drafts.drop(visit.chat_id, DRAFT)
        return Reply((Screen(t._("Cancelled. Nothing was sent.")),), edit=True)
    if verb == "send":
        return await send(visit)
    if verb == "now":  # "Send now anyway", outside civil hours
        return await send(visit, now_anyway=True)
    if verb == "when" and draft.step is Step.CONFIRM:
        await _save(visit, replace(draft, step=Step.WHEN))
        return Reply((_when_screen(visit),), edit=True)
    if verb == "at" and draft.step is Step.WHEN and argument and argument.isdigit():
        draft = replace(draft, step=Step.CONFIRM, send_at=datetime.fromtimestamp(int(argument), UTC))
        await _save(visit, draft)
        return Reply(await preview(visit, draft), clear_buttons=True)
    applied = await _apply(visit, draft, verb, argument)
    if applied is None:
        return Reply(notice=t._("That button is out of date."))
    draft, screen = applied
    await _save(visit, draft)
    if screen is None:
        return Reply(await preview(visit, draft), clear_buttons=True)
    return Reply((screen,), edit=True)


Applied = tuple[BroadcastDraft, Screen | None]
"""The draft changed by a button, and the next screen (None: the draft is ready; show the preview)."""


async def _apply(visit: Visit, draft: BroadcastDraft, verb: str | None, argument: str | None) -> Applied | None:
    """Change the draft for a tapped button; None for a button that does not fit."""
    t, services = visit.t, visit.services
    if verb == "lang" and argument in services.catalogs.languages and draft.step is Step.MORE_LANGUAGES:
        ask = Screen(t._("Send me the notice in %(language)s.", language=t.language_label(argument)), ((_cancel(t),),))
        return replace(draft, step=Step.LANGUAGE_TEXT, pending_language=argument), ask
    if verb == "nolang" and draft.step is Step.MORE_LANGUAGES:
        return replace(draft, step=Step.BUTTON), await _button_screen(visit)
    if verb in ("button", "nobutton") and draft.step is Step.BUTTON:
        consultation_id = argument if verb == "button" else None
        return replace(draft, consultation_id=consultation_id, step=Step.AUDIENCE), _audience_screen(t)
    if draft.step in AUDIENCE_STEPS:
        return await _audience_step(visit, draft, verb, argument)
    return None


async def _button_screen(visit: Visit) -> Screen:
    t = visit.t
    open_now = await visit.services.consultations.open_now(visit.now())
    buttons = [Button(shorten(c.text("title", visit.language), 40), _data("button", c.id)) for c in open_now]
    return Screen(
        t._("Add a “Take part” button for a consultation?"),
        (*rows(*buttons), (Button(t._("No button"), _data("nobutton")),), (_cancel(t),)),
    )


def _audience_screen(t: Translator) -> Screen:
    choices = [
        Button(t._("Everyone"), _data("everyone")),
        Button(t._("One or more areas"), _data("areas")),
        Button(t._("One or more topics"), _data("topics")),
        Button(t._("One language"), _data("language")),
        Button(t._("Took part in a consultation"), _data("participants")),
    ]
    return Screen(t._("Who should receive it?"), (*rows(*choices), (_cancel(t),)))


async def _audience_step(visit: Visit, draft: BroadcastDraft, verb: str | None, argument: str | None) -> Applied | None:
    t, services = visit.t, visit.services
    deployment = services.deployment
    if verb == "everyone":
        return replace(draft, step=Step.CONFIRM, audience=Audience()), None
    if verb == "areas":
        draft = replace(draft, step=Step.AREAS, audience=Audience())
        return draft, _pick_many(visit, draft)
    if verb == "topics":
        draft = replace(draft, step=Step.TOPICS, audience=Audience())
        return draft, _pick_many(visit, draft)
    if verb == "toggle" and draft.step in (Step.AREAS, Step.TOPICS) and argument:
        known = {a.id for a in deployment.areas} if draft.step is Step.AREAS else {x.id for x in deployment.topics}
        if argument not in known:
            return None
        chosen = _chosen(draft)
        chosen = tuple(x for x in chosen if x != argument) if argument in chosen else (*chosen, argument)
        audience = Audience(areas=chosen) if draft.step is Step.AREAS else Audience(topics=chosen)
        draft = replace(draft, audience=audience)
        return draft, _pick_many(visit, draft)
    if verb == "chosen" and draft.step in (Step.AREAS, Step.TOPICS):
        if not _chosen(draft):
            return draft, _pick_many(visit, draft, lead=t._("Please tick at least one, then tap Done."))
        return replace(draft, step=Step.CONFIRM), None
    if verb == "language":
        buttons = [Button(t.language_label(code), _data("in", code)) for code in services.catalogs.languages]
        ask = Screen(t._("Residents who use which language?"), (*rows(*buttons, per_row=3), (_cancel(t),)))
        return replace(draft, step=Step.LANGUAGE), ask
    if verb == "in" and draft.step is Step.LANGUAGE and argument in services.catalogs.languages:
        return replace(draft, step=Step.CONFIRM, audience=Audience(language=argument)), None
    if verb == "participants":
        ids = await services.db.consultations.all_ids()
        buttons = [Button(shorten(await _title(visit, cid), 40), _data("took", cid)) for cid in ids]
        ask = Screen(t._("People who took part in which consultation?"), (*rows(*buttons), (_cancel(t),)))
        return replace(draft, step=Step.PARTICIPANTS), ask
    if verb == "took" and draft.step is Step.PARTICIPANTS and argument:
        return replace(draft, step=Step.CONFIRM, audience=Audience(participants_of=argument)), None
    return None


def _chosen(draft: BroadcastDraft) -> tuple[str, ...]:
    """What is ticked on the areas or topics step."""
    return draft.audience.areas if draft.step is Step.AREAS else draft.audience.topics


async def _title(visit: Visit, consultation_id: str) -> str:
    loaded = await visit.services.consultations.current(consultation_id)
    return loaded.model.text("title", visit.language) if loaded else consultation_id


def _pick_many(visit: Visit, draft: BroadcastDraft, lead: str = "") -> Screen:
    t, deployment = visit.t, visit.services.deployment
    chosen = _chosen(draft)
    options = (
        [(a.id, a.display_name(visit.language, deployment.default_language)) for a in deployment.areas]
        if draft.step is Step.AREAS
        else [(x.id, deployment.text(x.name, visit.language)) for x in deployment.topics]
    )
    buttons = [Button(("✅ " if key in chosen else "⬜ ") + name, _data("toggle", key)) for key, name in options]
    question = (
        t._("Which areas? Tick all that apply, then tap Done.")
        if draft.step is Step.AREAS
        else t._("Which topics? Tick all that apply, then tap Done.")
    )
    text = f"{lead}\n\n{question}" if lead else question
    return Screen(text, (*rows(*buttons, per_row=2), (Button(t._("Done"), _data("chosen")),), (_cancel(t),)))


def notice_screen(services: Services, draft: BroadcastDraft, language: str, broadcast_id: int | None = None) -> Screen:
    """The notice exactly as a resident with this language receives it.

    The officer's text in the resident's language, or the default language's when there is no
    version in theirs; the bot's own words (the button) always in the resident's language. The
    button of a broadcast sent (`broadcast_id`) says which it came with, so its taps are counted.
    """
    text = draft.texts.get(language) or draft.texts[services.catalogs.default_language]
    buttons: tuple[tuple[Button, ...], ...] = ()
    if draft.consultation_id:
        t = services.catalogs.translator(language)
        came_with = taps.broadcast_button(broadcast_id) if broadcast_id is not None else None
        buttons = ((Button(t._("Take part"), callbacks.take_part(draft.consultation_id, message=came_with)),),)
    return Screen(escape(text), buttons)


async def preview(visit: Visit, draft: BroadcastDraft) -> tuple[Screen, ...]:
    """Each version of the notice residents will receive, labelled with who gets it; then the exact
    number of recipients and Send / Cancel."""
    t, services = visit.t, visit.services
    recipients = await recipients_of(services, draft.audience)
    default = services.catalogs.default_language
    count = t.n_("This notice will go to %(n)d resident.", "This notice will go to %(n)d residents.", len(recipients))
    by_language: dict[str, int] = {}
    for _chat, language in recipients:
        by_language[language] = by_language.get(language, 0) + 1
    shown: list[Screen] = []
    for screen, languages, n in versions(services, draft, by_language or {default: 0}):
        label = _version_label(visit, languages, n)
        if len(label) + len(screen.text) + 2 <= MAX_MESSAGE_LENGTH:
            shown.append(Screen(label + "\n\n" + screen.text, screen.buttons))
        else:
            shown += [Screen(label), screen]
    by_version: dict[str, int] = {}
    for language, n in by_language.items():
        version = language if language in draft.texts else default
        by_version[version] = by_version.get(version, 0) + n
    detail = ", ".join(f"{t.language_label(code)}: {n}" for code, n in sorted(by_version.items()))
    confirm = Screen(
        t._("Above is each version of the notice as residents will see it.")
        + "\n\n<b>"
        + count
        + "</b>"
        + (f"\n{escape(detail)}" if detail else "")
        + "\n\n"
        + _when_line(visit, draft),
        _send_buttons(visit, draft),
    )
    return (*shown, confirm)


def versions(
    services: Services, draft: BroadcastDraft, by_language: dict[str, int]
) -> list[tuple[Screen, list[str], int]]:
    """The distinct messages the audience will receive, each with the languages that get it and how many."""
    found: dict[tuple[str, tuple[tuple[Button, ...], ...]], tuple[Screen, list[str], int]] = {}
    default = services.catalogs.default_language
    for language in sorted(by_language, key=lambda code: (code != default, -by_language[code], code)):
        screen = notice_screen(services, draft, language)
        key = (screen.text, screen.buttons)
        _screen, languages, n = found.get(key, (screen, [], 0))
        found[key] = (screen, [*languages, language], n + by_language[language])
    return list(found.values())


def _version_label(visit: Visit, languages: list[str], n: int) -> str:
    """The line above one version in the preview: who receives it (not part of what they receive)."""
    t = visit.t
    names = ", ".join(t.language_label(code) for code in languages)
    return (
        "<i>"
        + t.n_("For %(n)d resident in %(languages)s:", "For %(n)d residents in %(languages)s:", n, languages=names)
        + "</i>"
    )


def going_at(visit: Visit, draft: BroadcastDraft, now: datetime) -> datetime:
    """When the broadcast will go: the time the officer chose, or `now`; at civil hours either way."""
    chosen = draft.send_at or now
    return visit.services.deployment.next_civil_time(max(chosen, now))


def _when(t: Translator, moment: datetime, zone: str) -> str:
    return t._("%(date)s at %(time)s (%(zone)s time)", date=t.date(moment), time=t.time(moment), zone=zone)


def _when_line(visit: Visit, draft: BroadcastDraft) -> str:
    """The line of the preview that says when it will go, in the deployment's time zone."""
    t = visit.t
    now = visit.now()
    at = going_at(visit, draft, now)
    if at <= now:
        return t._("Send it now?")
    zone = visit.services.deployment.timezone
    if draft.send_at:
        return t._("It will go on %(when)s.", when=_when(t, at, zone))
    return t._("It is outside the hours when we send messages, so it will go on %(when)s.", when=_when(t, at, zone))


def _send_buttons(visit: Visit, draft: BroadcastDraft) -> tuple[tuple[Button, ...], ...]:
    t = visit.t
    buttons = [(Button(t._("Send"), _data("send")),)]
    now = visit.now()
    if going_at(visit, draft, now) > now and not draft.send_at:
        buttons.append((Button(t._("Send now anyway (urgent)"), _data("now")),))
    buttons.append((Button(t._("Send at…"), _data("when")),))
    return (*buttons, (_cancel(t),))


def _when_screen(visit: Visit, lead: str = "") -> Screen:
    """Send at…: a few times within civil hours, or a date and time typed."""
    t, deployment = visit.t, visit.services.deployment
    zone = ZoneInfo(deployment.timezone)
    start = deployment.civil_hours[0]
    today = visit.now().astimezone(zone).date()
    slots = []
    for days, hour in ((0, 12), (0, 17), (1, start.hour), (1, 12), (2, start.hour)):
        local = datetime.combine(today + timedelta(days=days), time(hour, start.minute if hour == start.hour else 0))
        moment = local.replace(tzinfo=zone).astimezone(UTC)
        if moment > visit.now() and deployment.in_civil_hours(moment) and moment not in slots:
            slots.append(moment)
    buttons = [Button(f"{t.date(m)}, {t.time(m)}", _data("at", str(int(m.timestamp())))) for m in slots[:4]]
    example = datetime.combine(today + timedelta(days=1), time(14, 30))
    text = t._(
        "When should it go? Tap a time, or type a date and time such as %(example)s, or a time such as 14:30 "
        "(%(zone)s time).",
        example=example.strftime("%Y-%m-%d %H:%M"),
        zone=deployment.timezone,
    )
    return Screen(f"{lead}\n\n{text}" if lead else text, (*rows(*buttons), (_cancel(t),)))


async def _typed_time(visit: Visit, draft: BroadcastDraft, text: str) -> Reply:
    """A date and time typed at Send at…, in the deployment's time zone."""
    t = visit.t
    zone = ZoneInfo(visit.services.deployment.timezone)
    typed = " ".join(text.split())
    try:
        if len(typed) <= 5:  # a time alone: today's, or tomorrow's once today's has passed
            at = datetime.strptime(typed, "%H:%M").time()
            local = datetime.combine(visit.now().astimezone(zone).date(), at)
            if local.replace(tzinfo=zone) <= visit.now():
                local += timedelta(days=1)
        else:
            local = datetime.strptime(typed, "%Y-%m-%d %H:%M")
    except ValueError:
        return Reply((_when_screen(visit, t._("Sorry, I could not read that date and time.")),))
    moment = local.replace(tzinfo=zone).astimezone(UTC)
    if moment <= visit.now():
        return Reply((_when_screen(visit, t._("That time has passed.")),))
    draft = replace(draft, step=Step.CONFIRM, send_at=moment)
    await _save(visit, draft)
    return Reply(await preview(visit, draft))


async def send(visit: Visit, *, now_anyway: bool = False) -> Reply:
    """Queue the broadcast: one delivery per resident, in their language, written before anything is sent.

    It goes at civil hours (at the time the officer chose, or at once when it is civil hours now),
    unless the officer tapped "Send now anyway".
    """
    services, t = visit.services, visit.t
    draft = await draft_of(visit)
    if draft is None or draft.step is not Step.CONFIRM:
        return Reply(notice=t._("That button is out of date."))
    now = visit.now()
    at = now if now_anyway else going_at(visit, draft, now)
    db = services.db
    async with db.transaction():
        _broadcast_id, count = await queue(services, visit.chat_id, draft, now, at, civil=not now_anyway)
        await db.drafts.drop(visit.chat_id, DRAFT)
    services.wake_delivery()
    if at > now:
        text = t.n_(
            "It will go to %(n)d resident on %(when)s. Send /broadcasts to follow it.",
            "It will go to %(n)d residents on %(when)s. Send /broadcasts to follow it.",
            count,
            when=_when(t, at, services.deployment.timezone),
        )
    else:
        text = t.n_(
            "Sending to %(n)d resident. Send /broadcasts to follow it.",
            "Sending to %(n)d residents. Send /broadcasts to follow it.",
            count,
        )
    return Reply((Screen(text),), edit=True)


async def queue(
    services: Services, officer_id: int, draft: BroadcastDraft, now: datetime, at: datetime, *, civil: bool
) -> tuple[int, int]:
    """Record a broadcast and queue one delivery per recipient, in their language, to go at `at`
    (and only within civil hours when `civil`); audited with the officer. Returns its id and how
    many it goes to. The chat and the workspace both send through here, inside a transaction."""
    db = services.db
    recipients = await recipients_of(services, draft.audience)
    described = await describe(services, draft.audience)
    broadcast_id = await db.broadcasts.create(
        officer_id, dict(draft.texts), draft.consultation_id, audience_data(draft.audience), len(recipients), now
    )
    await db.deliveries.enqueue(
        (
            _delivery(services, draft, broadcast_id, chat_id, language, at, civil=civil)
            for chat_id, language in recipients
        ),
        now,
    )
    # The consultation it is about, for the audit log's filter: its Take part button's, or the one its audience is.
    about = draft.consultation_id or draft.audience.not_taking_part_in or draft.audience.participants_of
    await db.officers.audit(
        officer_id, "broadcast", f"#{broadcast_id} to {len(recipients)} residents ({described})", now, about
    )
    outside = not civil and not services.deployment.in_civil_hours(at)
    if at > now:
        urgent = ", urgent: outside civil hours" if outside else ""
        detail = f"#{broadcast_id} at {at.isoformat()}{urgent}"
        await db.officers.audit(officer_id, "broadcast scheduled", detail, now, about)
    elif outside:
        await db.officers.audit(officer_id, "send now anyway", f"#{broadcast_id}, outside civil hours", now, about)
    return broadcast_id, len(recipients)


def _delivery(
    services: Services,
    draft: BroadcastDraft,
    broadcast_id: int,
    chat_id: int,
    language: str,
    at: datetime,
    *,
    civil: bool,
) -> NewDelivery:
    screen = notice_screen(services, draft, language, broadcast_id)
    return NewDelivery(
        chat_id=chat_id,
        kind="broadcast",
        priority=PRIORITY_BROADCAST,
        text=screen.text,
        buttons=buttons_to_data(screen.buttons),
        broadcast_id=broadcast_id,
        civil_only=civil,
        not_before=at,
    )


async def describe(services: Services, audience: Audience) -> str:
    """Who a broadcast went to, in words, for the audit log (in the deployment's default language)."""
    deployment, language = services.deployment, services.catalogs.default_language
    parts = []
    if audience.areas:
        areas = [deployment.area(key) for key in audience.areas]
        names = [a.display_name(language, language) if a else key for a, key in zip(areas, audience.areas, strict=True)]
        parts.append("areas: " + ", ".join(names))
    if audience.topics:
        topics = [deployment.topic(key) for key in audience.topics]
        names = [
            deployment.text(x.name, language) if x else key for x, key in zip(topics, audience.topics, strict=True)
        ]
        parts.append("topics: " + ", ".join(names))
    if audience.language:
        parts.append("language: " + services.catalogs.translator(language).language_label(audience.language))
    if audience.participants_of:
        loaded = await services.consultations.current(audience.participants_of)
        title = loaded.model.text("title", language) if loaded else audience.participants_of
        parts.append("took part in: " + title)
    if audience.not_taking_part_in:
        loaded = await services.consultations.current(audience.not_taking_part_in)
        title = loaded.model.text("title", language) if loaded else audience.not_taking_part_in
        parts.append("did not take part in: " + title)
    return "; ".join(parts) or "everyone"


async def _save(visit: Visit, draft: BroadcastDraft) -> None:
    await drafts.save(visit.services.db, visit.chat_id, DRAFT, draft, visit.now())


@dataclass(frozen=True)
class Counted:
    """How many messages of one sending are in each state, and why some failed."""

    counts: dict[str, int]  # deliveries by state
    failures: dict[str, int]  # why deliveries failed or expired, counted

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def sent(self) -> int:
        return self.counts.get("sent", 0) + self.counts.get("uncertain", 0)

    @property
    def waiting(self) -> int:
        return self.counts.get("waiting", 0) + self.counts.get("sending", 0)

    @property
    def failed(self) -> int:
        return self.counts.get("failed", 0) + self.counts.get("expired", 0)

    @property
    def unreachable(self) -> int:
        return self.counts.get("unreachable", 0)

    @property
    def finished(self) -> bool:
        return self.waiting == 0


@dataclass(frozen=True)
class Progress(Counted):
    """Where one broadcast is: the chat's /broadcasts and the workspace's Broadcasts page show this."""

    broadcast: Broadcast
    waiting_until: datetime | None  # when the first waiting delivery may go, if later than now
    take_part_taps: int | None = None  # residents who tapped its "Take part" button; None: it has none


async def progress_report(services: Services, now: datetime, limit: int = 10) -> list[Progress]:
    """The most recent broadcasts, newest first, each with its progress or final report."""
    db = services.db
    found = []
    recent = await db.broadcasts.recent(limit)
    tapped = await taps.broadcast_taps(services, (b.id for b in recent if b.consultation_id))
    for broadcast in recent:
        waiting_until = await db.deliveries.waiting_until(broadcast.id)
        found.append(
            Progress(
                counts=await db.deliveries.counts(broadcast.id),
                failures=await db.deliveries.failure_reasons(broadcast.id),
                broadcast=broadcast,
                waiting_until=waiting_until if waiting_until is not None and waiting_until > now else None,
                take_part_taps=tapped.get(broadcast.id),
            )
        )
    return found


@dataclass(frozen=True)
class NoticeProgress(Counted):
    """The messages the bot sends by itself about one consultation, as a broadcast's report: its
    opening notices ("opened"), reminders ("reminder", "closing"), outcomes ("outcome") or the message
    to people part-way through when it closed early ("closed-early")."""

    what: str
    consultation_id: str
    title: str
    take_part_taps: int | None = None  # residents who tapped its "Take part" button; None: it has none (outcomes)


async def notice_report(services: Services, language: str) -> list[NoticeProgress]:
    """The same report as a broadcast's for each consultation's opening notices, reminders and outcomes."""
    grouped: dict[tuple[str, str], tuple[dict[str, int], dict[str, int]]] = {}
    for kind, what, consultation_id, state, error, n in await services.db.deliveries.notice_counts():
        counts, failures = grouped.setdefault(("outcome" if kind == "outcome" else what, consultation_id), ({}, {}))
        counts[state] = counts.get(state, 0) + n
        if error is not None:
            failures[error] = failures.get(error, 0) + n
    found = []
    tapped = await taps.notice_taps(services, grouped)
    for (what, consultation_id), (counts, failures) in grouped.items():
        loaded = await services.consultations.current(consultation_id)
        title = loaded.model.text("title", language) if loaded else consultation_id
        found.append(
            NoticeProgress(counts, failures, what, consultation_id, title, tapped.get((what, consultation_id)))
        )
    return found


async def progress(visit: Visit) -> Reply:
    """/broadcasts: each recent broadcast's progress, or its final report."""
    t = visit.t
    recent = await progress_report(visit.services, visit.now())
    if not recent:
        return Reply((Screen(t._("No notices have been sent yet. Send /broadcast to write one.")),))
    parts = ["<b>" + t._("Recent notices") + "</b>"]
    for found in recent:
        parts.append(_progress_line(visit, found))
    return Reply((Screen("\n\n".join(parts)),))


def _progress_line(visit: Visit, found: Progress) -> str:
    t, broadcast = visit.t, found.broadcast
    first_text = next(iter(broadcast.texts.values()), "")
    head = f"<b>#{broadcast.id}</b> · {escape(broadcast.created_at[:16].replace('T', ' '))} · " + escape(
        shorten(first_text, 60)
    )
    line = head + "\n" + status_line(t, found.counts)
    if found.take_part_taps is not None:
        line += " · " + t.n_(
            "%(n)d resident tapped Take part", "%(n)d residents tapped Take part", found.take_part_taps
        )
    if found.waiting_until is not None:
        line += "\n" + t._(
            "It will go on %(when)s.", when=_when(t, found.waiting_until, visit.services.deployment.timezone)
        )
    return line


def progress_of(counts: dict[str, int]) -> Counted:
    """Deliveries per state (`DeliveryRepository.counts`) grouped as officers read them."""
    return Counted(counts, {})


def status_line(t: Translator, counts: dict[str, int]) -> str:
    found = progress_of(counts)
    line = t._(
        "sent %(sent)d, waiting %(waiting)d, failed %(failed)d, unreachable %(unreachable)d",
        sent=found.sent,
        waiting=found.waiting,
        failed=found.failed,
        unreachable=found.unreachable,
    )
    return line + (" · " + t._("finished") if found.finished else "")


async def report_finished(services: Services) -> None:
    """When every delivery of a broadcast has ended, send its officer the final report (once).

    Called by the delivery worker after each round. The report is queued and the broadcast
    marked reported in one unit of work, so a crash neither loses nor repeats it.
    """
    db = services.db
    for broadcast in await db.broadcasts.finished_unreported():
        now = services.clock()
        officer = await db.residents.get(broadcast.created_by)
        t = services.catalogs.translator(officer.language if officer else services.catalogs.default_language)
        counts = await db.deliveries.counts(broadcast.id)
        text = t._("Your notice #%(id)s has finished.", id=str(broadcast.id)) + "\n" + status_line(t, counts)
        report = NewDelivery(broadcast.created_by, "report", PRIORITY_REPLY, text, dedupe_key=f"report:{broadcast.id}")
        async with db.transaction():
            await db.deliveries.enqueue([report], now)
            await db.broadcasts.mark_reported(broadcast.id, now)
        services.wake_delivery()


async def _tapped(visit: Visit, tapped_: callbacks.Callback) -> Reply:
    return await tapped(visit, tapped_.arg(0), tapped_.arg(1))


async def _notice_text(visit: Visit, typed_: Typed) -> Reply | None:
    """An officer writing a notice: the typed text is the notice (or its time, or a translation)."""
    # The open-draft test comes first, from memory, so residents' text costs no role lookup.
    if DRAFT not in await visit.services.db.drafts.kinds(visit.chat_id) or not await officers.is_officer(visit):
        return None
    draft = await draft_of(visit)
    return await typed(visit, draft, typed_.text) if draft is not None else None


BUTTONS = (ButtonRoute(PREFIX, _tapped, needs_resident=False, officers_only=True),)
# Before the resident's readings: an officer is often a resident too, and the notice they are
# writing must never be taken for a survey answer.
TEXT = (TextRoute("notice being drafted", 20, _notice_text, needs_resident=False),)
