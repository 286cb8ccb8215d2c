"""Inventory: what can be sold where, where the books are wrong, what may oversell, what is
stuck on the shelf. Reads the inventory marts when the inventory step has run."""

from __future__ import annotations

import plotly.express as px
import polars as pl
import streamlit as st

from dashboards import data, ui

st.title("Inventory")
ui.snapshot_caption()
ui.feature_notes(["ats", "channel_ats", "reconciliation", "oversell"])

locations = ui.choice_filter("Location", data.dimension("core.locations", "location_id"),
                             key="inv_locations")
channels = ui.choice_filter("Channel", data.dimension("core.channels", "channel_id"),
                            key="inv_channels")
categories = ui.choice_filter(
    "Category",
    {c: c for c in data.query("SELECT DISTINCT category FROM core.products "
                              "WHERE category IS NOT NULL ORDER BY 1")["category"].to_list()}
    if data.has_table("core.products") else {},
    key="inv_categories",
)
IN_LOCATIONS = data.one_of("locations", "location_id")
BASE = ui.base_currency()  # every *_base amount, named by its code ("Dead stock value (EUR)")
STOCK_FILES = "daily stock-on-hand files (inbox/stock_snapshots/)"
IN_CATEGORIES = data.one_of("categories", "p.category")
filters = {"locations": locations, "channels": channels, "categories": categories}

st.subheader("Available to sell")
if data.has_columns("marts.ats_by_sku_location",
                    ["as_of", "sku", "location_id", "is_bundle", "on_hand_units",
                     "allocated_units", "reserved_units", "ats_units"]):
    by_location = data.query(
        f"""
        SELECT a.location_id, sum(a.on_hand_units) AS on_hand_units,
               sum(a.allocated_units) AS allocated_units, sum(a.reserved_units) AS reserved_units,
               sum(a.ats_units) AS ats_units, any_value(a.as_of) AS as_of
        FROM marts.ats_by_sku_location AS a LEFT JOIN core.products AS p USING (sku)
        WHERE NOT a.is_bundle AND {data.one_of("locations", "a.location_id")}
          AND {IN_CATEGORIES}
        GROUP BY ALL ORDER BY a.location_id
        """,
        filters,
    )
    if not ui.empty_note(by_location, f"No stock on hand in this selection: {STOCK_FILES} "
                                      "for these locations fill this chart."):
        st.caption(f"As of {by_location['as_of'][0]:%Y-%m-%d}; bundles excluded from totals "
                   "(their ATS is derived from their components).")
        fig = px.bar(by_location, x="location_id",
                     y=["ats_units", "allocated_units", "reserved_units"], barmode="group",
                     title="Units by location: available, allocated, reserved",
                     labels={"value": "units", "variable": "", "location_id": "location"})
        fig.for_each_trace(lambda t: t.update(name={
            "ats_units": "available to sell", "allocated_units": "allocated",
            "reserved_units": "reserved"}[t.name]))
        ui.chart(fig)
    detail = data.query(
        f"""
        SELECT a.sku, p.name, p.category, a.location_id, a.is_bundle, a.on_hand_units,
               a.allocated_units, a.reserved_units, a.ats_units
        FROM marts.ats_by_sku_location AS a LEFT JOIN core.products AS p USING (sku)
        WHERE {data.one_of("locations", "a.location_id")} AND {IN_CATEGORIES}
        ORDER BY a.ats_units, a.sku, a.location_id
        """,
        filters,
    )
    ui.table(detail, name="ats_by_sku_location", key="dl_ats_location",
             title="**Available to sell per SKU and location** (lowest first)",
             empty=f"No SKU in this selection has stock: {STOCK_FILES} fill this table.")
else:
    ui.not_computed("Available to sell by location", "inventory")

