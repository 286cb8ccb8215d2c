"""B2B: business customers' purchase orders to us, as a flattened EDI 850 CSV.

There is no universal B2B order file. This format is the common denominator of B2B portal
exports and EDI-to-CSV translators: one row per PO line of an ANSI X12 850 (EDIFACT
ORDERS) purchase order, order-level fields repeated on every line. Each column names the
850 element it flattens:

===================== ====================== ===============================================
column                850 element            meaning
===================== ====================== ===============================================
PO Number             BEG03                  the buyer's purchase order number
PO Date               BEG05                  order date (``YYYY-MM-DD``, time optional)
Buyer ID              N1*BY N104             the buyer's id at us (customer account)
Buyer Name            N1*BY N102             company name (treated as identity: not kept)
Line Number           PO101                  the buyer's line number
Buyer Item Number     PO1 qualifier BP       the buyer's own part number (kept nowhere)
Vendor Item Number    PO1 qualifier VN       our SKU, as listed for this buyer
Description           PID05                  item text
Quantity Ordered      PO102                  quantity in UOM
UOM                   PO103                  EA (each) or CA (case)
Units Per UOM         PO4 PO401              units per case when UOM is CA
Unit Price            PO104                  price per UOM, in Currency
Currency              CUR02                  ISO currency (default: the PO's)
Requested Ship Date   DTM*010                ship-by date the buyer asked for
Ship To Name          N1*ST N102             receiving site (kept nowhere)
Ship To Address       N3                     kept nowhere
Ship To City          N4 N401                kept nowhere
Ship To Postal Code   N4 N403                only its prefix is kept
Ship To Country       N4 N404                ISO-2 or a name
Status                (855/856/810 state)    see below
Status Date           (DTM of that event)    when the status was reached
Contact Email         PER*BD                 buyer contact (kept nowhere)
===================== ====================== ===============================================

File names: ``b2b-orders-YYYY-MM-DD.csv`` (also ``purchase-orders*.csv``, ``po-*.csv``).

Mapping: ``order_id`` = PO Number, ``line_id`` = Line Number, ``channel_sku``/``sku`` =
Vendor Item Number, ``quantity`` = Quantity Ordered × Units Per UOM (cases become units),
``unit_price`` = Unit Price ÷ Units Per UOM, ``line_amount`` = quantity × unit price,
``promised_ship_by`` = Requested Ship Date, ``customer_key`` = hash of Buyer ID.

Status (canonical ← Status; case-insensitive): ``placed`` ← New, Open, Acknowledged,
Accepted, Backordered; ``paid`` ← Paid, Prepaid; ``shipped`` ← Shipped, Partially Shipped,
Invoiced (an 810 invoice follows the 856 ship notice); ``delivered`` ← Delivered, Received,
Closed; ``cancelled`` ← Cancelled, Canceled, Rejected. An unknown status is rejected
(``unknown_status``) rather than guessed. The Status Date dates the lifecycle event of the
status (shipped_at, delivered_at, cancelled_at or paid_at).

Times: dates or ``YYYY-MM-DD HH:MM:SS``, optionally with an offset; without one they are
read in ``ASSUME_TZ`` (UTC); a date alone is taken at 12:00.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from assets.ingest.adapters._orders import (
    col_or_null,
    combine_rejects,
    finish,
    local_text,
    money_text,
    order_rows,
    targeted,
    targets,
    write_csv_files,
    without,
)
from assets.ingest.adapters.base import FILE, Adapter, AdapterContext, Mapped
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
    "PO Number", "PO Date", "Buyer ID", "Buyer Name", "Line Number", "Buyer Item Number",
    "Vendor Item Number", "Description", "Quantity Ordered", "UOM", "Units Per UOM",
    "Unit Price", "Currency", "Requested Ship Date", "Ship To Name", "Ship To Address",
    "Ship To City", "Ship To Postal Code", "Ship To Country", "Status", "Status Date",
    "Contact Email",
)  # fmt: skip
REQUIRED = (
    "PO Number", "PO Date", "Buyer ID", "Line Number", "Vendor Item Number",
    "Quantity Ordered", "Unit Price", "Currency", "Status",
)  # fmt: skip
PII = ("Buyer ID", "Buyer Name", "Ship To Name", "Ship To Address", "Ship To City",
       "Ship To Postal Code", "Contact Email")

TIME_FORMATS = ("%Y-%m-%d %H:%M:%S%#z", "%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")
ASSUME_TZ = "UTC"

STATUSES = {
    "new": "placed", "open": "placed", "acknowledged": "placed", "accepted": "placed",
    "backordered": "placed", "paid": "paid", "prepaid": "paid", "shipped": "shipped",
    "partially shipped": "shipped", "invoiced": "shipped", "delivered": "delivered",
    "received": "delivered", "closed": "delivered", "cancelled": "cancelled",
    "canceled": "cancelled", "rejected": "cancelled",
}  # fmt: skip


def map_orders(frame: pl.DataFrame, ctx: AdapterContext) -> Mapped:
    """Flattened 850 PO lines → canonical ``order_lines``."""
    df = frame.with_columns(
        col_or_null(frame, c).alias(c)
        for c in ("UOM", "Units Per UOM", "Requested Ship Date", "Status Date",
                  "Ship To Postal Code", "Ship To Country")
    )
    raw_status = blank_to_null(pl.col("Status")).str.to_lowercase()
    status = raw_status.replace_strict(STATUSES, default=None, return_dtype=pl.String)
    uom = blank_to_null(pl.col("UOM")).str.to_uppercase()
    per_uom = pl.when(uom.is_in(["CA", "CS", "CASE", "PK", "PACK"])).then(
        to_int(pl.col("Units Per UOM"))
    ).otherwise(pl.lit(1, dtype=pl.Int64))
    qty_uom = to_int(pl.col("Quantity Ordered"))
    quantity = qty_uom * per_uom
    price = to_number(pl.col("Unit Price")) / per_uom
    event_at = to_utc(pl.col("Status Date"), TIME_FORMATS, ASSUME_TZ)
    sku = blank_to_null(pl.col("Vendor Item Number"))
    rows = df.lazy().with_columns(
        channel_id=pl.lit(ctx.channel_id),
        order_id=blank_to_null(pl.col("PO Number")),
        line_id=blank_to_null(pl.col("Line Number")).str.replace(r"^0+(\d)", "${1}"),
        channel_sku=sku,
        sku=sku,
        quantity=pl.when(quantity > 0).then(quantity),
        unit_price=pl.when(price >= 0).then(price),
        currency=blank_to_null(pl.col("Currency")).str.to_uppercase(),
        line_amount=quantity * price,
        status=status,
        ordered_at=to_utc(pl.col("PO Date"), TIME_FORMATS, ASSUME_TZ),
        paid_at=pl.when(status == "paid").then(event_at),
        shipped_at=pl.when(status == "shipped").then(event_at),
        delivered_at=pl.when(status == "delivered").then(event_at),
        cancelled_at=pl.when(status == "cancelled").then(event_at),
        promised_ship_by=to_utc(pl.col("Requested Ship Date"), TIME_FORMATS, ASSUME_TZ),
        ship_country=country_iso2(pl.col("Ship To Country")),
    ).collect()
    rejects = combine_rejects(
        rejects_where(
            df, raw_status.is_not_null() & status.is_null(), "unknown_status",
            pl.format("Status {} is not a known PO status", quoted(pl.col("Status"))),
        ),
        rejects_where(
            df, per_uom.is_null(), "units_per_uom_missing",
            pl.format("UOM {} needs Units Per UOM (found {})", quoted(pl.col("UOM")),
                      quoted(pl.col("Units Per UOM"))),
        ),
        rejects_where(
            df, pl.col("Quantity Ordered").is_not_null() & qty_uom.is_null(),
            "quantity_not_a_number",
            pl.format("Quantity Ordered {} is not a whole number",
                      quoted(pl.col("Quantity Ordered"))),
        ),
        rejects_where(
            df, qty_uom <= 0, "quantity_not_positive",
            pl.format("Quantity Ordered {} is not positive", quoted(pl.col("Quantity Ordered"))),
        ),
        rejects_where(
            df, blank_to_null(pl.col("Unit Price")).is_not_null()
            & to_number(pl.col("Unit Price")).is_null(),
            "price_not_a_number",
            pl.format("Unit Price {} is not a number", quoted(pl.col("Unit Price"))),
        ),
    )
    out = finish(
        rows,
        customer_identity=blank_to_null(pl.col("Buyer ID")),
        postal_code=pl.col("Ship To Postal Code"),
        postal_chars=ctx.postal_prefix_chars,
        salt=ctx.pii_salt,
    )
    return Mapped(rows=without(out, rejects), rejects=rejects)


_WRITE_STATUS = {"placed": "Acknowledged", "paid": "Paid", "shipped": "Shipped",
                 "delivered": "Delivered", "cancelled": "Cancelled"}


def write_orders(frame: pl.DataFrame, path: Path) -> None:
    """Write export rows as the flattened 850 CSV (each unit line as UOM EA)."""
    write_many(targeted(frame, path))


def write_many(frame: pl.DataFrame) -> None:
    """:func:`write_orders` for many files at once: each row goes to the file in its
    ``source_file`` column."""
    files = targets(frame)
    df = order_rows(frame)
    fmt = "%Y-%m-%d %H:%M:%S"
    event = (
        pl.when(pl.col("status") == "cancelled").then(pl.col("cancelled_at"))
        .when(pl.col("status") == "delivered").then(pl.col("delivered_at"))
        .when(pl.col("status") == "shipped").then(pl.col("shipped_at"))
        .when(pl.col("status") == "paid").then(pl.col("paid_at"))
    )
    out = df.select(
        pl.col(FILE),
        **{
            "PO Number": pl.col("order_id"),
            "PO Date": local_text(pl.col("ordered_at"), fmt, ASSUME_TZ),
            "Buyer ID": pl.col("customer_id"),
            "Buyer Name": pl.col("customer_name"),
            "Line Number": pl.col("line_id").cast(pl.String),
            "Buyer Item Number": pl.lit("BP-") + pl.col("channel_sku"),
            "Vendor Item Number": pl.col("channel_sku"),
            "Description": pl.col("product_name"),
            "Quantity Ordered": pl.col("quantity").cast(pl.String),
            "UOM": pl.lit("EA"),
            "Units Per UOM": pl.lit("1"),
            "Unit Price": money_text(pl.col("unit_price"), decimals=4),
            "Currency": pl.col("currency"),
            "Requested Ship Date": local_text(pl.col("promised_ship_by"), fmt, ASSUME_TZ),
            "Ship To Name": pl.col("customer_name"),
            "Ship To Address": pl.col("ship_address1"),
            "Ship To City": pl.col("ship_city"),
            "Ship To Postal Code": pl.col("ship_postal_code"),
            "Ship To Country": pl.col("ship_country"),
            "Status": pl.col("status").replace_strict(_WRITE_STATUS, default="Open"),
            "Status Date": local_text(event, fmt, ASSUME_TZ),
            "Contact Email": pl.col("customer_email"),
        }
    )
    write_csv_files(out, files)


ADAPTER = Adapter(
    name="b2b_purchase_orders",
    entity="order_lines",
    folder="orders",
    file_globs=("b2b-orders*.csv", "purchase-orders*.csv", "po-*.csv"),
    required_columns=REQUIRED,
    map=map_orders,
    pii_columns=PII,
    write=write_orders,
    write_many=write_many,
    doc="B2B purchase orders as a flattened EDI 850 CSV (one row per PO line).",
)
