"""eBay: the Seller Hub "Orders" report CSV, and the older Selling Manager "Sales History".

Where: Seller Hub → Orders → Download report, or Reports → Downloads → "Orders" (all
orders, or awaiting shipment), CSV. eBay names the download like ``eBay-OrdersReport-Mar-01-2024-10%3A15%3A00-1234567.csv``;
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

The older Selling Manager (Pro) "Sales History" download (``SALES_HISTORY_ADAPTER``) has
the same rows in other words (``User Id``, ``Buyer Fullname``, ``Sale Price``, ``Paid on
Date``, ``Order ID``; UK ``Buyer Postcode``, ``Postage and Packaging``, ``Dispatch Date``):
``HEADER_ALIASES`` renames them to the Seller Hub names, and its header is on line 1.

The file's framing:
- Seller Hub: line 1 is blank or a row of bare commas (``skip_rows=1``); line 2 the header;
  line 3 often an all-empty padding row: skipped by the mapping as ``blank_row`` (the
  reader's trailer rule no longer matches an empty first cell: a row whose Sales Record
  Number is blank is an item and must not be lost);
- after the data a blank line and the footer ``83 record(s) downloaded ...`` and
  ``Seller ID : name`` (dropped by the reader as trailers). A footer written as ``83,record(s)
  downloaded,...`` (count in its own cell) is skipped as ``report_trailer`` by the mapping
  when it has the header's width, else rejected by the reader as ``wrong_field_count``.

Multi-item orders: eBay writes a SUMMARY row (the order's number, buyer, address and money;
its Sold For is the sum of its items) followed by one row per item. A summary row is known
by what it lacks: every item field (Item Number, Item Title, Custom Label, Transaction ID,
Variation Details) is blank, in an order that has item rows. It is skipped as
``order_summary_row`` (counting it would double the order); the items take the order-level
fields they lack (buyer, address, dates) from their order's rows (a window over the Order
Number, vectorised; the Sales Record Number when the Order Number is blank).

Mapping: ``order_id`` = Order Number (Selling Manager: Order ID, blank on a single-item sale,
then the Sales Record Number); ``line_id`` = ``<Item Number>-<Transaction ID>`` (eBay's own
order-line id; an auction's transaction id is 0), the Transaction ID alone without item
number; ``sku`` = Custom Label (the seller's SKU), else the fallback key
``item:<Item Number>[|<Variation Details>]`` a channel listing maps; ``unit_price`` = Sold
For (per unit); ``line_amount`` = quantity × Sold For. Amounts carry a currency sign (``$12.50``, ``£1,234.00``, ``AU $9.99``, ``C $5.00``,
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

from dataclasses import replace
from pathlib import Path

import polars as pl

from assets.ingest.adapters._orders import (
    canonical_headers,
    case_variants,
    col_or_null,
    combine_rejects,
    country_name,
    finish,
    local_text,
    money_text,
    order_rows,
    csv_parts,
    fallback_sku,
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
PII = case_variants((
    "Buyer Username", "Buyer Name", "Buyer Email", "Buyer Note", "Buyer Address 1",
    "Buyer Address 2", "Buyer City", "Buyer Zip", "Buyer Tax Identifier Value",
    "Ship To Name", "Ship To Phone", "Ship To Address 1", "Ship To Address 2", "Ship To City",
    "Ship To Zip", "Tax City", "Tax Zip", "Click And Collect Reference Number",
    # Selling Manager and UK wording of the same identity columns (identity is dropped by
    # the header as written in the file, before any renaming)
    "User Id", "Buyer Fullname", "Buyer Full name", "Buyer Phone Number", "Buyer Town/City",
    "Buyer Postcode", "Post To Name", "Post To Phone", "Post To Address 1",
    "Post To Address 2", "Post To City", "Post To Town/City", "Post To Zip",
    "Post To Postcode", "Notes to yourself", "Private Notes", "My Item Note",
))  # fmt: skip

# Other spellings of the columns the mapping reads (canonical = Seller Hub, US English).
# Case and surrounding spaces never matter (``base.canonical_header``), so "Paid on Date" needs
# no entry. Sources: Selling Manager "Sales History" headers as quoted by open-source
# readers of that file (US: "User Id", "Buyer Fullname", "Sale Price", "Order ID"; UK:
# "Buyer Full name", "Buyer Postcode", "Postage and Packaging", "Dispatch Date"); Seller
# Hub's UK wording ("Post to ...", "Postage and packaging", "Dispatched on date").
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "Order Number": ("Order ID",),
    "Buyer Username": ("User Id", "Buyer User ID"),
    "Buyer Name": ("Buyer Fullname", "Buyer Full name"),
    "Buyer City": ("Buyer Town/City",),
    "Buyer State": ("Buyer County",),
    "Buyer Zip": ("Buyer Postcode",),
    "Ship To Name": ("Post To Name",),
    "Ship To City": ("Post To City", "Post To Town/City"),
    "Ship To State": ("Post To State", "Post To County"),
    "Ship To Zip": ("Post To Zip", "Post To Postcode"),
    "Ship To Country": ("Post To Country",),
    "Item Number": ("Item ID",),
    "Custom Label": ("Custom Label (SKU)",),
    "Sold For": ("Sale Price",),
    "Shipping And Handling": ("Postage And Packaging", "Postage and packaging"),
    "Ship By Date": ("Post By Date", "Dispatch By Date"),
    "Shipped On Date": ("Dispatched On Date", "Dispatch Date", "Posted On Date"),
}

# Order-level fields eBay puts on the summary row of a multi-item order.
ORDER_LEVEL = (
    "Order Number", "Buyer Username", "Buyer Email", "Ship To Zip", "Ship To Country",
    "Buyer Zip", "Buyer Country",
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
    """Orders report rows → canonical ``order_lines`` (summary and blank rows skipped)."""
    frame = with_file(canonical_headers(frame, ADAPTER))
    df = frame.with_columns(
        col_or_null(frame, c).alias(c)
        for c in ("Buyer Email", "Ship To Zip", "Ship To Country", "Ship By Date",
                  "Total Price", "Item Title", "Variation Details", "Buyer Zip",
                  "Buyer Country", "Order Number", "Transaction ID")
    ).with_columns(
        _record=blank_to_null(pl.col("Sales Record Number")),
        _order_no=blank_to_null(pl.col("Order Number")),
    )
    # An order's rows share its Order Number (Selling Manager leaves it blank on a single
    # item: its Sales Record Number is the order then). A row whose Sales Record Number is
    # blank still finds its order by the Order Number, and the other way round.
    df = df.with_columns(
        _order_no=pl.coalesce(
            pl.col("_order_no"),
            pl.col("_order_no").drop_nulls().first().over(FILE, "_record"),
        )
    ).with_columns(_group=pl.coalesce(pl.col("_order_no"), pl.col("_record")))
    item = blank_to_null(pl.col("Item Number"))
    label = blank_to_null(pl.col("Custom Label"))
    txn = blank_to_null(pl.col("Transaction ID"))
    # what only an item row carries: a summary row has the order's money but none of these
    item_fields = pl.any_horizontal(
        e.is_not_null() for e in (item, label, txn, blank_to_null(pl.col("Item Title")),
                                  blank_to_null(pl.col("Variation Details")))
    )
    blank_row = pl.all_horizontal(
        blank_to_null(pl.col(c)).is_null() for c in frame.columns if c not in (LINE, FILE)
    )
    df = df.with_columns(
        _has_item=item_fields,
        _items=item_fields.sum().over(FILE, "_group"),
        _blank=blank_row,
        **{
            c: pl.coalesce(
                blank_to_null(pl.col(c)),
                blank_to_null(pl.col(c)).drop_nulls().first().over(FILE, "_group"),
            )
            for c in ORDER_LEVEL
        },
    )
    currency = pl.coalesce(currency_of(pl.col("Sold For")), currency_of(pl.col("Total Price")))
    # item rows of a multi-item order may carry no amount sign: take the order's
    df = df.with_columns(_currency=currency).with_columns(
        _currency=pl.coalesce(
            pl.col("_currency"), pl.col("_currency").drop_nulls().first().over(FILE, "_group")
        )
    )
    quantity = to_int(pl.col("Quantity"))
    price = to_number(pl.col("Sold For"))
    sku = pl.coalesce(label, fallback_sku("item", item, pl.col("Variation Details")))
    ordered = _local_time(pl.col("Sale Date"), pl.col("_currency"))
    paid = _local_time(pl.col("Paid On Date"), pl.col("_currency"))
    shipped = _local_time(pl.col("Shipped On Date"), pl.col("_currency"))
    # eBay's own line id is "<item number>-<transaction id>" (its OrderLineItemID): an
    # auction's transaction id is 0, so the transaction id alone is not unique in an order
    line_id = pl.when(item.is_not_null() & txn.is_not_null()).then(
        item + pl.lit("-") + txn
    ).otherwise(pl.coalesce(txn, fallback_sku("item", item, pl.col("Variation Details"))))
    rows = df.lazy().with_columns(
        channel_id=pl.lit(ctx.channel_id),
        order_id=pl.col("_group"),
        line_id=line_id,
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
        ship_country=country_iso2(
            pl.coalesce(blank_to_null(pl.col("Ship To Country")),
                        blank_to_null(pl.col("Buyer Country")))
        ),
    ).collect()
    trailer = pl.concat_str(
        [pl.col("Sales Record Number"), pl.col("Order Number")], separator=" ", ignore_nulls=True
    ).str.contains(r"(?i)record\(s\) downloaded|^seller id\s*:")
    rejects = combine_rejects(
        rejects_where(df, pl.col("_blank"), "blank_row",
                      "an empty row of the report's framing (every cell blank), not an order"),
        rejects_where(df, trailer, "report_trailer",
                      "report footer ('record(s) downloaded' / 'Seller ID'), not an order"),
        rejects_where(
            df,
            ~pl.col("_has_item") & (pl.col("_items") > 0),
            "order_summary_row",
            pl.format(
                "summary row of the {}-item order {} (Sales Record Number {}); its items follow "
                "on their own rows",
                pl.col("_items"), quoted(pl.col("_group")), quoted(pl.col("Sales Record Number")),
            ),
        ),
        rejects_where(
            df, ~pl.col("_has_item"), "item_missing",
            pl.format("no item on this row (Item Number, Item Title, Custom Label and "
                      "Transaction ID blank) and no item rows for order {}",
                      quoted(pl.col("_group"))),
        ),
        rejects_where(
            df, sku.is_null(), "sku_missing",
            pl.format("Custom Label (the seller SKU) and Item Number are blank for {}: "
                      "nothing identifies the listing", quoted(pl.col("Item Title"))),
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
        postal_code=pl.coalesce(blank_to_null(pl.col("Ship To Zip")),
                                blank_to_null(pl.col("Buyer Zip"))),
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
        # a line id "<item number>-<transaction id>" (eBay's OrderLineItemID, as the demo
        # generator writes it) names both; any other line id is the transaction id alone
        _item=pl.coalesce(
            pl.col("line_id").cast(pl.String).str.extract(r"^(\d+)-", 1),
            (pl.col("channel_sku").rank("dense").over(FILE) + 110_000_000_000)
            .cast(pl.Int64).cast(pl.String),
        ),
        _txn=pl.coalesce(pl.col("line_id").cast(pl.String).str.extract(r"^\d+-(.+)$", 1),
                         pl.col("line_id").cast(pl.String)),
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
    # a listing without Custom Label is listed under its fallback key "item:<number>[|var]"
    keyed = pl.col("channel_sku").str.starts_with("item:")
    key = pl.col("channel_sku").str.strip_prefix("item:")
    item = {
        "Item Number": pl.when(keyed).then(key.str.replace(r"\|.*$", ""))
        .otherwise(pl.col("_item")),
        "Item Title": pl.col("product_name"),
        "Custom Label": pl.when(keyed).then(None).otherwise(pl.col("channel_sku")),
        "Variation Details": pl.when(keyed).then(key.str.extract(r"\|(.*)$", 1)),
        "Sold Via Promoted Listings": pl.lit("No"),
        "Quantity": pl.col("quantity").cast(pl.String),
        "Sold For": with_sign(pl.col("unit_price")),
        "Shipped On Date": when_local("shipped_at"),
        "Shipping Service": pl.col("carrier"),
        "Tracking Number": pl.col("tracking_number"),
        "Transaction ID": pl.col("_txn"),
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


# Report footers ("83 record(s) downloaded ...", "Seller ID : name") are dropped by the
# reader. Nothing else is: an empty padding row or a row whose first cell is blank reaches
# the mapping, which skips the empty one by name (``blank_row``) and keeps the other.
TRAILER = r"(?i)record\(s\) downloaded|^seller id\s*:"
# Either export may carry any of these names: the header decides (pick_adapter).
FILE_GLOBS = (
    "eBay-OrdersReport*.csv", "eBay-all-orders-report*.csv", "ebay*orders*.csv",
    "SalesHistory*.csv", "SoldHistory*.csv", "ebay*sales*history*.csv",
)  # fmt: skip
# records the format carries that are not data: counted as skipped, never quarantined
SKIP_RULES = ("order_summary_row", "report_trailer", "blank_row")

ADAPTER = Adapter(
    whole_orders=True,
    name="ebay_orders",
    entity="order_lines",
    folder="orders",
    file_globs=FILE_GLOBS,
    required_columns=REQUIRED,
    map=map_orders,
    skip_rows=1,
    trailer_pattern=TRAILER,
    pii_columns=PII,
    write=write_orders,
    write_many=write_many,
    doc="eBay Seller Hub Orders report CSV (blank first line, summary rows, footer).",
    # a summary row repeats its items' order (counting it would double demand); a footer
    # and an empty padding row are framing: none is a bad record
    skip_rules=SKIP_RULES,
    # every header name in any case, and the other spellings the platform writes
    header_aliases={**dict.fromkeys(HEADER, ()), **HEADER_ALIASES},
)

# The older Selling Manager (Pro) "Sales History" download: the header on the first line
# (no blank line before it), Selling Manager's wording (HEADER_ALIASES), the same summary
# rows and footer. Required: columns both its US and UK wordings share, by the canonical
# names the reader renames them to ("User Id" is "Buyer Username", "Sale Price" "Sold For").
REQUIRED_SALES_HISTORY = (
    "Sales Record Number", "Buyer Username", "Custom Label", "Quantity", "Sold For", "Sale Date",
    "Paid On Date",
)  # fmt: skip

# the same mapping, framing rules and identity columns; its header on line 1; read only
SALES_HISTORY_ADAPTER = replace(
    ADAPTER,
    name="ebay_sales_history",
    required_columns=REQUIRED_SALES_HISTORY,
    skip_rows=0,
    write=None,
    write_many=None,
    doc="eBay Selling Manager Sales History CSV (older export; summary rows, footer).",
)
