"""Replenishment (planner): what to order today and why; approve, edit or reject each line.

Suggestions, policy numbers, the projected stock and the open purchase orders come from the
serving snapshot (``marts.replenishment_suggestions``, ``marts.replenishment_policy``,
``marts.projected_stock``, ``marts.inbound_purchase_orders``). Decisions go only to the decision
store (dashboards/decisions.py), never to the warehouse or the snapshot; the page overlays them
on the snapshot rows, so a decision shows at once. The supplier files already sent are read
from the home's outbox (dashboards/outbox.py) for download.

A row click in the suggestions table opens that line's detail. "Preview" and "Send purchase
orders" go through the same function as `shelfwise restock` (dashboards/outbox.py calls
``pipelines.commands.restock.restock_orders`` on the planner's click only): the one place the
page reaches past the snapshot, because sending is a pipeline run (docs/dashboards.md).
"""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboards import data, decisions, outbox, ui

SUGGESTIONS = "marts.replenishment_suggestions"
POLICY = "marts.replenishment_policy"
PROJECTED = "marts.projected_stock"
INBOUND = "marts.inbound_purchase_orders"
# the contract columns this page reads
SUGGESTION_COLUMNS = [
    "suggestion_id", "as_of", "sku", "product_name", "location_id", "supplier_id",
    "supplier_name", "supplier_sku", "order_date", "expected_arrival_date", "suggested_units",
    "case_pack", "cases", "moq", "unit_cost", "currency", "unit_cost_base", "line_value",
    "line_value_base", "service_level", "reorder_point_units", "order_up_to_units",
    "safety_stock_units", "inventory_position_units", "projected_stockout_date",
    "days_of_cover", "last_order_date", "urgency_rank", "reason", "reason_codes",
    "urgency",  # critical, high or normal: labelled by forecasting/urgency.py
]
URGENCY = {
    "critical": "projected to run out before an order placed now can arrive",
    "high": "projected to run out within the forecast horizon, after an order would arrive",
    "normal": "below the reorder point, no stockout within the horizon",
}
# statuses whose units go (or went) to the supplier
ORDERED = ["approved", "edited", "sent"]
# statuses the next restock run sends: what the supplier's minimum order value is checked on
TO_SEND = ["approved", "edited"]
# purchase orders (newest first) whose files get download buttons; the table lists them all
SENT_ORDERS_WITH_BUTTONS = 20


def sent_purchase_orders(supplier_ids: list[str]) -> None:
    """The supplier files the restock run wrote (outbox manifest), each with a download."""
    st.subheader("Sent purchase orders")
    files = outbox.supplier_files()
    if supplier_ids:
        files = files.filter(pl.col("supplier_id").is_in(supplier_ids))
    if files.is_empty():
        which = " for the chosen suppliers" if supplier_ids else ""
        st.caption(f"No supplier file sent yet{which}: approved lines are sent by the restock "
                   "run (`shelfwise restock`), which writes one CSV and one XLSX per purchase "
                   "order.")
        return
    names = data.dimension("core.suppliers", "supplier_id")
    ui.table(files.select(
        pl.col("supplier_id").replace(names).alias("supplier_name"), "supplier_id", "po_number",
        "file", pl.col("sha256").str.slice(0, 12).alias("sha256 (prefix)"), "rows",
        pl.col("recorded_at").str.slice(0, 19).str.replace("T", " ").alias("written at (UTC)"),
    ), name="sent_purchase_orders", key="dl_sent_orders")
    orders = files["po_number"].unique(maintain_order=True)
    if orders.len() > SENT_ORDERS_WITH_BUTTONS:
        st.caption(f"Downloads for the newest {SENT_ORDERS_WITH_BUTTONS} of {orders.len()} "
                   "purchase orders; pick a supplier in the sidebar to narrow the list.")
    for po in orders.head(SENT_ORDERS_WITH_BUTTONS):
        po_files = files.filter(pl.col("po_number") == po).sort("format")
        first = po_files.row(0, named=True)
        cols = st.columns([4] + [2] * po_files.height, vertical_alignment="center")
        cols[0].markdown(f"**{po}** · {names.get(first['supplier_id'], first['supplier_id'])} · "
                         f"{(first['recorded_at'] or '')[:10]}")
        for col, f in zip(cols[1:], po_files.iter_rows(named=True)):
            read = outbox.reader(f["file"])
            if read is None:
                col.caption(f"{f['format'].upper()}: no longer in the outbox")
                continue
            col.download_button(
                f"{f['format'].upper()}", read, file_name=Path(f["file"]).name,
                mime=outbox.MIME.get(f["format"]), key=f"dl_sent_file_{f['file']}",
                on_click="ignore", icon=":material/download:")


st.title("Replenishment")
ui.snapshot_caption()

if not data.has_columns(SUGGESTIONS, SUGGESTION_COLUMNS):
    ui.not_computed("Reorder suggestions", "replenishment", feature="replenishment")
    sent_purchase_orders([])
    st.stop()

has_policy = data.has_columns(POLICY, ["as_of", "sku", "location_id", "abc_class"])
# the season over the line's own window, as the policy computed it for the reason sentence
season_columns = ("s.season_ratio, s.season_days"
                  if data.has_columns(SUGGESTIONS, ["season_ratio", "season_days"])
                  else "NULL::DOUBLE AS season_ratio, NULL::BIGINT AS season_days")
