"""What a resident's next typed message means: the last screen that asked for typed text owns it.

Several steps wait for typed text: the area question (at first contact, or from /settings), a
message to the team being written, a comment on "What you told us", an officer's notice or outcome
being drafted, and a reply from the team the resident has just read. A command or a button that
takes the resident elsewhere ends every one of them, except the step that button belongs to; what
they type next is then read by the screen they went to (a survey question, say), never by a step
they left.
"""

from __future__ import annotations

from conversations import broadcasting, callbacks, contact, onboarding, outcomes, settings
from conversations.services import Visit

AREA = "area"  # the area question: kept in the resident's onboarding step, not in a draft
SETTINGS_AREA = "settings-area"  # the same question asked from /settings ("Change my area")
# Which of the steps above each onboarding step stands for.
AREA_STEPS = {onboarding.AREA_STEP: AREA, settings.AREA_STEP: SETTINGS_AREA}
DRAFTS = (contact.DRAFT, contact.REPLY, outcomes.FEEDBACK_DRAFT, broadcasting.DRAFT, outcomes.DRAFT)
# The steps a button of each kind continues; every other button ends them all.
KEPT_BY_BUTTON: dict[str, tuple[str, ...]] = {
    contact.PREFIX: (contact.DRAFT, contact.REPLY),
    outcomes.FEEDBACK: (outcomes.FEEDBACK_DRAFT,),
    callbacks.ONBOARD_AREA: (AREA,),
    settings.PREFIX: (SETTINGS_AREA,),
    broadcasting.PREFIX: (broadcasting.DRAFT,),
    outcomes.PREFIX: (outcomes.DRAFT,),
}


async def leave(visit: Visit, button_kind: str | None = None) -> None:
    """The resident went elsewhere (a command, a menu button, or a button of `button_kind`)."""
    keep = KEPT_BY_BUTTON.get(button_kind or "", ())
    db = visit.services.db
    open_drafts = await db.drafts.kinds(visit.chat_id)  # from memory: almost always empty
    for kind in DRAFTS:
        if kind in open_drafts and kind not in keep:
            await db.drafts.drop(visit.chat_id, kind)
    resident = visit.resident
    step = AREA_STEPS.get(resident.onboarding_step or "") if resident is not None else None
    if step is not None and step not in keep:
        await db.residents.set_onboarding_step(visit.chat_id, None)
        visit.resident = await db.residents.get(visit.chat_id)
