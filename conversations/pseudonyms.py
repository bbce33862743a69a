"""The pseudonymous ids: what a resident told us is stored under these, never under their Telegram id.

Each is a keyed hash (HMAC-SHA-256 with the database's secret `pseudonym_key`, the first 32 hex
digits) of the chat id and a prefix of its own, so ids of different kinds cannot be joined:
- a response id per resident and consultation (`responses`, `answers`): "<chat>:<consultation>";
- a feedback id per resident and consultation (`outcome_feedback`): "feedback:<chat>:<consultation>";
- an equality id per resident (`equality_answers`): "equality:<chat>";
- a tap id per resident and message with a "Take part" button (`take_part_taps`): "tap:<chat>:<message>";
- a chat's name in the several workers' short-lived rows (a chat claim in `leases`, a count in
  `flood_counts`): "<purpose>:<chat>", kept as "<purpose>:" and the digest (`coordination_name`).

The values are stored, so they must never change (tests/test_pseudonyms.py pins them). Within
one update a `Visit` computes each at most once (`Visit.pseudonyms`); across updates the digests
of the residents answering now are remembered, since an HMAC through OpenSSL costs several
microseconds, more than reading a response from memory.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Iterable

__all__ = ["Pseudonyms", "coordination_name", "equality_id", "feedback_id", "response_id_for", "tap_id"]


@functools.lru_cache(maxsize=16_384)
def _keyed(key: bytes, message: str) -> str:
    """The one derivation every id uses."""
    return hmac.digest(key, message.encode(), "sha256").hex()[:32]


def response_id_for(key: bytes, chat_id: int, consultation_id: str) -> str:
    """The id of one resident's response to one consultation."""
    return _keyed(key, f"{chat_id}:{consultation_id}")


def feedback_id(key: bytes, chat_id: int, consultation_id: str) -> str:
    """One reply per resident and consultation to "Did we get this right?", without storing who they are."""
    return _keyed(key, f"feedback:{chat_id}:{consultation_id}")


def equality_id(key: bytes, chat_id: int) -> str:
    """The resident alone: apart from response ids, so "About you" answers cannot be joined to a response."""
    return _keyed(key, f"equality:{chat_id}")


def tap_id(key: bytes, chat_id: int, message: str) -> str:
    """One "Take part" tap per resident and message (a broadcast, a notice), joined to nothing else."""
    return _keyed(key, f"tap:{chat_id}:{message}")


def coordination_name(key: bytes, purpose: str, chat_id: int) -> str:
    """A chat's name in the workers' coordination tables ("chat", "messages", "taps", "group"): rows that
    live seconds or a minute, named without the chat id and joined to nothing stored."""
    return f"{purpose}:" + _keyed(key, f"{purpose}:{chat_id}")


class Pseudonyms:
    """One resident's ids, each computed at most once for as long as this object lives (an update)."""

    __slots__ = ("_equality", "_feedback", "_key", "_responses", "chat_id")

    def __init__(self, key: bytes, chat_id: int) -> None:
        self._key = key
        self.chat_id = chat_id
        self._responses: dict[str, str] = {}
        self._feedback: dict[str, str] = {}
        self._equality: str | None = None

    def response(self, consultation_id: str) -> str:
        found = self._responses.get(consultation_id)
        if found is None:
            found = self._responses[consultation_id] = response_id_for(self._key, self.chat_id, consultation_id)
        return found

    def feedback(self, consultation_id: str) -> str:
        found = self._feedback.get(consultation_id)
        if found is None:
            found = self._feedback[consultation_id] = feedback_id(self._key, self.chat_id, consultation_id)
        return found

    @property
    def equality(self) -> str:
        if self._equality is None:
            self._equality = equality_id(self._key, self.chat_id)
        return self._equality

    def taps(self, messages: Iterable[str]) -> dict[str, str]:
        """Tap ids for these messages, by message (what /mydata, /delete and retention look for)."""
        return {message: tap_id(self._key, self.chat_id, message) for message in messages}

    def everywhere(
        self, consultation_ids: Iterable[str], with_feedback: Iterable[str]
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Response ids for `consultation_ids` and feedback ids for `with_feedback`, by consultation
        (what /mydata, /delete and retention look for: every id the resident may have)."""
        return (
            {cid: self.response(cid) for cid in consultation_ids},
            {cid: self.feedback(cid) for cid in with_feedback},
        )
