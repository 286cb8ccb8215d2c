"""Transfers before purchases: stock one location can spare, moved to one that needs it.

A plain library like :mod:`forecasting.policy`: polars frames in, frames out; no Dagster, no
DuckDB, no files. Quantities in units, lead times in days, costs in the caller's currency.

    moves = allocate_transfers(stock, lanes, default_lead_time_days=3)   # marts.transfer_suggestions
    left = purchase_needs(stock, moves)                                  # what is still bought

Definitions (docs/replenishment.md, "Transfers before purchases"):

- free units at a location: on hand − allocated − backorders (what could be picked today;
  stock on order cannot be moved);
- keep level of a location: its order-up-to level + its lead-time demand (expected demand over
  round(L) + R days): what it holds for itself before it gives anything away;
- excess (spare) units: free − keep, never below 0, rounded down to whole cases when the SKU
  has a case pack (a warehouse ships sealed cases); a location that needs an order spares
  nothing;
- request of a location that needs an order (at or below its reorder point, order-up-to above
  its position): order-up-to − inventory position, rounded up to whole cases;
- allocation, per SKU: the needing locations, most urgent first (earliest projected stockout,
  then the position furthest below the reorder point), take the spare units of the sources,
  largest spare first, in that order (the "north-west corner" rule: each pair gets the overlap
  of the destination's share of the cumulated requests with the source's share of the
  cumulated spare units). Set-based: one join of sources × destinations per SKU, no loops.
- second round, only for a SKU the company already holds enough of (Σ free units over its
  locations ≥ Σ reorder points, i.e. Σ lead-time demand + safety stock): a location still at
  or below its reorder point after the first round takes, in the same order, whole cases
  from the other locations' stock above their own **reorder point** (each keeps strictly
  more than its reorder point, so it needs no order itself). Without it, stock tied up under
  the other locations' order-up-to + lead-time demand was bought again (on the demo home, 7
  purchase lines of SKUs the company held enough of). A location still short after both
  rounds is bought for: no other location can spare a whole case above its reorder point.

Guarantees (tested with hypothesis in tests/forecasting/test_transfer_allocation.py): a source never
sends more than its spare units: it keeps at least its keep level (order-up-to + lead-time
demand), or, for a SKU the company holds enough of, strictly more than its reorder point; it
never falls below its reorder point; a destination never gets more than its request; a transfer
is a whole number of cases; units are conserved (Σ sent = Σ received per SKU); what is
transferred plus what is still to buy (:func:`purchase_needs`) covers the need: the position
ends above the reorder point, or a purchase brings it to the order-up-to level. A transfer
that lifts a location above its reorder point leaves nothing to buy now (the (s, S) rule:
buying the sliver up to order-up-to would be rounded up to a case and the MOQ).
"""

from __future__ import annotations

import polars as pl

# the columns allocate_transfers reads from ``stock`` (one row per SKU × location)
STOCK_COLUMNS = ("sku", "location_id", "free_units", "inventory_position_units",
                 "reorder_point_units", "order_up_to_units", "lead_time_demand_units",
                 "needs_order", "case_pack")
LANE_COLUMNS = ("from_location_id", "to_location_id", "lead_time_days", "cost_per_unit")

TRANSFER_SCHEMA = {
    "sku": pl.String, "from_location_id": pl.String, "to_location_id": pl.String,
    "transfer_units": pl.Int64, "case_pack": pl.Int64,
    "source_free_units": pl.Float64, "source_keep_units": pl.Float64,
    "source_excess_units": pl.Int64,
    "destination_position_units": pl.Float64, "destination_reorder_point_units": pl.Float64,
    "destination_order_up_to_units": pl.Float64, "destination_request_units": pl.Int64,
    "transfer_lead_time_days": pl.Float64, "cost_per_unit": pl.Float64,
    "transfer_cost": pl.Float64,
    # which round moved it: "spare" (above order-up-to + lead-time demand) or "company_cover"
    # (above the source's reorder point, for a SKU the company holds enough of)
    "rule": pl.String, "source_reorder_point_units": pl.Float64,
    "company_free_units": pl.Float64, "company_reorder_point_units": pl.Float64,
}
RULES = ("spare", "company_cover")


def _pack() -> pl.Expr:
    return pl.col("case_pack").fill_null(1).cast(pl.Int64).clip(lower_bound=1)


def _check(stock: pl.DataFrame) -> None:
    missing = [c for c in STOCK_COLUMNS if c not in stock.columns]
    if missing:
        raise ValueError(f"allocate_transfers: stock lacks column(s) {', '.join(missing)}")
    if stock.select("sku", "location_id").is_duplicated().any():
        raise ValueError("allocate_transfers: one row per sku × location_id expected")


