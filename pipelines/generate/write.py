"""Turn a :class:`~.simulate.Simulation` into inbox files, each system in its own format.

Orders go through the channel type's adapter (``assets.ingest.adapters.<type>.ADAPTER.write``)
when that module exists; until then they fall back to the generic canonical order_lines
format (``orders_YYYY-MM-DD.canonical.csv``). Everything else is generic canonical.

Daily order exports hold the lines placed that day AND the lines whose status changed that
day, each with its status as of the end of that day: one line appears in several exports
with an evolving status, exactly like real channel reports.
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import polars as pl

from assets.ingest.adapters import amazon, b2b, ebay, etsy, pos, shopify
from assets.ingest.adapters.base import FILE, ORDER_EXPORT_EXTRA, postal_prefix
from assets.model import ENTITIES

from .canonical import write_atomic, write_canonical, write_canonical_files
from .catalog import DEMAND_CLASSES
from .config import CARRIERS, ORDER_FILE_NAMES, POSTAL_PREFIX_CHARS, SECONDS_PER_DAY
from .simulate import ADJ_REASONS, CONDITIONS, REASONS, Simulation

DAY = SECONDS_PER_DAY
STATUS = ("placed", "paid", "cancelled", "shipped", "delivered")
CHUNK_DAYS = 31  # canonical rows are built a month at a time to bound memory
ORDER_CHUNK_DAYS = 7  # order export rows carry ~40 text columns: a week at a time


class Tally:
    """Files and rows written per (entity, channel or location)."""

    def __init__(self) -> None:
        self.files: Counter = Counter()
        self.rows: Counter = Counter()

    def add(self, entity: str, part: str, rows: int) -> None:
        self.files[(entity, part)] += 1
        self.rows[(entity, part)] += rows


def _ts(sim: Simulation, seconds: np.ndarray) -> pl.Series:
    """Seconds since the first day (−1 = never) → UTC ``Datetime('us')`` with nulls."""
    epoch = int(datetime(sim.cat.start.year, sim.cat.start.month, sim.cat.start.day,
                         tzinfo=timezone.utc).timestamp())
    s = pl.Series(np.asarray(seconds, np.int64))
    return pl.select(
        pl.when(s >= 0).then(pl.from_epoch(s + epoch, time_unit="s"))
    ).to_series().cast(pl.Datetime("us"))


def _dates(sim: Simulation, days: np.ndarray) -> pl.Series:
    """Day indices → business dates."""
    offsets = pl.Series(np.asarray(days, np.int64))
    return pl.select(pl.lit(sim.cat.start) + pl.duration(days=offsets)).to_series().cast(pl.Date)


def _day_name(sim: Simulation, d: int) -> str:
    return sim.cat.date(d).isoformat()


def _zfill(prefix: str, values: np.ndarray, width: int) -> pl.Series:
    return prefix + pl.Series(np.asarray(values, np.int64)).cast(pl.String).str.zfill(width)


# -- identifiers as the channels print them ------------------------------------------------

def _order_ids(sim: Simulation) -> pl.Series:
    """One id per order in the channel's own style (Shopify ``#1001``, Amazon
    ``302-1234567-1234567``, eBay ``12-34567-89012``, Etsy numeric, POS receipt, B2B)."""
    o = sim.orders
    n = len(o["chan"])
    seq = np.zeros(n, np.int64)  # order number within its channel
    for ci in range(len(sim.cat.channels)):
        sel = np.flatnonzero(o["chan"] == ci)
        seq[sel] = np.arange(len(sel))
    # a fixed bijective mix of the sequence number gives random-looking but unique digits
    mixed = (seq * 6_364_136_223 + 1_442_695) % 10**14
    mixed_s = pl.Series(mixed).cast(pl.String).str.zfill(14)
    ids = pl.Series([""] * n, dtype=pl.String)
    for ci, c in enumerate(sim.cat.channels):
        sel = o["chan"] == ci
        if c.channel_type == "shopify":
            v = "#" + pl.Series(seq + 1001).cast(pl.String)
        elif c.channel_type == "amazon":
            v = "30" + mixed_s.str.slice(0, 1) + "-" + mixed_s.str.slice(1, 7) + "-" + \
                mixed_s.str.slice(7, 7)
        elif c.channel_type == "ebay":
            v = "1" + mixed_s.str.slice(0, 1) + "-" + mixed_s.str.slice(1, 5) + "-" + \
                mixed_s.str.slice(6, 5)
        elif c.channel_type == "etsy":
            v = pl.Series(seq * 13 + 3_100_000_000).cast(pl.String)
        elif c.channel_type == "pos":
            v = _zfill("R01-", seq + 1, 8)
        else:
            v = _zfill("B2B-", seq + 1, 6)
        ids = pl.select(pl.when(pl.Series(sel)).then(v).otherwise(ids)).to_series()
    return ids


def _line_ids(sim: Simulation) -> pl.Series:
    """The channel's line identifier: a global numeric item id on marketplaces (on eBay
    prefixed with the listing's item number, as eBay's OrderLineItemID is), the line
    number within the order at the till and on the B2B portal, and in the web shop (whose
    Shopify export has no line item id) the key the adapter derives from the line's content:
    its channel SKU, ``#2``, ``#3`` ... for the same SKU again in one order."""
    ln = sim.lines
    n = len(ln["prod"])
    order = ln["order"]
    first = np.r_[True, order[1:] != order[:-1]]
    start_idx = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    number = np.arange(n) - start_idx + 1
    ctype = np.array([c.channel_type for c in sim.cat.channels])[ln["chan"]]
    item = pl.Series(np.arange(n) * 7 + 11_000_000_000_000).cast(pl.String)
    by_number = np.isin(ctype, ("pos", "b2b"))
    keys = sim.cat.channel_skus["channel_sku"].gather(ln["listing"])
    again = pl.DataFrame({"o": order, "k": keys}).select(
        pl.int_range(1, pl.len() + 1).over("o", "k")).to_series()
    content = pl.select(pl.when(again == 1).then(keys).otherwise(
        keys + "#" + again.cast(pl.String))).to_series()
    # eBay's line id is its OrderLineItemID, "<item number>-<transaction id>": the item number
    # is the listing's (the number of its fallback key "item:<number>" when it has no SKU)
    listing_number = pl.select(pl.coalesce(
        keys.str.extract(r"^item:(\d+)", 1),
        (pl.Series(ln["listing"]).cast(pl.Int64) + 110_000_000_000).cast(pl.String),
    )).to_series()
    return pl.select(
        pl.when(pl.Series(by_number)).then(
            pl.Series(number * np.where(ctype == "b2b", 10, 1)).cast(pl.String))
        .when(pl.Series(ctype == "shopify")).then(content)
        .when(pl.Series(ctype == "ebay")).then(listing_number + "-" + item)
        .otherwise(item)
    ).to_series()