# what a planner compares beside the suggestion: on hand and the demand over the lead time
policy_extras = ", ".join(
    f"p.{c}" if has_policy and data.has_columns(POLICY, [c]) else f"NULL::DOUBLE AS {c}"
    for c in ("on_hand_units", "on_order_units", "lead_time_demand_units",
              "mean_daily_demand_units"))
# the MOQ overbuy flag of the mart (assets/replenishment/sql/), when this snapshot has it
moq_columns = ("s.moq_excess_units, s.moq_excess_days, s.moq_overbuy"
               if data.has_columns(SUGGESTIONS, ["moq_excess_units", "moq_excess_days",
                                                 "moq_overbuy"])
               else "NULL::BIGINT AS moq_excess_units, NULL::DOUBLE AS moq_excess_days, "
                    "NULL::BOOLEAN AS moq_overbuy")
suggestions = data.query(
    f"""
    SELECT {", ".join(f"s.{c}" for c in SUGGESTION_COLUMNS)}, {season_columns},
           {policy_extras}, {moq_columns},
           {"p.abc_class" if has_policy else "NULL::VARCHAR AS abc_class"}
    FROM {SUGGESTIONS} AS s
    {f"LEFT JOIN {POLICY} AS p ON p.sku = s.sku AND p.location_id = s.location_id "
     "AND p.as_of = s.as_of" if has_policy else ""}
    ORDER BY s.urgency_rank, s.sku, s.location_id
    """
)
if suggestions.is_empty():
    st.success("Nothing to order: no SKU is below its reorder point.")
    sent_purchase_orders([])
    st.stop()

st.session_state.setdefault("repl_revision", 0)
# days of cover once the planner's quantity (and the open purchase orders) are in: the mart's
# days_of_cover_after_order, recomputed for an edited quantity
rows = decisions.overlay(suggestions).with_columns(
    pl.when(pl.col("mean_daily_demand_units") > 0)
    .then((pl.col("inventory_position_units").cast(pl.Float64) + pl.col("order_units"))
          / pl.col("mean_daily_demand_units").cast(pl.Float64))
    .alias("days_of_cover_after_order"))

# -- filters ---------------------------------------------------------------------------------
suppliers = {r["supplier_id"]: r["supplier_name"] for r in rows.select(
    "supplier_id", "supplier_name").unique().sort("supplier_id").iter_rows(named=True)}
location_names = data.dimension("core.locations", "location_id")
picked = {
    "supplier_id": ui.choice_filter("Supplier", suppliers, key="repl_suppliers"),
    "location_id": ui.choice_filter(
        "Location", {l: location_names.get(l, l) for l in rows["location_id"].unique().sort()},
        key="repl_locations"),
    "abc_class": ui.choice_filter(
        "ABC class", {c: c for c in rows["abc_class"].drop_nulls().unique().sort()},
        key="repl_abc"),
    "urgency": ui.choice_filter("Urgency", {u: u for u in URGENCY}, key="repl_urgency"),
    "status": ui.choice_filter("Status", {s: s for s in decisions.STATUSES}, key="repl_status"),
}
# the planner's name is asked once and kept for the browser session: Streamlit drops a
# widget's value when another page runs, so it is copied to a key of its own
if "planner" in st.session_state and "planner_name" not in st.session_state:
    st.session_state["planner_name"] = st.session_state["planner"]
user = st.sidebar.text_input("Your name (required to decide; kept for this session)",
                             key="planner_name").strip()
st.session_state["planner"] = user
# quantities typed but not saved yet (suggestion_id -> units): they survive other decisions
drafts: dict[str, int] = st.session_state.setdefault("repl_drafts", {})
searches = st.columns(2)
search = searches[0].text_input(
    "Search SKU or product", key="repl_search", placeholder="e.g. SKU-00042 or mug",
    help="Shows the lines whose SKU or product name contains this text (any case).").strip()
supplier_search = searches[1].text_input(
    "Search supplier", key="repl_supplier_search", placeholder="e.g. SUP-004 or textiles",
    help="Shows the lines whose supplier id or name contains this text (any case).").strip()


def contains(columns: list[str], text: str) -> pl.Expr:
    """Any of ``columns`` contains ``text``, ignoring case (a literal, not a pattern)."""
    needle = text.lower()
    return pl.any_horizontal(
        pl.col(c).str.to_lowercase().str.contains(needle, literal=True).fill_null(False)
        for c in columns)


shown = rows
if search:
    shown = shown.filter(contains(["sku", "product_name"], search))
if supplier_search:
    shown = shown.filter(contains(["supplier_id", "supplier_name"], supplier_search))
for column, values in picked.items():
    if values:  # nothing picked means all
        shown = shown.filter(pl.col(column).is_in(values))

as_of = rows["as_of"][0]
st.caption(f"Suggestions as of {as_of}: {rows.height} lines from {len(suppliers)} suppliers, "
           "most urgent first.")

to_decide_cell, critical_cell, approved_cell, suggested_cell = st.columns(4)
to_decide_cell.metric("Lines to decide",
                      ui.number(rows.filter(pl.col("status") == "proposed").height))
critical_cell.metric("Critical lines",
                     ui.number(rows.filter(pl.col("urgency") == "critical").height))
approved_cell.metric("Approved value (EUR)", ui.number(
    rows.filter(pl.col("status").is_in(ORDERED))["order_value_base"].sum(), 2))