if data.has_columns("marts.ats_by_sku_channel", ["channel_id", "sku", "is_bundle", "ats_units"]):
    by_channel = data.query(
        f"""
        SELECT a.channel_id, sum(a.ats_units) FILTER (WHERE NOT a.is_bundle) AS item_ats_units,
               count(*) FILTER (WHERE a.ats_units = 0) AS skus_at_zero
        FROM marts.ats_by_sku_channel AS a LEFT JOIN core.products AS p USING (sku)
        WHERE {data.one_of("channels", "a.channel_id")} AND {IN_CATEGORIES}
        GROUP BY ALL ORDER BY a.channel_id
        """,
        filters,
    )
    if not ui.empty_note(by_channel, "No channel in this selection lists a SKU: channel "
                                     "listings (the channels' product exports) fill this."):
        ui.chart(px.bar(by_channel, x="channel_id", y="item_ats_units",
                        title="Units available to sell by channel (after safety buffers)",
                        labels={"item_ats_units": "units", "channel_id": "channel"}))
        ui.table(by_channel, name="ats_by_channel", key="dl_ats_channel",
                 title="**Available to sell per channel**")
else:
    ui.not_computed("Available to sell by channel", "inventory")

st.subheader("Reconciliation")
if data.has_columns("marts.reconciliation",
                    ["snapshot_date", "location_id", "sku", "difference_units",
                     "difference_value_base", "within_tolerance", "likely_cause"]):
    latest = data.query(
        f"""
        WITH latest AS (SELECT max(snapshot_date) AS d FROM marts.reconciliation)
        SELECT r.snapshot_date, r.location_id, r.sku, p.name, r.expected_on_hand,
               r.counted_on_hand, r.difference_units, r.difference_value_base,
               r.within_tolerance, r.likely_cause
        FROM marts.reconciliation AS r
        JOIN latest ON r.snapshot_date = latest.d
        LEFT JOIN core.products AS p USING (sku)
        WHERE {data.one_of("locations", "r.location_id")} AND {IN_CATEGORIES}
        ORDER BY abs(r.difference_value_base) DESC NULLS LAST
        """,
        filters,
    )
    off = latest.filter(latest["difference_units"] != 0)
    reconciled_cell, tolerance_cell, difference_cell = st.columns(3)
    reconciled_cell.metric("SKU-locations reconciled", ui.number(latest.height))
    tolerance_cell.metric("Within tolerance", ui.pct(
        latest["within_tolerance"].mean() if latest.height else None))
    difference = off["difference_value_base"].abs().sum() if off.height else 0
    difference_cell.metric(f"Absolute difference value ({BASE})", ui.number(difference, 2))
    if off.height:
        causes = off.group_by("likely_cause").agg(
            pl.col("difference_value_base").abs().sum().alias("value"))
        ui.chart(px.bar(causes.sort("value", descending=True), x="value", y="likely_cause",
                        orientation="h", title="Absolute difference value by likely cause",
                        labels={"value": f"absolute difference value ({BASE})",
                                "likely_cause": ""}))
    day = f" on {latest['snapshot_date'][0]:%Y-%m-%d}" if latest.height else ""
    ui.table(off.drop("snapshot_date"), name="reconciliation_discrepancies",
             key="dl_reconciliation",
             title=f"**Discrepancies of the latest count{day}** (largest value first)",
             empty="No discrepancy: every SKU-location counted on the latest snapshot day "
                   "matched the books." if latest.height else
                   f"Nothing reconciled yet: {STOCK_FILES} with counted rows fill this.")
else:
    ui.not_computed("Reconciliation", "inventory reconciliation")

if data.has_columns("marts.inventory_record_accuracy",
                    ["snapshot_date", "location_id", "sku_locations", "within_tolerance"]):
    accuracy = data.query(
        f"""
        SELECT snapshot_date, sum(within_tolerance) / nullif(sum(sku_locations), 0) AS accuracy
        FROM marts.inventory_record_accuracy WHERE {IN_LOCATIONS}
        GROUP BY ALL ORDER BY snapshot_date
        """,
        filters,
    )
    if not ui.empty_note(accuracy, "Inventory record accuracy: no count reconciled yet in "
                                   f"this selection; {STOCK_FILES} with counted rows fill it."):
        fig = px.line(accuracy, x="snapshot_date", y="accuracy", markers=accuracy.height <= 60,
                      title="Inventory record accuracy (share within tolerance)",
                      labels={"snapshot_date": "snapshot day", "accuracy": "record accuracy"})
        ui.share_axis(fig, accuracy["accuracy"])
        ui.chart(fig)

