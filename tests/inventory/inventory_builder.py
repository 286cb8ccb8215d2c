"""Hand-built warehouses for the inventory tests: a few rows into ``core``, defaults for the rest."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from assets.model import BASE_AMOUNTS, ENTITIES
from assets.warehouse import ensure_schema

D0 = date(2026, 3, 1)


def day(n: int) -> date:
    """Business day ``n`` after D0."""
    return D0 + timedelta(days=n)


def at(n: int, hour: int = 12) -> datetime:
    """A UTC time on business day ``n``."""
    return datetime.combine(day(n), datetime.min.time()) + timedelta(hours=hour)


def new_warehouse(path: str | Path = ":memory:") -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    ensure_schema(con)
    return con


def insert(con: duckdb.DuckDBPyConnection, entity: str, rows: list[dict]) -> None:
    """Insert ``rows`` into ``core.<entity>``; missing columns are NULL, lineage is 'test'."""
    if not rows:
        return
    spec = ENTITIES[entity]
    schema = dict(spec.polars_schema)
    schema.update({f"{c}_base": pl.Float64() for c in BASE_AMOUNTS.get(entity, {})})
    unknown = set().union(*rows) - set(schema)
    assert not unknown, f"{entity}: unknown columns {unknown}"
    frame = pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)
    frame = frame.with_columns(
        source_file=pl.lit("test"), source_line=pl.int_range(1, frame.height + 1),
        batch_id=pl.lit("test"),
    )
    con.register("_rows", frame.to_arrow())
    try:
        con.execute(f"INSERT INTO core.{entity} BY NAME SELECT * FROM _rows")
    finally:
        con.unregister("_rows")


def product(sku: str, *, unit_cost: float = 10.0, currency: str = "EUR", bundle=False) -> dict:
    return {"sku": sku, "name": sku, "unit_cost": unit_cost, "cost_currency": currency,
            "case_pack": 1, "moq": 1, "is_bundle": bundle}


def channel(channel_id: str, *, units: int = 0, pct: float = 0.0) -> dict:
    return {"channel_id": channel_id, "name": channel_id, "channel_type": channel_id,
            "currency": "EUR", "safety_buffer_units": units, "safety_buffer_pct": pct}


def snapshot(n: int, sku: str, loc: str, on_hand: int, *, reserved=0, counted=True) -> dict:
    return {"snapshot_date": day(n), "location_id": loc, "sku": sku, "on_hand": on_hand,
            "reserved": reserved, "counted": counted, "counted_at": at(n, 23)}


_seq = iter(range(1, 10**9))


def order_line(channel_id: str, sku: str, qty: int, *, n: int = 0, status="paid", paid=True,
               location=None, order_id=None, cancelled=False, shipped=False) -> dict:
    i = next(_seq)
    return {"channel_id": channel_id, "order_id": order_id or f"O{i}", "line_id": "1",
            "channel_sku": sku, "sku": sku, "quantity": qty, "unit_price": 10.0,
            "currency": "EUR", "line_amount": 10.0 * qty, "status": status,
            "ordered_at": at(n, 9), "paid_at": at(n, 10) if paid else None,
            "cancelled_at": at(n, 11) if cancelled else None,
            "shipped_at": at(n, 15) if shipped else None,
            "location_id": location, "updated_at": at(n, 16)}


def shipment(line: dict, n: int, loc: str, qty: int | None = None) -> dict:
    return {"shipment_id": f"S{next(_seq)}", "channel_id": line["channel_id"],
            "order_id": line["order_id"], "line_id": line["line_id"], "sku": line["sku"],
            "quantity": qty if qty is not None else line["quantity"], "location_id": loc,
            "event_type": "shipped", "event_at": at(n, 14)}


def receipt(n: int, sku: str, loc: str, qty: int, po: str = "PO1") -> dict:
    return {"receipt_id": f"R{next(_seq)}", "po_number": po, "sku": sku, "location_id": loc,
            "quantity_received": qty, "received_at": at(n, 8)}


def adjustment(n: int, sku: str, loc: str, qty: int, reason: str = "correction") -> dict:
    return {"adjustment_id": f"A{next(_seq)}", "location_id": loc, "sku": sku, "quantity": qty,
            "reason": reason, "adjusted_at": at(n, 13)}


def resellable_return(line: dict, n: int, loc: str, qty: int, resellable=True) -> dict:
    return {"rma_id": f"RMA{next(_seq)}", "channel_id": line["channel_id"],
            "order_id": line["order_id"], "line_id": line["line_id"], "sku": line["sku"],
            "quantity": qty, "reason": "size", "condition": "resellable" if resellable else "damaged",
            "resellable": resellable, "location_id": loc, "requested_at": at(n - 1 if n else n, 9),
            "received_at": at(n, 10), "updated_at": at(n, 10)}


def shirt_story(con: duckdb.DuckDBPyConnection) -> None:
    """500 shirts at one warehouse, 6 sold on Etsy and 10 on eBay, not yet shipped."""
    insert(con, "products", [product("SHIRT")])
    insert(con, "locations", [{"location_id": "WH1", "name": "Main", "location_type": "warehouse"}])
    insert(con, "channels", [channel("etsy"), channel("ebay"), channel("shop")])
    insert(con, "channel_locations", [
        {"channel_id": c, "location_id": "WH1", "priority": 1} for c in ("etsy", "ebay", "shop")
    ])
    insert(con, "stock_snapshots", [snapshot(0, "SHIRT", "WH1", 500)])
    insert(con, "order_lines", [order_line("etsy", "SHIRT", 6, n=0), order_line("ebay", "SHIRT", 10, n=0)])
