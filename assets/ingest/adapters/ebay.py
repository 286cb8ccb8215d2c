"""eBay: the Seller Hub "Orders" report CSV.

Where: Seller Hub → Reports → Downloads → "Orders" (all orders, or awaiting shipment),
CSV. eBay names the download like ``eBay-OrdersReport-Mar-01-2024-10%3A15%3A00-1234567.csv``;
our daily exports ``eBay-OrdersReport-YYYY-MM-DD.csv``.

Columns (header spellings from the report itself as quoted by open-source tools that read
it, e.g. randomecho/shifted-sales-report): ``Sales Record Number, Order Number, Buyer
Username, Buyer Name, Buyer Email, Buyer Note, Buyer Address 1, ..., Ship To Name, Ship To
Phone, Ship To Address 1, Ship To Address 2, Ship To City, Ship To State, Ship To Zip, Ship
To Country, Item Number, Item Title, Custom Label, Sold Via Promoted Listings, Quantity,
Sold For, Shipping And Handling, ..., Total Price, ..., Payment Method, Sale Date, Paid On
Date, Ship By Date, Minimum Estimated Delivery Date, Maximum Estimated Delivery Date,
Shipped On Date, Feedback Left, Feedback Received, My Item Note, PayPal Transaction ID,
Shipping Service, Tracking Number, Transaction ID, Variation Details, ...``

The file's framing (handled by ``skip_rows`` and ``trailer_pattern`` for the reader):
- line 1 is blank or a row of bare commas; line 2 is the header;
- line 3 is often an all-empty padding row (its first field is empty: dropped as a trailer);
- after the data a blank line and the footer ``83 record(s) downloaded ...`` and
  ``Seller ID : name`` (dropped as trailers). A footer written as ``83,record(s)
  downloaded,...`` (count in its own cell) is rejected as ``report_trailer`` by the mapping
  when it has the header's width, else by the reader as ``wrong_field_count``.

Multi-item orders: eBay writes a SUMMARY row (same Sales Record Number, no Item Number,
buyer, address and the order's money; its Sold For is the sum of its items) followed by one
row per item. Summary rows are rejected as ``order_summary_row`` (counting them would double
the order); the items take the order-level fields they lack (buyer, address, dates) from
their summary row (a window over the Sales Record Number, vectorised).

Mapping: ``order_id`` = Order Number; ``line_id`` = Transaction ID (else Item Number);
``sku`` = Custom Label (the seller's SKU; a listing without one is rejected as
``sku_missing``); ``unit_price`` = Sold For (per unit); ``line_amount`` = quantity × Sold
For. Amounts carry a currency sign (``$12.50``, ``£1,234.00``, ``AU $9.99``, ``C $5.00``,
``€3,50`` is not produced by eBay's English sites); the order currency is read from that
sign: ``£`` GBP, ``€``/``EUR`` EUR, ``AU $`` AUD, ``C $`` CAD, other ``$`` USD.

Times: ``Mar-01-24`` or ``Mar-01-24 10:15:00`` (a trailing zone abbreviation such as
``PDT`` is ignored), without offset, in the eBay site's local time. The zone is assumed
from the currency: GBP → Europe/London, EUR → Europe/Berlin, AUD → Australia/Sydney,
CAD → America/Toronto, USD → America/Los_Angeles (eBay US reports in Pacific time).
A date-only value is taken at 12:00 local (the date survives the conversion to UTC).

Status: the report has no status column and does not list cancelled orders:
``shipped`` ← Shipped On Date set; ``paid`` ← Paid On Date set; ``placed`` otherwise.
``promised_ship_by`` = Ship By Date. Customer key: Buyer Email, else Buyer Username.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from assets.ingest.adapters._orders import (
    col_or_null,
    combine_rejects,
    country_name,
    finish,
    local_text,
    money_text,
    order_rows,
    csv_parts,
    targeted,
    targets,
    without,
    write_text,
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

HEADER = (
    "Sales Record Number", "Order Number", "Buyer Username", "Buyer Name", "Buyer Email",
    "Buyer Note", "Buyer Address 1", "Buyer Address 2", "Buyer City", "Buyer State",
    "Buyer Zip", "Buyer Country", "Buyer Tax Identifier Name", "Buyer Tax Identifier Value",
    "Ship To Name", "Ship To Phone", "Ship To Address 1", "Ship To Address 2", "Ship To City",
    "Ship To State", "Ship To Zip", "Ship To Country", "Item Number", "Item Title",
    "Custom Label", "Sold Via Promoted Listings", "Quantity", "Sold For",
    "Shipping And Handling", "Item Location", "Item Zip Code", "Item Country",
    "eBay Collect And Remit Tax Rate", "eBay Collect And Remit Tax Type",
    "eBay Reference Name", "eBay Reference Value", "Tax Status", "Seller Collected Tax",
    "eBay Collected Tax", "Electronic Waste Recycling Fee", "Mattress Recycling Fee",
    "Battery Recycling Fee", "White Goods Disposal Tax", "Tire Recycling Fee",
    "Additional Fee", "eBay Collected Charges", "Total Price",
    "eBay Collected Tax and Fees Included in Total", "Payment Method", "Sale Date",
    "Paid On Date", "Ship By Date", "Minimum Estimated Delivery Date",
    "Maximum Estimated Delivery Date", "Shipped On Date", "Feedback Left",
    "Feedback Received", "My Item Note", "PayPal Transaction ID", "Shipping Service",
    "Tracking Number", "Transaction ID", "Variation Details", "Global Shipping Program",
    "Global Shipping Reference ID", "Click And Collect", "Click And Collect Reference Number",
    "eBay Plus", "Tax City", "Tax State", "Tax Zip", "Tax Country",
)  # fmt: skip

REQUIRED = (
    "Sales Record Number",
    "Order Number",
    "Buyer Username",
    "Item Number",
    "Custom Label",
    "Quantity",
    "Sold For",
    "Sale Date",
    "Paid On Date",
    "Shipped On Date",
    "Transaction ID",
)
PII = (
    "Buyer Username", "Buyer Name", "Buyer Email", "Buyer Note", "Buyer Address 1",
    "Buyer Address 2", "Buyer City", "Buyer Zip", "Buyer Tax Identifier Value",
    "Ship To Name", "Ship To Phone", "Ship To Address 1", "Ship To Address 2", "Ship To City",
    "Ship To Zip", "Tax City", "Tax Zip", "Click And Collect Reference Number",
)  # fmt: skip

# Order-level fields eBay puts on the summary row of a multi-item order.
ORDER_LEVEL = (
    "Order Number", "Buyer Username", "Buyer Email", "Ship To Zip", "Ship To Country",
    "Sale Date", "Paid On Date", "Ship By Date", "Shipped On Date",
)  # fmt: skip

DATE_FORMATS = ("%b-%d-%y %H:%M:%S", "%b-%d-%Y %H:%M:%S", "%b-%d-%y", "%b-%d-%Y")
# currency → (sign eBay prints, zone its site reports times in)
CURRENCIES = {
    "GBP": ("£", "Europe/London"),
    "EUR": ("€", "Europe/Berlin"),
    "AUD": ("AU $", "Australia/Sydney"),
    "CAD": ("C $", "America/Toronto"),
    "USD": ("$", "America/Los_Angeles"),
}
SELLER_ID = "shelfwise_demo"


def currency_of(amount: pl.Expr) -> pl.Expr:
    """The ISO currency an eBay amount's sign stands for (null for a bare number)."""
    text = blank_to_null(amount)
    return (
        pl.when(text.str.contains("£|GBP")).then(pl.lit("GBP"))
        .when(text.str.contains("€|EUR")).then(pl.lit("EUR"))
        .when(text.str.contains(r"AU\s*\$|AUD")).then(pl.lit("AUD"))
        .when(text.str.contains(r"(^|[^A-Z])C\s*\$|CAD")).then(pl.lit("CAD"))
        .when(text.str.contains(r"\$|USD")).then(pl.lit("USD"))
    )


