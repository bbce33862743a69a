"""The pseudonymous ids are stored with answers, feedback and equality answers: they must never change.

Known inputs and the ids they gave when these tests were written; any change to how an id is
derived would orphan every stored row, so these values are pinned, byte for byte.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import cast

from conversations.i18n import Translator
from conversations.pseudonyms import Pseudonyms, equality_id, feedback_id, response_id_for
from conversations.services import Services, Visit

KEY = bytes.fromhex("00112233445566778899aabbccddeeff" * 4)


def test_response_ids_are_pinned() -> None:
    assert response_id_for(KEY, 700000001, "gp-opening-hours") == "2f3639a4e93552ccb081261cff56236c"
    assert response_id_for(KEY, -1001234, "home-care") == "28c5263cd1467dc8657779229c3ad18a"


def test_feedback_ids_are_pinned() -> None:
    assert feedback_id(KEY, 700000001, "gp-opening-hours") == "460db58156acee741b22e0e69262ef49"


def test_equality_ids_are_pinned() -> None:
    assert equality_id(KEY, 700000001) == "b2597a27af8aec7f17a77d551c3878a0"
    assert equality_id(b"k", 7) == "f04ec3ad76e97fbcb35997f397f408e9"


def test_one_residents_ids_are_the_same_values_computed_once() -> None:
    ids = Pseudonyms(KEY, 700000001)
    assert ids.response("gp-opening-hours") == "2f3639a4e93552ccb081261cff56236c"
    assert ids.feedback("gp-opening-hours") == "460db58156acee741b22e0e69262ef49"
    assert ids.equality == "b2597a27af8aec7f17a77d551c3878a0"
    responses, feedback = ids.everywhere(["gp-opening-hours"], ["gp-opening-hours", "home-care"])
    assert responses == {"gp-opening-hours": "2f3639a4e93552ccb081261cff56236c"}
    assert feedback["gp-opening-hours"] == "460db58156acee741b22e0e69262ef49"
    assert feedback["home-care"] == feedback_id(KEY, 700000001, "home-care")


def test_no_other_module_derives_an_id() -> None:
    """The keyed hashes of residents live in conversations/pseudonyms.py alone. (Other hashes, such as
    the workspace's sign-in tokens and Telegram's Mini App signature, use no pseudonym key.)"""
    root = Path(__file__).resolve().parent.parent
    found = [
        str(path.relative_to(root))
        for floor in ("bot", "conversations", "storage")
        for path in sorted((root / floor).rglob("*.py"))
        if path.name != "pseudonyms.py"
        and re.search(r"hmac\.(new|digest)|hashlib\.sha256", text := path.read_text())
        and "pseudonym_key" in text
    ]
    assert not found, found


def test_a_visit_keeps_one_residents_ids_for_the_whole_update() -> None:
    services = cast(Services, SimpleNamespace(db=SimpleNamespace(pseudonym_key=KEY)))
    visit = Visit(services, 700000001, None, cast(Translator, None), None)
    assert visit.pseudonyms is visit.pseudonyms
    assert visit.pseudonyms.response("gp-opening-hours") == "2f3639a4e93552ccb081261cff56236c"