st.subheader("Oversell risk")
if data.has_columns("marts.oversell_risk", ["channel_id", "sku", "listed_quantity", "ats_units",
                                            "excess_units"]):
    risks = data.query(
        f"""
        SELECT o.channel_id, o.channel_sku, o.sku, p.name, o.listed_quantity, o.ats_units,
               o.excess_units
        FROM marts.oversell_risk AS o LEFT JOIN core.products AS p USING (sku)
        WHERE {data.one_of("channels", "o.channel_id")} AND {IN_CATEGORIES}
        ORDER BY o.excess_units DESC
        """,
        filters,
    )
    st.metric("Listings above what can be sold", ui.number(risks.height))
    ui.table(risks, name="oversell_risk", key="dl_oversell",
             title="**Listings above what can be sold** (largest excess first)",
             empty="No listing offers more than can be sold: nothing to fix.")
else:
    ui.not_computed("Oversell risk", "inventory")

st.subheader("Overstock and dead stock")
if data.has_table("marts.kpi_dead_stock_by_sku_location"):
    dead = data.query(
        f"""
        SELECT d.sku, d.name, d.category, d.location_id, d.on_hand_units, d.unit_cost_base,
               d.dead_stock_value_base, d.last_sold_on, d.days_without_sale
        FROM marts.kpi_dead_stock_by_sku_location AS d
        LEFT JOIN core.products AS p USING (sku)
        WHERE {data.one_of("locations", "d.location_id")} AND {IN_CATEGORIES}
        ORDER BY d.dead_stock_value_base DESC NULLS LAST
        """,
        filters,
    )
    threshold = st.slider("Overstock: days of supply above", 30, 720, 180, step=30,
                          key="inv_overstock_days")
    over = data.query(
        f"""
        SELECT t.sku, t.name, t.category, t.on_hand_units, t.units_shipped, t.window_days,
               t.days_of_supply,
               -- units beyond $days days of the window's average shipments, at unit cost
               t.on_hand_units - $days * t.units_shipped / t.window_days AS excess_units,
               (t.on_hand_units - $days * t.units_shipped / t.window_days)
                   * t.inventory_value_base / nullif(t.on_hand_units, 0) AS excess_value_base
        FROM marts.kpi_inventory_turnover_by_sku AS t LEFT JOIN core.products AS p USING (sku)
        WHERE t.days_of_supply > $days AND {IN_CATEGORIES}
        ORDER BY excess_value_base DESC NULLS LAST
        """,
        {"days": threshold, "categories": categories},
    )
    dead_cell, overstock_cell = st.columns(2)
    dead_cell.metric(f"Dead stock value ({BASE})",
                     ui.number(dead["dead_stock_value_base"].sum(), 2),
                     help="Stock of SKUs with no sale in the configured number of days "
                          "([kpis] dead_stock_days), at unit cost.")
    overstock_cell.metric(f"Overstock value ({BASE})",
                          ui.number(over["excess_value_base"].sum(), 2),
                          help=f"Units beyond {threshold} days of supply, at unit cost.")
    if dead.height:
        fig = px.bar(dead.head(20), x="dead_stock_value_base", y="sku", color="location_id",
                     orientation="h", title="Dead stock value by SKU (top 20)",
                     labels={"dead_stock_value_base": f"value ({BASE})", "sku": "",
                             "location_id": "location"})
        fig.update_yaxes(autorange="reversed")
        ui.chart(fig, height=max(340, 120 + 22 * dead.head(20)["sku"].n_unique()))
    ui.table(dead, name="dead_stock", key="dl_dead_stock",
             title="**Dead stock** (no sale in the configured number of days, largest value "
                   "first)",
             empty="No dead stock: every SKU on hand sold within the configured number of "
                   "days ([kpis] dead_stock_days).")
    ui.table(over, name="overstock", key="dl_overstock",
             title=f"**Overstock** (more than {threshold} days of supply, largest excess value "
                   "first)",
             empty=f"No SKU holds more than {threshold} days of supply at its recent sales "
                   "rate.")
else:
    ui.not_computed("Overstock and dead stock", "KPI")
