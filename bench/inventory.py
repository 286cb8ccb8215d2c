"""Benchmark: movement ledger, reconciliation and available-to-sell on a medium warehouse.

    python bench/inventory.py --synthetic            # 10k SKUs × 3 warehouses × 730 days
    python bench/inventory.py --home data            # a copy of an ingested home's warehouse

Times every inventory model (the SQL of assets/inventory/sql/, run by assets/inventory/models.py as the assets do) and
the channel feeds, prints a table and writes bench/results/inventory.json. The target is that
ledger + reconciliation + ATS (stock on hand, allocations, ATS per location and per channel)
take at most 60 s on the project's 2-core machine.

The synthetic mode fills ``core`` directly (numpy + polars, no inbox, no ingestion): daily
system-stock snapshots that follow the book, a physical count every 30 days, a few injected
count errors, receipts every ~30 days against purchase orders, shipments with their order
lines, resellable returns, transfers and corrections, 3 % bundles, four channels.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assets.inventory import models as sql  # noqa: E402
from assets.inventory.config import AllocationSettings, ReconciliationSettings  # noqa: E402
from assets.inventory.feeds import write_channel_feeds  # noqa: E402
from assets.warehouse import ensure_schema  # noqa: E402
from pipelines.summary import format_table  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "inventory.json"
TARGET_SECONDS = 60.0
TIMED_FOR_TARGET = (
    "stock_ledger", "reconciliation", "inventory_record_accuracy", "stock_on_hand",
    "order_allocations", "ats_by_sku_location", "ats_by_sku_channel",
)


# ---------------------------------------------------------------------------------------------
# synthetic core tables
# ---------------------------------------------------------------------------------------------


def _load(con: duckdb.DuckDBPyConnection, entity: str, frame: pl.DataFrame) -> None:
    frame = frame.with_columns(
        source_file=pl.lit("synthetic"), source_line=pl.int_range(1, frame.height + 1),
        batch_id=pl.lit("bench"),
    )
    con.register("_frame", frame.to_arrow())
    con.execute(f"INSERT INTO core.{entity} BY NAME SELECT * FROM _frame")
    con.unregister("_frame")


def fill_synthetic(con: duckdb.DuckDBPyConnection, *, skus: int = 10_000, locations: int = 3,
                   days: int = 730, seed: int = 7) -> dict[str, int]:
    """Fill ``core`` with a consistent synthetic history; rows per table."""
    rng = np.random.default_rng(seed)
    start = date(2024, 11, 23)
    day_dates = np.array([start + timedelta(days=int(i)) for i in range(days)], dtype="datetime64[D]")
    n_bundles = skus * 3 // 100
    n_items = skus - n_bundles
    item_skus = np.array([f"SKU{i:05d}" for i in range(n_items)])
    bundle_skus = np.array([f"KIT{i:05d}" for i in range(n_bundles)])
    locs = np.array([f"WH{i + 1}" for i in range(locations)])
    channels = ["shop", "amazon", "ebay", "etsy"]

    # products, bundles, locations, channels
    currency = np.where(rng.random(n_items) < 0.5, "EUR", "USD")
    products = pl.DataFrame({
        "sku": np.concatenate([item_skus, bundle_skus]),
        "name": np.concatenate([item_skus, bundle_skus]),
        "unit_cost": pl.Series(np.concatenate([rng.uniform(2, 80, n_items).round(2),
                                               np.full(n_bundles, np.nan)])).fill_nan(None),
        "cost_currency": pl.Series(currency.tolist() + [None] * n_bundles, dtype=pl.String()),
        "case_pack": 1, "moq": 1,
        "is_bundle": np.concatenate([np.zeros(n_items, bool), np.ones(n_bundles, bool)]),
    })
    _load(con, "products", products)
    comp = rng.choice(n_items, size=(n_bundles, 2), replace=True)
    _load(con, "bundle_components", pl.DataFrame({
        "bundle_sku": np.repeat(bundle_skus, 2), "component_sku": item_skus[comp.ravel()],
        "units_per_bundle": rng.integers(1, 3, n_bundles * 2).astype(np.int32),
    }).unique(["bundle_sku", "component_sku"]))
    _load(con, "locations", pl.DataFrame({"location_id": locs, "name": locs,
                                          "location_type": "warehouse"}))
    _load(con, "channels", pl.DataFrame({
        "channel_id": channels, "name": channels, "channel_type": channels, "currency": "EUR",
        "safety_buffer_units": np.array([0, 2, 1, 1], np.int32),
        "safety_buffer_pct": [0.0, 0.05, 0.0, 0.1],
    }))
    _load(con, "channel_locations", pl.DataFrame({
        "channel_id": np.repeat(channels, locations), "location_id": np.tile(locs, len(channels)),
        "priority": np.tile(np.arange(1, locations + 1, dtype=np.int32), len(channels)),
    }))
    all_skus = np.concatenate([item_skus, bundle_skus])
    _load(con, "channel_listings", pl.DataFrame({
        "channel_id": np.repeat(channels, skus), "channel_sku": np.tile(all_skus, len(channels)),
        "sku": np.tile(all_skus, len(channels)),
        "listed_quantity": rng.integers(0, 40, skus * len(channels)).astype(np.int32),
        "listing_status": "active", "as_of": day_dates[-1].astype(date),
    }))
    _load(con, "fx_rates", pl.DataFrame({
        "rate_date": day_dates, "currency": "USD",
        "rate_to_base": rng.normal(0.92, 0.01, days),
    }))

    # movements per item × location × day (matrices of shape (series, days))
    series = n_items * locations
    sku_of = np.repeat(item_skus, locations)
    loc_of = np.tile(locs, n_items)
    rate = rng.lognormal(mean=np.log(0.15), sigma=1.0, size=series).clip(0.01, 6.0)
    shipped = rng.poisson(rate[:, None], size=(series, days)).astype(np.int32)
    receipt_days = (np.arange(days)[None, :] + rng.integers(0, 30, series)[:, None]) % 30 == 0
    received = np.where(receipt_days,
                        rng.poisson((rate * 34 + 3)[:, None], size=(series, days)), 0).astype(np.int32)
    returned = (rng.random((series, days)) < 0.01).astype(np.int32)
    adjusted = np.where(rng.random((series, days)) < 0.003, rng.integers(-3, 3, (series, days)), 0).astype(np.int32)
    opening = rng.poisson(rate * 40 + 5).astype(np.int64)
    book = opening[:, None] + np.cumsum(received - shipped + returned + adjusted, axis=1)
    on_hand = np.maximum(book, 0)
    # injected count errors on 0.2 % of snapshot rows (the next snapshot follows the book again)
    errors = np.where(rng.random((series, days)) < 0.002, rng.integers(-8, 9, (series, days)), 0)
    on_hand_reported = np.maximum(on_hand + errors, 0)
    counted = (np.arange(days)[None, :] + np.arange(series)[:, None]) % 30 == 0

    idx_s, idx_d = np.nonzero(np.ones((series, days), bool))
    _load(con, "stock_snapshots", pl.DataFrame({
        "snapshot_date": day_dates[idx_d], "location_id": loc_of[idx_s],
        "sku": sku_of[idx_s], "on_hand": on_hand_reported.ravel().astype(np.int32),
        "reserved": (on_hand.ravel() // 50).astype(np.int32), "counted": counted.ravel(),
        "counted_at": (day_dates[idx_d] + np.timedelta64(23, "h")).astype("datetime64[us]"),
    }))
    del idx_s, idx_d

    def events(matrix: np.ndarray):
        s, d = np.nonzero(matrix)
        return s, d, matrix[s, d]

    s, d, q = events(shipped)
    n = len(s)
    order_ids = np.char.add("O", np.arange(n).astype(str))
    ch = np.array(channels)[rng.integers(0, len(channels), n)]
    ordered = (day_dates[d] + np.timedelta64(9, "h")).astype("datetime64[us]")
    shipped_at = (day_dates[d] + np.timedelta64(15, "h")).astype("datetime64[us]")
    _load(con, "order_lines", pl.DataFrame({
        "channel_id": ch, "order_id": order_ids, "line_id": "1", "channel_sku": sku_of[s],
        "sku": sku_of[s], "quantity": q, "unit_price": 10.0, "currency": "EUR",
        "line_amount": q * 10.0, "status": "shipped", "ordered_at": ordered,
        "paid_at": ordered + np.timedelta64(1, "h"), "shipped_at": shipped_at,
        "location_id": loc_of[s], "updated_at": shipped_at,
    }))
    _load(con, "fulfillment_events", pl.DataFrame({
        "shipment_id": np.char.add("S", np.arange(n).astype(str)), "channel_id": ch,
        "order_id": order_ids, "line_id": "1", "sku": sku_of[s], "quantity": q,
        "location_id": loc_of[s], "event_type": "shipped", "event_at": shipped_at,
    }))
    # open orders on the last days: paid and placed, some for bundles
    n_open = skus * 2
    open_sku = np.concatenate([item_skus, bundle_skus])[rng.integers(0, skus, n_open)]
    open_day = day_dates[-1] - rng.integers(0, 5, n_open).astype("timedelta64[D]")
    open_at = (open_day + np.timedelta64(18, "h")).astype("datetime64[us]")
    paid = rng.random(n_open) < 0.8
    _load(con, "order_lines", pl.DataFrame({
        "channel_id": np.array(channels)[rng.integers(0, len(channels), n_open)],
        "order_id": np.char.add("OPEN", np.arange(n_open).astype(str)), "line_id": "1",
        "channel_sku": open_sku, "sku": open_sku,
        "quantity": rng.integers(1, 4, n_open).astype(np.int32), "unit_price": 10.0,
        "currency": "EUR", "line_amount": 10.0, "status": np.where(paid, "paid", "placed"),
        "ordered_at": open_at,
        "paid_at": pl.Series(np.where(paid, open_at + np.timedelta64(1, "h"), np.datetime64("NaT"))),
        "updated_at": open_at,
    }))
    s, d, q = events(returned)
    _load(con, "returns", pl.DataFrame({
        "rma_id": np.char.add("RMA", np.arange(len(s)).astype(str)), "channel_id": "shop",
        "order_id": np.char.add("R", np.arange(len(s)).astype(str)), "line_id": "1",
        "sku": sku_of[s], "quantity": q, "reason": "size", "condition": "resellable",
        "resellable": True, "location_id": loc_of[s],
        "requested_at": (day_dates[d] - np.timedelta64(5, "D")).astype("datetime64[us]"),
        "received_at": (day_dates[d] + np.timedelta64(10, "h")).astype("datetime64[us]"),
        "updated_at": (day_dates[d] + np.timedelta64(10, "h")).astype("datetime64[us]"),
    }))
    s, d, q = events(adjusted)
    reason = np.where(q > 0, "found", "shrinkage")
    _load(con, "stock_adjustments", pl.DataFrame({
        "adjustment_id": np.char.add("A", np.arange(len(s)).astype(str)),
        "location_id": loc_of[s], "sku": sku_of[s], "quantity": q, "reason": reason,
        "adjusted_at": (day_dates[d] + np.timedelta64(13, "h")).astype("datetime64[us]"),
    }))
    s, d, q = events(received)
    po = np.char.add("PO", np.arange(len(s)).astype(str))
    _load(con, "receipts", pl.DataFrame({
        "receipt_id": np.char.add("RC", np.arange(len(s)).astype(str)), "po_number": po,
        "sku": sku_of[s], "location_id": loc_of[s], "quantity_received": q,
        "received_at": (day_dates[d] + np.timedelta64(8, "h")).astype("datetime64[us]"),
    }))
    ordered_po = (day_dates[d] - np.timedelta64(20, "D")).astype("datetime64[us]")
    _load(con, "purchase_orders", pl.DataFrame({
        "po_number": po, "supplier_id": "SUP1", "sku": sku_of[s], "location_id": loc_of[s],
        "quantity_ordered": q, "unit_cost": 5.0, "currency": "EUR", "ordered_at": ordered_po,
        "status": "closed", "updated_at": ordered_po,
    }))
    return {
        t: con.execute(f"SELECT count(*) FROM core.{t}").fetchall()[0][0]
        for t in ("stock_snapshots", "order_lines", "fulfillment_events", "receipts", "returns",
                  "stock_adjustments", "products")
    }


# ---------------------------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------------------------


def time_models(con: duckdb.DuckDBPyConnection, outbox: Path) -> list[dict]:
    rec, alloc = ReconciliationSettings(), AllocationSettings()
    steps = {
        "stock_ledger": lambda: sql.build_stock_ledger(con),
        "reconciliation": lambda: sql.build_reconciliation(con, rec, "EUR"),
        "inventory_record_accuracy": lambda: sql.build_record_accuracy(con),
        "stock_on_hand": lambda: sql.build_stock_on_hand(con),
        "order_allocations": lambda: sql.build_order_allocations(con, alloc),
        "ats_by_sku_location": lambda: sql.build_ats_by_sku_location(con),
        "ats_by_sku_channel": lambda: sql.build_ats_by_sku_channel(con),
        "inventory_position": lambda: sql.build_inventory_position(con),
        "oversell_risk": lambda: sql.build_oversell_risk(con),
        "oversell_events": lambda: sql.build_oversell_events(con),
        "order_exceptions": lambda: sql.build_order_exceptions(con),
        "channel_feeds": lambda: sum(f.rows for f in write_channel_feeds(con, outbox)),
    }
    results = []
    for name, step in steps.items():
        started, cpu_started = time.perf_counter(), time.process_time()
        rows = step()
        # CPU seconds too: on a shared machine wall time measures the neighbours as well
        results.append({"model": name, "rows": rows,
                        "seconds": round(time.perf_counter() - started, 3),
                        "cpu_seconds": round(time.process_time() - cpu_started, 3)})
        print(f"  {name:<28} {rows:>12,} rows  {results[-1]['seconds']:>7.2f} s wall "
              f"{results[-1]['cpu_seconds']:>7.2f} s cpu", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--home", help="shelfwise home with an ingested warehouse (copied, not changed)")
    mode.add_argument("--synthetic", action="store_true", help="fill core tables directly")
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--warehouses", type=int, default=3)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all)")
    parser.add_argument("--db", help="--synthetic: keep the filled warehouse here and reuse it on "
                                     "the next run (skips the ~4 min fill)")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="shelfwise-bench-") as tmp:
        db = Path(args.db) if args.db and args.synthetic else Path(tmp) / "bench.duckdb"
        reuse = db.exists()
        setup_started = time.perf_counter()
        if args.home:
            source = Path(args.home) / "warehouse" / "shelfwise.duckdb"
            if not source.exists():
                parser.error(f"no warehouse at {source}: run `shelfwise ingest` for that home first")
            shutil.copyfile(source, db)
            con = duckdb.connect(str(db))
            ensure_schema(con)
            core_rows = {t: con.execute(f"SELECT count(*) FROM core.{t}").fetchall()[0][0]
                         for t in ("stock_snapshots", "order_lines", "fulfillment_events",
                                   "receipts", "returns", "stock_adjustments", "products")}
            dataset = f"home {Path(args.home).resolve()}"
        else:
            con = duckdb.connect(str(db))
            ensure_schema(con)
        if args.synthetic and reuse:
            core_rows = {t: con.execute(f"SELECT count(*) FROM core.{t}").fetchall()[0][0]
                         for t in ("stock_snapshots", "order_lines", "fulfillment_events",
                                   "receipts", "returns", "stock_adjustments", "products")}
            dataset = f"synthetic (reused {db})"
        elif args.synthetic:
            print(f"filling core: {args.skus:,} SKUs × {args.warehouses} warehouses × {args.days} days ...",
                  flush=True)
            core_rows = fill_synthetic(con, skus=args.skus, locations=args.warehouses, days=args.days)
            con.execute("CHECKPOINT")
            dataset = f"synthetic {args.skus} SKUs × {args.warehouses} warehouses × {args.days} days"
        if args.threads:
            con.execute("SET threads = ?", [args.threads])
        setup = time.perf_counter() - setup_started
        print(f"setup {setup:.1f} s; core rows: " + ", ".join(f"{k} {v:,}" for k, v in core_rows.items()))
        results = time_models(con, Path(tmp) / "outbox")
        con.close()

    target_seconds = sum(r["seconds"] for r in results if r["model"] in TIMED_FOR_TARGET)
    total = sum(r["seconds"] for r in results)
    print()
    print(format_table(["model", "rows", "seconds", "cpu seconds"],
                       [(r["model"], r["rows"], r["seconds"], r["cpu_seconds"]) for r in results]))
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus")
    print(f"\nledger + reconciliation + ATS: {target_seconds:.1f} s (target <= {TARGET_SECONDS:.0f} s: "
          f"{'met' if target_seconds <= TARGET_SECONDS else 'MISSED'}); all models + feeds: {total:.1f} s")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "dataset": dataset, "core_rows": core_rows, "setup_seconds": round(setup, 1),
        "models": results, "ledger_reconciliation_ats_seconds": round(target_seconds, 2),
        "ledger_reconciliation_ats_cpu_seconds": round(
            sum(r["cpu_seconds"] for r in results if r["model"] in TIMED_FOR_TARGET), 2),
        "target_seconds": TARGET_SECONDS, "total_seconds": round(total, 2),
        "machine": {"python": platform.python_version(), "duckdb": duckdb.__version__,
                    "cpus": os.cpu_count(),
                    "load_average_1min_at_end": round(os.getloadavg()[0], 1)},
        "measured_at": datetime.now().isoformat(timespec="seconds"),
    }, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
