"""Forecast quality (planner, manager): how wrong the forecasts were, weighted by volume, by
backtest cut-off, ABC class and model; one SKU's backtest in the drill-down.

Shows what the forecasting step has published; nothing is estimated here.
"""

from __future__ import annotations

import plotly.express as px
import polars as pl
import streamlit as st

from dashboards import data, ui
from dashboards.forecast_names import plain_model_name

st.title("Forecast quality")
ui.snapshot_caption()

forecast_tables = sorted(
    t for t in data.tables()
    if t.startswith("marts.") and ("forecast" in t or "demand_class" in t)
)
if not forecast_tables:
    ui.not_computed("Forecasts and forecast accuracy", "forecasting")
    st.stop()

# Accuracy as a manager reads it: error and bias weighted by volume (Σ|actual − forecast| ÷
# Σ actual; Σ forecast ÷ Σ actual − 1) over every SKU and cut-off of the backtest, so a SKU
# that sold 2 units cannot outweigh one that sold 2,000. Per-series figures only in the
# drill-down. Model names in words; the technical name on hover.
ACCURACY = "marts.forecast_accuracy"
WEIGHTED = """sum(abs_error) / nullif(sum(actual), 0) AS wape,
              sum(forecast) / nullif(sum(actual), 0) - 1 AS bias,
              sum(actual) AS actual_units"""
ERROR_AND_BIAS = {"wape": ui.Col("Error (WAPE)", "share"),
                  "bias": ui.Col("Bias", "signed_share"),
                  "actual_units": ui.Col("Units sold", "count")}


def signed_pct(value: float | None) -> str:
    return "–" if value is None else f"{value:+.1%}"


st.subheader("Forecast accuracy (backtest)")
HAS_BACKTEST = data.has_columns(
    ACCURACY, ["sku", "cutoff", "model", "actual", "forecast", "abs_error"])
overall = data.query(f"SELECT {WEIGHTED}, count(DISTINCT cutoff) AS cutoffs, "
                     f"count(DISTINCT sku) AS skus FROM {ACCURACY}").row(0, named=True) \
    if HAS_BACKTEST else None
if overall is not None and not overall["cutoffs"]:
    st.info("Forecast accuracy: the backtest has no rows yet. It needs enough order history "
            "for at least one cut-off followed by the forecast horizon; the forecasting step "
            "fills it as orders come in.", icon=":material/info:")
