"""The KPI marts as data: one entry per mart, its SQL statement, what it reads, its knobs.

Each mart is one ``CREATE OR REPLACE TABLE marts.<name> AS ...`` statement in ``sql/<name>.sql``
(CTEs named for what they hold, values as ``$parameters``). Names carry the grain
(``kpi_fulfillment_time_daily``: one row per day and channel). The definitions are written
down, as computed, in docs/kpis.md.

This module knows nothing of Dagster: :func:`build_mart` runs one mart on a DuckDB
connection, which is all the tests need; ``assets.kpis.assets`` wraps each mart in an asset.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from assets.settings import Settings, check_timezone, read_section
from assets.warehouse.sql_files import read_model, render, sql_dir

if TYPE_CHECKING:  # only in annotations: the alert settings (and the CLI) read this module
    import duckdb

SQL_DIR = sql_dir(__file__)


@dataclass(frozen=True)
class KpiSettings:
    """The KPI knobs; override them in the ``[kpis]`` table of shelfwise.toml."""

    base_currency: str = "EUR"
    # the reporting time zone (tz database name): days, weeks and months of every KPI are
    # local days of this zone; timestamps stay UTC in core
    timezone: str = "UTC"
    # a SKU with no sale for this many days is dead stock
    dead_stock_days: int = 90
    # SKUs that shipped fewer units than this are not ranked by return rate (too noisy)
    min_return_volume: int = 20
    # trailing window, in days, for inventory turnover and days of supply
    turnover_window_days: int = 90
    # a line without promised_ship_by is due this many days after it was ordered (fill rate)
    settle_days: int = 2
    # returns_linked: the share of returned units linked to their order line below which the
    # return rate is shown with a warning, and below which it is withheld
    returns_linked_warn_share: float = 0.99
    returns_linked_block_share: float = 0.90

    @classmethod
    def from_settings(cls, settings: Settings) -> KpiSettings:
        """Defaults overridden by the ``[kpis]`` table (the base currency: the top-level
        ``base_currency``); an unknown key or a wrong type is refused, naming it."""
        kpi = read_section(settings, "kpis", cls, base_currency=settings.base_currency)
        check_timezone(kpi.timezone, "kpis", "timezone")
        return kpi


@dataclass(frozen=True)
class KpiMart:
    name: str
    doc: str  # one line: shown in the Dagster UI
    core: tuple[str, ...] = ()  # core entities it reads
    marts: tuple[str, ...] = ()  # marts it reads
    params: tuple[str, ...] = ()  # KpiSettings fields passed as $parameters
    # marts that are one statement over another grain: the shared sql/<template>.sql, whose
    # {name} and {period} (identifiers from this module, never input) are filled in
    template: str | None = None
    period: str | None = None

    @property
    def sql(self) -> str:
        if self.template is None:
            return read_model(SQL_DIR, self.name)
        return render(read_model(SQL_DIR, self.template), name=self.name, period=self.period)


FACTS = "kpi_order_line_facts"
ORDERS = "kpi_order_facts"
LINE_LINKS = "kpi_order_line_links"
RETURN_LINKS = "kpi_return_line_links"
RETURNS_LINKED = "kpi_returns_linked_by_channel"  # the returns_linked check reads it
UNIT_COST = "kpi_unit_cost_by_sku"

# in dependency order: a mart comes after every mart it reads
MARTS: tuple[KpiMart, ...] = (
    KpiMart(
        LINE_LINKS,
        "Order-line references of returns and shipments -> their order line (id, else order+SKU).",
        core=("returns", "fulfillment_events", "order_lines"),
    ),
    KpiMart(
        RETURN_LINKS,
        "One row per return line: the order line it belongs to and its value in the base currency.",
        core=("returns", "order_lines"),
        marts=(LINE_LINKS,),
    ),
    KpiMart(
        RETURNS_LINKED,
        "Share of returned units linked to their order line per channel (ok / warn / blocked).",
        marts=(RETURN_LINKS,),
        params=("returns_linked_warn_share", "returns_linked_block_share"),
    ),
    KpiMart(
        FACTS,
        "One row per order line: ordered, shipped (when, where, which carrier), delivered, returned.",
        core=("order_lines", "fulfillment_events", "products", "channels"),
        marts=(LINE_LINKS, RETURN_LINKS),
        params=("settle_days", "timezone"),
    ),
    KpiMart(
        ORDERS,
        "One row per order: revenue, shipping, placed -> last line shipped / delivered, promise.",
        marts=(FACTS,),
    ),
    *(
        KpiMart(
            f"kpi_fulfillment_time_{grain}",
            f"Per order: placed -> last line shipped / first shipped / delivered, median and "
            f"p90 hours, late deliveries, per local order {word}, channel and who fulfils "
            f"(merchant, marketplace, store).",
            marts=(ORDERS,),
            template="kpi_fulfillment_time",
            period=period,
        )
        for grain, period, word in (("daily", "order_date", "day"),
                                    ("weekly", "order_week", "week"),
                                    ("monthly", "order_month", "month"))
    ),
    KpiMart(
        "kpi_fulfillment_time_by_dimension",
        "Per line: fulfillment time median and p90 by channel, fulfiller, location and carrier.",
        marts=(FACTS,),
    ),
    KpiMart(
        "kpi_on_time_ship_daily",
        "Share of due lines shipped by promised_ship_by, per local promise day and channel.",
        marts=(FACTS,),
        params=("timezone",),
    ),
    KpiMart(
        "kpi_sales_daily",
        "Orders, units, revenue (incl. shipping) and average order value (base currency) per "
        "local order day and channel; unconverted orders counted, never as 0.",
        marts=(ORDERS,),
    ),
    KpiMart(
        "kpi_channel_mix_monthly",
        "Per local order month and channel: orders, units, revenue (base currency), the "
        "channel's share of the month's orders and revenue, and its change on the prior month.",
        marts=(ORDERS,),
    ),
    KpiMart(
        "kpi_unconverted_revenue",
        "Revenue without an FX rate to the base currency, in its own currency, per local "
        "order day, channel and currency.",
        marts=(ORDERS,),
    ),
    KpiMart(
        "kpi_reporting_settings",
        "The base currency and reporting time zone the KPI marts were computed with.",
        params=("base_currency", "timezone"),
    ),
    KpiMart(
        "kpi_fill_rate_daily",
        "Shipped units / ordered units of due, non-cancelled lines, per order day and channel.",
        marts=(FACTS,),
    ),
    KpiMart(
        "kpi_return_rate_daily",
        "Returned / shipped units and value, per ship-day cohort and channel.",
        marts=(FACTS,),
    ),
    KpiMart(
        "kpi_return_rate_by_sku",
        "Return rate per SKU, ranked among SKUs with the minimum shipped volume.",
        core=("products",),
        marts=(FACTS,),
        params=("min_return_volume",),
    ),
    KpiMart(
        "kpi_return_rate_by_reason",
        "Returned units and value per ship-day cohort, channel and reason (linked returns).",
        marts=(FACTS, RETURN_LINKS),
    ),
    KpiMart(
        "kpi_returns_by_reason_daily",
        "Returns, units and value per local request day, channel and reason.",
        marts=(RETURN_LINKS,),
        params=("timezone",),
    ),
    KpiMart(
        "kpi_stockout_days_by_sku_location",
        "Snapshot days with on_hand = 0 per SKU and location.",
        core=("stock_snapshots", "products"),
    ),
    KpiMart(
        "kpi_stockouts_daily",
        "SKUs observed and SKUs out of stock per snapshot day and location.",
        core=("stock_snapshots",),
    ),
    KpiMart(
        UNIT_COST,
        "Unit cost per SKU in the base currency (master data at latest FX, else latest PO).",
        core=("products", "fx_rates", "purchase_orders"),
        params=("base_currency",),
    ),
    KpiMart(
        "kpi_inventory_turnover_by_sku",
        "COGS, average inventory value, annualised turnover and days of supply per SKU.",
        core=("stock_snapshots", "bundle_components"),
        marts=(FACTS, UNIT_COST),
        params=("turnover_window_days",),
    ),
    KpiMart(
        "kpi_dead_stock_by_sku_location",
        "Stock on hand, and its value, of SKUs with no sale in the configured number of days.",
        core=("stock_snapshots", "order_lines", "bundle_components"),
        marts=(UNIT_COST,),
        params=("dead_stock_days", "timezone"),
    ),
    KpiMart(
        "kpi_supplier_on_time_monthly",
        "PO lines received by their expected date (and in full), per expected month and supplier.",
        core=("purchase_orders", "receipts"),
        params=("timezone",),
    ),
)

MARTS_BY_NAME = {m.name: m for m in MARTS}

# local_time(ts, zone): the wall-clock time in ``zone`` of ``ts``, a UTC timestamp without a
# zone as core keeps them; ``local_time(ts, $timezone)::DATE`` is its local day (DuckDB's ICU
# extension, bundled in the wheel). A temporary macro: it lives with the connection only.
LOCAL_TIME_MACRO = (
    "CREATE OR REPLACE TEMP MACRO local_time(ts, zone) AS (ts AT TIME ZONE 'UTC') AT TIME ZONE zone"
)


def build_mart(con: duckdb.DuckDBPyConnection, mart: KpiMart, kpi: KpiSettings) -> int:
    """Run one mart's statement on ``con``; return the mart's row count."""
    values = asdict(kpi)
    con.execute(LOCAL_TIME_MACRO)
    con.execute(mart.sql, {p: values[p] for p in mart.params})
    return con.execute(f"SELECT count(*) FROM marts.{mart.name}").fetchall()[0][0]


def build_all(con: duckdb.DuckDBPyConnection, kpi: KpiSettings | None = None) -> dict[str, int]:
    """Every KPI mart in dependency order; row counts by mart name."""
    kpi = kpi or KpiSettings()
    return {mart.name: build_mart(con, mart, kpi) for mart in MARTS}
