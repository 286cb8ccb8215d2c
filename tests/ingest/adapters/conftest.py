"""Shared helpers for the channel adapter tests: a context, a reader, an export frame."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from assets.ingest.adapters.base import LINE, ORDER_EXPORT_EXTRA, Adapter, AdapterContext, Mapped
from assets.model import ENTITIES

FIXTURES = Path(__file__).resolve().parents[3] / "data" / "samples" / "channels"
SALT = "test-salt"
SCHEMA = ENTITIES["order_lines"].polars_schema


def make_ctx(path: Path | str = "x.csv", channel_id: str = "chan") -> AdapterContext:
    path = Path(path)
    return AdapterContext(
        path=path,
        relative_path=f"orders/{channel_id}/{path.name}",
        channel_id=channel_id,
        location_id=None,
        pii_salt=SALT,
        postal_prefix_chars=3,
        export_date=None,
    )


def read_and_map(path: Path, adapter: Adapter, channel_id: str = "chan") -> tuple[Mapped, int]:
    """Read a file the way the engine does (reader.read_records) and map it.

    Returns the mapping and the number of records read, with reader-level rejects merged
    into ``Mapped.rejects`` so every test can check rows + rejects = records read.
    """
    from assets.ingest.reader import read_records

    result = read_records(path, adapter)
    assert not result.failed, result.messages
    mapped = adapter.map(result.frame, make_ctx(path, channel_id))
    rejects = pl.concat(
        [mapped.rejects, result.rejects.select(LINE, "rule", "message")], how="vertical"
    )
    return Mapped(rows=mapped.rows, rejects=rejects), result.rows_read


def assert_accounted(mapped: Mapped, rows_read: int) -> None:
    """Every record read ends in rows or rejects, and none in both."""
    row_lines = set(mapped.rows.get_column(LINE).to_list())
    reject_lines = set(mapped.rejects.get_column(LINE).to_list())
    assert not row_lines & reject_lines, sorted(row_lines & reject_lines)
    assert mapped.rejects.get_column(LINE).n_unique() == mapped.rejects.height
    # one record can give one row at most in these formats
    assert mapped.rows.get_column(LINE).n_unique() == mapped.rows.height
    assert len(row_lines) + len(reject_lines) == rows_read


def assert_canonical(rows: pl.DataFrame) -> None:
    """Columns and dtypes of order_lines (+ source_line), statuses from the enum, no PII."""
    assert rows.columns == [*SCHEMA, LINE]
    for name, dtype in SCHEMA.items():
        assert rows.schema[name] == dtype, (name, rows.schema[name], dtype)
    assert set(rows.get_column("status").drop_nulls().to_list()) <= {
        "placed", "paid", "cancelled", "shipped", "delivered"
    }


def frame_from_csv(text: str, separator: str = ",", first_line: int = 2) -> pl.DataFrame:
    """An all-text frame with source_line, for unit tests of map() on a few lines."""
    frame = pl.read_csv(text.encode(), separator=separator, infer_schema=False)
    return frame.with_columns(
        pl.int_range(first_line, first_line + pl.len(), dtype=pl.Int64).alias(LINE)
    )


@pytest.fixture
def export_rows() -> pl.DataFrame:
    return make_export_rows()


def make_export_rows() -> pl.DataFrame:
    """A generator-like export frame: canonical order_lines columns + ORDER_EXPORT_EXTRA.

    Five orders, eight lines, every status, a multi-line order, money with thousands,
    a product name with a comma, a quote and a newline, two currencies' worth of shapes.
    Times are whole seconds in UTC; line ids are 1..n per order (positional formats).
    """
    t = datetime
    rows = [
        # order, line, sku, qty, price, status, ordered, paid, shipped, delivered, cancelled
        ("1001", "1", "MUG-RED", 2, 12.5, "shipped", t(2024, 3, 1, 9, 15, 5), t(2024, 3, 1, 9, 16),
         t(2024, 3, 2, 14, 0), None, None),
        ("1001", "2", "TBL-OAK", 1, 1234.0, "shipped", t(2024, 3, 1, 9, 15, 5), t(2024, 3, 1, 9, 16),
         t(2024, 3, 2, 14, 0), None, None),
        ("1001", "3", "SCARF-W", 3, 19.99, "shipped", t(2024, 3, 1, 9, 15, 5), t(2024, 3, 1, 9, 16),
         t(2024, 3, 2, 14, 0), None, None),
        ("1002", "1", "MUG-RED", 1, 12.5, "paid", t(2024, 3, 1, 22, 30), t(2024, 3, 1, 22, 31),
         None, None, None),
        ("1003", "1", "LAMP-1", 1, 45.0, "placed", t(2024, 3, 2, 7, 0), None, None, None, None),
        ("1004", "1", "SCARF-W", 2, 19.99, "cancelled", t(2024, 3, 2, 8, 0), t(2024, 3, 2, 8, 1),
         None, None, t(2024, 3, 2, 12, 0)),
        ("1005", "1", "TBL-OAK", 1, 1234.0, "delivered", t(2024, 3, 3, 10, 0), t(2024, 3, 3, 10, 0),
         t(2024, 3, 4, 9, 0), t(2024, 3, 6, 15, 0), None),
        ("1005", "2", "LAMP-1", 4, 45.0, "delivered", t(2024, 3, 3, 10, 0), t(2024, 3, 3, 10, 0),
         t(2024, 3, 4, 9, 0), t(2024, 3, 6, 15, 0), None),
    ]
    cols = ["order_id", "line_id", "channel_sku", "quantity", "unit_price", "status",
            "ordered_at", "paid_at", "shipped_at", "delivered_at", "cancelled_at"]
    df = pl.DataFrame(rows, schema=cols, orient="row").with_columns(
        pl.col(c).cast(pl.Datetime("us"))
        for c in ("ordered_at", "paid_at", "shipped_at", "delivered_at", "cancelled_at")
    )
    customers = {
        "1001": ("C17", "Ann Example", "ann@example.com", "1 Test Street", "Leeds", "West Yorks",
                 "LS1 4AB", "GB"),
        "1002": ("C18", "Bob Example", "bob@example.com", "2 Test Street", "Berlin", "BE",
                 "10115", "DE"),
        "1003": ("C17", "Ann Example", "ann@example.com", "1 Test Street", "Leeds", "West Yorks",
                 "LS1 4AB", "GB"),
        "1004": ("C19", "Cy O'Example", "cy@example.com", "3 Test Road", "Dublin", "",
                 "D02 X285", "IE"),
        "1005": ("C20", "Di Example", "di@example.com", "4 Test Ave", "Austin", "TX",
                 "78701-1234", "US"),
    }
    cust = pl.DataFrame(
        [(k, *v) for k, v in customers.items()],
        schema=["order_id", "customer_id", "customer_name", "customer_email", "ship_address1",
                "ship_city", "ship_region", "ship_postal_code", "ship_country"],
        orient="row",
    )
    names = {"MUG-RED": "Red mug, 350 ml", "TBL-OAK": 'Oak table 6" legs\nwith drawer',
             "SCARF-W": "Wool scarf", "LAMP-1": "Desk lamp"}
    df = df.join(cust, on="order_id", how="left", maintain_order="left").with_columns(
        channel_id=pl.lit("chan"),
        sku=pl.col("channel_sku"),
        currency=pl.lit("GBP"),
        line_amount=pl.col("quantity") * pl.col("unit_price"),
        promised_ship_by=pl.col("ordered_at").dt.truncate("1d") + pl.duration(days=2, hours=12),
        location_id=pl.lit("store_hamburg"),
        customer_key=pl.lit(None, dtype=pl.String),
        ship_postal_prefix=pl.lit(None, dtype=pl.String),
        updated_at=pl.max_horizontal("ordered_at", "paid_at", "shipped_at", "delivered_at",
                                     "cancelled_at"),
        shipping_amount=pl.lit(4.95),
        tax_amount=pl.lit(2.0),
        discount_amount=pl.lit(0.0),
        product_name=pl.col("channel_sku").replace_strict(names),
        carrier=pl.lit("DHL"),
        tracking_number=pl.lit("TRK") + pl.col("order_id"),
    )
    df = df.with_columns(pl.lit(None, t).alias(c) for c, t in SCHEMA.items() if c not in df.columns)
    return df.select(*SCHEMA, *[c for c in ORDER_EXPORT_EXTRA if c not in SCHEMA])
