"""Store point of sale: Square's "Item Sales" detail export CSV.

Where: Square Dashboard → Reports → Item Sales → Export → "Item Detail CSV". Square names
it ``items-2024-03-01-2024-03-02.csv``; our daily exports ``items-YYYY-MM-DD.csv``.

Columns (header spellings from real exports as quoted by open-source tools that read this
file; newer files append more columns, older ones lack the last few): ``Date, Time, Time
Zone, Category, Item, Qty, Price Point Name, SKU, Modifiers Applied, Gross Sales,
Discounts, Net Sales, Tax, Transaction ID, Payment ID, Device Name, Notes, Details, Event
Type, Location, Dining Option, Customer ID, Customer Name, Customer Reference ID, Unit,
Count, Itemization Type, Commission, Employee, Fulfillment Note, Channel, Token, Card Brand,
PAN Suffix``. One row per item sold (a quantity of one catalogue item in one sale).

Newer exports add ``GTIN``, ``Fulfillment Note``, ``Channel``, ``Token`` (and drop
``Commission``, ``Employee``); other spellings of the columns read are ``HEADER_ALIASES``.

Mapping:
- ``order_id`` = Transaction ID; ``line_id`` = ``<item key>#<n>``: the row's SKU (or
  fallback key) and its count among the same item's sale rows of the transaction, in file
  order (Square has no item-row id; a position would move lines onto other SKUs when a
  corrected export drops a row);
- ``sku`` = SKU, else ``item:<Item>|<Price Point Name>`` (a catalogue without SKUs), which
  a channel listing maps to our SKU;
- a POS sale is placed, paid and handed over at once: ``status`` = ``delivered`` and
  ``ordered_at`` = ``paid_at`` = ``shipped_at`` = ``delivered_at`` = the sale time (the goods
  left the shelf then; shipped is set so no stock stays allocated to a finished sale);
  ``fulfilled_by`` = ``store``: a sale over the counter is not a shipment;
- ``quantity`` = Qty (Square writes ``1.0``); ``unit_price`` = Gross Sales ÷ Qty;
  ``line_amount`` = Net Sales (gross − discounts, before tax);
- money carries the account currency's sign (``$8.00``, ``€8.00``, ``-$1.00``); the currency
  is read from it: ``€`` EUR, ``£`` GBP, ``¥`` JPY, ``$`` → ``DOLLAR_CURRENCY`` (USD; Square
  prints a bare ``$`` for CAD and AUD accounts too: change it for such a store);
- ``location_id`` = Location as written (name the Square location like the shelfwise
  location id, or map it before landing); ``customer_key`` = hash of Customer ID.

Time: Date ``2024-03-01`` + Time ``13:05:09`` are wall-clock time in the row's Time Zone,
which Square writes as a Rails zone name (``Eastern Time (US & Canada)``, ``Berlin``,
``London``): mapped to IANA (``ZONES``; an IANA name of the zone database is accepted as
is). A row with an unknown zone is rejected as ``unknown_time_zone``; the other rows load.

Skipped (not data; counted as ``rows_skipped``):
- ``voided_item``: Item ends in `` (Voided)`` with $0.00 (rung up and taken back);
- ``not_a_product``: a custom amount (``Itemization Type`` ``Custom Amount``, or Item
  ``Custom Amount`` with a blank Itemization Type and no SKU: a keyed-in amount, no item).

Rejected:
- ``refund_not_demand``: Event Type ``Refund`` rows (negative Qty). A refund is a return:
  it belongs to the returns table, and returns are not negative demand (DESIGN.md);
- ``sku_missing``: neither SKU nor Item: nothing identifies what was sold;
- ``quantity_not_a_number`` / ``quantity_not_positive`` / ``price_not_a_number``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from zoneinfo import available_timezones

import polars as pl

from assets.ingest.adapters._orders import (
    canonical_headers,
    case_variants,
    col_or_null,
    combine_rejects,
    content_line_id,
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
    quoted,
    rejects_where,
    to_int,
    to_number,
    to_utc,
)

HEADER = (
    "Date", "Time", "Time Zone", "Category", "Item", "Qty", "Price Point Name", "SKU",
    "Modifiers Applied", "Gross Sales", "Discounts", "Net Sales", "Tax", "Transaction ID",
    "Payment ID", "Device Name", "Notes", "Details", "Event Type", "Location",
    "Dining Option", "Customer ID", "Customer Name", "Customer Reference ID", "Unit", "Count",
    "Itemization Type", "Commission", "Employee", "Fulfillment Note", "Channel", "Token",
    "Card Brand", "PAN Suffix",
)  # fmt: skip
REQUIRED = (
    "Date", "Time", "Time Zone", "Qty", "SKU", "Gross Sales", "Net Sales", "Transaction ID",
    "Event Type", "Location",
)  # fmt: skip
PII = case_variants((
    "Customer ID", "Customer Name", "Customer Reference ID", "Notes", "PAN Suffix", "Employee",
    "Fulfillment Note", "Recipient Name", "Recipient Email", "Recipient Phone",
    "Recipient Address",
))  # fmt: skip

# Other spellings of the columns the mapping reads (canonical = the Item Detail CSV as
# exported since about 2020). Case and surrounding spaces never matter. These are the
# wordings older exports and Square's other item reports use for the same fields; the
# column set of a newer export (GTIN, Channel, Token, Card Brand, ...) needs no alias.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "Qty": ("Quantity", "Units Sold"),
    "Item": ("Item Name",),
    "Price Point Name": ("Variation Name", "Variation"),
    "SKU": ("Variation SKU", "Item SKU"),
    "Location": ("Location Name",),
    "Time Zone": ("Timezone",),
}

DOLLAR_CURRENCY = "USD"
# Square's (Rails) time-zone names → IANA
ZONES = {
    "Pacific Time (US & Canada)": "America/Los_Angeles",
    "Mountain Time (US & Canada)": "America/Denver",
    "Central Time (US & Canada)": "America/Chicago",
    "Eastern Time (US & Canada)": "America/New_York",
    "Arizona": "America/Phoenix",
    "Alaska": "America/Anchorage",
    "Hawaii": "Pacific/Honolulu",
    "Atlantic Time (Canada)": "America/Halifax",
    "Newfoundland": "America/St_Johns",
    "UTC": "UTC",
    "London": "Europe/London",
    "Edinburgh": "Europe/London",
    "Dublin": "Europe/Dublin",
    "Lisbon": "Europe/Lisbon",
    "Madrid": "Europe/Madrid",
    "Paris": "Europe/Paris",
    "Brussels": "Europe/Brussels",
    "Amsterdam": "Europe/Amsterdam",
    "Berlin": "Europe/Berlin",
    "Bern": "Europe/Zurich",
    "Zurich": "Europe/Zurich",
    "Vienna": "Europe/Vienna",
    "Rome": "Europe/Rome",
    "Copenhagen": "Europe/Copenhagen",
    "Stockholm": "Europe/Stockholm",
    "Warsaw": "Europe/Warsaw",
    "Tokyo": "Asia/Tokyo",
    "Sydney": "Australia/Sydney",
    "Melbourne": "Australia/Melbourne",
    "Brisbane": "Australia/Brisbane",
    "Perth": "Australia/Perth",
    "Adelaide": "Australia/Adelaide",
    "Auckland": "Pacific/Auckland",
}
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%y %H:%M:%S")
WRITE_TZ = "Europe/Berlin"  # the demo store's zone for written files


@lru_cache(maxsize=1)
def _iana_names() -> frozenset[str]:
    return frozenset(available_timezones())


def _iana(zone: str | None) -> str | None:
    """IANA name of a Square zone name (or of an IANA name); None when unknown.

    An unknown name must not reach the time conversion: Polars refuses it for the whole
    column, which would fail every row of the file instead of the rows that carry it.
    """
    if zone is None:
        return None
    zone = zone.strip()
    return ZONES.get(zone) or (zone if zone in _iana_names() else None)


def currency_of(amount: pl.Expr) -> pl.Expr:
    """ISO currency of a Square amount from its sign (null for a bare number)."""
    text = blank_to_null(amount)
    return (
        pl.when(text.str.contains("€")).then(pl.lit("EUR"))
        .when(text.str.contains("£")).then(pl.lit("GBP"))
        .when(text.str.contains("¥")).then(pl.lit("JPY"))
        .when(text.str.contains(r"\$")).then(pl.lit(DOLLAR_CURRENCY))
    )


def map_orders(frame: pl.DataFrame, ctx: AdapterContext) -> Mapped:
    """Item Sales detail rows → canonical ``order_lines`` (sales only; refunds rejected,
    voided items and custom amounts skipped)."""
    frame = with_file(canonical_headers(frame, ADAPTER))
    df = frame.with_columns(
        col_or_null(frame, c).alias(c)
        for c in ("Itemization Type", "Customer ID", "Item", "Discounts", "Price Point Name")
    )
    event = blank_to_null(pl.col("Event Type")).str.to_lowercase()
    is_sale = event.is_null() | (event != "refund")
    txn = blank_to_null(pl.col("Transaction ID"))
    item = blank_to_null(pl.col("Item"))
    sku = pl.coalesce(
        blank_to_null(pl.col("SKU")), fallback_sku("item", item, pl.col("Price Point Name"))
    )
    itemization = blank_to_null(pl.col("Itemization Type")).str.to_lowercase()
    # a keyed-in amount: Square writes "Custom Amount" as the item name and, in many
    # exports, leaves Itemization Type blank
    custom = (itemization == "custom amount") | (
        (itemization.is_null() | (itemization == "custom amount"))
        & (item.is_null() | item.str.to_lowercase().is_in(["custom amount", "custom"]))
        & blank_to_null(pl.col("SKU")).is_null()
    )
    voided = item.str.contains(r"(?i)\s*\(voided\)$")
    # Square has no id of its own per item row: the line id is the row's item key and its
    # count among the same item's sale rows of the transaction (content_line_id), so a row
    # removed from a corrected export does not shift the other rows onto other SKUs (voids
    # and custom amounts are not counted: a void before the sale must not renumber it)
    df = df.with_columns(
        _sale=is_sale, _txn=txn, _sku=sku, _void=voided.fill_null(False),
        _custom=custom.fill_null(False),
    ).with_columns(_counted=pl.col("_sale") & ~pl.col("_void") & ~pl.col("_custom"))
    df = df.with_columns(
        _line=pl.when(pl.col("_counted")).then(
            content_line_id(pl.col("_sku"), [FILE, "_txn", "_counted"])
        )
    )
    # wall-clock time per row in its own zone: one expression per distinct zone in the file
    stamp = pl.concat_str([blank_to_null(pl.col("Date")), blank_to_null(pl.col("Time"))],
                          separator=" ")
    zone_text = blank_to_null(pl.col("Time Zone"))
    when = pl.lit(None, dtype=pl.Datetime("us"))
    zones = df.select(zone_text.unique()).to_series().drop_nulls().sort().to_list()
    for name in zones:
        tz = _iana(name)
        if tz is not None:
            when = pl.when(zone_text == name).then(to_utc(stamp, TIME_FORMATS, tz)).otherwise(when)
    known_zone = zone_text.is_in([z for z in zones if _iana(z) is not None])

    quantity = to_int(pl.col("Qty"))
    gross = to_number(pl.col("Gross Sales"))
    net = to_number(pl.col("Net Sales"))
    currency = pl.coalesce(currency_of(pl.col("Gross Sales")), currency_of(pl.col("Net Sales")))
    rows = df.lazy().with_columns(
        channel_id=pl.lit(ctx.channel_id),
        order_id=pl.col("_txn"),
        line_id=pl.col("_line"),
        channel_sku=pl.col("_sku"),
        sku=pl.col("_sku"),
        quantity=pl.when(quantity > 0).then(quantity),
        unit_price=pl.when((quantity > 0) & (gross >= 0)).then(gross / quantity),
        currency=currency,
        line_amount=net,
        status=pl.lit("delivered"),
        ordered_at=when,
        paid_at=when,
        shipped_at=when,
        delivered_at=when,
        location_id=blank_to_null(pl.col("Location")),
        fulfilled_by=pl.lit("store"),
    ).collect()
    rejects = combine_rejects(
        rejects_where(
            df, pl.col("_void"), "voided_item",
            pl.format("Item {} was voided at the till (Gross Sales {}): not a sale",
                      quoted(pl.col("Item")), quoted(pl.col("Gross Sales"))),
        ),
        rejects_where(
            df, pl.col("_custom"), "not_a_product",
            pl.format("custom amount {} ({}) is a keyed-in amount, not an item",
                      quoted(pl.col("Item")), quoted(pl.col("Gross Sales"))),
        ),
        rejects_where(
            df, ~pl.col("_sale"), "refund_not_demand",
            pl.format("Event Type 'Refund' (Qty {}) of transaction {}: refunds are returns, "
                      "recorded in the returns table, not negative demand",
                      quoted(pl.col("Qty")), quoted(pl.col("Transaction ID"))),
        ),
        rejects_where(
            df, pl.col("_sku").is_null(), "sku_missing",
            pl.format("SKU and Item are blank: nothing identifies what was sold"),
        ),
        rejects_where(
            df, zone_text.is_not_null() & ~known_zone, "unknown_time_zone",
            pl.format("Time Zone {} is not a Square zone name nor an IANA zone (add it to "
                      "ZONES in assets/ingest/adapters/pos.py)", quoted(pl.col("Time Zone"))),
        ),
        rejects_where(
            df, pl.col("Qty").is_not_null() & quantity.is_null(), "quantity_not_a_number",
            pl.format("Qty {} is not a whole number", quoted(pl.col("Qty"))),
        ),
        rejects_where(
            df, quantity <= 0, "quantity_not_positive",
            pl.format("Qty {} on a sale row is not a positive number of units",
                      quoted(pl.col("Qty"))),
        ),
        rejects_where(
            df, blank_to_null(pl.col("Gross Sales")).is_not_null() & gross.is_null(),
            "price_not_a_number",
            pl.format("Gross Sales {} is not an amount", quoted(pl.col("Gross Sales"))),
        ),
    )
    out = finish(
        rows,
        customer_identity=blank_to_null(pl.col("Customer ID")),
        postal_code=None,
        postal_chars=ctx.postal_prefix_chars,
        salt=ctx.pii_salt,
    )
    return Mapped(rows=without(out, rejects), rejects=rejects)


_SIGNS = {"EUR": "€", "GBP": "£", "JPY": "¥", "USD": "$", "CAD": "$", "AUD": "$"}
_RAILS = {v: k for k, v in reversed(ZONES.items())}


def write_orders(frame: pl.DataFrame, path: Path) -> None:
    """Write export rows as a Square Item Sales detail CSV (sale rows; zone ``WRITE_TZ``).

    Only finished sales appear in this export: cancelled lines are left out.
    """
    write_many(targeted(frame, path))


def write_many(frame: pl.DataFrame) -> None:
    """:func:`write_orders` for many files at once: each row goes to the file in its
    ``source_file`` column."""
    files = targets(frame)
    df = order_rows(frame.filter(pl.col("status") != "cancelled")).with_row_index("_i")
    sign = pl.col("currency").replace_strict(_SIGNS, default="$")

    def amount(expr: pl.Expr) -> pl.Expr:
        neg = pl.when(expr < 0).then(pl.lit("-")).otherwise(pl.lit(""))
        return neg + sign + money_text(expr.abs(), thousands=True)

    gross = pl.col("quantity") * pl.col("unit_price")
    discount = pl.col("discount_amount").fill_null(0)
    # a catalogue item without SKU is listed under its fallback key: write what the till
    # shows for it (blank SKU, the item and its variation)
    keyed = pl.col("channel_sku").str.starts_with("item:")
    key = pl.col("channel_sku").str.strip_prefix("item:")
    out = df.select(
        pl.col(FILE), pl.col("order_id").alias("_o"), pl.col("_i"), pl.lit(0).alias("_k"),
        **{
            "Date": local_text(pl.col("ordered_at"), "%Y-%m-%d", WRITE_TZ),
            "Time": local_text(pl.col("ordered_at"), "%H:%M:%S", WRITE_TZ),
            "Time Zone": pl.lit(_RAILS.get(WRITE_TZ, WRITE_TZ)),
            "Category": pl.lit(None, dtype=pl.String),
            "Item": pl.when(keyed).then(key.str.replace(r"\|[^|]*$", ""))
            .otherwise(pl.col("product_name")),
            "Qty": pl.col("quantity").cast(pl.String) + pl.lit(".0"),
            "Price Point Name": pl.when(keyed).then(key.str.extract(r"\|([^|]*)$", 1))
            .otherwise(pl.lit("Regular")),
            "SKU": pl.when(keyed).then(None).otherwise(pl.col("channel_sku")),
            "Modifiers Applied": pl.lit(None, dtype=pl.String),
            "Gross Sales": amount(gross),
            "Discounts": amount(-discount),
            "Net Sales": amount(gross - discount),
            "Tax": amount(pl.col("tax_amount").fill_null(0) / pl.len().over(FILE, "order_id")),
            "Transaction ID": pl.col("order_id"),
            "Payment ID": pl.lit("P") + pl.col("order_id"),
            "Device Name": pl.lit("Counter 1"),
            "Notes": pl.lit(None, dtype=pl.String),
            "Details": pl.lit(None, dtype=pl.String),
            "Event Type": pl.lit("Payment"),
            "Location": pl.col("location_id"),
            "Dining Option": pl.lit(None, dtype=pl.String),
            "Customer ID": pl.col("customer_id"),
            "Customer Name": pl.col("customer_name"),
            "Customer Reference ID": pl.lit(None, dtype=pl.String),
            "Unit": pl.lit(None, dtype=pl.String),
            "Count": pl.lit(None, dtype=pl.String),
            "Itemization Type": pl.lit("Physical Good"),
            "Commission": amount(pl.lit(0.0)),
            "Employee": pl.lit(None, dtype=pl.String),
            "Fulfillment Note": pl.lit(None, dtype=pl.String),
            "Channel": pl.lit("Point of Sale"),
            "Token": pl.lit(None, dtype=pl.String),
            "Card Brand": pl.lit("Visa"),
            "PAN Suffix": pl.lit(None, dtype=pl.String),
        }
    )
    write_csv_files(_with_till_extras(out).drop("_o", "_i", "_k"), files)


def _with_till_extras(out: pl.DataFrame) -> pl.DataFrame:
    """The rows a real till export carries besides sales, so the demo exercises them: in
    transactions whose id ends in 3 the first item is also rung up and voided (``<name>
    (Voided)``, $0.00), in those ending in 7 a custom amount is keyed in (``Custom Amount``,
    blank Itemization Type and SKU). Deterministic; neither is an order line."""
    first = out.filter(pl.col("_i") == pl.col("_i").min().over(FILE, "_o"))
    zero = pl.col("Commission")  # "$0.00" with the store's currency sign
    voids = first.filter(pl.col("_o").str.ends_with("3")).with_columns(
        pl.lit(1).alias("_k"),
        Item=pl.col("Item") + pl.lit(" (Voided)"),
        Qty=pl.lit("1.0"),
        **{c: zero for c in ("Gross Sales", "Discounts", "Net Sales", "Tax")},
    )
    customs = first.filter(pl.col("_o").str.ends_with("7")).with_columns(
        pl.lit(2).alias("_k"),
        Category=pl.lit(None, dtype=pl.String),
        Item=pl.lit("Custom Amount"),
        Qty=pl.lit("1.0"),
        SKU=pl.lit(None, dtype=pl.String),
        **{"Price Point Name": pl.lit(None, dtype=pl.String),
           "Gross Sales": zero.str.replace(r"0\.00$", "2.50"),
           "Net Sales": zero.str.replace(r"0\.00$", "2.50"),
           "Discounts": zero,
           "Tax": zero,
           "Itemization Type": pl.lit(None, dtype=pl.String)},
    )
    return pl.concat([out, voids, customs]).sort(FILE, "_o", "_k", "_i")


ADAPTER = Adapter(
    name="square_item_sales",
    entity="order_lines",
    folder="orders",
    file_globs=("items-*.csv", "item-sales*.csv"),
    required_columns=REQUIRED,
    map=map_orders,
    pii_columns=PII,
    write=write_orders,
    write_many=write_many,
    doc="Square Item Sales detail CSV: store sales (refund rows rejected: returns).",
    # voided items and custom amounts are what a till records, not bad records
    skip_rules=("voided_item", "not_a_product"),
    # every header name in any case, and the other spellings the platform writes
    header_aliases={**dict.fromkeys(HEADER, ()), **HEADER_ALIASES},
)
