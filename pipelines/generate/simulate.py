"""The day-by-day simulation: demand meets stock, orders live, suppliers deliver.

State is held per location × product in numpy arrays (``n_loc × n_prod``); each day runs a
fixed sequence of vectorised steps (no loop over SKUs or rows):

1. receipts and resellable returns scheduled for today enter stock;
2. today's demand is drawn as order lines; a line is accepted when its location's free
   stock (on hand − allocated − reserved) covers it, first at the channel's priority-1
   location, else at priority 2; otherwise the sale is LOST (stockouts censor demand);
3. accepted lines are grouped into orders and given their lifecycle (payment, cancellation,
   ship day, carrier, delivery, maybe a return); allocation holds their units;
4. shipments and cancellations due today release allocation; shipments leave stock;
5. recorded adjustments (shrinkage, damage, found, correction), weekly store replenishment
   and warehouse rebalancing (transfer_out / transfer_in pairs), weekly quality holds;
6. on each supplier's order days a periodic-review (s, S) policy raises purchase orders;
7. cycle counts reveal unrecorded shrinkage; the end-of-day stock is recorded.

Units are pieces; times are seconds since the first simulated day at 00:00 UTC; days are
indices from that day.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from .catalog import Catalog
from .config import (
    CARRIER_INDEX,
    CARRIERS,
    CATEGORIES,
    DESTINATION_CARRIERS,
    RETURN_CONDITION,
    SECONDS_PER_DAY,
    VAT,
)
from .demand import (
    calendar,
    channel_events,
    fx_rates,
    price_table,
    promotions,
    season_matrix,
    weekly_matrix,
)

DAY = SECONDS_PER_DAY
HOUR = 3600
RING = 64  # days of look-ahead for scheduled shipments and cancellations
REASONS = tuple(RETURN_CONDITION)
CONDITIONS = ("resellable", "damaged", "defective", "missing")
ADJ_REASONS = ("shrinkage", "damage", "found", "correction", "transfer_in", "transfer_out")
COUNT_PERIOD = {"warehouse": 14, "store": 7}  # days between cycle counts of one SKU
# unrecorded loss found at a count: share of free units per count period
HIDDEN_LOSS = {"warehouse": 0.004, "store": 0.02}


class _Chunks:
    """Column chunks appended day by day and concatenated once at the end."""

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = defaultdict(list)
        self.counter = 0  # rows handed out so far, where a table needs global row numbers

    def add(self, **cols: np.ndarray) -> None:
        for k, v in cols.items():
            self.parts[k].append(np.asarray(v))

    def build(self, dtypes: dict[str, type]) -> dict[str, np.ndarray]:
        return {k: (np.concatenate(self.parts[k]).astype(t) if self.parts[k]
                    else np.zeros(0, t)) for k, t in dtypes.items()}


@dataclass
class Simulation:
    """Everything the simulation produced (arrays of equal length per table).

    ``ledger`` totals per location × product let a test check conservation:
    ``initial + received + returned − shipped + adjusted − hidden_loss == final``.
    """

    cat: Catalog
    rates: dict[str, np.ndarray]  # currency → rate_to_base per day
    lines: dict[str, np.ndarray]
    orders: dict[str, np.ndarray]
    returns: dict[str, np.ndarray]
    po_lines: dict[str, np.ndarray]
    receipts: dict[str, np.ndarray]
    adjustments: dict[str, np.ndarray]
    stock: np.ndarray  # (days, n_loc, n_prod) int32 system on hand at end of day
    reserved: np.ndarray  # (days, n_loc, n_prod) int32 quality holds
    counts: dict[str, np.ndarray]  # day, loc, prod, counted (reported) quantity
    free_at_listing: dict[int, np.ndarray]  # listing day → free units (n_loc, n_prod)
    truth_demand: np.ndarray  # (days, n_prod) int32 units wanted (accepted + lost)
    truth_lost: np.ndarray  # (days, n_prod) int32 units lost to stockouts
    ledger: dict[str, np.ndarray] = field(default_factory=dict)


def _explode(cat: Catalog, prod: np.ndarray, qty: np.ndarray):
    """Order lines → stock rows: (row's line index, component product, units)."""
    n_comp = cat.comp_ptr[prod + 1] - cat.comp_ptr[prod]
    line = np.repeat(np.arange(len(prod)), n_comp)
    start = np.repeat(cat.comp_ptr[prod], n_comp)
    offs = np.arange(len(line)) - np.repeat(np.cumsum(n_comp) - n_comp, n_comp)
    j = start + offs
    return line, cat.comp_idx[j], cat.comp_units[j] * qty[line]


def _accept(cat: Catalog, prod, qty, loc, free: np.ndarray) -> np.ndarray:
    """First come, first served: a line is accepted when the running total of the units its
    location × product rows need stays within free stock. Accepted units are taken from
    ``free`` (in place). Lines are in arrival order."""
    n = len(prod)
    if n == 0:
        return np.zeros(0, bool)
    r_line, r_prod, r_units = _explode(cat, prod, qty)
    key = loc[r_line] * cat.n_prod + r_prod
    order = np.argsort(key, kind="stable")
    k_sorted, u_sorted = key[order], r_units[order]
    cum = np.cumsum(u_sorted)
    first = np.r_[True, k_sorted[1:] != k_sorted[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(cum)), 0))
    before = np.where(group_start > 0, cum[group_start - 1], 0)
    ok_sorted = (cum - before) <= free.ravel()[k_sorted]
    bad = np.zeros(len(key), bool)
    bad[order] = ~ok_sorted
    line_ok = np.bincount(r_line[bad], minlength=n) == 0
    take = line_ok[r_line]
    flat = free.ravel()
    flat -= np.bincount(key[take], weights=r_units[take], minlength=flat.size).astype(flat.dtype)
    return line_ok