def _local_time(expr: pl.Expr, currency: pl.Expr) -> pl.Expr:
    # drop a trailing zone abbreviation ("PDT"): the zone comes from the site's currency
    text = blank_to_null(expr).str.replace(r"\s+[A-Z]{2,5}$", "")
    parsed = pl.lit(None, dtype=pl.Datetime("us"))
    for code, (_, tz) in reversed(CURRENCIES.items()):
        parsed = pl.when(currency == code).then(to_utc(text, DATE_FORMATS, tz)).otherwise(parsed)
    return parsed


def map_orders(frame: pl.DataFrame, ctx: AdapterContext) -> Mapped:
    """Orders report rows → canonical ``order_lines`` (summary rows rejected)."""
    frame = with_file(frame)
    df = frame.with_columns(
        col_or_null(frame, c).alias(c)
        for c in ("Buyer Email", "Ship To Zip", "Ship To Country", "Ship By Date",
                  "Total Price", "Item Title")
    ).with_columns(_record=blank_to_null(pl.col("Sales Record Number")))
    item = blank_to_null(pl.col("Item Number"))
    df = df.with_columns(
        _rows=pl.len().over(FILE, "_record"),
        _item=item,
        **{
            c: pl.coalesce(
                blank_to_null(pl.col(c)),
                blank_to_null(pl.col(c)).drop_nulls().first().over(FILE, "_record"),
            )
            for c in ORDER_LEVEL
        },
    )
    currency = pl.coalesce(currency_of(pl.col("Sold For")), currency_of(pl.col("Total Price")))
    # item rows of a multi-item order may carry no amount sign: take the order's
    df = df.with_columns(_currency=currency).with_columns(
        _currency=pl.coalesce(
            pl.col("_currency"), pl.col("_currency").drop_nulls().first().over(FILE, "_record")
        )
    )
    quantity = to_int(pl.col("Quantity"))
    price = to_number(pl.col("Sold For"))
    sku = blank_to_null(pl.col("Custom Label"))
    ordered = _local_time(pl.col("Sale Date"), pl.col("_currency"))
    paid = _local_time(pl.col("Paid On Date"), pl.col("_currency"))
    shipped = _local_time(pl.col("Shipped On Date"), pl.col("_currency"))
    rows = df.lazy().with_columns(
        channel_id=pl.lit(ctx.channel_id),
        order_id=pl.col("Order Number"),
        line_id=pl.coalesce(blank_to_null(pl.col("Transaction ID")), item),
        channel_sku=sku,
        sku=sku,
        quantity=pl.when(quantity > 0).then(quantity),
        unit_price=pl.when(price >= 0).then(price),
        currency=pl.col("_currency"),
        line_amount=quantity * price,
        status=pl.when(pl.col("Shipped On Date").is_not_null()).then(pl.lit("shipped"))
        .when(pl.col("Paid On Date").is_not_null()).then(pl.lit("paid"))
        .otherwise(pl.lit("placed")),
        ordered_at=ordered,
        paid_at=paid,
        shipped_at=shipped,
        promised_ship_by=_local_time(pl.col("Ship By Date"), pl.col("_currency")),
        ship_country=country_iso2(pl.col("Ship To Country")),
    ).collect()
    trailer = pl.concat_str(
        [pl.col("Sales Record Number"), pl.col("Order Number")], separator=" ", ignore_nulls=True
    ).str.contains(r"(?i)record\(s\) downloaded|^seller id\s*:")
    rejects = combine_rejects(
        rejects_where(df, trailer, "report_trailer",
                      "report footer ('record(s) downloaded' / 'Seller ID'), not an order"),
        rejects_where(
            df,
            item.is_null() & (pl.col("_rows") > 1),
            "order_summary_row",
            pl.format(
                "summary row of the {}-item order {} (Sales Record Number {}); its items follow "
                "on their own rows",
                pl.col("_rows") - 1, pl.col("Order Number"), pl.col("Sales Record Number"),
            ),
        ),
        rejects_where(
            df, item.is_null(), "item_missing",
            pl.format("Item Number is blank on order {}", quoted(pl.col("Order Number"))),
        ),
        rejects_where(
            df, sku.is_null(), "sku_missing",
            pl.format("Custom Label (the seller SKU) is blank for item {} {}",
                      quoted(pl.col("Item Number")), quoted(pl.col("Item Title"))),
        ),
        rejects_where(
            df, pl.col("Quantity").is_not_null() & quantity.is_null(), "quantity_not_a_number",
            pl.format("Quantity {} is not a whole number", quoted(pl.col("Quantity"))),
        ),
        rejects_where(
            df, blank_to_null(pl.col("Sold For")).is_not_null() & price.is_null(),
            "price_not_a_number",
            pl.format("Sold For {} is not an amount", quoted(pl.col("Sold For"))),
        ),
    )
    out = finish(
        rows,
        customer_identity=pl.coalesce(blank_to_null(pl.col("Buyer Email")),
                                      blank_to_null(pl.col("Buyer Username"))),
        postal_code=pl.col("Ship To Zip"),
        postal_chars=ctx.postal_prefix_chars,
        salt=ctx.pii_salt,
    )
    return Mapped(rows=without(out, rejects), rejects=rejects)


