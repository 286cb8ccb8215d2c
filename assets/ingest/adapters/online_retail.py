"""The UCI "Online Retail" shop's daily invoice-line export (real data, one file per day).

Source: Chen, Sain & Guo (2012), a UK gift wholesaler's transactions 2010-12-01 ..
2011-12-09; ``../shared/data/online_retail/by-day/YYYY-MM-DD.csv`` holds it one file per
trading day as the shop's system would export it (see that folder's README). File names
``YYYY-MM-DD.csv`` or ``online_retail*.csv``.

Columns: ``InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice, CustomerID,
Country``; one row per invoice line. Prices GBP per unit; ``InvoiceDate``
``2010-12-01 08:26:00`` (also the original ``12/1/2010 8:26``) in UK local time
(Europe/London, so BST in summer).

Mapping: ``order_id`` = InvoiceNo; ``line_id`` = StockCode, and ``StockCode~2``,
``StockCode~3``... for the 2nd, 3rd *different* line of the same code on one invoice (the
shop sometimes bills one code twice at different prices or quantities); ``unit_price`` =
UnitPrice; ``line_amount`` = Quantity × UnitPrice; ``currency`` GBP; ``customer_key`` = hash
of CustomerID (written as a float, ``17850.0``, normalised to ``17850``; empty on about a
quarter of the rows: null key). An invoice is raised when the goods are dispatched, so a
line is ``shipped`` with ``paid_at`` = ``shipped_at`` = ``ordered_at`` = InvoiceDate (a
``paid``/``placed`` status would leave the units allocated for ever).

What is rejected, and why (rule names as quarantined):
- ``duplicate_line``: an exact copy of an earlier row of the same file (every column
  equal). About 1 % of rows; the shop's export writes some lines twice. The first copy loads.
- ``cancellation_invoice``: InvoiceNo starting with ``C`` (negative Quantity): a credit note
  that cancels part of an earlier invoice it does not name. It is not demand, and it cannot
  be matched to the line it cancels; refunds and returns belong in the returns table.
- ``not_a_product``: stock codes that are charges or bookkeeping, not goods: POST, DOT
  (postage), C2 (carriage), M/m (manual), D (discount), S (samples), BANK CHARGES,
  AMAZONFEE, CRUK (commission), PADS, B (bad-debt adjustment, ``A`` invoices),
  ``gift_0001_*`` (vouchers).
- ``stock_write_off``: a negative Quantity on a normal invoice: the shop's stock
  corrections (damaged, lost, found ...), typically at price 0 with no customer.
- ``stock_adjustment``: price 0 and no customer on a positive quantity: the same
  corrections in the other direction, not a sale.
- ``quantity_not_a_number``, ``price_not_a_number``, ``date_not_readable``.

Trailing spaces in Description are harmless here: the description is not mapped.
Country names map to ISO-2 (``EIRE`` → IE, ``RSA`` → ZA, ``USA`` → US); ``Channel
Islands``, ``European Community`` and ``Unspecified`` have no single code: null.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from assets.ingest.adapters._orders import (
    combine_rejects,
    country_name,
    finish,
    local_text,
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
    to_id,
    to_int,
    to_number,
    to_utc,
)

HEADER = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
          "CustomerID", "Country")
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M")
ZONE = "Europe/London"
CURRENCY = "GBP"
NOT_PRODUCTS = ("POST", "DOT", "C2", "M", "D", "S", "BANK CHARGES", "AMAZONFEE", "CRUK",
                "PADS", "B", "CARRIAGE", "ADJUST", "ADJUST2", "TEST001", "TEST002")


def map_orders(frame: pl.DataFrame, ctx: AdapterContext) -> Mapped:
    """Invoice lines → canonical ``order_lines`` (see the module doc for the rejections)."""
    frame = with_file(frame)
    cols = [c for c in HEADER if c in frame.columns]
    df = frame.with_columns(
        # the k-th copy of an identical row in the file (1 = the first)
        _copy=pl.int_range(1, pl.len() + 1).over([FILE, *cols], order_by=LINE),
    )
    invoice = blank_to_null(pl.col("InvoiceNo"))
    code = blank_to_null(pl.col("StockCode"))
    quantity = to_int(pl.col("Quantity"))
    price = to_number(pl.col("UnitPrice"))
    customer = to_id(pl.col("CustomerID"))
    # line id: the stock code, suffixed for the 2nd.. distinct line of the same code
    distinct_rank = (
        df.filter(pl.col("_copy") == 1)
        .select(LINE, _k=pl.int_range(1, pl.len() + 1).over([pl.col(FILE), invoice, code], order_by=LINE))
    )
    df = df.join(distinct_rank, on=LINE, how="left")
    line_id = pl.when(pl.col("_k") > 1).then(pl.format("{}~{}", code, pl.col("_k"))).otherwise(code)
    when = to_utc(pl.col("InvoiceDate"), TIME_FORMATS, ZONE)
    rows = df.lazy().with_columns(
        channel_id=pl.lit(ctx.channel_id),
        order_id=invoice,
        line_id=line_id,
        channel_sku=code,
        sku=code,
        quantity=pl.when(quantity > 0).then(quantity),
        unit_price=pl.when(price >= 0).then(price),
        currency=pl.lit(CURRENCY),
        line_amount=quantity * price,
        status=pl.lit("shipped"),
        ordered_at=when,
        paid_at=when,
        shipped_at=when,
        ship_country=country_iso2(pl.col("Country")),
    ).collect()
    upper_code = code.str.to_uppercase()
    rejects = combine_rejects(
        rejects_where(
            df, pl.col("_copy") > 1, "duplicate_line",
            pl.format("exact copy of an earlier row of invoice {} (StockCode {}, Quantity {})",
                      quoted(invoice), quoted(code), quoted(pl.col("Quantity"))),
        ),
        rejects_where(
            df, invoice.str.starts_with("C"), "cancellation_invoice",
            pl.format("InvoiceNo {} is a cancellation (credit note, Quantity {}) of an earlier "
                      "invoice it does not name: not demand", quoted(invoice),
                      quoted(pl.col("Quantity"))),
        ),
        rejects_where(
            df, upper_code.is_in(NOT_PRODUCTS) | code.str.starts_with("gift_"),
            "not_a_product",
            pl.format("StockCode {} ({}) is a charge or bookkeeping entry, not a product",
                      quoted(code), quoted(blank_to_null(pl.col("Description")))),
        ),
        rejects_where(
            df, pl.col("Quantity").is_not_null() & quantity.is_null(), "quantity_not_a_number",
            pl.format("Quantity {} is not a whole number", quoted(pl.col("Quantity"))),
        ),
        rejects_where(
            df, quantity < 0, "stock_write_off",
            pl.format("Quantity {} on invoice {} (not a C invoice) is a stock write-off, "
                      "not a sale", quoted(pl.col("Quantity")), quoted(invoice)),
        ),
        rejects_where(
            df, blank_to_null(pl.col("UnitPrice")).is_not_null() & price.is_null(),
            "price_not_a_number",
            pl.format("UnitPrice {} is not a number", quoted(pl.col("UnitPrice"))),
        ),
        rejects_where(
            df, (price == 0) & customer.is_null(), "stock_adjustment",
            pl.format("UnitPrice 0 without a customer on invoice {}: a stock correction, "
                      "not a sale", quoted(invoice)),
        ),
        rejects_where(
            df, blank_to_null(pl.col("InvoiceDate")).is_not_null() & when.is_null(),
            "date_not_readable",
            pl.format("InvoiceDate {} is not a date and time", quoted(pl.col("InvoiceDate"))),
        ),
    )
    out = finish(
        rows,
        customer_identity=customer,
        postal_code=None,
        postal_chars=ctx.postal_prefix_chars,
        salt=ctx.pii_salt,
    )
    return Mapped(rows=without(out, rejects), rejects=rejects)


def write_orders(frame: pl.DataFrame, path: Path) -> None:
    """Write export rows in the shop's format (CustomerID as float text, UK local time).

    Cancelled lines are left out: the shop's cancellations are separate C invoices, which
    this writer does not invent.
    """
    write_many(targeted(frame, path))


def write_many(frame: pl.DataFrame) -> None:
    """:func:`write_orders` for many files at once: each row goes to the file in its
    ``source_file`` column."""
    files = targets(frame)
    df = order_rows(frame.filter(pl.col("status") != "cancelled"))
    out = df.select(
        pl.col(FILE),
        InvoiceNo=pl.col("order_id"),
        StockCode=pl.col("channel_sku"),
        Description=pl.col("product_name").str.to_uppercase(),
        Quantity=pl.col("quantity").cast(pl.String),
        InvoiceDate=local_text(pl.col("ordered_at"), "%Y-%m-%d %H:%M:%S", ZONE),
        UnitPrice=pl.col("unit_price").round(2).cast(pl.String),
        CustomerID=pl.when(pl.col("customer_id").str.contains(r"^\d+$"))
        .then(pl.col("customer_id") + pl.lit(".0"))
        .otherwise(pl.col("customer_id")),
        Country=country_name(pl.col("ship_country")),
    )
    write_csv_files(out, files)


ADAPTER = Adapter(
    name="online_retail_invoices",
    entity="order_lines",
    folder="orders",
    file_globs=(
        "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9].csv",
        "online_retail*.csv",
        "online-retail*.csv",
    ),
    required_columns=HEADER,
    map=map_orders,
    # a customer id is an identity too: hashed into customer_key, never kept as text
    pii_columns=("CustomerID",),
    write=write_orders,
    write_many=write_many,
    doc="UCI Online Retail daily invoice lines (GBP, UK local time; real-data quirks).",
)
