"""A small generated warehouse, its KPI marts and its serving snapshot, for the dashboard tests.

The core is built here by hand (``ensure_schema`` + inserts of seeded random rows), because
the demo generator and the ingest adapters are built in parallel with the dashboards. The
replenishment marts are derived from that core to the shared contract
(``dashboards_replenishment_marts.py``). The KPI marts and the snapshot are then materialized
by the real Dagster assets in process.
"""

from __future__ import annotations

import random
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from dashboards_replenishment_marts import build_replenishment_marts

from assets.model import BASE_AMOUNTS, ENTITIES
from assets.warehouse import ensure_schema

END = date(2026, 11, 22)
CHANNELS = [  # channel_id, name, type, currency
    ("web", "Web shop", "shopify", "EUR"),
    ("amazon_de", "Amazon DE", "amazon", "EUR"),
    ("ebay_uk", "eBay UK", "ebay", "GBP"),
]
LOCATIONS = [("WH1", "Main warehouse", "warehouse"), ("ST1", "City store", "store")]
CARRIERS = ["DHL", "UPS", "DPD"]
REASONS = ["too small", "damaged", "not as described", "changed mind"]
FX = {"EUR": 1.0, "GBP": 1.17}


def insert(con: duckdb.DuckDBPyConnection, entity: str, rows: list[dict]) -> None:
    """Insert rows into ``core.<entity>``; missing columns are NULL, lineage is filled in,
    ``*_base`` money is converted with FX."""
    if not rows:
        return
    spec = ENTITIES[entity]
    full = []
    for i, row in enumerate(rows, start=1):
        record = {c.name: row.get(c.name) for c in spec.columns}
        for money, currency_col in BASE_AMOUNTS.get(entity, {}).items():
            amount = row.get(money)
            rate = FX.get(row.get(currency_col) or "EUR", 1.0)
            record[f"{money}_base"] = None if amount is None else round(amount * rate, 4)
        record.update(source_file=f"tests/{entity}.csv", source_line=i + 1, batch_id="test")
        full.append(record)
    schema = dict(spec.polars_schema)
    schema.update({f"{m}_base": pl.Float64() for m in BASE_AMOUNTS.get(entity, {})})
    schema.update(source_file=pl.String(), source_line=pl.Int64(), batch_id=pl.String())
    frame = pl.DataFrame(full, schema=schema)  # noqa: F841 - read by DuckDB below
    con.execute(f"INSERT INTO core.{entity} BY NAME SELECT * FROM frame")


