"""The pseudonymous ids are stored with answers, feedback and equality answers: they must never change.

Known inputs and the ids they gave when these tests were written; any change to how an id is
derived would orphan every stored row, so these values are pinned, byte for byte.
"""

from __future__ import annotations

from conversations.about_you import equality_id
from conversations.outcomes import feedback_id
from storage.responses import response_id_for

KEY = bytes.fromhex("00112233445566778899aabbccddeeff" * 4)


def test_response_ids_are_pinned() -> None:
    assert response_id_for(KEY, 700000001, "gp-opening-hours") == "2f3639a4e93552ccb081261cff56236c"
    assert response_id_for(KEY, -1001234, "home-care") == "28c5263cd1467dc8657779229c3ad18a"


def test_feedback_ids_are_pinned() -> None:
    assert feedback_id(KEY, 700000001, "gp-opening-hours") == "460db58156acee741b22e0e69262ef49"


def test_equality_ids_are_pinned() -> None:
    assert equality_id(KEY, 700000001) == "b2597a27af8aec7f17a77d551c3878a0"
    assert equality_id(b"k", 7) == "f04ec3ad76e97fbcb35997f397f408e9"
