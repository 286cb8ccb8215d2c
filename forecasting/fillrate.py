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


# ---------------------------------------------------------------------------------------------
# pooled fill rate: one target over all SKUs, each SKU's service level chosen for it
# ---------------------------------------------------------------------------------------------

# candidate cycle service levels for the pooled allocation, dense at the top where each step
# costs the most stock. Never below the median: below it a reorder point stops protecting
# against anything. Levels finer than the Monte Carlo resolution (above 1 − 1/n_sims) all read
# the largest draw; the allocation then reports the lowest of them.
POOLED_LEVELS: tuple[float, ...] = (
    0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.88, 0.9, 0.92, 0.94, 0.95, 0.96, 0.97, 0.975, 0.98,
    0.985, 0.99, 0.9925, 0.995, 0.9965, 0.998, 0.999, 0.9995, 0.9998, 0.9999,
)


def cycle_stock_units(
    mean_daily: np.ndarray, review_days: np.ndarray, cycle_stock_reviews: float = 1.0
) -> np.ndarray:
    """What one order adds above the reorder point (S − s), in whole units:
    ⌈mean daily demand × R × ``cycle_stock_reviews``⌉, never below 0. The policy
    (:func:`forecasting.policy.policy_levels`), the simulator and :func:`cycle_days` share it."""
    mu = np.nan_to_num(np.asarray(mean_daily, dtype=float))
    return np.ceil(mu * np.asarray(review_days, dtype=float) * cycle_stock_reviews
                   - 1e-9).clip(min=0.0)


def cycle_days(
    mean_daily: np.ndarray,
    review_days: np.ndarray,
    case_pack: np.ndarray | int = 1,
    moq: np.ndarray | int = 0,
    cycle_stock_reviews: float = 1.0,
) -> np.ndarray:
    """Expected days between two orders of a SKU, Q ÷ mean daily demand (days).

    Q (units) is the larger of the smallest order the policy places, cycle stock
    ⌈μ × R × ``cycle_stock_reviews``⌉ rounded up to whole cases and the MOQ, and μ × R (orders
    come at most once per review): a SKU whose MOQ is two months of demand runs into a
    stockout risk once every two months, not every review. ``mean_daily`` μ in units/day,
    ``review_days`` R in days. R itself where μ = 0 (no demand, no shortage: the value does not
    matter, it only has to be positive).
    """
    from forecasting.ordering import round_to_case_pack

    mu = np.clip(np.nan_to_num(np.asarray(mean_daily, dtype=float)), 0.0, None)
    r = np.maximum(np.asarray(review_days, dtype=float), 1.0)
    cycle = cycle_stock_units(mu, r, cycle_stock_reviews)
    smallest = round_to_case_pack(cycle, np.broadcast_to(case_pack, mu.shape),
                                  np.broadcast_to(moq, mu.shape))
    q = np.maximum(smallest, mu * r)
    return np.where(mu > 0, q / np.where(mu > 0, mu, 1.0), r)


