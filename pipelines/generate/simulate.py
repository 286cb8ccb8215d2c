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


def simulate(cat: Catalog, rng: np.random.Generator) -> Simulation:
    """Run the retailer for ``cat.days`` days. Deterministic given the generator state."""
    days, n_prod, n_loc, n_chan = cat.days, cat.n_prod, cat.n_loc, len(cat.channels)
    cal = calendar(cat.start, days)
    weekday = cal["weekday"]
    rates = fx_rates(cat, rng, weekday)
    season = season_matrix(cat, cal)[:, cat.category]  # (days, n_prod)
    weekly = weekly_matrix(cat, weekday)  # (n_chan, days)
    promo_lift, promo_disc = promotions(cat, rng)
    chan_lift, chan_disc = channel_events(cat, cal)
    promo_chan = np.array([c.promo for c in cat.channels])
    is_store = np.array([l.location_type == "store" for l in cat.locations])
    wh_idx = np.flatnonzero(~is_store)
    store_idx = np.flatnonzero(is_store)
    market_of = _markets(cat)

    # quantities per line: class-specific (see demand.py)
    erratic_like = np.isin(cat.demand_class, (1, 3))
    chan_type = [c.channel_type for c in cat.channels]
    mean_qty = np.where(erratic_like, 0.85 * 1.3 + 0.15 * 11.0, 1.12)
    b2b_case = np.maximum(cat.case_pack, 6)

    # channel SKU per (channel, product): the first listing row; some lines use the second,
    # the row right after it (channel_skus is sorted by channel, product, channel SKU).
    # np.unique's return_index is the first occurrence by definition; a fancy-index
    # assignment with repeated indices is not (NumPy leaves which write wins unspecified,
    # and it pointed some products at their "-V2" row, so "+1" named the next product).
    cs = cat.channel_skus
    key = cs["channel"].to_numpy() * n_prod + cs["product"].to_numpy()
    keys, first_row, count = np.unique(key, return_index=True, return_counts=True)
    first_listing = np.full(n_chan * n_prod, -1, np.int64)
    first_listing[keys] = first_row
    first_listing = first_listing.reshape(n_chan, n_prod)
    n_listings = np.zeros(n_chan * n_prod, np.int64)
    n_listings[keys] = count
    n_listings = n_listings.reshape(n_chan, n_prod)

    # -- planner's view: expected units per day per location (prior, then learnt) ---------
    prior = np.zeros((n_loc, n_prod))
    for ci, locs in enumerate(cat.chan_locs):
        weights = [1.0] if len(locs) == 1 else [0.9, 0.1]
        q = b2b_case * 2.2 if chan_type[ci] == "b2b" else mean_qty
        for li, w in zip(locs, weights):
            prior[li] += cat.line_rate * cat.share[ci] * q * w
    # kits consume their components
    bundles = np.flatnonzero(cat.is_bundle)
    for p in bundles:
        sl = slice(cat.comp_ptr[p], cat.comp_ptr[p + 1])
        prior[:, cat.comp_idx[sl]] += prior[:, [p]] * cat.comp_units[sl][None, :]
    prior[:, cat.is_bundle] = 0
    est = prior * cat.planner_bias[None, :]
    lead = np.where(np.isnan(cat.lead_time_override),
                    cat.sup_lead_mean[np.maximum(cat.supplier, 0)], cat.lead_time_override)
    review = cat.sup_review[np.maximum(cat.supplier, 0)]
    disp = np.where(erratic_like, 8.0, 1.3)  # variance-to-mean of daily units, as planners guess
    z = rng.uniform(0.8, 1.6, n_prod)  # service targets differ by SKU
    cover = rng.uniform(10, 45, n_prod)  # days of cycle stock per order

    def policy(e: np.ndarray):
        """Reorder point s and order-up-to S (units) for expected daily units ``e``."""
        lr = lead + review
        s = e * lr + z * np.sqrt(e * lr * disp)
        s = np.where(e > 0.005, np.maximum(s, 1.0), 0.0)
        return s, s + e * cover

    # -- initial stock: about half-way between s and S for products already selling -------
    stock = np.zeros((n_loc, n_prod), np.int64)
    e0 = est.copy()
    e0[wh_idx[0]] += est[store_idx].sum(axis=0) if len(store_idx) else 0
    s0, S0 = policy(e0)
    live = (cat.launch_day <= 0) & (cat.discontinue_day > 0)
    stock[:] = np.where(cat.stocked & live, np.round(rng.uniform(s0, S0)), 0).astype(np.int64)
    initial = stock.copy()
    allocated = np.zeros_like(stock)
    reserved = np.zeros_like(stock)
    on_order = np.zeros_like(stock)
    ship_ring = np.zeros((RING, n_loc, n_prod), np.int64)  # allocation leaving with shipments
    cancel_ring = np.zeros((RING, n_loc, n_prod), np.int64)  # allocation released by cancels
    inflow: dict[int, list[tuple]] = defaultdict(list)  # day → (loc, prod, stock+, on_order−)

    ledger = {k: np.zeros((n_loc, n_prod), np.int64) for k in
              ("received", "shipped", "returned", "adjusted", "hidden_loss")}
    hist_stock = np.zeros((days, n_loc, n_prod), np.int32)
    hist_reserved = np.zeros((days, n_loc, n_prod), np.int32)
    truth_demand = np.zeros((days, n_prod), np.int32)
    truth_lost = np.zeros((days, n_prod), np.int32)
    free_at_listing: dict[int, np.ndarray] = {}
    listing_days = set(range((days - 1) % 7, days, 7))  # weekly, the last day included

    L, O, RC, P, REC, A, C = (_Chunks() for _ in range(7))  # lines, orders, returns, POs,
    # receipts, adjustments, counts
    order_seq = 0
    line_seq = 0
    po_seq = 0
    receipt_seq = 0
    adj_seq = 0
    transfer_seq = 0
    prices = price_table(cat, rates, 0)
    count_period = np.array([COUNT_PERIOD[l.location_type] for l in cat.locations])
    hidden_q = np.array([HIDDEN_LOSS[l.location_type] for l in cat.locations])
    shrink_p = np.where(is_store, 0.003, 0.0006)[:, None]
    prod_ar = np.arange(n_prod)
    category_ret = np.array([c.return_rate for c in CATEGORIES])[cat.category]

    for d in range(days):
        wd = weekday[d]
        if cal["dom"][d] == 1 and cal["month"][d] in (1, 4, 7, 10):
            prices = price_table(cat, rates, d)  # new quarterly price list
        # 1. goods in: receipts and resellable returns
        for loc, prod, add, release in inflow.pop(d, []):
            np.add.at(stock, (loc, prod), add)
            np.add.at(on_order, (loc, prod), -release)
        free_start = stock - allocated - reserved

        # 2. demand → order lines
        active = (cat.launch_day <= d) & (d < cat.discontinue_day)
        ramp = np.clip(0.3 + 0.7 * (d - cat.launch_day) / 28.0, 0.0, 1.0)
        base = (cat.line_rate * season[d] * np.exp(cat.trend * d / 365.0) * ramp * active)
        lift = np.where(promo_chan[:, None], promo_lift[d][None, :], 1.0)
        lam = base[None, :] * cat.share * weekly[:, d][:, None] * lift * chan_lift[:, d][:, None]
        counts = rng.poisson(lam)
        ch, pr = np.nonzero(counts)
        reps = counts[ch, pr]
        ch, pr = np.repeat(ch, reps), np.repeat(pr, reps)
        n = len(pr)
        bulk = erratic_like[pr] & (rng.random(n) < 0.15)
        qty = np.where(bulk, 3 + rng.geometric(1 / 8.0, n), 1 + rng.poisson(
            np.where(erratic_like[pr], 0.3, 0.12)))
        is_b2b = np.array([chan_type[c] == "b2b" for c in range(n_chan)])[ch]
        qty = np.where(is_b2b, b2b_case[pr] * (1 + rng.poisson(1.2, n)), qty)
        is_pos = np.array([chan_type[c] == "pos" for c in range(n_chan)])[ch]
        qty = np.where(is_pos, 1 + rng.poisson(0.1, n), qty).astype(np.int64)
        perm = rng.permutation(n)  # arrival order within the day
        ch, pr, qty = ch[perm], pr[perm], qty[perm]
        free = stock - allocated - reserved
        loc = np.array([cat.chan_locs[c][0] for c in range(n_chan)])[ch] if n else ch
        ok = _accept(cat, pr, qty, loc, free)
        second = np.array([cat.chan_locs[c][-1] for c in range(n_chan)])
        retry = np.flatnonzero(~ok & (second[ch] != loc)) if n else np.zeros(0, np.int64)
        if len(retry):
            loc[retry] = second[ch[retry]]
            ok[retry] = _accept(cat, pr[retry], qty[retry], loc[retry], free)
        np.add.at(truth_demand[d], pr, qty)
        np.add.at(truth_lost[d], pr[~ok], qty[~ok])
        ch, pr, qty, loc = ch[ok], pr[ok], qty[ok], loc[ok]
        n = len(pr)

        # 3. group lines into orders (per channel, in arrival order) and give them a life
        if n:
            by_chan = np.argsort(ch, kind="stable")
            ch, pr, qty, loc = ch[by_chan], pr[by_chan], qty[by_chan], loc[by_chan]
            mean_lines = np.array([c.order_lines_mean for c in cat.channels])[ch]
            # a new order starts with probability 1/mean at each line, and at channel changes
            starts = (rng.random(n) < 1.0 / mean_lines) | np.r_[True, ch[1:] != ch[:-1]]
            order_local = np.cumsum(starts) - 1
            n_orders = int(order_local[-1]) + 1
            o_chan = ch[starts]
            o = _order_lifecycle(cat, rng, d, o_chan, market_of, weekday, cal)
            line_order = order_seq + order_local
            unit_price = prices[ch, pr]
            disc_share = np.where(promo_chan[ch], np.maximum(promo_disc[d, pr], chan_disc[ch, d]),
                                  0.0)
            discount = np.round(qty * unit_price * disc_share, 2)
            amount = np.round(qty * unit_price - discount, 2)
            listing = first_listing[ch, pr] + (
                (n_listings[ch, pr] > 1) & (rng.random(n) < 0.3))
            # order-level money: shipping fee under a free-shipping threshold, VAT inside
            gross = np.bincount(order_local, weights=amount, minlength=n_orders)
            o_cur_thresh = np.array([{"EUR": 49.0, "GBP": 40.0, "USD": 60.0}[c.currency]
                                     for c in cat.channels])[o_chan]
            fee = np.array([{"EUR": 4.95, "GBP": 3.99, "USD": 14.0}[c.currency]
                            for c in cat.channels])[o_chan]
            no_fee = np.array([c.channel_type in ("pos", "b2b") for c in cat.channels])[o_chan]
            shipping = np.where((gross >= o_cur_thresh) | no_fee, 0.0, fee)
            tax = np.round((gross + shipping) * o["vat"] / (1 + o["vat"]), 2)
            O.add(chan=o_chan, day=np.full(n_orders, d), ordered=o["ordered"], paid=o["paid"],
                  cancelled=o["cancelled"], shipped=o["shipped"], delivered=o["delivered"],
                  promised=o["promised"], customer=o["customer"], carrier=o["carrier"],
                  tracking=o["tracking"], shipping=shipping, tax=tax)
            # allocation: held until the order ships or is cancelled
            r_line, r_prod, r_units = _explode(cat, pr, qty)
            r_loc = loc[r_line]
            np.add.at(allocated, (r_loc, r_prod), r_units)
            o_ship_day = np.where(o["shipped"] >= 0, o["shipped"] // DAY, -1)
            o_cancel_day = np.where(o["cancelled"] >= 0, o["cancelled"] // DAY, -1)
            r_order = order_local[r_line]
            ship_d = o_ship_day[r_order]
            canc_d = o_cancel_day[r_order]
            assert (np.maximum(ship_d, canc_d) - d < RING).all()
            sm = ship_d >= 0
            np.add.at(ship_ring, (ship_d[sm] % RING, r_loc[sm], r_prod[sm]), r_units[sm])
            cm = canc_d >= 0
            np.add.at(cancel_ring, (canc_d[cm] % RING, r_loc[cm], r_prod[cm]), r_units[cm])
            # returns of delivered lines
            rr = _returns(cat, rng, pr, qty, ch, unit_price, discount,
                          o["delivered"][order_local], o["shipped"][order_local], loc,
                          category_ret, is_store, wh_idx)
            if rr is not None:
                idx = rr.pop("line")
                RC.add(line=line_seq + idx, **rr)
                back = rr["condition"] == 0
                for rd in np.unique(rr["received"][back] // DAY):
                    sel = back & (rr["received"] // DAY == rd)
                    b_line, b_prod, b_units = _explode(cat, pr[idx[sel]], rr["qty"][sel])
                    b_loc = rr["loc"][sel][b_line]
                    inflow[int(rd)].append((b_loc, b_prod, b_units, np.zeros_like(b_units)))
                    if rd < days:
                        np.add.at(ledger["returned"], (b_loc, b_prod), b_units)
            L.add(chan=ch, prod=pr, qty=qty, loc=loc, order=line_order, unit_price=unit_price,
                  discount=discount, amount=amount, listing=listing)
            order_seq += n_orders
            line_seq += n

        # 4. shipments and cancellations due today
        slot = d % RING
        out = ship_ring[slot]
        stock -= out
        allocated -= out + cancel_ring[slot]
        ledger["shipped"] += out
        ship_ring[slot] = 0
        cancel_ring[slot] = 0

        # 5. recorded adjustments, transfers and quality holds
        free = stock - allocated - reserved
        u = rng.random((n_loc, n_prod))
        has = cat.stocked & (free > 0)
        reason = np.full((n_loc, n_prod), -1)
        reason[has & (u < shrink_p)] = 0
        reason[has & (u >= shrink_p) & (u < shrink_p + 0.0005)] = 1
        reason[cat.stocked & (u >= 0.995) & (u < 0.9952)] = 2
        reason[has & (u >= 0.9990) & (u < 0.9992)] = 3
        al, ap = np.nonzero(reason >= 0)
        if len(al):
            rs = reason[al, ap]
            mag = 1 + (rng.random(len(al)) < 0.3)
            sign = np.where(rs == 2, 1, np.where(rs == 3, rng.choice([-1, 1], len(al)), -1))
            q = np.where(sign < 0, -np.minimum(mag, free[al, ap]), mag)
            keep = q != 0
            al, ap, rs, q = al[keep], ap[keep], rs[keep], q[keep]
            stock[al, ap] += q
            ledger["adjusted"][al, ap] += q
            t = d * DAY + rng.integers(7 * HOUR, 18 * HOUR, len(al))
            A.add(loc=al, prod=ap, qty=q, reason=rs, ref=np.full(len(al), -1), at=t,
                  id=adj_seq + np.arange(len(al)))
            adj_seq += len(al)
        e_eff = est.copy()
        if len(store_idx):
            e_eff[wh_idx[0]] += est[store_idx].sum(axis=0)
        s_pt, S_pt = policy(e_eff)
        transfers = []
        if len(store_idx) and wd == 1:  # Tuesday truck from the main warehouse to the store
            st, src = store_idx[0], wh_idx[0]
            need = cat.stocked[st] & ((stock[st] - allocated[st]) < est[st] * 7 + 1) & active
            want = np.ceil(est[st] * 21 + 2 - (stock[st] - allocated[st])).astype(np.int64)
            avail = stock[src] - allocated[src] - reserved[src]
            q = np.where(need, np.clip(want, 0, np.maximum(avail, 0)), 0)
            transfers.append((src, st, q))
        if len(wh_idx) > 1 and wd == 3:  # Thursday rebalancing between warehouses
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
                for b in range(len(wh_idx)):
                    if a != b:
                        transfers.append((wh_idx[a], wh_idx[b],
                                          np.where((donor == a) & (recip == b), q, 0)))
        for src, dst, q in transfers:
            tp = np.flatnonzero(q > 0)
            if not len(tp):
                continue
            k = len(tp)
            ref = transfer_seq + np.arange(k)
            transfer_seq += k
            stock[src, tp] -= q[tp]
            stock[dst, tp] += q[tp]
            ledger["adjusted"][src, tp] -= q[tp]
            ledger["adjusted"][dst, tp] += q[tp]
            t_out = d * DAY + 7 * HOUR + rng.integers(0, HOUR, k)
            A.add(loc=np.full(k, src), prod=tp, qty=-q[tp], reason=np.full(k, 5), ref=ref,
                  at=t_out, id=adj_seq + np.arange(k))
            A.add(loc=np.full(k, dst), prod=tp, qty=q[tp], reason=np.full(k, 4), ref=ref,
                  at=t_out + 8 * HOUR, id=adj_seq + k + np.arange(k))
            adj_seq += 2 * k
        if wd == 0:  # Monday: last week's quality holds end, a few new ones start
            reserved[:] = 0
            hold = cat.stocked & (rng.random((n_loc, n_prod)) < 0.015) & ~is_store[:, None]
            free = stock - allocated
            reserved[hold] = np.minimum(free[hold], rng.integers(1, 6, hold.sum()))

        # 6. purchase orders on the suppliers' order days (biweekly ones on even weeks)
        week = d // 7
        sup_today = cat.sup_weekdays[:, wd] & ((cat.sup_review < 14) | (week % 2 == 0))
        prod_ok = (~cat.is_bundle & sup_today[np.maximum(cat.supplier, 0)]
                   & (d >= cat.launch_day - lead - 10)
                   & (d < cat.discontinue_day - lead - 30))
        if prod_ok.any():
            ip = stock + on_order - allocated
            trig = cat.stocked & prod_ok[None, :] & ~is_store[:, None] & (ip <= s_pt)
            trig &= (S_pt - ip) > 0
            tl, tp = np.nonzero(trig)
            if len(tl):
                po_seq, receipt_seq = _purchase(
                    cat, rng, d, tl, tp, S_pt[tl, tp] - ip[tl, tp], lead, on_order, inflow, P,
                    REC, po_seq, receipt_seq, days, ledger, weekday)

        # 7. cycle counts: unrecorded shrinkage surfaces; the count itself may be off a bit
        counted = cat.stocked & (((prod_ar[None, :] + 3 * np.arange(n_loc)[:, None] + d)
                                  % count_period[:, None]) == 0)
        free = stock - allocated - reserved
        cl, cp = np.nonzero(counted)
        if len(cl):
            loss = rng.binomial(np.maximum(free[cl, cp], 0), hidden_q[cl])
            stock[cl, cp] -= loss
            ledger["hidden_loss"][cl, cp] += loss
            noise = np.where(rng.random(len(cl)) < 0.03, rng.choice([-2, -1, 1, 2], len(cl)), 0)
            reported = np.maximum(stock[cl, cp] + noise, 0)
            C.add(cday=np.full(len(cl), d), cloc=cl, cprod=cp, cqty=reported)

        # EWMA of accepted units per location, on days the SKU was sellable there
        if n:
            r_line, r_prod, r_units = _explode(cat, pr, qty)
            sold = np.zeros((n_loc, n_prod))
            np.add.at(sold, (loc[r_line], r_prod), r_units)
        else:
            sold = np.zeros((n_loc, n_prod))
        learn = (free_start > 0) & (d >= cat.launch_day)[None, :]
        est = np.where(learn, est + (sold - est) / 35.0, est)

        assert (stock >= allocated).all() and (allocated >= 0).all()
        hist_stock[d] = stock
        hist_reserved[d] = reserved
        if d in listing_days:
            free_at_listing[d] = np.maximum(stock - allocated - reserved, 0).astype(np.int32)

    ledger["initial"] = initial
    ledger["final"] = stock.copy()
    counts = C.build({"cday": np.int64, "cloc": np.int64, "cprod": np.int64, "cqty": np.int64})
    return Simulation(
        cat=cat, rates=rates,
        lines=L.build({"chan": np.int64, "prod": np.int64, "qty": np.int64, "loc": np.int64,
                       "order": np.int64, "unit_price": float, "discount": float,
                       "amount": float, "listing": np.int64}),
        orders=O.build({"chan": np.int64, "day": np.int64, "ordered": np.int64,
                        "paid": np.int64, "cancelled": np.int64, "shipped": np.int64,
                        "delivered": np.int64, "promised": np.int64, "customer": np.int64,
                        "carrier": np.int64, "tracking": np.int64, "shipping": float,
                        "tax": float}),
        returns=RC.build({"line": np.int64, "qty": np.int64, "reason": np.int64,
                          "condition": np.int64, "requested": np.int64, "received": np.int64,
                          "loc": np.int64, "refund": float}),
        po_lines=P.build({"po": np.int64, "sup": np.int64, "prod": np.int64, "loc": np.int64,
                          "qty": np.int64, "cost": float, "ordered": np.int64,
                          "expected_day": np.int64, "status": np.int64, "closed": np.int64}),
        receipts=REC.build({"receipt": np.int64, "po_line": np.int64, "qty": np.int64,
                            "at": np.int64}),
        adjustments=A.build({"loc": np.int64, "prod": np.int64, "qty": np.int64,
                             "reason": np.int64, "ref": np.int64, "at": np.int64,
                             "id": np.int64}),
        stock=hist_stock, reserved=hist_reserved, counts=counts,
        free_at_listing=free_at_listing, truth_demand=truth_demand, truth_lost=truth_lost,
        ledger=ledger,
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
    # customer: market, then a skewed pick so some customers buy again and again
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
    group = np.where(b2b, "b2b", np.where(np.isin(ship_country, ("GB", "IE")), "gb",
                     np.where(np.isin(ship_country, ("US", "CA")), "intl",
                              np.where(ship_country == "NL", "nl", "domestic_eu"))))
    carrier = np.full(n, -1, np.int64)
    for g, options in DESTINATION_CARRIERS.items():
        sel = np.flatnonzero(group == g)
        if len(sel):
            w = np.array([x[1] for x in options])
            pick = rng.choice(len(options), len(sel), p=w / w.sum())
            carrier[sel] = np.array([CARRIER_INDEX[x[0]] for x in options])[pick]
    carrier[pos] = -1
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


def _returns(cat, rng, pr, qty, ch, unit_price, discount, delivered, shipped, loc,
             category_ret, is_store, wh_idx):
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


def _purchase(cat, rng, d, tl, tp, need, lead, on_order, inflow, P, REC, po_seq, receipt_seq,
              days, ledger, weekday):
    """Raise purchase orders for the triggered (location, product) pairs.

    One PO per supplier × location × day. Quantities round up to the case pack and the MOQ;
    a PO below the supplier's minimum order value is scaled up (at most 4×). Each PO draws
    its lead time from the supplier's distribution (gamma, mean and sd from master data);
    some arrive late, some short, some in two deliveries, a few are cancelled.
    """
    wd0 = int(weekday[0])
    case = cat.case_pack[tp]
    qty = np.maximum(np.ceil(need / case) * case, cat.moq[tp]).astype(np.int64)
    sup = cat.supplier[tp]
    key = sup * cat.n_loc + tl
    ukeys, po_local = np.unique(key, return_inverse=True)
    n_po = len(ukeys)
    cost = cat.unit_cost[tp]
    value = np.bincount(po_local, weights=qty * cost, minlength=n_po)
    po_sup = ukeys // cat.n_loc
    factor = np.clip(cat.sup_mov[po_sup] / np.maximum(value, 1e-9), 1.0, 4.0)
    qty = (np.ceil(qty * factor[po_local] / case) * case).astype(np.int64)
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
    expected = d + np.round(lead[tp]).astype(np.int64)
    short = short_po[po_local] & (rng.random(len(tp)) < 0.6)
    received = np.where(short, (np.floor(qty * rng.uniform(0.5, 0.95, len(tp)) / case) * case),
                        qty).astype(np.int64)
    split = split_po[po_local] & (received >= 2 * case)
    first = np.where(split, np.floor(received * rng.uniform(0.3, 0.7, len(tp)) / case) * case,
                     received).astype(np.int64)
    second = received - first
    arrive2 = _next_weekday(arrive + rng.integers(3, 15, len(tp)), wd0, (5, 6))
    cancelled = cancel_po[po_local]
    cancel_day = d + rng.integers(5, 21, len(tp))
    ids = P.counter + np.arange(len(tp))  # global PO line index (receipts point at it)
    P.counter += len(tp)
    # receipt ids: one per PO and delivery day
    t1 = arrive * DAY + 6 * HOUR + rng.integers(0, 9 * HOUR, len(tp))
    t2 = arrive2 * DAY + 6 * HOUR + rng.integers(0, 9 * HOUR, len(tp))
    # all lines of one PO that arrive on one day share a receipt time and id
    ev_po = np.r_[po_local, po_local]
    ev_day = np.r_[arrive, arrive2]
    ev_qty = np.r_[first, second]
    ev_t = np.r_[t1, t2]
    ev_line = np.r_[np.arange(len(tp)), np.arange(len(tp))]
    keep = (ev_qty > 0) & ~np.r_[cancelled, cancelled]
    ev_po, ev_day, ev_qty, ev_t, ev_line = (a[keep] for a in (ev_po, ev_day, ev_qty, ev_t, ev_line))
    rkey = ev_po * 100_000 + ev_day
    ur, rinv = np.unique(rkey, return_inverse=True)
    first_t = np.full(len(ur), np.iinfo(np.int64).max)
    np.minimum.at(first_t, rinv, ev_t)
    ev_t = first_t[rinv]
    REC.add(receipt=receipt_seq + rinv, po_line=ids[ev_line], qty=ev_qty, at=ev_t)
    receipt_seq += len(ur)
    # closing: a line closes with its last delivery (or its cancellation)
    last_t = np.where(second > 0, t2, t1)
    status = np.where(cancelled, 2, 1)
    closed = np.where(cancelled, cancel_day * DAY + 10 * HOUR, last_t)
    P.add(po=po_seq + po_local, sup=sup, prod=tp, loc=tl, qty=qty, cost=cost, ordered=ordered[
        po_local], expected_day=expected, status=status, closed=closed)
    po_seq += n_po
    # stock and on-order effects
    np.add.at(on_order, (tl, tp), qty)
    for day, q_add, release in ((arrive, np.where(cancelled, 0, first), np.where(cancelled, 0,
                                 np.where(second > 0, first, qty))),
                                (arrive2, np.where(cancelled, 0, second),
                                 np.where(cancelled | (second == 0), 0, qty - first)),
                                (cancel_day, np.zeros_like(qty), np.where(cancelled, qty, 0))):
        for dd in np.unique(day):
            sel = (day == dd) & ((q_add > 0) | (release > 0))
            if sel.any():
                inflow[int(dd)].append((tl[sel], tp[sel], q_add[sel], release[sel]))
                if dd < days:
                    np.add.at(ledger["received"], (tl[sel], tp[sel]), q_add[sel])
    return po_seq, receipt_seq
