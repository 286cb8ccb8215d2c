"""Policy simulator: replay a demand history day by day under a reorder policy and measure it.

Two policies are replayed on the same demand, the same review days, lead times, case packs
and random draws (common random numbers), each swept over its one parameter:

- **shelfwise**: at each review day, if the inventory position is below the reorder point,
  order up to the order-up-to level. The reorder point comes from the Monte Carlo demand over
  lead time + review period (:func:`forecasting.lead_time_demand_draws` on the
  probabilistic forecast of :func:`forecasting.forecast_demand` fitted on the history up to
  that day): by default the **cycle service level** quantile, as
  :func:`forecasting.policy.policy_levels` has it, swept with one level for every SKU; with
  ``target_kinds=("fill_rate",)`` the smallest level that meets a **fill rate** β per SKU
  (expected shortage per replenishment cycle ≤ (1 − β) × the cycle's demand,
  :mod:`forecasting.fillrate`; it needed more stock for the same pooled fill rate in the
  benchmark, docs/simulation.md); with ``("pooled",)`` per-SKU levels chosen for a fill rate
  **pooled over all SKUs** at the least stock value
  (:func:`forecasting.fillrate.pooled_levels`, the production policy's ``fill_rate_target``),
  swept over that target. Order-up-to = reorder point + cycle stock (mean daily forecast over
  round(L) + R × R, rounded up). Kinds can be replayed side by side.
- **minmax**: the static min/max rule as Odoo and ERPNext users set it: min = average daily
  demand × mean lead time + safety days × average daily demand; max = min + average daily
  demand × review days; the average is taken once over the ``minmax_window_days`` before the
  replay (static). Swept over the safety days. ``minmax_refreshed`` (optional) recomputes the
  average at every refit from the trailing window: a diligent user's min/max.

Mechanics of one day ``t`` (per SKU, all SKUs and all parameter settings at once as numpy
arrays; the only Python loop is over days):

1. receipts due on day ``t`` enter stock (they arrive before the day's demand);
2. demand is served from stock as far as it goes; **unmet demand is lost** (no backorders),
   and counts against the fill rate;
3. on a review day, after the day's demand: inventory position = on hand + on order (lost
   sales: nothing is backordered); if it is *below* the reorder point (min), order up to the
   order-up-to level (max), rounded with :func:`forecasting.ordering.round_to_case_pack`.
   The order arrives at the start of day ``t + L`` with ``L`` (whole days, at least 1) drawn
   per SKU and order day from a gamma with the SKU's lead-time mean and sd, seeded; the same
   draws serve every policy and setting.

Measures over the scored days (the ``warmup_days`` before them are replayed but not scored,
so the start state, every policy at its own order-up-to level with nothing on order, washes
out): fill rate = units served ÷ units demanded; cycle service level = share of replenishment
cycles (receipt to next receipt) without lost sales, for cycles that close in the scored
window; average on hand = mean end-of-day on hand, summed over SKUs, in units and in value
(``unit_cost``, base currency); stockout days = SKU-days with lost sales; orders placed.

No peeking: the shelfwise forecast at a refit day sees only the history before it; the minmax
average only the days before the replay (or before the refit, when refreshed). Forecasts are
refit every ``refit_days`` (default 28) and their levels reused for the review days in
between: the forecast models are flat or weekly-periodic, so a later review day would get
nearly the same numbers, and a refit per review day costs ``refit_days ÷ review_days`` times
as much. See docs/simulation.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from scipy import stats

from forecasting.engine import ForecastConfig, forecast_demand
from forecasting.fillrate import (
    POOLED_LEVELS,
    cycle_days,
    cycle_stock_units,
    fill_rate_reorder_point,
    level_table,
    pooled_levels,
)
from forecasting.history import impute_censored
from forecasting.ordering import round_to_case_pack
from forecasting.quantiles import lead_time_demand_draws

POLICIES = ("shelfwise", "shelfwise_cycle", "shelfwise_fill_rate", "shelfwise_pooled", "minmax",
            "minmax_refreshed", "shelfwise_network", "shelfwise_transfers")
# with location shares, the first shelfwise kind is replayed per location twice: each location
# buying for itself, and transfers before purchases (forecasting.transfers) first
NETWORK_POLICIES = ("shelfwise_network", "shelfwise_transfers")
# what shelfwise's reorder point targets: the fill rate per SKU (type-2, β: share of units
# served), the cycle service level (type-1: share of replenishment cycles without a stockout),
# or a fill rate pooled over all SKUs with per-SKU levels chosen for it at the least stock
# value (the production policy's fill_rate_target)
TARGET_KINDS = ("fill_rate", "cycle", "pooled")

ITEM_DEFAULTS: dict[str, float] = {
    "lead_time_mean_days": 14.0,
    "lead_time_sd_days": 4.0,
    "review_days": 7.0,
    "case_pack": 1.0,
    "moq": 0.0,
    "unit_cost": 1.0,
}

METRICS = (
    "fill_rate",
    "cycle_service_level",
    "avg_on_hand_units",
    "avg_on_hand_value",
    "stockout_days",
    "orders",
    "units_demanded",
    "units_served",
    "units_lost",
    "cycles",
    "units_bought",
    "units_transferred",
)


@dataclass(frozen=True)
class SimulationConfig:
    """Knobs of :func:`simulate_policies`. Days are calendar days.

    ``eval_days``: days scored, the last of the history. ``warmup_days``: days replayed before
    them, not scored. ``refit_days``: the shelfwise forecast is refit every so many days of the
    replay. ``target_kinds``: what shelfwise's reorder point targets (:data:`TARGET_KINDS`);
    the first is replayed as policy ``shelfwise``, any other as ``shelfwise_<kind>`` (same
    forecasts and draws). ``fill_rates`` (β, 0..1 exclusive; the ``fill_rate`` kind),
    ``service_levels`` (0..1 exclusive; the ``cycle`` kind), ``pooled_fill_rates`` (the pooled
    target β, 0..1 exclusive; the ``pooled`` kind) and ``safety_days`` (≥ 0, the min/max) are
    the sweeps.
    ``minmax_window_days``: days of history that set the min/max average daily demand.
    ``baselines``: which min/max variants to replay (``minmax``, ``minmax_refreshed``).
    ``n_sims``: Monte Carlo scenarios for the lead-time demand quantiles. ``horizon``: forecast
    days per refit (longer L + R repeat the last forecast week). ``cycle_stock_reviews``: the
    review periods of demand one shelfwise order adds above the reorder point
    (:func:`forecasting.policy.policy_levels`; 1 by default).
    """

    eval_days: int = 182
    warmup_days: int = 28
    refit_days: int = 28
    target_kinds: tuple[str, ...] = ("cycle",)
    fill_rates: tuple[float, ...] = (
        0.5, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.96, 0.97, 0.98, 0.99, 0.995, 0.998
    )
    service_levels: tuple[float, ...] = (
        0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.998, 0.999
    )
    pooled_fill_rates: tuple[float, ...] = (
        0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.96, 0.97, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995,
        0.9998
    )
    safety_days: tuple[float, ...] = (
        0, 2, 4, 7, 10, 14, 21, 28, 42, 56, 84, 120, 180, 270, 365
    )
    minmax_window_days: int = 91
    baselines: tuple[str, ...] = ("minmax",)
    n_sims: int = 2000
    horizon: int = 28
    cycle_stock_reviews: float = 1.0
    transfer_lead_days: int = 3
    seed: int = 0
    forecast: ForecastConfig = field(default_factory=ForecastConfig)


@dataclass(frozen=True)
class SimulationResult:
    """``curves``: one row per policy × parameter with :data:`METRICS` (the two curves).
    ``by_sku``: the same measures per SKU (``sku, policy, parameter, ...``).
    ``window``: first replayed, first scored and last day; ``skus``: SKUs replayed."""

    curves: pl.DataFrame
    by_sku: pl.DataFrame
    window: dict[str, dt.date]
    skus: int


# ---------------------------------------------------------------------------------------------
# the replay engine: pure numpy, hand-checkable
# ---------------------------------------------------------------------------------------------


# over 80 lines: one day-by-day loop over shared state (on hand, on order, arrivals, open
# cycles) that reads as the days pass; cut into helpers, each would take and mutate it all
def replay(
    demand: np.ndarray,
    review: np.ndarray,
    reorder_point: np.ndarray,
    order_up_to: np.ndarray,
    lead_days: np.ndarray,
    *,
    block: np.ndarray | None = None,
    case_pack: np.ndarray | int = 1,
    moq: np.ndarray | int = 0,
    initial_on_hand: np.ndarray | None = None,
    score_from: int = 0,
) -> dict[str, np.ndarray]:
    """Replay ``T`` days of demand for ``N`` SKUs under ``P`` parameter settings at once.

    ``demand``: (N, T) units per day. ``review``: (N, T) bool, the days an order may be
    placed (after that day's demand). ``reorder_point`` / ``order_up_to``: (P, N, B) units per
    setting, SKU and level block; ``block``: (T,) the block of each day (default: all 0).
    ``lead_days``: (N, T) whole days ≥ 1 from an order on that day to its arrival (start of
    day t + L; arrivals after the last day are never received). An order is placed when the
    inventory position (on hand + on order) is strictly below the reorder point and sized
    ``round_to_case_pack(order_up_to − position, case_pack, moq)`` (0 when not positive).
    ``initial_on_hand``: (P, N) units at the start, nothing on order (default: the first
    block's order-up-to). Days before ``score_from`` are replayed but not measured.

    Returns (P, N) arrays: ``units_demanded``, ``units_served``, ``units_lost``,
    ``on_hand_sum`` (Σ end-of-day on hand over scored days), ``stockout_days`` (days with lost
    units), ``orders`` and ``ordered_units`` (placed on scored days), ``cycles`` and
    ``cycles_ok`` (receipt-to-receipt cycles closed on a scored day, and those without lost
    units), plus ``scored_days`` (a scalar array).
    """
    demand = np.asarray(demand, dtype=float)
    n, t_days = demand.shape
    rop = np.asarray(reorder_point, dtype=float)
    out = np.asarray(order_up_to, dtype=float)
    if rop.ndim == 2:
        rop, out = rop[:, :, None], out[:, :, None]
    p = rop.shape[0]
    if rop.shape[1] != n or out.shape != rop.shape:
        raise ValueError(f"levels must be (P, {n}, B); got {rop.shape} and {out.shape}")
    block = np.zeros(t_days, dtype=np.int64) if block is None else np.asarray(block, np.int64)
    lead = np.maximum(np.asarray(lead_days, dtype=np.int64), 1)
    review = np.asarray(review, dtype=bool)
    pack = np.broadcast_to(np.asarray(case_pack), (n,))
    floor = np.broadcast_to(np.asarray(moq), (n,))

    on_hand = (
        out[:, :, block[0]].copy()
        if initial_on_hand is None
        else np.broadcast_to(np.asarray(initial_on_hand, dtype=float), (p, n)).copy()
    )
    on_order = np.zeros((p, n))
    # arrivals[:, :, d] = units arriving at the start of day d (a ring would save memory;
    # P × N × T floats is small at the sizes this runs on)
    arrivals = np.zeros((p, n, t_days + 1))
    zeros = lambda: np.zeros((p, n))  # noqa: E731
    acc = {k: zeros() for k in ("units_demanded", "units_served", "units_lost", "on_hand_sum",
                                "stockout_days", "orders", "ordered_units", "cycles",
                                "cycles_ok")}
    cycle_open = np.zeros((p, n), dtype=bool)  # a cycle starts at a receipt
    cycle_lost = np.zeros((p, n), dtype=bool)
    p_idx = np.arange(p)[:, None]
    n_idx = np.arange(n)[None, :]

    for t in range(t_days):
        scored = t >= score_from
        received = arrivals[:, :, t]
        if received.any():
            on_hand += received
            on_order -= received
            got = received > 0
            if scored:
                closing = got & cycle_open
                acc["cycles"] += closing
                acc["cycles_ok"] += closing & ~cycle_lost
            cycle_open |= got
            cycle_lost &= ~got

        d = demand[:, t][None, :]
        served = np.minimum(on_hand, d)
        lost = d - served
        on_hand -= served
        short = lost > 1e-9
        cycle_lost |= short
        if scored:
            acc["units_demanded"] += d
            acc["units_served"] += served
            acc["units_lost"] += lost
            acc["on_hand_sum"] += on_hand
            acc["stockout_days"] += short

        due = review[:, t]
        if due.any():
            position = on_hand + on_order
            b = block[t]
            place = due[None, :] & (position < rop[:, :, b] - 1e-9)
            need = np.where(place, out[:, :, b] - position, 0.0)
            qty = round_to_case_pack(need, pack[None, :], floor[None, :]).astype(float)
            if qty.any():
                arrive = np.broadcast_to(t + lead[:, t], (p, n))
                inside = (qty > 0) & (arrive < t_days)
                # each (setting, SKU) places at most one order a day: no index collides
                arrivals[p_idx, n_idx, np.minimum(arrive, t_days)] += np.where(inside, qty, 0.0)
                on_order += qty  # an order arriving after the replay stays on order
                if scored:
                    acc["orders"] += qty > 0
                    acc["ordered_units"] += qty
    acc["scored_days"] = np.asarray(max(t_days - score_from, 0))
    return acc


# over 80 lines: replay()'s day loop per location, with the transfers moved inside the same
# day before purchases; the loop's shared state is why it stays one function
def replay_network(
    demand: np.ndarray,
    review: np.ndarray,
    reorder_point: np.ndarray,
    order_up_to: np.ndarray,
    lead_time_demand: np.ndarray,
    lead_days: np.ndarray,
    *,
    transfers: bool,
    transfer_lead_days: int = 3,
    block: np.ndarray | None = None,
    case_pack: np.ndarray | int = 1,
    moq: np.ndarray | int = 0,
    score_from: int = 0,
) -> dict[str, np.ndarray]:
    """:func:`replay` for ``K`` locations per SKU, with or without transfers before purchases.

    ``demand``: (N, K, T) units per SKU, location and day. ``reorder_point``,
    ``order_up_to``, ``lead_time_demand``: (P, N, K, B) units per setting, SKU, location and
    level block. ``lead_days``: (N, T) supplier lead times as in :func:`replay` (the same for
    every location of a SKU). Every location runs the (s, S) rule of :func:`replay` on its
    own stock (lost sales, orders rounded with case pack and MOQ). With ``transfers``, on a
    review day and before any order, :func:`forecasting.transfers.allocate_transfers` moves
    stock the way production suggests it (free = on hand; keep = order-up-to + lead-time
    demand, or the reorder point for a SKU the company holds enough of; whole cases): the
    units leave the source at once and arrive ``transfer_lead_days`` later (≥ 1), counted as
    on order at the destination meanwhile; then each location orders what it still needs.

    Returns (P, N) arrays summed over locations: the measures of :func:`replay` (``cycles``
    and ``cycles_ok`` are 0: a cycle is a location's, not pooled), ``stockout_days`` = SKU-days
    with lost units at some location, ``ordered_units`` (bought on scored days) and
    ``transferred_units`` (moved on scored days).
    """
    from forecasting.transfers import allocate_transfers

    demand = np.asarray(demand, dtype=float)
    n, k, t_days = demand.shape
    rop = np.asarray(reorder_point, dtype=float)
    out = np.asarray(order_up_to, dtype=float)
    ltd = np.asarray(lead_time_demand, dtype=float)
    if rop.ndim == 3:
        rop, out, ltd = rop[..., None], out[..., None], ltd[..., None]
    p = rop.shape[0]
    if rop.shape[1:3] != (n, k) or out.shape != rop.shape or ltd.shape != rop.shape:
        raise ValueError(f"levels must be (P, {n}, {k}, B); got {rop.shape}, {out.shape}, "
                         f"{ltd.shape}")
    block = np.zeros(t_days, dtype=np.int64) if block is None else np.asarray(block, np.int64)
    lead = np.maximum(np.asarray(lead_days, dtype=np.int64), 1)
    hop = max(int(transfer_lead_days), 1)
    review = np.asarray(review, dtype=bool)
    pack = np.broadcast_to(np.asarray(case_pack), (n,)).astype(np.int64)
    floor = np.broadcast_to(np.asarray(moq), (n,)).astype(np.int64)

    on_hand = out[..., block[0]].copy()
    on_order = np.zeros((p, n, k))
    arrivals = np.zeros((p, n, k, t_days + 1))
    acc = {name: np.zeros((p, n)) for name in (
        "units_demanded", "units_served", "units_lost", "on_hand_sum", "stockout_days",
        "orders", "ordered_units", "transferred_units", "cycles", "cycles_ok")}
    # a frame key per (setting, SKU): the allocation works per "sku"
    keys = (np.arange(p)[:, None] * n + np.arange(n)[None, :])

    for t in range(t_days):
        scored = t >= score_from
        received = arrivals[..., t]
        on_hand += received
        on_order -= received
        d = demand[:, :, t][None, :, :]
        served = np.minimum(on_hand, d)
        lost = d - served
        on_hand -= served
        if scored:
            acc["units_demanded"] += d.sum(axis=2)
            acc["units_served"] += served.sum(axis=2)
            acc["units_lost"] += lost.sum(axis=2)
            acc["on_hand_sum"] += on_hand.sum(axis=2)
            acc["stockout_days"] += (lost > 1e-9).any(axis=2)
        due = review[:, t]
        if not due.any():
            continue
        b = block[t]
        s_rop, s_out = rop[..., b], out[..., b]
        if transfers and k > 1:
            pi, ni, ki = np.nonzero(np.broadcast_to(due[None, :, None], (p, n, k)))
            position = on_hand + on_order
            stock = pl.DataFrame({
                "sku": keys[pi, ni].astype(str), "location_id": ki.astype(str),
                "free_units": on_hand[pi, ni, ki],
                "inventory_position_units": position[pi, ni, ki],
                "reorder_point_units": s_rop[pi, ni, ki], "order_up_to_units": s_out[pi, ni, ki],
                "lead_time_demand_units": ltd[pi, ni, ki, b],
                "needs_order": (position[pi, ni, ki] < s_rop[pi, ni, ki] - 1e-9)
                & (s_out[pi, ni, ki] > position[pi, ni, ki]),
                "case_pack": pack[ni]})
            moves = allocate_transfers(stock, default_lead_time_days=hop)
            if moves.height:
                key = moves["sku"].cast(pl.Int64).to_numpy()
                mp, mn = key // n, key % n
                src = moves["from_location_id"].cast(pl.Int64).to_numpy()
                dst = moves["to_location_id"].cast(pl.Int64).to_numpy()
                units = moves["transfer_units"].to_numpy().astype(float)
                np.add.at(on_hand, (mp, mn, src), -units)
                np.add.at(on_order, (mp, mn, dst), units)
                np.add.at(arrivals, (mp, mn, dst, np.full(len(units), min(t + hop, t_days))),
                          units)
                if scored:
                    np.add.at(acc["transferred_units"], (mp, mn), units)
        position = on_hand + on_order
        place = due[None, :, None] & (position < s_rop - 1e-9)
        need = np.where(place, s_out - position, 0.0)
        qty = round_to_case_pack(need, pack[None, :, None], floor[None, :, None]).astype(float)
        if qty.any():
            arrive = np.broadcast_to((t + lead[:, t])[None, :, None], (p, n, k))
            inside = arrive < t_days
            pi, ni, ki = np.nonzero(qty > 0)
            np.add.at(arrivals, (pi, ni, ki, np.minimum(arrive[pi, ni, ki], t_days)),
                      np.where(inside[pi, ni, ki], qty[pi, ni, ki], 0.0))
            on_order += qty
            if scored:
                acc["orders"] += (qty > 0).sum(axis=2)
                acc["ordered_units"] += qty.sum(axis=2)
    acc["scored_days"] = np.asarray(max(t_days - score_from, 0))
    return acc


def split_demand(demand: np.ndarray, shares: np.ndarray, seed: int = 0) -> np.ndarray:
    """(N, T) daily units per SKU → (N, K, T) per location: each day's units (rounded to
    whole units) dealt to the locations by their ``shares`` (N, K; rows sum to 1), one
    binomial draw per location in turn (a multinomial, vectorised), seeded."""
    units = np.rint(np.asarray(demand, dtype=float)).astype(np.int64)
    shares = np.asarray(shares, dtype=float)
    rng = np.random.default_rng([seed, 3])
    n, k = shares.shape
    out = np.zeros((n, k, units.shape[1]))
    left = units.copy()
    share_left = np.ones(n)
    for j in range(k):
        q = np.where(share_left > 1e-12, shares[:, j] / np.maximum(share_left, 1e-12), 0.0)
        take = left if j == k - 1 else rng.binomial(left, np.clip(q, 0.0, 1.0)[:, None])
        out[:, j, :] = take
        left = left - take
        share_left = share_left - shares[:, j]
    return out


def sample_lead_days(
    mean_days: np.ndarray, sd_days: np.ndarray, days: int, seed: int = 0
) -> np.ndarray:
    """Lead times (N, days) in whole days ≥ 1, one per SKU and order day, seeded.

    Gamma with the SKU's mean and sd (days), like :mod:`forecasting.quantiles`: positive and
    right-skewed; sd 0 gives the mean. Drawn by inverse CDF from one uniform per SKU-day, so
    every policy replayed with the same seed sees the same lead time on the same day.
    """
    mean = np.asarray(mean_days, dtype=float)[:, None]
    sd = np.asarray(sd_days, dtype=float)[:, None]
    u = np.random.default_rng([seed, 2]).random((mean.shape[0], days))
    fixed = (sd <= 0) | (mean <= 0)
    shape = np.where(fixed, 1.0, (mean / np.where(fixed, 1.0, sd)) ** 2)
    scale = np.where(fixed, 1.0, sd**2 / np.where(mean > 0, mean, 1.0))
    draws = np.where(fixed, mean, stats.gamma.ppf(u, a=shape, scale=scale))
    return np.maximum(np.rint(draws), 1).astype(np.int64)


# ---------------------------------------------------------------------------------------------
# policy levels
# ---------------------------------------------------------------------------------------------


def _items(skus: Sequence[str], items: pl.DataFrame | None) -> pl.DataFrame:
    """One row per SKU in ``skus`` order with every column of :data:`ITEM_DEFAULTS`, and
    ``category`` (text, null when unknown)."""
    frame = pl.DataFrame({"sku": list(skus)}, schema={"sku": pl.String})
    if items is not None:
        if items["sku"].is_duplicated().any():
            dup = items.filter(pl.col("sku").is_duplicated())["sku"].head(3).to_list()
            raise ValueError(f"items has more than one row for SKU(s) {dup}")
        cols = [c for c in ITEM_DEFAULTS if c in items.columns]
        category = [pl.col("category").cast(pl.String)] if "category" in items.columns else []
        frame = frame.join(
            items.select(
                pl.col("sku").cast(pl.String), *[pl.col(c).cast(pl.Float64) for c in cols],
                *category,
            ),
            on="sku",
            how="left",
            maintain_order="left",
        )
    frame = frame.with_columns(
        [
            (pl.col(c).fill_null(v) if c in frame.columns else pl.lit(v)).cast(pl.Float64).alias(c)
            for c, v in ITEM_DEFAULTS.items()
        ]
        + ([] if "category" in frame.columns else [pl.lit(None, pl.String).alias("category")])
    )
    bad = frame.filter(
        (pl.col("lead_time_mean_days") < 0)
        | (pl.col("lead_time_sd_days") < 0)
        | (pl.col("review_days") < 1)
        | (pl.col("unit_cost") < 0)
    )
    if len(bad):
        raise ValueError(
            f"items: SKU {bad['sku'][0]!r} has a negative lead time, sd or unit cost, or "
            "review days below 1"
        )
    return frame


def shelfwise_levels(
    history: pl.DataFrame,
    items: pl.DataFrame,
    sweeps: dict[str, Sequence[float]],
    config: SimulationConfig,
    seed: int,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Reorder point and order-up-to (S, N) units per target kind, setting and SKU of ``items``.

    ``sweeps``: target kind (:data:`TARGET_KINDS`) → its settings, sorted. Fits
    :func:`forecasting.forecast_demand` on ``history`` (a daily grid ending on the origin) and
    draws demand over L + R per SKU once (:func:`forecasting.lead_time_demand_draws`, lead
    time from ``items``, R = ``review_days``); every kind and setting reads the same draws:

    - ``cycle``: the reorder point is the service-level quantile of that demand;
    - ``fill_rate``: the smallest reorder point whose expected shortage per replenishment cycle
      is at most (1 − β) × the cycle's demand (:func:`forecasting.fillrate.fill_rate_reorder_point`
      on the ``n_sims`` quantiles at levels (i + ½) ÷ n_sims, i.e. the sorted draws). A cycle's
      demand is the smallest order the policy places: cycle stock rounded up to whole cases
      and the MOQ (the mean demand over R when that is larger);
    - ``pooled``: per SKU the level of :data:`forecasting.fillrate.POOLED_LEVELS` that meets the
      pooled fill rate β over every SKU of ``items`` at the least stock value
      (``unit_cost``), exactly as :func:`forecasting.policy.policy_levels` with a
      ``fill_rate_target`` (:func:`forecasting.fillrate.level_table`, ``cycle_days``,
      ``pooled_levels``).

    Order-up-to = reorder point + cycle stock, cycle stock = mean daily forecast over round(L)
    + R days × R × ``config.cycle_stock_reviews``, rounded up (as
    :func:`forecasting.policy.policy_levels`). A SKU without
    history in ``history`` gets 0 (it is never ordered until it has some).
    """
    unknown = set(sweeps) - set(TARGET_KINDS)
    if unknown:
        raise ValueError(f"unknown target kind(s) {sorted(unknown)}; choose from {TARGET_KINDS}")
    skus = items["sku"]
    rop = {kind: np.zeros((len(levels), len(skus))) for kind, levels in sweeps.items()}
    known = history.filter(pl.col("sku").is_in(skus.implode()))
    if known.is_empty():
        return {kind: (r, r.copy()) for kind, r in rop.items()}
    # the daily quantile columns are not used: the levels come from the draws over L + R
    # categories: new SKUs borrow their category's rate, and every SKU follows its
    # category's season of last year (ForecastConfig.yearly_seasonality)
    fc = forecast_demand(known, horizon=config.horizon, quantiles=(0.5,),
                         config=config.forecast,
                         categories=(items.select("sku", "category").drop_nulls()
                                     if "category" in items.columns else None)).forecast
    index = pl.DataFrame({"sku": skus, "_i": np.arange(len(skus))})
    cycle = np.zeros(len(skus))
    daily = np.zeros(len(skus))
    # the pooled kind allocates over every SKU at once: its tables are gathered per review group
    pooled = {"pos": [], "reorder": [], "shortage": []}
    for review_days in items["review_days"].unique().sort().to_list():
        group = items.filter(pl.col("review_days") == review_days)
        part = fc.filter(pl.col("sku").is_in(group["sku"].implode()))
        if part.is_empty():
            continue
        _review_group_levels(part, group, int(review_days), index, sweeps, config, seed,
                             rop=rop, cycle=cycle, daily=daily, pooled=pooled)
    if "pooled" in sweeps and pooled["pos"]:
        pos = np.concatenate(pooled["pos"])
        rop["pooled"][:, pos] = _pooled_reorder_points(pooled, pos, items, daily,
                                                       sweeps["pooled"], config)
    return {kind: (r, r + cycle[None, :]) for kind, r in rop.items()}


def _review_group_levels(
    part: pl.DataFrame,
    group: pl.DataFrame,
    review_days: int,
    index: pl.DataFrame,
    sweeps: dict[str, Sequence[float]],
    config: SimulationConfig,
    seed: int,
    *,
    rop: dict[str, np.ndarray],
    cycle: np.ndarray,
    daily: np.ndarray,
    pooled: dict[str, list],
) -> None:
    """:func:`shelfwise_levels` for the SKUs of one review period: draw their demand over
    L + R once, then fill their columns of ``rop`` (per kind), ``cycle`` and ``daily``
    (units), and gather the pooled kind's tables in ``pooled`` (filled in place: the arrays
    span every SKU of ``items``; ``index`` maps a SKU to its column)."""
    names, draws = lead_time_demand_draws(
        part,
        group.select(
            "sku",
            pl.col("lead_time_mean_days").alias("lead_time_mean"),
            pl.col("lead_time_sd_days").alias("lead_time_sd"),
        ),
        review_days=review_days,
        n_sims=config.n_sims,
        seed=seed,
    )
    at = pl.DataFrame({"sku": names}).join(index, on="sku", maintain_order="left")["_i"]
    pos = at.to_numpy()
    # cycle stock as forecasting.policy.policy_levels has it: the mean daily demand over
    # round(L) + R days × R, rounded up to whole units
    part = part.sort("sku", "date")
    means = part["mean"].to_numpy().reshape(len(names), -1)
    lt = pl.DataFrame({"sku": names}).join(group, on="sku", maintain_order="left")
    window = np.rint(lt["lead_time_mean_days"].to_numpy()).astype(np.int64) + review_days
    daily[pos] = _sum_first_days(means, window) / np.maximum(window, 1)
    cycle[pos] = cycle_stock_units(daily[pos], review_days, config.cycle_stock_reviews)
    if "cycle" in sweeps:
        rop["cycle"][:, pos] = np.quantile(draws, sweeps["cycle"], axis=0,
                                           method="inverted_cdf")
    if "fill_rate" in sweeps:
        smallest_order = round_to_case_pack(
            cycle[pos], lt["case_pack"].to_numpy().astype(np.int64),
            lt["moq"].to_numpy().astype(np.int64))
        rop["fill_rate"][:, pos] = fill_rate_reorder_point(
            draws, np.maximum(smallest_order, daily[pos] * review_days), sweeps["fill_rate"])
    if "pooled" in sweeps:
        reorder, shortage = level_table(draws, POOLED_LEVELS)
        pooled["pos"].append(pos)
        pooled["reorder"].append(reorder)
        pooled["shortage"].append(shortage)


def _pooled_reorder_points(pooled: dict[str, list], pos: np.ndarray, items: pl.DataFrame,
                           daily: np.ndarray, targets: Sequence[float],
                           config: SimulationConfig) -> np.ndarray:
    """Reorder points (targets × SKUs at ``pos``) of the pooled kind: as
    forecasting.policy.policy_levels with a fill_rate_target, one pool over every SKU."""
    reorder = np.concatenate(pooled["reorder"], axis=1)
    choice, _ = pooled_levels(
        reorder,
        np.concatenate(pooled["shortage"], axis=1),
        unit_cost=items["unit_cost"].to_numpy()[pos],
        mean_daily=daily[pos],
        cycle_days=cycle_days(daily[pos], items["review_days"].to_numpy()[pos],
                              items["case_pack"].to_numpy().astype(np.int64)[pos],
                              items["moq"].to_numpy().astype(np.int64)[pos],
                              config.cycle_stock_reviews),
        targets=targets,
    )
    return np.take_along_axis(reorder, choice, axis=0)


def _sum_first_days(means: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Σ of the first ``days[i]`` columns of row i of (N, H) daily means; days past H repeat
    the last week (as :func:`forecasting.lead_time_demand_quantiles` does)."""
    h = means.shape[1]
    longest = int(np.max(days, initial=0))
    if longest > h:
        last = means[:, -min(7, h):]
        reps = int(np.ceil((longest - h) / last.shape[1]))
        means = np.concatenate([means, np.tile(last, reps)[:, : longest - h]], axis=1)
    upto = np.arange(means.shape[1])[None, :] < np.asarray(days)[:, None]
    return np.where(upto, means, 0.0).sum(axis=1)


def minmax_levels(
    avg_daily: np.ndarray, items: pl.DataFrame, safety_days: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """Static min/max (S, N) units: min = avg × L + safety days × avg; max = min + avg × R.

    ``avg_daily``: average daily demand per SKU (units/day); L = mean lead time and R = review
    days from ``items``. As Odoo and ERPNext users set it: days of cover, no spread.
    """
    avg = np.asarray(avg_daily, dtype=float)[None, :]
    lead = items["lead_time_mean_days"].to_numpy()[None, :]
    review = items["review_days"].to_numpy()[None, :]
    safety = np.asarray(safety_days, dtype=float)[:, None]
    low = avg * lead + safety * avg
    return low, low + avg * review


def _average_daily(grid: pl.DataFrame, skus: pl.Series, end: dt.date, days: int) -> np.ndarray:
    """Mean of the uncensored daily units per SKU over the ``days`` days up to ``end``
    (0 for a SKU without such days)."""
    start = end - dt.timedelta(days=days - 1)
    means = (
        grid.filter(pl.col("date").is_between(start, end))
        .group_by("sku")
        .agg(pl.col("units").mean().alias("avg"))
    )
    return (
        pl.DataFrame({"sku": skus})
        .join(means, on="sku", how="left", maintain_order="left")["avg"]
        .fill_null(0.0)
        .to_numpy()
    )


# ---------------------------------------------------------------------------------------------
# the whole run
# ---------------------------------------------------------------------------------------------


def simulate_policies(
    grid: pl.DataFrame,
    items: pl.DataFrame | None = None,
    config: SimulationConfig | None = None,
    *,
    progress=None,
    location_shares: pl.DataFrame | None = None,
) -> SimulationResult:
    """Replay the last ``warmup_days + eval_days`` of ``grid`` under shelfwise and min/max.

    ``grid``: :func:`forecasting.daily_grid` output (``sku, date, units|null, censored``);
    censored days are replayed with the trailing mean of the uncensored days
    (:func:`forecasting.impute_censored`), since their true demand is unknown; days before a
    SKU's grid starts replay as 0. ``items``: optional ``sku`` + any of
    ``lead_time_mean_days, lead_time_sd_days, review_days, case_pack, moq, unit_cost``
    (base currency per unit); missing values take :data:`ITEM_DEFAULTS`. An optional
    ``category`` feeds the forecast (new SKUs' borrowed rate, the yearly ratio). ``progress``:
    optional callable(str) for one line per refit.

    ``location_shares`` (optional: ``sku, location_id, share``): each SKU's demand split over
    its locations (:func:`split_demand`; shares normalised per SKU, a SKU without a row sits
    at one location). Then the first shelfwise kind is also replayed per location
    (:func:`replay_network`) as ``shelfwise_network`` (each location buys for itself) and
    ``shelfwise_transfers`` (transfers before purchases, ``config.transfer_lead_days``), with
    each location's levels = its share × the SKU's levels and its lead-time demand = share ×
    the SKU's mean daily demand over the 28 days before the refit × (round(L) + R) (the
    production policy splits a SKU's forecast by location share the same way).

    Returns a :class:`SimulationResult`. Raises ValueError when the history is shorter than
    the replay plus 28 days of fitting history, or on bad item values.
    """
    config = config or SimulationConfig()
    _check_config(config)
    if grid.is_empty():
        raise ValueError("the demand history is empty")

    t_days = config.warmup_days + config.eval_days
    start, end = _replay_window(grid, t_days)
    skus = grid["sku"].unique().sort()
    n = len(skus)
    items_n = _items(skus.to_list(), items)
    sweeps, safety = _sweeps(config)
    demand = _replay_demand(grid, skus, start, t_days)

    review_days = items_n["review_days"].to_numpy().astype(np.int64)
    review = (np.arange(t_days)[None, :] % review_days[:, None]) == 0
    lead = sample_lead_days(items_n["lead_time_mean_days"].to_numpy(),
                            items_n["lead_time_sd_days"].to_numpy(), t_days, seed=config.seed)
    block = np.arange(t_days) // config.refit_days
    n_blocks = int(block[-1]) + 1

    policy_levels = _refit_levels(grid, items_n, skus, sweeps, safety, start, n_blocks, config,
                                  progress)
    network = None
    if location_shares is not None:
        network = _network_inputs(grid, skus, location_shares, demand, policy_levels, items_n,
                                  review_days, start, n_blocks, config)

    unit_cost = items_n["unit_cost"].to_numpy()
    per_sku = []
    for name, (rop, out, params) in policy_levels.items():
        acc = replay(demand, review, rop, out, lead, block=block,
                     case_pack=items_n["case_pack"].to_numpy().astype(np.int64),
                     moq=items_n["moq"].to_numpy().astype(np.int64),
                     score_from=config.warmup_days)
        per_sku.append(_per_sku(acc, unit_cost, name, params, skus))
    if network is not None:
        per_sku += _network_replays(network, review, lead, block, items_n, unit_cost, skus,
                                    config, progress)
    by_sku = pl.concat(per_sku)
    return SimulationResult(
        curves=_curves(by_sku),
        by_sku=_rates(by_sku),
        window={
            "replay_start": start,
            "scored_start": start + dt.timedelta(days=config.warmup_days),
            "end": end,
        },
        skus=n,
    )


def _sweeps(config: SimulationConfig) -> tuple[dict[str, list[float]], list[float]]:
    """The settings each shelfwise target kind is swept over, and the min/max safety days,
    sorted and without repeats."""
    sweep_of = {"fill_rate": config.fill_rates, "cycle": config.service_levels,
                "pooled": config.pooled_fill_rates}
    sweeps = {kind: sorted({float(q) for q in sweep_of[kind]}) for kind in config.target_kinds}
    return sweeps, sorted({float(s) for s in config.safety_days})


def _replay_window(grid: pl.DataFrame, t_days: int) -> tuple[dt.date, dt.date]:
    """``(start, end)`` of the last ``t_days`` days of ``grid``; ValueError when fewer than 28
    days of history come before them."""
    end: dt.date = grid["date"].max()
    first: dt.date = grid["date"].min()
    start = end - dt.timedelta(days=t_days - 1)
    if (start - first).days < 28:
        raise ValueError(
            f"history {first} … {end} is too short: the replay of {t_days} days needs at least "
            f"28 days of history before it (starts {start})"
        )
    return start, end


def _replay_demand(grid: pl.DataFrame, skus: pl.Series, start: dt.date,
                   t_days: int) -> np.ndarray:
    """Replay demand (N, T units): censored days imputed from the past, missing days 0."""
    n = len(skus)
    filled = impute_censored(grid).filter(pl.col("date") >= start)
    demand = np.zeros((n, t_days))
    sku_i = filled["sku"].replace_strict(skus.to_list(), list(range(n)), return_dtype=pl.Int64)
    day_i = (filled["date"] - start).dt.total_days()
    demand[sku_i.to_numpy(), day_i.to_numpy()] = filled["y"].to_numpy()
    return demand


def _network_inputs(grid: pl.DataFrame, skus: pl.Series, location_shares: pl.DataFrame,
                    demand: np.ndarray, policy_levels: dict, items_n: pl.DataFrame,
                    review_days: np.ndarray, start: dt.date, n_blocks: int,
                    config: SimulationConfig) -> tuple:
    """What :func:`_network_replays` replays: demand, the (N, K) shares, the first shelfwise
    kind's levels and settings, and each SKU's lead-time demand per block (the mean daily
    demand of the 28 days before the refit × (round(L) + R))."""
    shares = _share_matrix(skus, location_shares)
    daily = np.stack([_average_daily(grid, skus, start + dt.timedelta(days=b * config.refit_days - 1), 28)
                      for b in range(n_blocks)], axis=1)  # (N, B)
    window = np.rint(items_n["lead_time_mean_days"].to_numpy()) + review_days
    sw_rop, sw_out, sw_params = policy_levels[_shelfwise_name(config.target_kinds[0], config)]
    return (demand, shares, sw_rop, sw_out, (daily * window[:, None]), sw_params)


def _check_config(config: SimulationConfig) -> None:
    """Raise ``ValueError`` naming the knob when a :class:`SimulationConfig` value is off."""
    if config.eval_days < 1 or config.warmup_days < 0 or config.refit_days < 1:
        raise ValueError("eval_days and refit_days must be ≥ 1 and warmup_days ≥ 0")
    if not config.target_kinds or set(config.target_kinds) - set(TARGET_KINDS):
        raise ValueError(f"target kinds are some of {TARGET_KINDS}: {config.target_kinds}")
    if any(not 0 < q < 1 for q in (*config.service_levels, *config.fill_rates,
                                   *config.pooled_fill_rates)):
        raise ValueError("service levels and fill rates lie strictly between 0 and 1: "
                         f"{config.service_levels}, {config.fill_rates}, "
                         f"{config.pooled_fill_rates}")
    if any(s < 0 for s in config.safety_days):
        raise ValueError(f"safety days must be ≥ 0: {config.safety_days}")
    unknown = set(config.baselines) - {"minmax", "minmax_refreshed"}
    if unknown:
        raise ValueError(f"unknown baseline(s) {sorted(unknown)}")


def _refit_levels(
    grid: pl.DataFrame,
    items_n: pl.DataFrame,
    skus: pl.Series,
    sweeps: dict[str, list[float]],
    safety: list[float],
    start: dt.date,
    n_blocks: int,
    config: SimulationConfig,
    progress,
) -> dict[str, tuple[np.ndarray, np.ndarray, list[float]]]:
    """Every policy's (reorder point, order-up-to, settings) per setting, SKU and refit block
    (S, N, B units): shelfwise's kinds refitted on the history up to each block's origin,
    the min/max baselines beside them."""
    n = len(skus)
    policy_levels: dict[str, tuple[np.ndarray, np.ndarray, list[float]]] = {
        _shelfwise_name(kind, config): (np.zeros((len(levels), n, n_blocks)),
                                        np.zeros((len(levels), n, n_blocks)), levels)
        for kind, levels in sweeps.items()
    }
    mm = {b: (np.zeros((len(safety), n, n_blocks)), np.zeros((len(safety), n, n_blocks)))
          for b in config.baselines}
    static_avg = _average_daily(grid, skus, start - dt.timedelta(days=1), config.minmax_window_days)
    for b in range(n_blocks):
        origin = start + dt.timedelta(days=b * config.refit_days - 1)
        if progress:
            progress(f"refit {b + 1}/{n_blocks}: history up to {origin}")
        history = grid.filter(pl.col("date") <= origin)
        fitted = shelfwise_levels(history, items_n, sweeps, config, seed=config.seed + b)
        for kind, (rop, out) in fitted.items():
            sw_rop, sw_out, _ = policy_levels[_shelfwise_name(kind, config)]
            sw_rop[:, :, b], sw_out[:, :, b] = rop, out
        for name, (low, high) in mm.items():
            avg = (
                static_avg
                if name == "minmax"
                else _average_daily(grid, skus, origin, config.minmax_window_days)
            )
            low[:, :, b], high[:, :, b] = minmax_levels(avg, items_n, safety)
    for name, (low, high) in mm.items():
        policy_levels[name] = (low, high, safety)
    return policy_levels


def _network_replays(network: tuple, review: np.ndarray, lead: np.ndarray, block: np.ndarray,
                     items_n: pl.DataFrame, unit_cost: np.ndarray, skus: pl.Series,
                     config: SimulationConfig, progress) -> list[pl.DataFrame]:
    """The per-SKU results of the first shelfwise kind replayed per location, each location
    buying alone and with transfers before purchases (:data:`NETWORK_POLICIES`)."""
    demand, shares, sw_rop, sw_out, ltd, params = network
    per_sku = []
    by_location = split_demand(demand, shares, seed=config.seed)
    split = lambda x: x[:, :, None, :] * shares[None, :, :, None]  # noqa: E731
    for name, moving in zip(NETWORK_POLICIES, (False, True)):
        if progress:
            progress(f"replay {name} over {shares.shape[1]} locations")
        acc = replay_network(
            by_location, review, split(sw_rop), split(sw_out),
            np.broadcast_to(split(ltd[None, :, :]), sw_rop.shape[:2] + shares.shape[1:]
                            + sw_rop.shape[2:]),
            lead, transfers=moving, transfer_lead_days=config.transfer_lead_days,
            block=block, case_pack=items_n["case_pack"].to_numpy().astype(np.int64),
            moq=items_n["moq"].to_numpy().astype(np.int64), score_from=config.warmup_days)
        per_sku.append(_per_sku(acc, unit_cost, name, params, skus))
    return per_sku


def _share_matrix(skus: pl.Series, location_shares: pl.DataFrame) -> np.ndarray:
    """(N, K) demand shares per SKU of ``skus`` and location (sorted ids), rows summing to 1;
    a SKU without a positive share sits wholly at the first location."""
    locations = location_shares["location_id"].unique().sort().to_list()
    wide = (pl.DataFrame({"sku": skus})
            .join(location_shares.pivot(on="location_id", index="sku", values="share",
                                        aggregate_function="sum"),
                  on="sku", how="left", maintain_order="left"))
    matrix = np.nan_to_num(wide.select(locations).to_numpy().astype(float)).clip(min=0.0)
    total = matrix.sum(axis=1, keepdims=True)
    matrix = np.where(total > 0, matrix / np.where(total > 0, total, 1.0), 0.0)
    matrix[total[:, 0] <= 0, 0] = 1.0
    return matrix


def _shelfwise_name(kind: str, config: SimulationConfig) -> str:
    """``shelfwise`` for the first target kind of ``config``, ``shelfwise_<kind>`` otherwise."""
    return "shelfwise" if kind == config.target_kinds[0] else f"shelfwise_{kind}"


def _per_sku(
    acc: dict, unit_cost: np.ndarray, policy: str, params: list[float], skus: pl.Series
) -> pl.DataFrame:
    """The measures per setting × SKU, plus the sums that pool them (``cycles_ok``)."""
    p, n = acc["units_demanded"].shape
    days = max(int(acc["scored_days"]), 1)
    return pl.DataFrame(
        {
            "sku": np.tile(skus.to_numpy(), p),
            "policy": [policy] * (p * n),
            "parameter": np.repeat(params, n),
            "avg_on_hand_units": acc["on_hand_sum"].ravel() / days,
            "avg_on_hand_value": (acc["on_hand_sum"] * unit_cost[None, :]).ravel() / days,
            "stockout_days": acc["stockout_days"].ravel().astype(np.int64),
            "orders": acc["orders"].ravel().astype(np.int64),
            "units_demanded": acc["units_demanded"].ravel(),
            "units_served": acc["units_served"].ravel(),
            "units_lost": acc["units_lost"].ravel(),
            "cycles": acc["cycles"].ravel().astype(np.int64),
            "cycles_ok": acc["cycles_ok"].ravel().astype(np.int64),
            "units_bought": acc["ordered_units"].ravel(),
            "units_transferred": acc.get("transferred_units",
                                         np.zeros_like(acc["ordered_units"])).ravel(),
        }
    )


def _rates(frame: pl.DataFrame) -> pl.DataFrame:
    """Add fill rate and cycle service level (null without demand / closed cycles) and put
    the columns in :data:`METRICS` order."""
    return frame.with_columns(
        pl.when(pl.col("units_demanded") > 0)
        .then(pl.col("units_served") / pl.col("units_demanded"))
        .alias("fill_rate"),
        pl.when(pl.col("cycles") > 0)
        .then(pl.col("cycles_ok") / pl.col("cycles"))
        .alias("cycle_service_level"),
    ).select(*[c for c in ("sku", "policy", "parameter") if c in frame.columns], *METRICS)


def _curves(by_sku: pl.DataFrame) -> pl.DataFrame:
    """Pool the per-SKU measures: sums over SKUs, rates of the sums."""
    sums = [c for c in by_sku.columns if c not in ("sku", "policy", "parameter")]
    return _rates(
        by_sku.group_by("policy", "parameter", maintain_order=True).agg(pl.col(sums).sum())
    )


def stock_at_fill_rate(
    curves: pl.DataFrame, target: float = 0.95, stock: str = "avg_on_hand_value"
) -> pl.DataFrame:
    """Average stock each policy needs for ``target`` fill rate, interpolated on its curve.

    Per policy, the points in parameter order (more safety, more stock); the first segment
    whose fill rate crosses the target from below is interpolated linearly in ``stock``. A
    curve whose first point already reaches the target reports that point's stock (an upper
    bound, marked ``extrapolated``); a curve that never reaches it reports null.

    Returns ``policy, target_fill_rate, stock_column, stock, parameter, reached, extrapolated``.
    """
    rows = []
    for policy in curves["policy"].unique(maintain_order=True).to_list():
        pts = curves.filter(pl.col("policy") == policy).sort("parameter")
        fill = pts["fill_rate"].fill_null(0.0).to_numpy()
        value = pts[stock].to_numpy()
        param = pts["parameter"].to_numpy()
        row = {"policy": policy, "target_fill_rate": target, "stock_column": stock,
               "stock": None, "parameter": None, "reached": False, "extrapolated": False}
        if len(fill) and fill[0] >= target:
            row.update(stock=float(value[0]), parameter=float(param[0]), reached=True,
                       extrapolated=True)
        else:
            for i in range(1, len(fill)):
                if fill[i - 1] < target <= fill[i]:
                    w = (target - fill[i - 1]) / (fill[i] - fill[i - 1])
                    row.update(
                        stock=float(value[i - 1] + w * (value[i] - value[i - 1])),
                        parameter=float(param[i - 1] + w * (param[i] - param[i - 1])),
                        reached=True,
                    )
                    break
        rows.append(row)
    return pl.DataFrame(
        rows,
        schema={"policy": pl.String, "target_fill_rate": pl.Float64, "stock_column": pl.String,
                "stock": pl.Float64, "parameter": pl.Float64, "reached": pl.Boolean,
                "extrapolated": pl.Boolean},
    )


def stock_reduction(
    at_target: pl.DataFrame, baseline: str = "minmax", policy: str = "shelfwise"
) -> float | None:
    """Share of the baseline's stock that ``policy`` saves at the target (0.25 = 25 % less);
    None when either curve does not reach the target."""
    get = dict(zip(at_target["policy"], at_target["stock"]))
    sw, base = get.get(policy), get.get(baseline)
    if sw is None or base is None or base <= 0:
        return None
    return 1.0 - sw / base


def plot_curves(
    curves: pl.DataFrame,
    *,
    stock: str = "avg_on_hand_value",
    target: float | None = 0.95,
    title: str = "",
    stock_label: str | None = None,
    shelfwise_target: str = "cycle",
):
    """A matplotlib Figure: fill rate against average stock, one line per policy, each point
    labelled with its parameter. ``shelfwise_target``: the target kind of the ``shelfwise``
    curve (its label). The caller saves it (this library writes no files)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 5.5), dpi=110)
    ax = fig.add_subplot()
    kind = {"fill_rate": ("fill rate β", "β {:g}"), "cycle": ("cycle service level", "SL {:g}"),
            "pooled": ("pooled fill-rate target", "{:g}")}
    style = {"shelfwise": ("tab:blue", "o", kind[shelfwise_target][1]),
             "shelfwise_cycle": ("tab:green", "D", kind["cycle"][1]),
             "shelfwise_fill_rate": ("tab:green", "D", kind["fill_rate"][1]),
             "shelfwise_pooled": ("tab:purple", "v", kind["pooled"][1]),
             "minmax": ("tab:orange", "s", "{:g} d"),
             "minmax_refreshed": ("tab:gray", "^", "{:g} d")}
    for policy in curves["policy"].unique(maintain_order=True).to_list():
        pts = curves.filter(pl.col("policy") == policy).sort("parameter")
        color, marker, fmt = style.get(policy, ("black", "x", "{:g}"))
        label = {"shelfwise": f"shelfwise ({kind[shelfwise_target][0]})",
                 "shelfwise_cycle": f"shelfwise ({kind['cycle'][0]})",
                 "shelfwise_fill_rate": f"shelfwise ({kind['fill_rate'][0]})",
                 "shelfwise_pooled": f"shelfwise ({kind['pooled'][0]})",
                 "minmax": "static min/max (safety days)",
                 "minmax_refreshed": "min/max, average refreshed (safety days)"}.get(policy, policy)
        ax.plot(pts[stock], pts["fill_rate"], marker=marker, color=color, label=label)
        for x, y, prm in zip(pts[stock], pts["fill_rate"], pts["parameter"]):
            ax.annotate(fmt.format(prm), (x, y), textcoords="offset points", xytext=(4, -10),
                        fontsize=7, color=color)
    if target is not None:
        ax.axhline(target, color="tab:red", linestyle=":", linewidth=1,
                   label=f"target fill rate {target:.0%}")
    ax.set_xscale("log")  # the min/max sweep runs to a year of safety stock
    ax.set_xlabel(f"{stock_label or stock.replace('_', ' ')} (log scale)")
    ax.set_ylabel("fill rate (units served ÷ demanded)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig
