"""A resident's rights as features: /mydata (everything we hold, as a file) and /delete (erasure).

Erasure removes identity, settings, subscriptions, pending messages and survey
progress; submitted answers are deleted or kept only as unlinked anonymous answers,
as the deployment configures (HAVEYOURSAY_ERASURE=delete|anonymise).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from conversations import callbacks, taps
from conversations.i18n import escape
from conversations.routes import ButtonRoute
from conversations.screens import Attachment, Button, Reply, Screen
from conversations.services import Visit
from storage.personal_data import erase, everything_about

PREFIX = "del"


@dataclass(frozen=True)
class DataFile:
    """A file to send to the resident: its name and bytes."""

    filename: str
    content: bytes


async def _ids(visit: Visit) -> tuple[dict[str, str], dict[str, str]]:
    """The resident's response and feedback ids for every consultation (recomputed, never stored with them)."""
    db = visit.services.db
    consultation_ids = await db.consultations.all_ids()
    named = {*consultation_ids, *await db.outcomes.consultations_with_feedback()}
    return visit.pseudonyms.everywhere(consultation_ids, named)


async def my_data_reply(visit: Visit) -> Reply:
    """/mydata: the summary, then the file, in the resident's private chat."""
    summary, data_file = await my_data(visit)
    return Reply(summary.screens, attachments=(Attachment(data_file.filename, data_file.content),))


async def my_data(visit: Visit) -> tuple[Reply, DataFile]:
    """Everything stored about the resident, as a JSON file, with a readable summary."""
    t, db = visit.t, visit.services.db
    responses, feedback = await _ids(visit)
    tapped = await taps.tap_ids(visit.services, visit.pseudonyms)
    found = await everything_about(db.connection, visit.chat_id, responses, feedback, visit.pseudonyms.equality, tapped)
    content = json.dumps(found, ensure_ascii=False, indent=2, default=str).encode()
    resident = (found.get("residents") or [{}])[0]
    submitted = [await _title(visit, row["consultation_id"]) for row in found["responses"] if row.get("submitted_at")]
    in_progress = [
        await _title(visit, row["consultation_id"]) for row in found["responses"] if not row.get("submitted_at")
    ]
    pending = sum(1 for row in found["deliveries"] if row.get("state") in ("waiting", "sending"))
    to_team = sum(1 for row in found["contact_texts"] if not row.get("from_team"))
    deployment = visit.services.deployment
    area = deployment.area(resident.get("area_id"))
    topics = [deployment.topic(row["topic_id"]) for row in found["resident_topics"]]
    topic_names = [deployment.text(topic.name, visit.language) for topic in topics if topic is not None]
    lines = [
        "<b>" + t._("What we hold about you") + "</b>",
        t._("Language: %(language)s", language=t.language_name(str(resident.get("language", visit.language)))),
        t._(
            "Area: %(area)s",
            area=area.display_name(visit.language, deployment.default_language) if area else t._("not given"),
        ),
        t._("Interests: %(topics)s", topics=", ".join(topic_names) or "-"),
        t.n_("%(n)d survey answered", "%(n)d surveys answered", len(submitted)),
        *(f"• {escape(title)}" for title in submitted),
        t.n_("%(n)d survey in progress", "%(n)d surveys in progress", len(in_progress)),
        *(f"• {escape(title)}" for title in in_progress),
        t.n_("%(n)d message waiting to be sent to you", "%(n)d messages waiting to be sent to you", pending),
        t.n_(
            "%(n)d message from you to the engagement team, kept with their replies",
            "%(n)d messages from you to the engagement team, kept with their replies",
            to_team,
        ),
        "",
        t._("The attached file has every detail. To delete it all, send /delete."),
    ]
    return Reply((Screen("\n".join(lines)),)), DataFile(f"my-data-{visit.chat_id}.json", content)


async def _title(visit: Visit, consultation_id: str) -> str:
    """A consultation's title in the resident's language (its id if it is gone)."""
    loaded = await visit.services.consultations.current(consultation_id)
    return loaded.model.text("title", visit.language) if loaded is not None else consultation_id


async def ask_to_delete(visit: Visit) -> Reply:
    """/delete: say what will happen, and ask to confirm."""
    t = visit.t
    keep = visit.services.erasure == "anonymise"
    answers = (
        t._("Answers you have already sent will be kept without anything that links them to you.")
        if keep
        else t._("Answers you have already sent will be deleted too.")
    )
    text = "\n\n".join(
        [
            "<b>" + t._("Delete everything we hold about you?") + "</b>",
            t._("We will delete your language, area, interests, surveys in progress and messages waiting for you."),
            answers,
            t._("This cannot be undone. You can start again at any time with /start."),
        ]
    )
    buttons = (
        (Button(t._("Yes, delete it all"), callbacks.encode(PREFIX, "yes")),),
        (Button(t._("No, keep it"), callbacks.encode(PREFIX, "no")),),
    )
    return Reply((Screen(text, buttons),))


async def confirm_delete(visit: Visit, verb: str | None) -> Reply:
    t = visit.t
    if verb == "no":
        return Reply((Screen(t._("Nothing was deleted.")),), edit=True)
    if verb != "yes":
        return Reply(notice=t._("That button is out of date."))
    responses, feedback = await _ids(visit)
    db = visit.services.db
    await erase(
        db.connection,
        visit.chat_id,
        responses,
        feedback,
        visit.pseudonyms.equality,
        visit.services.erasure,
        visit.now(),
        await taps.tap_ids(visit.services, visit.pseudonyms),
    )
    return Reply(
        (Screen(t._("Done. Everything we held about you has been deleted. Thank you for taking part.")),), edit=True
    )


async def _delete_tapped(visit: Visit, tapped: callbacks.Callback) -> Reply:
    return await confirm_delete(visit, tapped.arg(0))


# /delete answers anyone, acknowledged or not, and so do its buttons.
BUTTONS = (ButtonRoute(PREFIX, _delete_tapped, needs_resident=False),)
