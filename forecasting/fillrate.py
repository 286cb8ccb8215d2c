"""Fill-rate (type-2, β service) reorder points from a demand distribution.

A cycle service level (type-1) asks how often a replenishment cycle runs out; a fill rate asks
what share of the units demanded is served. For the same fill rate a fast mover needs far less
safety stock than a cycle-service-level quantile gives: one short day costs it a small share of
a big cycle. The textbook rule (Silver, Pyke & Thomas, *Inventory and Production Management*,
ch. 6): choose the smallest reorder point s whose expected shortage per replenishment cycle is
at most the share of a cycle's demand that may go unserved,

    E[(D − s)⁺] ≤ (1 − β) × Q,

with D the demand over lead time + review period and Q the demand of one replenishment cycle
(the review period's demand, or the order size when case packs or an MOQ make orders larger).

Here D comes as equally likely values per SKU: Monte Carlo draws, or the quantiles of a fine,
evenly spaced grid (levels (i + ½) ÷ M, which are the sorted draws themselves). Between two
sorted values the expected shortage is linear in s, so the reorder point is found exactly on
that piecewise-linear curve, not only at the sampled values. Pure numpy, vectorised over SKUs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _knots(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted samples (M, N), suffix sums (M + 1, N) and E[(D − s)⁺] (M + 1, N) at the knots
    s = 0, x₍₁₎, …, x₍M₎ (demand is never below 0)."""
    x = np.sort(np.clip(np.asarray(samples, dtype=float), 0.0, None), axis=0)
    m = x.shape[0]
    suffix = np.concatenate([np.cumsum(x[::-1], axis=0)[::-1], np.zeros((1, x.shape[1]))])
    knots = np.concatenate([np.zeros((1, x.shape[1])), x])
    above = (m - np.arange(m + 1))[:, None]  # samples above knot k: x[k:], M − k of them
    return x, suffix, (suffix - above * knots) / m


def expected_shortage(samples: np.ndarray, reorder_point: np.ndarray | float) -> np.ndarray:
    """E[(D − s)⁺] per SKU: ``samples`` (M, N) equally likely demands, ``reorder_point`` s of
    shape (N,) or (B, N) (units). Returns the shape of ``reorder_point`` broadcast to N."""
    x = np.asarray(samples, dtype=float)
    s = np.asarray(reorder_point, dtype=float)
    return np.clip(x[None, :, :] - np.atleast_2d(s)[:, None, :], 0.0, None).mean(axis=1).reshape(
        np.broadcast_shapes(s.shape, x.shape[1:]))


def fill_rate_reorder_point(
    samples: np.ndarray, cycle_demand: np.ndarray, fill_rates: Sequence[float]
) -> np.ndarray:
    """The smallest reorder point per fill rate and SKU with E[(D − s)⁺] ≤ (1 − β) × Q.

    ``samples``: (M, N) equally likely values of demand over lead time + review period per
    SKU (draws, or quantiles at levels (i + ½) ÷ M); values below 0 count as 0.
    ``cycle_demand``: (N,) Q, expected demand of one replenishment cycle (units).
    ``fill_rates``: β values in (0, 1).

    Returns (len(fill_rates), N) reorder points in units (not rounded): 0 when even s = 0 meets
    the target (E[D] ≤ (1 − β) Q), never above the largest sample. Non-decreasing in β.
    """
    betas = np.asarray(fill_rates, dtype=float)
    if betas.ndim != 1 or ((betas <= 0) | (betas >= 1)).any():
        raise ValueError(f"fill rates lie strictly between 0 and 1: {list(fill_rates)}")
    x, suffix, short = _knots(samples)
    m = x.shape[0]
    allowed = (1.0 - betas)[:, None] * np.clip(np.asarray(cycle_demand, dtype=float), 0.0, None)
    # short is non-increasing along the knots: the segment holding s is the count of knots
    # still above the allowance, minus one (k = 0: s = 0 already meets it)
    k = (short[None, :, :] > allowed[:, None, :] + 1e-12).sum(axis=1)  # (B, N)
    seg = np.clip(k - 1, 0, m - 1)
    cols = np.arange(x.shape[1])[None, :]
    # on segment j, E[(D − s)⁺] = (suffix[j] − (M − j) s) ÷ M: solve for the allowance
    s = (suffix[seg, cols] - m * allowed) / (m - seg)
    low = np.where(seg > 0, x[np.maximum(seg - 1, 0), cols], 0.0)
    return np.where(k == 0, 0.0, np.clip(s, low, x[seg, cols]))
