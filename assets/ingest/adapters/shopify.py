"""Shopify: the orders export CSV (Admin → Orders → Export → "Plain CSV file").

Real file name ``orders_export_1.csv`` (``_2``, ... when Shopify splits a large export); our
daily exports are ``orders_export_YYYY-MM-DD.csv``.

Layout (header names as Shopify writes them; see Shopify's order export help and the
column references of Matrixify/Excelify and open-source importers that read this file):
``Name, Email, Financial Status, Paid at, Fulfillment Status, Fulfilled at, Accepts
Marketing, Currency, Subtotal, Shipping, Taxes, Total, Discount Code, Discount Amount,
Shipping Method, Created at, Lineitem quantity, Lineitem name, Lineitem price, Lineitem
compare at price, Lineitem sku, Lineitem requires shipping, Lineitem taxable, Lineitem
fulfillment status, Billing Name, Billing Street, Billing Address1, ..., Shipping Zip,
Shipping Province, Shipping Country, Shipping Phone, Notes, Note Attributes, Cancelled at,
Payment Method, Payment Reference, Refunded Amount, Vendor, Outstanding Balance, Employee,
Location, Device ID, Id, Tags, Risk Level, Source, Lineitem discount, Tax 1 Name, ...``

Newer exports append ``Tax 2..5 Name/Value, Phone, Receipt Number, Duties, Billing Province
Name, Shipping Province Name, Payment ID, Payment Terms Name, Next Payment Due At, Payment
References``; files with fewer columns load as long as the required ones are there.

Quirks handled:
- one row per line item; order-level fields (Email, statuses, times, money, addresses) are
  only on the FIRST row of an order: they are forward-filled per ``Name`` (vectorised, a
  window over the order);
- ``Id`` is the ORDER id; the export has no line item id. The line id is the line's own
  key (:func:`line_key`): its channel key, ``<key>#2`` for the same key again in the order.
  An order edit that removes a line removes that key; the others keep theirs;
- a line without ``Lineitem sku`` gets the channel key ``name:<Lineitem name>`` (normalised,
  :func:`name_key`) that a channel listing (or the products export) maps to a SKU; tips,
  gift cards, gift wrap and shipping lines without SKU are not products: skipped with their
  rule (``SKIP_RULES``), counted in ``rows_skipped``;
- times carry an offset (``2024-03-01 10:15:00 -0500``): honoured, stored in UTC;
- ``Shipping Zip`` may carry Excel's leading apostrophe (``'75008``): ignored by the
  postal prefix; ``Shipping Country`` is an ISO-2 code (names are mapped too).

Status (canonical ← Shopify):
- ``cancelled`` ← ``Cancelled at`` set, or Financial Status ``voided``/``expired`` (the
  payment authorisation was voided or lapsed: the order will not ship), or ``refunded`` /
  ``voided`` on a line not fulfilled (refunded before shipping: never allocated, not demand);
- ``shipped`` ← ``Lineitem fulfillment status`` = ``fulfilled`` or, when the line status is
  blank, order Fulfillment Status = ``fulfilled`` — a ``refunded`` order included (refunded
  after shipping: the sale happened; the export has no refund date, quantity or line, so the
  return itself comes from the returns feed). The export has no delivery information;
- ``paid`` ← Financial Status ``paid``, ``partially_paid``, ``partially_refunded``;
- ``placed`` ← anything else (``pending``, ``authorized``, blank).

Amounts: ``unit_price`` = ``Lineitem price``; ``line_amount`` = quantity × price −
``Lineitem discount`` − the line's share of the order's discount. Discount codes sit in the
order-level ``Discount Amount`` (their lines say ``Lineitem discount`` 0.00): the order's
discount not already on its lines, capped by what ``Subtotal`` (after discounts, before
shipping, taxes and tips) shows was taken off the goods, is spread over the product lines
pro rata to their value in whole cents (``_orders.allocate_cents``). Shipping, taxes and tips
are order-level and not kept. Customer key: the salted hash of ``Email``.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from assets.ingest.adapters._orders import (
    allocate_cents,
    combine_rejects,
    without,
    finish,
    local_text,
    money_text,
    order_rows,
    targeted,
    targets,
    write_csv_files,
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

# Other spellings of the columns shelfwise reads (canonical -> variants; the reader also
# ignores case and surrounding spaces). Shopify has kept the orders export's names since the
# old admin (newer exports only ADD columns: Payment ID, Payment Terms Name, Next Payment Due
# At, Payment References, Duties, ...); what varies is the "Lineitem"/"Line item" spelling
# in files re-saved by apps and spreadsheets: both are accepted.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "Lineitem quantity": ("Line item quantity",),
    "Lineitem name": ("Line item name",),
    "Lineitem price": ("Line item price",),
    "Lineitem sku": ("Line item sku",),
    "Lineitem discount": ("Line item discount",),
    "Lineitem fulfillment status": ("Line item fulfillment status",),
}

TIME_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S")
# Shopify always prints an offset; a hand-edited file without one is read as UTC.
ASSUME_TZ = "UTC"

# Order-level columns Shopify fills only on an order's first row.
ORDER_LEVEL = (
    "Email",
    "Subtotal",
    "Discount Amount",
    "Financial Status",
    "Paid at",
    "Fulfillment Status",
    "Fulfilled at",
    "Currency",
    "Created at",
    "Cancelled at",
    "Shipping Zip",
    "Shipping Country",
)

# Line columns a file may lack (older or trimmed exports): read as blank.
OPTIONAL_LINE = ("Lineitem discount", "Lineitem fulfillment status", "Lineitem name")

PII = (
    "Email",
    "Billing Name",
    "Billing Street",
    "Billing Address1",
    "Billing Address2",
    "Billing Company",
    "Billing City",
    "Billing Zip",
    "Billing Phone",
    "Shipping Name",
    "Shipping Street",
    "Shipping Address1",
    "Shipping Address2",
    "Shipping Company",
    "Shipping City",
    "Shipping Zip",
    "Shipping Phone",
    "Phone",
    "Notes",
    "Note Attributes",
    "Payment Reference",
)

REQUIRED = (
    "Name",
    "Email",
    "Financial Status",
    "Fulfillment Status",
    "Currency",
    "Created at",
    "Lineitem quantity",
    "Lineitem price",
    "Lineitem sku",
)


# Lines that are not products (named by Shopify or by the shop's apps), recognised by their
# `Lineitem name` when the line has no SKU: skipped with a named rule, never demand.
NON_PRODUCT_LINES = (
    ("tip_line", r"^tip(\b|$)"),
    ("gift_card_line", r"gift ?card"),
    ("gift_wrap_line", r"gift ?wrap"),
    ("shipping_line", r"^(shipping|delivery|postage)(\b|$)"),
)
SKIP_RULES = tuple(rule for rule, _ in NON_PRODUCT_LINES)

# The prefix of the fallback channel key of a line without a SKU (see :func:`name_key`).
NAME_KEY = "name:"


def _opt(frame: pl.DataFrame, name: str) -> pl.Expr:
    return pl.col(name) if name in frame.columns else pl.lit(None, dtype=pl.String)


def name_key(name: pl.Expr) -> pl.Expr:
    """The fallback channel key of a line without a SKU: ``name:`` + its `Lineitem name`
    (product title and variant, ``"Crew Tee - Black / S"``), trimmed, lower-case, inner
    whitespace collapsed: ``name:crew tee - black / s``. A channel_listings row maps it to a
    SKU; the Shopify products adapter gives a variant without a SKU this same key."""
    return pl.lit(NAME_KEY) + blank_to_null(name).str.to_lowercase().str.replace_all(
        r"\s+", " "
    )


def line_key(key: str, by: list[str]) -> pl.Expr:
    """A stable line id from the line's content (Shopify's export has no line item id):
    the channel key, and for its 2nd, 3rd ... line in the same order ``<key>#2``, ``#3``
    (in file order). An order edit that removes a line removes that key only; the other
    lines keep theirs (a positional id would shift them onto other SKUs)."""
    n = pl.int_range(1, pl.len() + 1).over([*by, key], order_by=LINE)
    again = pl.col(key) + pl.lit("#") + n.cast(pl.String)
    return pl.when(n == 1).then(pl.col(key)).otherwise(again)


def map_orders(frame: pl.DataFrame, ctx: AdapterContext) -> Mapped:
    """Shopify order export rows → canonical ``order_lines`` (one row per product line)."""
    order = blank_to_null(pl.col("Name"))
    frame = with_file(frame)
    df = frame.with_columns(
        _opt(frame, c).alias(c) for c in (*ORDER_LEVEL, *OPTIONAL_LINE)
    ).with_columns(_order=order)
    # Order-level fields: the first row of the order carries them, the others are blank.
    df = df.with_columns(
        blank_to_null(pl.col(c)).drop_nulls().first().over(FILE, "_order").alias(c)
        for c in ORDER_LEVEL
    )

    financial = pl.col("Financial Status").str.to_lowercase()
    line_fulfilment = blank_to_null(pl.col("Lineitem fulfillment status")).str.to_lowercase()
    fulfilled = pl.coalesce(line_fulfilment, pl.col("Fulfillment Status").str.to_lowercase())
    times = {
        "ordered_at": to_utc(pl.col("Created at"), TIME_FORMATS, ASSUME_TZ),
        "paid_at": to_utc(pl.col("Paid at"), TIME_FORMATS, ASSUME_TZ),
        "cancelled_at": to_utc(pl.col("Cancelled at"), TIME_FORMATS, ASSUME_TZ),
        "shipped_at": to_utc(pl.col("Fulfilled at"), TIME_FORMATS, ASSUME_TZ),
    }
    quantity = to_int(pl.col("Lineitem quantity"))
    price = to_number(pl.col("Lineitem price"))
    line_discount = to_number(pl.col("Lineitem discount")).fill_null(0.0)
    sku = blank_to_null(pl.col("Lineitem sku"))
    item = blank_to_null(pl.col("Lineitem name")).str.to_lowercase()
    skip_rule = pl.lit(None, dtype=pl.String)
    for rule, pattern in reversed(NON_PRODUCT_LINES):
        named = sku.is_null() & item.str.contains(pattern)
        skip_rule = pl.when(named).then(pl.lit(rule)).otherwise(skip_rule)
    df = df.with_columns(
        _skip=skip_rule,
        _key=pl.coalesce(sku, name_key(pl.col("Lineitem name"))),
        _gross=quantity * price,
        _line_discount=line_discount,
    )
    product = pl.col("_skip").is_null()

    # Order-level discount (discount codes): `Discount Amount` holds every discount of the
    # order; what `Lineitem discount` already put on lines is not taken twice. A free-shipping
    # code is in `Discount Amount` too but not in the goods: `Subtotal` (after discounts,
    # before shipping) caps the goods' discount at Σ lines − Σ line discounts − Subtotal.
    per_order = [FILE, "_order"]
    goods = pl.when(product).then(pl.col("_gross")).sum().over(per_order)
    on_lines = pl.when(product).then(pl.col("_line_discount")).sum().over(per_order)
    stated = to_number(pl.col("Discount Amount")).fill_null(0.0) - on_lines
    subtotal = to_number(pl.col("Subtotal"))
    by_subtotal = pl.col("_gross").sum().over(per_order) - pl.col("_line_discount").sum().over(
        per_order
    ) - subtotal
    order_discount = pl.min_horizontal(stated, pl.coalesce(by_subtotal, stated))
    df = df.with_columns(
        _order_discount=order_discount.clip(0.0, (goods - on_lines).clip(0.0)),
        _net=pl.when(product & (pl.col("_gross") >= 0)).then(
            (pl.col("_gross") - pl.col("_line_discount")).clip(0.0)
        ),
    )
    df = allocate_cents(df, total="_order_discount", weight="_net", by=per_order, out="_share")

    refunded_unshipped = financial.is_in(["refunded", "voided"]) & (
        fulfilled.fill_null("") != "fulfilled"
    )
    rows = df.lazy().filter(product).with_columns(
        channel_id=pl.lit(ctx.channel_id),
        order_id=pl.col("_order"),
        line_id=line_key("_key", per_order),
        channel_sku=pl.col("_key"),
        sku=pl.col("_key"),
        quantity=pl.when(quantity > 0).then(quantity),
        unit_price=pl.when(price >= 0).then(price),
        currency=blank_to_null(pl.col("Currency")).str.to_uppercase(),
        line_amount=(
            pl.col("_gross") - pl.col("_line_discount") - pl.col("_share").fill_null(0.0)
        ).round(2),
        status=pl.when(
            pl.col("Cancelled at").is_not_null()
            | financial.is_in(["voided", "expired"])
            | refunded_unshipped.fill_null(False)
        )
        .then(pl.lit("cancelled"))
        .when(fulfilled == "fulfilled")
        .then(pl.lit("shipped"))
        .when(financial.is_in(["paid", "partially_paid", "partially_refunded", "refunded"]))
        .then(pl.lit("paid"))
        .otherwise(pl.lit("placed")),
        ship_country=country_iso2(pl.col("Shipping Country")),
        **times,
    ).collect()
    # The order-level Fulfilled at only dates a shipped line (a partial fulfilment's later
    # lines are not shipped yet).
    rows = rows.with_columns(
        shipped_at=pl.when(pl.col("status") == "shipped").then(pl.col("shipped_at"))
    )

    skipped = df.filter(~product).select(
        LINE,
        rule=pl.col("_skip"),
        message=pl.format(
            "Lineitem name {} without a SKU is not a product ({}): skipped, not demand",
            quoted(pl.col("Lineitem name")),
            pl.col("_skip"),
        ),
    )
    rejects = combine_rejects(
        rejects_where(
            df, order.is_null(), "order_id_missing", "Name is blank: no order to attach the line to"
        ),
        skipped,
        rejects_where(
            df,
            pl.col("Lineitem quantity").is_not_null() & quantity.is_null(),
            "quantity_not_a_number",
            pl.format(
                "Lineitem quantity {} is not a whole number", quoted(pl.col("Lineitem quantity"))
            ),
        ),
        rejects_where(
            df,
            quantity <= 0,
            "quantity_not_positive",
            pl.format(
                "Lineitem quantity {} is not a positive number of units",
                quoted(pl.col("Lineitem quantity")),
            ),
        ),
        rejects_where(
            df,
            blank_to_null(pl.col("Lineitem price")).is_not_null() & price.is_null(),
            "price_not_a_number",
            pl.format("Lineitem price {} is not a number", quoted(pl.col("Lineitem price"))),
        ),
        rejects_where(
            df,
            pl.col("_key").is_null(),
            "sku_and_name_missing",
            "Lineitem sku and Lineitem name are both blank: no key a channel listing could map",
        ),
    )
    out = finish(
        rows,
        customer_identity=pl.col("Email"),
        postal_code=pl.col("Shipping Zip"),
        postal_chars=ctx.postal_prefix_chars,
        salt=ctx.pii_salt,
    )
    return Mapped(rows=without(out, rejects), rejects=rejects)


# Canonical status → the Shopify fields that express it (financial, fulfillment).
_FINANCIAL = {"placed": "pending", "paid": "paid", "shipped": "paid", "delivered": "paid",
              "cancelled": "voided"}
OFFSET_TZ = "America/New_York"  # the demo shop's zone for written times


def write_orders(frame: pl.DataFrame, path: Path) -> None:
    """Write export rows as a Shopify orders export (order fields on the first row only)."""
    write_many(targeted(frame, path))


# The demo speaks the export's variants, chosen by the order number (deterministic): every
# CODE_EVERY-th discounted order has its discount as a code on the order (Lineitem discount
# 0.00), every TIP_EVERY-th live order carries a tip line, every REFUND_EVERY-th paid order
# cancelled before shipping shows as "refunded" without Cancelled at, every
# SHIPPED_REFUND_EVERY-th shipped order as "refunded" (a refund after shipping).
CODE_EVERY, TIP_EVERY, REFUND_EVERY, SHIPPED_REFUND_EVERY = 3, 5, 2, 11
TIP = 2.0  # the tip's amount, order currency


def _with_tips(df: pl.DataFrame, number: pl.Expr) -> pl.DataFrame:
    """``df`` plus a ``Tip`` line (no SKU) after the lines of every TIP_EVERY-th live order."""
    order = [FILE, "order_id"]
    tips = df.filter(
        (number % TIP_EVERY == 0) & (pl.col("status") != "cancelled")
        & (pl.int_range(pl.len()).over(order) == 0)
    ).with_columns(
        channel_sku=pl.lit(None, dtype=pl.String), product_name=pl.lit("Tip"),
        quantity=pl.lit(1, dtype=df.schema["quantity"]), unit_price=pl.lit(TIP),
        discount_amount=pl.lit(0.0), line_id=pl.lit("~tip"),  # sorts after the order's lines
    )
    return order_rows(pl.concat([df, tips.select(df.columns)]))


def write_many(frame: pl.DataFrame) -> None:
    """:func:`write_orders` for many files at once: each row goes to the file in its
    ``source_file`` column (orders are grouped per file)."""
    files = targets(frame)
    number = (
        pl.col("order_id").cast(pl.String).str.replace_all(r"\D", "").str.slice(-6)
        .cast(pl.Int64, strict=False).fill_null(0)
    )
    df = _with_tips(order_rows(frame), number)
    order = [FILE, "order_id"]
    first = pl.int_range(pl.len()).over(order) == 0
    fmt = "%Y-%m-%d %H:%M:%S %z"

    def order_field(expr: pl.Expr) -> pl.Expr:
        return pl.when(first).then(expr).otherwise(None)

    tip = pl.col("line_id") == "~tip"
    shipped = pl.col("status").is_in(["shipped", "delivered"])
    # The order's Fulfillment Status: fulfilled when every line shipped, partial when some.
    all_shipped = shipped.all().over(order)
    any_shipped = shipped.any().over(order)
    line_total = pl.col("quantity") * pl.col("unit_price")
    discount = pl.col("discount_amount").fill_null(0)
    order_discount = discount.sum().over(order)
    as_code = (number % CODE_EVERY == 0) & (order_discount > 0)
    # Subtotal: the goods after discounts, before shipping, taxes and tips
    subtotal = pl.when(~tip).then(line_total - discount).sum().over(order)
    tips = pl.when(tip).then(line_total).sum().over(order)
    shipping = pl.col("shipping_amount").fill_null(0).first().over(order)
    taxes = pl.col("tax_amount").fill_null(0).first().over(order)
    cancelled = pl.col("status") == "cancelled"
    refunded = (
        (cancelled & pl.col("paid_at").is_not_null() & (number % REFUND_EVERY == 0))
        | (shipped & (number % SHIPPED_REFUND_EVERY == 0))
    )
    financial = pl.when(refunded).then(pl.lit("refunded")).otherwise(
        pl.col("status").replace_strict(_FINANCIAL, default="pending")
    )
    cancelled_at = pl.when(refunded).then(None).otherwise(pl.col("cancelled_at").max().over(order))
    out = df.select(
        pl.col(FILE),
        Name=pl.col("order_id"),
        Email=order_field(pl.col("customer_email")),
        **{
            "Financial Status": order_field(financial),
            "Paid at": order_field(local_text(pl.col("paid_at"), fmt, OFFSET_TZ)),
            "Fulfillment Status": order_field(
                pl.when(all_shipped).then(pl.lit("fulfilled"))
                .when(any_shipped).then(pl.lit("partial"))
                .otherwise(pl.lit("unfulfilled"))
            ),
            "Fulfilled at": order_field(
                local_text(pl.col("shipped_at").max().over(order), fmt, OFFSET_TZ)
            ),
            "Accepts Marketing": order_field(pl.lit("no")),
            "Currency": order_field(pl.col("currency")),
            "Subtotal": order_field(money_text(subtotal)),
            "Shipping": order_field(money_text(shipping)),
            "Taxes": order_field(money_text(taxes)),
            "Total": order_field(money_text(subtotal + shipping + taxes + tips)),
            "Discount Code": order_field(pl.when(as_code).then(pl.lit("SAVE"))),
            "Discount Amount": order_field(money_text(order_discount)),
            "Shipping Method": order_field(pl.lit("Standard")),
            "Created at": order_field(local_text(pl.col("ordered_at"), fmt, OFFSET_TZ)),
            "Lineitem quantity": pl.col("quantity").cast(pl.String),
            "Lineitem name": pl.col("product_name"),
            "Lineitem price": money_text(pl.col("unit_price")),
            "Lineitem compare at price": pl.lit(None, dtype=pl.String),
            # a variant without SKU: its listing maps the name key (see catalog)
            "Lineitem sku": pl.when(pl.col("channel_sku").str.starts_with(NAME_KEY)).then(None)
            .otherwise(pl.col("channel_sku")),
            "Lineitem requires shipping": pl.when(tip).then(pl.lit("false"))
            .otherwise(pl.lit("true")),
            "Lineitem taxable": pl.lit("true"),
            "Lineitem fulfillment status": pl.when(shipped)
            .then(pl.lit("fulfilled"))
            .otherwise(pl.lit("pending")),
            "Billing Name": order_field(pl.col("customer_name")),
            "Billing Address1": order_field(pl.col("ship_address1")),
            "Billing City": order_field(pl.col("ship_city")),
            "Billing Zip": order_field(pl.col("ship_postal_code")),
            "Billing Province": order_field(pl.col("ship_region")),
            "Billing Country": order_field(pl.col("ship_country")),
            "Shipping Name": order_field(pl.col("customer_name")),
            "Shipping Address1": order_field(pl.col("ship_address1")),
            "Shipping City": order_field(pl.col("ship_city")),
            "Shipping Zip": order_field(pl.col("ship_postal_code")),
            "Shipping Province": order_field(pl.col("ship_region")),
            "Shipping Country": order_field(pl.col("ship_country")),
            "Cancelled at": order_field(local_text(cancelled_at, fmt, OFFSET_TZ)),
            "Payment Method": order_field(pl.lit("Shopify Payments")),
            "Id": order_field(pl.col("order_id").cast(pl.String).str.replace_all(r"\D", "")),
            "Source": order_field(pl.lit("web")),
            "Lineitem discount": money_text(pl.when(as_code).then(0.0).otherwise(discount)),
        },
    )
    write_csv_files(out, files)


ADAPTER = Adapter(
    whole_orders=True,
    name="shopify_orders",
    entity="order_lines",
    folder="orders",
    file_globs=("orders_export*.csv",),
    required_columns=REQUIRED,
    map=map_orders,
    pii_columns=PII,
    skip_rules=SKIP_RULES,
    header_aliases=HEADER_ALIASES,
    write=write_orders,
    write_many=write_many,
    doc="Shopify orders export CSV (one row per line item, order fields on the first row).",
)