def level_table(samples: np.ndarray, levels: Sequence[float] | np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Reorder point and expected shortage per replenishment cycle at candidate levels.

    ``samples``: (M, N) equally likely demands over lead time + review period per SKU
    (units; below 0 counts as 0). ``levels``: (G,) cycle service levels for every SKU, or
    (G, N) per SKU (a SKU whose level is fixed repeats it in every row).

    Returns ``(reorder, shortage)``, both (G, N) units: the inverted-CDF quantile of the
    samples at each level (the value :func:`numpy.quantile` gives with
    ``method="inverted_cdf"``, which is a sample) and E[(D − s)⁺] there, exact on the samples.
    """
    x = np.sort(np.clip(np.asarray(samples, dtype=float), 0.0, None), axis=0)
    m, n = x.shape
    q = np.asarray(levels, dtype=float)
    if ((q <= 0) | (q >= 1)).any():
        raise ValueError("service levels lie strictly between 0 and 1")
    q = np.broadcast_to(q[:, None] if q.ndim == 1 else q, (q.shape[0], n))
    # inverted CDF: the smallest sample whose share of samples at or below it reaches q,
    # index ⌈q M − 1⌉ computed as numpy does, so that the reorder points equal np.quantile's
    virtual = q * m - 1
    k = np.clip(np.ceil(virtual).astype(np.int64), 0, m - 1)
    reorder = np.take_along_axis(x, k, axis=0)
    # Σ of the samples above the k-th (0-based) one: suffix sums from the top
    above = np.concatenate([np.cumsum(x[::-1], axis=0)[::-1][1:], np.zeros((1, n))])
    shortage = (np.take_along_axis(above, k, axis=0) - (m - 1 - k) * reorder) / m
    return reorder, np.clip(shortage, 0.0, None)


def pooled_levels(
    reorder: np.ndarray,
    shortage: np.ndarray,
    unit_cost: np.ndarray,
    mean_daily: np.ndarray,
    cycle_days: np.ndarray,
    targets: Sequence[float],
    *,
    iterations: int = 64,
) -> tuple[np.ndarray, np.ndarray]:
    """One candidate per SKU for each pooled fill-rate target, at the least stock value.

    The fill rate a business reports is pooled: units served ÷ units demanded over all SKUs.
    For a target β this picks, per SKU i, the candidate g (a row of :func:`level_table`) that
    minimises the stock value Σ cᵢ sᵢ subject to the expected units short per day
    Σ shortageᵢ ÷ cycle_daysᵢ ≤ (1 − β) Σ μᵢ (the classic exchange-curve / Lagrangian
    allocation): with a multiplier λ, each SKU independently minimises cᵢ sᵢ + λ ×
    shortageᵢ ÷ cycle_daysᵢ, and λ is bisected (on a log scale) to the smallest value that
    meets the target. Cheap, fast-moving SKUs get high service, expensive slow ones low. The
    safety stock is sᵢ − E[D]; its value changes with s one for one, which is all the
    minimisation needs (cycle stock does not depend on s).

    ``reorder``, ``shortage``: (G, N) units, candidates in increasing order of level.
    ``unit_cost`` (N,) value per unit (≥ 0; NaN counts as the median of the others; 0 makes
    protection free, so that SKU gets the highest level). ``mean_daily`` (N,) units/day;
    ``cycle_days`` (N,) days between orders (:func:`cycle_days`). ``targets``: β values in
    (0, 1).

    Returns ``(choice, expected_fill_rate)``: (T, N) candidate index per target and SKU, and
    (T,) the pooled fill rate the choice is expected to give (below the target when even the
    highest candidates cannot reach it; then every SKU has its highest).
    """
    betas = np.asarray(targets, dtype=float)
    if betas.ndim != 1 or ((betas <= 0) | (betas >= 1)).any():
        raise ValueError(f"fill rate targets lie strictly between 0 and 1: {list(targets)}")
    s = np.asarray(reorder, dtype=float)
    mu = np.clip(np.nan_to_num(np.asarray(mean_daily, dtype=float)), 0.0, None)
    cost = np.asarray(unit_cost, dtype=float)
    known = np.isfinite(cost) & (cost >= 0)
    fallback = float(np.median(cost[known])) if known.any() else 1.0
    cost = np.where(known, cost, fallback)
    # scale both terms to about 1 so one bracket for log λ serves every currency and volume
    cost = cost / (cost[cost > 0].mean() if (cost > 0).any() else 1.0)
    demand = mu.sum()
    rate = shortage / np.maximum(np.asarray(cycle_days, dtype=float), 1e-9)[None, :]
    rate = rate / (demand if demand > 0 else 1.0)
    budget = (1.0 - betas) * (1.0 if demand > 0 else 0.0)  # (T,), in shares of demand
    cols = np.arange(s.shape[1])[None, :]
    base = cost[None, :] * s  # (G, N)

    def choose(log_lam: np.ndarray) -> np.ndarray:  # (T,) → (T, N)
        objective = base[None] + np.exp(log_lam)[:, None, None] * rate[None]
        return objective.argmin(axis=1)  # ties: the lowest level

    low = np.full(len(betas), -40.0)
    high = np.full(len(betas), 40.0)
    for _ in range(iterations):  # bisection on log λ, all targets at once
        mid = (low + high) / 2
        short = rate[choose(mid), cols].sum(axis=1)
        ok = short <= budget + 1e-12
        high = np.where(ok, mid, high)
        low = np.where(ok, low, mid)
    choice = choose(high)
    return choice, 1.0 - rate[choice, cols].sum(axis=1)
