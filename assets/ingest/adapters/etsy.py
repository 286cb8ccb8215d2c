"""Etsy: the "Sold Order Items" CSV.

Where: Shop Manager → Settings → Options → Download Data → Orders, type "Order Items",
a month or year at a time. Etsy names the file ``EtsySoldOrderItems2024-3.csv`` (or
``EtsySoldOrderItems2024.csv``); our daily exports ``EtsySoldOrderItems_YYYY-MM-DD.csv``.

Columns (header spellings from real exports as read by open-source importers of this
file): ``Sale Date, Item Name, Buyer, Quantity, Price, Coupon Code, Coupon Details,
Discount Amount, Shipping Discount, Order Shipping, Order Sales Tax, Item Total, Currency,
Transaction ID, Listing ID, Date Paid, Date Shipped, Ship Name, Ship Address1, Ship
Address2, Ship City, Ship State, Ship Zipcode, Ship Country, Order ID, Variations, Order
Type, Listings Type, Payment Type, InPerson Discount, InPerson Location, VAT Paid by Buyer,
SKU``. One row per transaction (an order line).

Mapping:
- ``order_id`` = Order ID; ``line_id`` = Transaction ID;
- ``channel_sku``/``sku`` = SKU; a listing without a SKU (common on Etsy) falls back to
  ``listing-<Listing ID>`` so a channel listing can still map it to a SKU;
- ``unit_price`` = Price (per unit); ``line_amount`` = Quantity × Price − the line's share
  of the order's coupon. Etsy prints the order's whole ``Discount Amount`` on its FIRST line
  only: the order's total is spread over all its lines pro rata to their value, in whole
  cents (``_orders.allocate_cents``), so no line goes negative and the lines sum to the order;
  Item Total is not used (it is before discounts);
- ``Buyer`` is ``Full Name (username)``: the customer key hashes the username in the
  parentheses (stable when the buyer renames), else the whole cell;
- ``Ship Country`` is a country name (``United States``): mapped to ISO-2.

Shops in the UK, Canada and Australia get the same file with "Delivery"/"Posted" wording
(``Date Posted``, ``Delivery Name``, ``Delivery Country``, ...): ``HEADER_ALIASES`` lets the
reader rename those to the US names above before anything reads them.

Dates are ``MM/DD/YY`` (some exports ``MM/DD/YYYY``), without time or zone. They are taken
at 12:00 in ``ASSUME_TZ`` (US Eastern, Etsy's home zone) so the UTC date equals the
date in the file.

Status: the file lists sold items only (cancelled orders are removed from it, refunds are
not shown): ``shipped`` ← Date Shipped set; ``paid`` ← Date Paid set; ``placed`` otherwise.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl

from assets.ingest.adapters._orders import (
    allocate_cents,
    col_or_null,
    combine_rejects,
    country_name,
    finish,
    local_text,
    money_text,
    order_rows,
    targeted,
    targets,
    write_csv_files,
    without,
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
    "Sale Date", "Item Name", "Buyer", "Quantity", "Price", "Coupon Code", "Coupon Details",
    "Discount Amount", "Shipping Discount", "Order Shipping", "Order Sales Tax", "Item Total",
    "Currency", "Transaction ID", "Listing ID", "Date Paid", "Date Shipped", "Ship Name",
    "Ship Address1", "Ship Address2", "Ship City", "Ship State", "Ship Zipcode",
    "Ship Country", "Order ID", "Variations", "Order Type", "Listings Type", "Payment Type",
    "InPerson Discount", "InPerson Location", "VAT Paid by Buyer", "SKU",
)  # fmt: skip
REQUIRED = (
    "Sale Date", "Buyer", "Quantity", "Price", "Currency", "Transaction ID", "Listing ID",
    "Date Paid", "Date Shipped", "Order ID", "SKU",
)  # fmt: skip
PII = ("Buyer", "Ship Name", "Ship Address1", "Ship Address2", "Ship City", "Ship Zipcode")

# Etsy writes the file in the shop's language variant of English: shops in the UK, Canada and
# Australia get "Delivery"/"Posted" where US shops get "Ship"/"Shipped" (the UK wording as in
# Etsy's UK "Sold Orders" download: Date Posted, Delivery City, Delivery Zipcode, Delivery
# Country, Delivery Discount, Delivery). Canonical (US) name -> the other spellings.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "Date Shipped": ("Date Posted",),
    "Ship Name": ("Delivery Name",),
    "Ship Address1": ("Delivery Address1",),
    "Ship Address2": ("Delivery Address2",),
    "Ship City": ("Delivery City",),
    "Ship State": ("Delivery State",),
    "Ship Zipcode": ("Delivery Zipcode",),
    "Ship Country": ("Delivery Country",),
    "Shipping Discount": ("Delivery Discount",),
    "Order Shipping": ("Order Delivery",),
}
# The layout as UK/CA/AU shops download it (what the demo writes for its UK Etsy files).
UK_HEADER = tuple(HEADER_ALIASES.get(h, (h,))[0] for h in HEADER)

# two-digit years first: "%m/%d/%Y" would read "03/01/24" as the year 24
DATE_FORMATS = ("%m/%d/%y", "%m/%d/%Y")
ASSUME_TZ = "America/New_York"


def map_orders(frame: pl.DataFrame, ctx: AdapterContext) -> Mapped:
    """Sold Order Items rows → canonical ``order_lines``."""
    frame = with_file(frame)
    df = frame.with_columns(
        col_or_null(frame, c).alias(c)
        for c in ("Discount Amount", "Ship Zipcode", "Ship Country", "Item Name")
    )
    quantity = to_int(pl.col("Quantity"))
    price = to_number(pl.col("Price"))
    order = blank_to_null(pl.col("Order ID"))
    sku = pl.coalesce(
        blank_to_null(pl.col("SKU")),
        pl.lit("listing-") + blank_to_null(pl.col("Listing ID")),
    )
    buyer = blank_to_null(pl.col("Buyer"))
    username = buyer.str.extract(r"\(([^()]+)\)\s*$", 1)
    # The order's coupon sits on its first line only: spread the order's total discount
    # over all its lines pro rata to their value (never more than the goods are worth).
    per_order = [FILE, "_order"]
    gross = quantity * price
    df = df.with_columns(_order=order, _gross=pl.when(gross >= 0).then(gross)).with_columns(
        _discount=to_number(pl.col("Discount Amount"))
        .fill_null(0.0)
        .sum()
        .over(per_order)
        .clip(0.0, pl.col("_gross").sum().over(per_order))
    )
    df = allocate_cents(df, total="_discount", weight="_gross", by=per_order, out="_share")
    rows = df.lazy().with_columns(
        channel_id=pl.lit(ctx.channel_id),
        order_id=pl.col("_order"),
        line_id=blank_to_null(pl.col("Transaction ID")),
        channel_sku=sku,
        sku=sku,
        quantity=pl.when(quantity > 0).then(quantity),
        unit_price=pl.when(price >= 0).then(price),
        currency=blank_to_null(pl.col("Currency")).str.to_uppercase(),
        line_amount=(gross - pl.col("_share").fill_null(0.0)).round(2),
        status=pl.when(blank_to_null(pl.col("Date Shipped")).is_not_null()).then(pl.lit("shipped"))
        .when(blank_to_null(pl.col("Date Paid")).is_not_null()).then(pl.lit("paid"))
        .otherwise(pl.lit("placed")),
        ordered_at=to_utc(pl.col("Sale Date"), DATE_FORMATS, ASSUME_TZ),
        paid_at=to_utc(pl.col("Date Paid"), DATE_FORMATS, ASSUME_TZ),
        shipped_at=to_utc(pl.col("Date Shipped"), DATE_FORMATS, ASSUME_TZ),
        ship_country=country_iso2(pl.col("Ship Country")),
    ).collect()
    rejects = combine_rejects(
        rejects_where(
            df, pl.col("Quantity").is_not_null() & quantity.is_null(), "quantity_not_a_number",
            pl.format("Quantity {} is not a whole number", quoted(pl.col("Quantity"))),
        ),
        rejects_where(
            df, blank_to_null(pl.col("Price")).is_not_null() & price.is_null(),
            "price_not_a_number", pl.format("Price {} is not a number", quoted(pl.col("Price"))),
        ),
        rejects_where(
            df, blank_to_null(pl.col("Sale Date")).is_not_null()
            & to_utc(pl.col("Sale Date"), DATE_FORMATS, ASSUME_TZ).is_null(),
            "date_not_readable",
            pl.format("Sale Date {} is not MM/DD/YY", quoted(pl.col("Sale Date"))),
        ),
    )
    out = finish(
        rows,
        customer_identity=pl.coalesce(username, buyer),
        postal_code=pl.col("Ship Zipcode"),
        postal_chars=ctx.postal_prefix_chars,
        salt=ctx.pii_salt,
    )
    return Mapped(rows=without(out, rejects), rejects=rejects)


def write_orders(frame: pl.DataFrame, path: Path) -> None:
    """Write export rows as Etsy Sold Order Items (MM/DD/YY dates, plain amounts).

    Cancelled lines are left out: Etsy drops cancelled orders from this file.
    """
    write_many(targeted(frame, path))


def write_many(frame: pl.DataFrame) -> None:
    """:func:`write_orders` for many files at once: each row goes to the file in its
    ``source_file`` column."""
    files = targets(frame)
    df = order_rows(frame.filter(pl.col("status") != "cancelled"))
    fmt = "%m/%d/%y"
    line_total = pl.col("quantity") * pl.col("unit_price")
    order = [FILE, "order_id"]
    # Etsy prints the order's coupon discount on the order's first line only
    discount = pl.col("discount_amount").fill_null(0).sum().over(order)
    first = pl.int_range(pl.len()).over(order) == 0
    out = df.select(
        pl.col(FILE),
        **{
            "Sale Date": local_text(pl.col("ordered_at"), fmt, ASSUME_TZ),
            "Item Name": pl.col("product_name"),
            "Buyer": pl.format("{} ({})", pl.col("customer_name"), pl.col("customer_id")),
            "Quantity": pl.col("quantity").cast(pl.String),
            "Price": money_text(pl.col("unit_price")),
            "Coupon Code": pl.when(discount > 0).then(pl.lit("SAVE10")),
            "Coupon Details": pl.lit(None, dtype=pl.String),
            "Discount Amount": money_text(pl.when(first).then(discount).otherwise(0.0)),
            "Shipping Discount": pl.lit("0.00"),
            "Order Shipping": money_text(pl.col("shipping_amount").fill_null(0)),
            "Order Sales Tax": money_text(pl.col("tax_amount").fill_null(0)),
            "Item Total": money_text(line_total),
            "Currency": pl.col("currency"),
            "Transaction ID": pl.col("line_id").cast(pl.String),
            "Listing ID": pl.lit(None, dtype=pl.String),
            "Date Paid": local_text(pl.col("paid_at"), fmt, ASSUME_TZ),
            "Date Shipped": local_text(pl.col("shipped_at"), fmt, ASSUME_TZ),
            "Ship Name": pl.col("customer_name"),
            "Ship Address1": pl.col("ship_address1"),
            "Ship Address2": pl.lit(None, dtype=pl.String),
            "Ship City": pl.col("ship_city"),
            "Ship State": pl.col("ship_region"),
            "Ship Zipcode": pl.col("ship_postal_code"),
            "Ship Country": country_name(pl.col("ship_country")),
            "Order ID": pl.col("order_id"),
            "Variations": pl.lit(None, dtype=pl.String),
            "Order Type": pl.lit("online"),
            "Listings Type": pl.lit("listing"),
            "Payment Type": pl.lit("online_cc"),
            "InPerson Discount": pl.lit(None, dtype=pl.String),
            "InPerson Location": pl.lit(None, dtype=pl.String),
            "VAT Paid by Buyer": pl.lit("0"),
            "SKU": pl.col("channel_sku"),
        }
    )
    uk = [f for f in files if _uk_file(f)]
    us = [f for f in files if not _uk_file(f)]
    if us:
        write_csv_files(out.filter(pl.col(FILE).is_in(us)), us)
    if uk:
        write_csv_files(
            out.filter(pl.col(FILE).is_in(uk)).rename(dict(zip(HEADER, UK_HEADER))), uk
        )


UK_EVERY = 3  # the demo writes about one file in three with the UK/CA/AU wording


def _uk_file(name: str) -> bool:
    """Whether the demo writes this file with UK wording (by its name: deterministic)."""
    digest = hashlib.sha256(Path(name).name.encode()).digest()
    return digest[0] % UK_EVERY == 0


ADAPTER = Adapter(
    whole_orders=True,
    name="etsy_orders",
    entity="order_lines",
    folder="orders",
    file_globs=("EtsySoldOrderItems*.csv",),
    required_columns=REQUIRED,
    map=map_orders,
    pii_columns=PII,
    header_aliases=HEADER_ALIASES,
    write=write_orders,
    write_many=write_many,
    doc="Etsy Sold Order Items CSV (one row per transaction, MM/DD/YY dates).",
)