def _tracking(sim: Simulation) -> pl.Series:
    o = sim.orders
    parts = []
    for i, c in enumerate(CARRIERS):
        parts.append((o["carrier"] == i, c))
    out = pl.Series([None] * len(o["chan"]), dtype=pl.String)
    digits = pl.Series(o["tracking"]).cast(pl.String)
    for sel, c in parts:
        v = c.prefix + digits.str.zfill(c.digits).str.slice(0, c.digits) + c.suffix
        out = pl.select(pl.when(pl.Series(sel)).then(v).otherwise(out)).to_series()
    return out


# -- writers -------------------------------------------------------------------------------

def _write_split(frame: pl.DataFrame, entity: str, keys: list[str], locate, tally: Tally) -> None:
    """Write ``frame`` as one canonical file per distinct ``keys`` (in order of first
    appearance): ``locate(*key) -> (path, tally part)``. One format pass for all files."""
    groups = frame.select(keys).unique(maintain_order=True)
    paths, parts = {}, {}
    for key in groups.iter_rows():
        path, part = locate(*(int(k) for k in key))
        paths[key], parts[str(path)] = str(path), part
    lookup = groups.with_columns(pl.Series(FILE, list(paths.values()), dtype=pl.String))
    frame = frame.join(lookup, on=keys, how="left", maintain_order="left")
    for name, rows in write_canonical_files(frame, entity).items():
        tally.add(entity, parts[name], rows)


def _location_day_file(sim: Simulation, folder: Path, prefix: str):
    """``locate(location index, day)`` for :func:`_write_split`: one file per location and
    day, ``folder/<location_id>/<prefix>_<YYYY-MM-DD>.csv``, tallied per location."""
    def locate(loc: int, d: int) -> tuple[Path, str]:
        loc_id = sim.cat.locations[loc].location_id
        return folder / loc_id / f"{prefix}_{_day_name(sim, d)}.csv", loc_id

    return locate


