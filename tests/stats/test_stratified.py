"""The mean row's interval (fast tier): a stratified bootstrap, checked against a naive loop."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlr.stats.significance import paired_bootstrap, stratified_bootstrap


def naive(groups, n_resamples, seed):
    """One resample at a time: each group's queries drawn with replacement, mean of the group means."""
    rng = np.random.default_rng(seed)
    means = []
    for _ in range(n_resamples):
        means.append(np.mean([rng.choice(g, size=g.size, replace=True).mean() for g in groups]))
    return np.quantile(means, [0.025, 0.975])


def test_agrees_with_a_naive_loop():
    rng = np.random.default_rng(0)
    groups = [
        (rng.random(300) < 0.9).astype(float),  # recall-like (multinomial path)
        (rng.random(40) < 0.5).astype(float),
        1.0 / rng.integers(1, 20, size=120),  # MRR-like (index path)
    ]
    lo, hi = stratified_bootstrap(groups, n_resamples=4000, random_state=1)
    ref_lo, ref_hi = naive(groups, 4000, 2)
    assert abs(lo - ref_lo) < 0.01 and abs(hi - ref_hi) < 0.01
    point = np.mean([g.mean() for g in groups])
    assert lo < point < hi


def test_one_group_is_the_plain_bootstrap_and_constants_collapse():
    g = (np.random.default_rng(4).random(500) < 0.7).astype(float)
    assert stratified_bootstrap([g], n_resamples=999, random_state=5) == paired_bootstrap(
        np.zeros(500), g, n_resamples=999, random_state=5
    )
    assert stratified_bootstrap([np.ones(10), np.zeros(3)], n_resamples=50, random_state=0) == (0.5, 0.5)


def test_narrower_than_the_widest_group_alone():
    """Averaging independent strata shrinks the spread: the mean row is surer than its shakiest row."""
    rng = np.random.default_rng(9)
    groups = [(rng.random(60) < p).astype(float) for p in (0.5, 0.6, 0.7, 0.8)]
    lo, hi = stratified_bootstrap(groups, n_resamples=3000, random_state=0)
    widths = [np.subtract(*paired_bootstrap(np.zeros(60), g, n_resamples=3000, random_state=0)[::-1]) for g in groups]
    assert hi - lo < min(widths)


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ([], "groups is empty"),
        ([np.ones(3), np.array([])], "group 1 is empty"),
        ([np.ones((2, 2))], "group 0 must be 1-D"),
        ([np.array([1.0, np.nan])], "group 0 contains NaN"),
        ([np.array(["a"])], "group 0 must be numeric"),
    ],
)
def test_hostile_input_is_one_clear_error(groups, message):
    with pytest.raises(ValueError, match=message):
        stratified_bootstrap(groups, n_resamples=10, random_state=0)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=30),
        min_size=1,
        max_size=5,
    ),
    st.integers(0, 2**32 - 1),
)
def test_interval_is_ordered_and_within_the_values(groups, seed):
    arrays = [np.asarray(g) for g in groups]
    lo, hi = stratified_bootstrap(arrays, n_resamples=200, random_state=seed)
    low = np.mean([a.min() for a in arrays])
    high = np.mean([a.max() for a in arrays])
    assert low - 1e-12 <= lo <= hi <= high + 1e-12
    assert (lo, hi) == stratified_bootstrap(arrays, n_resamples=200, random_state=seed)
