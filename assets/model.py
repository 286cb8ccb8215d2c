"""The canonical model: one spec for every `core` entity.

This module is the single source of truth for the warehouse's `raw` and `core` tables, the
pandera contracts that guard them and the generic "bring your own data" CSV/Parquet format.
Each entity is listed once with its key, its columns (DuckDB types) and what they mean.

Conventions (the same words in SQL, Python and the dashboards):
- quantities are in units (integers); money is in the row's own ``currency`` and, in the
  ``*_base`` columns, in the base currency (``Settings.base_currency``) converted at the FX rate
  of the business date;
- timestamps are UTC (``TIMESTAMP`` without zone, always UTC); dates are business dates;
- every ``raw`` and ``core`` row carries its lineage: ``source_file``, ``source_line`` (1-based
  physical line where the record starts), ``batch_id``.

`raw.<entity>` holds every accepted version of every row as landed (append-only);
`core.<entity>` holds the current version per key. `core` is a deterministic function of `raw`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

ORDER_STATUSES = ("placed", "paid", "cancelled", "shipped", "delivered")
FULFILLMENT_EVENTS = ("shipped", "delivered")
RETURN_CONDITIONS = ("resellable", "damaged", "defective", "missing")
ADJUSTMENT_REASONS = ("shrinkage", "damage", "found", "correction", "transfer_in", "transfer_out")
PO_STATUSES = ("open", "closed", "cancelled")
LOCATION_TYPES = ("warehouse", "store")
# who hands an order line over to the customer: the merchant ships it from its own stock
# (the default), the marketplace ships it (Amazon FBA and the like), or a store hands it over
# (a counter sale, click-and-collect)
FULFILLED_BY = ("merchant", "marketplace", "store")


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str  # DuckDB type
    required: bool = True
    doc: str = ""

    @property
    def polars_dtype(self) -> pl.DataType:
        return _POLARS[self.sql_type]


_POLARS: dict[str, pl.DataType] = {
    "VARCHAR": pl.String(),
    "BIGINT": pl.Int64(),
    "INTEGER": pl.Int32(),
    "DOUBLE": pl.Float64(),
    "BOOLEAN": pl.Boolean(),
    "DATE": pl.Date(),
    "TIMESTAMP": pl.Datetime("us"),
}


@dataclass(frozen=True)
class Entity:
    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    doc: str
    # the column whose later value wins when two versions of a key meet (ties: later batch, line)
    version_by: str | None = None
    # enumerations the contract enforces
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def polars_schema(self) -> dict[str, pl.DataType]:
        return {c.name: c.polars_dtype for c in self.columns}

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


LINEAGE = (
    Column("source_file", "VARCHAR", doc="inbox path of the file the row came from"),
    Column("source_line", "BIGINT", doc="1-based physical line where the record starts"),
    Column("batch_id", "VARCHAR", doc="ingestion batch that landed the row"),
)


def C(name: str, sql_type: str = "VARCHAR", required: bool = True, doc: str = "") -> Column:
    return Column(name, sql_type, required, doc)


def O(name: str, sql_type: str = "VARCHAR", doc: str = "") -> Column:  # noqa: E743 - optional column
    return Column(name, sql_type, False, doc)


ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            "products",
            key=("sku",),
            doc="Sellable items and bundles (master data).",
            columns=(
                C("sku"),
                C("name"),
                O("category"),
                O("supplier_id", doc="main supplier; empty for bundles"),
                O("supplier_sku"),
                O("unit_cost", "DOUBLE", "purchase cost per unit in cost_currency"),
                O("cost_currency"),
                O("list_price", "DOUBLE", "reference selling price per unit in price_currency"),
                O("price_currency"),
                C("case_pack", "INTEGER", doc="units per case; orders are multiples of it"),
                C("moq", "INTEGER", doc="minimum order quantity in units"),
                C("is_bundle", "BOOLEAN"),
                O("launched_on", "DATE"),
                O("discontinued_on", "DATE"),
                O("lead_time_days", "DOUBLE", "SKU-level lead-time override from master data"),
            ),
        ),
        Entity(
            "bundle_components",
            key=("bundle_sku", "component_sku"),
            doc="Kits: how many units of each component one bundle consumes.",
            columns=(C("bundle_sku"), C("component_sku"), C("units_per_bundle", "INTEGER")),
        ),
        Entity(
            "suppliers",
            key=("supplier_id",),
            doc="Suppliers with master-data lead times (fallback to learned ones) and terms.",
            columns=(
                C("supplier_id"),
                C("name"),
                C("currency"),
                C("lead_time_days_mean", "DOUBLE", doc="days from order to receipt"),
                O("lead_time_days_sd", "DOUBLE"),
                C("order_weekdays", doc="days an order can be placed, e.g. 'Mon,Thu'"),
                C("review_period_days", "INTEGER"),
                O("min_order_value", "DOUBLE", "minimum order value in the supplier currency"),
                O("country"),
            ),
        ),
        Entity(
            "locations",
            key=("location_id",),
            doc="Warehouses and stores that hold stock.",
            columns=(C("location_id"), C("name"), C("location_type"), O("country"), O("timezone")),
            enums={"location_type": LOCATION_TYPES},
        ),
        Entity(
            "channels",
            key=("channel_id",),
            doc="Sales channels and the safety buffer each keeps back from available-to-sell.",
            columns=(
                C("channel_id"),
                C("name"),
                C("channel_type", doc="adapter family: shopify, amazon, ebay, etsy, pos, b2b, ..."),
                C("currency"),
                C("safety_buffer_units", "INTEGER"),
                C("safety_buffer_pct", "DOUBLE", doc="share of location ATS kept back, 0..1"),
            ),
        ),
        Entity(
            "channel_locations",
            key=("channel_id", "location_id"),
            doc="Which locations serve a channel (lower priority number is tried first).",
            columns=(C("channel_id"), C("location_id"), C("priority", "INTEGER")),
        ),
        Entity(
            "channel_listings",
            key=("channel_id", "channel_sku"),
            doc="Channel SKU to SKU (a bundle SKU where the listing is a kit), listed quantity.",
            version_by="as_of",
            columns=(
                C("channel_id"),
                C("channel_sku"),
                C("sku"),
                O("listed_quantity", "INTEGER", "quantity the channel currently shows"),
                O("listing_status"),
                C("as_of", "DATE"),
            ),
        ),
        Entity(
            "order_lines",
            key=("channel_id", "order_id", "line_id"),
            doc="One row per order line, current state; a later export updates, never duplicates.",
            version_by="updated_at",
            enums={"status": ORDER_STATUSES, "fulfilled_by": FULFILLED_BY},
            columns=(
                C("channel_id"),
                C("order_id"),
                C("line_id", doc="the channel's line identifier (or line number)"),
                C("channel_sku"),
                C("sku"),
                C("quantity", "INTEGER", doc="units ordered (> 0)"),
                C("unit_price", "DOUBLE", doc="per unit, order currency"),
                C("currency"),
                C("line_amount", "DOUBLE", doc="quantity × unit price − line discount, order currency"),
                C("status"),
                C("ordered_at", "TIMESTAMP"),
                O("paid_at", "TIMESTAMP"),
                O("cancelled_at", "TIMESTAMP"),
                O("shipped_at", "TIMESTAMP", "as the channel reports it"),
                O("delivered_at", "TIMESTAMP", "as the channel reports it"),
                O("promised_ship_by", "TIMESTAMP"),
                O("location_id", doc="fulfilling location when the channel says"),
                O("customer_key", doc="salted hash of the customer's identity; never the identity"),
                O("ship_country", doc="ISO 3166-1 alpha-2"),
                O("ship_postal_prefix", doc="first characters of the postal code only"),
                O("fulfilled_by", doc="merchant (you ship it), marketplace (the marketplace "
                  "ships it, e.g. Amazon FBA) or store (handed over in a store); empty: store "
                  "on a POS channel, else merchant"),
                O("order_shipping_amount", "DOUBLE", "shipping charged for the whole order, "
                  "order currency; on one line of the order or repeated on each: counted once"),
                O("order_discount_amount", "DOUBLE", "discount on the whole order, not in "
                  "line_amount, order currency; on one line or repeated: counted once"),
                O("promised_delivery_date", "DATE", "the delivery date promised to the "
                  "customer (local date)"),
                C("updated_at", "TIMESTAMP", doc="latest lifecycle time the row knows"),
            ),
        ),
        Entity(
            "fulfillment_events",
            key=("shipment_id", "channel_id", "order_id", "line_id", "event_type"),
            doc="Shipped / delivered events from the warehouses and carriers.",
            version_by="event_at",
            enums={"event_type": FULFILLMENT_EVENTS},
            columns=(
                C("shipment_id"),
                C("channel_id"),
                C("order_id"),
                C("line_id"),
                C("sku"),
                C("quantity", "INTEGER"),
                C("location_id"),
                O("carrier"),
                O("tracking_number"),
                C("event_type"),
                C("event_at", "TIMESTAMP"),
            ),
        ),
        Entity(
            "returns",
            key=("rma_id", "channel_id", "order_id", "line_id"),
            doc="Returns (RMA) with reason and condition; resellable units go back to stock.",
            version_by="updated_at",
            enums={"condition": RETURN_CONDITIONS},
            columns=(
                C("rma_id"),
                C("channel_id"),
                C("order_id"),
                C("line_id"),
                C("sku"),
                C("quantity", "INTEGER"),
                C("reason"),
                O("condition", doc="known once received"),
                O("resellable", "BOOLEAN"),
                O("location_id", doc="where it was received"),
                C("requested_at", "TIMESTAMP"),
                O("received_at", "TIMESTAMP"),
                O("refund_amount", "DOUBLE", "order currency"),
                O("currency"),
                C("updated_at", "TIMESTAMP"),
            ),
        ),
        Entity(
            "stock_snapshots",
            key=("snapshot_date", "location_id", "sku"),
            doc="Quantity on hand per SKU and location at the end of a business day.",
            version_by="counted_at",
            columns=(
                C("snapshot_date", "DATE"),
                C("location_id"),
                C("sku"),
                C("on_hand", "INTEGER", doc="units, >= 0"),
                O("reserved", "INTEGER", "units held back at the location (quality hold, B2B)"),
                C("counted", "BOOLEAN", doc="true for a physical count, false for system stock"),
                C("counted_at", "TIMESTAMP"),
            ),
        ),
        Entity(
            "stock_adjustments",
            key=("adjustment_id",),
            doc="Signed stock corrections and transfers between locations.",
            enums={"reason": ADJUSTMENT_REASONS},
            columns=(
                C("adjustment_id"),
                C("location_id"),
                C("sku"),
                C("quantity", "INTEGER", doc="signed units: + into stock, − out of stock"),
                C("reason"),
                O("reference", doc="transfer id or note"),
                C("adjusted_at", "TIMESTAMP"),
            ),
        ),
        Entity(
            "purchase_orders",
            key=("po_number", "sku"),
            doc="Purchase order lines to suppliers.",
            version_by="updated_at",
            enums={"status": PO_STATUSES},
            columns=(
                C("po_number"),
                C("supplier_id"),
                C("sku"),
                C("location_id", doc="where the goods are to be received"),
                C("quantity_ordered", "INTEGER"),
                C("unit_cost", "DOUBLE", doc="per unit, PO currency"),
                C("currency"),
                C("ordered_at", "TIMESTAMP"),
                O("expected_at", "DATE", "promised delivery date"),
                C("status"),
                C("updated_at", "TIMESTAMP"),
            ),
        ),
        Entity(
            "receipts",
            key=("receipt_id", "po_number", "sku"),
            doc="Goods received against purchase orders (possibly short, possibly late).",
            columns=(
                C("receipt_id"),
                C("po_number"),
                C("sku"),
                C("location_id"),
                C("quantity_received", "INTEGER"),
                C("received_at", "TIMESTAMP"),
            ),
        ),
        Entity(
            "fx_rates",
            key=("rate_date", "currency"),
            doc="Daily FX: how many units of the base currency one unit of `currency` buys.",
            columns=(C("rate_date", "DATE"), C("currency"), C("rate_to_base", "DOUBLE")),
        ),
    )
}

# entities whose money columns get a base-currency twin in `core` (column -> currency column)
BASE_AMOUNTS: dict[str, dict[str, str]] = {
    "order_lines": {"line_amount": "currency", "unit_price": "currency",
                    "order_shipping_amount": "currency", "order_discount_amount": "currency"},
    "returns": {"refund_amount": "currency"},
    "purchase_orders": {"unit_cost": "currency"},
}
