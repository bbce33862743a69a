"""The small-numbers rule: no count under 5 can be seen, nor worked out from a total by subtraction."""

from __future__ import annotations

import itertools

import pytest

from conversations.small_numbers import Shown, protect

E, F, H = Shown.EXACT, Shown.FEWER, Shown.HIDDEN


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ([12, 30, 7], [E, E, E]),
        ([0, 12, 0], [E, E, E]),
        ([3, 20, 30], [F, H, E]),  # 3 = total - 50 if 20 were shown
        ([3, 2, 30], [F, F, E]),  # 5 between two small cells: 1+4, 2+3, ...
        ([1, 1, 30], [F, F, H]),  # 2 between two small cells can only be 1+1
        ([4, 4, 30, 40], [F, F, H, E]),  # 8 between two cells of at most 4 each: 4+4
        ([3, 0, 0], [F, H, E]),  # nothing else to hide behind but a zero
        ([3, 5], [F, H]),  # 8 is 3 + 5, or 1 + 7, or 2 + 6, or 4 + 4
        ([2], [F]),  # a table of one cell is its total: nothing to hide behind
    ],
)
def test_small_counts_are_hidden_and_so_is_the_next_smallest_when_subtraction_would_reveal_them(
    counts: list[int], expected: list[Shown]
) -> None:
    assert protect(counts) == expected


def _possible(counts: list[int], shown: list[Shown]) -> list[tuple[int, ...]]:
    """Every table a reader who knows the total could believe in: "fewer than 5" is 1 to 4, "not shown" anything."""
    total = sum(counts)
    ranges = [
        [c] if how is E else (range(1, 5) if how is F else range(total + 1))
        for c, how in zip(counts, shown, strict=True)
    ]
    return [values for values in itertools.product(*ranges) if sum(values) == total]


@pytest.mark.parametrize("counts", [list(c) for c in itertools.product([0, 1, 2, 4, 5, 9], repeat=3)])
def test_no_small_count_can_be_worked_out_from_the_total(counts: list[int]) -> None:
    shown = protect(counts)
    assert all(how is not E for c, how in zip(counts, shown, strict=True) if 0 < c < 5)
    if sum(1 for c in counts if c) < 2 and 0 not in counts:
        return
    possible = _possible(counts, shown)
    for i, count in enumerate(counts):
        if 0 < count < 5:
            assert len({values[i] for values in possible}) > 1, (counts, shown, possible)
