"""`haveyoursay preview`: walk a survey in the terminal with the bot's own engine and texts."""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path
from typing import TextIO

from conversations import callbacks
from conversations.answering import apply_button
from conversations.deployment import Deployment
from conversations.i18n import Catalogs
from conversations.screens import Screen
from conversations.survey.engine import Rejected, ReviewStep, SurveyEngine, SurveyState
from conversations.survey.loader import load_consultation_file
from conversations.survey.render import SurveyView

TAG = re.compile(r"</?(b|i|u|s|code|pre|a)( [^>]*)?>")


def plain(text: str) -> str:
    """A Telegram HTML message as terminal text."""
    return html.unescape(TAG.sub("", text))


def run_preview(
    path: Path,
    language: str | None,
    deployment: Deployment,
    default_language: str,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    """Show each screen; read a button number or a typed answer; stop at the receipt or on end of input."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    areas = {a.id for a in deployment.areas} if deployment.areas else None
    result = load_consultation_file(path, known_areas=areas)
    if result.consultation is None:
        for problem in result.problems:
            print(problem, file=sys.stderr)
        return 1
    consultation = result.consultation
    catalogs = Catalogs.load(default_language, deployment.timezone)
    t = catalogs.translator(language or consultation.default_language)
    engine = SurveyEngine(consultation, deployment.areas)
    view = SurveyView(consultation, t, deployment.areas)
    state = engine.start()
    screen = view.step(engine.step(state), state)
    while True:
        _show(screen, stdout)
        line = stdin.readline()
        if not line:
            print("\n(preview ended)", file=stdout)
            return 0
        outcome = _respond(line.rstrip("\n"), screen, engine, view, state)
        if outcome is None:
            print(plain(view.receipt().text), file=stdout)
            return 0
        state, screen = outcome


def _show(screen: Screen, out: TextIO) -> None:
    print("\n" + "─" * 40, file=out)
    print(plain(screen.text), file=out)
    number = 0
    for row in screen.buttons:
        labels = []
        for button in row:
            number += 1
            labels.append(f"[{number}] {button.label}")
        print("   ".join(labels), file=out)
    print("> ", end="", file=out, flush=True)


def _respond(
    line: str, screen: Screen, engine: SurveyEngine, view: SurveyView, state: SurveyState
) -> tuple[SurveyState, Screen] | None:
    """The next state and screen; None once the resident submits."""
    buttons = [b for row in screen.buttons for b in row]
    if line.strip().isdigit() and 1 <= int(line) <= len(buttons):
        tapped = callbacks.decode(buttons[int(line) - 1].data)
        assert tapped is not None
        verb, argument = tapped.arg(1), tapped.arg(2)
        if verb == "submit":
            return None
        step = engine.step(state)
        if verb == "changes" and isinstance(step, ReviewStep):
            return state, view.change_menu(step, state)
        if verb == "summary":
            return state, view.step(step, state)
        result = apply_button(engine, state, verb, argument)
    else:
        result = engine.type_answer(state, line, view.t.language, view.yes_no_words())
    if isinstance(result, Rejected):
        lead = "⚠️ " + view.problem(result, engine.current_question(state))
        return state, view.step(engine.step(state), state, lead)
    return result.state, view.step(engine.step(result.state), result.state)
