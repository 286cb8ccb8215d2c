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

Days are not independent, though: when a forecast's level is off, it is off for weeks, so the
demand over a lead time spreads wider than independent days imply (measured on the policy
benchmark: reorder points promised at 0.99 served 0.955 of cycles). The lead-time Monte Carlo
therefore scales each scenario's daily means by one common **level shock** G, gamma with
mean 1 and sd ``level_cv`` (per SKU), which gives demand over k days the variance

    Var(D_k) = vmr × M + level_cv² × M²,    M = Σ of the k daily means,

instead of vmr × M. :func:`level_dispersion` estimates ``level_cv`` from the same held-out
windows as ``vmr``: the variance of each window's *summed* error beyond what ``vmr`` explains.
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


# below this many SKUs with backtest windows a segment's level shock is not pooled on its own:
# the pool over all SKUs is used instead
MIN_POOL_SKUS = 20


def level_dispersion(
    windows: pl.DataFrame,
    skus: pl.DataFrame,
    *,
    level_cv_max: float = 1.0,
) -> pl.DataFrame:
    """Per SKU, the sd of a multiplicative level error shared by all days of a forecast.

    ``windows``: one row per SKU × held-out window (rolling-origin CV, the forecast fitted on
    the days before the window): ``sku, vmr, error`` (Σ actual − forecast over the window's
    days, units) and ``forecast`` (Σ forecast, units). ``skus``: ``sku, group`` for every SKU
    to return (group: the pool a SKU borrows from, e.g. its demand segment).

    Under NB1 days with a common gamma level shock of variance σ², a window's summed error has
    E[e²] = vmr × F + σ² × F² (F its summed forecast): each window gives the unbiased
    z = (e² − vmr × F) ÷ F². One SKU has few windows (3 by default) and z is noisy, more so
    for slow movers (its sd is about √2 × (vmr ÷ F + σ²)), so the estimate is
    empirical Bayes: precision-weighted z per SKU, shrunk towards its group's pooled value by
    how precise it is against the spread of true σ² between SKUs (DerSimonian–Laird); a group
    with fewer than :data:`MIN_POOL_SKUS` SKUs with windows uses the pool of all SKUs. A SKU
    without windows (short history) gets its pool's value.

    Returns ``sku, group, level_cv`` (σ, unitless, 0 … ``level_cv_max``; 0: days independent),
    ``dispersion_factor`` (Var of the window sum ÷ the independent-day vmr × F at the SKU's
    mean window forecast; 1 = independent, null without windows), ``windows`` (count) and
    ``level_cv_source`` (``own`` — shrunk — or ``pooled``).
    """
    w = windows.select(
        "sku", pl.col("vmr").cast(pl.Float64).clip(lower_bound=1.0),
        pl.col("error").cast(pl.Float64), pl.col("forecast").cast(pl.Float64),
    ).filter(pl.col("forecast") > 1e-9, pl.col("error").is_finite())
    # a fixed row order makes the pooled sums bit-identical whatever the backend or chunking
    w = w.join(skus.select("sku", "group"), on="sku", how="inner").sort("sku", maintain_order=True)
    z = ((pl.col("error") ** 2 - pl.col("vmr") * pl.col("forecast")) / pl.col("forecast") ** 2)
    w = w.with_columns(z.alias("z"))
    # a first, forecast²-weighted pooled σ² sets the precision weights (how much of a window's
    # noise is Poisson-like rather than level): fine to be rough, it only weights
    total_f2 = float((w["forecast"] ** 2).sum()) if len(w) else 0.0
    s0 = max(float((w["z"] * w["forecast"] ** 2).sum()) / total_f2, 0.0) if total_f2 else 0.0
    w = w.with_columns(
        (1.0 / (pl.col("vmr") / pl.col("forecast") + s0 + 1e-6) ** 2).alias("p"))
    own = w.group_by("sku", "group", maintain_order=True).agg(
        ((pl.col("p") * pl.col("z")).sum() / pl.col("p").sum()).alias("own"),
        (pl.col("p").sum() / 2.0).alias("precision"),  # Var(z) ≈ 2 ÷ p per window
        pl.len().alias("windows"),
        pl.col("forecast").mean().alias("f_mean"),
        pl.col("vmr").first().alias("vmr"),
    )
    everyone = _pool(own.with_columns(pl.lit(0).alias("group")))
    by_group = _pool(own).filter(pl.col("n") >= MIN_POOL_SKUS).drop("n")
    pool_all = ((float(everyone["pool"][0]), float(everyone["tau2"][0])) if len(everyone)
                else (0.0, 0.0))
    groups = skus.select("sku", "group").unique("sku", maintain_order=True)
    out = (
        groups.join(own.drop("group"), on="sku", how="left")
        .join(by_group, on="group", how="left")
        .with_columns(pl.col("pool").fill_null(pool_all[0]),
                      pl.col("tau2").fill_null(pool_all[1]))
        .with_columns(
            # w = P τ² ÷ (1 + P τ²): all own when true σ² vary a lot between SKUs relative
            # to the SKU's sampling noise, all pool when they do not vary at all
            (pl.col("precision") * pl.col("tau2")
             / (1.0 + pl.col("precision") * pl.col("tau2"))).fill_null(0.0).alias("_w"),
        )
        .with_columns(
            (pl.col("_w") * pl.col("own").fill_null(0.0) + (1 - pl.col("_w")) * pl.col("pool"))
            .clip(0.0, level_cv_max**2).alias("_s2"),
        )
    )
    return out.select(
        "sku", "group",
        pl.col("_s2").sqrt().alias("level_cv"),
        (1.0 + pl.col("_s2") * pl.col("f_mean") / pl.col("vmr")).alias("dispersion_factor"),
        pl.col("windows").fill_null(0).cast(pl.Int64),
        pl.when(pl.col("windows").fill_null(0) > 0).then(pl.lit("own"))
        .otherwise(pl.lit("pooled")).alias("level_cv_source"),
    )


