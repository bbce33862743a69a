""" "About you": optional equality monitoring after a survey, in the usual UK categories.

Every question says why it is asked and has "Prefer not to say". The answers are
stored apart from survey answers, under a keyed hash of the resident alone,
reported only in aggregate (fewer than 5 shown as such), never shown for a named
resident, and a resident can withdraw them on their own with /aboutme.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from conversations import callbacks
from conversations.i18n import Translator
from conversations.routes import ButtonRoute
from conversations.screens import Button, Reply, Screen, rows
from conversations.services import Visit

PREFIX = "ay"
PREFER_NOT = "prefer_not"


@dataclass(frozen=True)
class MonitoringQuestion:
    key: str
    why: Callable[[Translator], str]
    text: Callable[[Translator], str]
    choices: Callable[[Translator], list[tuple[str, str]]]


def _yes_no(t: Translator) -> list[tuple[str, str]]:
    return [("yes", t._("Yes")), ("no", t._("No"))]


QUESTIONS = (
    MonitoringQuestion(
        "age",
        lambda t: t._("We ask your age to check that we hear from people of every age."),
        lambda t: t._("How old are you?"),
        lambda t: [
            ("under_18", t._("Under 18")),
            ("18_24", "18–24"),
            ("25_34", "25–34"),
            ("35_44", "35–44"),
            ("45_54", "45–54"),
            ("55_64", "55–64"),
            ("65_74", "65–74"),
            ("75_plus", t._("75 or over")),
        ],
    ),
    MonitoringQuestion(
        "sex",
        lambda t: t._("We ask this to check that services work for women and men alike."),
        lambda t: t._("What is your sex?"),
        lambda t: [("female", t._("Female")), ("male", t._("Male")), ("other", t._("I describe it another way"))],
    ),
    MonitoringQuestion(
        "disability",
        lambda t: t._("We ask this to check that disabled people can have their say."),
        lambda t: t._(
            "Do you have a health condition or illness that has lasted, or is expected to last, 12 months or more?"
        ),
        _yes_no,
    ),
    MonitoringQuestion(
        "ethnic_group",
        lambda t: t._("We ask this to check that we hear from every community."),
        lambda t: t._("What is your ethnic group?"),
        lambda t: [
            ("asian", t._("Asian or Asian British")),
            ("black", t._("Black, Black British, Caribbean or African")),
            ("mixed", t._("Mixed or multiple ethnic groups")),
            ("white", t._("White")),
            ("other", t._("Another ethnic group")),
        ],
    ),
    MonitoringQuestion(
        "religion",
        lambda t: t._("We ask this to check that we hear from people of every faith and none."),
        lambda t: t._("What is your religion?"),
        lambda t: [
            ("none", t._("No religion")),
            ("christian", t._("Christian")),
            ("buddhist", t._("Buddhist")),
            ("hindu", t._("Hindu")),
            ("jewish", t._("Jewish")),
            ("muslim", t._("Muslim")),
            ("sikh", t._("Sikh")),
            ("other", t._("Another religion")),
        ],
    ),
    MonitoringQuestion(
        "carer",
        lambda t: t._("We ask this because carers' views often go unheard."),
        lambda t: t._("Do you look after or support anyone because of illness, disability or old age?"),
        _yes_no,
    ),
)


def invitation(t: Translator, consultation_id: str) -> Screen:
    """After a survey: the optional "About you" questions, with why they are asked and how they are kept."""
    text = "\n\n".join(
        [
            "<b>" + t._("About you (optional)") + "</b>",
            t._(
                "A few questions help us check that we hear from everyone. Your answers are kept apart from your "
                "survey answers, only ever counted in totals, and you can withdraw them at any time with /aboutme."
            ),
        ]
    )
    return Screen(
        text,
        (
            (Button(t._("Answer the questions"), callbacks.encode(PREFIX, "go", consultation_id)),),
            (Button(t._("No thanks"), callbacks.encode(PREFIX, "stop", consultation_id)),),
        ),
    )


def question_screen(t: Translator, consultation_id: str, question: MonitoringQuestion, number: int) -> Screen:
    text = "\n\n".join(
        [
            "<b>" + t._("About you: %(number)d of %(total)d", number=number, total=len(QUESTIONS)) + "</b>",
            "<i>" + question.why(t) + "</i>",
            question.text(t),
        ]
    )
    choices = [*question.choices(t), (PREFER_NOT, t._("Prefer not to say"))]
    # The question's number, not its key, keeps the button's data within Telegram's 64 bytes.
    data = [callbacks.encode(PREFIX, str(number), consultation_id, value) for value, _ in choices]
    buttons = [Button(label, item) for (_, label), item in zip(choices, data, strict=True)]
    stop = Button(t._("Stop here"), callbacks.encode(PREFIX, "stop", consultation_id))
    # Short labels two to a row; long ones (ethnic groups) one to a row so they are not cut off.
    per_row = 2 if max(len(label) for _, label in choices) <= 14 else 1
    return Screen(text, (*rows(*buttons, per_row=per_row), (stop,)))


async def _next_question(visit: Visit, consultation_id: str) -> tuple[int, MonitoringQuestion] | None:
    db = visit.services.db
    done = await db.equality.answered(visit.pseudonyms.equality, consultation_id)
    for number, question in enumerate(QUESTIONS, start=1):
        if question.key not in done:
            return number, question
    return None


async def tapped(visit: Visit, verb: str | None, consultation_id: str | None, value: str | None) -> Reply:
    """A tap in the "About you" questions: start, stop, or an answer to the current question."""
    t, db = visit.t, visit.services.db
    if not consultation_id or await visit.services.consultations.current(consultation_id) is None:
        return Reply(notice=t._("That button is out of date."))
    if verb == "stop":
        return Reply(
            (
                Screen(
                    t._(
                        "Thank you. You can answer these questions another time, or withdraw your "
                        "answers, with /aboutme."
                    )
                ),
            ),
            edit=True,
        )
    current = await _next_question(visit, consultation_id)
    if verb != "go":
        question = current[1] if current else None
        allowed = [v for v, _ in question.choices(t)] + [PREFER_NOT] if question else []
        if current is None or question is None or verb != str(current[0]) or value not in allowed:
            return Reply(notice=t._("That button is out of date."))
        await db.equality.record(visit.pseudonyms.equality, consultation_id, question.key, value, visit.now())
        current = await _next_question(visit, consultation_id)
    if current is None:
        return Reply((Screen(t._("Thank you. You can withdraw these answers at any time with /aboutme.")),), edit=True)
    number, question = current
    return Reply((question_screen(t, consultation_id, question, number),), edit=True)


async def mine(visit: Visit) -> Reply:
    """/aboutme: the resident's own "About you" answers, and a button to withdraw them."""
    t, db = visit.t, visit.services.db
    given = await db.equality.of(visit.pseudonyms.equality)
    if not given:
        return Reply((Screen(t._("You have not answered any “About you” questions.")),))
    labels = {q.key: (q.text(t), dict([*q.choices(t), (PREFER_NOT, t._("Prefer not to say"))])) for q in QUESTIONS}
    lines = ["<b>" + t._("Your “About you” answers") + "</b>"]
    for row in given:
        text, choices = labels.get(row["question"], (row["question"], {}))
        lines.append(f"{text} — {choices.get(row['value'], row['value'])}")
    button = Button(t._("Withdraw these answers"), callbacks.encode(PREFIX, "withdraw"))
    return Reply((Screen("\n".join(lines), ((button,),)),))


async def withdraw(visit: Visit) -> Reply:
    db = visit.services.db
    removed = await db.equality.withdraw(visit.pseudonyms.equality)
    return Reply(
        (
            Screen(
                visit.t.n_(
                    "Done: %(n)d answer withdrawn. Nothing else has changed.",
                    "Done: %(n)d answers withdrawn. Nothing else has changed.",
                    removed,
                )
            ),
        ),
        edit=True,
    )


async def _tapped(visit: Visit, tapped_: callbacks.Callback) -> Reply:
    if tapped_.arg(0) == "withdraw":
        return await withdraw(visit)
    return await tapped(visit, tapped_.arg(0), tapped_.arg(1), tapped_.arg(2))


# /aboutme answers anyone, acknowledged or not, and so do its buttons.
BUTTONS = (ButtonRoute(PREFIX, _tapped, needs_resident=False),)