elif overall is not None:
    error_cell, bias_cell, units_cell, cutoffs_cell = st.columns(4)
    error_cell.metric("Forecast error (WAPE)", ui.pct(overall["wape"]),
                      help="Weighted by volume: Σ |actual − forecast| ÷ Σ actual units over "
                           "every SKU and backtest cut-off. 0 % is perfect; 100 % means the "
                           "errors add up to as many units as were sold.")
    bias_cell.metric("Bias", signed_pct(overall["bias"]),
                     help="Σ forecast ÷ Σ actual − 1, weighted by volume: above 0 the "
                          "forecasts were too high (stock piles up), below 0 too low "
                          "(stockouts).")
    units_cell.metric("Units backtested", ui.number(overall["actual_units"]))
    cutoffs_cell.metric("Backtest cut-offs", f"{overall['cutoffs']:,}",
                        help=f"{overall['skus']:,} SKUs forecast from each cut-off and compared "
                             "with what then sold.")

    trend = data.query(f"SELECT cutoff, {WEIGHTED} FROM {ACCURACY} GROUP BY cutoff "
                       "ORDER BY cutoff")
    fig = px.line(trend, x="cutoff", y=["wape", "bias"], markers=True,
                  title="Error and bias by backtest cut-off (weighted by volume)",
                  labels={"cutoff": "forecast made on", "value": "", "variable": ""})
    fig.for_each_trace(lambda t: t.update(name={"wape": "error (WAPE)", "bias": "bias"}[t.name]))
    ui.share_axis(fig, [*trend["wape"], *trend["bias"]])
    ui.chart(fig)

    # one under the other: the model names are long, a half-width chart would squeeze its bars
    left, right = st.container(), st.container()
    with left:
        if data.has_columns("marts.demand_segments", ["sku", "abc"]):
            by_abc = data.query(f"""
                SELECT coalesce(s.abc, '(unclassified)') AS "ABC class",
                       count(DISTINCT a.sku) AS "SKUs", {WEIGHTED.replace('sum(', 'sum(a.')}
                FROM {ACCURACY} AS a LEFT JOIN marts.demand_segments AS s USING (sku)
                GROUP BY ALL ORDER BY 1""")
            ui.table(by_abc, name="forecast_accuracy_by_abc", key="dl_fq_abc",
                     title="**Accuracy by ABC class** (A: the SKUs that make most of the value)",
                     columns=ERROR_AND_BIAS)
        else:
            st.info("Accuracy by ABC class: the demand classes (ABC by value) are not computed "
                    "yet; they come with the forecasting step.")
    with right:
        by_model = data.query(f"SELECT model, count(DISTINCT sku) AS skus, {WEIGHTED} "
                              f"FROM {ACCURACY} GROUP BY model ORDER BY actual_units DESC")
        by_model = by_model.with_columns(
            pl.col("model").map_elements(plain_model_name, return_dtype=pl.String).alias("name"))
        fig = px.bar(by_model, x="wape", y="name", orientation="h", custom_data=["model", "skus"],
                     title="Error (WAPE) by the model chosen for the SKU",
                     labels={"wape": "error (WAPE, weighted)", "name": ""})
        fig.update_traces(hovertemplate="%{y}<br>technical name: %{customdata[0]}<br>"
                                        "SKUs: %{customdata[1]}<br>error: %{x:.1%}<extra></extra>")
        ui.share_axis(fig, by_model["wape"], axis="x", bars=True)
        fig.update_yaxes(autorange="reversed")
        ui.chart(fig, height=max(340, 120 + 28 * by_model.height))

    with st.expander("One SKU's backtest (per cut-off)"):
        skus = data.query(f"SELECT DISTINCT sku FROM {ACCURACY} ORDER BY sku")["sku"].to_list()
        sku = st.selectbox("SKU", skus, key="fq_sku")
        st.markdown(f"**{sku}: units sold and forecast from each cut-off**")
        detail = data.query(
            f"SELECT cutoff, model, actual, forecast, wape, bias FROM {ACCURACY} "
            "WHERE sku = $sku ORDER BY cutoff", {"sku": sku})
        detail = detail.with_columns(
            pl.col("model").map_elements(plain_model_name, return_dtype=pl.String))
        ui.table(detail, name=f"backtest_{sku}", key="dl_fq_sku", columns={
            **ERROR_AND_BIAS, "cutoff": ui.Col("Forecast made on", "date"),
            "model": ui.Col("Model"), "actual": ui.Col("Units sold", "decimal1"),
            "forecast": ui.Col("Units forecast", "decimal1")})
elif data.has_table(ACCURACY):
    st.info("Forecast accuracy: the backtest was published without units sold and forecast "
            "per SKU, so no volume-weighted figure can be computed. Re-run the forecasting "
            "step.")
else:
    ui.not_computed("Forecast accuracy (backtests)", "forecast evaluation")

# Last year's season, as the published forecasts carry it (forecasting/seasonality.py): each
# SKU's point forecast is its recent rate times its category's yearly ratio for that day.
SEASON_SHOWN = 0.1  # the suggestion reasons name the season from a 10 % move, too
HAS_SEASON = data.has_columns("marts.demand_forecast", ["yearly_ratio"])
if HAS_SEASON:
    st.subheader("Last year's season in the forecasts")
    by_sku = data.query(
        "SELECT sku, avg(yearly_ratio) AS mean_yearly_ratio FROM marts.demand_forecast GROUP BY sku"
    )
