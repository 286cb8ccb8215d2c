"""KPIs: the manager's numbers as marts (fulfillment time, on-time ship, returns, sales,
fill rate, stockouts, turnover, dead stock, supplier on-time, accuracy). See docs/kpis.md.

``defs`` is built on first access, so :mod:`assets.kpis.marts` (its settings, read by the
alert settings and the command line) does not import Dagster."""


# the marts this domain builds, for the serving snapshot to wait for (plain data: no Dagster)
SERVED_MARTS = (
    "kpi_channel_mix_monthly", "kpi_dead_stock_by_sku_location", "kpi_fill_rate_daily",
    "kpi_forecast_accuracy_summary",
    "kpi_fulfillment_time_by_dimension", "kpi_fulfillment_time_daily",
    "kpi_fulfillment_time_monthly", "kpi_fulfillment_time_weekly",
    "kpi_inventory_record_accuracy_weekly", "kpi_inventory_turnover_by_sku", "kpi_on_time_ship_daily",
    "kpi_order_facts", "kpi_order_line_facts", "kpi_order_line_links", "kpi_reporting_settings",
    "kpi_return_line_links", "kpi_return_rate_by_reason", "kpi_return_rate_by_sku",
    "kpi_return_rate_daily", "kpi_returns_by_reason_daily", "kpi_returns_linked_by_channel",
    "kpi_sales_daily", "kpi_stockout_days_by_sku_location", "kpi_stockouts_daily",
    "kpi_supplier_on_time_monthly", "kpi_unconverted_revenue", "kpi_unit_cost_by_sku",
)


def __getattr__(name: str):
    # PEP 562: Dagster is imported only when the code location asks for `defs`
    if name == "defs":
        import dagster as dg

        from assets.kpis.accuracy import ACCURACY_ASSETS
        from assets.kpis.assets import KPI_ASSETS
        from assets.kpis.checks import CHECKS

        globals()["defs"] = dg.Definitions(
            assets=[*KPI_ASSETS, *ACCURACY_ASSETS], asset_checks=CHECKS
        )
        return globals()["defs"]
    raise AttributeError(name)
