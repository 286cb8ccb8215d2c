"""Probabilistic demand: daily quantiles and quantiles of demand summed over a lead time.

The predictive distribution of one SKU-day is a **negative binomial with a constant
variance-to-mean ratio** (NB1): mean μ (the point forecast, units/day) and variance
``vmr × μ``. ``vmr`` is fitted per SKU on out-of-sample errors (the cross-validation windows
of model selection, see :mod:`forecasting.engine`), so the spread is learnt from held-out
errors, the idea of conformal calibration, but with a shape that suits counts: mass at 0 for
intermittent items, a long right tail, integer units, nothing below 0.

Special values: ``vmr == 1`` is Poisson; ``vmr == 0`` means deterministic demand (the mean
itself, used in tests and for known orders); values in (0, 1) are treated as 1.

Why NB1: the sum of independent NB1 days with the same ``vmr`` is again NB1 with the summed
mean, so daily and lead-time distributions stay one family.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy import stats

DEFAULT_QUANTILES: tuple[float, ...] = (0.5, 0.8, 0.9, 0.95, 0.99)


def quantile_name(q: float) -> str:
    """Column name of a quantile: ``q0.9``, ``q0.95``."""
    return f"q{q:g}"


def nb_quantiles(mean: np.ndarray, vmr: np.ndarray, quantiles: Sequence[float]) -> np.ndarray:
    """Quantiles of NB1(mean, vmr) as an array of shape ``(len(mean), len(quantiles))``.

    Integer units except for ``vmr == 0`` (the mean is returned). Always ≥ 0 and
    non-decreasing in the quantile level. A mean of 0 (or NaN) gives 0.
    """
    mean = np.nan_to_num(np.asarray(mean, dtype=float), nan=0.0).clip(min=0.0)
    vmr = np.asarray(vmr, dtype=float)
    q = np.asarray(quantiles, dtype=float)[None, :]
    out = np.zeros((mean.size, q.shape[1]))
    deterministic = vmr == 0
    poisson = ~deterministic & (vmr <= 1 + 1e-9) & (mean > 0)
    negbin = ~deterministic & ~poisson & (mean > 0)
    out[deterministic] = mean[deterministic, None]
    if poisson.any():
        out[poisson] = stats.poisson.ppf(q, mean[poisson, None])
    if negbin.any():
        phi = vmr[negbin, None] - 1
        out[negbin] = stats.nbinom.ppf(q, mean[negbin, None] / phi, 1 / (1 + phi))
    # ppf can return -1 at q→0 for some parametrisations and NaN on overflow: clamp both
    return np.nan_to_num(out, nan=0.0).clip(min=0.0)


def add_quantiles(
    frame: pl.DataFrame,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    *,
    mean_col: str = "mean",
    vmr_col: str = "vmr",
) -> pl.DataFrame:
    """Add one column per quantile (``q0.5``, ``q0.9``, …) from ``mean`` and ``vmr`` columns.

    The ppf is evaluated once per distinct (mean, vmr) pair: flat forecasts times a weekday
    profile have at most seven distinct means per SKU, which makes this ~10× cheaper.
    """
    quantiles = sorted({float(q) for q in quantiles})
    if any(not 0 < q < 1 for q in quantiles):
        raise ValueError(f"quantiles must lie strictly between 0 and 1, got {quantiles}")
    names = [quantile_name(q) for q in quantiles]
    pairs = frame.select(pl.col(mean_col).alias("_m"), pl.col(vmr_col).alias("_v")).unique()
    values = nb_quantiles(pairs["_m"].to_numpy(), pairs["_v"].to_numpy(), quantiles)
    pairs = pairs.with_columns([pl.Series(n, values[:, i]) for i, n in enumerate(names)])
    return frame.drop([n for n in names if n in frame.columns]).join(
        pairs, left_on=[mean_col, vmr_col], right_on=["_m", "_v"], how="left", nulls_equal=True
    )


def _lead_time_samples(
    u: np.ndarray, mean: float, sd: float, empirical: np.ndarray | None
) -> np.ndarray:
    """Lead times (days, float) from uniforms ``u`` by inverse CDF: same u, coupled draws."""
    if empirical is not None:
        return np.quantile(empirical, u, method="inverted_cdf")
    if sd <= 0 or mean <= 0:
        return np.full(u.shape, max(float(mean), 0.0))
    shape = (mean / sd) ** 2  # gamma matched to mean and sd: positive and right-skewed
    return stats.gamma.ppf(u, a=shape, scale=sd**2 / mean)


def lead_time_demand_draws(
    forecast: pl.DataFrame,
    lead_time_mean: float | pl.DataFrame,
    lead_time_sd: float = 0.0,
    review_days: int = 0,
    n_sims: int = 2000,
    seed: int = 0,
    *,
    lead_time_samples: Sequence[float] | None = None,
    chunk_skus: int = 2000,
) -> tuple[pl.Series, np.ndarray]:
    """The Monte Carlo draws behind :func:`lead_time_demand_quantiles`: ``(skus, totals)``,
    ``totals`` of shape (``n_sims``, len(skus)), units of demand over L + R per scenario and
    SKU (SKUs in order of first appearance in ``forecast``). Same arguments, seeding and
    cost; for callers that need more of the distribution than a few quantiles (expected
    shortages, :mod:`forecasting.fillrate`).
    """
    if review_days < 0 or n_sims < 1:
        raise ValueError("review_days must be ≥ 0 and n_sims ≥ 1")
    fc = forecast.select("sku", "date", "mean", "vmr").sort("sku", "date")
    skus = fc["sku"].unique(maintain_order=True)
    horizon = fc.group_by("sku").len()["len"]
    if horizon.n_unique() != 1:
        raise ValueError("every SKU needs the same number of forecast days")
    h = int(horizon[0])
    mean = fc["mean"].to_numpy().reshape(len(skus), h).clip(min=0.0)
    vmr = fc.group_by("sku", maintain_order=True).agg(pl.col("vmr").first())["vmr"].to_numpy()

    if isinstance(lead_time_mean, pl.DataFrame):
        lt = pl.DataFrame({"sku": skus}).join(lead_time_mean, on="sku", how="left")
        if lt["lead_time_mean"].null_count():
            missing = lt.filter(pl.col("lead_time_mean").is_null())["sku"].head(5).to_list()
            raise ValueError(f"no lead time for SKU(s) {missing}")
        lt_mean = lt["lead_time_mean"].to_numpy().astype(float)
        lt_sd = lt["lead_time_sd"].fill_null(0.0).to_numpy().astype(float)
    else:
        lt_mean = np.full(len(skus), float(lead_time_mean))
        lt_sd = np.full(len(skus), float(lead_time_sd))
    if (lt_mean < 0).any() or (lt_sd < 0).any():
        raise ValueError("lead time mean and sd must be ≥ 0 days")
    empirical = None if lead_time_samples is None else np.asarray(lead_time_samples, dtype=float)

    # stratified uniforms for L: less Monte Carlo noise than plain random at the same n_sims
    rng_l = np.random.default_rng([seed, 0])
    u = (np.arange(n_sims) + rng_l.random(n_sims)) / n_sims
    days = np.empty((n_sims, len(skus)), dtype=np.int64)
    pairs: dict[tuple[float, float], np.ndarray] = {}
    for j, key in enumerate(zip(lt_mean, lt_sd)):
        if key not in pairs:
            pairs[key] = np.rint(_lead_time_samples(u, key[0], key[1], empirical)).clip(min=0)
        days[:, j] = pairs[key].astype(np.int64) + review_days
    t_max = int(days.max()) if days.size else 0
    if t_max > h:  # extend by repeating the last week of the forecast
        last = mean[:, -min(7, h) :]
        reps = int(np.ceil((t_max - h) / last.shape[1]))
        mean = np.concatenate([mean, np.tile(last, reps)[:, : t_max - h]], axis=1)

    totals = np.zeros((n_sims, len(skus)))
    for start in range(0, len(skus), chunk_skus):
        cols = slice(start, start + chunk_skus)
        for t in range(t_max):
            alive = days[:, cols] > t
            if not alive.any():
                break
            # one stream per day (and chunk), so the day-t draws do not depend on t_max
            rng = np.random.default_rng([seed, 1, t, start])
            totals[:, cols] += np.where(
                alive, _draw_day(rng, mean[cols, t], vmr[cols], n_sims), 0.0
            )

    return skus, totals


def lead_time_demand_quantiles(
    forecast: pl.DataFrame,
    lead_time_mean: float | pl.DataFrame,
    lead_time_sd: float = 0.0,
    review_days: int = 0,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    n_sims: int = 2000,
    seed: int = 0,
    *,
    lead_time_samples: Sequence[float] | None = None,
    chunk_skus: int = 2000,
) -> pl.DataFrame:
    """Quantiles of total demand over the lead time L plus the review period R, per SKU.

    A quantile of a sum is not the sum of daily quantiles (that adds up every day's bad
    luck), so this is Monte Carlo: for each SKU, ``n_sims`` scenarios; in each, L is drawn
    (gamma with the given mean and sd, in days, or resampled from ``lead_time_samples``),
    rounded to whole days, and the NB1 daily demands of days 1 … round(L) + R are drawn and
    summed. Quantiles are empirical (inverted CDF, so integer units).

    ``forecast``: ``sku, date, mean, vmr`` from :func:`forecasting.forecast_demand`, days
    1 … H after the cut-off. ``lead_time_mean``/``lead_time_sd`` in days: scalars for every
    SKU, or a frame ``sku, lead_time_mean, lead_time_sd`` (then ``lead_time_sd`` is ignored).
    If L + R exceeds H the last 7 forecast days repeat (the weekly pattern carries on).

    Seeded and coupled: day t's demand draws come from a stream keyed on (seed, t), and L from
    a stream keyed on the seed by inverse CDF, so a longer lead time never gives a smaller
    quantile with the same seed. Days are independent given the forecast (error correlation
    across days is not modelled). Cost: about n_skus × n_sims × (L + R) draws.

    Returns ``sku, quantile, units`` (units over L + R).
    """
    skus, totals = lead_time_demand_draws(
        forecast, lead_time_mean, lead_time_sd, review_days, n_sims, seed,
        lead_time_samples=lead_time_samples, chunk_skus=chunk_skus)
    qs = sorted({float(q) for q in quantiles})
    values = np.quantile(totals, qs, axis=0, method="inverted_cdf")  # (n_q, n_skus)
    return pl.DataFrame(
        {
            "sku": np.repeat(skus.to_numpy(), len(qs)),
            "quantile": np.tile(qs, len(skus)),
            "units": values.T.ravel(),
        },
        schema={"sku": pl.String, "quantile": pl.Float64, "units": pl.Float64},
    )


def _draw_day(
    rng: np.random.Generator, mean: np.ndarray, vmr: np.ndarray, n_sims: int
) -> np.ndarray:
    """NB1 draws for one day: shape (n_sims, n_skus); Poisson–gamma mixture."""
    phi = np.clip(vmr - 1.0, 0.0, None)
    lam = np.broadcast_to(mean, (n_sims, mean.size))
    mixed = phi > 0
    if mixed.any():
        shape = np.where(mixed, mean / np.where(mixed, phi, 1.0), 1.0)
        g = rng.gamma(
            np.broadcast_to(shape, lam.shape), np.broadcast_to(np.where(mixed, phi, 1.0), lam.shape)
        )
        lam = np.where(mixed, g, lam)
    draws = rng.poisson(lam).astype(float)
    return np.where(vmr == 0, lam, draws)
