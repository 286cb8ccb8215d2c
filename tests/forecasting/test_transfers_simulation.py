"""The simulator's network replay: each location buying for itself, or transfers first."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting.simulation import replay_network, split_demand


def _levels(rop, out, ltd):
    return (np.array(rop, float)[None, :, :], np.array(out, float)[None, :, :],
            np.array(ltd, float)[None, :, :])


def test_a_location_with_stock_to_spare_serves_the_other_before_it_buys():
    # one SKU, two locations: A sells 2 a day, B sells nothing and starts at its order-up-to
    # of 40 (its levels were set for demand that moved to A); weekly review, 10-day lead time
    t_days = 42
    demand = np.zeros((1, 2, t_days))
    demand[0, 0, :] = 2.0
    review = (np.arange(t_days) % 7 == 0)[None, :]
    rop, out, ltd = _levels([[20, 4]], [[34, 40]], [[14, 0]])
    lead = np.full((1, t_days), 10)
    runs = {moving: replay_network(demand, review, rop, out, ltd, lead, transfers=moving,
                                   transfer_lead_days=2) for moving in (False, True)}
    alone, shared = runs[False], runs[True]
    assert alone["transferred_units"].sum() == 0 and shared["transferred_units"].sum() > 0
    # the same demand is served at least as well with fewer units bought
    assert shared["units_served"].sum() >= alone["units_served"].sum()
    assert shared["ordered_units"].sum() < alone["ordered_units"].sum()
    assert alone["units_demanded"].sum() == shared["units_demanded"].sum() == 2 * t_days


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 4), st.sampled_from([1, 6]))
def test_the_replay_conserves_units(seed, k, pack):
    # start stock + bought and arrived = served + left on hand (+ transfers in transit)
    rng = np.random.default_rng(seed)
    t_days = 35
    demand = rng.poisson(rng.uniform(0, 3, (2, k, 1)), (2, k, t_days)).astype(float)
    review = (np.arange(t_days) % 7 == 0)[None, :].repeat(2, axis=0)
    rop = rng.uniform(0, 20, (1, 2, k))
    out = rop + rng.uniform(0, 30, (1, 2, k))
    ltd = rng.uniform(0, 10, (1, 2, k))
    lead = np.full((2, t_days), 5)
    for moving in (False, True):
        acc = replay_network(demand, review, rop, out, ltd, lead, transfers=moving,
                             case_pack=pack, transfer_lead_days=2)
        assert np.all(acc["units_served"] <= acc["units_demanded"] + 1e-9)
        assert np.allclose(acc["units_served"] + acc["units_lost"], acc["units_demanded"])
        assert np.all(acc["transferred_units"] % pack == 0)


def test_split_demand_deals_every_unit_by_share():
    demand = np.array([[3.0, 0.0, 10.0], [7.0, 2.0, 1.0]])
    shares = np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    parts = split_demand(demand, shares, seed=1)
    assert parts.shape == (2, 3, 3)
    assert np.array_equal(parts.sum(axis=1), demand)
    assert parts[0, 2].sum() == 0 and np.array_equal(parts[1, 2], demand[1])
    assert pl.Series(parts.ravel()).min() >= 0
