"""A tiny, healthy shelfwise warehouse for the quality tests, built from small polars frames.

(A module with its own name, not conftest.py, so the tests can import its helpers; the
fixtures live in conftest.py.)

Three channels sell six SKUs from two warehouses for 36 days up to 2026-11-21 (the judged
day). Volumes vary a little by day so medians are not trivially flat; ebay_uk sells in GBP,
whose FX rates are published on weekdays only (the checks must carry Friday's rate into the
weekend). The marts have the inventory domain's column names (``*_units``), bundle rows with
no on hand of their own, and reconciliation's boolean ``counted`` beside ``counted_on_hand``.
Each test breaks exactly one thing in SQL after loading and expects exactly the matching check
to fail.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from assets.ingest.checks import QUALITY_CHECKS as INGEST_CHECKS
from assets.inventory.checks import QUALITY_CHECKS as INVENTORY_CHECKS
from assets.quality.results import CheckReport
from assets.quality.runner import evaluate
from assets.replenishment.checks import QUALITY_CHECKS as REPLENISHMENT_CHECKS
from assets.quality.specs import QualityCheck, QualitySettings
from assets.warehouse import connect

# every quality check, each kept beside the assets of its domain
ALL_CHECKS: list[QualityCheck] = [*INGEST_CHECKS, *INVENTORY_CHECKS, *REPLENISHMENT_CHECKS]

# two days ago: the data is recent and never "in the future", whenever the tests run
JUDGED_DAY = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=2)
DAYS = 36
CHANNELS = {  # channel -> (currency, lines on a usual day)
    "web": ("EUR", 30),
    "amazon_de": ("EUR", 20),
    "ebay_uk": ("GBP", 12),
}
GBP_RATE = 1.15
SKUS = {f"SKU-{i}": 10.0 * i for i in range(1, 7)}  # sku -> list price (EUR)
LOCATIONS = ("WH1", "WH2")


def _order_lines() -> pl.DataFrame:
    rows = []
    for c_index, (channel, (currency, usual)) in enumerate(CHANNELS.items()):
        rate = GBP_RATE if currency == "GBP" else 1.0
        for d in range(DAYS):
            day = JUDGED_DAY - dt.timedelta(days=DAYS - 1 - d)
            lines = usual + (d * 7 + c_index) % 5 - 2  # usual ± 2, deterministic
            for n in range(lines):
                sku = f"SKU-{(n + d) % 6 + 1}"
                quantity = 1 + (n % 3)
                unit_price = round(SKUS[sku] / rate, 2)  # priced in the channel currency
                amount = round(quantity * unit_price * (0.9 if n % 4 == 0 else 1.0), 2)
                ordered_at = dt.datetime.combine(day, dt.time(8)) + dt.timedelta(minutes=7 * n)
                rows.append(
                    {
                        "channel_id": channel,
                        "order_id": f"{channel}-{day:%m%d}-{n // 2}",  # two lines an order
                        "line_id": str(n % 2 + 1),
                        "channel_sku": f"{channel}:{sku}",
                        "sku": sku,
                        "quantity": quantity,
                        "unit_price": unit_price,
                        "currency": currency,
                        "line_amount": amount,
                        "status": ("paid", "shipped", "delivered", "placed", "cancelled")[n % 5],
                        "ordered_at": ordered_at,
                        "updated_at": ordered_at,
                        "unit_price_base": round(unit_price * rate, 4),
                        "line_amount_base": round(amount * rate, 4),
                    }
                )
    return pl.DataFrame(rows)


def healthy_frames() -> dict[str, pl.DataFrame]:
    """Every core and mart table the checks read, consistent with each other."""
    first_day = JUDGED_DAY - dt.timedelta(days=DAYS + 5)
    snapshot_days = [JUDGED_DAY - dt.timedelta(days=k) for k in (2, 1, 0)]
    snapshots = pl.DataFrame(
        [
            {
                "snapshot_date": day,
                "location_id": loc,
                "sku": sku,
                "on_hand": 40 + i * 3,
                "reserved": i % 2,
                "counted": True,
                "counted_at": dt.datetime.combine(day, dt.time(22)),
            }
            for day in snapshot_days
            for loc in LOCATIONS
            for i, sku in enumerate(SKUS)
        ]
    )
    latest = snapshots.filter(pl.col("snapshot_date") == JUDGED_DAY)
    # the marts with the inventory domain's column names; bundles have no on hand of their own
    ats_location = pl.concat(
        [
            latest.select(
                "sku",
                "location_id",
                pl.lit(False).alias("is_bundle"),
                pl.col("on_hand").cast(pl.Int64).alias("on_hand_units"),
                pl.lit(3, pl.Int64).alias("allocated_units"),
                pl.col("reserved").cast(pl.Int64).alias("reserved_units"),
                (pl.col("on_hand") - 3 - pl.col("reserved"))
                .clip(0)
                .cast(pl.Int64)
                .alias("ats_units"),
            ),
            pl.DataFrame(
                {
                    "sku": ["BUNDLE-1"] * 2,
                    "location_id": list(LOCATIONS),
                    "is_bundle": [True] * 2,
                    "on_hand_units": [None, None],
                    "allocated_units": [None, None],
                    "reserved_units": [None, None],
                    "ats_units": [5, 7],
                },
                schema_overrides={
                    c: pl.Int64
                    for c in ("on_hand_units", "allocated_units", "reserved_units", "ats_units")
                },
            ),
        ]
    )
    ats_channel = (
        ats_location.filter(~pl.col("is_bundle"))
        .group_by("sku")
        .agg(pl.col("on_hand_units").sum(), pl.col("ats_units").sum())
        .join(pl.DataFrame({"channel_id": list(CHANNELS)}), how="cross")
        .with_columns((pl.col("ats_units") * 0.9).floor().cast(pl.Int64))
        .select("channel_id", "sku", pl.lit(False).alias("is_bundle"), "on_hand_units", "ats_units")
    )
    ats_channel = pl.concat(
        [
            ats_channel,
            pl.DataFrame(
                {
                    "channel_id": list(CHANNELS),
                    "sku": ["BUNDLE-1"] * 3,
                    "is_bundle": [True] * 3,
                    "on_hand_units": [None] * 3,
                    "ats_units": [4, 4, 4],
                },
                schema_overrides={"on_hand_units": pl.Int64, "ats_units": pl.Int64},
            ),
        ]
    )
    reconciliation = latest.select(
        "snapshot_date",
        "sku",
        "location_id",
        "counted",  # the "was this a physical count" flag, not a quantity
        (pl.col("on_hand") + 1).cast(pl.Int64).alias("expected_on_hand"),
        pl.col("on_hand").cast(pl.Int64).alias("counted_on_hand"),
    ).with_columns(
        (pl.col("counted_on_hand") - pl.col("expected_on_hand")).alias("difference_units")
    )
    return {
        "core.products": pl.DataFrame(
            {
                "sku": list(SKUS),
                "name": [f"Product {s}" for s in SKUS],
                "supplier_id": ["SUP-1"] * len(SKUS),
                "unit_cost": [p / 2 for p in SKUS.values()],
                "cost_currency": ["EUR"] * len(SKUS),
                "list_price": list(SKUS.values()),
                "price_currency": ["EUR"] * len(SKUS),
                "case_pack": [6] * len(SKUS),
                "moq": [12] * len(SKUS),
                "is_bundle": [False] * len(SKUS),
            }
        ),
        "core.suppliers": pl.DataFrame(
            {
                "supplier_id": ["SUP-1"],
                "name": ["Supplier One"],
                "currency": ["EUR"],
                "lead_time_days_mean": [14.0],
                "order_weekdays": ["Mon,Thu"],
                "review_period_days": [7],
            }
        ),
        "core.locations": pl.DataFrame(
            {
                "location_id": list(LOCATIONS),
                "name": ["North", "South"],
                "location_type": ["warehouse", "warehouse"],
            }
        ),
        "core.channels": pl.DataFrame(
            {
                "channel_id": list(CHANNELS),
                "name": list(CHANNELS),
                "channel_type": ["shopify", "amazon", "ebay"],
                "currency": [c for c, _ in CHANNELS.values()],
                "safety_buffer_units": [0, 1, 1],
                "safety_buffer_pct": [0.0, 0.05, 0.1],
            }
        ),
        "core.order_lines": _order_lines(),
        "core.stock_snapshots": snapshots,
        "core.purchase_orders": pl.DataFrame(
            {
                "po_number": ["PO-1", "PO-1", "PO-2"],
                "supplier_id": ["SUP-1"] * 3,
                "sku": ["SKU-1", "SKU-2", "SKU-3"],
                "location_id": ["WH1", "WH1", "WH2"],
                "quantity_ordered": [60, 36, 24],
                "unit_cost": [5.0, 10.0, 15.0],
                "currency": ["EUR"] * 3,
                "ordered_at": [dt.datetime(2026, 11, 1, 9)] * 3,
                "status": ["closed", "closed", "open"],
                "updated_at": [dt.datetime(2026, 11, 10, 9)] * 3,
            }
        ),
        "core.receipts": pl.DataFrame(
            {
                "receipt_id": ["R-1", "R-1"],
                "po_number": ["PO-1", "PO-1"],
                "sku": ["SKU-1", "SKU-2"],
                "location_id": ["WH1", "WH1"],
                "quantity_received": [60, 30],
                "received_at": [dt.datetime(2026, 11, 10, 9)] * 2,
            }
        ),
        "core.fx_rates": pl.DataFrame(
            [
                {
                    "rate_date": first_day + dt.timedelta(days=k),
                    "currency": "GBP",
                    "rate_to_base": GBP_RATE,
                }
                for k in range(DAYS + 6)
                if (first_day + dt.timedelta(days=k)).weekday() < 5  # no rates at weekends
            ]
        ),
        "marts.ats_by_sku_location": ats_location,
        "marts.ats_by_sku_channel": ats_channel,
        "marts.reconciliation": reconciliation,
        "marts.replenishment_suggestions": pl.DataFrame(
            {
                "suggestion_id": ["s1", "s2", "s3"],
                "supplier_id": ["SUP-1", "SUP-1", "SUP-2"],
                "sku": ["SKU-1", "SKU-2", "SKU-3"],
                "location_id": ["WH1", "WH1", "WH2"],
                "suggested_units": [48, 36, 10],
                "case_pack": [12, 6, 1],
                "moq": [24, 36, 10],
                "reorder_point_units": [30.0, 20.0, 4.0],
                "order_up_to_units": [70.0, 50.0, 9.0],
                "service_level": [0.95, 0.9, 0.98],
                "reason": ["below the reorder point 30; order 48 = 4 cases of 12"] * 3,
            }
        ),
    }


def load(path: Path, frames: dict[str, pl.DataFrame]) -> None:
    """Create the warehouse schema and insert the frames (marts are created from them)."""
    with connect(path) as con:
        for table, frame in frames.items():
            arrow = frame.to_arrow()  # noqa: F841 - read by DuckDB's replacement scan
            if table.startswith("core."):
                con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM arrow")
            else:
                con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM arrow")


def get_check(suite: str) -> QualityCheck:
    return next(c for c in ALL_CHECKS if c.suite == suite)


def run(path: Path, suite: str, qs: QualitySettings) -> CheckReport:
    """Evaluate one check (by its suite name) on the warehouse, GX state under its home."""
    with connect(path) as con:
        return evaluate(get_check(suite), con, qs, path.parent.parent)


def sql(path: Path, *statements: str) -> None:
    """Break the warehouse: run statements on it."""
    with connect(path) as con:
        for statement in statements:
            con.execute(statement)


def drop_primary_key(con_path: Path, table: str) -> None:
    """Rebuild ``table`` without its primary key, as a careless CTAS would."""
    sql(
        con_path,
        f"CREATE TEMP TABLE copy AS SELECT * FROM {table}",
        f"DROP TABLE {table}",
        f"CREATE TABLE {table} AS SELECT * FROM copy",
    )