if HAS_SEASON and not ui.empty_note(
        by_sku, "No forecast published yet: the forecasting step fills this from the demand "
                "history once products have sold."):
    lifted = by_sku.filter(by_sku["mean_yearly_ratio"] >= 1 + SEASON_SHOWN).height
    lowered = by_sku.filter(by_sku["mean_yearly_ratio"] <= 1 - SEASON_SHOWN).height
    left, right = st.columns(2)
    left.metric(f"SKUs lifted by {SEASON_SHOWN:.0%} or more", f"{lifted:,} of {by_sku.height:,}")
    right.metric(f"SKUs lowered by {SEASON_SHOWN:.0%} or more", f"{lowered:,} of {by_sku.height:,}")
    has_category = data.has_columns("core.products", ["category"])
    category = "coalesce(p.category, '(no category)')" if has_category else "'all SKUs'"
    join = "LEFT JOIN core.products p USING (sku)" if has_category else ""
    season = data.query(
        f"SELECT {category} AS category, f.date, avg(f.yearly_ratio) AS mean_yearly_ratio "
        f"FROM marts.demand_forecast f {join} GROUP BY ALL ORDER BY category, f.date"
    )
    ui.chart(px.line(season, x="date", y="mean_yearly_ratio", color="category",
                     title="Yearly ratio by forecast day (mean over the category's SKUs)",
                     labels={"date": "forecast day", "mean_yearly_ratio": "yearly ratio",
                             "category": ""}))
    st.caption(
        "A forecast is the recent rate times the category's yearly ratio of that day: above 1, "
        "last year's demand rose from the same point of the year; 1 when the category has no "
        "year of history (docs/forecasting.md, Yearly seasonality)."
    )

# the published tables, by what they hold (never by their warehouse names); per-series
# accuracy is in the drill-down above
PUBLISHED_COLUMNS = {
    "date": ui.Col("Day", "date"), "mean": ui.Col("Forecast (units, mean)", "decimal1"),
    "yearly_ratio": ui.Col("Yearly ratio", "number"), "model": ui.Col("Model"),
    "demand_class": ui.Col("Demand class"), "abc": ui.Col("ABC class"),
    "xyz": ui.Col("XYZ class"), "adi": ui.Col("ADI (days between sales)", "number"),
    "cv2": ui.Col("CV² of sale sizes", "number"), "units": ui.Col("Units", "count"),
    "demand_units": ui.Col("Units", "decimal1"), "censored": ui.Col("Out of stock", "flag"),
    "horizon_day": ui.Col("Days ahead", "count"), "is_override": ui.Col("Overridden", "flag"),
    "override_source": ui.Col("Override from"), "segment": ui.Col("Segment"),
    "vmr": ui.Col("Variance ÷ mean", "number"), "level_cv": ui.Col("Level CV", "number"),
    "statistical_mean": ui.Col("Statistical forecast (units, mean)", "decimal1"),
    "value": ui.Col("Sales value", "money"), "value_share": ui.Col("Share of value", "share"),
    "unit_value": ui.Col("Unit value", "money"), "last_sale": ui.Col("Last sale", "date"),
    "history_days": ui.Col("Days of history", "count"), "n_days": ui.Col("Days", "count"),
    "n_nonzero": ui.Col("Days with a sale", "count"), "n_weeks": ui.Col("Weeks", "count"),
    "weekly_cv": ui.Col("Weekly CV", "number"), "stockout": ui.Col("Out of stock", "flag"),
    "censored_days": ui.Col("Out-of-stock days", "count"),
}
TABLE_TITLES = {
    "marts.demand_forecast": "Published forecasts (per SKU and day)",
    "marts.demand_segments": "Demand class, ABC and XYZ class per SKU",
    "marts.daily_demand_by_sku": "Daily demand history per SKU",
}
for name, title in TABLE_TITLES.items():
    if name not in forecast_tables:
        continue
    rows = data.query(f"SELECT count(*) AS n FROM {name}").item()
    with st.expander(f"{title} ({rows:,} rows)"):
        ui.table(data.query(f"SELECT * FROM {name} LIMIT 1000"), name=name.split(".", 1)[1],
                 key=f"dl_{name}", columns=PUBLISHED_COLUMNS,
                 empty="Nothing published yet: the forecasting step fills this table.")
        if rows > 1000:
            st.caption("First 1,000 rows shown.")
