"""Logging that never writes the bot token, and never a resident's answers."""

from __future__ import annotations

import logging
import re

# A bot token is "<digits>:<35 or so url-safe characters>"; it also appears in every API URL.
TOKEN_PATTERN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")


class RedactTokens(logging.Filter):
    """Replaces anything shaped like a bot token (and the configured token) with a placeholder."""

    def __init__(self, token: str | None = None) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = TOKEN_PATTERN.sub("<token>", message)
        if self.token:
            cleaned = cleaned.replace(self.token, "<token>")
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def configure_logging(token: str | None, level: int = logging.INFO) -> None:
    """Log to standard error; quiet the HTTP client, whose request lines carry the token."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactTokens(token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
