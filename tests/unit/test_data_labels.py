"""Streaming label statistics: batch boundaries change nothing; the runs test tells order from chance."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffelint.model.labels import LabelStats


def stats_of(labels, batch=None, segment_starts=None) -> LabelStats:
    stats = LabelStats()
    values = np.asarray(labels, dtype=np.int64)
    if batch is None:
        stats.add(values, segment_starts=segment_starts)
    else:
        for start in range(0, len(values), batch):
            stats.add(values[start:start + batch])
    stats.finish()
    return stats


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-3, 6), min_size=1, max_size=200), st.integers(1, 50))
def test_batches_give_the_same_statistics_as_one_array(labels, batch):
    whole, parts = stats_of(labels), stats_of(labels, batch)
    assert parts.counts == whole.counts
    assert (parts.pairs, parts.changes, parts.records) == (whole.pairs, whole.changes, whole.records)
    assert parts.longest == whole.longest
    expected_longest = max(len(list(g)) for _, g in itertools.groupby(labels))
    assert whole.longest.length == expected_longest
    assert whole.changes == sum(a != b for a, b in zip(labels, labels[1:]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=1, max_size=120), st.sets(st.integers(0, 119), max_size=8),
       st.integers(1, 40))
def test_stretches_fed_in_batches_match_a_count_by_hand(labels, marked, batch):
    starts = sorted({0} | {i for i in marked if i < len(labels)})
    stats = LabelStats()
    for first in range(0, len(labels), batch):
        values = np.asarray(labels[first:first + batch], dtype=np.int64)
        stats.add(values, segment_starts=[i - first for i in starts if first <= i < first + batch])
    stats.finish()
    stretches = [labels[a:b] for a, b in zip(starts, starts[1:] + [len(labels)])]
    assert stats.segments == len(stretches)
    assert stats.pairs == sum(len(s) - 1 for s in stretches)
    assert stats.changes == sum(a != b for s in stretches for a, b in zip(s, s[1:]))
    assert stats.single_label_segments == sum(len(set(s)) == 1 for s in stretches)
    assert stats.longest.length == max(len(list(g)) for s in stretches for _, g in itertools.groupby(s))


def test_counts_span_and_gaps():
    stats = stats_of([1, 2, 2, 5, 1])
    assert stats.counts == {1: 2, 2: 2, 5: 1}
    assert (stats.low, stats.high) == (1, 5)
    assert stats.missing_between() == [3, 4]


def test_a_random_order_passes_and_a_sorted_one_fails():
    labels = np.repeat(np.arange(10), 500)
    shuffled = np.random.default_rng(7).permutation(labels)
    random_test = stats_of(shuffled).shuffle_test()
    sorted_test = stats_of(labels).shuffle_test()
    assert abs(random_test.z) < 4 and 0.9 < random_test.ratio < 1.1
    assert sorted_test.changes == 9 and sorted_test.z < -100 and sorted_test.ratio < 0.01


def test_imbalanced_random_order_is_still_random():
    rng = np.random.default_rng(3)
    labels = rng.choice([0, 1], size=20000, p=[0.97, 0.03])
    test = stats_of(labels).shuffle_test()
    assert abs(test.z) < 4  # few changes, but as many as chance gives


def test_longest_run_and_its_position():
    stats = stats_of([0, 1, 1, 1, 2, 2, 0], batch=3)
    assert (stats.longest.label, stats.longest.length, stats.longest.start) == (1, 3, 1)


def test_stretches_count_pairs_inside_only_and_single_label_stretches():
    labels = [0, 0, 0, 1, 1, 1, 2, 3, 2]
    stats = stats_of(labels, segment_starts=[0, 3, 6])
    assert stats.segments == 3
    assert stats.pairs == 6  # 2 + 2 + 2: no pair across a stretch boundary
    assert stats.changes == 2  # only inside the last stretch
    assert stats.single_label_segments == 2


def test_no_test_with_one_class():
    assert stats_of([4] * 50).shuffle_test() is None


def test_chance_of_a_long_run():
    balanced = stats_of(np.random.default_rng(1).integers(0, 10, 10000))
    assert balanced.chance_of_run(64) < 1e-50
    skewed = stats_of([0] * 990 + [1] * 10)
    assert skewed.chance_of_run(64) > 1e-3  # with 99% of one class, runs of 64 are ordinary
