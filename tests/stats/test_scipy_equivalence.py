"""The hand-written bootstrap and sign-flip test agree with scipy.stats (kept: they are much faster).

scipy.stats.bootstrap (percentile method) and scipy.stats.permutation_test (paired samples) compute the
same quantities by their own resampling; with fixed random states the intervals agree within Monte Carlo
error, and the exact sign-flip p-values agree to the last digit.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from xlr.stats.significance import paired_bootstrap, permutation_test


def _paired(kind: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ranks_a = rng.geometric(0.5, n)
    ranks_b = np.maximum(1, ranks_a + rng.integers(-2, 3, n))
    if kind == "recall@1":
        return (ranks_a <= 1).astype(float), (ranks_b <= 1).astype(float)
    return 1.0 / ranks_a, 1.0 / ranks_b


@pytest.mark.parametrize("kind", ["recall@1", "mrr"])  # the multinomial path and the index path
@pytest.mark.parametrize("seed", [0, 1])
def test_paired_bootstrap_agrees_with_scipy_bootstrap(kind, seed):
    a, b = _paired(kind, 400, seed)
    lo, hi = paired_bootstrap(a, b, n_resamples=20_000, random_state=seed)
    ref = stats.bootstrap(
        (b - a,), np.mean, n_resamples=20_000, method="percentile", confidence_level=0.95, random_state=seed
    ).confidence_interval
    se = float(np.std(b - a, ddof=1) / np.sqrt(a.size))  # the interval is about +-1.96 se wide
    assert lo == pytest.approx(ref.low, abs=0.1 * se)
    assert hi == pytest.approx(ref.high, abs=0.1 * se)


def _scipy_sign_flip(a, b, n_resamples, seed):
    return stats.permutation_test(
        (b, a),
        lambda x, y, axis: np.mean(x - y, axis=axis),
        permutation_type="samples",
        vectorized=True,
        n_resamples=n_resamples,
        alternative="two-sided",
        random_state=seed,
    ).pvalue


@pytest.mark.parametrize("seed", range(4))
def test_exact_sign_flip_equals_scipy_exact_permutation_test(seed):
    a, b = _paired("mrr", 12, seed)  # 2**12 sign vectors: both enumerate them all
    assert permutation_test(a, b, n_resamples=10_000) == pytest.approx(_scipy_sign_flip(a, b, np.inf, seed), rel=1e-9)


@pytest.mark.parametrize("n", [30, 40, 60])  # p-values between 0.1 and 0.6: both tests sample
def test_monte_carlo_sign_flip_agrees_with_scipy(n):
    a, b = _paired("mrr", n, 10)
    mine = permutation_test(a, b, n_resamples=20_000, random_state=0)
    ref = _scipy_sign_flip(a, b, 20_000, 0)
    assert 0.05 < ref < 0.95
    # Monte Carlo error: ours samples |T*| >= |T| directly, scipy doubles one tail
    se = np.sqrt(ref * (1 - ref) / 20_000 + 4 * (ref / 2) * (1 - ref / 2) / 20_000)
    assert mine == pytest.approx(ref, abs=5 * se)