def build_small_core(con: duckdb.DuckDBPyConnection, *, seed: int = 7, days: int = 60) -> None:
    """A seeded, small but complete core: 3 channels, 2 locations, 12 SKUs (one bundle),
    ``days`` days of orders, shipments, deliveries, returns, daily stock, POs and receipts,
    plus a few quarantined rows."""
    rng = random.Random(seed)
    ensure_schema(con)
    start = END - timedelta(days=days - 1)
    categories = ["Shirts", "Mugs", "Posters"]
    products = []
    for i in range(1, 12):
        products.append(dict(
            sku=f"SKU-{i:03d}", name=f"Product {i}", category=categories[i % 3],
            supplier_id="SUP-A" if i % 2 else "SUP-B", unit_cost=round(2 + i * 0.75, 2),
            cost_currency="EUR" if i % 2 else "GBP", list_price=round(8 + i * 2.0, 2),
            price_currency="EUR", case_pack=6, moq=12, is_bundle=False,
            supplier_sku=f"{'A' if i % 2 else 'B'}-{i:04d}",
            launched_on=start - timedelta(days=200),
        ))
    products.append(dict(sku="KIT-001", name="Mug gift set", category="Mugs", case_pack=1,
                         moq=1, is_bundle=True, list_price=30.0, price_currency="EUR"))
    insert(con, "products", products)
    insert(con, "bundle_components", [
        dict(bundle_sku="KIT-001", component_sku="SKU-001", units_per_bundle=2),
        dict(bundle_sku="KIT-001", component_sku="SKU-004", units_per_bundle=1),
    ])
    insert(con, "suppliers", [
        dict(supplier_id="SUP-A", name="Alpha Textiles", currency="EUR", lead_time_days_mean=14,
             order_weekdays="Mon,Thu", review_period_days=7, min_order_value=250.0,
             country="DE"),
        dict(supplier_id="SUP-B", name="Brit Ceramics", currency="GBP", lead_time_days_mean=21,
             order_weekdays="Tue", review_period_days=14, min_order_value=5000.0,
             country="GB"),
    ])
    insert(con, "locations", [dict(location_id=l, name=n, location_type=t, country="DE")
                              for l, n, t in LOCATIONS])
    insert(con, "channels", [dict(channel_id=c, name=n, channel_type=t, currency=cur,
                                  safety_buffer_units=1, safety_buffer_pct=0.05)
                             for c, n, t, cur in CHANNELS])
    insert(con, "fx_rates", [dict(rate_date=start + timedelta(days=d), currency=c, rate_to_base=r)
                             for d in range(days) for c, r in FX.items()])

    sellable = [p for p in products]
    lines, events, returns = [], [], []
    for d in range(days):
        day = start + timedelta(days=d)
        for channel_id, _, _, currency in CHANNELS:
            for n in range(rng.randint(2, 6)):
                order_id = f"{channel_id}-{d:03d}-{n}"
                ordered_at = datetime.combine(day, datetime.min.time()) + timedelta(
                    minutes=rng.randint(0, 23 * 60))
                for line_no in range(1, rng.randint(1, 3) + 1):
                    product = rng.choice(sellable)
                    qty = rng.randint(1, 3)
                    price = product["list_price"] / FX[currency]
                    status_roll = rng.random()
                    promised = ordered_at + timedelta(hours=48)
                    location = rng.choice(LOCATIONS)[0]
                    line = dict(channel_id=channel_id, order_id=order_id, line_id=str(line_no),
                                channel_sku=product["sku"], sku=product["sku"], quantity=qty,
                                unit_price=round(price, 2), currency=currency,
                                line_amount=round(price * qty, 2), ordered_at=ordered_at,
                                promised_ship_by=promised, location_id=location,
                                customer_key=f"c{rng.randint(1, 400)}", updated_at=ordered_at)
                    age_days = (END - day).days
                    if status_roll < 0.04:
                        line.update(status="cancelled", cancelled_at=ordered_at + timedelta(hours=2),
                                    updated_at=ordered_at + timedelta(hours=2))
                    elif age_days < 1 and status_roll < 0.6:
                        line.update(status="paid", paid_at=ordered_at)
                    else:
                        shipped = ordered_at + timedelta(hours=rng.choice([6, 12, 20, 30, 44, 60]))
                        delivered = shipped + timedelta(hours=rng.randint(20, 90))
                        carrier = rng.choice(CARRIERS)
                        status = "delivered" if delivered.date() <= END else "shipped"
                        line.update(status=status, paid_at=ordered_at, shipped_at=shipped,
                                    updated_at=delivered if status == "delivered" else shipped)
                        shipment = f"S-{order_id}-{line_no}"
                        base = dict(shipment_id=shipment, channel_id=channel_id, order_id=order_id,
                                    line_id=str(line_no), sku=product["sku"], quantity=qty,
                                    location_id=location, carrier=carrier,
                                    tracking_number=f"T{rng.randint(10**8, 10**9)}")
                        events.append({**base, "event_type": "shipped", "event_at": shipped})
                        if status == "delivered":
                            line["delivered_at"] = delivered
                            events.append({**base, "event_type": "delivered", "event_at": delivered})
                            if rng.random() < 0.12:
                                back = rng.randint(1, qty)
                                returns.append(dict(
                                    rma_id=f"R-{order_id}-{line_no}", channel_id=channel_id,
                                    order_id=order_id, line_id=str(line_no), sku=product["sku"],
                                    quantity=back, reason=rng.choice(REASONS),
                                    condition="resellable", resellable=True, location_id="WH1",
                                    requested_at=delivered + timedelta(days=2),
                                    refund_amount=round(price * back, 2), currency=currency,
                                    updated_at=delivered + timedelta(days=2)))
                    lines.append(line)
    insert(con, "order_lines", lines)
    insert(con, "fulfillment_events", events)
    insert(con, "returns", returns)

    snapshots = []
    for product in products:
        if product["is_bundle"]:
            continue
        for location_id, _, _ in LOCATIONS:
            level = rng.randint(0, 80)
            for d in range(days):
                # SKU-011 never sells below: it is the dead stock of this warehouse
                level = max(0, level - rng.randint(0, 6)) if product["sku"] != "SKU-011" else 40
                if level == 0 and rng.random() < 0.3:
                    level = rng.randint(30, 90)  # a receipt arrived
                snapshots.append(dict(snapshot_date=start + timedelta(days=d),
                                      location_id=location_id, sku=product["sku"], on_hand=level,
                                      reserved=0, counted=d % 30 == 0,
                                      counted_at=datetime.combine(start + timedelta(days=d),
                                                                  datetime.min.time())))
    insert(con, "stock_snapshots", snapshots)
    # keep the dead-stock SKU out of sales history
    con.execute("DELETE FROM core.order_lines WHERE sku = 'SKU-011'")

    pos, receipts = [], []
    for k in range(24):
        product = products[k % 11]
        ordered_at = datetime.combine(start + timedelta(days=2 * k), datetime.min.time())
        expected = (ordered_at + timedelta(days=10)).date()
        qty = 60
        status = "open"
        if expected <= END:
            late = rng.choice([-1, 0, 0, 2, 5])
            received_at = ordered_at + timedelta(days=10 + late)
            if received_at.date() <= END:
                status = "closed"
                short = 0 if rng.random() < 0.8 else 6
                receipts.append(dict(receipt_id=f"GR-{k}", po_number=f"PO-{k:03d}",
                                     sku=product["sku"], location_id="WH1",
                                     quantity_received=qty - short, received_at=received_at))
        pos.append(dict(po_number=f"PO-{k:03d}", supplier_id=product["supplier_id"],
                        sku=product["sku"], location_id="WH1", quantity_ordered=qty,
                        unit_cost=product["unit_cost"], currency=product["cost_currency"],
                        ordered_at=ordered_at, expected_at=expected, status=status,
                        updated_at=ordered_at))
    # still open at the end, for the most urgent SKU: one late and partly received, one on
    # its way (the drill-down's inbound purchase orders)
    for po_number, ordered, expected, qty in (("PO-900", 12, -2, 24), ("PO-901", 3, 7, 12)):
        ordered_at = datetime.combine(END - timedelta(days=ordered), datetime.min.time())
        pos.append(dict(po_number=po_number, supplier_id="SUP-A", sku="SKU-007",
                        location_id="WH1", quantity_ordered=qty, unit_cost=7.25,
                        currency="EUR", ordered_at=ordered_at,
                        expected_at=END + timedelta(days=expected), status="open",
                        updated_at=ordered_at))
    receipts.append(dict(receipt_id="GR-900", po_number="PO-900", sku="SKU-007",
                         location_id="WH1", quantity_received=6,
                         received_at=datetime.combine(END - timedelta(days=1),
                                                      datetime.min.time())))
    insert(con, "purchase_orders", pos)
    insert(con, "receipts", receipts)

    con.execute(
        """
        INSERT INTO quarantine.rows
        SELECT 'test', 'inbox/amazon/orders_' || (i % 2) || '.csv', i + 1, 'amazon',
               'order_lines', CASE WHEN i % 3 = 0 THEN 'quantity_positive' ELSE 'sku_known' END,
               'line ' || (i + 1) || ': rule broken', '{}', TIMESTAMP '2026-11-22 06:00:00'
        FROM range(7) AS t(i)
        """
    )


