"""Synthetic daily demand for tests and benchmarks (numpy, seeded; no files)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl


def synthetic_demand(
    n_skus: int, days: int = 365, *, seed: int = 0, end: dt.date = dt.date(2026, 11, 22)
) -> pl.DataFrame:
    """Long daily demand ``sku, date, units`` with a mix of demand classes.

    Each SKU gets a demand probability per day (0.05–1, so intermittent to smooth), a
    weekday pattern, a slow level drift and gamma-Poisson order sizes (lumpy when the
    size dispersion is high). Only days with units > 0 are returned, as an order table would.
    """
    rng = np.random.default_rng(seed)
    p = rng.choice([0.05, 0.15, 0.4, 0.8, 1.0], size=n_skus, p=[0.25, 0.25, 0.2, 0.15, 0.15])
    size = rng.gamma(2.0, 3.0, n_skus) + 1
    shape = rng.choice([0.5, 5.0], size=n_skus)  # order-size dispersion: lumpy vs steady
    weekday = np.array([1.1, 1.0, 1.0, 1.05, 1.2, 0.9, 0.75])
    t = np.arange(days)
    dates = np.array([end - dt.timedelta(days=int(days - 1 - i)) for i in t], dtype="datetime64[D]")
    dow = (dates.astype("datetime64[D]").view("int64") - 4) % 7  # 0 = Monday
    drift = 1 + 0.3 * np.sin(2 * np.pi * (t[None, :] / 365 + rng.random((n_skus, 1))))
    prob = np.clip(p[:, None] * weekday[dow][None, :] * drift, 0, 1)
    occurs = rng.random((n_skus, days)) < prob
    lam = rng.gamma(shape[:, None], size[:, None] / shape[:, None], (n_skus, days))
    units = np.where(occurs, rng.poisson(lam) + 1, 0)
    sku_idx, day_idx = np.nonzero(units)
    return pl.DataFrame(
        {
            "sku": np.char.add("SKU-", np.char.zfill(sku_idx.astype(str), 5)),
            "date": dates[day_idx],
            "units": units[sku_idx, day_idx].astype(np.float64),
        }
    ).with_columns(pl.col("date").cast(pl.Date))