def write_orders(frame: pl.DataFrame, path: Path) -> None:
    """Write export rows as an eBay Orders report, with eBay's framing and summary rows.

    Cancelled lines are left out (the real report does not list cancelled orders).
    Sales Record Numbers count from 1001 in order-id order; Item Numbers are stand-ins
    derived from the SKU's rank in the frame (deterministic for the same frame).
    """
    write_many(targeted(frame, path))


def write_many(frame: pl.DataFrame) -> None:
    """:func:`write_orders` for many files at once: each row goes to the file in its
    ``source_file`` column (numbering, summaries and footers per file)."""
    files = targets(frame)
    df = order_rows(frame.filter(pl.col("status") != "cancelled"))
    order = [FILE, "order_id"]
    currency = pl.col("currency").first().over(order)
    sign = currency.replace_strict({k: v[0] for k, v in CURRENCIES.items()}, default="$")
    tz = df.get_column("currency").replace_strict(
        {k: v[1] for k, v in CURRENCIES.items()}, default="America/Los_Angeles"
    )
    df = df.with_columns(
        _tz=tz,
        _sign=sign,
        _record=(pl.col("order_id").rank("dense").over(FILE) + 1000).cast(pl.Int64),
        _n=pl.len().over(order),
        _item=(pl.col("channel_sku").rank("dense").over(FILE) + 110_000_000_000)
        .cast(pl.Int64)
        .cast(pl.String),
    )

    def when_local(col: str, fmt: str = "%b-%d-%y %H:%M:%S") -> pl.Expr:
        # one zone per file in practice; written per row so mixed currencies stay right
        out = pl.lit(None, dtype=pl.String)
        for zone in df.get_column("_tz").unique().sort().to_list():
            here = local_text(pl.col(col), fmt, zone)
            out = pl.when(pl.col("_tz") == zone).then(here).otherwise(out)
        return out

    def with_sign(expr: pl.Expr) -> pl.Expr:
        text = money_text(expr.abs(), thousands=True)
        neg = pl.when(expr < 0).then(pl.lit("-")).otherwise(pl.lit(""))
        return pl.when(expr.is_null()).then(None).otherwise(neg + pl.col("_sign") + text)

    line_total = pl.col("quantity") * pl.col("unit_price")
    order_total = line_total.sum().over(order)
    shipping = pl.col("shipping_amount").fill_null(0).first().over(order)
    tax = pl.col("tax_amount").fill_null(0).first().over(order)
    buyer = {
        "Sales Record Number": pl.col("_record").cast(pl.String),
        "Order Number": pl.col("order_id"),
        "Buyer Username": pl.col("customer_id"),
        "Buyer Name": pl.col("customer_name"),
        "Buyer Email": pl.col("customer_email"),
        "Buyer Address 1": pl.col("ship_address1"),
        "Buyer City": pl.col("ship_city"),
        "Buyer State": pl.col("ship_region"),
        "Buyer Zip": pl.col("ship_postal_code"),
        "Buyer Country": country_name(pl.col("ship_country")),
        "Ship To Name": pl.col("customer_name"),
        "Ship To Address 1": pl.col("ship_address1"),
        "Ship To City": pl.col("ship_city"),
        "Ship To State": pl.col("ship_region"),
        "Ship To Zip": pl.col("ship_postal_code"),
        "Ship To Country": country_name(pl.col("ship_country")),
        "Sale Date": when_local("ordered_at"),
        "Paid On Date": when_local("paid_at"),
        "Ship By Date": when_local("promised_ship_by", "%b-%d-%y"),
        "Payment Method": pl.lit("eBay Managed Payments"),
    }
    item = {
        "Item Number": pl.col("_item"),
        "Item Title": pl.col("product_name"),
        "Custom Label": pl.col("channel_sku"),
        "Sold Via Promoted Listings": pl.lit("No"),
        "Quantity": pl.col("quantity").cast(pl.String),
        "Sold For": with_sign(pl.col("unit_price")),
        "Shipped On Date": when_local("shipped_at"),
        "Shipping Service": pl.col("carrier"),
        "Tracking Number": pl.col("tracking_number"),
        "Transaction ID": pl.col("line_id").cast(pl.String),
        "Sale Date": when_local("ordered_at"),
        "Paid On Date": when_local("paid_at"),
    }
    order_money = {
        "Shipping And Handling": with_sign(shipping),
        "eBay Collected Tax": with_sign(tax),
        "Total Price": with_sign(order_total + shipping + tax),
    }
    base = {h: pl.lit(None, dtype=pl.String) for h in HEADER}
    # a single-item order: one row with everything
    keys = (pl.col(FILE), pl.col("order_id").alias("_o"))
    single = df.filter(pl.col("_n") == 1).select(
        *keys, pl.lit(1).alias("_k"), pl.col("line_id").alias("_l"),
        **(base | buyer | item | order_money),
    )
    multi = df.filter(pl.col("_n") > 1)
    summary = multi.filter(pl.int_range(pl.len()).over(order) == 0).select(
        *keys, pl.lit(0).alias("_k"), pl.col("line_id").alias("_l"),
        **(base | buyer | order_money | {
            "Quantity": pl.col("quantity").sum().over(order).cast(pl.String),
            "Sold For": with_sign(order_total),
        }),
    )
    items = multi.select(
        *keys, pl.lit(1).alias("_k"), pl.col("line_id").alias("_l"),
        **(base | {"Sales Record Number": buyer["Sales Record Number"],
                   "Order Number": buyer["Order Number"],
                   "Buyer Username": buyer["Buyer Username"]} | item),
    )
    # keep the export order: each order's summary first, then its items in line order
    body = pl.concat([single, summary, items]).with_row_index("_i").sort(
        [FILE, "_o", "_k", "_i"]
    )
    body = body.select(FILE, *HEADER)
    width = len(HEADER)
    bare = "," * (width - 1)
    records = dict(df.group_by(FILE).agg(pl.col("order_id").n_unique()).iter_rows())
    header, parts = csv_parts(body, quote_style="always")
    for name in files:
        footer = [
            f"{records.get(name, 0)} record(s) downloaded" + "," * (width - 1),
            f"Seller ID : {SELLER_ID}" + "," * (width - 1),
        ]
        rows = parts.get(name, "").rstrip("\n")
        text = "\n".join([bare, header, bare, *([rows] if rows else []), "", *footer]) + "\n"
        write_text(Path(name), text)


ADAPTER = Adapter(
    name="ebay_orders",
    entity="order_lines",
    folder="orders",
    file_globs=("eBay-OrdersReport*.csv", "eBay-all-orders-report*.csv", "ebay*orders*.csv"),
    required_columns=REQUIRED,
    map=map_orders,
    skip_rows=1,
    # the padding row after the header (empty first cell) and the footer lines
    trailer_pattern=r"(?i)^$|record\(s\) downloaded|^seller id\s*:",
    pii_columns=PII,
    write=write_orders,
    write_many=write_many,
    doc="eBay Seller Hub Orders report CSV (blank first line, summary rows, footer).",
    # a summary row repeats its items' order (counting it would double demand) and a footer
    # is framing: neither is a bad record
    skip_rules=("order_summary_row", "report_trailer"),
)
