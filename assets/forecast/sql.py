"""The forecast domain's warehouse side: the demand model in SQL, reads for the library, writes.

Callable without Dagster: every function takes an open warehouse connection. Values (dates,
the base currency, override fields) are parameters, never formatted into the SQL.

Demand (docs/forecasting.md, "In the warehouse"): units ordered per SKU per business day
(``CAST(ordered_at AS DATE)``, UTC), cancelled lines removed, returns ignored (they are not
negative demand), a bundle line counted as ``units_per_bundle`` units of each component. A
SKU-day is a **stockout** when, at the end of the day, at least one location that stocks the
SKU had no free stock (``on_hand − reserved ≤ 0``): the channels served from there lost sales,
so the day's total understates demand and is censored (unknown), not what was sold. A
location with snapshot rows of a SKU stocks it unless it never had free stock of it at all.
Why "any location" and not "every location": measured against the demo generator's true lost
sales in docs/forecasting.md.
"""

from __future__ import annotations

import datetime as dt
import getpass

import duckdb
import polars as pl

from assets.warehouse import row_count

DAILY_DEMAND_SQL = """
CREATE OR REPLACE TABLE marts.daily_demand_by_sku AS
WITH accepted_lines AS (  -- a cancelled line is no demand; quantity 0 only on cancelled lines
    SELECT sku, CAST(ordered_at AS DATE) AS date, quantity
    FROM core.order_lines
    WHERE status <> 'cancelled' AND quantity > 0
),
attributed AS (  -- a bundle sale is demand for each component × units per bundle
    SELECT coalesce(bc.component_sku, l.sku) AS sku, l.date,
           l.quantity * coalesce(bc.units_per_bundle, 1) AS units,
           CASE WHEN bc.bundle_sku IS NULL THEN l.quantity ELSE 0 END AS units_direct
    FROM accepted_lines AS l
    LEFT JOIN core.bundle_components AS bc ON bc.bundle_sku = l.sku
),
demand AS (
    SELECT sku, date, sum(units) AS units, sum(units_direct) AS units_direct,
           count(*) AS order_lines
    FROM attributed
    GROUP BY sku, date
),
location_days AS (
    -- a snapshot row says the SKU is in the location's assortment; a location that never had
    -- free stock of it in the whole history does not carry it (zero rows, not stockouts)
    SELECT sku, location_id, snapshot_date AS date,
           greatest(on_hand - coalesce(reserved, 0), 0) AS free_units,
           max(on_hand - coalesce(reserved, 0)) OVER (PARTITION BY sku, location_id) > 0
               AS stocks_it
    FROM core.stock_snapshots
),
free_stock AS (  -- end-of-day free stock per SKU, and how many stocking locations had none
    SELECT sku, date,
           sum(free_units) AS free_stock_units,
           count(*) FILTER (WHERE stocks_it) AS stocked_locations,
           count(*) FILTER (WHERE stocks_it AND free_units <= 0) AS out_locations
    FROM location_days
    GROUP BY sku, date
)
SELECT coalesce(d.sku, s.sku) AS sku,
       coalesce(d.date, s.date) AS date,
       coalesce(d.units, 0)::BIGINT AS units,
       coalesce(d.units_direct, 0)::BIGINT AS units_direct,
       (coalesce(d.units, 0) - coalesce(d.units_direct, 0))::BIGINT AS units_from_bundles,
       coalesce(d.order_lines, 0)::BIGINT AS order_lines,
       s.free_stock_units::BIGINT AS free_stock_units,
       s.stocked_locations::BIGINT AS stocked_locations,
       s.out_locations::BIGINT AS out_locations,
       s.out_locations > 0 AS stockout  -- null: no snapshot that day (unknown, not censored)
FROM demand AS d
FULL JOIN free_stock AS s ON s.sku = d.sku AND s.date = d.date
ORDER BY sku, date
"""

UNIT_VALUE_SQL = """
WITH rates AS (  -- the latest rate on or before the as-of day per currency; the base is 1
    SELECT currency, arg_max(rate_to_base, rate_date) AS rate
    FROM core.fx_rates
    WHERE rate_date <= $as_of AND currency <> $base_currency
    GROUP BY currency
    UNION ALL SELECT $base_currency, 1.0
),
converted AS (
    SELECT p.sku, p.category,
           p.unit_cost * rc.rate AS unit_cost_base,
           p.list_price * rp.rate AS list_price_base
    FROM core.products AS p
    LEFT JOIN rates AS rc ON rc.currency = coalesce(p.cost_currency, $base_currency)
    LEFT JOIN rates AS rp ON rp.currency = coalesce(p.price_currency, $base_currency)
)
SELECT sku, category,
       coalesce(unit_cost_base, list_price_base) AS unit_value,
       CASE WHEN unit_cost_base IS NOT NULL THEN 'unit_cost'
            WHEN list_price_base IS NOT NULL THEN 'list_price' END AS unit_value_source
FROM converted
ORDER BY sku
"""


def build_daily_demand(con: duckdb.DuckDBPyConnection) -> int:
    """``marts.daily_demand_by_sku``: one row per SKU-day with an order line or a snapshot.

    ``units`` (all demand) = ``units_direct`` (the SKU sold as itself) + ``units_from_bundles``;
    ``order_lines`` counted; ``free_stock_units`` = Σ max(on hand − reserved, 0) over the
    locations with a snapshot; ``stocked_locations`` stock the SKU (they had free stock of it
    at some time), ``out_locations`` of them had none; ``stockout`` = out_locations > 0
    (null without a snapshot). Days with neither orders nor a snapshot have no row (0 units,
    not censored).
    """
    con.execute(DAILY_DEMAND_SQL)
    return row_count(con, "marts.daily_demand_by_sku")


