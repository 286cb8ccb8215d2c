"""Candidate models per segment: data, not a chain of ``if``s.

A *base model* is a statsforecast model built by a factory (a fresh instance per fit, so no
state leaks between runs). A *candidate* is what selection chooses among: the mean of one or
more base models' forecasts, optionally spread over the week by the SKU's weekday profile
(the fast intermittent models forecast a flat daily rate; most shops sell differently on a
Monday than on a Saturday, and a shop closed on Saturdays sells nothing then).

Every base model here costs under 1 s per 1,000 series × 365 days × 3 CV windows on 2 cores
(measured, docs/forecasting.md). AutoETS (~21 s even restricted to one ETS form, ~150 s with
the full search) and AutoARIMA (~14 min) are deliberately not candidates; add them to a
segment's list if your catalogue is small enough to pay for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl
from statsforecast.models import (
    ADIDA,
    IMAPA,
    TSB,
    CrostonSBA,
    HistoricAverage,
    SeasonalExponentialSmoothingOptimized,
    SeasonalNaive,
    SeasonalWindowAverage,
    SimpleExponentialSmoothingOptimized,
    WindowAverage,
)

# base model name -> factory; the alias makes the statsforecast column name equal to the key
BASE_MODELS: dict[str, Callable[[], Any]] = {
    "ADIDA": lambda: ADIDA(alias="ADIDA"),
    "IMAPA": lambda: IMAPA(alias="IMAPA"),
    "CrostonSBA": lambda: CrostonSBA(alias="CrostonSBA"),
    "TSB": lambda: TSB(alpha_d=0.1, alpha_p=0.1, alias="TSB"),
    "SES": lambda: SimpleExponentialSmoothingOptimized(alias="SES"),
    "SeasonalES7": lambda: SeasonalExponentialSmoothingOptimized(
        season_length=7, alias="SeasonalES7"
    ),
    "SeasonalNaive7": lambda: SeasonalNaive(season_length=7, alias="SeasonalNaive7"),
    "SeasonalWA7x8": lambda: SeasonalWindowAverage(
        season_length=7, window_size=8, alias="SeasonalWA7x8"
    ),
    "WindowAverage28": lambda: WindowAverage(window_size=28, alias="WindowAverage28"),
    "WindowAverage56": lambda: WindowAverage(window_size=56, alias="WindowAverage56"),
    "HistoricAverage": lambda: HistoricAverage(alias="HistoricAverage"),
}


@dataclass(frozen=True)
class Candidate:
    """One forecast a series can be given.

    ``bases``: base model names whose forecasts are averaged (one name: the model itself).
    ``weekday``: multiply by the SKU's weekday index (mean 1 over a week, so the weekly total
    is unchanged); one flag for all bases, or one per base (a combination can mix a flat
    model spread by the profile with a seasonal model that has its own weekday pattern).
    Name it as it should appear in reports.
    """

    name: str
    bases: tuple[str, ...]
    weekday: bool | tuple[bool, ...] = False

    def expr(self) -> pl.Expr:
        """Polars expression computing this candidate from base-model columns (units/day ≥ 0)."""
        flags = (
            self.weekday if isinstance(self.weekday, tuple) else (self.weekday,) * len(self.bases)
        )
        value = pl.mean_horizontal(
            [
                pl.col(b) * pl.col("weekday_index") if w else pl.col(b)
                for b, w in zip(self.bases, flags)
            ]
        )
        return value.clip(lower_bound=0.0).alias(self.name)


def single(base: str, weekday: bool = False) -> Candidate:
    """A candidate made of one base model (``ADIDA`` or ``ADIDA×wd`` with the weekday profile)."""
    return Candidate(f"{base}×wd" if weekday else base, (base,), weekday)


# CrostonSBA stays out of the combination: on Online Retail it alone scored RMSSE 1.29
# against 0.74 for the others (a large order keeps its smoothed size for months)
_COMBO_INTERMITTENT = Candidate(
    "Combo(ADIDA,IMAPA,TSB,WA56)×wd", ("ADIDA", "IMAPA", "TSB", "WindowAverage56"), True
)
_COMBO_SMOOTH = Candidate(
    "Combo(SES,SeasonalES7,WA28)", ("SES", "SeasonalES7", "WindowAverage28"), False
)

# segment -> candidates, the first is the default when a series is too short to cross-validate.
# Seasonal models carry their own weekday pattern, so they are not multiplied by the profile.
CANDIDATES: dict[str, tuple[Candidate, ...]] = {
    "smooth": (
        _COMBO_SMOOTH,
        single("SES", True),
        single("SeasonalES7"),
        single("SeasonalWA7x8"),
        single("WindowAverage56", True),
        _COMBO_INTERMITTENT,
    ),
    "erratic": (
        _COMBO_INTERMITTENT,
        single("SES", True),
        single("SeasonalES7"),
        single("WindowAverage56", True),
        single("TSB", True),
        _COMBO_SMOOTH,
    ),
    "intermittent": (
        _COMBO_INTERMITTENT,
        single("ADIDA", True),
        single("IMAPA", True),
        single("TSB", True),
        single("CrostonSBA", True),
        single("WindowAverage56", True),
    ),
    "lumpy": (
        _COMBO_INTERMITTENT,
        single("ADIDA", True),
        single("IMAPA", True),
        single("TSB", True),
        single("HistoricAverage", True),
        single("WindowAverage56", True),
    ),
}


def single_model_candidates(base: str, weekday: bool = False) -> dict[str, tuple[Candidate, ...]]:
    """A candidate table that gives every segment the same single model (for baselines)."""
    return {segment: (single(base, weekday),) for segment in CANDIDATES}


def weekday_profile(grid: pl.DataFrame, *, prior_days: float = 365.0) -> pl.DataFrame:
    """Weekday index per SKU (mean 1 over the seven weekdays), shrunk to the pooled profile.

    A SKU's own share of units per weekday is noisy when it sold on few days, so it is
    blended with the profile pooled over all SKUs of ``grid`` (each SKU weighted equally):
    weight = n ÷ (n + ``prior_days``), n = the SKU's days with demand. Censored days are left
    out. Returns ``sku, weekday (1 = Monday … 7), weekday_index``; a SKU without sales gets the
    pooled profile, and an empty pool gives 1 everywhere.
    """
    by_day = (
        grid.filter(pl.col("units").is_not_null())
        .with_columns(pl.col("date").dt.weekday().alias("weekday"))
        .group_by("sku", "weekday")
        .agg(pl.col("units").mean().alias("rate"), (pl.col("units") > 0).sum().alias("n"))
    )
    skus = grid.select("sku").unique()
    full = skus.join(
        pl.DataFrame({"weekday": list(range(1, 8))}, schema={"weekday": pl.Int8}), how="cross"
    )
    by_day = full.join(
        by_day.with_columns(pl.col("weekday").cast(pl.Int8)), on=["sku", "weekday"], how="left"
    )
    by_day = by_day.with_columns(
        (pl.col("rate").fill_null(0.0) / pl.col("rate").fill_null(0.0).sum().over("sku")).alias(
            "share"
        ),
        pl.col("n").fill_null(0).sum().over("sku").alias("n_sku"),
    )
    pooled = (
        by_day.filter(pl.col("share").is_finite())
        .group_by("weekday")
        .agg(pl.col("share").mean().alias("pooled"))
    )
    prof = by_day.join(pooled, on="weekday", how="left").with_columns(
        pl.col("pooled").fill_null(1 / 7), pl.col("share").fill_nan(None)
    )
    w = pl.col("n_sku") / (pl.col("n_sku") + prior_days)
    blended = w * pl.col("share").fill_null(0.0) + (1 - w) * pl.col("pooled")
    return (
        prof.with_columns(
            (7 * blended / blended.sum().over("sku")).fill_nan(1.0).alias("weekday_index")
        )
        .select("sku", "weekday", "weekday_index")
        .sort("sku", "weekday")
    )