suggested_cell.metric("Suggested value (EUR)", ui.number(rows["line_value_base"].sum(), 2),
                      help="All suggestions at the suggested quantities, in the base currency.")


def problem(line: dict) -> str | None:
    """Why the planner's quantity cannot be ordered, or None."""
    units = line.get("order_units")
    if units is None or units <= 0:
        return "enter a quantity above 0 units, or reject the line"
    return decisions.quantity_problem(int(units), line)


def decide(lines: list[dict], action: str, note: str | None) -> None:
    """Save ``action`` (approve, plan: keep the quantity without approving, reject) on
    ``lines`` (all or none), then rerun so the page shows it with an empty note box."""
    sent = [f"{l['sku']} @ {l['location_id']}" for l in lines if l["status"] == "sent"]
    lines = [line for line in lines if line["status"] != "sent"]
    left = (f" Left as they are, already sent to the supplier: {', '.join(sent)}."
            if sent else "")
    if not lines:
        st.warning(left.strip())
        return
    if not user:
        st.error("Nothing saved: enter your name in the sidebar first (every decision records "
                 "who made it; the name is kept for this browser session).")
        return
    problems = [] if action == "reject" else [
        f"{l['sku']} @ {l['location_id']}: {p}" for l in lines if (p := problem(l))]
    if problems:
        st.error("Nothing saved. " + "; ".join(problems))
        return
    try:
        saved = decisions.save(lines, action, user=user, note=note)
    except decisions.DecisionError as exc:
        st.error(f"Nothing saved: {exc}")
        return
    done = [f"{l['sku']} @ {l['location_id']} {r['status']}"
            + (f" ({r['quantity']} units)" if r["quantity"] else "")
            for l, r in zip(lines, saved)]
    for line in lines:  # saved now: no longer a draft
        drafts.pop(line["suggestion_id"], None)
    what = ("quantity(ies), not approved: approve the lines to order them"
            if action == "plan" else "decision(s)")
    st.session_state["repl_flash"] = (
        f"Saved {len(saved)} {what} by {user}: "
        + ", ".join(done[:10]) + (", ..." if len(done) > 10 else "") + "." + left
    )
    # fresh editor and inputs on the new statuses; the note boxes (keyed by the revision)
    # start empty, so a note is saved with its own decision only
    st.session_state["repl_revision"] += 1
    st.rerun()


# how the suggestion columns read in the table and the editor (units, days, help on hover)
COLUMN_CONFIG = {
    "urgency_rank": st.column_config.NumberColumn("#", help="1 = most urgent"),
    "urgency": st.column_config.TextColumn(
        "urgency", help="; ".join(f"{k}: {v}" for k, v in URGENCY.items())),
    "product_name": "product", "location_id": "location", "supplier_name": "supplier",
    "suggested_units": st.column_config.NumberColumn("suggested units"),
    "order_units": st.column_config.NumberColumn(
        "order units", help="the approved or planned quantity, else the suggested one (units)"),
    "on_hand_units": st.column_config.NumberColumn("on hand", help="units"),
    "on_order_units": st.column_config.NumberColumn(
        "on order", help="units on open purchase orders"),
    "days_of_cover": st.column_config.NumberColumn(
        "days of cover", format="%.1f", help="on hand free to sell ÷ mean daily demand (days)"),
    "days_of_cover_after_order": st.column_config.NumberColumn(
        "cover after order", format="%.1f",
        help="(inventory position + order units) ÷ mean daily demand: days from today once "
             "this order and the open purchase orders are in; empty without demand"),
    "moq_overbuy": st.column_config.CheckboxColumn(
        "MOQ overbuy",
        help="the supplier's minimum order quantity adds more than [replenishment] "
             "moq_overbuy_days (default 30) days of demand beyond the need in whole cases"),
    "lead_time_demand_units": st.column_config.NumberColumn(
        "forecast over lead time", format="%.0f",
        help="forecast demand over the supplier's lead time (units)"),
    "reason": st.column_config.TextColumn(
        "reason", width="large",
        help="Why this line: click the row for the full sentence in its detail."),
    "order_value_base": st.column_config.NumberColumn("value (EUR)", format="%.2f"),
    "projected_stockout_date": "projected stockout",
    "last_order_date": "last order date",
    "expected_arrival_date": "expected arrival",
    "abc_class": "ABC", "case_pack": "case pack", "moq": "MOQ",
    "unit_cost": st.column_config.NumberColumn("unit cost", format="%.2f"),
    "decided_by": "decided by",
}
# the table a planner works from, in this order (the editor below adds its tick box)
TABLE_COLUMNS = [
    "urgency_rank", "urgency", "status", "sku", "product_name", "location_id", "supplier_name",
    "suggested_units", "order_units", "on_hand_units", "on_order_units", "days_of_cover",
    "days_of_cover_after_order", "moq_overbuy", "lead_time_demand_units", "reason",
    "order_value_base", "projected_stockout_date", "last_order_date", "expected_arrival_date",
    "abc_class", "case_pack", "moq", "unit_cost", "currency", "decided_by",
]


def xlsx_bytes(frame: pl.DataFrame, sheet: str) -> bytes:
    """``frame`` as one XLSX sheet (xlsxwriter, already a dependency), formula-looking text
    cells neutralised as in the CSV."""
    buffer = io.BytesIO()
    ui.neutralise(frame).write_excel(buffer, worksheet=sheet, autofit=True)
    return buffer.getvalue()


