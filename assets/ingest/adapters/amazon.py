"""Amazon: the "All Orders" report, a tab-separated flat file.

Where: Seller Central → Reports → Fulfillment → Sales → All Orders (or the Reports API
type ``GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL`` /
``..._BY_LAST_UPDATE_GENERAL``). Downloads are named like ``12345678901234.txt``; our
daily exports ``All-Orders-Report_YYYY-MM-DD.txt``.

Columns (tab separated, one row per order item; header spellings from the report as
documented by Amazon's order-tracking report type and the open-source SP-API clients and
loaders that read it): ``amazon-order-id, merchant-order-id, purchase-date,
last-updated-date, order-status, fulfillment-channel, sales-channel, order-channel, url,
ship-service-level, product-name, sku, asin, item-status, quantity, currency, item-price,
item-tax, shipping-price, shipping-tax, gift-wrap-price, gift-wrap-tax,
item-promotion-discount, ship-promotion-discount, ship-city, ship-state, ship-postal-code,
ship-country, promotion-ids, is-business-order, purchase-order-number, price-designation``.

The report carries no customer identity (no name, no e-mail): ``customer_key`` is null.

Mapping:
- ``fulfilled_by`` = ``marketplace`` where fulfillment-channel is ``Amazon`` (FBA: Amazon
  ships from its own stock), else ``merchant`` (``Merchant``: you ship);
- ``order_id`` = amazon-order-id; ``line_id`` = sku (the report has no order-item id: the
  SKU is the line's content key; a SKU on a second row of the same order is ``<sku>#2``);
- ``channel_sku``/``sku`` = sku; a row without one falls back to ``asin:<ASIN>`` so a
  channel listing can map it;
- ``item-price`` is the LINE total (quantity × unit price), so ``unit_price`` =
  item-price ÷ quantity; ``line_amount`` = item-price − |item-promotion-discount| (the sign of
  the discount column differs between marketplaces; its size does not);
- times are ISO 8601 with an offset (``2024-03-01T10:15:00+00:00``, ``...-08:00``, ``Z``):
  honoured, stored in UTC; ``updated_at`` = last-updated-date.

Status (canonical ← order-status / item-status):
- ``cancelled`` ← order-status ``Cancelled`` or item-status ``Cancelled``;
  ``cancelled_at`` = last-updated-date (the report's time of that change);
- ``delivered`` ← ``Shipped - Delivered to Buyer``, ``Shipped - Picked Up``;
- ``shipped`` ← ``Shipped``, any other ``Shipped - ...`` (out for delivery, returning or
  returned to seller, lost: later events are returns/claims, not order states),
  ``Complete``, or item-status ``Shipped``;
- ``paid`` ← ``Unshipped``, ``PartiallyShipped`` (payment authorised, awaiting dispatch);
- ``placed`` ← ``Pending`` (payment not yet authorised) and anything else.

Rejected (quarantined with a rule):
- ``mcf_order_not_a_sale``: sales-channel ``Non-Amazon`` marks Multi-Channel Fulfilment
  orders, i.e. another channel's sales shipped by Amazon; counting them would count that
  demand twice;
- ``price_not_reported``: Amazon leaves item-price blank on Pending merchant-fulfilled
  orders; the line lands with the next report that shows it;
- ``quantity_not_a_number`` / ``price_not_a_number``: unreadable cells.

Cancelled lines: Amazon reports them with quantity 0 and a blank item-price. They are
mapped with quantity 0 and zero amounts (the cancellation must land so the line stops
counting as demand and as allocated stock); the order_lines contract has to accept
quantity 0 for ``cancelled`` rows (see docs/formats.md).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from assets.ingest.adapters._orders import (
    canonical_headers,
    col_or_null,
    combine_rejects,
    fallback_sku,
    finish,
    local_text,
    money_text,
    order_rows,
    targeted,
    targets,
    write_csv_files,
    without,
)
from assets.ingest.adapters.base import FILE, LINE, Adapter, AdapterContext, Mapped, with_file
from assets.ingest.parse import (
    blank_to_null,
    country_iso2,
    quoted,
    rejects_where,
    to_int,
    to_number,
    to_utc,
)

TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S")
ASSUME_TZ = "UTC"  # Amazon always writes an offset; a bare time is read as UTC

HEADER = (
    "amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date",
    "order-status", "fulfillment-channel", "sales-channel", "order-channel", "url",
    "ship-service-level", "product-name", "sku", "asin", "item-status", "quantity",
    "currency", "item-price", "item-tax", "shipping-price", "shipping-tax",
    "gift-wrap-price", "gift-wrap-tax", "item-promotion-discount", "ship-promotion-discount",
    "ship-city", "ship-state", "ship-postal-code", "ship-country", "promotion-ids",
    "is-business-order", "purchase-order-number", "price-designation",
)  # fmt: skip

REQUIRED = (
    "amazon-order-id",
    "purchase-date",
    "last-updated-date",
    "order-status",
    "sales-channel",
    "sku",
    "item-status",
    "quantity",
    "currency",
    "item-price",
)
# The report has no names or e-mails; the full postal code and city are still identifying.
PII = ("ship-city", "ship-postal-code")

# The report's column names are the same machine names (English, hyphenated) in every
# marketplace: Amazon documents one attribute list per report type, not per locale, and
# amazon.de / .fr / .co.uk / .co.jp downloads carry the same header. What differs per
# marketplace is the values: currency, sales-channel ("Amazon.de"), the offset of the times
# (``+01:00``, ``+09:00``) and the decimal mark stays a point. So no spelling variants are
# declared; case and surrounding spaces are forgiven (a header retyped in a spreadsheet).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {}


def map_orders(frame: pl.DataFrame, ctx: AdapterContext) -> Mapped:
    """All Orders report rows → canonical ``order_lines``."""
    frame = with_file(canonical_headers(frame, ADAPTER))
    df = frame.with_columns(
        col_or_null(frame, c).alias(c)
        for c in ("item-promotion-discount", "ship-postal-code", "ship-country", "asin",
                  "fulfillment-channel")
    )
    order_status = blank_to_null(pl.col("order-status")).str.to_lowercase()
    item_status = blank_to_null(pl.col("item-status")).str.to_lowercase()
    status = (
        pl.when((order_status == "cancelled") | (item_status == "cancelled"))
        .then(pl.lit("cancelled"))
        .when(order_status.is_in(["shipped - delivered to buyer", "shipped - picked up"]))
        .then(pl.lit("delivered"))
        .when(order_status.str.starts_with("shipped") | (order_status == "complete")
              | (item_status == "shipped"))
        .then(pl.lit("shipped"))
        .when(order_status.is_in(["unshipped", "partiallyshipped"]))
        .then(pl.lit("paid"))
        .otherwise(pl.lit("placed"))
    )
    quantity = to_int(pl.col("quantity"))
    item_price = to_number(pl.col("item-price"))
    promo = to_number(pl.col("item-promotion-discount")).abs().fill_null(0.0)
    updated = to_utc(pl.col("last-updated-date"), TIME_FORMATS, ASSUME_TZ)
    cancelled = status == "cancelled"
    # cancelled lines: Amazon zeroes the quantity and blanks the price (see module doc)
    unit_price = (
        pl.when(cancelled & item_price.is_null()).then(0.0)
        .when(quantity > 0).then(item_price / quantity)
        .when(quantity == 0).then(item_price)
    )
    # a row without seller SKU is keyed by its ASIN: a listing row maps it to our SKU
    sku = pl.coalesce(blank_to_null(pl.col("sku")), fallback_sku("asin", pl.col("asin")))
    order_id = blank_to_null(pl.col("amazon-order-id"))
    # The report has no order-item id: the line is its SKU within the order (content key,
    # stable when another line leaves the order). A SKU listed twice in one order (two
    # item statuses) gets "#2", "#3" on its later rows, in file order.
    repeat = pl.int_range(1, pl.len() + 1).over([FILE, order_id, sku], order_by=LINE)
    line_id = pl.when(repeat == 1).then(sku).otherwise(sku + pl.lit("#") + repeat.cast(pl.String))
    rows = df.lazy().with_columns(
        channel_id=pl.lit(ctx.channel_id),
        order_id=order_id,
        line_id=line_id,
        channel_sku=sku,
        sku=sku,
        quantity=pl.when((quantity > 0) | (cancelled & (quantity == 0))).then(quantity),
        unit_price=unit_price,
        currency=blank_to_null(pl.col("currency")).str.to_uppercase(),
        line_amount=pl.when(cancelled & item_price.is_null()).then(0.0)
        .otherwise(item_price - promo),
        status=status,
        ordered_at=to_utc(pl.col("purchase-date"), TIME_FORMATS, ASSUME_TZ),
        cancelled_at=pl.when(cancelled).then(updated),
        updated_at=updated,
        ship_country=country_iso2(pl.col("ship-country")),
        fulfilled_by=pl.when(blank_to_null(pl.col("fulfillment-channel")).str.to_lowercase()
                             == "amazon").then(pl.lit("marketplace")).otherwise(pl.lit("merchant")),
    ).collect()
    rejects = combine_rejects(
        rejects_where(
            df,
            blank_to_null(pl.col("sales-channel")).str.to_lowercase() == "non-amazon",
            "mcf_order_not_a_sale",
            pl.format(
                "sales-channel 'Non-Amazon': order {} is a Multi-Channel Fulfilment shipment "
                "of another channel's sale, not Amazon demand",
                pl.col("amazon-order-id"),
            ),
        ),
        rejects_where(
            df,
            pl.col("quantity").is_not_null() & quantity.is_null(),
            "quantity_not_a_number",
            pl.format("quantity {} is not a whole number", quoted(pl.col("quantity"))),
        ),
        rejects_where(
            df,
            blank_to_null(pl.col("item-price")).is_not_null() & item_price.is_null(),
            "price_not_a_number",
            pl.format("item-price {} is not a number", quoted(pl.col("item-price"))),
        ),
        rejects_where(
            df,
            item_price.is_null() & ~cancelled,
            "price_not_reported",
            pl.format(
                "item-price is blank for order {} (order-status {}): Amazon shows no price on "
                "pending orders; the line will load from a later report",
                pl.col("amazon-order-id"),
                quoted(pl.col("order-status")),
            ),
        ),
    )
    out = finish(
        rows,
        customer_identity=None,
        postal_code=pl.col("ship-postal-code"),
        postal_chars=ctx.postal_prefix_chars,
        salt=ctx.pii_salt,
    )
    return Mapped(rows=without(out, rejects), rejects=rejects)


_ORDER_STATUS = {
    "placed": "Pending",
    "paid": "Unshipped",
    "shipped": "Shipped",
    "delivered": "Shipped - Delivered to Buyer",
    "cancelled": "Cancelled",
}
_ITEM_STATUS = {
    "placed": "Unshipped",
    "paid": "Unshipped",
    "shipped": "Shipped",
    "delivered": "Shipped",
    "cancelled": "Cancelled",
}
_ISO = "%Y-%m-%dT%H:%M:%S+00:00"


def write_orders(frame: pl.DataFrame, path: Path) -> None:
    """Write export rows as an All Orders report (tabs, ISO times, line-total item-price).

    Reproduces Amazon's habits: cancelled lines with quantity 0 and blank prices, Pending
    merchant orders without item-price, ``last-updated-date`` = the latest lifecycle time.
    """
    write_many(targeted(frame, path))


def write_many(frame: pl.DataFrame) -> None:
    """:func:`write_orders` for many files at once: each row goes to the file in its
    ``source_file`` column."""
    files = targets(frame)
    df = order_rows(frame)
    status = pl.col("status")
    latest = pl.max_horizontal(
        "ordered_at", "paid_at", "cancelled_at", "shipped_at", "delivered_at", "updated_at"
    )
    cancelled = status == "cancelled"
    line_total = pl.col("quantity") * pl.col("unit_price")
    hidden_price = cancelled | (status == "placed")
    discount = pl.col("discount_amount").fill_null(0)
    n_lines = pl.len().over(FILE, "order_id")
    out = df.select(
        pl.col(FILE),
        **{
            "amazon-order-id": pl.col("order_id"),
            "merchant-order-id": pl.lit(""),
            "purchase-date": local_text(pl.col("ordered_at"), _ISO, "UTC"),
            "last-updated-date": local_text(latest, _ISO, "UTC"),
            "order-status": status.replace_strict(_ORDER_STATUS, default="Pending"),
            "fulfillment-channel": pl.lit("Merchant"),
            "sales-channel": pl.lit("Amazon.de"),
            "order-channel": pl.lit(""),
            "url": pl.lit(""),
            "ship-service-level": pl.lit("Standard"),
            "product-name": pl.col("product_name"),
            "sku": pl.col("channel_sku"),
            # a stand-in ASIN derived from the SKU text (deterministic, obviously not real)
            "asin": (pl.lit("B0") + pl.col("channel_sku").str.replace_all(r"[^0-9A-Za-z]", ""))
            .str.to_uppercase().str.slice(0, 10).str.pad_end(10, "X"),
            "item-status": status.replace_strict(_ITEM_STATUS, default="Unshipped"),
            "quantity": pl.when(cancelled).then(0).otherwise(pl.col("quantity")).cast(pl.String),
            "currency": pl.col("currency"),
            "item-price": pl.when(hidden_price).then(None).otherwise(money_text(line_total)),
            "item-tax": pl.when(hidden_price).then(None).otherwise(
                money_text(pl.col("tax_amount").fill_null(0) / n_lines)
            ),
            "shipping-price": pl.when(hidden_price).then(None).otherwise(
                money_text(pl.col("shipping_amount").fill_null(0) / n_lines)
            ),
            "shipping-tax": pl.lit("0.00"),
            "gift-wrap-price": pl.lit(""),
            "gift-wrap-tax": pl.lit(""),
            "item-promotion-discount": pl.when(hidden_price).then(None).otherwise(
                money_text(-discount)
            ),
            "ship-promotion-discount": pl.lit(""),
            "ship-city": pl.col("ship_city"),
            "ship-state": pl.col("ship_region"),
            "ship-postal-code": pl.col("ship_postal_code"),
            "ship-country": pl.col("ship_country"),
            "promotion-ids": pl.lit(""),
            "is-business-order": pl.lit("false"),
            "purchase-order-number": pl.lit(""),
            "price-designation": pl.lit(""),
        }
    )
    # Amazon writes tabs and never quotes: tabs/newlines inside a product name become spaces
    out = out.with_columns(pl.col(pl.String).exclude(FILE).str.replace_all(r"[\t\r\n]", " "))
    write_csv_files(out, files, separator="\t", quote_style="never")


ADAPTER = Adapter(
    whole_orders=True,
    name="amazon_orders",
    entity="order_lines",
    folder="orders",
    file_globs=("All-Orders-Report*.txt", "*AllOrders*.txt", "[0-9]*.txt"),
    required_columns=REQUIRED,
    map=map_orders,
    separator="\t",
    quote_char=None,  # Amazon's flat files never quote: a `"` in a product name is text
    pii_columns=PII,
    write=write_orders,
    write_many=write_many,
    doc="Amazon All Orders report (tab-separated flat file, one row per order item).",
    # every header name in any case, and the other spellings the platform writes
    header_aliases={**dict.fromkeys(HEADER, ()), **HEADER_ALIASES},
)
