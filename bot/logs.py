"""Logging that never writes the bot token, and never a resident's answers."""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

from telegram.error import InvalidToken

# A bot token is "<digits>:<35 or so url-safe characters>"; it also appears in every API URL.
TOKEN_PATTERN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")
# What python-telegram-bot logs, at CRITICAL with the updates in full, when it cannot read one: from
# get_updates (the bot then logs each update it skipped: bot/reading.py), and from the webhook server.
UNREADABLE_IN_POLLING = "Error while parsing updates!"
UNREADABLE_ELSEWHERE = "Something went wrong processing the data received from Telegram"


def token_pattern(token: str | None) -> re.Pattern[str]:
    """Anything shaped like a token, and the configured token and its secret part in any case or quoting.

    python-telegram-bot rewrites the case of error descriptions, so the match ignores case.
    """
    parts = [TOKEN_PATTERN.pattern]
    if token:
        secret = token.split(":", 1)[-1]
        for form in {token, quote(token, safe=""), secret}:
            if len(form) >= 6:
                parts.append(re.escape(form))
    return re.compile("|".join(sorted(parts, key=len, reverse=True)), re.IGNORECASE)


class RedactTokens(logging.Filter):
    """Replaces anything shaped like a bot token (and the configured token) in the message with a placeholder."""

    def __init__(self, token: str | None = None) -> None:
        super().__init__()
        self.pattern = token_pattern(token)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.pattern.sub("<token>", message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class RedactingFormatter(logging.Formatter):
    """Redacts the whole line as written: the message, the formatted traceback and the stack.

    A traceback's last line is the exception's text (its args), which may hold the token
    (python-telegram-bot's InvalidToken does); a filter sees only the message.
    """

    def __init__(self, fmt: str, token: str | None) -> None:
        super().__init__(fmt)
        self.pattern = token_pattern(token)

    def format(self, record: logging.LogRecord) -> str:
        return self.pattern.sub("<token>", super().format(record))


class UnreadableUpdates(logging.Filter):
    """python-telegram-bot logs an update it cannot read in full (a resident's words) with a traceback.

    Keep one line without the update; the bot itself logs which update it skipped (bot/reading.py).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.msg, str):
            return True
        if record.msg.startswith(UNREADABLE_IN_POLLING):
            return False
        if not record.msg.startswith(UNREADABLE_ELSEWHERE):
            return True
        error = record.exc_info[1] if record.exc_info else None
        record.msg = "An update python-telegram-bot could not read was not processed (%s)"
        record.args = (type(error).__name__ if error is not None else "unknown error",)
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class NoTracebackForARefusedToken(logging.Filter):
    """Telegram refusing the token is a setting to fix, not a bug: one line, no traceback.

    bot/cli.py then says what to check.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], InvalidToken):
            record.exc_info, record.exc_text = None, None
        return True


def configure_logging(token: str | None, level: int = logging.INFO) -> None:
    """Log to standard error; quiet the HTTP client, whose request lines carry the token."""
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", token))
    handler.addFilter(RedactTokens(token))
    handler.addFilter(UnreadableUpdates())
    handler.addFilter(NoTracebackForARefusedToken())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
