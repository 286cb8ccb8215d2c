"""Replenishment commands: suggestions (what to order now, with reasons) and policy (one SKU)."""

from __future__ import annotations

from pathlib import Path

import click

from pipelines.commands.common import (
    check_known,
    listing_to_show,
    read_only_after,
    require_tables,
    with_decision_status,
)

FIX = "run `shelfwise demo`, the `replenishment` job, or this command with --refresh"


def _read_only(ctx: click.Context, refresh: bool):
    """The warehouse opened read-only, after running the replenishment job when asked."""
    return read_only_after(ctx, "replenishment" if refresh else None)


@click.command()
@click.option("--supplier", help="only this supplier id")
@click.option("--sku", help="only this SKU")
@click.option("--location", help="only this location id")
@click.option("--limit", default=30, show_default=True, help="suggestions to print (0: all)")
@click.option("--all", "show_all", is_flag=True,
              help="also the lines already sent to their supplier (hidden by default)")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="also export every matching suggestion (.csv or .xlsx)")
@click.option("--refresh", is_flag=True, help="run the replenishment job first")
@click.pass_context
def suggestions(ctx, supplier, sku, location, limit, show_all, out, refresh):
    """Today's order suggestions, most urgent first, each with its reason.

    A suggestion is order-up-to − inventory position, rounded up to whole cases, at least the
    MOQ, within the coverage cap, topped up to the supplier's minimum order value, for every
    SKU × location at or below its reorder point (docs/replenishment.md). Reads the warehouse
    read-only as last computed; --refresh recomputes first.

    Each line shows its id (what `shelfwise approve` / `reject` take) and its status in the
    decision store (proposed, approved, edited, rejected; sent lines only with --all). An
    unknown SKU, supplier or location is an error (exit 1). The export's numbers are rounded
    (money to cents, units and days to a tenth, service level to 4 decimals).

    \b
    Examples:
      shelfwise suggestions
      shelfwise suggestions --supplier SUP-004 --out sup-004.xlsx
      shelfwise suggestions --sku SKU-00042 --refresh
    """
    from pipelines import queries
    from pipelines.summary import format_table

    settings, opened = _read_only(ctx, refresh)
    with opened as con:
        require_tables(con, "marts.replenishment_suggestions", fix=FIX)
        check_known(con, sku=sku, supplier=supplier, location=location)
        frame = queries.suggestions(con, supplier=supplier, sku=sku, location=location)
        minimums = queries.supplier_minimums(con)
    frame, hidden = with_decision_status(frame, settings.home, show_all)
    shown = listing_to_show(frame, hidden, nothing="no suggestions match: nothing needs ordering now",
                            filtered=bool(supplier or sku or location), sent_what="line(s)",
                            out=out, limit=limit)
    if shown is None:
        return
    base = settings.base_currency
    click.echo(format_table(
        ["#", "sku", "location", "supplier", "order day", "arrives", "units", "cases",
         "value", f"value {base}", "runs out", "status", "id"],
        [(r["urgency_rank"], r["sku"], r["location_id"], r["supplier_id"], str(r["order_date"]),
          str(r["expected_arrival_date"]), r["suggested_units"], r["cases"],
          f"{r['line_value']:,.2f} {r['currency']}" if r["line_value"] is not None else "",
          f"{r['line_value_base']:,.2f}" if r["line_value_base"] is not None else "",
          str(r["projected_stockout_date"] or ""),
          r["status"] + (f" ({r['decided_units']})" if r["status"] == "edited" else ""),
          r["suggestion_id"]) for r in shown.iter_rows(named=True)]))
    click.echo("\nReasons")
    for r in shown.iter_rows(named=True):
        click.echo(f"  #{r['urgency_rank']} {r['sku']} @ {r['location_id']}: {r['reason']}")
    _print_orders_per_supplier(frame, minimums, base)
    more = frame.height - shown.height
    click.echo(f"\n{frame.height} suggestion(s)" + (f", {more} not shown (--limit 0 shows all)"
                                                    if more else "")
               + (f"; {hidden} sent line(s) hidden (--all shows them)" if hidden else "")
               + (f"; exported to {out}" if out else ""))


def _print_orders_per_supplier(frame, minimums, base: str) -> None:
    """One row per supplier and order day: lines, value, the approved value (what restock
    sends) against the supplier's minimum order value."""
    import polars as pl

    from pipelines.summary import format_table

    # the minimum order value is checked on what restock sends: approved and edited lines
    to_send = pl.col("status").is_in(["approved", "edited"])
    approved_value = (pl.coalesce("decided_units", "suggested_units") * pl.col("unit_cost"))
    orders = (frame.group_by("supplier_id", "order_date", "currency")
              .agg(pl.len().alias("lines"), pl.col("line_value").sum(),
                   approved_value.filter(to_send).sum().alias("approved_value"),
                   pl.col("line_value_base").sum())
              .join(minimums.select("supplier_id", "min_order_value"), on="supplier_id",
                    how="left")
              .sort("order_date", "supplier_id"))

    def against_minimum(r) -> str:
        if not r["min_order_value"]:
            return "-"
        short = r["min_order_value"] - r["approved_value"]
        if r["approved_value"] and short > 0:
            return f"{r['min_order_value']:,.2f} ({short:,.2f} short: restock holds it)"
        return f"{r['min_order_value']:,.2f}"

    click.echo("\nOrders per supplier (value: every line shown; approved: what restock sends)")
    click.echo(format_table(
        ["supplier", "order day", "lines", "value", "approved", "minimum", f"value {base}"],
        [(r["supplier_id"], str(r["order_date"]), r["lines"],
          f"{r['line_value']:,.2f} {r['currency']}", f"{r['approved_value']:,.2f}",
          against_minimum(r),
          f"{r['line_value_base']:,.2f}" if r["line_value_base"] is not None else "")
         for r in orders.iter_rows(named=True)]))


