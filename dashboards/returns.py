"""The KPIs page's returns: the headline return rate and the Returns section.

Return rate = returned ÷ shipped units of the lines shipped in the period (a ship-day cohort,
whenever the returns came back), from returns linked to their order line
(``marts.kpi_returns_linked_by_channel`` says how many link, per channel; docs/kpis.md). With
no returns at all the page says "no returns data", not 0 %. A channel linking under the block
share (90 %) is left out of every return rate, and the page names it; under the warn share
(99 %) its rate is shown with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import streamlit as st

from dashboards import data, ui

LINKED = "marts.kpi_returns_linked_by_channel"
NO_RETURNS = "No returns data"
WITHHELD = "Withheld"


@dataclass(frozen=True)
class ReturnsData:
    """What the warehouse knows about returns: whether any were loaded, and the channels whose
    returns link too poorly to their order lines for a trustworthy rate."""

    has_returns: bool
    blocked: pl.DataFrame  # channel_id, linked_share of channels under the block share
    warned: pl.DataFrame   # ... under the warn share

    @property
    def blocked_ids(self) -> list[str]:
        return self.blocked["channel_id"].to_list()

    def headline(self, rate: float | None) -> str:
        if not self.has_returns:
            return NO_RETURNS
        return WITHHELD if rate is None and self.blocked_ids else ui.pct(rate)

    def rates(self, period: ui.Period, channels: list[str]) -> tuple[float | None, float | None]:
        """Returned ÷ shipped units of the lines shipped in ``period`` and in the period
        before, over the picked channels except the blocked ones."""
        row = data.query(f"""
            SELECT sum(units_returned) FILTER (WHERE ship_date >= $start)
                       / nullif(sum(units_shipped) FILTER (WHERE ship_date >= $start), 0) AS now,
                   sum(units_returned) FILTER (WHERE ship_date < $start)
                       / nullif(sum(units_shipped) FILTER (WHERE ship_date < $start), 0)
                       AS before
            FROM marts.kpi_return_rate_daily
            WHERE ship_date BETWEEN $prev_start AND $end AND {NOT_BLOCKED}
              AND {data.one_of("channels", "channel_id")}""", {
            "start": period.start, "end": period.end, "prev_start": period.previous.start,
            "channels": channels, "blocked": self.blocked_ids}).row(0, named=True)
        return row["now"], row["before"]


# channels whose returns link too poorly are left out of every rate ($blocked: their ids)
NOT_BLOCKED = "NOT list_contains($blocked::VARCHAR[], channel_id)"


def returns_data() -> ReturnsData:
    if not data.has_table(LINKED):
        empty = pl.DataFrame({"channel_id": [], "linked_share": []})
        return ReturnsData(False, empty, empty)
    linked = data.query(f"SELECT channel_id, linked_share, status FROM {LINKED} "
                        "WHERE units_returned > 0 ORDER BY channel_id")
    pick = lambda status: linked.filter(pl.col("status") == status).drop("status")  # noqa: E731
    return ReturnsData(not linked.is_empty(), pick("blocked"), pick("warn"))


def _shares(frame: pl.DataFrame) -> str:
    return ", ".join(f"{r['channel_id']} {ui.pct(r['linked_share'])}"
                     for r in frame.iter_rows(named=True))


def linkage_notes(returns: ReturnsData) -> None:
    """Say why the rate is missing or less certain, and what would fix it."""
    if not returns.has_returns:
        st.info("No returns data: no returns file has been loaded, so there is no return rate "
                "(not 0 %). Drop the returns export (RMA lines: order id, line id or SKU, "
                "quantity, reason) into `inbox/returns/`.", icon=":material/assignment_return:")
    if not returns.blocked.is_empty():
        st.error("Left out of every return rate: under 90 % of returned units link to their "
                 f"order line on {_shares(returns.blocked)}, so their rate would be too low. "
                 "See the data-quality check `returns_linked` (the order lines those returns "
                 "name are missing or carry another SKU).")
    if not returns.warned.is_empty():
        st.warning("Return rate may be low: under 99 % of returned units link to their order "
                   f"line on {_shares(returns.warned)} (check `returns_linked`).")


RATE = {"return_rate_units": ui.Col("Return rate (units)", "share"),
        "return_rate_value": ui.Col("Return rate (value)", "share"),
        "units_returned": ui.Col("Units returned", "count"),
        "linked_share": ui.Col("Returns linked to their order line", "share"),
        "return_rate_rank": ui.Col("Rank", "id")}


def section(returns: ReturnsData, params: dict, categories: list[str], grain: str) -> None:
    """The Returns section: rate by ship period, by channel, by reason, top products.
    ``params``: start, end, channels (the page's filters), grain."""
    import plotly.express as px  # after the headline: see kpis.py

    in_channels = data.one_of("channels", "channel_id")
    in_categories = data.one_of("categories", "category")
    st.subheader("Returns")
    linkage_notes(returns)
    if not returns.has_returns:
        return
    params = {**params, "blocked": returns.blocked_ids}
    in_channels = f"{in_channels} AND {NOT_BLOCKED}"
    rate = data.query(
        f"""
        SELECT date_trunc($grain, ship_date)::DATE AS period,
               sum(units_returned) / sum(units_shipped) AS "of units",
               sum(value_returned_base) / nullif(sum(value_shipped_base), 0) AS "of value"
        FROM marts.kpi_return_rate_daily
        WHERE ship_date BETWEEN $start AND $end AND {in_channels}
        GROUP BY ALL ORDER BY period
        """,
        params,
    )
    if rate.is_empty():
        st.info("No shipped lines in this period: the return rate needs shipped units.")
        return
    left, right = st.columns(2)
    with left:
        fig = px.line(rate, x="period", y=["of units", "of value"], markers=True,
                      title=f"Return rate by ship {grain}",
                      labels={"value": "return rate", "variable": "", "period": ""})
        ui.share_axis(fig, [*rate["of units"], *rate["of value"]])
        ui.chart(fig)
        st.caption(f"Recent {grain}s fill in as their returns arrive.")
    by_reason = data.query(
        f"""
        WITH shipped AS (
            SELECT sum(units_shipped) AS units FROM marts.kpi_return_rate_daily
            WHERE ship_date BETWEEN $start AND $end AND {in_channels}
        )
        SELECT reason, sum(units_returned) AS units_returned,
               sum(units_returned) / any_value(shipped.units) AS return_rate
        FROM marts.kpi_return_rate_by_reason, shipped
        WHERE ship_date BETWEEN $start AND $end AND {in_channels}
        GROUP BY ALL ORDER BY return_rate DESC
        """,
        params,
    )
    with right:
        if not ui.empty_note(by_reason, "No returns yet of the units shipped in this period: "
                                        "returns exports (inbox/returns/) naming their order "
                                        "lines fill this chart as they come back."):
            fig = px.bar(by_reason, x="return_rate", y="reason", orientation="h",
                         title="Return rate by reason",
                         labels={"return_rate": "returned ÷ shipped units", "reason": ""})
            ui.share_axis(fig, by_reason["return_rate"], axis="x", bars=True)
            ui.chart(fig)
            st.caption("Returned ÷ shipped units, of the units shipped in the period.")

    by_channel = data.query(
        f"""
        SELECT r.channel_id, sum(r.units_shipped) AS units_shipped,
               sum(r.units_returned) AS units_returned,
               sum(r.units_returned) / sum(r.units_shipped) AS return_rate_units,
               sum(r.value_returned_base) / nullif(sum(r.value_shipped_base), 0)
                   AS return_rate_value,
               any_value(l.linked_share) AS linked_share
        FROM marts.kpi_return_rate_daily AS r
        LEFT JOIN {LINKED} AS l USING (channel_id)
        WHERE r.ship_date BETWEEN $start AND $end AND {data.one_of("channels", "r.channel_id")}
          AND {NOT_BLOCKED.replace("channel_id", "r.channel_id")}
        GROUP BY ALL ORDER BY return_rate_units DESC
        """,
        params,
    )
    ui.table(by_channel, name="return_rate_by_channel", key="dl_return_rate_by_channel",
             title="**Return rate by channel** (units shipped in the period)", columns=RATE,
             empty="No shipped units in this period and channel: shipped order lines fill "
                   "this table.")

    top = data.query(
        f"""
        SELECT return_rate_rank, sku, name, category, units_shipped, units_returned,
               return_rate_units, return_rate_value
        FROM marts.kpi_return_rate_by_sku
        -- a product nobody sent back is not a "top returned" product, whatever its rank
        WHERE return_rate_rank IS NOT NULL AND units_returned > 0 AND {in_categories}
        ORDER BY return_rate_rank LIMIT 15
        """,
        {"categories": categories},
    )
    ui.table(top, name="top_returned_products", key="dl_top_returned",
             title="**Top products by return rate** (all history; products with at least the "
                   "minimum shipped volume and at least one return)", columns=RATE,
             empty="No product has both the minimum shipped volume (`[kpis] "
                   "min_return_volume`) and a return yet: returns exports (inbox/returns/) "
                   "fill this table.")
