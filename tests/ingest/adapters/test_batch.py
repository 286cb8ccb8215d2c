"""Many files in one map() call give exactly what each file gives alone.

The engine maps the files of one folder together (``source_file`` column, lines offset per
file, see engine._map_batch). Orders repeat across daily exports, so every adapter that
groups rows within a file (Shopify's filled-down order fields and line positions, eBay's
summary rows, Square's positions, Online Retail's duplicate lines) must keep files apart.
"""

from __future__ import annotations

import shutil
from fnmatch import fnmatch

import polars as pl
import pytest
from conftest import FIXTURES, make_ctx

from assets.ingest.adapters import CHANNEL_ADAPTERS
from assets.ingest.adapters.base import FILE, LINE
from assets.ingest.reader import read_records

STRIDE = 1 << 32
FOLDERS = {
    "shopify_orders": "shopify",
    "amazon_orders": "amazon",
    "ebay_orders": "ebay",
    "etsy_orders": "etsy",
    "square_item_sales": "pos",
    "b2b_purchase_orders": "b2b",
    "online_retail_invoices": "online_retail",
    "woocommerce_orders": "woocommerce",
}


def _files(adapter, tmp_path, export_rows) -> list:
    """The adapter's fixtures, each twice (same orders in two files), and two written days."""
    out = []
    folder = FIXTURES / FOLDERS[adapter.name]
    # the adapter's own exports only (a folder also holds READMEs, catalogue files, sub-folders)
    for src in sorted(p for p in folder.iterdir()
                      if p.is_file() and any(fnmatch(p.name, g) for g in adapter.file_globs)):
        for copy in ("a", "b"):
            dst = tmp_path / copy / src.name
            dst.parent.mkdir(exist_ok=True)
            shutil.copy(src, dst)
            out.append(dst)
    day2 = export_rows.filter(pl.col("order_id").is_in(["1001", "1005"])).with_columns(
        status=pl.lit("delivered"), delivered_at=pl.col("ordered_at") + pl.duration(days=4)
    )
    name = {
        "shopify_orders": "orders_export_{}.csv", "amazon_orders": "All-Orders-Report_{}.txt",
        "ebay_orders": "eBay-OrdersReport-{}.csv", "etsy_orders": "EtsySoldOrderItems_{}.csv",
        "square_item_sales": "items-{}.csv", "b2b_purchase_orders": "b2b-orders-{}.csv",
        "online_retail_invoices": "{}.csv", "woocommerce_orders": "orders-export-{}.csv",
    }[adapter.name]
    for day, frame in (("2024-03-06", export_rows), ("2024-03-07", day2)):
        path = tmp_path / "w" / name.format(day)
        path.parent.mkdir(exist_ok=True)
        adapter.write(frame, path)
        out.append(path)
    return out


@pytest.mark.parametrize("adapter", [a for a in CHANNEL_ADAPTERS if a.write is not None],
                         ids=lambda a: a.name)
def test_batch_equals_file_by_file(adapter, tmp_path, export_rows):
    reads = [(p, read_records(p, adapter)) for p in _files(adapter, tmp_path, export_rows)]
    by_header: dict[tuple, list] = {}
    for p, r in reads:
        if not r.failed and r.frame.height:
            by_header.setdefault(tuple(r.frame.columns), []).append((p, r))
    groups = [g for g in by_header.values() if len(g) >= 2]
    assert groups
    for group in groups:
        _check_group(adapter, group)


def _check_group(adapter, reads) -> None:
    ctx = make_ctx(reads[0][0])
    alone_rows, alone_rejects = [], []
    for k, (p, r) in enumerate(reads):
        mapped = adapter.map(r.frame, ctx)
        alone_rows.append(mapped.rows.with_columns(pl.lit(k).alias("_k")))
        alone_rejects.append(mapped.rejects.with_columns(pl.lit(k).alias("_k")))
    frame = pl.concat(
        r.frame.with_columns(pl.col(LINE) + k * STRIDE, pl.lit(str(p)).alias(FILE))
        for k, (p, r) in enumerate(reads)
    )
    together = adapter.map(frame, ctx)

    def split(df):
        return df.with_columns(
            (pl.col(LINE) // STRIDE).cast(pl.Int32).alias("_k"), pl.col(LINE) % STRIDE
        )

    def norm(df):
        keys = ["_k", LINE] + (["rule"] if "rule" in df.columns else [])
        return df.with_columns(pl.col("_k").cast(pl.Int32)).sort(keys)

    rows = norm(split(together.rows))
    assert FILE not in together.rows.columns
    assert rows.height == sum(r.height for r in alone_rows)
    assert rows.equals(norm(pl.concat(alone_rows).select(rows.columns)))
    rejects = norm(split(together.rejects))
    assert rejects.equals(norm(pl.concat(alone_rejects).select(rejects.columns)))
