"""Master data of the demo retailer: suppliers, products, bundles, locations, channels.

Everything is drawn once from the seeded generator and kept in a :class:`Catalog`: numpy
arrays indexed by product / supplier / location / channel position for the simulation, and
polars frames in the canonical column layout for the inbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from .config import (
    CATEGORIES,
    CHANNEL_WAREHOUSES,
    CHANNELS,
    FX_WALKS,
    STORE,
    WAREHOUSES,
    ChannelSpec,
    LocationSpec,
)

DEMAND_CLASSES = ("smooth", "erratic", "intermittent", "lumpy")
# share of SKUs per Syntetos–Boylan class as drawn (the measured share on sold units differs
# a little: stockouts, seasonality and launches move SKUs across the cut-offs)
CLASS_SHARES = (0.22, 0.15, 0.35, 0.28)
# mean order lines per SKU and day across all channels (log-uniform range per class): smooth
# and erratic SKUs sell most days (ADI < 1.32), intermittent and lumpy ones rarely
CLASS_LINE_RATES = ((2.2, 5.0), (1.8, 4.0), (0.06, 0.5), (0.04, 0.4))

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

_SUPPLIER_REGIONS = (
    # currency, countries, share, lead time mean range (days), MOV range (supplier currency)
    ("EUR", ("DE", "NL", "IT", "PT", "PL"), 0.55, (5, 15), (150, 800)),
    ("USD", ("US",), 0.15, (15, 30), (500, 2500)),
    ("GBP", ("GB",), 0.10, (6, 14), (200, 900)),
    ("CNY", ("CN",), 0.20, (35, 60), (20000, 60000)),
)
_SUPPLIER_NAMES = ("Nordic", "Atlas", "Lumen", "Harbor", "Meridian", "Kestrel", "Orchard",
                   "Vireo", "Cobalt", "Juniper", "Summit", "Willow", "Beacon", "Aster", "Fjord",
                   "Granite", "Saffron", "Tundra", "Maple", "Quarry")
_SUPPLIER_TRADES = ("Textiles", "Homeware", "Trading", "Manufacturing", "Supply", "Goods",
                    "Crafts", "Industries")
_SUPPLIER_FORMS = {"EUR": "GmbH", "USD": "Inc.", "GBP": "Ltd", "CNY": "Co., Ltd."}


@dataclass
class Catalog:
    """Master data as arrays (simulation) and canonical frames (inbox).

    Product arrays have one entry per SKU (bundles included); ``stocked[l, p]`` says whether
    location ``l`` keeps product ``p`` in its assortment (bundles are never stocked: a kit is
    picked from its components).
    """

    start: date  # first simulated business day
    days: int
    # products
    sku: np.ndarray  # str
    category: np.ndarray  # int index into CATEGORIES
    supplier: np.ndarray  # int, -1 for bundles
    is_bundle: np.ndarray  # bool
    list_price_eur: np.ndarray  # EUR per unit
    unit_cost: np.ndarray  # per unit, supplier currency
    case_pack: np.ndarray
    moq: np.ndarray
    launch_day: np.ndarray  # day index (negative: launched before the window)
    discontinue_day: np.ndarray  # day index; a large number when not discontinued
    lead_time_override: np.ndarray  # days, NaN when the supplier's applies
    demand_class: np.ndarray  # int index into DEMAND_CLASSES
    line_rate: np.ndarray  # mean order lines per day across channels (before seasonality)
    trend: np.ndarray  # yearly log-growth of demand
    planner_bias: np.ndarray  # planner's misjudgement of demand (multiplier, hidden)
    # bundles: CSR over products (non-bundles map to themselves with 1 unit)
    comp_ptr: np.ndarray
    comp_idx: np.ndarray
    comp_units: np.ndarray
    # suppliers
    sup_currency: np.ndarray
    sup_lead_mean: np.ndarray  # days
    sup_lead_sd: np.ndarray  # days
    sup_weekdays: np.ndarray  # bool (n_sup, 7), Monday first
    sup_review: np.ndarray  # days between orders
    sup_mov: np.ndarray  # minimum order value, supplier currency
    sup_late_prob: np.ndarray  # hidden: share of POs arriving late
    sup_short_prob: np.ndarray  # hidden: share of POs received short
    # locations and channels
    locations: list[LocationSpec]
    channels: list[ChannelSpec]
    chan_locs: list[list[int]]  # per channel, its locations by priority
    stocked: np.ndarray  # bool (n_loc, n_prod)
    listed: np.ndarray  # bool (n_chan, n_prod)
    share: np.ndarray  # float (n_chan, n_prod): share of the SKU's lines on each channel
    channel_skus: pl.DataFrame  # channel, product index, channel_sku (1–2 per listing)
    frames: dict[str, pl.DataFrame]  # canonical master-data frames by entity

    @property
    def n_prod(self) -> int:
        return len(self.sku)

    @property
    def n_loc(self) -> int:
        return len(self.locations)

    def date(self, day: int) -> date:
        return self.start + timedelta(days=int(day))


def _log_uniform(rng: np.random.Generator, lo, hi, n=None) -> np.ndarray:
    return np.exp(rng.uniform(np.log(lo), np.log(hi), n))


def _price_point(eur: np.ndarray) -> np.ndarray:
    """Retail price points: x.99 below 20, x9.99/x4.99-style above."""
    return np.where(eur < 20, np.floor(eur) + 0.99, np.round(eur / 5) * 5 - 0.01)


@dataclass
class _Suppliers:
    """Supplier master data, one entry per supplier."""

    ids: list[str]  # SUP-001 …
    names: list[str]
    currency: np.ndarray  # str, the currency the supplier invoices in
    country: np.ndarray  # str, ISO country code
    lead_mean: np.ndarray  # days
    lead_sd: np.ndarray  # days
    mov: np.ndarray  # minimum order value, supplier currency
    weekdays: np.ndarray  # bool (n_sup, 7), Monday first: the days it takes orders
    review: np.ndarray  # int, days between order days
    late_prob: np.ndarray  # hidden: share of POs arriving late
    short_prob: np.ndarray  # hidden: share of POs received short


@dataclass
class _Products:
    """Product master data, one entry per SKU (bundles included)."""

    is_bundle: np.ndarray  # bool
    category: np.ndarray  # int index into CATEGORIES
    supplier: np.ndarray  # int index into the suppliers, -1 for bundles
    list_price: np.ndarray  # EUR per unit, a retail price point
    unit_cost: np.ndarray  # supplier currency per unit (NaN for bundles once composed)
    case_pack: np.ndarray  # units per case
    moq: np.ndarray  # minimum order quantity, units
    launch_day: np.ndarray  # day index (negative: launched before the window)
    discontinue_day: np.ndarray  # day index; FAR when not discontinued
    lead_override: np.ndarray  # days, NaN when the supplier's lead time applies
    demand_class: np.ndarray  # int index into DEMAND_CLASSES
    line_rate: np.ndarray  # mean order lines per day across channels (before seasonality)
    trend: np.ndarray  # yearly log-growth of demand
    planner_bias: np.ndarray  # planner's misjudgement of demand (multiplier, hidden)


FAR = 10**6  # discontinue day of a product that is never discontinued


def build_catalog(
    rng: np.random.Generator, *, skus: int, warehouses: int, channels: int, start: date,
    days: int,
) -> Catalog:
    """Draw suppliers, products, bundles, locations, channels and listings.

    The draws happen in a fixed order (suppliers, products, launches, demand, bundles,
    listings, channel SKUs, names, supplier SKUs): reordering them changes every file the
    same seed writes.
    """
    _check_sizes(skus=skus, warehouses=warehouses, channels=channels)
    sup = _draw_suppliers(rng, skus)
    prod = _draw_products(rng, skus, days, sup)
    comp_ptr, comp_idx, comp_units = _compose_bundles(rng, prod)
    specs, locations, chan_locs = _locations_and_channels(warehouses, channels)
    listed, share = _draw_listings(rng, specs, prod.demand_class)
    stocked = _stocked(len(locations), chan_locs, listed, prod.is_bundle, comp_ptr, comp_idx)
    sku = np.array([f"SKU-{i + 1:05d}" for i in range(skus)])
    channel_skus = _channel_skus(rng, specs, listed, sku)
    names = _product_names(rng, prod.category, prod.is_bundle)
    channel_skus = _name_keyed(channel_skus, specs, names)
    return Catalog(
        start=start, days=days, sku=sku, category=prod.category, supplier=prod.supplier,
        is_bundle=prod.is_bundle, list_price_eur=prod.list_price, unit_cost=prod.unit_cost,
        case_pack=prod.case_pack.astype(np.int64), moq=prod.moq.astype(np.int64),
        launch_day=prod.launch_day, discontinue_day=prod.discontinue_day,
        lead_time_override=prod.lead_override, demand_class=prod.demand_class,
        line_rate=prod.line_rate, trend=prod.trend, planner_bias=prod.planner_bias,
        comp_ptr=comp_ptr, comp_idx=comp_idx, comp_units=comp_units,
        sup_currency=sup.currency, sup_lead_mean=sup.lead_mean, sup_lead_sd=sup.lead_sd,
        sup_weekdays=sup.weekdays, sup_review=sup.review, sup_mov=sup.mov,
        sup_late_prob=sup.late_prob, sup_short_prob=sup.short_prob,
        locations=locations, channels=specs, chan_locs=chan_locs, stocked=stocked,
        listed=listed, share=share, channel_skus=_without_sku(channel_skus, specs, names),
        frames={
            "products": _products_frame(rng, start, sku, names, prod, sup),
            "bundle_components": _bundle_components_frame(sku, prod.is_bundle, comp_ptr,
                                                          comp_idx, comp_units),
            "suppliers": _suppliers_frame(sup),
        } | _network_frames(specs, locations, chan_locs),
    )


def _check_sizes(*, skus: int, warehouses: int, channels: int) -> None:
    """Refuse sizes the generator cannot honour, naming the option and its range."""
    if not 1 <= channels <= len(CHANNELS):
        raise ValueError(f"channels must be between 1 and {len(CHANNELS)}, got {channels}")
    if warehouses < 1:
        raise ValueError(f"warehouses must be at least 1, got {warehouses}")
    if skus < 10:
        raise ValueError(f"skus must be at least 10, got {skus}")


def _draw_suppliers(rng: np.random.Generator, skus: int) -> _Suppliers:
    """About one supplier per 35 SKUs (8–20), every region at least once. Overseas (CNY)
    suppliers take one order every two weeks, the others orders on 1–3 weekdays."""
    n_sup = int(np.clip(round(skus / 35), 8, 20))
    region = rng.choice(len(_SUPPLIER_REGIONS), n_sup, p=[r[2] for r in _SUPPLIER_REGIONS])
    region[: len(_SUPPLIER_REGIONS)] = np.arange(len(_SUPPLIER_REGIONS))  # every region once
    sup_currency = np.array([_SUPPLIER_REGIONS[r][0] for r in region])
    sup_country = np.array([
        _SUPPLIER_REGIONS[r][1][rng.integers(0, len(_SUPPLIER_REGIONS[r][1]))] for r in region
    ])
    lead_lo = np.array([_SUPPLIER_REGIONS[r][3][0] for r in region])
    lead_hi = np.array([_SUPPLIER_REGIONS[r][3][1] for r in region])
    sup_lead_mean = np.round(rng.uniform(lead_lo, lead_hi), 1)
    sup_lead_sd = np.round(sup_lead_mean * rng.uniform(0.08, 0.3, n_sup), 1)
    mov_lo = np.array([_SUPPLIER_REGIONS[r][4][0] for r in region])
    mov_hi = np.array([_SUPPLIER_REGIONS[r][4][1] for r in region])
    sup_mov = np.round(rng.uniform(mov_lo, mov_hi), -1)
    # order days: overseas suppliers take one order every two weeks, others 1–3 weekdays
    sup_weekdays = np.zeros((n_sup, 7), bool)
    sup_review = np.zeros(n_sup, np.int64)
    for i in range(n_sup):
        k = 1 if sup_currency[i] == "CNY" else int(rng.integers(1, 4))
        chosen = np.sort(rng.choice(5, k, replace=False))  # Monday to Friday
        sup_weekdays[i, chosen] = True
        gaps = np.diff(np.append(chosen, chosen[0] + 7))
        sup_review[i] = 14 if sup_currency[i] == "CNY" else int(gaps.max())
    sup_late_prob = rng.uniform(0.03, 0.25, n_sup)
    sup_short_prob = rng.uniform(0.02, 0.12, n_sup)
    name_idx = rng.permutation(len(_SUPPLIER_NAMES))[:n_sup] if n_sup <= len(_SUPPLIER_NAMES) \
        else np.arange(n_sup) % len(_SUPPLIER_NAMES)
    sup_names = [
        f"{_SUPPLIER_NAMES[name_idx[i]]} {_SUPPLIER_TRADES[rng.integers(0, len(_SUPPLIER_TRADES))]}"
        f" {_SUPPLIER_FORMS[sup_currency[i]]}" for i in range(n_sup)
    ]
    return _Suppliers(
        ids=[f"SUP-{i + 1:03d}" for i in range(n_sup)], names=sup_names,
        currency=sup_currency, country=sup_country, lead_mean=sup_lead_mean,
        lead_sd=sup_lead_sd, mov=sup_mov, weekdays=sup_weekdays, review=sup_review,
        late_prob=sup_late_prob, short_prob=sup_short_prob,
    )


def _draw_products(rng: np.random.Generator, n: int, days: int,
                   sup: _Suppliers) -> _Products:
    """``n`` SKUs, ~5 % of them bundles (composed later): category, supplier, price, cost,
    case pack and MOQ, then launches and discontinuations, then demand class and rates."""
    is_bundle = np.zeros(n, bool)
    is_bundle[rng.choice(n, max(1, round(0.05 * n)), replace=False)] = True
    cat_w = np.array([c.weight for c in CATEGORIES])
    category = rng.choice(len(CATEGORIES), n, p=cat_w / cat_w.sum())
    # each category buys from a few suppliers; a supplier may serve several categories
    n_sup = len(sup.ids)
    cat_suppliers = [rng.choice(n_sup, min(n_sup, 3), replace=False) for _ in CATEGORIES]
    supplier = np.array([cat_suppliers[c][rng.integers(0, len(cat_suppliers[c]))]
                         for c in category])
    supplier[is_bundle] = -1
    lo = np.array([CATEGORIES[c].price[0] for c in category])
    hi = np.array([CATEGORIES[c].price[1] for c in category])
    list_price = _price_point(_log_uniform(rng, lo, hi))
    cr_lo = np.array([CATEGORIES[c].cost_ratio[0] for c in category])
    cr_hi = np.array([CATEGORIES[c].cost_ratio[1] for c in category])
    cost_eur = list_price / 1.19 * rng.uniform(cr_lo, cr_hi)  # cost against the net price
    fx0 = {"EUR": 1.0} | {k: v[0] for k, v in FX_WALKS.items()}
    cost_rate = np.array([fx0[sup.currency[s]] if s >= 0 else 1.0 for s in supplier])
    unit_cost = np.round(cost_eur / cost_rate, 2)
    # cheap items come in bigger cases
    case_pack = np.array([
        CATEGORIES[c].case_packs[min(len(CATEGORIES[c].case_packs) - 1,
                                     int(rng.integers(0, len(CATEGORIES[c].case_packs))))]
        for c in category
    ])
    case_pack = np.where(list_price > 60, np.minimum(case_pack, 4), case_pack)
    moq = case_pack * rng.choice([1, 1, 2, 4, 10], n)
    case_pack[is_bundle] = 1
    moq[is_bundle] = 1
    launch_day, discontinue_day, lead_override = _draw_launches(
        rng, n, days, is_bundle, supplier, sup.lead_mean)
    demand_class, line_rate, trend, planner_bias = _draw_demand(rng, n, is_bundle)
    return _Products(
        is_bundle=is_bundle, category=category, supplier=supplier, list_price=list_price,
        unit_cost=unit_cost, case_pack=case_pack, moq=moq, launch_day=launch_day,
        discontinue_day=discontinue_day, lead_override=lead_override,
        demand_class=demand_class, line_rate=line_rate, trend=trend, planner_bias=planner_bias,
    )


def _draw_launches(rng: np.random.Generator, n: int, days: int, is_bundle: np.ndarray,
                   supplier: np.ndarray, sup_lead_mean: np.ndarray):
    """Launch and discontinue day indices and lead-time overrides (days, NaN = none):
    ~15 % launch inside the window, ~7 % are discontinued (90+ days after launch, a week
    before the end at the latest), ~5 % are made to order (1.3–2× the supplier's lead)."""
    launch_day = -rng.integers(30, 1500, n)
    new = rng.random(n) < 0.15
    launch_day[new] = rng.integers(0, max(1, days - 14), new.sum())
    discontinue_day = np.full(n, FAR)
    gone = (rng.random(n) < 0.07) & (launch_day + 90 < days - 7)
    discontinue_day[gone] = rng.integers(launch_day[gone] + 90, days - 7) if gone.any() else []
    lead_override = np.full(n, np.nan)
    made_to_order = (rng.random(n) < 0.05) & ~is_bundle
    lead_override[made_to_order] = np.round(
        sup_lead_mean[supplier[made_to_order]] * rng.uniform(1.3, 2.0, made_to_order.sum()), 0)
    return launch_day, discontinue_day, lead_override


def _draw_demand(rng: np.random.Generator, n: int, is_bundle: np.ndarray):
    """Demand class (CLASS_SHARES), mean order lines per day (CLASS_LINE_RATES, halved for
    kits), yearly log-growth trend and the planners' hidden bias (a multiplier)."""
    demand_class = rng.choice(len(DEMAND_CLASSES), n, p=CLASS_SHARES)
    rate_lo = np.array([CLASS_LINE_RATES[c][0] for c in demand_class])
    rate_hi = np.array([CLASS_LINE_RATES[c][1] for c in demand_class])
    line_rate = _log_uniform(rng, rate_lo, rate_hi)
    line_rate[is_bundle] *= 0.5  # kits sell less than their parts
    trend = np.clip(rng.normal(0.03, 0.25, n), -0.6, 0.7)
    planner_bias = np.exp(rng.normal(0.0, 0.3, n))
    return demand_class, line_rate, trend, planner_bias


def _compose_bundles(rng: np.random.Generator, prod: _Products):
    """Each bundle gets 2–4 components of its category where possible (1–2 units each),
    as CSR arrays over products (comp_ptr, comp_idx, comp_units; a non-bundle maps to itself
    with 1 unit). A kit exists while all its parts do, costs nothing of its own (NaN) and is
    priced at 88 % of its parts (EUR); ``prod`` is updated in place."""
    n, is_bundle, category = len(prod.is_bundle), prod.is_bundle, prod.category
    singles = np.flatnonzero(~is_bundle)
    comp_lists: list[np.ndarray] = []
    units_lists: list[np.ndarray] = []
    for p in range(n):
        if not is_bundle[p]:
            comp_lists.append(np.array([p]))
            units_lists.append(np.array([1]))
            continue
        pool = singles[category[singles] == category[p]]
        if len(pool) < 4:
            pool = singles
        k = int(rng.integers(2, 5))
        comps = np.sort(rng.choice(pool, min(k, len(pool)), replace=False))
        comp_lists.append(comps)
        units_lists.append(rng.choice([1, 1, 1, 2], len(comps)))
    comp_ptr = np.zeros(n + 1, np.int64)
    comp_ptr[1:] = np.cumsum([len(c) for c in comp_lists])
    comp_idx = np.concatenate(comp_lists).astype(np.int64)
    comp_units = np.concatenate(units_lists).astype(np.int64)
    for p in np.flatnonzero(is_bundle):
        comps = comp_idx[comp_ptr[p]:comp_ptr[p + 1]]
        units = comp_units[comp_ptr[p]:comp_ptr[p + 1]]
        prod.launch_day[p] = max(prod.launch_day[p], prod.launch_day[comps].max())
        prod.discontinue_day[p] = min(prod.discontinue_day[p], prod.discontinue_day[comps].min())
        prod.list_price[p] = _price_point(np.array([0.88 * (prod.list_price[comps] * units)
                                                    .sum()]))[0]
        prod.unit_cost[p] = np.nan
        category[p] = category[comps[0]]
    return comp_ptr, comp_idx, comp_units


def _locations_and_channels(warehouses: int, channels: int):
    """The first ``channels`` channel specs, ``warehouses`` fulfilment centres (plus the store
    when the POS channel is in) and, per channel, its location indices by priority."""
    specs = list(CHANNELS[:channels])
    wh = [WAREHOUSES[i] if i < len(WAREHOUSES) else
          LocationSpec(f"wh_{i + 1:02d}", f"Fulfilment centre {i + 1}", "warehouse", "DE",
                       "Europe/Berlin") for i in range(warehouses)]
    has_store = any(c.channel_type == "pos" for c in specs)
    locations = wh + ([STORE] if has_store else [])
    chan_locs: list[list[int]] = []
    for c in specs:
        if c.channel_type == "pos":
            chan_locs.append([len(wh)])
        else:
            prefs = [i % warehouses for i in CHANNEL_WAREHOUSES[c.channel_id]]
            chan_locs.append(list(dict.fromkeys(prefs)))
    # a fulfilment centre no channel's preferences name (the 4th onwards) backs the web shop,
    # which lists everything: a warehouse that stocks nothing has no demo data at all
    served = {li for locs in chan_locs for li in locs}
    chan_locs[0] += [i for i in range(len(wh)) if i not in served]
    return specs, locations, chan_locs


def _draw_listings(rng: np.random.Generator, specs: list[ChannelSpec],
                   demand_class: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which channel lists which SKU (bool (n_chan, n_prod)) and each channel's share of a
    SKU's order lines (float, summing to 1 per SKU): the web shop lists everything; B2B
    prefers the bulky erratic/lumpy SKUs."""
    n, n_chan = len(demand_class), len(specs)
    listed = np.zeros((n_chan, n), bool)
    for ci, c in enumerate(specs):
        p_list = np.full(n, c.list_share)
        if c.channel_type == "b2b":
            p_list = np.where(np.isin(demand_class, (1, 3)), 0.45, 0.05)
        listed[ci] = rng.random(n) < p_list
    listed[0] = True
    affinity = rng.uniform(0.5, 1.5, (n_chan, n))
    weights = np.array([c.weight for c in specs])[:, None]
    raw_share = listed * weights * affinity
    return listed, raw_share / raw_share.sum(axis=0, keepdims=True)


def _stocked(n_loc: int, chan_locs: list[list[int]], listed: np.ndarray, is_bundle: np.ndarray,
             comp_ptr: np.ndarray, comp_idx: np.ndarray) -> np.ndarray:
    """bool (n_loc, n_prod): a location stocks a product when a channel it serves lists it
    (or a kit using it); bundles themselves are never stocked."""
    stocked = np.zeros((n_loc, len(is_bundle)), bool)
    for ci, locs in enumerate(chan_locs):
        for li in locs:
            stocked[li] |= listed[ci]
    for p in np.flatnonzero(is_bundle):
        comps = comp_idx[comp_ptr[p]:comp_ptr[p + 1]]
        stocked[:, comps] |= stocked[:, [p]]
    stocked[:, is_bundle] = False
    return stocked


def _product_names(rng: np.random.Generator, category: np.ndarray,
                   is_bundle: np.ndarray) -> np.ndarray:
    """Names like "Nordic Throw, Sage" from the category's nouns and variants; a bundle is
    a "<noun> Gift Set"."""
    cat, n = CATEGORIES, len(category)
    noun_idx = rng.integers(0, 100, n)
    var_idx = rng.integers(0, 100, n)
    style = np.array(["Classic", "Essential", "Heritage", "Studio", "Nordic", "Everyday",
                      "Premium", "Organic", "Urban", "Alpine"])[rng.integers(0, 10, n)]
    return np.array([
        (f"{cat[category[p]].nouns[noun_idx[p] % len(cat[category[p]].nouns)]} Gift Set"
         if is_bundle[p] else
         f"{style[p]} {cat[category[p]].nouns[noun_idx[p] % len(cat[category[p]].nouns)]}, "
         f"{cat[category[p]].variants[var_idx[p] % len(cat[category[p]].variants)]}")
        for p in range(n)
    ])


def _products_frame(rng: np.random.Generator, start: date, sku: np.ndarray, names: np.ndarray,
                    prod: _Products, sup: _Suppliers) -> pl.DataFrame:
    """The canonical products frame (prices EUR, costs in the supplier's currency); draws
    the suppliers' own SKU numbers."""
    n, supplier = len(sku), prod.supplier
    start_ord = start.toordinal()

    def as_date(days_idx: np.ndarray, valid: np.ndarray) -> pl.Series:
        return pl.Series([date.fromordinal(start_ord + int(d)) if v else None
                          for d, v in zip(days_idx, valid)], dtype=pl.Date)

    return pl.DataFrame({
        "sku": sku,
        "name": names,
        "category": [CATEGORIES[c].name for c in prod.category],
        "supplier_id": [sup.ids[s] if s >= 0 else None for s in supplier],
        "supplier_sku": [f"{sup.ids[s][-3:]}-{rng.integers(10000, 99999)}" if s >= 0 else None
                         for s in supplier],
        "unit_cost": prod.unit_cost,
        "cost_currency": [sup.currency[s] if s >= 0 else None for s in supplier],
        "list_price": prod.list_price,
        "price_currency": "EUR",
        "case_pack": prod.case_pack,
        "moq": prod.moq,
        "is_bundle": prod.is_bundle,
        "launched_on": as_date(prod.launch_day, np.ones(n, bool)),
        "discontinued_on": as_date(prod.discontinue_day, prod.discontinue_day < FAR),
        "lead_time_days": prod.lead_override,
    }, schema_overrides={"case_pack": pl.Int32, "moq": pl.Int32}).with_columns(
        pl.col("unit_cost").fill_nan(None), pl.col("lead_time_days").fill_nan(None)
    )


def _bundle_components_frame(sku, is_bundle, comp_ptr, comp_idx, comp_units) -> pl.DataFrame:
    """One row per bundle × component: units of the component in one bundle."""
    bundle_rows = [(sku[p], sku[comp_idx[j]], int(comp_units[j]))
                   for p in np.flatnonzero(is_bundle) for j in range(comp_ptr[p], comp_ptr[p + 1])]
    return pl.DataFrame(bundle_rows, orient="row", schema={
        "bundle_sku": pl.String, "component_sku": pl.String, "units_per_bundle": pl.Int32})


def _suppliers_frame(sup: _Suppliers) -> pl.DataFrame:
    """The canonical suppliers frame (lead times in days, MOV in the supplier's currency)."""
    return pl.DataFrame({
        "supplier_id": sup.ids,
        "name": sup.names,
        "currency": sup.currency,
        "lead_time_days_mean": sup.lead_mean,
        "lead_time_days_sd": sup.lead_sd,
        "order_weekdays": [",".join(WEEKDAYS[d] for d in np.flatnonzero(row))
                           for row in sup.weekdays],
        "review_period_days": sup.review.astype(np.int32),
        "min_order_value": sup.mov,
        "country": sup.country,
    })


def _network_frames(specs: list[ChannelSpec], locations: list[LocationSpec],
                    chan_locs: list[list[int]]) -> dict[str, pl.DataFrame]:
    """The canonical locations, channels and channel_locations frames."""
    locations_frame = pl.DataFrame({
        "location_id": [l.location_id for l in locations],
        "name": [l.name for l in locations],
        "location_type": [l.location_type for l in locations],
        "country": [l.country for l in locations],
        "timezone": [l.timezone for l in locations],
    })
    channels_frame = pl.DataFrame({
        "channel_id": [c.channel_id for c in specs],
        "name": [c.name for c in specs],
        "channel_type": [c.channel_type for c in specs],
        "currency": [c.currency for c in specs],
        "safety_buffer_units": [c.safety_buffer_units for c in specs],
        "safety_buffer_pct": [c.safety_buffer_pct for c in specs],
    }, schema_overrides={"safety_buffer_units": pl.Int32})
    channel_locations = pl.DataFrame(
        [(specs[ci].channel_id, locations[li].location_id, k + 1)
         for ci, locs in enumerate(chan_locs) for k, li in enumerate(locs)],
        orient="row",
        schema={"channel_id": pl.String, "location_id": pl.String, "priority": pl.Int32},
    )
    return {"locations": locations_frame, "channels": channels_frame,
            "channel_locations": channel_locations}


def _ean13(numbers: np.ndarray) -> pl.Series:
    """EAN-13 barcodes (with a valid check digit) from 12-digit numbers."""
    digits = (numbers[:, None] // 10 ** np.arange(11, -1, -1)) % 10
    weights = np.tile([1, 3], 6)
    check = (10 - (digits * weights).sum(axis=1) % 10) % 10
    return pl.Series((numbers * 10 + check).astype(str))


def _without_sku(channel_skus: pl.DataFrame, specs: list[ChannelSpec],
                 names: np.ndarray) -> pl.DataFrame:
    """About one listing in eleven on eBay and at the till has no SKU of its own (an eBay
    listing without Custom Label, a Square catalogue item never given one): its channel SKU
    is then the key the adapter falls back to (``item:<item number>``,
    ``item:<item name>|<variation>``), so the weekly listing files map it to our SKU as a
    merchant would. Deterministic (no random draws: the other draws stay as they were).
    At the till only items whose name is unique can be told apart this way.
    """
    from assets.ingest.adapters._orders import fallback_sku

    ctype = pl.Series([c.channel_type for c in specs], dtype=pl.String)
    df = channel_skus.with_columns(
        _type=pl.col("channel").replace_strict(list(range(len(specs))), ctype,
                                               return_dtype=pl.String),
        _name=pl.Series(names, dtype=pl.String).gather(channel_skus["product"]),
    )
    chosen = (pl.col("product") % 11 == 4) & ~pl.col("channel_sku").str.ends_with("-V2")
    unique_name = pl.col("_name").count().over("channel", "_name") == 1
    ebay_key = fallback_sku("item", (pl.col("product") + 200_000_000_000).cast(pl.String))
    till_key = fallback_sku("item", pl.col("_name"), pl.lit("Regular"))
    return df.with_columns(
        channel_sku=pl.when(chosen & (pl.col("_type") == "ebay")).then(ebay_key)
        .when(chosen & (pl.col("_type") == "pos") & unique_name).then(till_key)
        .otherwise(pl.col("channel_sku"))
    ).drop("_type", "_name")  # same rows in the same order: listing indices stay valid


NAME_KEYED_EVERY = 8  # one web-shop variant in eight has no SKU in Shopify


def _name_keyed(channel_skus: pl.DataFrame, specs, names: np.ndarray) -> pl.DataFrame:
    """Web-shop (Shopify) variants without a SKU, as real shops have many: their order lines
    carry only the product name, so their channel SKU is the name key the Shopify adapter
    derives (``name:<name>``) and the channel listing maps it to our SKU. Only products with a
    unique name (two products of one name would share a key). No random draws: the rest of
    the catalogue is unchanged."""
    from assets.ingest.adapters.shopify import name_key

    shops = [ci for ci, c in enumerate(specs) if c.channel_type == "shopify"]
    by_product = pl.DataFrame({"name": pl.Series(names, dtype=pl.String)}).select(
        product=pl.int_range(pl.len(), dtype=channel_skus.schema["product"]),
        _key=name_key(pl.col("name")), _unique=pl.col("name").is_unique(),
    )
    keyed = (pl.col("channel").is_in(shops) & (pl.col("product") % NAME_KEYED_EVERY == 5)
             & pl.col("_unique"))
    return channel_skus.join(by_product, on="product", how="left", maintain_order="left").select(
        "channel", "product",
        channel_sku=pl.when(keyed).then(pl.col("_key")).otherwise(pl.col("channel_sku")),
    )


def _channel_skus(
    rng: np.random.Generator, specs: list[ChannelSpec], listed: np.ndarray, sku: np.ndarray
) -> pl.DataFrame:
    """The channel's own SKU of every listing; a few SKUs have a second listing.

    The web shop and B2B portal use our SKU; Amazon seller SKUs look like ``AMZ-7Q2K9D``,
    eBay custom labels ``EB-00042-03``, Etsy listings are numeric ids, store tills scan EAN-13
    barcodes. Amazon and eBay sometimes list one SKU twice (an old and a new listing).
    """
    parts = []
    alphabet = np.array(list("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"))
    for ci, c in enumerate(specs):
        prods = np.flatnonzero(listed[ci])
        k = len(prods)
        if c.channel_type == "amazon":
            codes = alphabet[rng.integers(0, len(alphabet), (k, 6))]
            csku = pl.Series(["AMZ-" + "".join(row) for row in codes])
        elif c.channel_type == "ebay":
            csku = pl.Series([f"EB-{p + 1:05d}-{v:02d}" for p, v in
                              zip(prods, rng.integers(1, 40, k))])
        elif c.channel_type == "etsy":
            csku = pl.Series((rng.permutation(k) * 7919 + 1_200_000_000 + rng.integers(0, 7000))
                             .astype(str))
        elif c.channel_type == "pos":
            csku = _ean13(400_000_000_000 + prods.astype(np.int64) * 37 + 11)
        else:
            csku = pl.Series(sku[prods])
        frame = pl.DataFrame({"channel": ci, "product": prods, "channel_sku": csku},
                             schema={"channel": pl.Int64, "product": pl.Int64,
                                     "channel_sku": pl.String})
        parts.append(frame)
        if c.channel_type in ("amazon", "ebay"):
            twice = rng.random(k) < 0.05
            parts.append(frame.filter(pl.Series(twice)).with_columns(
                channel_sku=pl.col("channel_sku") + "-V2"))
    return pl.concat(parts).sort("channel", "product", "channel_sku")
