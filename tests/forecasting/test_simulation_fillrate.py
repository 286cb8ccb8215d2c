"""Fill-rate reorder points (forecasting/fillrate.py): hand-computed cases and properties."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting.fillrate import expected_shortage, fill_rate_reorder_point

# one SKU, four equally likely demands over L + R: 0, 2, 4, 6 (mean 3)
DRAWS = np.array([[0.0], [2.0], [4.0], [6.0]])


def test_expected_shortage_by_hand():
    # s = 3: (0 + 0 + 1 + 3) / 4 = 1; s = 0: the mean, 3; s = 6: nothing short
    assert expected_shortage(DRAWS, np.array([3.0])).tolist() == [1.0]
    assert expected_shortage(DRAWS, np.array([[0.0], [6.0]])).tolist() == [[3.0], [0.0]]


def test_fill_rate_reorder_point_by_hand():
    # cycle demand Q = 4:
    # β 0.75 allows 1 short per cycle; between 2 and 4 the shortage is (4 - s + 6 - s) / 4 = 1
    #   at s = 3
    # β 0.5 allows 2; between 0 and 2 it is (2 - s + 4 - s + 6 - s) / 4 = 2 at s = 4/3
    # β 0.1 allows 3.6 ≥ E[D] = 3: s = 0 is enough
    # β 0.99 allows 0.04; between 4 and 6 it is (6 - s) / 4 = 0.04 at s = 5.84
    s = fill_rate_reorder_point(DRAWS, np.array([4.0]), [0.75, 0.5, 0.1, 0.99])
    assert s[:, 0] == pytest.approx([3.0, 4 / 3, 0.0, 5.84])


def test_fill_rate_reorder_point_vectorised_over_skus():
    # SKU 2 is SKU 1 × 10 (draws and cycle demand): its reorder point is × 10 too
    draws = np.hstack([DRAWS, 10 * DRAWS])
    s = fill_rate_reorder_point(draws, np.array([4.0, 40.0]), [0.75])
    assert s[0] == pytest.approx([3.0, 30.0])


def test_quantile_grid_at_half_steps_is_the_sorted_draws():
    draws = np.random.default_rng(3).gamma(2.0, 5.0, (400, 3))
    grid = np.quantile(draws, (np.arange(400) + 0.5) / 400, axis=0, method="inverted_cdf")
    cycle = np.array([10.0, 2.0, 30.0])
    assert fill_rate_reorder_point(grid, cycle, [0.9, 0.98]) == pytest.approx(
        fill_rate_reorder_point(draws, cycle, [0.9, 0.98]))


def test_large_volume_needs_less_cover_than_a_cycle_service_level_quantile():
    # same relative spread (gamma, cv 0.5) but the fast SKU's cycle is a large share of D:
    # β 0.95 stays below the 95 % quantile, which a cycle service level of 0.95 would take
    rng = np.random.default_rng(0)
    draws = rng.gamma(4.0, 25.0, (20000, 1))  # mean 100 over L + R
    s = fill_rate_reorder_point(draws, np.array([50.0]), [0.95])[0, 0]
    assert s < np.quantile(draws, 0.95)
    assert expected_shortage(draws, np.array([s]))[0] == pytest.approx(0.05 * 50.0, rel=1e-6)


@pytest.mark.parametrize("beta", [0.0, 1.0, 1.5])
def test_fill_rate_outside_0_1_is_refused(beta):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        fill_rate_reorder_point(DRAWS, np.array([4.0]), [beta])


@settings(max_examples=60, deadline=None)
@given(
    draws=st.lists(st.integers(0, 50), min_size=1, max_size=40),
    cycle=st.floats(0.0, 60.0),
    betas=st.lists(st.floats(0.01, 0.999), min_size=1, max_size=5),
)
def test_the_reorder_point_is_the_smallest_that_meets_the_fill_rate(draws, cycle, betas):
    x = np.array(draws, dtype=float)[:, None]
    betas = sorted(betas)
    s = fill_rate_reorder_point(x, np.array([cycle]), betas)[:, 0]
    allowed = (1 - np.array(betas)) * cycle
    short = expected_shortage(x, s[:, None])[:, 0]
    assert (short <= allowed + 1e-9).all()  # meets the target
    # and no smaller level does: a hair below s is short by more than allowed (unless s = 0)
    below = expected_shortage(x, np.maximum(s - 1e-6, 0)[:, None])[:, 0]
    assert ((s == 0) | (below > allowed - 1e-9)).all()
    assert (np.diff(s) >= -1e-9).all() and (s <= x.max() + 1e-9).all()