# -- one suggestion in detail ----------------------------------------------------------------
def detail(line: dict) -> None:
    """The line a row click opened: its reason in full, policy numbers, projected stock,
    inbound purchase orders, demand, the decision buttons and its audit trail."""
    sid = line["suggestion_id"]
    st.subheader(f"Detail: #{line['urgency_rank']} {line['sku']} {line['product_name'] or ''} "
                 f"@ {line['location_id']} ({line['status']})")
    st.markdown(f"**{line['urgency'].capitalize()}:** {line['reason']}")
    if line["moq_overbuy"]:
        days = line["moq_excess_days"]
        st.warning(
            f"MOQ overbuy: the supplier's minimum order quantity ({line['moq']} units) adds "
            f"{line['moq_excess_units']} units beyond the need in whole cases"
            + (f", {days:.0f} days of demand" if days is not None else ", and nothing sells")
            + ". Check whether a transfer, another supplier or a later order fits better.",
            icon=":material/inventory_2:")
    st.caption(f"Reasons: {line['reason_codes']}. Supplier {line['supplier_name']} "
               f"(their SKU {line['supplier_sku'] or '–'}), order on {line['order_date']}, "
               f"expected {line['expected_arrival_date']}.")

    key = {"sku": line["sku"], "location": line["location_id"], "as_of": line["as_of"]}
    policy = data.query(
        f"SELECT * FROM {POLICY} WHERE sku = $sku AND location_id = $location AND as_of = $as_of",
        key) if has_policy else pl.DataFrame()
    if policy.height:
        p = policy.row(0, named=True)
        metrics = [
            ("Inventory position", ui.number(p["inventory_position_units"]),
             "on hand + on order − allocated − backorders (units)"),
            ("Reorder point", ui.number(p["reorder_point_units"]), "units"),
            ("Safety stock", ui.number(p["safety_stock_units"]), "units"),
            ("Order-up-to", ui.number(p["order_up_to_units"]), "units"),
            ("On hand", ui.number(p["on_hand_units"]), "units"),
            ("On order", ui.number(p["on_order_units"]), "units on open purchase orders"),
            ("Allocated", ui.number(p["allocated_units"]), "units"),
            ("Backorders", ui.number(p["backorder_units"]), "units"),
            ("Mean daily demand", ui.number(p["mean_daily_demand_units"], 2), "units a day"),
            ("Lead time", f"{ui.number(p['lead_time_mean_days'], 1)} ± "
                          f"{ui.number(p['lead_time_sd_days'], 1)} d",
             f"days, mean ± spread; source: {p['lead_time_source']}"),
            ("Review period", f"{ui.number(p['review_period_days'])} d", "days between orders"),
            ("Service level", ui.pct(p["service_level"]), f"source: {p['service_level_source']}"),
            ("Days of cover", ui.number(p["days_of_cover"], 1), "days; empty without demand"),
            ("Days of cover after this order", ui.number(line["days_of_cover_after_order"], 1),
             "(inventory position + order units) ÷ mean daily demand, days from today"),
            ("Projected stockout", str(p["projected_stockout_date"] or "none in horizon"), None),
            ("Last order date", str(p["last_order_date"] or "–"),
             "last day an order still arrives before the projected stockout"),
            ("Class", f"{p['abc_class'] or '–'} / {p.get('xyz_class') or '–'}",
             "ABC (value) / XYZ (demand variability)"),
        ]
        for start in range(0, len(metrics), 4):
            for col, (label, value, help_text) in zip(st.columns(4), metrics[start:start + 4]):
                col.metric(label, value, help=help_text)
    else:
        ui.not_computed("Policy numbers", "replenishment policy")

    if data.has_columns(PROJECTED, ["as_of", "sku", "location_id", "date", "demand_units",
                                    "inbound_units", "projected_on_hand_units"]):
        projected = data.query(
            f"""
            SELECT date, demand_units, inbound_units, projected_on_hand_units FROM {PROJECTED}
            WHERE sku = $sku AND location_id = $location AND as_of = $as_of ORDER BY date
            """,
            key,
        )
        fig = go.Figure()
        fig.add_scatter(x=projected["date"], y=projected["projected_on_hand_units"],
                        mode="lines+markers", name="projected on hand")
        if projected["inbound_units"].sum() > 0:
            fig.add_bar(x=projected["date"], y=projected["inbound_units"], name="inbound (open POs)",
                        opacity=0.5)
        for value, label, dash in ((line["reorder_point_units"], "reorder point", "dash"),
                                   (line["safety_stock_units"], "safety stock", "dot")):
            fig.add_hline(y=value, line_dash=dash, annotation_text=label,
                          annotation_position="top right")
        for day, label, colour in ((line["projected_stockout_date"], "projected stockout", "red"),
                                   (line["expected_arrival_date"], "order arrives", "green")):
            if day is not None:
                # a shape and a note rather than add_vline: its annotation fails on date axes
                fig.add_shape(type="line", x0=day, x1=day, yref="paper", y0=0, y1=1,
                              line=dict(color=colour, dash="dot"))
                fig.add_annotation(x=day, yref="paper", y=1, yanchor="bottom", text=label,
                                   showarrow=False, font=dict(color=colour))
        fig.update_layout(title=f"Projected stock of {line['sku']} at {line['location_id']} "
                                "without this order (units)", yaxis_title="units")
        ui.chart(fig)
    else:
        ui.not_computed("Projected stock", "replenishment")

    st.markdown("**Inbound purchase orders**")
    if data.has_columns(INBOUND, ["sku", "location_id", "po_number", "supplier_name", "ordered_date",
                                  "expected_date", "units_ordered", "units_received", "units_inbound",
                                  "is_late", "days_late"]):
        inbound = data.query(
            f"""
            SELECT po_number, supplier_name AS supplier, ordered_date AS ordered,
                   expected_date AS expected, units_ordered, units_received, units_inbound,
                   is_late AS late, days_late
            FROM {INBOUND} WHERE sku = $sku AND location_id = $location
            ORDER BY expected_date, po_number
            """,
            key,
        )
        if inbound.is_empty():
            st.caption(f"No open purchase order for {line['sku']} at {line['location_id']}.")
        else:
            st.caption("Open purchase order lines with units still to come (the inbound bars "
                       "above); late = expected before the as-of day.")
            ui.table(inbound, name=f"inbound_purchase_orders_{line['sku']}_{line['location_id']}",
                     key="dl_inbound_pos")
    else:
        ui.not_computed("Inbound purchase orders", "replenishment")

    # demand history and forecast, when the forecasting step has published them: at the line's
    # location (its orders, and the SKU forecast times the location's demand share, the split the
    # policy numbers above use) when the snapshot has both; else the SKU's, all locations
    forecast_columns = (data.columns("marts.demand_forecast")
                        if data.has_table("marts.demand_forecast") else [])
    quantiles = sorted(c for c in forecast_columns if re.fullmatch(r"q0\.\d+", c))
    share = policy.row(0, named=True).get("demand_share") if policy.height else None
    at_location = share is not None and data.has_columns(
        "marts.kpi_order_line_facts",
        ["sku", "location_id", "order_date", "ordered_units", "is_cancelled"])
    if (data.has_columns("marts.daily_demand_by_sku", ["sku", "date", "units"])
            and {"sku", "date", "mean"} <= set(forecast_columns)):
        recent = "(SELECT max(date) FROM marts.daily_demand_by_sku) - 91"
        history = data.query(
            f"""
            SELECT order_date AS date, sum(ordered_units) AS units FROM marts.kpi_order_line_facts
            WHERE sku = $sku AND location_id = $location AND NOT is_cancelled
              AND order_date > {recent}
            GROUP BY order_date ORDER BY date
            """ if at_location else f"""
            SELECT date, units FROM marts.daily_demand_by_sku
            WHERE sku = $sku AND date > {recent}
            ORDER BY date
            """,
            key,
        )
        # quantile column names come from the catalog and match q0.<digits>: safe to quote in
        bands = [f'"{q}" * $share AS "{q}"' for q in (quantiles[:1] + quantiles[-1:] if quantiles
                                                      else [])]
        median = '"q0.5"' if "q0.5" in quantiles else "mean"
        # the forecast follows last year's season of the category: the same read brings the recent
        # rate it was scaled from, so a planner sees how much of a big order is the season
        seasonal = "yearly_ratio" in forecast_columns
        season_cols = (", CAST(mean / nullif(yearly_ratio, 0) * $share AS DOUBLE) AS recent_rate, "
                       "CAST(yearly_ratio AS DOUBLE) AS yearly_ratio" if seasonal else "")
        forecast = data.query(
            f"SELECT date, {median} * $share AS median{''.join(', ' + b for b in bands)}"
            f"{season_cols} FROM marts.demand_forecast WHERE sku = $sku ORDER BY date",
            {**key, "share": float(share) if at_location else 1.0},
        )
        fig = go.Figure()
        fig.add_bar(x=history["date"], y=history["units"], name="units ordered", opacity=0.6)
        if len(bands) == 2:
            low, high = quantiles[0], quantiles[-1]
            fig.add_scatter(x=forecast["date"], y=forecast[high], mode="lines", line=dict(width=0),
                            showlegend=False, name=high)
            fig.add_scatter(x=forecast["date"], y=forecast[low], mode="lines", line=dict(width=0),
                            fill="tonexty", fillcolor="rgba(31, 119, 180, 0.2)",
                            name=f"forecast {low}–{high}")
        fig.add_scatter(x=forecast["date"], y=forecast["median"], mode="lines",
                        line=dict(color="#1f4e79", width=2), name="forecast median")
        season = (forecast if seasonal and not forecast.is_empty()
                  and (forecast["yearly_ratio"] - 1.0).abs().max() >= 0.05 else None)
        if season is not None:
            fig.add_scatter(x=season["date"], y=season["recent_rate"], mode="lines",
                            line=dict(color="#7f7f7f", width=1, dash="dot"),
                            name="mean at the recent rate (without last year's season)")
        where = (f"at {line['location_id']} ({ui.pct(share)} of the SKU's demand)" if at_location
                 else "all locations")
        fig.update_layout(title=f"Demand of {line['sku']} {where} (units a day)",
                          yaxis_title="units")
        ui.chart(fig)
        if line["season_ratio"] is not None and line["season_days"]:
            # the reason's own number: the season over this line's lead time + review period
            st.caption(f"Last year's season of this SKU's category: {line['season_ratio']:.1f}× "
                       f"the recent rate over the next {line['season_days']} days (this line's "
                       "lead time + review period, the days an order placed now covers), the "
                       "number the reason quotes; the dotted line is the forecast at the recent "
                       "rate (docs/forecasting.md).")

    st.markdown("**Decide on this line**")
    cols = st.columns([3, 3, 2, 2, 2], vertical_alignment="bottom")
    units = cols[0].number_input(
        "Order units", min_value=0, step=int(line["case_pack"] or 1),
        value=int(drafts.get(sid) or line["order_units"] or line["suggested_units"]),
        key=f"repl_units_{sid}_{st.session_state['repl_revision']}",
        help=f"Units: whole cases of {line['case_pack']}, at least {line['moq']} (MOQ). "
             f"Suggested: {line['suggested_units']}.")
    single = [{**line, "order_units": units}]
    single_note = cols[1].text_input(
        "Note (optional, this decision only)",
        key=f"repl_line_note_{sid}_{st.session_state['repl_revision']}")
    if cols[2].button("Approve", type="primary", key="repl_approve_one"):
        decide(single, "approve", single_note)
    if cols[3].button("Save quantity", key="repl_edit_one",
                      help="Keep this quantity without approving the line"):
        decide(single, "plan", single_note)
    if cols[4].button("Reject", key="repl_reject_one"):
        decide(single, "reject", single_note)
    if line["status"] != "proposed":
        st.caption(f"Current decision: **{line['status']}**, {line['order_units']} units, "
                   f"{line['decided_at'][:19].replace('T', ' ')} UTC"
                   + (f" by {line['decided_by']}" if line["decided_by"] else "") + ".")

    st.markdown("**History of this suggestion**")
    audit = decisions.history(sid)
    if audit.is_empty():
        st.caption("No decision yet: the line is proposed.")
    else:
        ui.table(audit, name=f"decision_history_{line['sku']}_{line['location_id']}",
                 key="dl_decision_history")