@click.command()
@click.option("--sku", required=True, help="the SKU to show")
@click.option("--location", help="only this location id")
@click.option("--days", default=28, show_default=True, help="days of projected stock to print")
@click.option("--refresh", is_flag=True, help="run the replenishment job first")
@click.pass_context
def policy(ctx, sku, location, days, refresh):
    """A SKU's policy numbers per location and its projected stock, day by day.

    Service level (and whether it comes from the ABC × XYZ matrix or an override), lead time
    (learned or master data), review period, safety stock, reorder point, order-up-to level,
    the inventory position and its parts, days of cover, projected stockout and the last day
    to order; then projected on hand per day (inbound deliveries in brackets).

    \b
    Example:
      shelfwise policy --sku SKU-00042 --days 14
    """
    from pipelines import queries
    from pipelines.summary import format_table

    _, opened = _read_only(ctx, refresh)
    with opened as con:
        require_tables(con, "marts.replenishment_policy", "marts.projected_stock", fix=FIX)
        rows = queries.policy(con, sku=sku, location=location)
        projection = queries.projected_stock(con, sku=sku, location=location)
    if rows.is_empty():
        raise click.ClickException(
            f"no policy for SKU {sku!r}" + (f" at {location!r}" if location else "")
            + ": check the SKU (bundles, SKUs without a supplier and unstocked SKUs have none)")
    first = rows.row(0, named=True)
    click.echo(f"{sku} {first['product_name'] or ''}: supplier {first['supplier_id']} "
               f"({first['supplier_name']}), case pack {first['case_pack']}, MOQ {first['moq']}, "
               f"as of {first['as_of']}")

    def num(v, fmt="{:,.0f}"):
        return "" if v is None else fmt.format(v)

    fields = [
        ("ABC × XYZ", lambda r: f"{r['abc_class']}{r['xyz_class']}"),
        ("service level", lambda r: f"{r['service_level']:.1%} ({r['service_level_source']})"),
        ("lead time, days", lambda r: f"{r['lead_time_mean_days']:.1f} ± {r['lead_time_sd_days']:.1f} "
                                      f"({r['lead_time_source']})"),
        ("review period, days", lambda r: num(r["review_period_days"])),
        ("demand share", lambda r: f"{r['demand_share']:.0%} ({r['share_source']})"
                                   if r["demand_share"] is not None else ""),
        ("mean daily demand", lambda r: num(r["mean_daily_demand_units"], "{:,.2f}")),
        ("safety stock", lambda r: num(r["safety_stock_units"], "{:,.1f}")),
        ("reorder point", lambda r: num(r["reorder_point_units"])),
        ("order-up-to", lambda r: num(r["order_up_to_units"])),
        ("on hand", lambda r: num(r["on_hand_units"])),
        ("+ on order", lambda r: num(r["on_order_units"])),
        ("− allocated", lambda r: num(r["allocated_units"])),
        ("− backorders", lambda r: num(r["backorder_units"])),
        ("= inventory position", lambda r: num(r["inventory_position_units"])),
        ("days of cover", lambda r: num(r["days_of_cover"], "{:,.1f}")),
        ("projected stockout", lambda r: str(r["projected_stockout_date"] or "none in horizon")),
        ("last day to order", lambda r: str(r["last_order_date"] or "")),
        ("next order day", lambda r: str(r["order_date"])),
        ("suggested now", lambda r: num(r["suggested_units"]) if r["suggested_units"] else
                                    ("no (discontinued)" if r["is_discontinued"] else "no")),
    ]
    records = list(rows.iter_rows(named=True))
    click.echo(format_table([""] + [r["location_id"] for r in records],
                            [(name, *(f(r) for r in records)) for name, f in fields]))
    for r in records:
        if r["reason"]:
            click.echo(f"\n{r['location_id']}: {r['reason']}")

    locations = [r["location_id"] for r in records]
    shown = projection.filter(projection["date"].is_in(projection["date"].unique().sort().head(days)
                                                       .implode()))
    cells = {(r["date"], r["location_id"]): r for r in shown.iter_rows(named=True)}
    dates = sorted({d for d, _ in cells})
    click.echo(f"\nProjected on hand (median demand; inbound in brackets), first {len(dates)} days")
    click.echo(format_table(["date"] + [f"{loc} (demand)" for loc in locations], [
        (str(d), *(_cell(cells.get((d, loc))) for loc in locations)) for d in dates
    ]))


def _cell(row) -> str:
    if row is None:
        return ""
    inbound = f" [+{row['inbound_units']}]" if row["inbound_units"] else ""
    return f"{row['projected_on_hand_units']}{inbound} ({row['demand_units']})"
