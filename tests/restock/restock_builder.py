"""A hand-built warehouse for the approvals and restock tests: master data in ``core`` and a
``marts.replenishment_suggestions`` table with the contract's columns (as the replenishment
assets write it), so these tests do not need the whole forecast → policy chain."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl

from assets.model import BASE_AMOUNTS, ENTITIES
from assets.settings import Settings, load_settings
from assets.warehouse import ensure_schema
from forecasting.urgency import urgency_label

AS_OF = date(2026, 11, 22)

SUGGESTION_SCHEMA = {
    "suggestion_id": pl.String(), "as_of": pl.Date(), "sku": pl.String(),
    "product_name": pl.String(), "location_id": pl.String(), "supplier_id": pl.String(),
    "supplier_name": pl.String(), "supplier_sku": pl.String(), "order_date": pl.Date(),
    "expected_arrival_date": pl.Date(), "suggested_units": pl.Int64(), "case_pack": pl.Int32(),
    "cases": pl.Int64(), "moq": pl.Int32(), "unit_cost": pl.Float64(), "currency": pl.String(),
    "unit_cost_base": pl.Float64(), "line_value": pl.Float64(), "line_value_base": pl.Float64(),
    "service_level": pl.Float64(), "reorder_point_units": pl.Float64(),
    "order_up_to_units": pl.Float64(), "safety_stock_units": pl.Float64(),
    "inventory_position_units": pl.Float64(), "projected_stockout_date": pl.Date(),
    "days_of_cover": pl.Float64(), "last_order_date": pl.Date(), "urgency_rank": pl.Int32(),
    "reason": pl.String(), "reason_codes": pl.String(),
}

SUPPLIERS = [
    {"supplier_id": "SUP-A", "name": "Alpha Textiles", "currency": "EUR", "lead_time_days_mean": 7.0,
     "order_weekdays": "Mon,Thu", "review_period_days": 7},
    {"supplier_id": "SUP-B", "name": "=HYPERLINK(\"http://evil\")", "currency": "GBP",
     "lead_time_days_mean": 10.0, "order_weekdays": "Tue", "review_period_days": 7},
    {"supplier_id": "SUP-C", "name": "Gamma Ceramics", "currency": "EUR", "lead_time_days_mean": 5.0,
     "order_weekdays": "Fri", "review_period_days": 14},
]
FX = {"EUR": 1.0, "GBP": 1.2}


def suggestion_id(as_of: date, sku: str, location_id: str) -> str:
    """The contract's stable id: md5 of ``as_of|sku|location_id``."""
    return hashlib.md5(f"{as_of}|{sku}|{location_id}".encode()).hexdigest()


def suggestion(sku: str, location_id: str, supplier_id: str, units: int, *, case_pack: int = 6,
               unit_cost: float = 2.5, name: str | None = None, as_of: date = AS_OF,
               rank: int = 1) -> dict:
    supplier = next(s for s in SUPPLIERS if s["supplier_id"] == supplier_id)
    currency = supplier["currency"]
    return {
        "suggestion_id": suggestion_id(as_of, sku, location_id), "as_of": as_of, "sku": sku,
        "product_name": name or f"Product {sku}", "location_id": location_id,
        "supplier_id": supplier_id, "supplier_name": supplier["name"],
        "supplier_sku": f"{supplier_id}-{sku}", "order_date": as_of + timedelta(days=1),
        "expected_arrival_date": as_of + timedelta(days=1 + int(supplier["lead_time_days_mean"])),
        "suggested_units": units, "case_pack": case_pack, "cases": units // case_pack,
        "moq": case_pack, "unit_cost": unit_cost, "currency": currency,
        "unit_cost_base": unit_cost * FX[currency], "line_value": units * unit_cost,
        "line_value_base": units * unit_cost * FX[currency], "service_level": 0.95,
        "reorder_point_units": 10.0, "order_up_to_units": 30.0, "safety_stock_units": 4.0,
        "inventory_position_units": 2.0, "projected_stockout_date": as_of + timedelta(days=3),
        "days_of_cover": 3.0, "last_order_date": as_of, "urgency_rank": rank,
        "reason": "below the reorder point", "reason_codes": "below_reorder_point,case_pack",
    }