def spare_and_requests(stock: pl.DataFrame, *, keep: str = "spare"
                       ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(sources, destinations)`` of :func:`allocate_transfers`, each with its cumulated
    interval per SKU (``lo``, ``hi`` in units; both multiples of the SKU's case pack).

    ``keep``: ``"spare"`` (a source keeps its order-up-to + lead-time demand: the first round)
    or ``"company_cover"`` (a source keeps strictly more than its reorder point: the second
    round). Optional columns of ``stock`` for the second round: ``committed_units`` (already
    sent, subtracted from a source's free units) and ``incoming_units`` (already coming,
    added to a destination's position; a destination lifted above its reorder point asks
    nothing more).

    ``sources``: rows with spare units (``excess_units`` > 0), largest first, then by
    location id. ``destinations``: rows that need an order with a positive request, most
    urgent first: ``projected_stockout_date`` (when the column exists; no date last), then the
    position ÷ reorder point, then location id.
    """
    _check(stock)
    if keep not in RULES:
        raise ValueError(f"keep is one of {RULES}, got {keep!r}")
    frame = stock.with_columns(
        _pack().alias("case_pack"),
        (pl.col("order_up_to_units").fill_null(0.0)
         + pl.col("lead_time_demand_units").fill_null(0.0).clip(lower_bound=0.0))
        .cast(pl.Float64).alias("keep_units") if keep == "spare"
        else pl.col("reorder_point_units").fill_null(0.0).cast(pl.Float64).alias("keep_units"),
        pl.col("needs_order").fill_null(False),
        *[pl.lit(0.0).alias(c) for c in ("committed_units", "incoming_units")
          if c not in stock.columns],
    )
    # spare: whole cases above the keep level (strictly above a reorder point, so the source
    # needs no order itself); a needing location spares nothing
    above = ((pl.col("free_units").fill_null(0.0) - pl.col("committed_units")
              - pl.col("keep_units")).clip(lower_bound=0.0) / pl.col("case_pack"))
    cases = (above + 1e-9).floor() if keep == "spare" else (above - 1e-9).floor().clip(lower_bound=0)
    spare = cases.cast(pl.Int64) * pl.col("case_pack")
    position = pl.col("inventory_position_units") + pl.col("incoming_units")
    need = (pl.col("order_up_to_units") - position).clip(lower_bound=0.0)
    request = (need / pl.col("case_pack") - 1e-9).ceil().cast(pl.Int64) * pl.col("case_pack")
    # a destination that a first-round transfer lifted above its reorder point asks no more
    asks = pl.col("needs_order") & ((pl.col("incoming_units") <= 0)
                                    | (position <= pl.col("reorder_point_units")))
    frame = frame.with_columns(
        pl.when(pl.col("needs_order")).then(0).otherwise(spare).alias("excess_units"),
        pl.when(asks).then(request).otherwise(0).clip(lower_bound=0).alias("request_units"),
    )
    sources = (frame.filter(pl.col("excess_units") > 0)
               .sort(["sku", "excess_units", "location_id"], descending=[False, True, False])
               .with_columns(pl.col("excess_units").cum_sum().over("sku").alias("hi"))
               .with_columns((pl.col("hi") - pl.col("excess_units")).alias("lo")))
    urgency = [pl.col("sku")]
    if "projected_stockout_date" in frame.columns:
        urgency.append(pl.col("projected_stockout_date"))
    urgency += [(pl.col("inventory_position_units")
                 / pl.col("reorder_point_units").clip(lower_bound=1.0)), pl.col("location_id")]
    destinations = (frame.filter(pl.col("request_units") > 0)
                    .sort(urgency, nulls_last=True)
                    .with_columns(pl.col("request_units").cum_sum().over("sku").alias("hi"))
                    .with_columns((pl.col("hi") - pl.col("request_units")).alias("lo")))
    return sources, destinations


def _lanes(lanes: pl.DataFrame | None) -> pl.DataFrame:
    if lanes is None:
        return pl.DataFrame(schema={"from_location_id": pl.String, "to_location_id": pl.String,
                                    "lead_time_days": pl.Float64, "cost_per_unit": pl.Float64})
    missing = [c for c in LANE_COLUMNS if c not in lanes.columns]
    if missing:
        raise ValueError(f"allocate_transfers: lanes lack column(s) {', '.join(missing)}")
    return lanes.select(pl.col("from_location_id").cast(pl.String),
                        pl.col("to_location_id").cast(pl.String),
                        pl.col("lead_time_days").cast(pl.Float64),
                        pl.col("cost_per_unit").cast(pl.Float64))


def allocate_transfers(
    stock: pl.DataFrame,
    lanes: pl.DataFrame | None = None,
    *,
    default_lead_time_days: float = 3.0,
    default_cost_per_unit: float = 0.0,
) -> pl.DataFrame:
    """Transfers per SKU from locations with spare stock to locations that need an order.

    ``stock``: one row per SKU × location with :data:`STOCK_COLUMNS` (``free_units`` = on hand
    − allocated − backorders; ``lead_time_demand_units`` = expected demand over the location's
    round(L) + R days; ``needs_order`` as in ``marts.replenishment_policy``; ``case_pack`` null
    or below 1 means single units) and optionally ``projected_stockout_date`` (urgency).
    ``lanes``: per ordered location pair ``lead_time_days`` and ``cost_per_unit``; a pair
    that is not listed takes the defaults (3 days, no cost, unless given).

    Returns one row per SKU × source × destination with ``transfer_units`` > 0 and the numbers
    behind it (:data:`TRANSFER_SCHEMA`; ``transfer_cost`` = units × cost per unit; ``rule``
    = the round that moved it, ``company_cover`` when the second round added to it). Empty
    (with that schema) when nothing can move. See the module docstring for the two rounds.
    """
    if default_lead_time_days < 0 or default_cost_per_unit < 0:
        raise ValueError("transfer lead time and cost per unit must be ≥ 0")
    _check(stock)
    company = stock.group_by("sku").agg(
        pl.col("free_units").fill_null(0.0).sum().cast(pl.Float64).alias("company_free_units"),
        pl.col("reorder_point_units").fill_null(0.0).sum().cast(pl.Float64)
        .alias("company_reorder_point_units"))
    first = _moves(*spare_and_requests(stock), rule="spare")
    # second round: SKUs the company holds enough of (Σ free ≥ Σ reorder points), from the
    # stock above the other locations' reorder points, after what the first round moved
    covered = company.filter(pl.col("company_free_units") >= pl.col("company_reorder_point_units"))
    sent = first.group_by("sku", pl.col("from_location_id").alias("location_id")).agg(
        pl.col("transfer_units").sum().cast(pl.Float64).alias("committed_units"))
    got = first.group_by("sku", pl.col("to_location_id").alias("location_id")).agg(
        pl.col("transfer_units").sum().cast(pl.Float64).alias("incoming_units"))
    rest = (stock.join(covered.select("sku"), on="sku", how="semi")
            .join(sent, on=["sku", "location_id"], how="left")
            .join(got, on=["sku", "location_id"], how="left")
            .with_columns(pl.col("committed_units", "incoming_units").fill_null(0.0)))
    second = _moves(*spare_and_requests(rest, keep="company_cover"), rule="company_cover")
    moves = (
        pl.concat([first, second])
        .group_by("sku", "from_location_id", "to_location_id", maintain_order=True)
        .agg(pl.col("transfer_units").sum(), pl.col("rule").max(),  # company_cover > spare
             pl.exclude("transfer_units", "rule").first())
        .join(_lanes(lanes), on=["from_location_id", "to_location_id"], how="left")
        .join(company, on="sku", how="left")
        .with_columns(
            pl.col("lead_time_days").fill_null(float(default_lead_time_days))
            .alias("transfer_lead_time_days"),
            pl.col("cost_per_unit").fill_null(float(default_cost_per_unit)),
        )
        .with_columns((pl.col("transfer_units") * pl.col("cost_per_unit")).alias("transfer_cost"))
    )
    return (moves.select([pl.col(c).cast(t) for c, t in TRANSFER_SCHEMA.items()])
            .sort("sku", "to_location_id", "from_location_id"))


def _moves(sources: pl.DataFrame, destinations: pl.DataFrame, *, rule: str) -> pl.DataFrame:
    """One round's moves: the overlap of each source's cumulated spare interval with each
    destination's cumulated request interval, per SKU (units > 0 only)."""
    src = sources.select(
        "sku", pl.col("location_id").alias("from_location_id"), "case_pack",
        pl.col("free_units").cast(pl.Float64).alias("source_free_units"),
        pl.col("keep_units").alias("source_keep_units"),
        pl.col("excess_units").alias("source_excess_units"),
        pl.col("reorder_point_units").cast(pl.Float64).alias("source_reorder_point_units"),
        pl.col("lo").alias("s_lo"), pl.col("hi").alias("s_hi"))
    dst = destinations.select(
        "sku", pl.col("location_id").alias("to_location_id"),
        pl.col("inventory_position_units").cast(pl.Float64).alias("destination_position_units"),
        pl.col("reorder_point_units").cast(pl.Float64).alias("destination_reorder_point_units"),
        pl.col("order_up_to_units").cast(pl.Float64).alias("destination_order_up_to_units"),
        pl.col("request_units").alias("destination_request_units"),
        pl.col("lo").alias("d_lo"), pl.col("hi").alias("d_hi"))
    return (
        src.join(dst, on="sku", how="inner")
        # the overlap of the two cumulated intervals: what this source gives this destination
        .with_columns((pl.min_horizontal("s_hi", "d_hi") - pl.max_horizontal("s_lo", "d_lo"))
                      .clip(lower_bound=0).cast(pl.Int64).alias("transfer_units"))
        .filter(pl.col("transfer_units") > 0)
        .with_columns(pl.lit(rule).alias("rule"))
        .drop("s_lo", "s_hi", "d_lo", "d_hi")
    )


def purchase_needs(stock: pl.DataFrame, transfers: pl.DataFrame) -> pl.DataFrame:
    """What is still to buy per SKU × location after the transfers arrive.

    Returns ``stock`` with ``transfer_in_units`` and ``transfer_out_units`` (0 when none),
    ``position_after_transfers_units`` (inventory position + in; what goes out is spare, so it
    does not count against the source's order), ``needs_order_after_transfers`` (it needed an
    order and is still at or below its reorder point) and ``need_after_transfers_units``
    (order-up-to − position after transfers when it still needs an order, else 0). For every
    location that needed an order, position + transferred in + still needed is above the
    reorder point or at the order-up-to level.
    """
    moved_in = (transfers.group_by("sku", pl.col("to_location_id").alias("location_id"))
                .agg(pl.col("transfer_units").sum().alias("transfer_in_units")))
    moved_out = (transfers.group_by("sku", pl.col("from_location_id").alias("location_id"))
                 .agg(pl.col("transfer_units").sum().alias("transfer_out_units")))
    out = (stock.join(moved_in, on=["sku", "location_id"], how="left")
           .join(moved_out, on=["sku", "location_id"], how="left")
           .with_columns(pl.col("transfer_in_units").fill_null(0),
                         pl.col("transfer_out_units").fill_null(0))
           .with_columns((pl.col("inventory_position_units") + pl.col("transfer_in_units"))
                         .alias("position_after_transfers_units")))
    still = (pl.col("needs_order").fill_null(False)
             & (pl.col("position_after_transfers_units") <= pl.col("reorder_point_units"))
             & (pl.col("order_up_to_units") > pl.col("position_after_transfers_units")))
    return out.with_columns(still.alias("needs_order_after_transfers")).with_columns(
        pl.when(pl.col("needs_order_after_transfers"))
        .then(pl.col("order_up_to_units") - pl.col("position_after_transfers_units"))
        .otherwise(0.0).alias("need_after_transfers_units"))


def _units(expr: pl.Expr) -> pl.Expr:
    return expr.round(0).cast(pl.Int64).cast(pl.String)


def transfer_reason(frame: pl.DataFrame | None = None) -> pl.Expr:
    """The reason of a transfer line in words and numbers, from :func:`allocate_transfers`'
    columns: why the destination needs it, why the source can spare it, when it arrives."""
    need = pl.format(
        "{} is at or below its reorder point (position {} ≤ {}; order-up-to {}); ",
        pl.col("to_location_id"), _units(pl.col("destination_position_units")),
        _units(pl.col("destination_reorder_point_units")),
        _units(pl.col("destination_order_up_to_units")))
    spare = pl.format(
        "{} holds {} free, {} above its order-up-to + lead-time demand ({}), so it sends {} of "
        "them instead of buying",
        pl.col("from_location_id"), _units(pl.col("source_free_units")),
        _units(pl.col("source_free_units") - pl.col("source_keep_units")),
        _units(pl.col("source_keep_units")), pl.col("transfer_units").cast(pl.String))
    cover = pl.format(
        "the company holds {} free, covering the sum of its reorder points ({}), so {} sends {} "
        "of its {} free and keeps more than its own reorder point ({}) instead of buying",
        _units(pl.col("company_free_units")), _units(pl.col("company_reorder_point_units")),
        pl.col("from_location_id"), pl.col("transfer_units").cast(pl.String),
        _units(pl.col("source_free_units")), _units(pl.col("source_reorder_point_units")))
    arrives = pl.format(
        "; arrives in {} day(s).",
        pl.col("transfer_lead_time_days").round(1).cast(pl.String).str.replace(r"\.0$", ""))
    return pl.concat_str([need, pl.when(pl.col("rule") == "company_cover").then(cover)
                          .otherwise(spare), arrives]).alias("reason")
