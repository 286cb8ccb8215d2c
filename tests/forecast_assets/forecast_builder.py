"""Hand-built warehouses for the forecast asset tests: a few rows into ``core``."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

import duckdb
import polars as pl

from assets.model import BASE_AMOUNTS, ENTITIES

D0 = date(2026, 3, 2)  # a Monday
_seq = itertools.count(1)


def day(n: int) -> date:
    return D0 + timedelta(days=n)


def at(n: int, hour: int = 12) -> datetime:
    return datetime.combine(day(n), datetime.min.time()) + timedelta(hours=hour)


def insert(con: duckdb.DuckDBPyConnection, entity: str, rows: list[dict]) -> None:
    """Insert ``rows`` into ``core.<entity>``; missing columns are NULL, lineage is 'test'."""
    if not rows:
        return
    schema = dict(ENTITIES[entity].polars_schema)
    schema.update({f"{c}_base": pl.Float64() for c in BASE_AMOUNTS.get(entity, {})})
    unknown = set().union(*rows) - set(schema)
    assert not unknown, f"{entity}: unknown columns {unknown}"
    frame = pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)
    frame = frame.with_columns(source_file=pl.lit("test"),
                               source_line=pl.int_range(1, frame.height + 1), batch_id=pl.lit("test"))
    con.register("_rows", frame.to_arrow())
    try:
        con.execute(f"INSERT INTO core.{entity} BY NAME SELECT * FROM _rows")
    finally:
        con.unregister("_rows")


def product(sku: str, *, cost=10.0, currency="EUR", price=None, category="home", bundle=False) -> dict:
    return {"sku": sku, "name": sku, "category": category, "unit_cost": cost,
            "cost_currency": currency if cost is not None else None, "list_price": price,
            "price_currency": "EUR" if price is not None else None,
            "case_pack": 1, "moq": 1, "is_bundle": bundle}


def order_line(sku: str, qty: int, n: int, *, status="paid", channel="shop") -> dict:
    i = next(_seq)
    return {"channel_id": channel, "order_id": f"O{i}", "line_id": "1", "channel_sku": sku,
            "sku": sku, "quantity": qty, "unit_price": 10.0, "currency": "EUR",
            "line_amount": 10.0 * qty, "status": status, "ordered_at": at(n, 9),
            "cancelled_at": at(n, 11) if status == "cancelled" else None, "updated_at": at(n, 16)}


def snapshot(n: int, sku: str, loc: str, on_hand: int, reserved: int = 0) -> dict:
    return {"snapshot_date": day(n), "location_id": loc, "sku": sku, "on_hand": on_hand,
            "reserved": reserved, "counted": False, "counted_at": at(n, 23)}