def materialize_kpis_and_snapshot(home: Path, *, stock_and_alerts: bool = False) -> None:
    """Run the real KPI and serving assets in process against ``home``'s warehouse; with
    ``stock_and_alerts`` the inventory (ATS, reconciliation) and alerts assets too."""
    import dagster as dg

    from assets.kpis import defs as kpi_defs
    from pipelines.domains import serving_defs
    from pipelines.resources import build_resources

    extra = []
    if stock_and_alerts:
        from assets.alerts import defs as alert_defs
        from assets.inventory import defs as inventory_defs

        extra = [*inventory_defs.assets, *alert_defs.assets]
    result = dg.materialize(
        [*extra, *kpi_defs.assets, *serving_defs.assets],
        resources=build_resources(str(home)),
    )
    assert result.success


def build_home(home: Path, *, stock_and_alerts: bool = False) -> Path:
    """The small core, its replenishment marts, the KPI marts (and with ``stock_and_alerts``
    the inventory and alerts marts) by the real assets, and a published snapshot in ``home``."""
    # a 60-day history: dead stock after 30 days without a sale (exercises [kpis] settings)
    (home / "shelfwise.toml").write_text("[kpis]\ndead_stock_days = 30\n", encoding="utf-8")
    warehouse = home / "warehouse" / "shelfwise.duckdb"
    warehouse.parent.mkdir(parents=True)
    con = duckdb.connect(str(warehouse))
    try:
        build_small_core(con)
        build_replenishment_marts(con, END)
    finally:
        con.close()
    materialize_kpis_and_snapshot(home, stock_and_alerts=stock_and_alerts)
    return home


@pytest.fixture(scope="session")
def served_home(tmp_path_factory) -> Path:
    """A shelfwise home with a small warehouse, its replenishment and KPI marts and a published
    snapshot."""
    return build_home(tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="session")
def full_home(tmp_path_factory) -> Path:
    """The small core with every page's marts: KPIs, inventory (ATS, reconciliation, record
    accuracy), alerts and the replenishment contract by the real assets, plus a small
    published backtest (``dashboards_forecast_marts.py``), so no page shows only "not
    computed yet"."""
    from dashboards_forecast_marts import publish_forecast_marts

    home = build_home(tmp_path_factory.mktemp("full_home"), stock_and_alerts=True)
    publish_forecast_marts(home / "serving" / "serving.duckdb")
    return home


@pytest.fixture()
def serving_env(served_home, monkeypatch) -> Path:
    """Point the dashboards at ``served_home`` (they read SHELFWISE_HOME)."""
    monkeypatch.setenv("SHELFWISE_HOME", str(served_home))
    return served_home


@pytest.fixture()
def planner_env(served_home, tmp_path, monkeypatch) -> Path:
    """A home of its own (a copy of the served snapshot, an empty decision store) for tests
    that write planner decisions, so they never see each other's."""
    home = tmp_path / "home"
    shutil.copytree(served_home / "serving", home / "serving")
    monkeypatch.setenv("SHELFWISE_HOME", str(home))
    return home
