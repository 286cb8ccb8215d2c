"""A tiny hand-built core whose KPIs can be worked out on paper (see test_kpi_marts.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import polars as pl
import pytest

from assets.model import BASE_AMOUNTS, ENTITIES
from assets.warehouse import ensure_schema

T0 = datetime(2026, 1, 10, 0, 0)  # every order is placed at this instant


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def insert(con: duckdb.DuckDBPyConnection, entity: str, rows: list[dict]) -> None:
    """Insert rows into core.<entity>; absent columns are NULL (``*_base`` included)."""
    spec = ENTITIES[entity]
    schema = dict(spec.polars_schema)
    schema.update({f"{m}_base": pl.Float64() for m in BASE_AMOUNTS.get(entity, {})})
    frame = pl.DataFrame(  # noqa: F841 - read by DuckDB below
        [{name: row.get(name) for name in schema} for row in rows], schema=schema
    )
    con.execute(f"INSERT INTO core.{entity} BY NAME SELECT * FROM frame")


def line(order_id, line_id, sku, qty, amount_base, *, channel="web", status="shipped",
         promised=None, unit_price_base=None, updated=None) -> dict:
    return dict(channel_id=channel, order_id=order_id, line_id=line_id, channel_sku=sku, sku=sku,
                quantity=qty, unit_price=amount_base / qty, currency="EUR",
                line_amount=amount_base, line_amount_base=amount_base,
                unit_price_base=unit_price_base or amount_base / qty, status=status,
                ordered_at=T0, promised_ship_by=promised, updated_at=updated or T0)


def event(order_id, line_id, sku, qty, kind, at, *, channel="web", carrier="DHL",
          location="WH1", shipment=None) -> dict:
    return dict(shipment_id=shipment or f"S-{order_id}-{line_id}", channel_id=channel,
                order_id=order_id, line_id=line_id, sku=sku, quantity=qty, location_id=location,
                carrier=carrier, event_type=kind, event_at=at)


@pytest.fixture()
def tiny_core() -> duckdb.DuckDBPyConnection:
    """In-memory warehouse with the hand-built core described in test_kpi_marts.py."""
    con = duckdb.connect()
    ensure_schema(con)
    insert(con, "products", [
        dict(sku="A", name="Shirt", category="X", supplier_id="S1", unit_cost=10.0,
             cost_currency="EUR", case_pack=1, moq=1, is_bundle=False),
        dict(sku="B", name="Mug", category="Y", supplier_id="S1", unit_cost=5.0,
             cost_currency="GBP", case_pack=1, moq=1, is_bundle=False),
        dict(sku="C", name="Poster", category="Y", supplier_id="S1", unit_cost=3.0,
             cost_currency="EUR", case_pack=1, moq=1, is_bundle=False),
        dict(sku="D", name="Coaster", category="Y", supplier_id="S1", unit_cost=4.0,
             cost_currency="EUR", case_pack=1, moq=1, is_bundle=False),
        dict(sku="E", name="Cap", category="X", supplier_id="S1", case_pack=1, moq=1,
             is_bundle=False),  # no master-data cost: the PO's cost is used
        dict(sku="K", name="Kit", category="X", case_pack=1, moq=1, is_bundle=True),
    ])
    insert(con, "bundle_components", [
        dict(bundle_sku="K", component_sku="A", units_per_bundle=2),
        dict(bundle_sku="K", component_sku="D", units_per_bundle=1),
    ])
    insert(con, "fx_rates", [
        dict(rate_date=date(2026, 1, 1), currency="GBP", rate_to_base=1.1),
        dict(rate_date=date(2026, 1, 5), currency="GBP", rate_to_base=1.2),  # latest wins
    ])
    insert(con, "order_lines", [
        line("O1", "1", "A", 2, 40.0, promised=h(24)),  # shipped 1 h, on time
        line("O1", "2", "A", 1, 20.0),                  # shipped 2 h
        line("O2", "1", "B", 4, 57.6, promised=h(2), unit_price_base=14.4),  # 3 h, late
        line("O2", "2", "B", 1, 14.4),                  # shipped 4 h
        line("O3", "1", "A", 1, 20.0),                  # shipped 10 h
        line("O4", "1", "A", 3, 60.0, status="cancelled"),
        line("O5", "1", "B", 2, 28.8, status="paid", promised=h(5)),  # never shipped: overdue
        line("O6", "1", "K", 1, 50.0, channel="amz"),  # bundle, shipped 5 h
    ])
    insert(con, "fulfillment_events", [
        event("O1", "1", "A", 2, "shipped", h(1)),
        event("O1", "1", "A", 2, "delivered", h(25)),
        event("O1", "2", "A", 1, "shipped", h(2), carrier="UPS"),
        event("O1", "2", "A", 1, "delivered", datetime(2026, 1, 12, 12, 0), carrier="UPS"),
        event("O2", "1", "B", 4, "shipped", h(3)),
        event("O2", "2", "B", 1, "shipped", h(4)),
        event("O3", "1", "A", 1, "shipped", h(10), location="WH2"),
        event("O6", "1", "K", 1, "shipped", h(5), channel="amz"),
    ])
    insert(con, "returns", [
        dict(rma_id="R1", channel_id="web", order_id="O1", line_id="1", sku="A", quantity=1,
             reason="size", requested_at=h(48), refund_amount=20.0, refund_amount_base=20.0,
             currency="EUR", updated_at=h(48)),
        dict(rma_id="R2", channel_id="web", order_id="O2", line_id="1", sku="B", quantity=2,
             reason="damaged", requested_at=h(48), updated_at=h(48)),  # no refund amount yet
        dict(rma_id="R3", channel_id="web", order_id="O-unknown", line_id="1", sku="A",
             quantity=1, reason="size", requested_at=h(50), refund_amount=5.0,
             refund_amount_base=5.0, currency="EUR", updated_at=h(50)),
    ])
    stock = {  # sku -> on hand per day from the first date
        ("A", date(2026, 1, 10)): [5, 0, 0, 4],
        ("B", date(2026, 1, 10)): [10, 10, 10, 10],
        ("C", date(2026, 1, 8)): [7, 7, 7, 7, 7, 7],
        ("D", date(2026, 1, 8)): [3, 3, 3, 3, 3, 3],
    }
    insert(con, "stock_snapshots", [
        dict(snapshot_date=first + timedelta(days=i), location_id="WH1", sku=sku, on_hand=q,
             reserved=0, counted=False, counted_at=T0)
        for (sku, first), quantities in stock.items() for i, q in enumerate(quantities)
    ])

    def po(number, sku, expected, *, status="open", cost=10.0, cost_base=10.0):
        return dict(po_number=number, supplier_id="S1", sku=sku, location_id="WH1",
                    quantity_ordered=10, unit_cost=cost, unit_cost_base=cost_base,
                    currency="EUR", ordered_at=datetime(2025, 12, 20), expected_at=expected,
                    status=status, updated_at=datetime(2026, 1, 10))

    insert(con, "purchase_orders", [
        po("PO1", "A", date(2026, 1, 5), status="closed"),   # early, in full
        po("PO2", "B", date(2026, 1, 6), status="closed"),   # on the day, short (8 of 10)
        po("PO3", "A", date(2026, 1, 7), status="closed"),   # two days late
        po("PO4", "A", date(2026, 1, 8)),                    # overdue, nothing received
        po("PO5", "A", date(2026, 2, 1)),                    # not due yet: left out
        po("PO6", "A", date(2026, 1, 5), status="cancelled"),  # cancelled: left out
        po("PO7", "E", date(2026, 2, 1), cost=7.0, cost_base=8.4),  # E's only cost
    ])
    insert(con, "receipts", [
        dict(receipt_id="G1", po_number="PO1", sku="A", location_id="WH1",
             quantity_received=10, received_at=datetime(2026, 1, 4, 9)),
        dict(receipt_id="G2", po_number="PO2", sku="B", location_id="WH1",
             quantity_received=8, received_at=datetime(2026, 1, 6, 16)),
        dict(receipt_id="G3", po_number="PO3", sku="A", location_id="WH1",
             quantity_received=10, received_at=datetime(2026, 1, 9, 8)),
    ])
    yield con
    con.close()