# -- the suggestions table -------------------------------------------------------------------
st.subheader(f"Suggestions ({shown.height} of {rows.height})")
if flash := st.session_state.pop("repl_flash", None):
    st.success(flash, icon=":material/check_circle:")
if shown.is_empty():
    st.info("No suggestion matches the filters.")
else:
    # a new row set (filters) is a new table: a row picked in another set means nothing here
    ids = hashlib.md5("|".join(shown["suggestion_id"]).encode()).hexdigest()[:12]
    view = shown.select("suggestion_id", *TABLE_COLUMNS)
    event = st.dataframe(
        view, key=f"repl_table_{ids}", on_select="rerun", selection_mode="single-row",
        hide_index=True, width="stretch", column_order=TABLE_COLUMNS,
        column_config=COLUMN_CONFIG)
    clicked = event.selection.rows
    if clicked:  # the row clicked last stays open while decisions change the table
        st.session_state["repl_open"] = view["suggestion_id"][clicked[0]]
    st.caption("Click a row to open its detail below (the full reason, the numbers, the "
               "decision); hover a column name for what it holds.")
    downloads = st.columns(2)
    with downloads[0]:
        ui.download(view.drop("suggestion_id"), name="replenishment_suggestions",
                    key="dl_replenishment")
    downloads[1].download_button(
        "Download replenishment_suggestions (XLSX)",
        xlsx_bytes(view.select(*TABLE_COLUMNS, "suggestion_id"), "suggestions"),
        file_name="replenishment_suggestions.xlsx", mime=outbox.MIME["xlsx"],
        key="dl_replenishment_xlsx", on_click="ignore")
    open_id = st.session_state.get("repl_open")
    if open_id not in set(view["suggestion_id"]):
        open_id = view["suggestion_id"][0]  # the most urgent line shown
    detail(shown.row(by_predicate=pl.col("suggestion_id") == open_id, named=True))


