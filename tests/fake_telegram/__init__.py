"""A faithful fake of the Telegram Bot API for end-to-end tests (see README.md)."""

from .server import (
    ApiCall,
    BotMessage,
    CallbackAnswer,
    FakeTelegram,
    FakeUser,
    ManualClock,
    RateLimitHit,
    RateLimits,
    SentFile,
)

__all__ = [
    "ApiCall",
    "BotMessage",
    "CallbackAnswer",
    "FakeTelegram",
    "FakeUser",
    "ManualClock",
    "RateLimitHit",
    "RateLimits",
    "SentFile",
]