def write_master(sim: Simulation, out: Path, tally: Tally) -> None:
    for entity, frame in sim.cat.frames.items():
        rows = write_canonical(frame, entity, out / entity / f"{entity}.csv")
        tally.add(entity, "", rows)


def write_fx(sim: Simulation, out: Path, tally: Tally) -> None:
    """Monthly files of daily rates (EUR listed as 1.0 so every currency joins alike)."""
    days = np.arange(sim.cat.days)
    dates = _dates(sim, days)
    parts = [pl.DataFrame({"rate_date": dates, "currency": cur, "rate_to_base": rate})
             for cur, rate in sorted(sim.rates.items())]
    frame = pl.concat(parts).sort("rate_date", "currency")
    for (month,), part in frame.group_by(pl.col("rate_date").dt.strftime("%Y-%m"),
                                         maintain_order=True):
        rows = write_canonical(part, "fx_rates", out / "fx_rates" / f"fx_rates_{month}.csv")
        tally.add("fx_rates", "", rows)


def write_listings(sim: Simulation, out: Path, tally: Tally, rng: np.random.Generator) -> None:
    """Weekly listing files per channel: channel SKU → SKU and the quantity the channel shows.

    The channel shows its locations' free stock minus its safety buffer, but about 6% of
    listings show a stale, higher quantity (a feed that did not update): oversell risk.
    """
    cat = sim.cat
    cs = cat.channel_skus
    for ci, c in enumerate(cat.channels):
        rows = cs.filter(pl.col("channel") == ci)
        prod = rows["product"].to_numpy()
        prev = np.zeros(len(prod), np.int64)
        for d in sorted(sim.free_at_listing):
            free = sim.free_at_listing[d][cat.chan_locs[ci]].sum(axis=0)
            # a kit is available as often as its scarcest component allows
            comp_free = free[cat.comp_idx] // cat.comp_units
            kit = np.minimum.reduceat(comp_free, cat.comp_ptr[:-1])
            ats = np.where(cat.is_bundle, kit, free)[prod]
            shown = np.maximum(np.floor(ats * (1 - c.safety_buffer_pct))
                               - c.safety_buffer_units, 0).astype(np.int64)
            stale = rng.random(len(prod)) < 0.06
            shown = np.where(stale, np.maximum(prev, shown) + rng.integers(1, 6, len(prod)),
                             shown)
            launched = cat.launch_day[prod] <= d
            live = d < cat.discontinue_day[prod]
            recent = d < cat.discontinue_day[prod] + 28
            keep = launched & recent
            shown = np.where(live, shown, 0)
            prev = shown
            frame = pl.DataFrame({
                "channel_id": c.channel_id,
                "channel_sku": rows["channel_sku"].filter(pl.Series(keep)),
                "sku": pl.Series(cat.sku[prod[keep]]),
                "listed_quantity": shown[keep].astype(np.int32),
                "listing_status": np.where(live[keep], "active", "inactive"),
                "as_of": cat.date(d),
            })
            n = write_canonical(frame, "channel_listings",
                                out / "channel_listings" / c.channel_id
                                / f"listings_{_day_name(sim, d)}.csv")
            tally.add("channel_listings", c.channel_id, n)


# the adapter whose writer exports each channel type's orders (ChannelSpec.channel_type); a
# type not listed is written in the canonical order-lines format
ORDER_ADAPTERS = {"shopify": shopify.ADAPTER, "amazon": amazon.ADAPTER, "ebay": ebay.ADAPTER,
                  "etsy": etsy.ADAPTER, "pos": pos.ADAPTER, "b2b": b2b.ADAPTER}


def _order_writer(channel_type: str):
    """The adapter's ``write`` and file-name pattern, or None for the canonical fallback."""
    adapter = ORDER_ADAPTERS.get(channel_type)
    if adapter is None or adapter.write is None:
        return None
    pattern = ORDER_FILE_NAMES[channel_type]
    sample = pattern.format(date="2026-01-31")
    if adapter.file_globs and not any(fnmatch.fnmatch(sample, g) for g in adapter.file_globs):
        # the adapter decides its own file names: follow its first glob
        glob = adapter.file_globs[0]
        pattern = glob.replace("*", "{date}", 1).replace("*", "")
    return adapter.write, adapter.write_many, pattern


