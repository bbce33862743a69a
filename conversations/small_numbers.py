"""Small numbers: which counts of a table officers may see, so that no group under 5 can be seen or worked out.

One rule, for every officer-facing table (the chat's /reach, and the workspace later):

- a count from 1 to 4 is shown as "fewer than 5" (primary suppression);
- the cells of a table add up to a total that an officer can see or work out (everyone who
  took part is counted once by area and once by language), so a hidden count must not be the
  only unknown: while any hidden small count could still be worked out from the total and the
  other cells, the next smallest count is hidden too, as "not shown" (secondary suppression).

Zero is shown as it is: nobody is not a person to protect, and officers need to see whom they
did not reach. The rule assumes the reader knows it, so a "not shown" count is taken to be 5 or
more (or, once a zero or a small count had to be hidden that way, anything from 0).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence

__all__ = ["SMALL", "Shown", "protect"]

SMALL = 5


class Shown(enum.Enum):
    """How one count of a table is shown."""

    EXACT = "exact"
    FEWER = "fewer"  # "fewer than 5"
    HIDDEN = "hidden"  # "not shown": hidden so that a small count cannot be worked out


def protect(counts: Sequence[int], threshold: int = SMALL) -> list[Shown]:
    """How to show each count of one table whose total is known, so that no count under `threshold` can be known."""
    shown = [Shown.FEWER if 0 < count < threshold else Shown.EXACT for count in counts]
    while _worked_out(counts, shown, threshold):
        candidates = [i for i, how in enumerate(shown) if how is Shown.EXACT]
        large = [i for i in candidates if counts[i] > 0]
        if large:
            shown[min(large, key=lambda i: (counts[i], i))] = Shown.HIDDEN
        elif candidates:
            shown[candidates[0]] = Shown.HIDDEN  # only zeros are left: hide one
        elif Shown.FEWER in shown and len(shown) > 1:
            shown = [Shown.HIDDEN] * len(shown)  # one label for all: nothing tells the cells apart
        else:
            break  # a table of one cell: its count is its total, nothing to hide it behind
    return shown


def _worked_out(counts: Sequence[int], shown: Sequence[Shown], threshold: int) -> bool:
    """Whether a hidden count from 1 to threshold-1 follows from the total, the shown cells and the labels."""
    hidden = [i for i, how in enumerate(shown) if how is not Shown.EXACT]
    total = sum(counts[i] for i in hidden)  # what the reader gets by subtraction
    any_value = any(counts[i] < threshold for i in hidden if shown[i] is Shown.HIDDEN)
    bounds = {
        i: (1, threshold - 1) if shown[i] is Shown.FEWER else ((0, math.inf) if any_value else (threshold, math.inf))
        for i in hidden
    }
    for i in hidden:
        if not 0 < counts[i] < threshold:
            continue
        others_low = sum(bounds[j][0] for j in hidden if j != i)
        others_high = sum(bounds[j][1] for j in hidden if j != i)
        low = max(bounds[i][0], total - others_high)
        high = min(bounds[i][1], total - others_low)
        if low == high:
            return True
    return False