def default_suggestions() -> list[dict]:
    """Six lines over three suppliers and two locations; one description tries a formula."""
    return [
        suggestion("SHIRT-M", "WH1", "SUP-A", 24, case_pack=12, unit_cost=4.0, rank=1),
        suggestion("SHIRT-L", "WH1", "SUP-A", 12, case_pack=12, unit_cost=4.0, rank=3),
        suggestion("SHIRT-M", "WH2", "SUP-A", 36, case_pack=12, unit_cost=4.0, rank=2),
        suggestion("MUG-01", "WH1", "SUP-B", 18, case_pack=6, unit_cost=3.5,
                   name="@SUM(1+1) mug", rank=4),
        suggestion("MUG-02", "WH2", "SUP-B", 6, case_pack=6, unit_cost=3.0, rank=5),
        suggestion("BOWL-1", "WH1", "SUP-C", 10, case_pack=1, unit_cost=12.0, rank=6),
    ]


def _insert(con: duckdb.DuckDBPyConnection, entity: str, rows: list[dict]) -> None:
    schema = dict(ENTITIES[entity].polars_schema)
    schema.update({f"{c}_base": pl.Float64() for c in BASE_AMOUNTS.get(entity, {})})
    frame = pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)
    con.register("_rows", frame.to_arrow())
    try:
        con.execute(f"INSERT INTO core.{entity} BY NAME SELECT * FROM _rows")
    finally:
        con.unregister("_rows")


def write_suggestions(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    """Replace ``marts.replenishment_suggestions`` with ``rows`` (contract columns; the
    urgency label as the replenishment step writes it)."""
    frame = pl.DataFrame(rows, schema=SUGGESTION_SCHEMA).with_columns(urgency_label())
    con.register("_suggestions", frame.to_arrow())
    try:
        con.execute("CREATE OR REPLACE TABLE marts.replenishment_suggestions AS"
                    " SELECT * FROM _suggestions")
    finally:
        con.unregister("_suggestions")


def build_home(home: Path, rows: list[dict] | None = None, toml: str = "",
               minimums: dict[str, float] | None = None) -> Settings:
    """A home with a warehouse holding master data for ``rows`` and the suggestions mart;
    ``minimums``: supplier_id -> minimum order value (supplier currency), none by default."""
    rows = default_suggestions() if rows is None else rows
    settings = load_settings(home)
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    if toml:
        (home / "shelfwise.toml").write_text(toml)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        ensure_schema(con)
        _insert(con, "suppliers", [{**s, "min_order_value": (minimums or {}).get(s["supplier_id"])}
                                   for s in SUPPLIERS])
        products = {r["sku"]: r for r in rows}
        _insert(con, "products", [
            {"sku": r["sku"], "name": r["product_name"], "supplier_id": r["supplier_id"],
             "supplier_sku": r["supplier_sku"], "unit_cost": r["unit_cost"],
             "unit_cost_base": r["unit_cost_base"], "cost_currency": r["currency"],
             "case_pack": r["case_pack"], "moq": r["moq"], "is_bundle": False}
            for r in products.values()])
        write_suggestions(con, rows)
    return load_settings(home)


def build_approved_home(home: Path, minimums: dict[str, float] | None = None) -> Settings:
    """:func:`build_home` with every default line approved by ``anna`` in the decision store."""
    from assets.decisions.store import DecisionStore

    settings = build_home(home, minimums=minimums)
    store = DecisionStore(settings.home)
    for row in default_suggestions():
        store.decide(row["suggestion_id"], "approve", user="anna", suggestion=row)
    return settings
