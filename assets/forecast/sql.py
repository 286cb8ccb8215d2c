"""The forecast domain's warehouse side: the demand model in SQL, reads for the library, writes.

Callable without Dagster: every function takes an open warehouse connection. Each statement
is one model file in ``assets/forecast/sql/`` (read through :mod:`assets.warehouse.sql_files`);
values (dates, the base currency, override fields) are ``$parameters``, never formatted into
the SQL. The tables the forecast computes in polars are written by
:func:`assets.warehouse.replace_table`.

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

from assets.warehouse import row_count, table_exists
from assets.warehouse.sql_files import read_model, sql_dir

SQL_DIR = sql_dir(__file__)  # one statement per model: sql/<model>.sql

def build_daily_demand(con: duckdb.DuckDBPyConnection) -> int:
    """``marts.daily_demand_by_sku``: one row per SKU-day with an order line or a snapshot.

    ``units`` (all demand) = ``units_direct`` (the SKU sold as itself) + ``units_from_bundles``;
    ``order_lines`` counted; ``free_stock_units`` = Σ max(on hand − reserved, 0) over the
    locations with a snapshot; ``stocked_locations`` stock the SKU (they had free stock of it
    at some time), ``out_locations`` of them had none; ``stockout`` = out_locations > 0
    (null without a snapshot). Days with neither orders nor a snapshot have no row (0 units,
    not censored).
    """
    con.execute(read_model(SQL_DIR, "daily_demand_by_sku"))
    return row_count(con, "marts.daily_demand_by_sku")


def demand_as_of(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The forecast origin: the last day with demand. Later snapshot days are not zeros."""
    return con.sql(read_model(SQL_DIR, "demand_as_of")).pl().row(0, named=True)["as_of"]


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
    demand = con.sql(read_model(SQL_DIR, "demand_in_window"), params=params).pl()
    stockouts = con.sql(read_model(SQL_DIR, "stockouts_in_window"), params=params).pl()
    return daily_grid(demand, stockouts, start=start, end=as_of)


def unit_values(
    con: duckdb.DuckDBPyConnection, base_currency: str, as_of: dt.date | None
) -> pl.DataFrame:
    """``sku, category, unit_value, unit_value_source``: unit cost in the base currency, else
    the list price (FX: the latest rate on or before ``as_of``)."""
    return con.sql(
        read_model(SQL_DIR, "unit_values"),
        params={"as_of": as_of or dt.date.max, "base_currency": base_currency},
    ).pl()


# ---------------------------------------------------------------------------------------------
# planner overrides (ops.forecast_overrides): what planners typed, in the order they typed it
# ---------------------------------------------------------------------------------------------

# the columns read_forecast_overrides.sql returns, in its order
OVERRIDE_COLUMNS = ["sku", "start_date", "end_date", "multiplier", "quantity", "note",
                    "created_at", "created_by"]


def ensure_overrides_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(read_model(SQL_DIR, "ops_schema"))
    con.execute(read_model(SQL_DIR, "forecast_overrides_table"))


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
    con.execute(read_model(SQL_DIR, "add_forecast_override"), {
        "sku": sku, "start_date": start_date, "end_date": end_date, "multiplier": multiplier,
        "quantity": quantity, "note": note,
        "created_at": created_at or dt.datetime.now(dt.UTC).replace(tzinfo=None),
        "created_by": created_by or getpass.getuser(),
    })


def read_overrides(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every override, oldest first (``apply_overrides`` lets the last overlapping row win)."""
    if not table_exists(con, "ops", "forecast_overrides"):
        return pl.DataFrame(schema={
            "sku": pl.String, "start_date": pl.Date, "end_date": pl.Date,
            "multiplier": pl.Float64, "quantity": pl.Float64, "note": pl.String,
            "created_at": pl.Datetime("us"), "created_by": pl.String,
        })
    return con.sql(read_model(SQL_DIR, "read_forecast_overrides")).pl()
