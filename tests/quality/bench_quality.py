"""Time every quality check on a warehouse of realistic size (not a test; run it by hand).

    .venv/bin/python tests/quality/bench_quality.py [order_lines=5_000_000]

Synthesizes in DuckDB, straight into a temporary warehouse: 8 channels × 730 days of order
lines, 2,000 products, 4 locations with a year of daily snapshots, 5,000 POs with receipts,
daily FX; then runs each check (probe SQL + GX validation; the Data Docs are built once a run, not timed) and prints its time.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

from quality_builder import ALL_CHECKS

from assets.quality.runner import evaluate
from assets.quality.specs import QualitySettings
from assets.warehouse import connect

END = dt.date(2026, 11, 21)


def build(path: Path, lines: int) -> None:
    per_day_channel = lines // (8 * 730)
    with connect(path) as con:
        con.execute(
            """
            INSERT INTO core.products BY NAME
            SELECT 'SKU-' || i AS sku, 'P' || i AS name, 'SUP-1' AS supplier_id,
                   5.0 + i % 50 AS unit_cost, 10.0 + i % 90 AS list_price, 6 AS case_pack,
                   12 AS moq, false AS is_bundle
            FROM range(2000) t(i)
            """
        )
        con.execute(
            "INSERT INTO core.locations BY NAME SELECT 'WH' || i AS location_id, 'L' AS name,"
            " 'warehouse' AS location_type FROM range(4) t(i)"
        )
        con.execute(
            f"""
            INSERT INTO core.order_lines BY NAME
            SELECT 'ch' || c AS channel_id,
                   'o-' || c || '-' || d || '-' || (n // 2) AS order_id,
                   CAST(n % 2 AS VARCHAR) AS line_id,
                   'SKU-' || ((n * 7 + d) % 2000) AS sku, 'x' AS channel_sku,
                   1 + n % 3 AS quantity, 10.0 + (n * 7 + d) % 2000 % 90 AS unit_price,
                   'EUR' AS currency,
                   (1 + n % 3) * (10.0 + (n * 7 + d) % 2000 % 90) AS line_amount,
                   (['paid', 'shipped', 'delivered', 'placed', 'cancelled'])[1 + n % 5] AS status,
                   DATE '{END}' - to_days(CAST(729 - d AS INTEGER))
                       + to_minutes(CAST(n % 1400 AS INTEGER))
                       AS ordered_at,
                   DATE '{END}' - to_days(CAST(729 - d AS INTEGER)) AS updated_at,
                   10.0 + (n * 7 + d) % 2000 % 90 AS unit_price_base,
                   (1 + n % 3) * (10.0 + (n * 7 + d) % 2000 % 90) AS line_amount_base
            FROM range(8) a(c), range(730) b(d), range({per_day_channel}) e(n)
            """
        )
        con.execute(
            f"""
            INSERT INTO core.stock_snapshots BY NAME
            SELECT DATE '{END}' - to_days(CAST(d AS INTEGER)) AS snapshot_date,
                   'WH' || l AS location_id, 'SKU-' || s AS sku, (s * 13 + d) % 200 AS on_hand,
                   0 AS reserved, false AS counted, TIMESTAMP '2026-01-01' AS counted_at
            FROM range(365) a(d), range(4) b(l), range(2000) c(s)
            """
        )
        con.execute(
            """
            INSERT INTO core.purchase_orders BY NAME
            SELECT 'PO-' || i AS po_number, 'SUP-1' AS supplier_id, 'SKU-' || (i % 2000) AS sku,
                   'WH0' AS location_id, 60 AS quantity_ordered, 5.0 AS unit_cost,
                   'EUR' AS currency, TIMESTAMP '2026-01-01' AS ordered_at, 'closed' AS status,
                   TIMESTAMP '2026-01-02' AS updated_at
            FROM range(5000) t(i);
            INSERT INTO core.receipts BY NAME
            SELECT 'R-' || i AS receipt_id, 'PO-' || i AS po_number, 'SKU-' || (i % 2000) AS sku,
                   'WH0' AS location_id, 60 AS quantity_received,
                   TIMESTAMP '2026-01-10' AS received_at
            FROM range(5000) t(i)
            """
        )


def main(lines: int = 5_000_000) -> None:
    home = Path(tempfile.mkdtemp(prefix="shelfwise-quality-bench-"))
    path = home / "warehouse" / "shelfwise.duckdb"
    started = time.perf_counter()
    build(path, lines)
    with connect(path, read_only=True) as con:
        (n,) = con.execute("SELECT count(*) FROM core.order_lines").fetchone()
    print(f"built {n:,} order lines in {time.perf_counter() - started:.1f} s under {home}")
    qs = QualitySettings(as_of=END)
    started = time.perf_counter()
    import great_expectations  # noqa: F401 - time the import once, apart from the checks

    print(f"import great_expectations: {time.perf_counter() - started:.2f} s")
    total = 0.0
    with connect(path) as con:
        for check in ALL_CHECKS:
            report = evaluate(check, con, qs, home)
            total += report.seconds
            state = "ok" if report.passed else "FAIL"
            print(f"{report.seconds:6.2f} s  {state:4}  {check.suite}")
    print(f"{total:6.2f} s  all {len(ALL_CHECKS)} checks")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5_000_000)