def _pool(own: pl.DataFrame) -> pl.DataFrame:
    """Per ``group``: the pooled σ² and the between-SKU variance τ² of the per-SKU estimates
    ``own`` with their ``precision`` (DerSimonian–Laird random effects), and ``n`` SKUs."""
    prec, est = pl.col("precision"), pl.col("own")
    fixed = (prec * est).sum() / prec.sum()
    q = (prec * (est - fixed) ** 2).sum()
    denom = prec.sum() - (prec**2).sum() / prec.sum()
    tau2 = pl.when(denom > 0).then(((q - (pl.len() - 1)) / denom).clip(lower_bound=0.0)) \
        .otherwise(0.0)
    return (
        own.group_by("group", maintain_order=True).agg(tau2.alias("tau2"), pl.len().alias("n"),
                                  pl.col("precision", "own"))
        .explode("precision", "own")
        .with_columns((pl.col("precision") / (1.0 + pl.col("precision") * pl.col("tau2")))
                      .alias("_rw"))
        .group_by("group", maintain_order=True)
        .agg(((pl.col("_rw") * est).sum() / pl.col("_rw").sum()).alias("pool"),
                               pl.col("tau2").first(), pl.col("n").first())
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
    scale = sd**2 / mean
    # a vanishing mean underflows the scale to 0 and the inverse CDF to NaN (cast to int, a
    # garbage day count): such a lead time is its mean
    if not (np.isfinite(shape) and np.isfinite(scale) and scale > 0):
        return np.full(u.shape, float(mean))
    return stats.gamma.ppf(u, a=shape, scale=scale)


def _lead_time_per_sku(skus: pl.Series, lead_time_mean: float | pl.DataFrame,
                       lead_time_sd: float) -> tuple[np.ndarray, np.ndarray]:
    """Lead time mean and sd (days) per SKU of ``skus``: from a ``sku, lead_time_mean,
    lead_time_sd`` frame (ValueError naming SKUs without one) or one value for all."""
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
    return lt_mean, lt_sd


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
    shock = pl.col("level_cv") if "level_cv" in forecast.columns else pl.lit(0.0)
    fc = forecast.select("sku", "date", "mean", "vmr",
                         shock.cast(pl.Float64).fill_null(0.0).alias("level_cv")
                         ).sort("sku", "date")
    skus = fc["sku"].unique(maintain_order=True)
    horizon = fc.group_by("sku").len()["len"]
    if horizon.n_unique() != 1:
        raise ValueError("every SKU needs the same number of forecast days")
    h = int(horizon[0])
    mean = fc["mean"].to_numpy().reshape(len(skus), h).clip(min=0.0)
    per_sku = fc.group_by("sku", maintain_order=True).agg(pl.col("vmr", "level_cv").first())
    vmr = per_sku["vmr"].to_numpy()
    # deterministic demand (vmr 0: known orders, tests) has no level error either
    level_cv = np.where(vmr == 0, 0.0, np.nan_to_num(
        per_sku["level_cv"].to_numpy().astype(float)).clip(min=0.0))

    lt_mean, lt_sd = _lead_time_per_sku(skus, lead_time_mean, lead_time_sd)
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
        # one level shock per scenario and SKU, shared by all its days (gamma, mean 1, sd
        # level_cv): a forecast whose level is off is off all lead time long. Its own stream,
        # so level_cv = 0 leaves the day draws exactly as they were
        level = _level_shock(np.random.default_rng([seed, 3, start]), level_cv[cols], n_sims)
        for t in range(t_max):
            alive = days[:, cols] > t
            if not alive.any():
                break
            # one stream per day (and chunk), so the day-t draws do not depend on t_max
            rng = np.random.default_rng([seed, 1, t, start])
            totals[:, cols] += np.where(
                alive, _draw_day(rng, mean[cols, t][None, :] * level, vmr[cols], n_sims), 0.0
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

    ``forecast``: ``sku, date, mean, vmr`` (and optionally ``level_cv``) from
    :func:`forecasting.forecast_demand`, days
    1 … H after the cut-off. ``lead_time_mean``/``lead_time_sd`` in days: scalars for every
    SKU, or a frame ``sku, lead_time_mean, lead_time_sd`` (then ``lead_time_sd`` is ignored).
    If L + R exceeds H the last 7 forecast days repeat (the weekly pattern carries on).

    Seeded and coupled: day t's demand draws come from a stream keyed on (seed, t), and L from
    a stream keyed on the seed by inverse CDF, so a longer lead time never gives a smaller
    quantile with the same seed. With a ``level_cv`` column in ``forecast`` (per SKU,
    :func:`level_dispersion`), each scenario's daily means are scaled by one gamma level shock
    of mean 1 and that sd, so days share the forecast's level error (module docstring);
    without it (or 0) days are independent given the forecast. Cost: about n_skus × n_sims ×
    (L + R) draws.

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


def _level_shock(rng: np.random.Generator, level_cv: np.ndarray, n_sims: int) -> np.ndarray:
    """(n_sims, n_skus) multipliers of the daily means, gamma with mean 1 and sd ``level_cv``
    (exactly 1 where it is 0). Gamma: positive, right-skewed like demand levels, and a
    Poisson–gamma mixture stays a negative binomial."""
    cv = np.asarray(level_cv, dtype=float)
    shocked = cv > 0
    out = np.ones((n_sims, cv.size))
    if shocked.any():
        shape = 1.0 / cv[shocked] ** 2
        out[:, shocked] = rng.gamma(shape[None, :], 1.0 / shape[None, :],
                                    size=(n_sims, int(shocked.sum())))
    return out


def _draw_day(
    rng: np.random.Generator, mean: np.ndarray, vmr: np.ndarray, n_sims: int
) -> np.ndarray:
    """NB1 draws for one day: shape (n_sims, n_skus); Poisson–gamma mixture. ``mean``: (n_skus,)
    or (n_sims, n_skus) units."""
    phi = np.clip(vmr - 1.0, 0.0, None)
    lam = np.broadcast_to(mean, (n_sims, vmr.size))
    mixed = phi > 0
    if mixed.any():
        shape = np.where(mixed, mean / np.where(mixed, phi, 1.0), 1.0)
        g = rng.gamma(
            np.broadcast_to(shape, lam.shape), np.broadcast_to(np.where(mixed, phi, 1.0), lam.shape)
        )
        lam = np.where(mixed, g, lam)
    draws = rng.poisson(lam).astype(float)
    return np.where(vmr == 0, lam, draws)
