"""Products derived from order lines, for homes without product master data.

A marketplace export names SKUs but carries no case packs, MOQs or suppliers. So that KPIs,
forecasts and the dashboards work on orders alone, every SKU sold on an order line that has
no row in ``core.products`` gets one derived from the lines:

    name = the SKU (order lines carry no product title), case_pack = 1, moq = 1,
    is_bundle = false, every optional column empty,
    source_file = '(derived from order lines)', source_line = 0

The derived rows are redone on every ingest: removed before the engine runs (so the engine
sees ``core.products`` exactly as ``raw`` makes it: a real products file's first load is a
first load, and ingest's "unknown SKU" rule is not fed with guesses), added back afterwards
only for SKUs that still have no real row. Real master data is never overwritten: a SKU whose
row arrives in ``inbox/products/`` loses its derived row on that run.
"""

from __future__ import annotations

import duckdb

from assets.features import DERIVED_PRODUCTS_SOURCE

# what to tell a person who sees derived products (the run summary and `shelfwise check`)
HOW_TO_SUPPLY = (
    "put your product master data in inbox/products/products.csv (columns sku, name, "
    "case_pack, moq, is_bundle; optional category, supplier_id, unit_cost, ...; "
    "see docs/ingestion.md)"
)


def _has_products_table(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables"
        " WHERE table_schema = 'core' AND table_name = 'products'"
    ).fetchone()[0])


def remove_derived_products(con: duckdb.DuckDBPyConnection) -> int:
    """Delete the derived rows (before ingest); returns how many there were."""
    if not _has_products_table(con):
        return 0
    (n,) = con.execute(
        "SELECT count(*) FROM core.products WHERE source_file = ?", [DERIVED_PRODUCTS_SOURCE]
    ).fetchone()
    con.execute("DELETE FROM core.products WHERE source_file = ?", [DERIVED_PRODUCTS_SOURCE])
    return n


def derive_products(con: duckdb.DuckDBPyConnection, batch_id: str | None) -> int:
    """Add a derived row for every order-line SKU without a product row; returns how many.

    A SKU that is a bundle in ``core.bundle_components`` is left alone (a bundle needs its
    real master data to mean anything).
    """
    if not _has_products_table(con):
        return 0
    con.execute(
        """
        INSERT INTO core.products BY NAME
        SELECT sku, sku AS name, 1 AS case_pack, 1 AS moq, false AS is_bundle,
               $source AS source_file, 0 AS source_line, $batch AS batch_id
        FROM (SELECT DISTINCT sku FROM core.order_lines WHERE sku IS NOT NULL) AS sold
        WHERE NOT EXISTS (SELECT 1 FROM core.products AS p WHERE p.sku = sold.sku)
          AND NOT EXISTS (SELECT 1 FROM core.bundle_components AS b WHERE b.bundle_sku = sold.sku)
        ORDER BY sku
        """,
        {"source": DERIVED_PRODUCTS_SOURCE, "batch": batch_id},
    )
    (n,) = con.execute(
        "SELECT count(*) FROM core.products WHERE source_file = ?", [DERIVED_PRODUCTS_SOURCE]
    ).fetchone()
    return n
