"""The best block of adjacent seats (``chalicelib.domain.seats.best_block``): the row nearest
the front with ``n`` adjacent free seats, then the block whose middle is nearest the middle of
the row, then the lower seat numbers; None when no row has such a block."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.seats import best_block


def row_of(row: int, numbers: range | list[int]) -> list[tuple[int, int]]:
    return [(row, n) for n in numbers]


def taken_except(rows: int, per_row: int, free: list[tuple[int, int]]) -> set[tuple[int, int]]:
    return {(r, n) for r in range(1, rows + 1) for n in range(1, per_row + 1)} - set(free)


def test_an_empty_map_gives_the_middle_of_the_front_row():
    assert best_block(5, 10, set(), 4) == row_of(1, range(4, 8))
    assert best_block(5, 10, set(), 1) == [(1, 5)]  # 5 and 6 are as central: the lower wins
    assert best_block(5, 9, set(), 1) == [(1, 5)]
    assert best_block(5, 9, set(), 3) == row_of(1, range(4, 7))


def test_fragmented_rows_are_skipped_for_a_group_that_does_not_fit():
    # Row 1 free runs: 1-2, 4, 6-7, 9-10 (gaps of 1 and 2 between taken seats).
    taken = {(1, 3), (1, 5), (1, 8)}
    assert best_block(3, 10, taken, 3) == row_of(2, range(4, 7))
    assert best_block(3, 10, taken, 2) == row_of(1, [6, 7])  # the run nearest the middle
    assert best_block(3, 10, taken, 1) == [(1, 6)]
    assert best_block(3, 10, taken | {(1, 6)}, 1) == [(1, 4)]  # 4 and 7 are as central: the lower wins


def test_a_block_only_in_the_back_row():
    rows, per_row = 5, 10
    taken = {(r, n) for r in range(1, rows) for n in range(2, per_row + 1, 2)}  # every other seat
    assert best_block(rows, per_row, taken, 2) == row_of(5, [5, 6])
    # The back row fragmented too, with one pair left at its edge.
    taken |= {(5, n) for n in range(1, per_row - 1)}
    assert best_block(rows, per_row, taken, 2) == row_of(5, [9, 10])
    assert best_block(rows, per_row, taken, 1) == [(1, 5)]


def test_a_middle_block_beats_a_bigger_edge_block_in_the_same_row():
    taken = {(1, 4), (1, 7)}  # runs: 1-3, 5-6, 8-10
    assert best_block(2, 10, taken, 2) == row_of(1, [5, 6])
    assert best_block(2, 10, taken, 3) == row_of(1, [1, 2, 3])  # 8-10 is as far off: the lower wins


def test_ties_go_to_the_lower_numbers():
    taken = {(1, 5), (1, 6)}  # runs 1-4 and 7-10, their nearest pairs 3-4 and 7-8 equally off-centre
    assert best_block(1, 10, taken, 2) == row_of(1, [3, 4])
    assert best_block(1, 10, {(1, 6)}, 4) == row_of(1, [2, 3, 4, 5])  # not 7-10, as far off
    assert best_block(1, 9, set(), 2) == row_of(1, [4, 5])  # 4-5 and 5-6 equally off-centre


def test_the_front_row_wins_even_off_centre():
    free_front = row_of(1, [1, 2, 3])
    taken = taken_except(1, 10, free_front)
    assert best_block(4, 10, taken, 3) == free_front
    assert best_block(4, 10, taken, 4) == row_of(2, range(4, 8))
    assert best_block(4, 10, {(1, 1)}, 9) == row_of(1, range(2, 11))


def test_a_whole_row():
    assert best_block(3, 6, set(), 6) == row_of(1, range(1, 7))
    assert best_block(3, 6, {(1, 3), (2, 6)}, 6) == row_of(3, range(1, 7))
    assert best_block(3, 6, {(1, 3), (2, 6), (3, 1)}, 6) is None


def test_more_than_a_row_is_none():
    assert best_block(5, 10, set(), 11) is None
    assert best_block(1, 1, set(), 2) is None


def test_everything_taken_is_none():
    assert best_block(3, 4, taken_except(3, 4, []), 1) is None


def test_no_block_big_enough_is_none():
    taken = {(r, n) for r in range(1, 4) for n in (3, 6, 9)}  # runs of 2 everywhere
    assert best_block(3, 10, taken, 3) is None
    assert best_block(3, 10, taken, 2) == row_of(1, [4, 5])  # 4-5 and 7-8 equally central


def test_taken_may_be_a_map_of_seat_items():
    taken = {(1, 5): "sold", (1, 6): "held"}
    assert best_block(2, 10, taken, 2) == row_of(1, [3, 4])


# --- property: against brute force ---------------------------------------------------------------


def blocks_in(row: int, per_row: int, taken: set[tuple[int, int]], n: int) -> list[int]:
    """The first seat of every run of ``n`` adjacent free seats of the row."""
    return [s for s in range(1, per_row - n + 2) if all((row, k) not in taken for k in range(s, s + n))]


def off_centre(start: int, n: int, per_row: int) -> float:
    return abs(start + (n - 1) / 2 - (per_row + 1) / 2)


@st.composite
def seat_maps(draw: st.DrawFn) -> tuple[int, int, set[tuple[int, int]], int]:
    rows = draw(st.integers(min_value=1, max_value=4))
    per_row = draw(st.integers(min_value=1, max_value=9))
    seats = [(r, k) for r in range(1, rows + 1) for k in range(1, per_row + 1)]
    taken = draw(st.sets(st.sampled_from(seats), max_size=len(seats)))
    n = draw(st.integers(min_value=1, max_value=per_row + 1))
    return rows, per_row, taken, n


@settings(max_examples=400, deadline=None)
@given(seat_maps())
def test_best_block_agrees_with_brute_force(seat_map):
    rows, per_row, taken, n = seat_map
    found = best_block(rows, per_row, taken, n)
    fitting_rows = [r for r in range(1, rows + 1) if blocks_in(r, per_row, taken, n)]
    if found is None:
        assert not fitting_rows
        return
    assert fitting_rows, found
    row, start = found[0]
    # n adjacent free seats in one row.
    assert found == [(row, start + i) for i in range(n)]
    assert start >= 1 and start + n - 1 <= per_row
    assert not set(found) & taken
    # No earlier row has a block.
    assert row == fitting_rows[0]
    # Within its row, none is nearer the middle, and none as near has lower numbers.
    here = off_centre(start, n, per_row)
    for other in blocks_in(row, per_row, taken, n):
        assert off_centre(other, n, per_row) >= here, (other, start)
        if off_centre(other, n, per_row) == here:
            assert other >= start, (other, start)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_every_free_seat_is_found_one_block_at_a_time(n):
    """Filling a map block by block takes every seat of runs that fit, front row first."""
    rows, per_row = 3, 6
    taken: set[tuple[int, int]] = set()
    rows_seen = []
    while (block := best_block(rows, per_row, taken, n)) is not None:
        assert not set(block) & taken
        taken |= set(block)
        rows_seen.append(block[0][0])
    assert rows_seen == sorted(rows_seen)
    for row in range(1, rows + 1):
        assert not blocks_in(row, per_row, taken, n)
