"""WooCommerce: the orders export, "Default - One Row per Item" format.

Where: WooCommerce → Export (the Customer / Order / Coupon Export extension sold on
woocommerce.com, by SkyVerge) → Export type "Orders", Output format CSV, format
"Default - One Row per Item" → Export. The file is named ``orders-export-%%timestamp%%.csv``
(``orders-export-2024_03_06_12_00_00.csv``: the store's local time, ``Y_m_d_H_i_s``); a
scheduled export writes the same name pattern.

Columns (the format definition ``default_one_row_per_item`` of the extension,
``class-wc-customer-order-csv-export-formats.php``, in its order): ``order_id,
order_number, date, status, shipping_total, shipping_tax_total, fee_total, fee_tax_total,
tax_total, discount_total, order_total, refunded_total, order_currency, payment_method,
shipping_method, customer_id, billing_first_name, billing_last_name, billing_company,
billing_email, billing_phone, billing_address_1, billing_address_2, billing_postcode,
billing_city, billing_state, billing_country, shipping_first_name, shipping_last_name,
shipping_address_1, shipping_address_2, shipping_postcode, shipping_city, shipping_state,
shipping_country, shipping_company, customer_note, item_id, item_product_id, item_name,
item_sku, item_quantity, item_subtotal, item_subtotal_tax, item_total, item_total_tax,
item_refunded, item_refunded_qty, item_meta, shipping_items, fee_items, tax_items,
coupon_items, order_notes, download_permissions_granted``. One row per line item; the order's
fields are repeated on every row. Amounts are ``wc_format_decimal(x, 2)``: ``12.50``, no
thousands separator.

Mapping:
- ``order_id`` = order_id (WooCommerce's post id; ``order_number`` is filled only by
  sequential-number plugins); ``line_id`` = item_id, WooCommerce's own id of the order item,
  stable across exports;
- ``channel_sku``/``sku`` = item_sku; an item whose product has no SKU falls back to
  ``product:<item_product_id>`` (map it in the channel listings); a deleted product is
  exported as SKU ``unknown_product`` with product id 0: that line is rejected
  (``sku_missing``), it names no product;
- ``unit_price`` = item_subtotal ÷ item_quantity (before coupons, without tax);
  ``line_amount`` = item_total: WooCommerce itself spreads an order's coupons over its items,
  so item_total is the line after discounts (without tax). Shipping, fees and taxes are
  order-level and not kept;
- customer key = billing_email (guests have no account: customer_id is 0);
  ``ship_country`` = shipping_country (an ISO-2 code), else billing_country (an order of
  virtual goods has no shipping address); postal prefix likewise.

Status (``STATUS``; the export writes the status without WooCommerce's ``wc-`` prefix, which
is tolerated): ``pending`` (awaiting payment) and ``on-hold`` (awaiting a bank transfer) →
placed; ``processing`` (paid, not yet sent) → paid; ``completed`` (sent) → shipped;
``cancelled`` and ``failed`` (payment failed) → cancelled; ``refunded`` (refunded in full) →
cancelled: the export does not say whether the goods had left, and a refunded order is not a
sale (a partial refund after shipping leaves the order ``completed``: returns come from the
returns feed). ``checkout-draft`` is a cart of the block checkout, not an order: skipped
(``rows_skipped``). Any other status (a plugin's own) is rejected with its value, never
guessed.

Times: ``date`` is the order's creation time as ``Y-m-d H:i:s`` in the WordPress site's time
zone, without offset. It is read in ``ASSUME_TZ`` (UTC, WordPress's default site zone): a
store set to another zone has its order times shifted by that offset (the local day of an
order placed near midnight can differ). The export has no paid, completed or shipped time:
``updated_at`` = the order time, and a later export of the same order wins by its later
file name (the timestamp in it).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl

from assets.ingest.adapters._orders import (
    col_or_null,
    combine_rejects,
    fallback_sku,
    finish,
    local_text,
    money_text,
    order_rows,
    targeted,
    targets,
    without,
    write_csv_files,
)
from assets.ingest.adapters.base import FILE, Adapter, AdapterContext, Mapped, with_file
from assets.ingest.parse import (
    blank_to_null,
    country_iso2,
    quoted,
    rejects_where,
    to_int,
    to_number,
    to_utc,
)

HEADER = (
    "order_id", "order_number", "date", "status", "shipping_total", "shipping_tax_total",
    "fee_total", "fee_tax_total", "tax_total", "discount_total", "order_total", "refunded_total",
    "order_currency", "payment_method", "shipping_method", "customer_id", "billing_first_name",
    "billing_last_name", "billing_company", "billing_email", "billing_phone",
    "billing_address_1", "billing_address_2", "billing_postcode", "billing_city",
    "billing_state", "billing_country", "shipping_first_name", "shipping_last_name",
    "shipping_address_1", "shipping_address_2", "shipping_postcode", "shipping_city",
    "shipping_state", "shipping_country", "shipping_company", "customer_note", "item_id",
    "item_product_id", "item_name", "item_sku", "item_quantity", "item_subtotal",
    "item_subtotal_tax", "item_total", "item_total_tax", "item_refunded", "item_refunded_qty",
    "item_meta", "shipping_items", "fee_items", "tax_items", "coupon_items", "order_notes",
    "download_permissions_granted",
)  # fmt: skip
REQUIRED = (
    "order_id", "date", "status", "order_currency", "item_id", "item_product_id", "item_sku",
    "item_quantity", "item_subtotal", "item_total",
)  # fmt: skip
# Identity, and free text a customer or a shop assistant writes (notes, engraving texts in
# item_meta), never lands. The *_full_name columns are options of the extension's custom
# formats.
PII = (
    "customer_id", "billing_first_name", "billing_last_name", "billing_full_name",
    "billing_company", "billing_email", "billing_phone", "billing_address_1",
    "billing_address_2", "billing_postcode", "billing_city", "billing_state",
    "shipping_first_name", "shipping_last_name", "shipping_full_name", "shipping_address_1",
    "shipping_address_2", "shipping_postcode", "shipping_city", "shipping_state",
    "shipping_company", "customer_note", "order_notes", "item_meta",
)  # fmt: skip

# WooCommerce order status → canonical status (module docstring)
STATUS = {
    "pending": "placed",
    "on-hold": "placed",
    "processing": "paid",
    "completed": "shipped",
    "cancelled": "cancelled",
    "failed": "cancelled",
    "refunded": "cancelled",
}
DRAFT = "checkout-draft"
# what the demo writer prints for each canonical status
WRITE_STATUS = {"placed": "pending", "paid": "processing", "shipped": "completed",
                "delivered": "completed", "cancelled": "cancelled"}

TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
ASSUME_TZ = "UTC"
DELETED_PRODUCT = "unknown_product"  # the extension's SKU for an item whose product is gone


def map_orders(frame: pl.DataFrame, ctx: AdapterContext) -> Mapped:
    """One-row-per-item order export rows → canonical ``order_lines``."""
    frame = with_file(frame)
    df = frame.with_columns(
        col_or_null(frame, c).alias(c)
        for c in ("billing_email", "shipping_country", "billing_country", "shipping_postcode",
                  "billing_postcode", "item_name")
    )
    quantity = to_int(pl.col("item_quantity"))
    subtotal = to_number(pl.col("item_subtotal"))
    total = to_number(pl.col("item_total"))
    state = blank_to_null(pl.col("status")).str.to_lowercase().str.strip_prefix("wc-")
    sku_text = blank_to_null(pl.col("item_sku"))
    product = blank_to_null(pl.col("item_product_id"))
    sku = pl.when(sku_text == DELETED_PRODUCT).then(None).otherwise(
        pl.coalesce(sku_text, fallback_sku("product", pl.when(product != "0").then(product)))
    )
    rows = df.lazy().with_columns(
        channel_id=pl.lit(ctx.channel_id),
        order_id=blank_to_null(pl.col("order_id")),
        line_id=blank_to_null(pl.col("item_id")),
        channel_sku=sku,
        sku=sku,
        quantity=pl.when(quantity > 0).then(quantity),
        unit_price=pl.when((quantity > 0) & (subtotal >= 0)).then(subtotal / quantity),
        currency=blank_to_null(pl.col("order_currency")).str.to_uppercase(),
        line_amount=total,
        status=state.replace_strict(STATUS, default=None, return_dtype=pl.String),
        ordered_at=to_utc(pl.col("date"), TIME_FORMATS, ASSUME_TZ),
        ship_country=pl.coalesce(country_iso2(pl.col("shipping_country")),
                                 country_iso2(pl.col("billing_country"))),
    ).collect()
    rejects = combine_rejects(
        rejects_where(df, state == DRAFT, "checkout_draft",
                      pl.format("status 'checkout-draft': order {} is a cart of the block "
                                "checkout, not an order", pl.col("order_id"))),
        rejects_where(
            df, state.is_not_null() & ~state.is_in([*STATUS, DRAFT]), "status_unknown",
            pl.format("status {} is not a WooCommerce order status shelfwise knows ({})",
                      quoted(pl.col("status")), pl.lit(", ".join(STATUS))),
        ),
        rejects_where(
            df, pl.col("item_quantity").is_not_null() & quantity.is_null(),
            "quantity_not_a_number",
            pl.format("item_quantity {} is not a whole number", quoted(pl.col("item_quantity"))),
        ),
        rejects_where(
            df, (blank_to_null(pl.col("item_subtotal")).is_not_null() & subtotal.is_null())
            | (blank_to_null(pl.col("item_total")).is_not_null() & total.is_null()),
            "price_not_a_number",
            pl.format("item_subtotal {} / item_total {} is not a number",
                      quoted(pl.col("item_subtotal")), quoted(pl.col("item_total"))),
        ),
        rejects_where(
            df, sku.is_null(), "sku_missing",
            pl.format("item {} ({}) has no SKU and no product id: its product was deleted",
                      quoted(pl.col("item_id")), quoted(pl.col("item_name"))),
        ),
    )
    out = finish(
        rows,
        customer_identity=pl.col("billing_email"),
        postal_code=pl.coalesce(blank_to_null(pl.col("shipping_postcode")),
                                blank_to_null(pl.col("billing_postcode"))),
        postal_chars=ctx.postal_prefix_chars,
        salt=ctx.pii_salt,
    )
    return Mapped(rows=without(out, rejects), rejects=rejects)


def write_orders(frame: pl.DataFrame, path: Path) -> None:
    """Write export rows as a WooCommerce one-row-per-item orders export (UTC site time)."""
    write_many(targeted(frame, path))


def write_many(frame: pl.DataFrame) -> None:
    """:func:`write_orders` for many files at once: each row goes to the file in its
    ``source_file`` column."""
    files = targets(frame)
    df = order_rows(frame)
    skus = df.get_column("channel_sku").drop_nulls().unique(maintain_order=True)
    product_ids = pl.DataFrame({"channel_sku": skus, "_product_id": [_product_id(s) for s in skus]},
                               schema={"channel_sku": pl.String, "_product_id": pl.String})
    df = df.join(product_ids, on="channel_sku", how="left", maintain_order="left")
    order = [FILE, "order_id"]
    gross = pl.col("quantity") * pl.col("unit_price")
    zero = pl.lit("0.00")
    names = pl.col("customer_name").str.splitn(" ", 2)
    first, last = names.struct.field("field_0"), names.struct.field("field_1")
    shipping = pl.col("shipping_amount").fill_null(0.0)
    tax = pl.col("tax_amount").fill_null(0.0)
    line_total = pl.col("line_amount").sum().over(order)
    values = {
        "order_id": pl.col("order_id"),
        "order_number": pl.lit(None, dtype=pl.String),
        "date": local_text(pl.col("ordered_at"), "%Y-%m-%d %H:%M:%S", ASSUME_TZ),
        "status": pl.col("status").replace_strict(WRITE_STATUS),
        "shipping_total": money_text(shipping),
        "shipping_tax_total": zero,
        "fee_total": zero,
        "fee_tax_total": zero,
        "tax_total": money_text(tax),
        "discount_total": money_text((gross - pl.col("line_amount")).sum().over(order)),
        "order_total": money_text(line_total + shipping + tax),
        "refunded_total": zero,
        "order_currency": pl.col("currency"),
        "payment_method": pl.lit("stripe"),
        "shipping_method": pl.lit("Flat rate"),
        "customer_id": pl.col("customer_id"),
        "billing_first_name": first, "billing_last_name": last, "billing_company": None,
        "billing_email": pl.col("customer_email"), "billing_phone": None,
        "billing_address_1": pl.col("ship_address1"), "billing_address_2": None,
        "billing_postcode": pl.col("ship_postal_code"), "billing_city": pl.col("ship_city"),
        "billing_state": pl.col("ship_region"), "billing_country": pl.col("ship_country"),
        "shipping_first_name": first, "shipping_last_name": last,
        "shipping_address_1": pl.col("ship_address1"), "shipping_address_2": None,
        "shipping_postcode": pl.col("ship_postal_code"), "shipping_city": pl.col("ship_city"),
        "shipping_state": pl.col("ship_region"), "shipping_country": pl.col("ship_country"),
        "shipping_company": None, "customer_note": None,
        "item_id": pl.col("line_id").cast(pl.String),
        "item_product_id": pl.col("_product_id"),
        "item_name": pl.col("product_name"),
        "item_sku": pl.col("channel_sku"),
        "item_quantity": pl.col("quantity").cast(pl.String),
        "item_subtotal": money_text(gross),
        "item_subtotal_tax": zero,
        "item_total": money_text(pl.col("line_amount")),
        "item_total_tax": zero,
        "item_refunded": zero,
        "item_refunded_qty": pl.lit("0"),
        "item_meta": None,
        "shipping_items": pl.format("method_id:flat_rate|method_title:Flat rate|total:{}",
                                    money_text(shipping)),
        "fee_items": None, "tax_items": None, "coupon_items": None, "order_notes": None,
        "download_permissions_granted": pl.lit("0"),
    }
    out = df.select(
        pl.col(FILE),
        *[(v if v is not None else pl.lit(None, dtype=pl.String)).cast(pl.String).alias(k)
          for k, v in values.items()],
    )
    write_csv_files(out, files)


def _product_id(sku: str) -> str:
    """A stable WooCommerce-like product id for a SKU (the demo has no product ids; once per
    distinct SKU, not per row)."""
    return str(int(hashlib.sha256(sku.encode()).hexdigest()[:6], 16))


ADAPTER = Adapter(
    whole_orders=True,
    name="woocommerce_orders",
    entity="order_lines",
    folder="orders",
    file_globs=("orders-export*.csv",),
    required_columns=REQUIRED,
    map=map_orders,
    pii_columns=PII,
    skip_rules=("checkout_draft",),
    write=write_orders,
    write_many=write_many,
    doc="WooCommerce orders export, Customer/Order/Coupon Export \"Default - One Row per "
        "Item\" CSV (one row per line item).",
)
