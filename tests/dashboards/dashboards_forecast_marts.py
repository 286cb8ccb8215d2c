"""A small published forecast for the dashboard tests: the forecasting step's marts in the
shape the Forecast quality page reads (``marts.forecast_accuracy``, ``marts.demand_segments``,
``marts.demand_forecast``), written straight into a serving snapshot. Running the real
forecasting step on the 60-day test core would cost a minute and forecast nothing useful."""

from __future__ import annotations

from pathlib import Path

import duckdb

# sku, cutoff, model, units sold, units forecast (one backtest day per row)
BACKTEST = [
    ("SKU-001", "2026-10-04", "TSB×wd", 120.0, 131.0),
    ("SKU-001", "2026-11-01", "TSB×wd", 118.0, 109.0),
    ("SKU-002", "2026-10-04", "SeasonalES7", 40.0, 52.0),
    ("SKU-002", "2026-11-01", "SeasonalES7", 44.0, 35.0),
    ("SKU-003", "2026-10-04", "Combo(ADIDA,IMAPA,TSB,WA56)×wd", 6.0, 9.5),
    ("SKU-003", "2026-11-01", "Combo(ADIDA,IMAPA,TSB,WA56)×wd", 5.0, 3.25),
]
ABC = {"SKU-001": "A", "SKU-002": "B", "SKU-003": "C"}


def publish_forecast_marts(serving: Path) -> None:
    """Write the three forecast marts into the snapshot at ``serving``."""
    con = duckdb.connect(str(serving))
    try:
        con.execute("CREATE OR REPLACE TABLE marts.forecast_accuracy (sku VARCHAR, cutoff DATE, "
                    "horizon INTEGER, model VARCHAR, demand_class VARCHAR, actual DOUBLE, "
                    "forecast DOUBLE, abs_error DOUBLE, wape DOUBLE, bias DOUBLE)")
        con.executemany(
            "INSERT INTO marts.forecast_accuracy SELECT $1, $2::DATE, 28, $3, 'smooth', $4, $5, "
            "abs($4 - $5), abs($4 - $5) / $4, ($5 - $4) / $4", BACKTEST)
        con.execute("CREATE OR REPLACE TABLE marts.demand_segments (sku VARCHAR, abc VARCHAR, "
                    "xyz VARCHAR, demand_class VARCHAR)")
        con.executemany("INSERT INTO marts.demand_segments VALUES (?, ?, 'X', 'smooth')",
                        list(ABC.items()))
        con.execute("""
            CREATE OR REPLACE TABLE marts.demand_forecast AS
            SELECT sku, DATE '2026-11-22' + d::INTEGER AS date, 1.25 + d / 10 AS mean,
                   CASE WHEN sku = 'SKU-001' THEN 1.3 ELSE 1.0 END AS yearly_ratio
            FROM core.products, range(1, 29) AS t(d) WHERE NOT is_bundle
        """)
    finally:
        con.close()