def write_orders(sim: Simulation, out: Path, tally: Tally, pool: pl.DataFrame,
                 order_ids: pl.Series, line_ids: pl.Series, tracking: pl.Series,
                 channel: int | None = None) -> None:
    """Daily order exports per channel (all, or only the ``channel``-th); see the module
    docstring. Rows are built a week of exports at a time (ORDER_CHUNK_DAYS)."""
    cat = sim.cat
    for ci, c in enumerate(cat.channels):
        if channel is not None and ci != channel:
            continue
        li = np.flatnonzero(sim.lines["chan"] == ci)
        if not len(li):
            continue
        ex_day, ex_pos = _export_rows(sim, c, li)
        writer = _order_writer(c.channel_type)
        for lo in range(0, cat.days, ORDER_CHUNK_DAYS):
            sel = (ex_day >= lo) & (ex_day < lo + ORDER_CHUNK_DAYS)
            if not sel.any():
                continue
            dd, lines = ex_day[sel], li[ex_pos[sel]]
            frame = _order_export_frame(sim, c, pool, order_ids, line_ids, tracking, dd, lines)
            _write_order_exports(sim, out / "orders" / c.channel_id, c, writer, frame, dd,
                                 tally)


def _export_rows(sim: Simulation, c, li: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which daily export shows which of the channel's lines ``li``: the day it was placed
    and each day its status changed (paid, cancelled and, outside the till, shipped and, when
    the channel reports it, delivered) inside the window. Returns (day index, position in
    ``li``), ordered by day, then line."""
    o = sim.orders
    oi = sim.lines["order"][li]
    ev = {k: np.where(o[k][oi] >= 0, o[k][oi] // DAY, -1)
          for k in ("ordered", "paid", "cancelled", "shipped", "delivered")}
    kinds = ["ordered", "paid", "cancelled"]
    if c.channel_type != "pos":
        kinds.append("shipped")
        if c.reports_delivery:
            kinds.append("delivered")
    pairs = np.concatenate([np.stack([np.arange(len(li)), ev[k]], 1) for k in kinds])
    pairs = pairs[(pairs[:, 1] >= 0) & (pairs[:, 1] < sim.cat.days)]
    key = np.unique(pairs[:, 1] * len(li) + pairs[:, 0])  # by day, then line
    return key // len(li), key % len(li)


def _status_as_of(sim: Simulation, c, Oi: np.ndarray, dd: np.ndarray):
    """Each export row's order as its export day ``dd`` ends: paid, cancelled, shipped and
    delivered times (seconds since start, −1 = not yet or never), the status index into
    STATUS and the time of the last change."""
    o = sim.orders
    eod = (dd + 1) * DAY  # an export shows what happened before the end of its day

    def seen(k):
        t = o[k][Oi]
        return np.where((t >= 0) & (t < eod), t, -1)

    paid, canc, ship, deliv = seen("paid"), seen("cancelled"), seen("shipped"), \
        seen("delivered")
    if c.channel_type == "pos":  # a till sale is paid and handed over at once
        ship, deliv = o["shipped"][Oi], o["delivered"][Oi]
    if not c.reports_delivery:
        deliv = np.full(len(dd), -1)
    status = np.where(deliv >= 0, 4, np.where(ship >= 0, 3, np.where(
        canc >= 0, 2, np.where(paid >= 0, 1, 0))))
    updated = np.maximum.reduce([o["ordered"][Oi], paid, canc, ship, deliv])
    return paid, canc, ship, deliv, status, updated


def _order_export_frame(sim: Simulation, c, pool: pl.DataFrame, order_ids: pl.Series,
                        line_ids: pl.Series, tracking: pl.Series, dd: np.ndarray,
                        L: np.ndarray) -> pl.DataFrame:
    """Export rows (line ``L`` as of day ``dd``) in the canonical order_lines columns plus
    the personal columns real exports carry (money in the channel's currency, times UTC);
    ``_day`` is the export day. One column a line: a long function, but a flat one."""
    cat, ln, o = sim.cat, sim.lines, sim.orders
    Oi = ln["order"][L]
    paid, canc, ship, deliv, status, updated = _status_as_of(sim, c, Oi, dd)
    cust = o["customer"][Oi]
    has_c = cust >= 0
    people = pool[np.where(has_c, cust, 0)]
    people = people.select(
        pl.when(pl.Series(has_c)).then(pl.col(col)).alias(col)
        for col in people.columns)
    carriers = pl.Series([x.name for x in CARRIERS], dtype=pl.String)
    carrier_i = o["carrier"][Oi]
    shipped_now = ship >= 0
    loc_known = c.channel_type in ("shopify", "pos", "b2b")
    frame = pl.DataFrame({
        "channel_id": pl.repeat(c.channel_id, len(dd), eager=True),
        "order_id": order_ids.gather(Oi),
        "line_id": line_ids.gather(L),
        "channel_sku": cat.channel_skus["channel_sku"].gather(ln["listing"][L]),
        "sku": pl.Series(cat.sku).gather(ln["prod"][L]),
        "quantity": ln["qty"][L].astype(np.int32),
        "unit_price": ln["unit_price"][L],
        "currency": pl.repeat(c.currency, len(dd), eager=True),
        "line_amount": ln["amount"][L],
        "status": pl.Series(STATUS).gather(status),
        "ordered_at": _ts(sim, o["ordered"][Oi]),
        "paid_at": _ts(sim, paid),
        "cancelled_at": _ts(sim, canc),
        "shipped_at": _ts(sim, ship),
        "delivered_at": _ts(sim, deliv),
        "promised_ship_by": _ts(sim, o["promised"][Oi]),
        "location_id": pl.Series([l.location_id for l in cat.locations]).gather(
            ln["loc"][L]) if loc_known else pl.repeat(None, len(dd), dtype=pl.String,
                                                      eager=True),
        "customer_key": people["customer_key"],
        "ship_country": pl.select(pl.when(pl.Series(has_c)).then(
            people["ship_country"]).otherwise(pl.lit(cat.locations[ln["loc"][L][0]]
                                                     .country))).to_series(),
        "ship_postal_prefix": postal_prefix(people["ship_postal_code"], POSTAL_PREFIX_CHARS),
        "updated_at": _ts(sim, updated),
        "customer_id": people["customer_id"],
        "customer_name": people["customer_name"],
        "customer_email": people["customer_email"],
        "ship_address1": people["ship_address1"],
        "ship_city": people["ship_city"],
        "ship_region": people["ship_region"],
        "ship_postal_code": people["ship_postal_code"],
        "shipping_amount": o["shipping"][Oi],
        "tax_amount": o["tax"][Oi],
        "discount_amount": ln["discount"][L],
        "product_name": pl.Series(cat.frames["products"]["name"]).gather(ln["prod"][L]),
        "carrier": pl.select(pl.when(pl.Series(shipped_now & (carrier_i >= 0))).then(
            carriers.gather(np.maximum(carrier_i, 0)))).to_series(),
        "tracking_number": pl.select(pl.when(pl.Series(shipped_now)).then(
            tracking.gather(Oi))).to_series(),
        "_day": dd,
    })
    # canonical columns the simulation does not fill (order-level money, promises)
    frame = frame.with_columns(
        pl.lit(None, col.polars_dtype).alias(col.name)
        for col in ENTITIES["order_lines"].columns if col.name not in frame.columns)
    if c.channel_type == "pos":  # walk-in customers: no address on a till receipt
        frame = frame.with_columns(
            pl.lit(None, pl.String).alias(k) for k in
            ("ship_address1", "ship_city", "ship_region", "ship_postal_code",
             "ship_postal_prefix"))
    return frame


def _write_order_exports(sim: Simulation, folder: Path, c, writer, frame: pl.DataFrame,
                         dd: np.ndarray, tally: Tally) -> None:
    """One file per export day in ``folder``: through the channel's adapter when it has a
    writer (a week in one call when it can write many), else as canonical CSV."""
    if writer is None:
        for (d,), part in frame.partition_by("_day", as_dict=True,
                                             maintain_order=True).items():
            n = write_canonical(part.drop("_day"), "order_lines",
                                folder / f"orders_{_day_name(sim, int(d))}.canonical.csv")
            tally.add("order_lines", c.channel_id, n)
        return
    write, write_many, pattern = writer
    cols = ENTITIES["order_lines"].column_names + [
        x for x in ORDER_EXPORT_EXTRA if x not in ENTITIES["order_lines"].column_names]
    days = np.unique(dd)
    file_names = [str(folder / pattern.format(date=_day_name(sim, int(d)))) for d in days]
    if write_many is not None:
        # a week of daily files in one call (the adapter cuts them per file)
        frame = frame.with_columns(pl.col("_day").replace_strict(
            days.tolist(), file_names, return_dtype=pl.String).alias(FILE))
        folder.mkdir(parents=True, exist_ok=True)
        write_many(frame.select(*cols, FILE))
    else:
        for (d,), part in frame.partition_by("_day", as_dict=True,
                                             maintain_order=True).items():
            write_atomic(folder / pattern.format(date=_day_name(sim, int(d))),
                         lambda p, part=part: write(part.select(cols), p))
    for d, n in zip(*np.unique(dd, return_counts=True)):
        tally.add("order_lines", c.channel_id, int(n))


def write_fulfillment(sim: Simulation, out: Path, tally: Tally, order_ids: pl.Series,
                      line_ids: pl.Series, tracking: pl.Series) -> None:
    """Shipped and delivered events per fulfilling location and day (carrier + tracking).

    Store sales are a shipped and a delivered event at the till, without a carrier, so
    every stock movement of a location is in its fulfillment events."""
    cat, ln, o = sim.cat, sim.lines, sim.orders
    carriers = pl.Series([c.name for c in CARRIERS], dtype=pl.String)
    loc_ids = pl.Series([l.location_id for l in cat.locations])
    chan_ids = pl.Series([c.channel_id for c in cat.channels])
    parts = []
    for kind in ("shipped", "delivered"):
        t = o[kind][ln["order"]]
        ok = (t >= 0) & (t < cat.days * DAY)
        L = np.flatnonzero(ok)
        parts.append((kind, L, t[L]))
    for lo in range(0, cat.days, CHUNK_DAYS):
        frames = []
        for kind, L, t in parts:
            sel = (t // DAY >= lo) & (t // DAY < lo + CHUNK_DAYS)
            Ls, ts = L[sel], t[sel]
            Oi = ln["order"][Ls]
            ci = o["carrier"][Oi]
            frames.append(pl.DataFrame({
                "shipment_id": _zfill("SHP", Oi * 8 + ln["loc"][Ls], 11),
                "channel_id": chan_ids.gather(ln["chan"][Ls]),
                "order_id": order_ids.gather(Oi),
                "line_id": line_ids.gather(Ls),
                "sku": pl.Series(cat.sku).gather(ln["prod"][Ls]),
                "quantity": ln["qty"][Ls].astype(np.int32),
                "location_id": loc_ids.gather(ln["loc"][Ls]),
                "carrier": pl.select(pl.when(pl.Series(ci >= 0)).then(
                    carriers.gather(np.maximum(ci, 0)))).to_series(),
                "tracking_number": pl.select(pl.when(pl.Series(ci >= 0)).then(
                    tracking.gather(Oi))).to_series(),
                "event_type": kind,
                "event_at": _ts(sim, ts),
                "_day": ts // DAY, "_loc": ln["loc"][Ls],
            }))
        frame = pl.concat(frames).sort("_loc", "_day", "event_at", "shipment_id", "line_id",
                                       "event_type", maintain_order=True)
        _write_split(frame, "fulfillment_events", ["_loc", "_day"],
                     _location_day_file(sim, out / "fulfillment_events", "shipments"), tally)


def write_returns(sim: Simulation, out: Path, tally: Tally, order_ids: pl.Series,
                  line_ids: pl.Series) -> None:
    """RMAs: one row when requested, an updated row when received (condition, refund), or
    after 30 days for parcels that never came back (condition ``missing``). Store returns
    are requested and received at once: one row."""
    cat, ln, o, r = sim.cat, sim.lines, sim.orders, sim.returns
    if not len(r["qty"]):
        return
    n = len(r["qty"])
    settled = np.where(r["condition"] == 3, r["requested"] + 30 * DAY, r["received"])
    loc_ids = pl.Series([l.location_id for l in cat.locations])
    L = r["line"]
    base = pl.DataFrame({
        "rma_id": _zfill("RMA", np.arange(n) + 1, 8),
        "channel_id": pl.Series([c.channel_id for c in cat.channels]).gather(ln["chan"][L]),
        "order_id": order_ids.gather(ln["order"][L]),
        "line_id": line_ids.gather(L),
        "sku": pl.Series(cat.sku).gather(ln["prod"][L]),
        "quantity": r["qty"].astype(np.int32),
        "reason": pl.Series(REASONS).gather(r["reason"]),
        "requested_at": _ts(sim, r["requested"]),
        "currency": pl.Series([c.currency for c in cat.channels]).gather(ln["chan"][L]),
    })
    requested = base.with_columns(
        condition=pl.lit(None, pl.String), resellable=pl.lit(None, pl.Boolean),
        location_id=pl.lit(None, pl.String), received_at=pl.lit(None, pl.Datetime("us")),
        refund_amount=pl.lit(None, pl.Float64), updated_at=pl.col("requested_at"),
        _t=r["requested"])
    has_loc = r["loc"] >= 0
    done = base.with_columns(
        condition=pl.Series(CONDITIONS).gather(r["condition"]),
        resellable=pl.Series(r["condition"] == 0),
        location_id=pl.select(pl.when(pl.Series(has_loc)).then(
            loc_ids.gather(np.maximum(r["loc"], 0)))).to_series(),
        received_at=_ts(sim, r["received"]),
        refund_amount=pl.Series(r["refund"]),
        updated_at=_ts(sim, settled),
        _t=settled)
    # a return settled on the day it was requested (at the till) is one row, not two rows
    # with one key in one file
    same_day = pl.Series(settled // DAY == r["requested"] // DAY)
    requested = requested.filter(~same_day)
    frame = pl.concat([requested, done]).filter(pl.col("_t") < cat.days * DAY).with_columns(
        _day=pl.col("_t") // DAY).sort("_day", "_t", "rma_id", maintain_order=True)
    _write_split(frame, "returns", ["_day"],
                 lambda d: (out / "returns" / f"returns_{_day_name(sim, d)}.csv", ""), tally)


def write_stock(sim: Simulation, out: Path, tally: Tally) -> None:
    """Daily end-of-day snapshots per location (system stock; cycle-counted rows carry the
    count, which may be off by a unit or two) and the day's stock adjustments.

    A location lists every SKU in its assortment from 30 days before launch until a
    discontinued SKU has sold out, so a stockout shows as ``on_hand = 0``.
    """
    cat = sim.cat
    cnt = sim.counts
    cnt_key = (cnt["cday"] * cat.n_loc + cnt["cloc"]) * cat.n_prod + cnt["cprod"]
    order = np.argsort(cnt_key, kind="stable")
    cnt_key, cnt_qty = cnt_key[order], cnt["cqty"][order]
    skus = pl.Series(cat.sku)
    eod = 23 * 3600 + 59 * 60 + 59
    snapshot_file = _location_day_file(sim, out / "stock_snapshots", "stock")
    for li, loc in enumerate(cat.locations):
        for lo in range(0, cat.days, CHUNK_DAYS):
            hi = min(cat.days, lo + CHUNK_DAYS)
            st = sim.stock[lo:hi, li]  # (chunk days, n_prod)
            dd = np.arange(lo, hi)[:, None]
            keep = cat.stocked[li][None, :] & ((dd >= cat.launch_day - 30) | (st > 0)) & ~(
                (dd >= cat.discontinue_day) & (st == 0))
            d, p = np.nonzero(keep)
            d = d + lo
            on_hand = sim.stock[d, li, p].astype(np.int64)
            k = (d * cat.n_loc + li) * cat.n_prod + p
            if len(cnt_key):
                pos = np.minimum(np.searchsorted(cnt_key, k), len(cnt_key) - 1)
                counted = cnt_key[pos] == k
                on_hand = np.where(counted, cnt_qty[pos], on_hand)
            else:
                counted = np.zeros(len(p), bool)
            # counts happen during the morning shift; system stock is stamped at day end
            t = np.where(counted, d * DAY + 6 * 3600 + (p * 37) % (6 * 3600), d * DAY + eod)
            frame = pl.DataFrame({
                "snapshot_date": _dates(sim, d),
                "location_id": loc.location_id,
                "sku": skus.gather(p),
                "on_hand": on_hand.astype(np.int32),
                "reserved": sim.reserved[d, li, p].astype(np.int32),
                "counted": counted,
                "counted_at": _ts(sim, t),
                "_day": d,
            })
            _write_split(frame, "stock_snapshots", ["_day"],
                         lambda day, li=li: snapshot_file(li, day), tally)
    a = sim.adjustments
    if len(a["qty"]):
        frame = pl.DataFrame({
            "adjustment_id": _zfill("ADJ", a["id"] + 1, 9),
            "location_id": pl.Series([l.location_id for l in cat.locations]).gather(a["loc"]),
            "sku": skus.gather(a["prod"]),
            "quantity": a["qty"].astype(np.int32),
            "reason": pl.Series(ADJ_REASONS).gather(a["reason"]),
            "reference": pl.select(pl.when(pl.Series(a["ref"] >= 0)).then(
                _zfill("TRF", a["ref"] + 1, 7))).to_series(),
            "adjusted_at": _ts(sim, a["at"]),
            "_day": a["at"] // DAY, "_loc": a["loc"],
        }).sort("_loc", "_day", "adjusted_at", "adjustment_id")
        _write_split(frame, "stock_adjustments", ["_loc", "_day"],
                     _location_day_file(sim, out / "stock_adjustments", "adjustments"), tally)


def write_purchasing(sim: Simulation, out: Path, tally: Tally) -> None:
    """PO lines when ordered (status open) and again when closed or cancelled; receipts
    (possibly several per PO line: split deliveries; possibly short)."""
    cat, po, rc = sim.cat, sim.po_lines, sim.receipts
    if not len(po["qty"]):
        return
    sup_ids = pl.Series(cat.frames["suppliers"]["supplier_id"])
    loc_ids = pl.Series([l.location_id for l in cat.locations])
    po_number = _zfill("PO-", po["po"] + 1, 6)
    base = pl.DataFrame({
        "po_number": po_number,
        "supplier_id": sup_ids.gather(po["sup"]),
        "sku": pl.Series(cat.sku).gather(po["prod"]),
        "location_id": loc_ids.gather(po["loc"]),
        "quantity_ordered": po["qty"].astype(np.int32),
        "unit_cost": po["cost"],
        "currency": pl.Series(cat.sup_currency).gather(po["sup"]),
        "ordered_at": _ts(sim, po["ordered"]),
        "expected_at": _dates(sim, po["expected_day"]),
    })
    opened = base.with_columns(status=pl.lit("open"), updated_at=pl.col("ordered_at"),
                               _t=po["ordered"])
    closed = base.with_columns(status=pl.Series(np.where(po["status"] == 2, "cancelled",
                                                         "closed")),
                               updated_at=_ts(sim, po["closed"]), _t=po["closed"])
    frame = pl.concat([opened, closed]).filter(pl.col("_t") < cat.days * DAY).with_columns(
        _day=pl.col("_t") // DAY).sort("_day", "_t", "po_number", "sku", maintain_order=True)
    _write_split(frame, "purchase_orders", ["_day"], lambda d: (
        out / "purchase_orders" / f"purchase_orders_{_day_name(sim, d)}.csv", ""), tally)
    pl_idx = rc["po_line"]
    rec = pl.DataFrame({
        "receipt_id": _zfill("GR-", rc["receipt"] + 1, 7),
        "po_number": po_number.gather(pl_idx),
        "sku": pl.Series(cat.sku).gather(po["prod"][pl_idx]),
        "location_id": loc_ids.gather(po["loc"][pl_idx]),
        "quantity_received": rc["qty"].astype(np.int32),
        "received_at": _ts(sim, rc["at"]),
        "_t": rc["at"],
    }).filter(pl.col("_t") < cat.days * DAY).with_columns(_day=pl.col("_t") // DAY).sort(
        "_day", "_t", "receipt_id", "po_number", "sku", maintain_order=True)
    _write_split(rec, "receipts", ["_day"], lambda d: (
        out / "receipts" / f"receipts_{_day_name(sim, d)}.csv", ""), tally)


def write_truth(sim: Simulation, truth: Path) -> list[Path]:
    """What no inbox may hold: true (uncensored) demand, drawn classes, hidden behaviour."""
    cat = sim.cat
    truth.mkdir(parents=True, exist_ok=True)
    d, p = np.nonzero(sim.truth_demand)
    demand = pl.DataFrame({
        "date": _dates(sim, d), "sku": pl.Series(cat.sku).gather(p),
        "demand_units": sim.truth_demand[d, p], "lost_units": sim.truth_lost[d, p],
    })
    skus = pl.DataFrame({
        "sku": cat.sku, "demand_class": np.array(DEMAND_CLASSES)[cat.demand_class],
        "line_rate_per_day": cat.line_rate, "trend_per_year": cat.trend,
        "planner_bias": cat.planner_bias, "is_bundle": cat.is_bundle,
    })
    suppliers = cat.frames["suppliers"].select("supplier_id").with_columns(
        late_probability=cat.sup_late_prob, short_probability=cat.sup_short_prob)
    paths = []
    for name, frame in (("demand", demand), ("skus", skus), ("suppliers", suppliers)):
        path = truth / f"{name}.parquet"
        write_atomic(path, lambda t, f=frame: f.write_parquet(t))
        paths.append(path)
    return paths