# -- several lines at once ------------------------------------------------------------------
if not shown.is_empty():
    with st.expander(f"Decide on several lines at once ({shown.height} shown): tick them, "
                     "change quantities, approve or reject"):
        select_all = st.checkbox("Select every line shown", key="repl_select_all")
        EDITOR_COLUMNS = [
            "select", "urgency_rank", "urgency", "status", "sku", "product_name", "location_id",
            "suggested_units", "order_units", "on_hand_units", "days_of_cover",
            "lead_time_demand_units", "reason", "supplier_name", "order_value_base",
            "projected_stockout_date", "last_order_date", "expected_arrival_date", "abc_class",
            "case_pack", "moq", "unit_cost", "currency", "decided_by",
        ]
        drafted = pl.DataFrame({"suggestion_id": list(drafts), "draft": list(drafts.values())},
                               schema={"suggestion_id": pl.String, "draft": pl.Int64})
        editor_input = (shown.join(drafted, on="suggestion_id", how="left", maintain_order="left")
                        .with_columns(pl.coalesce("draft", "order_units").alias("order_units"))
                        .select(pl.lit(select_all).alias("select"), "suggestion_id",
                                *EDITOR_COLUMNS[1:]))
        # the editor records edits by row position: a new row set (filters, a save) needs a new
        # key, or an old edit would land on another line
        edited = st.data_editor(
            editor_input,
            key=f"repl_editor_{st.session_state['repl_revision']}_{ids}_{select_all}",
            hide_index=True, width="stretch", column_order=EDITOR_COLUMNS,
            disabled=[c for c in editor_input.columns if c not in ("select", "order_units")],
            column_config={
                **COLUMN_CONFIG,
                "select": st.column_config.CheckboxColumn("select", default=False),
                "order_units": st.column_config.NumberColumn(
                    "order units", min_value=0, step=1,
                    help="Your quantity in units: whole cases, at least the MOQ. Approve orders "
                         "it; Save keeps it without approving."),
            },
        )
        if not isinstance(edited, pl.DataFrame):  # the editor hands back what it was given
            edited = pl.from_pandas(edited)
        planned = edited.select("suggestion_id", "select",
                                pl.col("order_units").alias("planned_units"))
        lines = (shown.join(planned, on="suggestion_id", how="left", maintain_order="left")
                 .with_columns(pl.col("planned_units").alias("order_units")).drop("planned_units"))
        chosen = lines.filter(pl.col("select")).drop("select")
        changed = lines.join(shown.select("suggestion_id", pl.col("order_units").alias("was")),
                             on="suggestion_id").filter(pl.col("order_units") != pl.col("was"))
        # what is typed and not saved stays a draft until it is saved, approved or typed back
        for sid_shown in shown["suggestion_id"]:
            drafts.pop(sid_shown, None)
        drafts.update({r["suggestion_id"]: r["order_units"]
                       for r in changed.iter_rows(named=True)})
        if changed.height:
            st.caption(f"{changed.height} changed quantity(ies) not saved yet: they stay while you "
                       "decide on other lines. Save keeps them without approving; Approve orders "
                       "them.")
        note = st.text_input("Note (optional, saved with the decisions below only)",
                             key=f"repl_note_{st.session_state['repl_revision']}")
        buttons = st.columns(3)
        if buttons[0].button(f"Approve selected ({chosen.height})", type="primary",
                             disabled=chosen.is_empty(), key="repl_approve_selected"):
            decide(chosen.to_dicts(), "approve", note)
        if buttons[1].button(f"Reject selected ({chosen.height})", disabled=chosen.is_empty(),
                             key="repl_reject_selected"):
            decide(chosen.to_dicts(), "reject", note)
        if buttons[2].button(f"Save changed quantities ({changed.height})",
                             disabled=changed.is_empty(), key="repl_save_quantities"):
            decide(changed.drop("select", "was").to_dicts(), "plan", note)


