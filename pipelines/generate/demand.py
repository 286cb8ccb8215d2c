"""What customers want: seasonal profiles, promotions, FX and price lists.

Demand is modelled as order *lines*: each SKU × channel × day draws a Poisson number of lines
with mean ``line_rate × channel share × weekly(channel) × yearly(category) × trend × promo``,
and each line a quantity whose distribution depends on the SKU's Syntetos–Boylan class and the
channel (B2B lines are whole cases). Smooth and erratic SKUs have line rates above ~2/day (a
sale most days, ADI < 1.32); intermittent and lumpy ones below 0.5/day. Erratic and lumpy
SKUs draw occasional bulk lines, which pushes the CV² of non-zero demand above 0.49.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from .catalog import Catalog
from .config import BASE_CURRENCY, CATEGORIES, FX_WALKS, WEEKLY


def calendar(start: date, days: int) -> dict[str, np.ndarray]:
    """Per day: weekday (0 = Monday), month, day of month, day of year, year."""
    dates = [start + timedelta(days=d) for d in range(days)]
    return {
        "weekday": np.array([d.weekday() for d in dates]),
        "month": np.array([d.month for d in dates]),
        "dom": np.array([d.day for d in dates]),
        "doy": np.array([d.timetuple().tm_yday for d in dates]),
        "year": np.array([d.year for d in dates]),
    }


def _black_friday(year: int) -> int:
    """Day of year of Black Friday (the day after the fourth Thursday of November)."""
    nov1 = date(year, 11, 1)
    first_thu = 1 + (3 - nov1.weekday()) % 7
    return date(year, 11, first_thu + 21 + 1).timetuple().tm_yday


def yearly_profiles(cal: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Multiplier on demand per season key and day (mean about 1 over a year).

    Christmas builds from mid-November to 23 December and collapses after; Cyber Week (Black
    Friday to Cyber Monday) spikes; January is quiet; garden peaks in May, outdoor in summer,
    stationery at back-to-school (early September).
    """
    doy = cal["doy"].astype(float)
    bf = np.array([_black_friday(int(y)) for y in cal["year"]])
    xmas = np.where(doy <= 358, np.exp(-((doy - 354) / 16.0) ** 2), 0.0)
    after = (doy > 358) | (doy < 15)
    cyber = ((doy >= bf) & (doy <= bf + 3)).astype(float)
    spring = np.exp(-((doy - 140) / 35.0) ** 2)
    summer = np.exp(-((doy - 190) / 40.0) ** 2)
    school = np.exp(-((doy - 245) / 12.0) ** 2)
    lull = np.where(after, 0.8, 1.0)
    return {
        "apparel": lull * (0.95 + 0.7 * xmas + 0.9 * cyber),
        "home": lull * (0.95 + 0.8 * xmas + 0.8 * cyber),
        "toys": lull * (0.75 + 2.5 * xmas + 1.2 * cyber),
        "garden": 0.45 + 1.5 * spring + 0.3 * summer + 0.2 * xmas,
        "flat": lull * (0.95 + 0.4 * xmas + 1.5 * cyber),
        "gifts": lull * (0.85 + 1.6 * xmas + 0.9 * cyber),
        "outdoor": lull * (0.75 + 0.7 * summer + 0.3 * xmas + 0.5 * cyber),
        "school": lull * (0.85 + 1.5 * school + 0.3 * xmas + 0.4 * cyber),
    }


def weekly_matrix(cat: Catalog, weekday: np.ndarray) -> np.ndarray:
    """(n_chan, days) weekday multipliers, each channel's week normalised to mean 1."""
    rows = []
    for c in cat.channels:
        w = np.array(WEEKLY[c.channel_type], float)
        rows.append((w / w.mean())[weekday])
    return np.array(rows)


def promotions(cat: Catalog, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """SKU promotions as (days, n_prod) float32 lift and discount share.

    Each SKU runs about one (smooth) or two (others) promotions a year of 3–10 days, lifting
    its demand 1.8–3.5× at 10–30% off; lumpy and erratic promotions are the bursts that make
    forecasting hard.
    """
    days, n = cat.days, cat.n_prod
    per_year = np.where(cat.demand_class == 0, 1.0, 2.0)
    counts = rng.poisson(per_year * days / 365.0)
    owner = np.repeat(np.arange(n), counts)
    k = len(owner)
    start = rng.integers(0, days, k)
    length = rng.integers(3, 11, k)
    lift_v = rng.uniform(1.8, 3.5, k).astype(np.float32)
    disc_v = np.round(rng.uniform(0.10, 0.30, k), 2).astype(np.float32)
    lift = np.ones((days, n), np.float32)
    disc = np.zeros((days, n), np.float32)
    # expand each promotion to its days (vectorised: one row per promotion day)
    rep = np.repeat(np.arange(k), length)
    offs = np.arange(len(rep)) - np.repeat(np.cumsum(length) - length, length)
    day = start[rep] + offs
    ok = day < days
    lift[day[ok], owner[rep[ok]]] = lift_v[rep[ok]]
    disc[day[ok], owner[rep[ok]]] = disc_v[rep[ok]]
    return lift, disc


def channel_events(cat: Catalog, cal: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(n_chan, days) channel-wide lift and discount: Cyber Week sales, Amazon Prime Day."""
    n_chan = len(cat.channels)
    lift = np.ones((n_chan, cat.days))
    disc = np.zeros((n_chan, cat.days))
    bf = np.array([_black_friday(int(y)) for y in cal["year"]])
    cyber = (cal["doy"] >= bf) & (cal["doy"] <= bf + 3)
    # Prime Day: the second Tuesday and Wednesday of July
    july = cal["month"] == 7
    prime = july & np.isin(cal["weekday"], (1, 2)) & (cal["dom"] >= 8) & (cal["dom"] <= 16)
    for ci, c in enumerate(cat.channels):
        if c.promo:
            disc[ci, cyber] = 0.20
        if c.channel_type == "amazon":
            lift[ci, prime] = 2.2
            disc[ci, prime] = 0.15
    return lift, disc


def fx_rates(cat: Catalog, rng: np.random.Generator, weekday: np.ndarray) -> dict[str, np.ndarray]:
    """Daily rate_to_base (EUR per unit) per currency: a log random walk on business days.

    Weekend days repeat Friday's rate (markets are closed), so every calendar day has a rate.
    EUR is 1.0.
    """
    rates = {BASE_CURRENCY: np.ones(cat.days)}
    business = weekday < 5
    for cur, (start, vol) in FX_WALKS.items():
        steps = rng.normal(0.0, vol, cat.days) * business
        rates[cur] = np.round(start * np.exp(np.cumsum(steps)), 6)
    return rates


def price_table(cat: Catalog, rates: dict[str, np.ndarray], day: int) -> np.ndarray:
    """(n_chan, n_prod) selling price per unit in each channel's currency.

    Price lists are set at the start of each quarter from the EUR list price, the channel's
    price factor and the FX rate of that day, then rounded to retail price points.
    """
    rows = []
    for c in cat.channels:
        local = cat.list_price_eur * c.price_factor / rates[c.currency][day]
        rows.append(np.where(local < 20, np.floor(local) + 0.99, np.round(local) - 0.01))
    return np.round(np.array(rows), 2)


def season_matrix(cat: Catalog, cal: dict[str, np.ndarray]) -> np.ndarray:
    """(days, n_categories) yearly multiplier per category."""
    prof = yearly_profiles(cal)
    return np.stack([prof[c.season] for c in CATEGORIES], axis=1)
