"""KPIs (manager): headline numbers against the previous period, trends, breakdowns."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards import data, returns, ui
from dashboards.forecast_names import plain_model_name

st.title("KPIs")
# the forecast accuracy summary's columns (marts.kpi_forecast_accuracy_summary)
FORECAST_SUMMARY = {
    "wape": ui.Col("Error (WAPE)", "share"), "bias": ui.Col("Bias", "signed_share"),
    "weighted_wape": ui.Col("Error (WAPE, weighted)", "share"),
    "weighted_bias": ui.Col("Bias (weighted)", "signed_share"),
    "rmsse": ui.Col("RMSSE", "number"), "mean_rmsse": ui.Col("Mean RMSSE", "number"),
    "cutoffs": ui.Col("Backtest cut-offs", "count"), "skus": ui.Col("SKUs", "count"),
    "series": ui.Col("SKU × cut-off series", "count"),
    "actual_units": ui.Col("Units sold", "count"), "model": ui.Col("Model"),
    "demand_class": ui.Col("Demand class"), "horizon": ui.Col("Horizon (days)", "count"),
}
ui.snapshot_caption()

if not data.has_table("marts.kpi_sales_daily"):
    ui.not_computed("KPI marts", "KPI")
    st.stop()

bounds = data.date_bounds("marts.kpi_sales_daily", "order_date")
if bounds is None:
    st.info("No orders in the warehouse yet.")
    st.stop()
# the sidebar filters are drawn after the headline numbers, which the browser then shows
# first (ui.LateFilters)
filters = ui.LateFilters()
period = filters.period(bounds, key="kpi_period")
channels = filters.choice("Channel", data.dimension("core.channels", "channel_id"),
                          key="kpi_channels")
# weekly points once a daily line would be too dense to read on a phone
grain = "day" if period.days <= 62 else "week"
IN_CHANNELS = data.one_of("channels", "channel_id")
IN_CATEGORIES = data.one_of("categories", "category")
# what the marts were computed with: amounts are in the base currency (named by its code,
# never "base"), days are local days
BASE, ZONE = ui.base_currency(), "UTC"
if data.has_columns("marts.kpi_reporting_settings", ["timezone"]):
    ZONE = data.query("SELECT timezone FROM marts.kpi_reporting_settings").item() or ZONE
st.caption(f"Orders placed {period.start} to {period.end} ({period.days} days, local days in "
           f"{ZONE}), compared with the {period.days} days before. Amounts in {BASE}.")

# ONE definition of ship time, for the headline and the trend: per order (placed -> its last
# line shipped), non-cancelled orders the merchant ships; store sales and marketplace-
# fulfilled orders are counted beside it
SHIPPED_BY_US = "NOT is_cancelled AND fulfilled_by = 'merchant'"

HEADLINE_SQL = f"""
WITH periods AS (
    SELECT * FROM (VALUES ('now', $start::DATE, $end::DATE),
                          ('before', $prev_start::DATE, $prev_end::DATE)) AS t(label, lo, hi)
),
sales AS (
    SELECT label, sum(orders) AS orders, sum(revenue_base) AS revenue,
           sum(revenue_incl_shipping_base) AS revenue_incl_shipping,
           sum(revenue_base) / nullif(sum(orders) - sum(orders_unconverted), 0) AS aov,
           sum(orders_unconverted) AS orders_unconverted
    FROM periods JOIN marts.kpi_sales_daily ON order_date BETWEEN lo AND hi
    WHERE {IN_CHANNELS} GROUP BY label
),
fill AS (
    SELECT label, sum(units_shipped) / nullif(sum(units_ordered), 0) AS fill_rate
    FROM periods JOIN marts.kpi_fill_rate_daily ON order_date BETWEEN lo AND hi
    WHERE {IN_CHANNELS} GROUP BY label
),
on_time AS (
    SELECT label, sum(lines_on_time) / nullif(sum(lines_due), 0) AS on_time_rate
    FROM periods JOIN marts.kpi_on_time_ship_daily ON promise_date BETWEEN lo AND hi
    WHERE {IN_CHANNELS} GROUP BY label
),
fulfillment AS (
    SELECT label,
           quantile_cont(hours_to_ship, 0.5) FILTER (WHERE {SHIPPED_BY_US}) AS median_ship,
           quantile_cont(hours_to_ship, 0.9) FILTER (WHERE {SHIPPED_BY_US}) AS p90_ship,
           quantile_cont(hours_to_first_ship, 0.5) FILTER (WHERE {SHIPPED_BY_US})
               AS median_first_ship,
           count(hours_to_ship) FILTER (WHERE {SHIPPED_BY_US}) AS orders_shipped,
           count(*) FILTER (WHERE {SHIPPED_BY_US} AND is_shipped AND hours_to_ship IS NULL)
               AS shipped_untimed,
           count(*) FILTER (WHERE delivered_late AND {SHIPPED_BY_US})
               / nullif(count(delivered_late) FILTER (WHERE {SHIPPED_BY_US}), 0) AS late_share,
           count(*) FILTER (WHERE NOT is_cancelled AND fulfilled_by = 'store') AS store_orders,
           quantile_cont(hours_to_pickup, 0.5) FILTER (WHERE NOT is_cancelled) AS median_pickup,
           count(*) FILTER (WHERE NOT is_cancelled AND fulfilled_by = 'marketplace')
               AS marketplace_orders,
           quantile_cont(hours_to_ship, 0.5) FILTER (
               WHERE NOT is_cancelled AND fulfilled_by = 'marketplace') AS marketplace_median_ship
    FROM periods JOIN marts.kpi_order_facts ON order_date BETWEEN lo AND hi
    WHERE {IN_CHANNELS} GROUP BY label
)
SELECT *
FROM periods
LEFT JOIN sales USING (label) LEFT JOIN fill USING (label) LEFT JOIN on_time USING (label)
LEFT JOIN fulfillment USING (label)
"""

# one query for both periods: every query opens the snapshot afresh, so fewer is faster
by_label = {
    r["label"]: r
    for r in data.query(HEADLINE_SQL, {
        "start": period.start, "end": period.end, "channels": channels,
        "prev_start": period.previous.start, "prev_end": period.previous.end,
    }).to_dicts()
}
now, before = by_label["now"], by_label["before"]

params = {"start": period.start, "end": period.end, "channels": channels, "grain": grain}

if now["orders_unconverted"]:
    # money is never silently zero: say what is left out, in which currency, and the fix
    left_out = data.query(
        f"""SELECT currency, sum(orders) AS orders, sum(revenue) AS revenue
            FROM marts.kpi_unconverted_revenue
            WHERE order_date BETWEEN $start AND $end AND {IN_CHANNELS}
            GROUP BY currency ORDER BY revenue DESC""", params)
    amounts = ", ".join(f"{r['revenue']:,.2f} {r['currency']} ({r['orders']:,} orders)"
                        for r in left_out.to_dicts())
    first = left_out["currency"][0]
    st.warning(
        f"Revenue leaves out {amounts}: there is no FX rate to {BASE}. To include it, drop "
        f"an FX file in the inbox folder `fx_rates/` (CSV `rate_date,currency,rate_to_base`, "
        f"e.g. `2026-01-01,{first},0.17` = {BASE} per 1 {first}), or, if {first} is your "
        f"currency, set `base_currency = \"{first}\"` in shelfwise.toml. The next run "
        "recomputes every amount.", icon=":material/currency_exchange:")

orders_cell, revenue_cell, aov_cell, fill_cell = st.columns(4)
ui.metric(orders_cell, "Orders", ui.number(now["orders"]),
          ui.change(now["orders"], before["orders"]))
ui.metric(revenue_cell, f"Revenue ({BASE})", ui.number(now["revenue"]),
          ui.change(now["revenue"], before["revenue"]),
          help="Line amounts minus order discounts of non-cancelled orders, before shipping; "
               "orders without an FX rate are left out (see above).")
ui.metric(aov_cell, f"Average order value ({BASE})", ui.number(now["aov"], 2),
          ui.change(now["aov"], before["aov"]))
ui.metric(fill_cell, "Fill rate", ui.pct(now["fill_rate"]),
          ui.change(now["fill_rate"], before["fill_rate"], relative=False))
ship_cell, ship_p90_cell, on_time_cell, return_cell = st.columns(4)
# shorter is better for time and returns: an increase shows red
ui.metric(ship_cell, "Time to ship, median", ui.hours(now["median_ship"]),
          ui.change(now["median_ship"], before["median_ship"]), delta_color="inverse",
          help="Per order: placed -> its last line shipped; orders you ship "
               f"({ui.number(now['orders_shipped'])} in the period).")
ui.metric(ship_p90_cell, "Time to ship, p90", ui.hours(now["p90_ship"]),
          ui.change(now["p90_ship"], before["p90_ship"]), delta_color="inverse")
ui.metric(on_time_cell, "On-time ship rate", ui.pct(now["on_time_rate"]),
          ui.change(now["on_time_rate"], before["on_time_rate"], relative=False))
# returns: "no returns data" / withheld rather than a misleading 0 % (dashboards/returns.py)
returns_known = returns.returns_data()
rate_now, rate_before = returns_known.rates(period, channels)
return_rate = returns_known.headline(rate_now)
ui.metric(return_cell, "Return rate (units)", return_rate,
          ui.change(rate_now, rate_before, relative=False)
          if return_rate == ui.pct(rate_now) else None,
          delta_color="inverse", help="Returned ÷ shipped units of the lines shipped in the "
          "period, whenever the returns came back (docs/kpis.md).")
shipping_cell, first_ship_cell, late_cell, store_cell = st.columns(4)
ui.metric(shipping_cell, f"Revenue incl. shipping ({BASE})",
          ui.number(now["revenue_incl_shipping"]),
          ui.change(now["revenue_incl_shipping"], before["revenue_incl_shipping"]))
ui.metric(first_ship_cell, "Time to first shipment, median", ui.hours(now["median_first_ship"]),
          ui.change(now["median_first_ship"], before["median_first_ship"]),
          delta_color="inverse", help="Per order: placed -> its first line shipped.")
ui.metric(late_cell, "Delivered late (after promise)", ui.pct(now["late_share"]),
          ui.change(now["late_share"], before["late_share"], relative=False),
          delta_color="inverse",
          help="Delivered orders with a promised delivery date, delivered after it "
               "(local day).")
ui.metric(store_cell, "In-store sales (orders)", ui.number(now["store_orders"]),
          ui.change(now["store_orders"], before["store_orders"]),
          help="Sold or picked up in a store: not shipments, not in the ship times.")
notes = []
if now["marketplace_orders"]:
    notes.append(f"{now['marketplace_orders']:,} marketplace-fulfilled orders (e.g. Amazon FBA) "
                 "are shown apart from the ship times above"
                 + (f" (median {ui.hours(now['marketplace_median_ship'])} to ship)"
                    if now["marketplace_median_ship"] is not None else
                    "; the marketplace reports no ship time"))
if now["shipped_untimed"]:
    notes.append(f"{now['shipped_untimed']:,} orders are shipped by the channel's word but have "
                 "no ship time (no fulfillment event, no shipped_at): not in the ship times")
if now["median_pickup"] is not None:
    notes.append(f"click-and-collect: median {ui.hours(now['median_pickup'])} from order to "
                 "pick-up")
if notes:
    st.caption("; ".join(notes) + ".")
# everything above loads nothing heavy in the browser; let it show before the rest comes
ui.hold_for_headline()
filters.draw()

# Plotly, and the pandas plotly.express loads, cost the first visitor after a server start
# 1-3 s of imports: the headline numbers above reach the browser before it (docs/dashboards.md)
import plotly.express as px  # noqa: E402
import plotly.graph_objects as go  # noqa: E402

st.subheader("Fulfillment time")
trend = data.query(
    f"""
    SELECT date_trunc($grain, order_date)::DATE AS period,
           quantile_cont(hours_to_ship, 0.5) AS "median hours to ship",
           quantile_cont(hours_to_ship, 0.9) AS "p90 hours to ship",
           quantile_cont(hours_to_first_ship, 0.5) AS "median hours to first shipment",
           quantile_cont(hours_to_deliver, 0.5) AS "median hours to deliver"
    FROM marts.kpi_order_facts
    WHERE {SHIPPED_BY_US} AND hours_to_ship IS NOT NULL
      AND order_date BETWEEN $start AND $end AND {IN_CHANNELS}
    GROUP BY ALL ORDER BY period
    """,
    params,
)
if not ui.empty_note(trend, "No shipped orders in this period: the chart fills in once "
                           "orders placed in it have a ship time (a fulfillment event or "
                           "shipped_at)."):
    ui.chart(px.line(trend, x="period", y=trend.columns[1:], markers=True,
                     title=f"Per order: placed to shipped / delivered, by order {grain}",
                     labels={"value": "hours", "variable": "", "period": f"order {grain}"}))

st.markdown("**Detail per order line** (a parcel leaves a location with a carrier; store "
            "sales are not shipments)")
BREAKDOWNS = {"Channel": "channel_id", "Fulfilled by": "fulfilled_by",
              "Location": "location_id", "Carrier": "carrier"}
# one breakdown at a time (not four tabs): a tab the reader never opens still costs the
# browser its chart and table before the page settles (docs/dashboards.md, Speed)
label = st.radio("Break down by", list(BREAKDOWNS), horizontal=True, key="kpi_breakdown")
column = BREAKDOWNS[label]  # a constant of this page, never input
by = data.query(
    f"""
    SELECT {column} AS "{column}", count(*) AS lines_shipped,
           quantile_cont(hours_to_ship, 0.5) AS median_hours_to_ship,
           quantile_cont(hours_to_ship, 0.9) AS p90_hours_to_ship,
           quantile_cont(hours_to_deliver, 0.5) AS median_hours_to_deliver
    FROM marts.kpi_order_line_facts
    WHERE NOT is_cancelled AND hours_to_ship IS NOT NULL
      AND order_date BETWEEN $start AND $end AND {IN_CHANNELS}
    GROUP BY ALL ORDER BY median_hours_to_ship DESC
    """,
    params,
)
if not ui.empty_note(by, "No shipped lines in this period: shipment events (or shipped_at on "
                         "the order lines) of orders placed in it fill this."):
    fig = go.Figure([
        go.Bar(name="median", x=by[column], y=by["median_hours_to_ship"]),
        go.Bar(name="p90", x=by[column], y=by["p90_hours_to_ship"]),
    ])
    fig.update_layout(barmode="group", title=f"Hours to ship per line, by {label.lower()}",
                      yaxis_title="hours", xaxis_title=label.lower())
    ui.chart(fig)
    ui.table(by, name=f"fulfillment_time_by_{label.lower().replace(' ', '_')}",
             key="dl_fulfillment", title=f"**Time to ship per order line, by {label.lower()}**",
             columns={column: label})

st.subheader("Revenue")
revenue = data.query(
    f"""
    SELECT date_trunc($grain, order_date)::DATE AS period, channel_id,
           sum(revenue_base) AS revenue_base, sum(orders) AS orders
    FROM marts.kpi_sales_daily
    WHERE order_date BETWEEN $start AND $end AND {IN_CHANNELS}
    GROUP BY ALL ORDER BY period, channel_id
    """,
    params,
)
if not ui.empty_note(revenue, "No orders in this period and channel: order exports placed "
                             "in it fill this chart."):
    ui.chart(px.bar(revenue, x="period", y="revenue_base", color="channel_id",
                    title=f"Revenue ({BASE}) by {grain} and channel",
                    labels={"revenue_base": f"revenue ({BASE})", "channel_id": "channel",
                            "period": f"order {grain}"}))

categories = ui.choice_filter(
    "Category (returns, stock)",
    {c: c for c in data.query(
        "SELECT DISTINCT category FROM core.products WHERE category IS NOT NULL ORDER BY 1"
    )["category"].to_list()} if data.has_table("core.products") else {},
    key="kpi_categories",
)
returns.section(returns_known, params, categories, grain)

st.subheader("Stock and suppliers")
stock = data.query(
    f"""
    WITH stockouts AS (
        SELECT sum(skus_out_of_stock) / nullif(sum(skus_observed), 0) AS stockout_share,
               sum(skus_out_of_stock) AS stockout_days
        FROM marts.kpi_stockouts_daily WHERE snapshot_date BETWEEN $start AND $end
    ),
    turnover AS (
        SELECT sum(cogs_base) * 365.0 / any_value(window_days)
                   / nullif(sum(average_inventory_value_base), 0) AS turnover,
               sum(inventory_value_base) / nullif(sum(cogs_base) / any_value(window_days), 0)
                   AS days_of_supply,
               any_value(window_days) AS window_days
        FROM marts.kpi_inventory_turnover_by_sku
        WHERE {IN_CATEGORIES}
    ),
    suppliers AS (
        SELECT sum(po_lines_on_time) / nullif(sum(po_lines_due), 0) AS supplier_on_time
        FROM marts.kpi_supplier_on_time_monthly
        WHERE expected_month BETWEEN date_trunc('month', $start::DATE) AND $end
    )
    SELECT * FROM stockouts, turnover, suppliers
    """,
    {"start": period.start, "end": period.end, "categories": categories},
).row(0, named=True)
stockout_days_cell, stockout_share_cell, turnover_cell, supplier_cell = st.columns(4)
stockout_days_cell.metric("Stockout SKU-location days", ui.number(stock["stockout_days"]),
                          help="Snapshot days with on hand = 0, summed over SKU x location, "
                               "in the period.")
stockout_share_cell.metric("Stockout share", ui.pct(stock["stockout_share"]))
turnover_cell.metric("Inventory turnover (annualised)", ui.number(stock["turnover"], 1),
                     help="COGS over average inventory value, trailing "
                          f"{stock['window_days']} days.")
supplier_cell.metric("Supplier on-time rate", ui.pct(stock["supplier_on_time"]),
                     help="PO lines received by their expected date, expected in the period.")

if data.has_table("marts.kpi_inventory_record_accuracy_weekly"):
    ira = data.query(
        """
        SELECT snapshot_week, sum(sku_locations_within_tolerance)
                   / nullif(sum(sku_locations_reconciled), 0) AS record_accuracy
        FROM marts.kpi_inventory_record_accuracy_weekly GROUP BY ALL ORDER BY snapshot_week
        """
    )
    if not ui.empty_note(ira, "Inventory record accuracy: no stock count reconciled yet. "
                              "Daily stock-on-hand files (inbox/stock_snapshots/) with counted "
                              "rows fill this chart."):
        fig = px.line(ira, x="snapshot_week", y="record_accuracy", markers=ira.height <= 60,
                      title="Inventory record accuracy by week (share of SKU-locations whose "
                            "count matched the books)",
                      labels={"snapshot_week": "week", "record_accuracy": "record accuracy"})
        ui.share_axis(fig, ira["record_accuracy"])
        ui.chart(fig)
else:
    ui.not_computed("Inventory record accuracy", "inventory reconciliation",
                     feature="reconciliation")
if data.has_table("marts.kpi_forecast_accuracy_summary"):
    summary = data.query("FROM marts.kpi_forecast_accuracy_summary")
    if "model" in summary.columns:  # plain names; the technical one is on the Forecast page
        summary = summary.with_columns(
            pl.col("model").map_elements(plain_model_name, return_dtype=pl.String))
    ui.table(summary,
             name="forecast_accuracy_summary", key="dl_forecast_accuracy",
             title="**Forecast accuracy** (error and bias weighted by volume, all backtest "
                   "cut-offs; details on the Forecast quality page)",
             columns=FORECAST_SUMMARY,
             empty="No backtest yet: the forecasting step's backtest over the demand history "
                   "fills this table.")
else:
    ui.not_computed("Forecast accuracy", "forecasting")
