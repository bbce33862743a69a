""" "You said, we did": an officer publishes what residents told us and what was decided; residents hear it.

"What you told us" goes to everyone who took part, with "Did we get this right?"
(Yes / Partly / No, then an optional comment). "What we did" goes to everyone who
took part and everyone who asked to hear about the consultation's areas or topics.
Both go through the delivery queue, in each resident's language, once each.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from conversations import callbacks, drafts, officers
from conversations.i18n import Translator, escape
from conversations.notices import audience_of
from conversations.routes import ButtonRoute, TextRoute, Typed
from conversations.screens import MAX_MESSAGE_LENGTH, Button, Reply, Screen, buttons_to_data, rows, shorten
from conversations.services import Services, Visit
from conversations.survey.model import Consultation, pick_text
from storage.deliveries import PRIORITY_NOTICE, NewDelivery
from storage.residents import Audience

PREFIX = "oc"  # officer: oc:<verb>:<argument>
FEEDBACK = "fb"  # resident: fb:<consultation id>:<yes|partly|no|skip>
READ = "rd"  # resident: rd:<consultation id>
DRAFT = "outcome"
FEEDBACK_DRAFT = "feedback"
TOLD_US, DECIDED = "told_us", "decided"
RATINGS = ("yes", "partly", "no")
MAX_TEXT = MAX_MESSAGE_LENGTH - 600


class Step(StrEnum):
    """Where an outcome draft is; the values are what storage keeps."""

    KIND = "kind"  # the consultation is picked: which outcome? (stored without a step before drafts were typed)
    TEXT = "text"  # waiting for the text in `language`
    MORE = "more"  # another language, or Publish


@dataclass(frozen=True)
class OutcomeDraft:
    """An officer's outcome being written: "What you told us" or "What we did", or a correction of one."""

    consultation_id: str
    step: Step = Step.KIND
    kind: str | None = None  # TOLD_US or DECIDED, from Step.TEXT on
    language: str | None = None  # the language whose text is awaited, from Step.TEXT on
    texts: dict[str, str] = field(default_factory=dict)  # language code → text
    correcting: int | None = None  # the version this corrects, when it was published before
    original: dict[str, str] = field(default_factory=dict)  # that version's texts, when correcting

    def to_data(self) -> dict[str, Any]:
        return {
            "consultation_id": self.consultation_id,
            "step": self.step.value,
            "kind": self.kind,
            "language": self.language,
            "texts": dict(self.texts),
            "correcting": self.correcting,
            "original": dict(self.original),
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> OutcomeDraft:
        """A draft stored by `to_data`, or by the bot before drafts were typed (the same keys, some absent)."""
        step = Step(data.get("step") or Step.KIND)
        kind, language = data.get("kind"), data.get("language") or None
        if kind not in (None, TOLD_US, DECIDED) or (step is not Step.KIND and (kind is None or language is None)):
            raise ValueError("not an outcome draft")
        correcting = data.get("correcting")
        return cls(
            consultation_id=str(data["consultation_id"]),
            step=step,
            kind=kind,
            language=language,
            texts=_texts(data.get("texts")),
            correcting=int(correcting) if correcting else None,
            original=_texts(data.get("original")),
        )

    @property
    def chosen_kind(self) -> str:
        """TOLD_US or DECIDED (from Step.TEXT on, when it is chosen)."""
        if self.kind is None:
            raise ValueError("the outcome's kind is not chosen yet")
        return self.kind


@dataclass(frozen=True)
class FeedbackDraft:
    """A resident who rated "What you told us" may type a comment on it."""

    consultation_id: str

    def to_data(self) -> dict[str, Any]:
        return {"consultation_id": self.consultation_id}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> FeedbackDraft:
        consultation_id = data["consultation_id"]
        if not isinstance(consultation_id, str) or not consultation_id:
            raise ValueError("no consultation")
        return cls(consultation_id)


def _texts(data: Any) -> dict[str, str]:
    return {str(code): str(text) for code, text in (data or {}).items()}


def _data(verb: str, argument: str | None = None) -> str:
    return callbacks.encode(PREFIX, verb, argument)


# -- officers ------------------------------------------------------------------


async def start(visit: Visit) -> Reply:
    """/outcome: pick a closed consultation."""
    t, services = visit.t, visit.services
    now = visit.now()
    closed = []
    for consultation_id in await services.db.consultations.all_ids():
        loaded = await services.consultations.current(consultation_id, fresh=True)
        if loaded is not None and loaded.model.closes <= now:
            closed.append(loaded.model)
    if not closed:
        return Reply((Screen(t._("No consultation has closed yet. Outcomes are published after closing.")),))
    buttons = [Button(shorten(c.text("title", visit.language), 40), _data("pick", c.id)) for c in closed]
    return Reply((Screen(t._("Which consultation is the outcome for?"), (*rows(*buttons), (_cancel(t),))),))


def _cancel(t: Translator) -> Button:
    return Button(t._("Cancel"), _data("cancel"))


async def draft_of(visit: Visit) -> OutcomeDraft | None:
    return await drafts.load(visit.services.db, visit.chat_id, DRAFT, OutcomeDraft.from_data)


async def _save(visit: Visit, draft: OutcomeDraft) -> None:
    await drafts.save(visit.services.db, visit.chat_id, DRAFT, draft, visit.now())


async def tapped(visit: Visit, verb: str | None, argument: str | None) -> Reply:
    t, db = visit.t, visit.services.db
    if verb == "cancel":
        await db.drafts.drop(visit.chat_id, DRAFT)
        return Reply((Screen(t._("Cancelled. Nothing was sent.")),), edit=True)
    if verb == "pick" and argument:
        await _save(visit, OutcomeDraft(consultation_id=argument))
        kinds = (
            (Button(t._("What you told us"), _data("kind", TOLD_US)),),
            (Button(t._("What we did"), _data("kind", DECIDED)),),
            (_cancel(t),),
        )
        return Reply((Screen(t._("Which do you want to publish?"), kinds),), edit=True)
    draft = await draft_of(visit)
    if verb == "kind" and argument in (TOLD_US, DECIDED) and draft is not None:
        first = await fallback_language(visit.services, draft.consultation_id)
        draft = replace(draft, kind=argument, step=Step.TEXT, language=first)
        latest = await db.outcomes.latest_version(draft.consultation_id, argument)
        if latest is not None:  # published already: what is sent now is a correction of it, every language kept
            published = await db.outcomes.get(draft.consultation_id)
            texts = dict(published.get(argument, {}))
            draft = replace(draft, correcting=latest[0], texts=texts, original=dict(texts))
        await _save(visit, draft)
        return Reply((await _ask_for_text(visit, draft),), edit=True)
    if verb == "lang" and argument and draft is not None and draft.step is Step.MORE:
        draft = replace(draft, step=Step.TEXT, language=argument)
        await _save(visit, draft)
        return Reply((await _ask_for_text(visit, draft),), edit=True)
    if verb == "publish" and draft is not None and draft.step is Step.MORE:
        return await publish(visit, draft)
    return Reply(notice=t._("That button is out of date."))


async def _ask_for_text(visit: Visit, draft: OutcomeDraft) -> Screen:
    t = visit.t
    language = t.language_label(draft.language or await fallback_language(visit.services, draft.consultation_id))
    if draft.correcting:
        recipients = await visit.services.db.deliveries.reached_by(
            _dedupe_prefix(draft.chosen_kind, draft.consultation_id)
        )
        ask = t.n_(
            "This was sent before, to %(n)d person. Send me the corrected text in %(language)s. It will go to them "
            "as a new message marked “Correction”; what was sent before stays as it was.",
            "This was sent before, to %(n)d people. Send me the corrected text in %(language)s. It will go to them "
            "as a new message marked “Correction”; what was sent before stays as it was.",
            len(recipients),
            language=language,
        )
        return Screen(ask, ((_cancel(t),),))
    if draft.kind == TOLD_US:
        ask = t._("Send me “What you told us” in %(language)s: a short summary of what people said.", language=language)
    else:
        ask = t._(
            "Send me “What we did” in %(language)s: what was decided, what changed because of what "
            "people said, and what did not change and why.",
            language=language,
        )
    return Screen(ask, ((_cancel(t),),))


async def has_draft_awaiting_text(visit: Visit) -> bool:
    draft = await draft_of(visit)
    return draft is not None and draft.step is Step.TEXT


async def typed(visit: Visit, text: str) -> Reply:
    """The officer typed the outcome text in one language."""
    t, services = visit.t, visit.services
    draft = await draft_of(visit)
    if draft is None or draft.step is not Step.TEXT:
        return Reply((Screen(t._("Please use the buttons, or tap Cancel.")),))
    if len(text) > MAX_TEXT:
        return Reply(
            (
                Screen(
                    t._(
                        "That is %(length)s characters; please keep it under %(max)s.",
                        length=str(len(text)),
                        max=str(MAX_TEXT),
                    )
                ),
            )
        )
    language = draft.language or await fallback_language(services, draft.consultation_id)
    draft = replace(draft, texts={**draft.texts, language: text}, step=Step.MORE)
    await _save(visit, draft)
    recipients = await _recipients(services, draft)
    if draft.correcting:  # every language may need correcting, not only the missing ones
        missing = [code for code in services.catalogs.languages if code != language]
    else:
        missing = [code for code in services.catalogs.languages if code not in draft.texts]
    buttons = [Button(t.language_label(code), _data("lang", code)) for code in missing]
    count = recipients.described(t)
    text = t._("Saved. Add a version in another language, or publish it now.") + "\n\n<b>" + count + "</b>"
    unchanged = [code for code, body in draft.original.items() if draft.texts.get(code) == body]
    if draft.correcting and unchanged:
        names = ", ".join(t.language_label(code) for code in unchanged)
        text += "\n" + t._(
            "Not corrected yet: %(languages)s. People who read it in these languages are not sent the correction.",
            languages=names,
        )
    return Reply(
        (Screen(text, (*rows(*buttons, per_row=3), (Button(t._("Publish"), _data("publish")),), (_cancel(t),))),)
    )


@dataclass(frozen=True)
class Recipients:
    """Who an outcome goes to: (chat id, language) of the people who took part, and of the others."""

    participants: list[tuple[int, str]]
    subscribers: list[tuple[int, str]]
    correction: bool = False  # a correction: `participants` are those who got the original

    @property
    def everyone(self) -> list[tuple[int, str]]:
        return self.participants + self.subscribers

    def described(self, t: Translator) -> str:
        """The count the officer sees before publishing: exactly who `everyone` is."""
        if self.correction:
            return t.n_("It will go to %(n)d person.", "It will go to %(n)d people.", len(self.participants))
        took_part = t.n_(
            "It will go to the %(n)d person who took part.",
            "It will go to the %(n)d people who took part.",
            len(self.participants),
        )
        if not self.subscribers:
            return took_part
        return (
            took_part
            + " "
            + t.n_(
                "And to %(n)d other person who asked for notices about its areas or topics.",
                "And to %(n)d other people who asked for notices about its areas or topics.",
                len(self.subscribers),
            )
        )


async def outcome_recipients(services: Services, consultation_id: str, kind: str) -> Recipients:
    """Who gets an outcome: used both for the count before publishing and for the sending.

    Everyone who took part gets both outcomes, whatever their notices setting: that setting is
    about new consultations, and "we will tell you what was decided" was promised to them.
    "What we did" also goes to those who asked for notices about the consultation's areas or topics.
    """
    db = services.db
    participants = await db.residents.audience(Audience(participants_of=consultation_id), wants=None)
    if kind == TOLD_US:
        return Recipients(participants, [])
    loaded = await services.consultations.current(consultation_id)
    subscribers: list[tuple[int, str]] = []
    if loaded is not None and (loaded.model.areas or loaded.model.topics):
        subscribers = await db.residents.audience(audience_of(loaded.model), wants="notices")
    seen = {chat for chat, _ in participants}
    return Recipients(participants, [(chat, language) for chat, language in subscribers if chat not in seen])


def _dedupe_prefix(kind: str, consultation_id: str) -> str:
    """The start of every delivery key of one outcome text (the original's and its corrections')."""
    return f"{kind}:{consultation_id}:"


async def _recipients(services: Services, draft: OutcomeDraft) -> Recipients:
    """Who a draft outcome goes to; a correction goes to those who got the outcome and whose version changed."""
    if not draft.correcting:
        return await outcome_recipients(services, draft.consultation_id, draft.chosen_kind)
    return await _correction_recipients(services, draft.consultation_id, draft.chosen_kind, draft.texts, draft.original)


async def _correction_recipients(
    services: Services, consultation_id: str, kind: str, texts: dict[str, str], original: dict[str, str]
) -> Recipients:
    default = await fallback_language(services, consultation_id)
    reached = await services.db.deliveries.reached_by(_dedupe_prefix(kind, consultation_id))
    changed = [
        (chat, language)
        for chat, language in reached
        if _body(texts, language, default) != _body(original, language, default)
    ]
    return Recipients(changed, [], correction=True)


async def pending_recipients(services: Services, consultation_id: str, kind: str, texts: dict[str, str]) -> Recipients:
    """Who publishing these texts now would reach: everyone it is for the first time; then, as a correction,
    those who got it and whose language's text changes. The count the officer confirms, before `publish_outcome`."""
    if await services.db.outcomes.latest_version(consultation_id, kind) is None:
        return await outcome_recipients(services, consultation_id, kind)
    original = (await services.db.outcomes.get(consultation_id)).get(kind, {})
    return await _correction_recipients(services, consultation_id, kind, _written(texts), original)


async def fallback_language(services: Services, consultation_id: str) -> str:
    """The language whose outcome text goes to residents whose own language has none: the consultation's own."""
    loaded = await services.consultations.current(consultation_id)
    return loaded.model.default_language if loaded is not None else services.catalogs.default_language


def _written(texts: dict[str, str]) -> dict[str, str]:
    """The languages an outcome is written in (an empty box is a language left out)."""
    return {code: text for code, text in texts.items() if text.strip()}


class Outcome(StrEnum):
    """What came of publishing an outcome text."""

    PUBLISHED = "published"
    CORRECTED = "corrected"  # sent again as a correction to those who got it
    UNCHANGED = "unchanged"  # a correction that changes nothing: nothing was sent
    MEANWHILE = "meanwhile"  # another officer published it since this one started: nothing was sent
    GONE = "gone"  # no such consultation


@dataclass(frozen=True)
class Publishing:
    outcome: Outcome
    queued: int = 0


async def publish_outcome(
    services: Services,
    consultation_id: str,
    kind: str,
    texts: dict[str, str],
    officer_id: int,
    now: datetime,
    *,
    correcting: int | None,
) -> Publishing:
    """Store one outcome text (per language) and queue it to each recipient once, in their language, audited.

    `correcting` is the version the officer saw (None: never published). When it is published already,
    what is sent is a correction, to those who got it and whose text changed. The chat's /outcome and
    the workspace's outcome page both publish through here.
    """
    loaded = await services.consultations.current(consultation_id)
    if loaded is None:
        return Publishing(Outcome.GONE)
    c = loaded.model
    db = services.db
    texts = _written(texts)
    async with db.transaction():
        latest = await db.outcomes.latest_version(c.id, kind)
        if (latest[0] if latest else None) != correcting:  # another officer published it meanwhile
            return Publishing(Outcome.MEANWHILE)
        correction = correcting is not None
        original = (await db.outcomes.get(c.id)).get(kind, {}) if correction else {}
        if correction and texts == original:
            return Publishing(Outcome.UNCHANGED)
        if correction:
            recipients = await _correction_recipients(services, c.id, kind, texts, original)
        else:
            recipients = await outcome_recipients(services, c.id, kind)
        version = await db.outcomes.publish(c.id, kind, dict(texts), now, officer_id)
        suffix = f":{version}" if version > 1 else ""  # each version reaches each person once
        deliveries = [
            NewDelivery(
                chat_id=chat,
                kind="outcome",
                priority=PRIORITY_NOTICE,
                text=screen.text,
                buttons=buttons_to_data(screen.buttons),
                dedupe_key=outcome_key(kind, c.id, chat) + suffix,
            )
            for chat, language in recipients.everyone
            for screen in (
                outcome_screen(
                    services.catalogs.translator(language),
                    c,
                    kind,
                    texts,
                    c.default_language,
                    with_feedback=True,
                    correction=correction,
                ),
            )
        ]
        queued = await db.deliveries.enqueue(deliveries, now)
        if correction:
            detail = f"{kind} for {c.id}, version {version} replacing {version - 1}, to {queued} people"
            await db.officers.audit(officer_id, "correct outcome", detail, now, c.id)
        else:
            await db.officers.audit(officer_id, "publish outcome", f"{kind} for {c.id} to {queued} people", now, c.id)
    services.wake_delivery()
    return Publishing(Outcome.CORRECTED if correction else Outcome.PUBLISHED, queued)


async def publish(visit: Visit, draft: OutcomeDraft) -> Reply:
    """/outcome's Publish: through `publish_outcome`, then tell the officer what came of it."""
    t = visit.t
    done = await publish_outcome(
        visit.services,
        draft.consultation_id,
        draft.chosen_kind,
        draft.texts,
        visit.chat_id,
        visit.now(),
        correcting=draft.correcting,
    )
    if done.outcome is Outcome.GONE:
        return Reply(notice=t._("That button is out of date."))
    await visit.services.db.drafts.drop(visit.chat_id, DRAFT)
    if done.outcome is Outcome.UNCHANGED:
        said = t._("Nothing was changed, so nothing was sent.")
    elif done.outcome is Outcome.MEANWHILE:
        said = t._("It was published meanwhile. Nothing was sent; please start again.")
    elif done.outcome is Outcome.CORRECTED:
        said = t.n_(
            "Correction published. Sending to %(n)d person.",
            "Correction published. Sending to %(n)d people.",
            done.queued,
        )
    else:
        said = t.n_("Published. Sending to %(n)d person.", "Published. Sending to %(n)d people.", done.queued)
    return Reply((Screen(said),), edit=True)


KINDS = (TOLD_US, DECIDED)


def outcome_languages(services: Services, c: Consultation, *written: dict[str, str]) -> list[str]:
    """The languages an outcome is written in side by side: the consultation's own first, then the others
    it is written in, then any other an outcome text already has."""
    known = services.catalogs.languages
    others = [code for code in known if code != c.default_language and (c.title.get(code) or "").strip()]
    extra = [code for code in known for texts in written if code in texts and code not in others]
    return list(dict.fromkeys([c.default_language, *others, *extra]))


def text_problems(t: Translator, c: Consultation, texts: dict[str, str]) -> list[tuple[str, str]]:
    """What stops these outcome texts being published: (language, message); [] when they can be."""
    problems = []
    if not texts.get(c.default_language, "").strip():
        problems.append(
            (
                c.default_language,
                t._(
                    "Write the text in %(language)s. Residents whose language has no text get this one.",
                    language=t.language_label(c.default_language),
                ),
            )
        )
    for code, text in texts.items():
        if len(text) > MAX_TEXT:
            problems.append(
                (
                    code,
                    t._(
                        "That is %(length)s characters; please keep it under %(max)s.",
                        length=str(len(text)),
                        max=str(MAX_TEXT),
                    ),
                )
            )
    return problems


def outcome_key(kind: str, consultation_id: str, chat_id: int) -> str:
    """The delivery of one outcome to one resident: queued once, and the proof it was sent to them."""
    return f"{kind}:{consultation_id}:{chat_id}"


def outcome_screen(
    t: Translator,
    c: Consultation,
    kind: str,
    texts: dict[str, str],
    default_language: str,
    *,
    with_feedback: bool,
    correction: bool = False,
    corrected_on: datetime | None = None,
) -> Screen:
    """The outcome as a resident reads it; "What you told us" asks "Did we get this right?".

    `correction`: sent as a correction of what was sent before, and marked so.
    `corrected_on`: read later (/outcomes), the latest version with a note that it was corrected.
    """
    title = pick_text(c.title, t.language, c.default_language)[0]
    heading = (
        t._("What you told us: %(title)s", title=title)
        if kind == TOLD_US
        else t._("What we did: %(title)s", title=title)
    )
    if correction:
        heading = t._("Correction: %(heading)s", heading=heading)
    body = _body(texts, t.language, default_language)
    parts = [f"<b>{heading}</b>", escape(body)]
    if correction:
        parts.insert(1, t._("This corrects the message we sent you before about this consultation."))
    if corrected_on is not None:
        parts.append("<i>" + t._("Corrected on %(date)s.", date=t.date(corrected_on)) + "</i>")
    buttons: tuple[tuple[Button, ...], ...] = ()
    if kind == TOLD_US and with_feedback:
        parts.append(t._("Did we get this right?"))
        buttons = (
            (
                Button(t._("Yes"), callbacks.encode(FEEDBACK, c.id, "yes")),
                Button(t._("Partly"), callbacks.encode(FEEDBACK, c.id, "partly")),
                Button(t._("No"), callbacks.encode(FEEDBACK, c.id, "no")),
            ),
        )
    return Screen("\n\n".join(parts), buttons)


def _body(texts: dict[str, str], language: str, default_language: str) -> str:
    """The outcome text a resident of this language reads: theirs, or the default language's."""
    return texts.get(language) or texts.get(default_language) or next(iter(texts.values()), "")


# -- residents -----------------------------------------------------------------


async def rate(visit: Visit, consultation_id: str | None, rating: str | None) -> Reply:
    """A resident tapped Yes, Partly or No; then they may add a comment."""
    t, db = visit.t, visit.services.db
    if not consultation_id or rating not in (*RATINGS, "skip"):
        return Reply(notice=t._("That button is out of date."))
    if rating == "skip":
        await db.drafts.drop(visit.chat_id, FEEDBACK_DRAFT)
        return Reply((Screen(t._("Thank you for telling us.")),), edit=True)
    # Only from someone "What you told us" was sent to: a forged button stores nothing.
    if not await db.outcomes.was_sent(consultation_id, outcome_key(TOLD_US, consultation_id, visit.chat_id)):
        return Reply(notice=t._("That button is out of date."))
    await db.outcomes.rate(visit.pseudonyms.feedback(consultation_id), consultation_id, rating, visit.now())
    await drafts.save(db, visit.chat_id, FEEDBACK_DRAFT, FeedbackDraft(consultation_id), visit.now())
    ask = t._("Thank you. Would you like to add a comment? Type it and send it, or tap No thanks.")
    return Reply(
        (Screen(ask, ((Button(t._("No thanks"), callbacks.encode(FEEDBACK, consultation_id, "skip")),),)),),
        clear_buttons=True,
    )


async def comment(visit: Visit, text: str) -> Reply:
    """The resident's comment on "What you told us"."""
    db = visit.services.db
    draft = await drafts.load(db, visit.chat_id, FEEDBACK_DRAFT, FeedbackDraft.from_data)
    if draft is not None:
        await db.outcomes.comment(visit.pseudonyms.feedback(draft.consultation_id), text[:2000])
    await db.drafts.drop(visit.chat_id, FEEDBACK_DRAFT)
    return Reply((Screen(visit.t._("Thank you for telling us.")),))


class Standing(StrEnum):
    """Where a consultation stands, as residents and the public page say it."""

    OPEN = "open"
    BEING_CONSIDERED = "being_considered"
    OUTCOME_PUBLISHED = "outcome_published"


@dataclass(frozen=True)
class PublicEntry:
    """One consultation on the public record: nothing in it is personal data."""

    consultation: Consultation
    standing: Standing
    told_us: dict[str, str]  # language -> "What you told us", {} until published
    decided: dict[str, str]  # language -> "What we did"


async def public_record(services: Services, now: datetime) -> list[PublicEntry]:
    """Every consultation that has opened, with its outcome texts: for /outcomes in the chat and
    the organisation's public "We asked, you said, we did" page alike."""
    entries = []
    for consultation_id in await services.db.consultations.all_ids():
        loaded = await services.consultations.current(consultation_id)
        if loaded is None or loaded.model.opens > now:
            continue
        c = loaded.model
        published = await services.db.outcomes.get(c.id)
        if c.closes > now:
            standing = Standing.OPEN
        elif published.get(DECIDED):
            standing = Standing.OUTCOME_PUBLISHED
        else:
            standing = Standing.BEING_CONSIDERED
        entries.append(PublicEntry(c, standing, published.get(TOLD_US, {}), published.get(DECIDED, {})))
    return entries


def standing_text(t: Translator, entry: PublicEntry) -> str:
    if entry.standing is Standing.OPEN:
        return t._("open until %(date)s", date=t.date(entry.consultation.closes))
    if entry.standing is Standing.OUTCOME_PUBLISHED:
        return t._("outcome published")
    return t._("closed, being considered")


def outcome_text(texts: dict[str, str], language: str, default_language: str) -> str:
    """An outcome text in the reader's language, else the default language's (as the chat sends it)."""
    return _body(texts, language, default_language) if texts else ""


async def past_and_present(visit: Visit) -> Reply:
    """/outcomes: every consultation and where it stands, with its outcome to read."""
    t = visit.t
    lines = ["<b>" + t._("Consultations and their outcomes") + "</b>"]
    buttons = []
    for entry in await public_record(visit.services, visit.now()):
        c = entry.consultation
        lines.append(f"• {escape(c.text('title', visit.language))} — {standing_text(t, entry)}")
        if entry.told_us or entry.decided:
            buttons.append(Button(shorten(c.text("title", visit.language), 40), callbacks.encode(READ, c.id)))
    if len(lines) == 1:
        lines.append(t._("There are no consultations yet."))
    return Reply((Screen("\n".join(lines), rows(*buttons)),))


async def read(visit: Visit, consultation_id: str | None) -> Reply:
    """Both outcome texts of one consultation."""
    services, t = visit.services, visit.t
    loaded = await services.consultations.current(consultation_id or "")
    published = await services.db.outcomes.get(consultation_id or "")
    if loaded is None or not published:
        return Reply(notice=t._("That button is out of date."))
    screens = []
    for kind in (TOLD_US, DECIDED):
        if not published.get(kind):
            continue
        latest = await services.db.outcomes.latest_version(loaded.model.id, kind)
        corrected_on = latest[1] if latest is not None and latest[0] > 1 else None
        screens.append(
            outcome_screen(
                t,
                loaded.model,
                kind,
                published[kind],
                loaded.model.default_language,
                with_feedback=False,
                corrected_on=corrected_on,
            )
        )
    return Reply(tuple(screens))


async def _officer_tapped(visit: Visit, tapped_: callbacks.Callback) -> Reply:
    return await tapped(visit, tapped_.arg(0), tapped_.arg(1))


async def _rated(visit: Visit, tapped_: callbacks.Callback) -> Reply:
    return await rate(visit, tapped_.arg(0), tapped_.arg(1))


async def _read_tapped(visit: Visit, tapped_: callbacks.Callback) -> Reply:
    return await read(visit, tapped_.arg(0))


async def _outcome_text(visit: Visit, typed_: Typed) -> Reply | None:
    """An officer drafting an outcome: the typed text is the outcome in the language asked for."""
    # The open-draft test comes first, from memory, so residents' text costs no role lookup.
    if DRAFT not in await visit.services.db.drafts.kinds(visit.chat_id) or not await officers.is_officer(visit):
        return None
    if not await has_draft_awaiting_text(visit):
        return None
    return await typed(visit, typed_.text)


async def _feedback_comment(visit: Visit, typed_: Typed) -> Reply | None:
    """After "Did we get this right?", the next typed text is the resident's comment."""
    if FEEDBACK_DRAFT not in await visit.services.db.drafts.kinds(visit.chat_id):  # from memory
        return None
    return await comment(visit, typed_.text)


BUTTONS = (
    ButtonRoute(PREFIX, _officer_tapped, needs_resident=False, officers_only=True),
    ButtonRoute(FEEDBACK, _rated),
    # "Read it" on a notice works before the privacy notice too: it only shows what was published.
    ButtonRoute(READ, _read_tapped, needs_resident=False),
)
TEXT = (
    TextRoute("outcome being drafted", 21, _outcome_text, needs_resident=False),
    TextRoute("comment on what we heard", 70, _feedback_comment),
)
