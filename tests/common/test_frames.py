"""Frame specs and chunking."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.errors import FrameSpecError
from common.frames import MAX_FRAMES, chunk_frames, count_frames, format_frames, parse_frames


@pytest.mark.parametrize(
    ("spec", "frames"),
    [
        ("1-5", [1, 2, 3, 4, 5]),
        ("7", [7]),
        ("1-10x3", [1, 4, 7, 10]),
        ("1,5,10-12", [1, 5, 10, 11, 12]),
        (" 3 , 1 ", [1, 3]),
        ("1-3,2-4", [1, 2, 3, 4]),
        ("-3--1", [-3, -2, -1]),
        ("-2-2", [-2, -1, 0, 1, 2]),
        ("1-100x5", list(range(1, 101, 5))),
    ],
)
def test_parse(spec: str, frames: list[int]) -> None:
    assert parse_frames(spec) == frames


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("10-1", "runs backwards. Write it from low to high: 1-10"),
        ("a-b", "'a-b' is not a frame or a range"),
        ("", "empty"),
        ("   ", "empty"),
        ("1,,2", "empty part between commas"),
        ("1-5x0", "step"),
        ("0-1000000", f"more than {MAX_FRAMES:,} frames"),
        ("1-2000000", "beyond the largest frame number"),
        ("1-", "not a frame or a range"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec: str, words: str) -> None:
    with pytest.raises(FrameSpecError) as info:
        parse_frames(spec)
    assert words in info.value.message


def test_a_million_frames_is_the_limit() -> None:
    assert len(parse_frames(f"1-{MAX_FRAMES}")) == MAX_FRAMES


@pytest.mark.parametrize(
    ("spec", "count"),
    [
        ("1-10", 10),
        ("1-100x5", 20),
        ("1,5,10-12", 5),
        ("1-10,5-15", 21),
        (f"1-{MAX_FRAMES}", MAX_FRAMES),
    ],
)
def test_count_is_term_by_term_and_never_below_the_distinct_frames(spec: str, count: int) -> None:
    assert count_frames(spec) == count
    if count < MAX_FRAMES:
        assert count >= len(parse_frames(spec))


def test_a_count_past_the_limit_is_refused_before_any_frame_is_expanded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import common.frames as frames

    expanded: list[tuple[int, ...]] = []

    def watched_range(*args: int) -> range:
        expanded.append(args)
        return range(*args)

    monkeypatch.setattr(frames, "range", watched_range, raising=False)  # parse_frames's range
    with pytest.raises(FrameSpecError) as info:
        parse_frames("1-500,1-600", limit=1000)
    assert "names 1,100 frames, more than 1,000" in info.value.message
    assert "Split it into several jobs" in info.value.message
    assert expanded == []  # refused on the count alone
    assert len(parse_frames("1-500,1-500", limit=1000)) == 500


def test_chunks_are_evenly_stepped_runs() -> None:
    assert chunk_frames([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert chunk_frames(parse_frames("1-20x5,21,22"), 10) == [[1, 6, 11, 16, 21], [22]]
    with pytest.raises(FrameSpecError):
        chunk_frames([1], 0)


frame_sets = st.sets(st.integers(-500, 500), min_size=1, max_size=80)


@given(frame_sets, st.integers(1, 12))
def test_chunking_keeps_every_frame_once_in_even_runs(frames: set[int], size: int) -> None:
    chunks = chunk_frames(sorted(frames), size)
    assert [f for chunk in chunks for f in chunk] == sorted(frames)
    for chunk in chunks:
        assert 1 <= len(chunk) <= size
        assert len({b - a for a, b in itertools.pairwise(chunk)}) <= 1


@given(frame_sets)
def test_format_round_trips(frames: set[int]) -> None:
    assert parse_frames(format_frames(frames)) == sorted(frames)
