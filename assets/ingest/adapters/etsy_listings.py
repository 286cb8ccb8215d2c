"""Etsy: the listings download CSV (Shop Manager → Settings → Options → Download Data →
"Currently for sale listings"). Etsy names it ``EtsyListingsDownload.csv``; it goes in
``inbox/products/``.

Layout (as Etsy writes it and public importers of the file read it): ``TITLE,
DESCRIPTION, PRICE, CURRENCY_CODE, QUANTITY, TAGS, MATERIALS, IMAGE1, ..., IMAGE10,
VARIATION 1 TYPE, VARIATION 1 NAME, VARIATION 1 VALUES, VARIATION 2 TYPE, VARIATION 2 NAME,
VARIATION 2 VALUES, SKU``. One row per listing. ``SKU`` holds the listing's SKU, or one SKU
per variation value, comma-separated (``"YZ-WAL,YZ-MAP"`` with ``VARIATION 1 VALUES``
``"Walnut,Maple"``). The file has no listing id.

Mapping to ``products`` (one per SKU):
- ``sku`` = each SKU of the cell; ``name`` = TITLE, plus `` - `` and the variation value
  when the SKUs pair one to one with ``VARIATION 1 VALUES``;
- ``list_price`` = PRICE, ``price_currency`` = CURRENCY_CODE;
- ``case_pack`` = 1, ``moq`` = 1, ``is_bundle`` = false (Etsy has none of them).
A listing without SKU cannot become a product (no key, and no listing id to match the
orders' ``listing-<id>`` key): skipped (``listing_without_sku``), the message says to give
it a SKU in Etsy. QUANTITY is the channel's listed quantity, not a product attribute: not kept.
"""

from __future__ import annotations

import polars as pl

from assets.ingest.adapters._orders import col_or_null, combine_rejects, without
from assets.ingest.adapters.shopify_products import as_products
from assets.ingest.adapters.base import LINE, Adapter, AdapterContext, Mapped
from assets.ingest.parse import blank_to_null, quoted, rejects_where, to_number

REQUIRED = ("TITLE", "PRICE", "CURRENCY_CODE", "QUANTITY", "SKU")


def map_listings(frame: pl.DataFrame, ctx: AdapterContext) -> Mapped:
    """Listings download rows → canonical ``products`` (one per SKU of a listing)."""
    price = to_number(pl.col("PRICE"))
    split = lambda c: blank_to_null(c).str.split(",").list.eval(  # noqa: E731
        pl.element().str.strip_chars()
    ).list.eval(pl.element().filter(pl.element() != ""))
    df = frame.with_columns(
        _skus=split(pl.col("SKU")),
        _values=split(col_or_null(frame, "VARIATION 1 VALUES")),
        _price=price,
    )
    paired = pl.col("_values").list.len() == pl.col("_skus").list.len()
    df = df.with_columns(
        _names=pl.when(paired.fill_null(False) & (pl.col("_skus").list.len() > 1))
        .then(pl.col("_values").list.eval(pl.element()))
        .otherwise(pl.col("_skus").list.eval(pl.lit(None, dtype=pl.String)))
    )
    exploded = (
        df.filter(pl.col("_skus").list.len() > 0)
        .select(LINE, "TITLE", "CURRENCY_CODE", "_price", "_skus", "_names")
        .explode("_skus", "_names")
    )
    title = blank_to_null(pl.col("TITLE"))
    rows = as_products(
        exploded,
        sku=pl.col("_skus"),
        name=pl.when(pl.col("_names").is_not_null()).then(title + pl.lit(" - ") + pl.col("_names"))
        .otherwise(title),
        list_price=pl.col("_price"),
        price_currency=blank_to_null(pl.col("CURRENCY_CODE")).str.to_uppercase(),
    )
    rejects = combine_rejects(
        rejects_where(
            df, pl.col("_skus").list.len().fill_null(0) == 0, "listing_without_sku",
            pl.format("listing {} has no SKU: give it one in Etsy (Listings → edit → SKU) "
                      "to plan it; skipped", quoted(pl.col("TITLE"))),
        ),
        rejects_where(
            df, blank_to_null(pl.col("PRICE")).is_not_null() & price.is_null(),
            "price_not_a_number", pl.format("PRICE {} is not a number", quoted(pl.col("PRICE"))),
        ),
    )
    return Mapped(rows=without(rows, rejects), rejects=rejects)


ADAPTER = Adapter(
    name="etsy_listings",
    entity="products",
    folder="products",
    file_globs=("EtsyListingsDownload*.csv",),
    required_columns=REQUIRED,
    map=map_listings,
    skip_rules=("listing_without_sku",),
    doc="Etsy listings download CSV (one row per listing; SKU per variation comma-separated).",
)
