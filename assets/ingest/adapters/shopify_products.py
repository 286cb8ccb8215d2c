"""Shopify: the products export CSV (Admin → Products → Export → "Plain CSV file").

Shopify names the file ``products_export_1.csv`` (``_2``, ... when it splits a large
export). It goes in ``inbox/products/`` beside (or instead of) the canonical products file.

Layout (Shopify help, "Using CSV files to import and export products"): ``Handle, Title,
Body (HTML), Vendor, Product Category, Type, Tags, Published, Option1 Name, Option1 Value,
Option2 Name, Option2 Value, Option3 Name, Option3 Value, Variant SKU, Variant Grams,
Variant Inventory Tracker, Variant Inventory Qty, Variant Inventory Policy, Variant
Fulfillment Service, Variant Price, Variant Compare At Price, Variant Requires Shipping,
Variant Taxable, Variant Barcode, Image Src, Image Position, Image Alt Text, Gift Card, SEO
Title, SEO Description, Google Shopping / ..., Variant Image, Variant Weight Unit, Variant
Tax Code, Cost per item, Included / <market>, Price / <market>, ..., Status``. Newer exports
add ``Option1 Linked To`` and unit-price columns; older ones say ``Custom Product Type``
where newer ones say ``Type`` (both read).

One row per variant; the product's own fields (Title, Vendor, Type, Gift Card, Status) are
only on its FIRST row and are carried to its other rows by ``Handle``. A row with neither an
option value, a SKU nor a price is an extra image of the product: skipped
(``image_row``). Gift cards are not stock: skipped (``gift_card_product``).

Mapping to ``products`` (one per variant):
- ``sku`` = Variant SKU; a variant without SKU gets the key its order lines get,
  ``name:<title - option values>`` lower-cased (see ``shopify.name_key``), so the orders of
  a shop without SKUs find their product without a channel listing;
- ``name`` = Title, plus `` - `` and the option values joined by `` / `` (Shopify's own
  line item name) unless the only option is Shopify's ``Default Title``;
- ``category`` = Type (else Product Category); ``list_price`` = Variant Price;
  ``unit_cost`` = Cost per item (the shop's currency, which the file does not state:
  ``price_currency``/``cost_currency`` stay blank);
- ``case_pack`` = 1 and ``moq`` = 1 (Shopify has neither; buy in single units until a
  canonical products file says otherwise), ``is_bundle`` = false.
Vendor, barcode and inventory quantity have no column in ``core.products`` and are not kept.
"""

from __future__ import annotations

import polars as pl

from assets.ingest.adapters._orders import col_or_null, combine_rejects, without
from assets.ingest.adapters.base import FILE, LINE, Adapter, AdapterContext, Mapped, with_file
from assets.ingest.adapters.shopify import name_key
from assets.ingest.parse import blank_to_null, quoted, rejects_where, to_number
from assets.model import ENTITIES

REQUIRED = ("Handle", "Title", "Option1 Value", "Variant SKU", "Variant Price")
# the product's own fields: on its first row only
PRODUCT_LEVEL = ("Title", "Vendor", "Type", "Product Category", "Gift Card", "Status",
                 "Option1 Name")  # fmt: skip
OPTIONS = ("Option1 Value", "Option2 Value", "Option3 Value")
SCHEMA = ENTITIES["products"].polars_schema
SKIP_RULES = ("image_row", "gift_card_product")
HEADER_ALIASES = {"Type": ("Custom Product Type",), "Cost per item": ("Cost per Item",)}


def as_products(frame: pl.DataFrame, **columns: pl.Expr) -> pl.DataFrame:
    """The canonical ``products`` frame (schema order and dtypes) plus ``source_line``, from
    ``columns`` (expressions over ``frame``); the channels have no case pack, MOQ or bundles:
    1, 1 and false unless given. Columns not given are null."""
    defaults = {"case_pack": pl.lit(1), "moq": pl.lit(1), "is_bundle": pl.lit(False)}
    given = {**defaults, **columns}
    return frame.select(
        *[given.get(c, pl.lit(None)).cast(t).alias(c) for c, t in SCHEMA.items()],
        pl.col(LINE).cast(pl.Int64),
    )


def map_products(frame: pl.DataFrame, ctx: AdapterContext) -> Mapped:
    """Products export rows → canonical ``products`` (one per variant)."""
    frame = with_file(frame)
    df = frame.with_columns(
        col_or_null(frame, c).alias(c) for c in (*PRODUCT_LEVEL, *OPTIONS, "Cost per item")
    ).with_columns(_handle=blank_to_null(pl.col("Handle")))
    df = df.with_columns(
        blank_to_null(pl.col(c)).drop_nulls().first().over(FILE, "_handle").alias(c)
        for c in PRODUCT_LEVEL
    )
    values = [blank_to_null(pl.col(c)) for c in OPTIONS]
    default = pl.col("Option1 Value").str.to_lowercase() == "default title"
    options = pl.concat_str(values, separator=" / ", ignore_nulls=True)
    name = pl.when(default.fill_null(False) | (options == "")).then(pl.col("Title")).otherwise(
        pl.col("Title") + pl.lit(" - ") + options
    )
    sku = blank_to_null(pl.col("Variant SKU"))
    price = to_number(pl.col("Variant Price"))
    cost = to_number(pl.col("Cost per item"))
    image_only = (
        sku.is_null() & pl.all_horizontal(v.is_null() for v in values)
        & blank_to_null(pl.col("Variant Price")).is_null()
    )
    gift_card = pl.col("Gift Card").str.to_lowercase().is_in(["true", "yes"]).fill_null(False)
    df = df.with_columns(_name=name, _image=image_only, _gift=gift_card)
    rows = as_products(
        df,
        sku=pl.coalesce(sku, name_key(pl.col("_name"))),
        name=pl.col("_name"),
        category=pl.coalesce(
            blank_to_null(pl.col("Type")), blank_to_null(pl.col("Product Category"))
        ),
        unit_cost=cost,
        list_price=price,
    )
    rejects = combine_rejects(
        rejects_where(
            df, pl.col("_image"), "image_row",
            pl.format("row of {} has only an image (no option, SKU or price): skipped",
                      quoted(pl.col("Handle"))),
        ),
        rejects_where(
            df, pl.col("_gift"), "gift_card_product",
            pl.format("{} is a gift card, not stock: skipped", quoted(pl.col("Title"))),
        ),
        rejects_where(
            df, pl.col("_handle").is_null(), "handle_missing",
            "Handle is blank: the row belongs to no product",
        ),
        rejects_where(
            df, blank_to_null(pl.col("Variant Price")).is_not_null() & price.is_null(),
            "price_not_a_number",
            pl.format("Variant Price {} is not a number", quoted(pl.col("Variant Price"))),
        ),
        rejects_where(
            df, blank_to_null(pl.col("Cost per item")).is_not_null() & cost.is_null(),
            "cost_not_a_number",
            pl.format("Cost per item {} is not a number", quoted(pl.col("Cost per item"))),
        ),
    )
    return Mapped(rows=without(rows, rejects), rejects=rejects)


ADAPTER = Adapter(
    name="shopify_products",
    entity="products",
    folder="products",
    file_globs=("products_export*.csv",),
    required_columns=REQUIRED,
    map=map_products,
    skip_rules=SKIP_RULES,
    header_aliases=HEADER_ALIASES,
    doc="Shopify products export CSV (one row per variant, product fields on its first row).",
)