@dataclass
class _Retailer:
    """What stays fixed for the whole run: calendar, demand drivers, the planners' policy
    inputs and per-location constants. Arrays are indexed as in :class:`Catalog`."""

    cat: Catalog
    cal: dict[str, np.ndarray]  # see demand.calendar: weekday (0 = Monday), dom, month
    rates: dict[str, np.ndarray]  # currency → rate_to_base per day
    season: np.ndarray  # (days, n_prod) yearly demand multiplier
    weekly: np.ndarray  # (n_chan, days) weekday demand multiplier
    promo_lift: np.ndarray  # (days, n_prod) demand multiplier of our promotions
    promo_disc: np.ndarray  # (days, n_prod) discount share of the line price in promotions
    chan_lift: np.ndarray  # (n_chan, days) demand multiplier of channel events
    chan_disc: np.ndarray  # (n_chan, days) discount share of the line price in channel events
    promo_chan: np.ndarray  # (n_chan,) bool: the channel takes part in our promotions
    chan_type: list[str]
    is_store: np.ndarray  # (n_loc,) bool
    wh_idx: np.ndarray  # location indices of the warehouses
    store_idx: np.ndarray  # location indices of the stores
    market_of: dict  # customer markets, see _markets
    erratic_like: np.ndarray  # (n_prod,) bool: erratic or lumpy SKU (bulk lines happen)
    b2b_case: np.ndarray  # (n_prod,) units per B2B case (the case pack, at least 6)
    first_listing: np.ndarray  # (n_chan, n_prod) first row in cat.channel_skus, -1 unlisted
    n_listings: np.ndarray  # (n_chan, n_prod) listing rows per channel × product (0–2)
    lead: np.ndarray  # (n_prod,) lead time planners assume, days
    review: np.ndarray  # (n_prod,) days between the supplier's order days
    disp: np.ndarray  # (n_prod,) variance-to-mean of daily units, as planners guess
    z: np.ndarray  # (n_prod,) safety factor (service targets differ by SKU)
    cover: np.ndarray  # (n_prod,) days of cycle stock per order
    count_period: np.ndarray  # (n_loc,) days between cycle counts of one SKU
    hidden_q: np.ndarray  # (n_loc,) unrecorded loss per count period, share of free units
    shrink_p: np.ndarray  # (n_loc, 1) daily chance of a recorded shrinkage per SKU
    category_ret: np.ndarray  # (n_prod,) return rate of the SKU's category
    listing_days: set[int]  # days whose end-of-day free stock the listing files show

    def reorder_levels(self, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Reorder point s and order-up-to level S (units) for expected daily units ``e``."""
        lr = self.lead + self.review
        s = e * lr + self.z * np.sqrt(e * lr * self.disp)
        s = np.where(e > 0.005, np.maximum(s, 1.0), 0.0)
        return s, s + e * self.cover

    def network_demand(self, est: np.ndarray) -> np.ndarray:
        """Expected units per day each location must cover (n_loc, n_prod): the main
        warehouse adds the stores' demand, as it refills them."""
        e = est.copy()
        if len(self.store_idx):
            e[self.wh_idx[0]] += est[self.store_idx].sum(axis=0)
        return e


@dataclass
class _Books:
    """The state carried from day to day (units are pieces, int64 ``(n_loc, n_prod)`` unless
    said otherwise), the records written so far and the next id of each record kind."""

    stock: np.ndarray  # system on hand
    allocated: np.ndarray  # held for open orders
    reserved: np.ndarray  # quality holds
    on_order: np.ndarray  # ordered from suppliers, not yet received
    ship_ring: np.ndarray  # (RING, n_loc, n_prod) allocation leaving with shipments, by day
    cancel_ring: np.ndarray  # (RING, n_loc, n_prod) allocation released by cancels, by day
    inflow: dict[int, list[tuple]]  # day → (loc, prod, stock+, on_order−)
    est: np.ndarray  # float: planners' expected units per day (prior, then learnt)
    prices: np.ndarray  # (n_chan, n_prod) price list in force, channel currency per unit
    ledger: dict[str, np.ndarray]  # totals for the conservation check (see Simulation)
    hist_stock: np.ndarray  # (days, n_loc, n_prod) int32 system on hand at end of day
    hist_reserved: np.ndarray  # (days, n_loc, n_prod) int32 quality holds at end of day
    truth_demand: np.ndarray  # (days, n_prod) int32 units wanted
    truth_lost: np.ndarray  # (days, n_prod) int32 units lost to stockouts
    free_at_listing: dict[int, np.ndarray] = field(default_factory=dict)
    lines: _Chunks = field(default_factory=_Chunks)
    orders: _Chunks = field(default_factory=_Chunks)
    returns: _Chunks = field(default_factory=_Chunks)
    po_lines: _Chunks = field(default_factory=_Chunks)
    receipts: _Chunks = field(default_factory=_Chunks)
    adjustments: _Chunks = field(default_factory=_Chunks)
    counts: _Chunks = field(default_factory=_Chunks)
    order_seq: int = 0
    line_seq: int = 0
    po_seq: int = 0
    receipt_seq: int = 0
    adj_seq: int = 0
    transfer_seq: int = 0


def simulate(cat: Catalog, rng: np.random.Generator) -> Simulation:
    """Run the retailer for ``cat.days`` days. Deterministic given the generator state.

    The steps draw from ``rng`` in a fixed order (set-up, opening stock, then each day's
    steps 1–7): reordering them changes every file the same seed writes.
    """
    retailer = _set_up_retailer(cat, rng)
    books = _open_books(retailer, rng)
    for d in range(cat.days):
        _run_day(retailer, books, rng, d)
    return _close_books(retailer, books)


def _set_up_retailer(cat: Catalog, rng: np.random.Generator) -> _Retailer:
    """Calendar, FX, demand drivers and policy inputs (draws: FX, promotions, z, cover)."""
    n_prod = cat.n_prod
    cal = calendar(cat.start, cat.days)
    rates = fx_rates(cat, rng, cal["weekday"])
    season = season_matrix(cat, cal)[:, cat.category]  # (days, n_prod)
    weekly = weekly_matrix(cat, cal["weekday"])  # (n_chan, days)
    promo_lift, promo_disc = promotions(cat, rng)
    chan_lift, chan_disc = channel_events(cat, cal)
    is_store = np.array([l.location_type == "store" for l in cat.locations])
    first_listing, n_listings = _listing_rows(cat)
    erratic_like = np.isin(cat.demand_class, (1, 3))
    supplier = np.maximum(cat.supplier, 0)
    return _Retailer(
        cat=cat, cal=cal, rates=rates, season=season, weekly=weekly,
        promo_lift=promo_lift, promo_disc=promo_disc, chan_lift=chan_lift,
        chan_disc=chan_disc, promo_chan=np.array([c.promo for c in cat.channels]),
        chan_type=[c.channel_type for c in cat.channels], is_store=is_store,
        wh_idx=np.flatnonzero(~is_store), store_idx=np.flatnonzero(is_store),
        market_of=_markets(cat), erratic_like=erratic_like,
        b2b_case=np.maximum(cat.case_pack, 6),
        first_listing=first_listing, n_listings=n_listings,
        lead=np.where(np.isnan(cat.lead_time_override), cat.sup_lead_mean[supplier],
                      cat.lead_time_override),
        review=cat.sup_review[supplier],
        disp=np.where(erratic_like, 8.0, 1.3),
        z=rng.uniform(0.8, 1.6, n_prod),
        cover=rng.uniform(10, 45, n_prod),
        count_period=np.array([COUNT_PERIOD[l.location_type] for l in cat.locations]),
        hidden_q=np.array([HIDDEN_LOSS[l.location_type] for l in cat.locations]),
        shrink_p=np.where(is_store, 0.003, 0.0006)[:, None],
        category_ret=np.array([c.return_rate for c in CATEGORIES])[cat.category],
        listing_days=set(range((cat.days - 1) % 7, cat.days, 7)),  # weekly, the last day in
    )


def _listing_rows(cat: Catalog) -> tuple[np.ndarray, np.ndarray]:
    """Per (channel, product): its first row in ``cat.channel_skus`` (-1 when unlisted) and
    how many rows it has; some lines use the second, the row right after the first
    (channel_skus is sorted by channel, product, channel SKU).

    np.unique's return_index is the first occurrence by definition; a fancy-index assignment
    with repeated indices is not (NumPy leaves which write wins unspecified, and it pointed
    some products at their "-V2" row, so "+1" named the next product).
    """
    n_chan, n_prod = len(cat.channels), cat.n_prod
    cs = cat.channel_skus
    key = cs["channel"].to_numpy() * n_prod + cs["product"].to_numpy()
    keys, first_row, count = np.unique(key, return_index=True, return_counts=True)
    first_listing = np.full(n_chan * n_prod, -1, np.int64)
    first_listing[keys] = first_row
    n_listings = np.zeros(n_chan * n_prod, np.int64)
    n_listings[keys] = count
    return first_listing.reshape(n_chan, n_prod), n_listings.reshape(n_chan, n_prod)


def _planners_prior(r: _Retailer) -> np.ndarray:
    """Planners' first guess of units per day per location × product (n_loc, n_prod): the
    line rate × channel share × mean line quantity, split 90/10 over a channel's two
    locations; kits count as their components; times the planner's hidden bias."""
    cat = r.cat
    mean_qty = np.where(r.erratic_like, 0.85 * 1.3 + 0.15 * 11.0, 1.12)  # see demand.py
    prior = np.zeros((cat.n_loc, cat.n_prod))
    for ci, locs in enumerate(cat.chan_locs):
        weights = [1.0] if len(locs) == 1 else [0.9, 0.1]
        q = r.b2b_case * 2.2 if r.chan_type[ci] == "b2b" else mean_qty
        for li, w in zip(locs, weights):
            prior[li] += cat.line_rate * cat.share[ci] * q * w
    # kits consume their components
    for p in np.flatnonzero(cat.is_bundle):
        sl = slice(cat.comp_ptr[p], cat.comp_ptr[p + 1])
        prior[:, cat.comp_idx[sl]] += prior[:, [p]] * cat.comp_units[sl][None, :]
    prior[:, cat.is_bundle] = 0
    return prior * cat.planner_bias[None, :]


def _open_books(r: _Retailer, rng: np.random.Generator) -> _Books:
    """Opening state: stock about half-way between s and S for products already selling
    (one uniform draw per location × product), nothing allocated, held or on order."""
    cat = r.cat
    days, n_loc, n_prod = cat.days, cat.n_loc, cat.n_prod
    est = _planners_prior(r)
    s0, S0 = r.reorder_levels(r.network_demand(est))
    live = (cat.launch_day <= 0) & (cat.discontinue_day > 0)
    stock = np.where(cat.stocked & live, np.round(rng.uniform(s0, S0)), 0).astype(np.int64)
    return _Books(
        stock=stock, allocated=np.zeros_like(stock), reserved=np.zeros_like(stock),
        on_order=np.zeros_like(stock),
        ship_ring=np.zeros((RING, n_loc, n_prod), np.int64),
        cancel_ring=np.zeros((RING, n_loc, n_prod), np.int64),
        inflow=defaultdict(list), est=est, prices=price_table(cat, r.rates, 0),
        ledger={k: np.zeros((n_loc, n_prod), np.int64)
                for k in ("received", "shipped", "returned", "adjusted", "hidden_loss")}
        | {"initial": stock.copy()},
        hist_stock=np.zeros((days, n_loc, n_prod), np.int32),
        hist_reserved=np.zeros((days, n_loc, n_prod), np.int32),
        truth_demand=np.zeros((days, n_prod), np.int32),
        truth_lost=np.zeros((days, n_prod), np.int32),
    )


def _run_day(r: _Retailer, b: _Books, rng: np.random.Generator, d: int) -> None:
    """Day ``d``: steps 1–7 of the module docstring, in the order that fixes the draws."""
    cat, cal = r.cat, r.cal
    wd = cal["weekday"][d]
    if cal["dom"][d] == 1 and cal["month"][d] in (1, 4, 7, 10):
        b.prices = price_table(cat, r.rates, d)  # new quarterly price list
    _receive_goods_in(b, d)
    free_start = b.stock - b.allocated - b.reserved
    selling = (cat.launch_day <= d) & (d < cat.discontinue_day)
    ch, pr, qty = _draw_order_lines(r, rng, d, selling)
    ch, pr, qty, loc = _accept_from_free_stock(r, b, d, ch, pr, qty)
    if len(pr):
        by_chan = np.argsort(ch, kind="stable")  # orders group lines per channel
        ch, pr, qty, loc = ch[by_chan], pr[by_chan], qty[by_chan], loc[by_chan]
        _book_orders(r, b, rng, d, ch, pr, qty, loc)
    _ship_and_release(b, d)
    _record_adjustments(r, b, rng, d)
    s_pt, S_pt = r.reorder_levels(r.network_demand(b.est))
    _move_stock(b, rng, d, _plan_transfers(r, b, wd, selling, s_pt))
    if wd == 0:  # Monday: last week's quality holds end, a few new ones start
        _renew_quality_holds(r, b, rng)
    _raise_purchase_orders(r, b, rng, d, wd, s_pt, S_pt)
    _count_cycle(r, b, rng, d)
    _learn_demand(r, b, d, pr, qty, loc, free_start)
    _close_day(r, b, d)


def _receive_goods_in(b: _Books, d: int) -> None:
    """Step 1: receipts and resellable returns scheduled for day ``d`` enter stock."""
    for loc, prod, add, release in b.inflow.pop(d, []):
        np.add.at(b.stock, (loc, prod), add)
        np.add.at(b.on_order, (loc, prod), -release)


def _draw_order_lines(r: _Retailer, rng: np.random.Generator, d: int,
                      selling: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step 2a: the order lines wanted on day ``d``, in arrival order: channel, product and
    units (pieces).

    Lines per channel × product are Poisson around the SKU's line rate × season × trend ×
    launch ramp (30 % → 100 % over four weeks) × channel share × weekday × promotion and
    channel-event lifts; quantities depend on the demand class, B2B buys whole cases and a
    till sale is mostly one piece.
    """
    cat = r.cat
    n_chan = len(cat.channels)
    ramp = np.clip(0.3 + 0.7 * (d - cat.launch_day) / 28.0, 0.0, 1.0)
    base = (cat.line_rate * r.season[d] * np.exp(cat.trend * d / 365.0) * ramp * selling)
    lift = np.where(r.promo_chan[:, None], r.promo_lift[d][None, :], 1.0)
    lam = base[None, :] * cat.share * r.weekly[:, d][:, None] * lift * r.chan_lift[:, d][:, None]
    counts = rng.poisson(lam)
    ch, pr = np.nonzero(counts)
    reps = counts[ch, pr]
    ch, pr = np.repeat(ch, reps), np.repeat(pr, reps)
    n = len(pr)
    bulk = r.erratic_like[pr] & (rng.random(n) < 0.15)
    qty = np.where(bulk, 3 + rng.geometric(1 / 8.0, n), 1 + rng.poisson(
        np.where(r.erratic_like[pr], 0.3, 0.12)))
    is_b2b = np.array([r.chan_type[c] == "b2b" for c in range(n_chan)])[ch]
    qty = np.where(is_b2b, r.b2b_case[pr] * (1 + rng.poisson(1.2, n)), qty)
    is_pos = np.array([r.chan_type[c] == "pos" for c in range(n_chan)])[ch]
    qty = np.where(is_pos, 1 + rng.poisson(0.1, n), qty).astype(np.int64)
    perm = rng.permutation(n)  # arrival order within the day
    return ch[perm], pr[perm], qty[perm]


def _accept_from_free_stock(r: _Retailer, b: _Books, d: int, ch, pr, qty):
    """Step 2b: a line is served from the channel's priority-1 location, else priority 2,
    when free stock covers it; otherwise the sale is lost (units recorded as truth).
    Returns the accepted lines' channel, product, units and serving location."""
    cat = r.cat
    n_chan = len(cat.channels)
    n = len(pr)
    free = b.stock - b.allocated - b.reserved
    loc = np.array([cat.chan_locs[c][0] for c in range(n_chan)])[ch] if n else ch
    ok = _accept(cat, pr, qty, loc, free)
    second = np.array([cat.chan_locs[c][-1] for c in range(n_chan)])
    retry = np.flatnonzero(~ok & (second[ch] != loc)) if n else np.zeros(0, np.int64)
    if len(retry):
        loc[retry] = second[ch[retry]]
        ok[retry] = _accept(cat, pr[retry], qty[retry], loc[retry], free)
    np.add.at(b.truth_demand[d], pr, qty)
    np.add.at(b.truth_lost[d], pr[~ok], qty[~ok])
    return ch[ok], pr[ok], qty[ok], loc[ok]


def _book_orders(r: _Retailer, b: _Books, rng: np.random.Generator, d: int,
                 ch, pr, qty, loc) -> None:
    """Step 3: accepted lines (grouped by channel, in arrival order) become orders with a
    lifecycle, prices in the channel's currency, an allocation and maybe returns."""
    cat = r.cat
    n = len(pr)
    mean_lines = np.array([c.order_lines_mean for c in cat.channels])[ch]
    # a new order starts with probability 1/mean at each line, and at channel changes
    starts = (rng.random(n) < 1.0 / mean_lines) | np.r_[True, ch[1:] != ch[:-1]]
    order_local = np.cumsum(starts) - 1
    o_chan = ch[starts]
    o = _order_lifecycle(cat, rng, d, o_chan, r.market_of, r.cal["weekday"], r.cal)
    unit_price = b.prices[ch, pr]
    disc_share = np.where(r.promo_chan[ch], np.maximum(r.promo_disc[d, pr], r.chan_disc[ch, d]),
                          0.0)
    discount = np.round(qty * unit_price * disc_share, 2)
    amount = np.round(qty * unit_price - discount, 2)
    listing = r.first_listing[ch, pr] + (
        (r.n_listings[ch, pr] > 1) & (rng.random(n) < 0.3))
    shipping, tax = _shipping_and_tax(cat, o_chan, order_local, amount, o["vat"])
    b.orders.add(chan=o_chan, day=np.full(len(o_chan), d), ordered=o["ordered"],
                 paid=o["paid"], cancelled=o["cancelled"], shipped=o["shipped"],
                 delivered=o["delivered"], promised=o["promised"], customer=o["customer"],
                 carrier=o["carrier"], tracking=o["tracking"], shipping=shipping, tax=tax)
    _allocate_until_shipped(cat, b, d, pr, qty, loc, order_local, o)
    rr = _returns(cat, rng, pr, qty, ch, unit_price, discount, o["delivered"][order_local],
                  loc, r.category_ret, r.wh_idx)
    if rr is not None:
        _book_returns(cat, b, pr, rr)
    b.lines.add(chan=ch, prod=pr, qty=qty, loc=loc, order=b.order_seq + order_local,
                unit_price=unit_price, discount=discount, amount=amount, listing=listing)
    b.order_seq += len(o_chan)
    b.line_seq += n


def _shipping_and_tax(cat: Catalog, o_chan, order_local, amount, vat):
    """Per order, in the channel's currency: the shipping fee, charged below the currency's
    free-shipping threshold (never at the till or to B2B), and the VAT inside gross +
    shipping (``vat`` a rate per order), rounded to cents."""
    gross = np.bincount(order_local, weights=amount, minlength=len(o_chan))
    o_cur_thresh = np.array([{"EUR": 49.0, "GBP": 40.0, "USD": 60.0}[c.currency]
                             for c in cat.channels])[o_chan]
    fee = np.array([{"EUR": 4.95, "GBP": 3.99, "USD": 14.0}[c.currency]
                    for c in cat.channels])[o_chan]
    no_fee = np.array([c.channel_type in ("pos", "b2b") for c in cat.channels])[o_chan]
    shipping = np.where((gross >= o_cur_thresh) | no_fee, 0.0, fee)
    tax = np.round((gross + shipping) * vat / (1 + vat), 2)
    return shipping, tax


def _allocate_until_shipped(cat: Catalog, b: _Books, d: int, pr, qty, loc, order_local,
                            o: dict[str, np.ndarray]) -> None:
    """Hold the lines' component units (allocation) until their order ships or is cancelled:
    the release is booked in the ring slot of that day."""
    r_line, r_prod, r_units = _explode(cat, pr, qty)
    r_loc = loc[r_line]
    np.add.at(b.allocated, (r_loc, r_prod), r_units)
    o_ship_day = np.where(o["shipped"] >= 0, o["shipped"] // DAY, -1)
    o_cancel_day = np.where(o["cancelled"] >= 0, o["cancelled"] // DAY, -1)
    r_order = order_local[r_line]
    ship_d = o_ship_day[r_order]
    canc_d = o_cancel_day[r_order]
    assert (np.maximum(ship_d, canc_d) - d < RING).all()
    sm = ship_d >= 0
    np.add.at(b.ship_ring, (ship_d[sm] % RING, r_loc[sm], r_prod[sm]), r_units[sm])
    cm = canc_d >= 0
    np.add.at(b.cancel_ring, (canc_d[cm] % RING, r_loc[cm], r_prod[cm]), r_units[cm])


def _book_returns(cat: Catalog, b: _Books, pr, rr: dict[str, np.ndarray]) -> None:
    """Record the day's returns; resellable units re-enter stock on the day they arrive."""
    idx = rr.pop("line")
    b.returns.add(line=b.line_seq + idx, **rr)
    back = rr["condition"] == 0
    for rd in np.unique(rr["received"][back] // DAY):
        sel = back & (rr["received"] // DAY == rd)
        b_line, b_prod, b_units = _explode(cat, pr[idx[sel]], rr["qty"][sel])
        b_loc = rr["loc"][sel][b_line]
        b.inflow[int(rd)].append((b_loc, b_prod, b_units, np.zeros_like(b_units)))
        if rd < cat.days:
            np.add.at(b.ledger["returned"], (b_loc, b_prod), b_units)


def _ship_and_release(b: _Books, d: int) -> None:
    """Step 4: shipments due today leave stock; they and today's cancellations release
    their allocation."""
    slot = d % RING
    out = b.ship_ring[slot]
    b.stock -= out
    b.allocated -= out + b.cancel_ring[slot]
    b.ledger["shipped"] += out
    b.ship_ring[slot] = 0
    b.cancel_ring[slot] = 0


def _record_adjustments(r: _Retailer, b: _Books, rng: np.random.Generator, d: int) -> None:
    """Step 5a: recorded shrinkage, damage, found units and count corrections (1–2 units)."""
    cat = r.cat
    free = b.stock - b.allocated - b.reserved
    u = rng.random((cat.n_loc, cat.n_prod))
    has = cat.stocked & (free > 0)
    reason = np.full((cat.n_loc, cat.n_prod), -1)
    reason[has & (u < r.shrink_p)] = 0
    reason[has & (u >= r.shrink_p) & (u < r.shrink_p + 0.0005)] = 1
    reason[cat.stocked & (u >= 0.995) & (u < 0.9952)] = 2
    reason[has & (u >= 0.9990) & (u < 0.9992)] = 3
    al, ap = np.nonzero(reason >= 0)
    if not len(al):
        return
    rs = reason[al, ap]
    mag = 1 + (rng.random(len(al)) < 0.3)
    sign = np.where(rs == 2, 1, np.where(rs == 3, rng.choice([-1, 1], len(al)), -1))
    q = np.where(sign < 0, -np.minimum(mag, free[al, ap]), mag)
    keep = q != 0
    al, ap, rs, q = al[keep], ap[keep], rs[keep], q[keep]
    b.stock[al, ap] += q
    b.ledger["adjusted"][al, ap] += q
    t = d * DAY + rng.integers(7 * HOUR, 18 * HOUR, len(al))
    b.adjustments.add(loc=al, prod=ap, qty=q, reason=rs, ref=np.full(len(al), -1), at=t,
                      id=b.adj_seq + np.arange(len(al)))
    b.adj_seq += len(al)


def _plan_transfers(r: _Retailer, b: _Books, wd: int, selling: np.ndarray,
                    s_pt: np.ndarray) -> list[tuple]:
    """Step 5b: (from location, to location, units per product) moves of the day: the
    Tuesday truck refills the store to three weeks of expected sales from the main
    warehouse; on Thursdays a warehouse out of free stock takes half the excess over the
    reorder point ``s_pt`` of the warehouse with most (at most its own reorder point)."""
    cat, est, wh_idx, store_idx = r.cat, b.est, r.wh_idx, r.store_idx
    stock, allocated, reserved = b.stock, b.allocated, b.reserved
    transfers = []
    if len(store_idx) and wd == 1:  # Tuesday truck from the main warehouse to the store
        st, src = store_idx[0], wh_idx[0]
        need = cat.stocked[st] & ((stock[st] - allocated[st]) < est[st] * 7 + 1) & selling
        want = np.ceil(est[st] * 21 + 2 - (stock[st] - allocated[st])).astype(np.int64)
        avail = stock[src] - allocated[src] - reserved[src]
        q = np.where(need, np.clip(want, 0, np.maximum(avail, 0)), 0)
        transfers.append((src, st, q))
    if len(wh_idx) > 1 and wd == 3:  # Thursday rebalancing between warehouses
        prod_ar = np.arange(cat.n_prod)
        freew = (stock - allocated - reserved)[wh_idx].astype(float)
        excess = np.where(cat.stocked[wh_idx], freew - s_pt[wh_idx], -np.inf)
        short = np.where(cat.stocked[wh_idx] & (est[wh_idx] > 0.1), freew, np.inf)
        donor = np.argmax(excess, axis=0)
        recip = np.argmin(short, axis=0)
        ex = excess[donor, prod_ar]
        q = np.where((short[recip, prod_ar] <= 0) & (donor != recip) & (ex >= 2),
                     np.minimum(np.floor(np.where(np.isfinite(ex), ex, 0) / 2),
                                np.ceil(np.maximum(s_pt[wh_idx][recip, prod_ar], 1))),
                     0).astype(np.int64)
        for a in range(len(wh_idx)):
            for c in range(len(wh_idx)):
                if a != c:
                    transfers.append((wh_idx[a], wh_idx[c],
                                      np.where((donor == a) & (recip == c), q, 0)))
    return transfers


def _move_stock(b: _Books, rng: np.random.Generator, d: int,
                transfers: list[tuple]) -> None:
    """Step 5c: book each transfer as a transfer_out at 07:xx and a transfer_in eight hours
    later, both under one transfer reference."""
    for src, dst, q in transfers:
        tp = np.flatnonzero(q > 0)
        if not len(tp):
            continue
        k = len(tp)
        ref = b.transfer_seq + np.arange(k)
        b.transfer_seq += k
        b.stock[src, tp] -= q[tp]
        b.stock[dst, tp] += q[tp]
        b.ledger["adjusted"][src, tp] -= q[tp]
        b.ledger["adjusted"][dst, tp] += q[tp]
        t_out = d * DAY + 7 * HOUR + rng.integers(0, HOUR, k)
        b.adjustments.add(loc=np.full(k, src), prod=tp, qty=-q[tp], reason=np.full(k, 5),
                          ref=ref, at=t_out, id=b.adj_seq + np.arange(k))
        b.adjustments.add(loc=np.full(k, dst), prod=tp, qty=q[tp], reason=np.full(k, 4),
                          ref=ref, at=t_out + 8 * HOUR, id=b.adj_seq + k + np.arange(k))
        b.adj_seq += 2 * k


def _renew_quality_holds(r: _Retailer, b: _Books, rng: np.random.Generator) -> None:
    """Step 5d (Mondays): holds end; ~1.5 % of warehouse SKUs get 1–5 units on hold."""
    cat = r.cat
    b.reserved[:] = 0
    hold = cat.stocked & (rng.random((cat.n_loc, cat.n_prod)) < 0.015) & ~r.is_store[:, None]
    free = b.stock - b.allocated
    b.reserved[hold] = np.minimum(free[hold], rng.integers(1, 6, hold.sum()))


def _raise_purchase_orders(r: _Retailer, b: _Books, rng: np.random.Generator, d: int, wd: int,
                           s_pt: np.ndarray, S_pt: np.ndarray) -> None:
    """Step 6: on a supplier's order days (biweekly ones on even weeks) each warehouse SKU
    whose inventory position (on hand + on order − allocated) is at or below s orders up
    to S (units)."""
    cat = r.cat
    week = d // 7
    sup_today = cat.sup_weekdays[:, wd] & ((cat.sup_review < 14) | (week % 2 == 0))
    prod_ok = (~cat.is_bundle & sup_today[np.maximum(cat.supplier, 0)]
               & (d >= cat.launch_day - r.lead - 10)
               & (d < cat.discontinue_day - r.lead - 30))
    if not prod_ok.any():
        return
    ip = b.stock + b.on_order - b.allocated
    trig = cat.stocked & prod_ok[None, :] & ~r.is_store[:, None] & (ip <= s_pt)
    trig &= (S_pt - ip) > 0
    tl, tp = np.nonzero(trig)
    if len(tl):
        _purchase(r, b, rng, d, tl, tp, S_pt[tl, tp] - ip[tl, tp])


def _count_cycle(r: _Retailer, b: _Books, rng: np.random.Generator, d: int) -> None:
    """Step 7: cycle counts; unrecorded shrinkage surfaces (it leaves stock), and the
    reported count itself is off by 1–2 units in 3 % of counts."""
    cat = r.cat
    counted = cat.stocked & (((np.arange(cat.n_prod)[None, :]
                               + 3 * np.arange(cat.n_loc)[:, None] + d)
                              % r.count_period[:, None]) == 0)
    free = b.stock - b.allocated - b.reserved
    cl, cp = np.nonzero(counted)
    if not len(cl):
        return
    loss = rng.binomial(np.maximum(free[cl, cp], 0), r.hidden_q[cl])
    b.stock[cl, cp] -= loss
    b.ledger["hidden_loss"][cl, cp] += loss
    noise = np.where(rng.random(len(cl)) < 0.03, rng.choice([-2, -1, 1, 2], len(cl)), 0)
    reported = np.maximum(b.stock[cl, cp] + noise, 0)
    b.counts.add(cday=np.full(len(cl), d), cloc=cl, cprod=cp, cqty=reported)


def _learn_demand(r: _Retailer, b: _Books, d: int, pr, qty, loc, free_start) -> None:
    """Planners' estimate: an EWMA (span ~35 days) of accepted units per location, updated
    only on days the SKU was launched and had free stock there at the start of the day."""
    cat = r.cat
    sold = np.zeros((cat.n_loc, cat.n_prod))
    if len(pr):
        r_line, r_prod, r_units = _explode(cat, pr, qty)
        np.add.at(sold, (loc[r_line], r_prod), r_units)
    learn = (free_start > 0) & (d >= cat.launch_day)[None, :]
    b.est = np.where(learn, b.est + (sold - b.est) / 35.0, b.est)


def _close_day(r: _Retailer, b: _Books, d: int) -> None:
    """Record the end-of-day stock and holds (and, on listing days, free units)."""
    assert (b.stock >= b.allocated).all() and (b.allocated >= 0).all()
    b.hist_stock[d] = b.stock
    b.hist_reserved[d] = b.reserved
    if d in r.listing_days:
        b.free_at_listing[d] = np.maximum(b.stock - b.allocated - b.reserved, 0).astype(np.int32)


def _close_books(r: _Retailer, b: _Books) -> Simulation:
    """The records as arrays of equal length per table (see Simulation)."""
    b.ledger["final"] = b.stock.copy()
    i64 = np.int64
    return Simulation(
        cat=r.cat, rates=r.rates,
        lines=b.lines.build({"chan": i64, "prod": i64, "qty": i64, "loc": i64, "order": i64,
                             "unit_price": float, "discount": float, "amount": float,
                             "listing": i64}),
        orders=b.orders.build({"chan": i64, "day": i64, "ordered": i64, "paid": i64,
                               "cancelled": i64, "shipped": i64, "delivered": i64,
                               "promised": i64, "customer": i64, "carrier": i64,
                               "tracking": i64, "shipping": float, "tax": float}),
        returns=b.returns.build({"line": i64, "qty": i64, "reason": i64, "condition": i64,
                                 "requested": i64, "received": i64, "loc": i64,
                                 "refund": float}),
        po_lines=b.po_lines.build({"po": i64, "sup": i64, "prod": i64, "loc": i64,
                                   "qty": i64, "cost": float, "ordered": i64,
                                   "expected_day": i64, "status": i64, "closed": i64}),
        receipts=b.receipts.build({"receipt": i64, "po_line": i64, "qty": i64, "at": i64}),
        adjustments=b.adjustments.build({"loc": i64, "prod": i64, "qty": i64, "reason": i64,
                                         "ref": i64, "at": i64, "id": i64}),
        stock=b.hist_stock, reserved=b.hist_reserved,
        counts=b.counts.build({"cday": i64, "cloc": i64, "cprod": i64, "cqty": i64}),
        free_at_listing=b.free_at_listing, truth_demand=b.truth_demand,
        truth_lost=b.truth_lost, ledger=b.ledger,
    )


def _markets(cat: Catalog) -> dict:
    """Customer markets: pool size per market and, per channel, market shares.

    Pool sizes scale with the expected number of orders (about one customer per three
    orders, capped) so repeat buyers exist at every scale.
    """
    orders = cat.line_rate.sum() * cat.days / 1.5
    total = int(np.clip(orders / 3.0, 2_000, 400_000))
    weight: dict[str, float] = {}
    for c in cat.channels:
        if c.channel_type == "b2b":
            continue
        for m, w in c.markets:
            weight[m] = weight.get(m, 0.0) + c.weight * w
    norm = sum(weight.values())
    sizes = {m: max(200, int(total * w / norm)) for m, w in weight.items()}
    sizes["B2B"] = int(np.clip(cat.n_prod / 5, 40, 400))
    offset, acc = {}, 0
    for m, k in sizes.items():
        offset[m] = acc
        acc += k
    chan = []
    for c in cat.channels:
        mk = ["B2B"] if c.channel_type == "b2b" else [m for m, _ in c.markets]
        pw = np.array([1.0]) if c.channel_type == "b2b" else np.array([w for _, w in c.markets])
        chan.append((mk, pw / pw.sum()))
    return {"sizes": sizes, "offset": offset, "channel": chan}


def _next_weekday(day: np.ndarray, weekday0: int, closed: tuple[int, ...]) -> np.ndarray:
    """Move days falling on a closed weekday to the next open day (0 = Monday)."""
    day = day.copy()
    for _ in range(3):
        wd = (weekday0 + day) % 7
        day = np.where(np.isin(wd, closed), day + 1, day)
    return day


def _order_lifecycle(cat, rng, d, o_chan, market_of, weekday, cal) -> dict[str, np.ndarray]:
    """Times (seconds since start, −1 = never) and attributes of the day's new orders."""
    n = len(o_chan)
    spec = cat.channels
    ctype = np.array([c.channel_type for c in spec])[o_chan]
    pos = ctype == "pos"
    b2b = ctype == "b2b"
    wd0 = int(weekday[0])
    # time of day (UTC): evening peak for consumers, shop hours for stores, office for B2B
    shift = np.array([c.hour_shift for c in spec])[o_chan]
    hour = np.where(pos, rng.uniform(8, 19, n),
                    np.where(b2b, rng.uniform(6, 16, n), rng.normal(18.5, 4.0, n) + shift))
    ordered = d * DAY + (np.mod(hour, 24) * HOUR).astype(np.int64)
    customer, ship_country = _pick_customers(spec, rng, o_chan, market_of)
    vat = np.array([VAT.get(c, 0.19) for c in ship_country])
    # payment and cancellation
    paid_p = np.array([c.paid_prob for c in spec])[o_chan]
    pay_max = np.array([c.pay_delay_max for c in spec])[o_chan]
    will_pay = rng.random(n) < paid_p
    late_pay = (pay_max > 0) & (rng.random(n) < 0.3)
    pay_delay = np.where(late_pay, rng.uniform(0, 1, n) * pay_max * DAY,
                         rng.uniform(5, 1200, n)).astype(np.int64)
    paid = np.where(will_pay, ordered + np.where(pos, 0, pay_delay), -1)
    # ship day: channel's usual delay; same day only before the 13:00 UTC cut-off; late
    # shipments beyond the promise, more of them in the Christmas peak; no Sunday shipping
    lo = np.array([c.ship_delay[0] for c in spec])[o_chan]
    hi = np.array([c.ship_delay[1] for c in spec])[o_chan]
    handling = np.array([c.handling_days for c in spec])[o_chan]
    delay = lo + (rng.random(n) * (hi - lo + 1)).astype(np.int64)
    delay = np.where((delay == 0) & (hour % 24 >= 13) & ~pos, 1, delay)
    peak = (cal["month"][d] == 12 and cal["dom"][d] <= 22) or (
        cal["month"][d] == 11 and cal["dom"][d] >= 25)
    late_p = np.array([c.late_ship_prob for c in spec])[o_chan] * (3.0 if peak else 1.0)
    late = ~pos & (rng.random(n) < late_p)
    delay = np.where(late, handling + rng.integers(1, 4, n), delay)
    ship_day = np.maximum(d + delay, np.where(will_pay, paid // DAY, d))
    ship_day = np.where(pos, d, _next_weekday(ship_day, wd0, (6,)))
    ship_t = ship_day * DAY + rng.integers(14 * HOUR, 19 * HOUR, n)
    ship_t = np.where(pos, ordered, np.maximum(ship_t, np.where(will_pay, paid, ordered) + HOUR))
    cancel_p = np.array([c.cancel_prob for c in spec])[o_chan]
    cust_cancel = will_pay & (rng.random(n) < cancel_p) & ~pos
    cancelled = np.where(
        ~will_pay, ordered + 4 * DAY + rng.integers(0, 12 * HOUR, n),
        np.where(cust_cancel, ordered + (rng.random(n) * (ship_t - ordered)).astype(np.int64), -1))
    shipped = np.where(cancelled >= 0, -1, ship_t)
    # carrier by destination; transit days; a few parcels are lost and never delivered
    carrier = _pick_carriers(rng, ship_country, b2b, pos)
    t_lo = np.array([c.transit[0] for c in CARRIERS] + [0])[carrier]
    t_hi = np.array([c.transit[1] for c in CARRIERS] + [0])[carrier]
    transit = t_lo + (rng.random(n) * (t_hi - t_lo + 1)).astype(np.int64)
    deliver_day = _next_weekday(ship_day + np.maximum(transit, 1), wd0, (6,))
    delivered = np.where(pos, ordered, deliver_day * DAY + rng.integers(8 * HOUR, 18 * HOUR, n))
    lost = rng.random(n) < 0.003
    delivered = np.where((shipped < 0) | (lost & ~pos), -1, delivered)
    promised = np.where(pos, ordered, (d + handling) * DAY + DAY - 1)
    digits = np.array([c.digits for c in CARRIERS] + [1])[carrier]
    tracking = (rng.random(n) * (10.0 ** np.minimum(digits, 18))).astype(np.int64)
    return {"ordered": ordered, "paid": paid, "cancelled": cancelled, "shipped": shipped,
            "delivered": delivered, "promised": promised, "customer": customer,
            "carrier": carrier, "tracking": tracking, "vat": vat}


def _pick_customers(spec, rng: np.random.Generator, o_chan, market_of):
    """Per order: the customer (index into the customer pool, −1 = anonymous) and the ship
    country. A market by the channel's shares, then a skewed pick within it so some
    customers buy again and again; most till customers stay anonymous."""
    n = len(o_chan)
    customer = np.full(n, -1, np.int64)
    ship_country = np.full(n, "DE", dtype=object)
    for ci, (mk, pw) in enumerate(market_of["channel"]):
        sel = np.flatnonzero(o_chan == ci)
        if not len(sel):
            continue
        m = rng.choice(len(mk), len(sel), p=pw)
        size = np.array([market_of["sizes"][x] for x in mk])[m]
        off = np.array([market_of["offset"][x] for x in mk])[m]
        customer[sel] = off + (size * rng.random(len(sel)) ** 2).astype(np.int64)
        ship_country[sel] = np.array(["DE" if x == "B2B" else x for x in mk], dtype=object)[m]
        if spec[ci].channel_type == "pos":  # most till customers stay anonymous
            customer[sel[rng.random(len(sel)) < 0.75]] = -1
    return customer, ship_country


def _pick_carriers(rng: np.random.Generator, ship_country, b2b, pos) -> np.ndarray:
    """Per order: the carrier (index into CARRIERS, −1 at the till), drawn by destination
    group (B2B freight, GB/IE, US/CA, NL, the rest of the EU) with DESTINATION_CARRIERS'
    weights."""
    group = np.where(b2b, "b2b", np.where(np.isin(ship_country, ("GB", "IE")), "gb",
                     np.where(np.isin(ship_country, ("US", "CA")), "intl",
                              np.where(ship_country == "NL", "nl", "domestic_eu"))))
    carrier = np.full(len(ship_country), -1, np.int64)
    for g, options in DESTINATION_CARRIERS.items():
        sel = np.flatnonzero(group == g)
        if len(sel):
            w = np.array([x[1] for x in options])
            pick = rng.choice(len(options), len(sel), p=w / w.sum())
            carrier[sel] = np.array([CARRIER_INDEX[x[0]] for x in options])[pick]
    carrier[pos] = -1
    return carrier


def _returns(cat, rng, pr, qty, ch, unit_price, discount, delivered, loc, category_ret,
             wh_idx):
    """Returns (RMA) of delivered lines, or None. Times in seconds since start."""
    factor = np.array([c.return_factor for c in cat.channels])[ch]
    p = category_ret[pr] * factor
    ret = np.flatnonzero((delivered >= 0) & (rng.random(len(pr)) < p))
    k = len(ret)
    if not k:
        return None
    cat_of = cat.category[pr[ret]]
    reason_p = np.zeros((len(CATEGORIES), len(REASONS)))
    for i, c in enumerate(CATEGORIES):
        for r, w in c.reasons:
            reason_p[i, REASONS.index(r)] = w
    reason_p /= reason_p.sum(axis=1, keepdims=True)
    reason = (rng.random(k)[:, None] > np.cumsum(reason_p[cat_of], axis=1)).sum(axis=1)
    reason = np.minimum(reason, len(REASONS) - 1)
    cond_p = np.cumsum(np.array([RETURN_CONDITION[r] for r in REASONS]), axis=1)[reason]
    condition = np.minimum((rng.random(k)[:, None] > cond_p).sum(axis=1), 3)
    q = qty[ret]
    rq = np.where((q > 1) & (rng.random(k) < 0.3), 1 + (rng.random(k) * q).astype(np.int64), q)
    rq = np.minimum(rq, q)
    pos = np.array([c.channel_type == "pos" for c in cat.channels])[ch[ret]]
    b2b = np.array([c.channel_type == "b2b" for c in cat.channels])[ch[ret]]
    requested = np.where(
        pos, delivered[ret] + rng.integers(1, 15, k) * DAY,
        delivered[ret] + rng.integers(1, 22, k) * DAY + rng.integers(0, 8, k) * HOUR)
    received = np.where(pos, requested, requested + rng.integers(2, 11, k) * DAY)
    received = np.where(condition == 3, -1, received)  # the parcel never came back
    rloc = np.where(pos | (rng.random(k) < 0.85), loc[ret], wh_idx[0])
    rloc = np.where(condition == 3, -1, rloc)
    net_unit = unit_price[ret] - discount[ret] / q
    fee = np.where(b2b & (reason == REASONS.index("changed mind")), 0.85, 1.0)
    refund = np.round(rq * net_unit * fee, 2)
    return {"line": ret, "qty": rq, "reason": reason, "condition": condition,
            "requested": requested, "received": received, "loc": rloc, "refund": refund}


def _purchase(r: _Retailer, b: _Books, rng: np.random.Generator, d: int, tl, tp,
              need) -> None:
    """Raise purchase orders for the triggered (location, product) pairs (``need``: units
    up to S).

    One PO per supplier × location × day. Quantities round up to the case pack and the MOQ;
    a PO below the supplier's minimum order value is scaled up (at most 4×). Each PO draws
    its lead time from the supplier's distribution (gamma, mean and sd from master data);
    some arrive late, some short, some in two deliveries, a few are cancelled.
    """
    cat = r.cat
    qty, po_local, po_sup = _order_quantities(cat, tl, tp, need)
    v = _draw_deliveries(r, rng, d, tp, qty, po_local, po_sup)
    ids = b.po_lines.counter + np.arange(len(tp))  # global PO line index (receipts point at it)
    b.po_lines.counter += len(tp)
    _book_receipts(b, po_local, ids, v)
    # closing: a line closes with its last delivery (or its cancellation)
    cancelled = v["cancelled"]
    last_t = np.where(v["second"] > 0, v["t2"], v["t1"])
    status = np.where(cancelled, 2, 1)
    closed = np.where(cancelled, v["cancel_day"] * DAY + 10 * HOUR, last_t)
    expected = d + np.round(r.lead[tp]).astype(np.int64)
    b.po_lines.add(po=b.po_seq + po_local, sup=cat.supplier[tp], prod=tp, loc=tl, qty=qty,
                   cost=cat.unit_cost[tp], ordered=v["ordered"], expected_day=expected,
                   status=status, closed=closed)
    b.po_seq += len(po_sup)
    _schedule_deliveries(b, cat.days, tl, tp, qty, v)


def _order_quantities(cat: Catalog, tl, tp, need):
    """Units per PO line: ``need`` rounded up to the case pack and the MOQ, then scaled up
    (whole cases, at most 4×) when the PO's value is below the supplier's minimum order
    value. Returns the units, each line's PO (0 … n_po − 1) and each PO's supplier."""
    case = cat.case_pack[tp]
    qty = np.maximum(np.ceil(need / case) * case, cat.moq[tp]).astype(np.int64)
    key = cat.supplier[tp] * cat.n_loc + tl
    ukeys, po_local = np.unique(key, return_inverse=True)
    value = np.bincount(po_local, weights=qty * cat.unit_cost[tp], minlength=len(ukeys))
    po_sup = ukeys // cat.n_loc
    factor = np.clip(cat.sup_mov[po_sup] / np.maximum(value, 1e-9), 1.0, 4.0)
    qty = (np.ceil(qty * factor[po_local] / case) * case).astype(np.int64)
    return qty, po_local, po_sup


def _draw_deliveries(r: _Retailer, rng: np.random.Generator, d: int, tp, qty, po_local,
                     po_sup) -> dict[str, np.ndarray]:
    """Per PO line: its PO's order time, its first and second delivery (day, time in
    seconds, units; no second delivery: 0 units), whether it is cancelled and on which day.
    Deliveries come on weekdays; short deliveries and splits keep whole cases."""
    cat = r.cat
    wd0 = int(r.cal["weekday"][0])
    n_po, k = len(po_sup), len(tp)
    case = cat.case_pack[tp]
    ordered = d * DAY + 9 * HOUR + rng.integers(0, 3 * HOUR, n_po)
    mean, sd = cat.sup_lead_mean[po_sup], np.maximum(cat.sup_lead_sd[po_sup], 0.1)
    po_lead = rng.gamma((mean / sd) ** 2, sd ** 2 / mean)
    late = rng.random(n_po) < cat.sup_late_prob[po_sup]
    po_lead = po_lead + late * rng.integers(3, 22, n_po)
    short_po = rng.random(n_po) < cat.sup_short_prob[po_sup]
    split_po = rng.random(n_po) < 0.08
    cancel_po = rng.random(n_po) < 0.01
    # SKU lead-time overrides (made to order) shift that line's arrival
    line_lead = po_lead[po_local] + np.where(np.isnan(cat.lead_time_override[tp]), 0.0,
                                             cat.lead_time_override[tp] - mean[po_local])
    arrive = _next_weekday(d + np.ceil(np.maximum(line_lead, 1)).astype(np.int64), wd0, (5, 6))
    short = short_po[po_local] & (rng.random(k) < 0.6)
    received = np.where(short, (np.floor(qty * rng.uniform(0.5, 0.95, k) / case) * case),
                        qty).astype(np.int64)
    split = split_po[po_local] & (received >= 2 * case)
    first = np.where(split, np.floor(received * rng.uniform(0.3, 0.7, k) / case) * case,
                     received).astype(np.int64)
    arrive2 = _next_weekday(arrive + rng.integers(3, 15, k), wd0, (5, 6))
    cancel_day = d + rng.integers(5, 21, k)
    return {"ordered": ordered[po_local], "arrive": arrive, "arrive2": arrive2,
            "first": first, "second": received - first, "cancelled": cancel_po[po_local],
            "cancel_day": cancel_day,
            "t1": arrive * DAY + 6 * HOUR + rng.integers(0, 9 * HOUR, k),
            "t2": arrive2 * DAY + 6 * HOUR + rng.integers(0, 9 * HOUR, k)}


def _book_receipts(b: _Books, po_local, ids, v: dict[str, np.ndarray]) -> None:
    """Receipt rows of the deliveries that happen: one receipt id per PO and delivery day,
    shared by its lines at the earliest of their times."""
    lines = np.arange(len(po_local))
    ev_po = np.r_[po_local, po_local]
    ev_day = np.r_[v["arrive"], v["arrive2"]]
    ev_qty = np.r_[v["first"], v["second"]]
    ev_t = np.r_[v["t1"], v["t2"]]
    ev_line = np.r_[lines, lines]
    keep = (ev_qty > 0) & ~np.r_[v["cancelled"], v["cancelled"]]
    ev_po, ev_day, ev_qty, ev_t, ev_line = (a[keep] for a in (ev_po, ev_day, ev_qty, ev_t, ev_line))
    rkey = ev_po * 100_000 + ev_day
    ur, rinv = np.unique(rkey, return_inverse=True)
    first_t = np.full(len(ur), np.iinfo(np.int64).max)
    np.minimum.at(first_t, rinv, ev_t)
    b.receipts.add(receipt=b.receipt_seq + rinv, po_line=ids[ev_line], qty=ev_qty,
                   at=first_t[rinv])
    b.receipt_seq += len(ur)


def _schedule_deliveries(b: _Books, days: int, tl, tp, qty, v: dict[str, np.ndarray]) -> None:
    """Units go on order now; each delivery adds stock and releases on-order units on its
    day, a cancellation releases them on its day (units; ledger counts receipts in the run)."""
    cancelled, first, second = v["cancelled"], v["first"], v["second"]
    np.add.at(b.on_order, (tl, tp), qty)
    for day, q_add, release in ((v["arrive"], np.where(cancelled, 0, first),
                                 np.where(cancelled, 0, np.where(second > 0, first, qty))),
                                (v["arrive2"], np.where(cancelled, 0, second),
                                 np.where(cancelled | (second == 0), 0, qty - first)),
                                (v["cancel_day"], np.zeros_like(qty),
                                 np.where(cancelled, qty, 0))):
        for dd in np.unique(day):
            sel = (day == dd) & ((q_add > 0) | (release > 0))
            if sel.any():
                b.inflow[int(dd)].append((tl[sel], tp[sel], q_add[sel], release[sel]))
                if dd < days:
                    np.add.at(b.ledger["received"], (tl[sel], tp[sel]), q_add[sel])