# -- totals per supplier ---------------------------------------------------------------------
st.subheader("Order value by supplier")
minimums = (data.query("SELECT supplier_id, min_order_value FROM core.suppliers")
            if data.has_columns("core.suppliers", ["supplier_id", "min_order_value"])
            else pl.DataFrame(schema={"supplier_id": pl.String, "min_order_value": pl.Float64}))
to_send = pl.col("status").is_in(TO_SEND)
totals = (
    rows.filter(pl.col("status") != "rejected")
    .group_by("supplier_id", "supplier_name", "currency")
    .agg(pl.len().alias("lines"), to_send.sum().alias("lines_approved"),
         pl.col("order_units").sum(), pl.col("order_value").sum(),
         pl.col("order_value_base").sum(),
         pl.col("order_value").filter(to_send).sum().alias("approved_value"),
         pl.col("order_value_base").filter(to_send).sum().alias("approved_value_base"))
    .join(minimums, on="supplier_id", how="left")
    # the minimum is the supplier's rule for one purchase order: it is checked on what the
    # next restock run sends (approved and edited lines), as the restock run checks it
    .with_columns(
        pl.when(pl.col("approved_value") > 0)
        .then((pl.col("min_order_value") - pl.col("approved_value")).clip(lower_bound=0))
        .alias("short_of_minimum"))
    .select("supplier_name", "supplier_id", "currency", "lines", "lines_approved", "order_units",
            "order_value", "approved_value", "min_order_value", "short_of_minimum",
            "order_value_base", "approved_value_base")
    .sort("order_value_base", descending=True)
)
st.caption("Every line not rejected, at the approved or suggested quantity (order value), and "
           "the approved lines the next restock run sends (approved value), in the supplier's "
           "currency and in EUR. The supplier's minimum order value (its currency) is checked on "
           "the approved value: short of minimum is what the purchase order lacks.")
ui.table(totals, name="order_value_by_supplier", key="dl_supplier_totals")
short = totals.filter(pl.col("short_of_minimum") > 0)
if short.height:
    st.warning(
        "Below the supplier's minimum order value with what is approved: " + ", ".join(
            f"{r['supplier_name']} ({r['approved_value']:,.2f} of {r['min_order_value']:,.2f} "
            f"{r['currency']} approved, {r['short_of_minimum']:,.2f} short)"
            for r in short.iter_rows(named=True))
        + ". The restock run holds these purchase orders: approve more of their lines, or "
        "send one anyway with " + ", ".join(
            f"`shelfwise restock --supplier {r['supplier_id']} --force`"
            for r in short.iter_rows(named=True)) + ".")