def demand_as_of(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The forecast origin: the last day with demand. Later snapshot days are not zeros."""
    return con.execute(
        "SELECT max(date) FROM marts.daily_demand_by_sku WHERE units > 0"
    ).fetchall()[0][0]


def demand_grid(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, days: int
) -> pl.DataFrame:
    """The library's daily grid (``sku, date, units|null, censored``) of the last ``days`` days
    up to ``as_of``, from ``marts.daily_demand_by_sku``.

    A SKU that sold before the window but not in it still gets the whole window (zeros): the
    library then calls it dead and forecasts 0, instead of forgetting it.
    """
    from forecasting import daily_grid

    start = as_of - dt.timedelta(days=days - 1)
    params = {"start": start, "as_of": as_of}
    demand = con.sql(
        """SELECT sku, date, units FROM marts.daily_demand_by_sku
           WHERE units > 0 AND date BETWEEN $start AND $as_of
           UNION ALL  -- the last sale before the window: the grid starts at the window for it
           SELECT sku, max(date), 0 FROM marts.daily_demand_by_sku
           WHERE units > 0 AND date < $start GROUP BY sku""",
        params=params,
    ).pl()
    stockouts = con.sql(
        """SELECT sku, date, stockout FROM marts.daily_demand_by_sku
           WHERE stockout AND date BETWEEN $start AND $as_of""",
        params=params,
    ).pl()
    return daily_grid(demand, stockouts, start=start, end=as_of)


def unit_values(
    con: duckdb.DuckDBPyConnection, base_currency: str, as_of: dt.date | None
) -> pl.DataFrame:
    """``sku, category, unit_value, unit_value_source``: unit cost in the base currency, else
    the list price (FX: the latest rate on or before ``as_of``)."""
    return con.sql(
        UNIT_VALUE_SQL, params={"as_of": as_of or dt.date.max, "base_currency": base_currency}
    ).pl()


def replace_table(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> int:
    """``CREATE OR REPLACE`` ``table`` (a fixed name from this package) with ``frame``'s rows."""
    con.register("_forecast_frame", frame.to_arrow())
    try:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _forecast_frame")
    finally:
        con.unregister("_forecast_frame")
    return frame.height


# ---------------------------------------------------------------------------------------------
# planner overrides (ops.forecast_overrides): what planners typed, in the order they typed it
# ---------------------------------------------------------------------------------------------

OVERRIDES_DDL = """
CREATE TABLE IF NOT EXISTS ops.forecast_overrides (
  sku VARCHAR NOT NULL,
  start_date DATE NOT NULL,
  end_date DATE NOT NULL,     -- inclusive
  multiplier DOUBLE,          -- × the statistical forecast ...
  quantity DOUBLE,            -- ... or units/day the planner expects (exactly one of the two)
  note VARCHAR,
  created_at TIMESTAMP NOT NULL,  -- UTC; a later row wins where rows overlap
  created_by VARCHAR,
  CHECK ((multiplier IS NULL) <> (quantity IS NULL)),
  CHECK (coalesce(multiplier, quantity) >= 0),
  CHECK (start_date <= end_date)
)
"""

OVERRIDE_COLUMNS = ["sku", "start_date", "end_date", "multiplier", "quantity", "note",
                    "created_at", "created_by"]


def ensure_overrides_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS ops")
    con.execute(OVERRIDES_DDL)


def add_override(
    con: duckdb.DuckDBPyConnection,
    sku: str,
    start_date: dt.date,
    end_date: dt.date,
    *,
    multiplier: float | None = None,
    quantity: float | None = None,
    note: str | None = None,
    created_by: str | None = None,
    created_at: dt.datetime | None = None,
) -> None:
    """Append one planner override (validated by the table's CHECKs and here, with a message)."""
    if (multiplier is None) == (quantity is None):
        raise ValueError("give exactly one of multiplier or quantity")
    if (multiplier if multiplier is not None else quantity) < 0:
        raise ValueError("multiplier and quantity must be ≥ 0")
    if start_date > end_date:
        raise ValueError(f"start {start_date} is after end {end_date}")
    ensure_overrides_table(con)
    con.execute(
        "INSERT INTO ops.forecast_overrides VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [sku, start_date, end_date, multiplier, quantity, note,
         created_at or dt.datetime.now(dt.UTC).replace(tzinfo=None),
         created_by or getpass.getuser()],
    )


def read_overrides(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every override, oldest first (``apply_overrides`` lets the last overlapping row win)."""
    exists = con.execute(
        """SELECT count(*) FROM duckdb_tables()
           WHERE schema_name = 'ops' AND table_name = 'forecast_overrides'"""
    ).fetchall()[0][0]
    if not exists:
        return pl.DataFrame(schema={
            "sku": pl.String, "start_date": pl.Date, "end_date": pl.Date,
            "multiplier": pl.Float64, "quantity": pl.Float64, "note": pl.String,
            "created_at": pl.Datetime("us"), "created_by": pl.String,
        })
    return con.sql(
        f"SELECT {', '.join(OVERRIDE_COLUMNS)} FROM ops.forecast_overrides "
        "ORDER BY created_at, rowid"
    ).pl()