# which lines still to decide would top each short supplier up best: the most urgent first
# (they are needed soonest, so a top-up with them buys nothing the page would not suggest
# anyway), each at its current quantity, until the shortfall is covered (docs/approvals.md)
open_lines = rows.filter(pl.col("status") == "proposed", pl.col("order_units") > 0)
for r in short.iter_rows(named=True):
    candidates = (
        open_lines.filter(pl.col("supplier_id") == r["supplier_id"]).sort("urgency_rank")
        .with_columns(pl.col("order_value").cum_sum().alias("approved_value_after"))
        .with_columns((pl.col("approved_value_after") + r["approved_value"])
                      .alias("approved_value_after"))
        # every line up to and including the one that covers the shortfall
        .filter((pl.col("approved_value_after") - pl.col("order_value"))
                < r["min_order_value"] - 1e-9))
    name = r["supplier_name"]
    if candidates.is_empty():
        st.caption(f"{name}: no open line left to top the order up; send it anyway below "
                   "(\"send below the minimum\") or wait for more of its lines to need an order.")
        continue
    reaches = candidates["approved_value_after"][-1] >= r["min_order_value"] - 1e-9
    st.markdown(
        f"**Top up {name}** ({r['short_of_minimum']:,.2f} {r['currency']} short): "
        + (f"approving these {candidates.height} open line(s), most urgent first, reaches the "
           f"minimum of {r['min_order_value']:,.2f} {r['currency']}."
           if reaches else
           f"even every open line ({candidates.height}) leaves it "
           f"{r['min_order_value'] - candidates['approved_value_after'][-1]:,.2f} "
           f"{r['currency']} short."))
    ui.table(candidates.select(
        "urgency_rank", "sku", "product_name", "location_id", "order_units", "currency",
        "order_value", "approved_value_after", "days_of_cover_after_order", "moq_overbuy",
    ), name=f"top_up_{r['supplier_id']}", key=f"dl_top_up_{r['supplier_id']}")
    if st.button(f"Approve the {candidates.height} top-up line(s) of {name}",
                 key=f"repl_top_up_{r['supplier_id']}"):
        decide(candidates.to_dicts(), "approve", None)

# -- purchase orders: preview and send ---------------------------------------------------------
st.subheader("Purchase orders: preview and send")
if sent_flash := st.session_state.pop("repl_send_flash", None):
    st.success(sent_flash, icon=":material/local_shipping:")
for problem_text in st.session_state.pop("repl_send_problems", []):
    st.warning(problem_text + (" Here: approve more of its lines, or tick \"Send below the "
                               "minimum order value too\" and send again."
                               if problem_text.startswith("held below") else ""))
waiting = rows.filter(pl.col("status").is_in(TO_SEND))
if waiting.is_empty():
    st.caption("No approved line waits to be sent. Approve lines above; sending writes one "
               "purchase order per supplier (CSV + XLSX) to the outbox, as `shelfwise restock` "
               "does.")
else:
    st.caption("The same as `shelfwise restock`: one purchase order per supplier from the "
               "approved lines, written to the outbox and marked sent, with you as the sender "
               "in the audit. An order below its supplier's minimum order value is held unless "
               "you tick \"send below the minimum\" (the audit records by how much it was "
               "short).")
    send_cols = st.columns([4, 3], vertical_alignment="bottom")
    waiting_suppliers = {s: suppliers[s] for s in waiting["supplier_id"].unique().sort()}
    send_scope = send_cols[0].multiselect(
        "Suppliers to send (none picked: every supplier with approved lines)",
        list(waiting_suppliers), format_func=lambda s: f"{waiting_suppliers[s]} ({s})",
        key="repl_send_suppliers")
    force = send_cols[1].checkbox("Send below the minimum order value too (audited)",
                                  key="repl_send_force")
    po_buttons = st.columns(2)
    preview_clicked = po_buttons[0].button("Preview purchase orders", key="repl_preview_pos",
                                           icon=":material/preview:")
    send_clicked = po_buttons[1].button("Send purchase orders", type="primary",
                                        key="repl_send_pos", icon=":material/send:")

    def restock(dry_run: bool):
        """The restock function's outcome, or None after showing why nothing happened."""
        try:
            return outbox.restock(suppliers=send_scope, dry_run=dry_run, force=force, user=user)
        except Exception as exc:  # an unknown supplier, a busy warehouse: say it, keep the page
            message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
            st.error(f"Nothing {'previewed' if dry_run else 'sent'}: {message}")
            return None

    if preview_clicked and (outcome := restock(dry_run=True)) is not None:
        st.caption(f"Preview: nothing written, nothing sent ({outcome.waiting_lines} approved "
                   "line(s) waiting).")
        ui.table(pl.DataFrame(outcome.orders, schema_overrides={"minimum": pl.Float64}),
                 name="purchase_order_preview", key="dl_po_preview")
    if send_clicked:
        if not user:
            st.error("Nothing sent: enter your name in the sidebar first (the audit records "
                     "who sent each purchase order).")
        elif (outcome := restock(dry_run=False)) is not None:
            st.session_state["repl_send_flash"] = (
                f"Sent by {user}: {outcome.lines_sent} line(s) on {len(outcome.sent)} purchase "
                "order(s)" + (": " + ", ".join(
                    f"{o['po_number']} ({waiting_suppliers.get(o['supplier_id'], o['supplier_id'])}"
                    f", {o['value']:,.2f} {o['currency']})" for o in outcome.sent)
                    if outcome.sent else "") + ". Their files are listed below.")
            st.session_state["repl_send_problems"] = outcome.problems
            st.session_state["repl_revision"] += 1
            st.rerun()

sent_purchase_orders(picked["supplier_id"])
