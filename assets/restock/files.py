"""Supplier restock files: the approved lines of one supplier as a purchase order, CSV + XLSX.

:func:`restock_lines` turns the decision store's approved-but-unsent lines into priced lines
(one SQL statement over the suggestions mart, the product and supplier master data and the
suggestion as the planner saw it); :func:`purchase_orders` groups them into one purchase order
per supplier with a stable PO number; :func:`csv_bytes_for` and :func:`xlsx_bytes_for` render
one order. Rendering is deterministic: the same lines give byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
from dataclasses import dataclass

import duckdb
import polars as pl

from assets.outbox import csv_bytes, neutralise_formula

# what the supplier reads, in this order; money in the supplier's currency
LINE_COLUMNS = [
    "line_no", "sku", "supplier_sku", "description", "deliver_to", "quantity_units",
    "case_pack", "case_packs", "unit_cost", "currency", "line_value", "requested_delivery_date",
]
HEADER_COLUMNS = ["po_number", "supplier_id", "supplier_name", "order_date"]
# lines only: a totals row would be read as one more line by a supplier's import (the totals
# are in the XLSX header block and in the outbox manifest)
CSV_COLUMNS = [*HEADER_COLUMNS, *LINE_COLUMNS]
PO_HASH_CHARS = 10
_SAFE_ID = re.compile(r"[^A-Za-z0-9_.-]")
# the pending decisions as handed to DuckDB (suggestion: the JSON snapshot the planner saw)
PENDING_SCHEMA = {
    "suggestion_id": pl.String(), "revision": pl.Int64(), "quantity": pl.Int64(),
    "sku": pl.String(), "location_id": pl.String(), "supplier_id": pl.String(),
    "as_of": pl.String(), "suggestion": pl.String(),
}

# One statement: every pending line priced and described. The current suggestion row wins,
# then the row as the planner saw it (kept in the decision store), then master data, so a
# line approved yesterday still goes out after today's run replaced the suggestions.
LINES_SQL = """
WITH latest_fx AS (
    SELECT currency, arg_max(rate_to_base, rate_date) AS rate_to_base
    FROM core.fx_rates GROUP BY currency
),
joined AS (
    SELECT
        p.suggestion_id, p.revision,
        coalesce(s.supplier_id, p.supplier_id, pr.supplier_id)            AS supplier_id,
        coalesce(s.sku, p.sku)                                            AS sku,
        coalesce(s.location_id, p.location_id)                            AS location_id,
        CAST(coalesce(s.as_of, TRY_CAST(p.as_of AS DATE)) AS DATE)        AS as_of,
        p.quantity                                                        AS quantity_units,
        coalesce(s.product_name, p.suggestion ->> 'product_name', pr.name) AS description,
        coalesce(s.supplier_sku, p.suggestion ->> 'supplier_sku', pr.supplier_sku) AS supplier_sku,
        coalesce(s.case_pack, TRY_CAST(p.suggestion ->> 'case_pack' AS INTEGER), pr.case_pack, 1)
                                                                          AS case_pack,
        coalesce(s.unit_cost, TRY_CAST(p.suggestion ->> 'unit_cost' AS DOUBLE), pr.unit_cost)
                                                                          AS unit_cost,
        coalesce(s.currency, p.suggestion ->> 'currency', pr.cost_currency, su.currency)
                                                                          AS currency,
        coalesce(s.unit_cost_base, TRY_CAST(p.suggestion ->> 'unit_cost_base' AS DOUBLE))
                                                                          AS unit_cost_base,
        coalesce(s.expected_arrival_date,
                 TRY_CAST(p.suggestion ->> 'expected_arrival_date' AS DATE))
                                                                          AS expected_arrival_date,
        coalesce(s.order_date, TRY_CAST(p.suggestion ->> 'order_date' AS DATE)) AS order_date,
        coalesce(s.supplier_name, p.suggestion ->> 'supplier_name')       AS supplier_name,
        s.suggestion_id IS NOT NULL                                       AS in_current_suggestions
    FROM _restock_pending p
    LEFT JOIN _restock_suggestions s USING (suggestion_id)
    LEFT JOIN core.products pr ON pr.sku = coalesce(s.sku, p.sku)
    LEFT JOIN core.suppliers su ON su.supplier_id = coalesce(s.supplier_id, p.supplier_id, pr.supplier_id)
)
SELECT
    j.suggestion_id, j.revision, j.supplier_id,
    coalesce(j.supplier_name, su.name, j.supplier_id)                     AS supplier_name,
    j.sku, j.supplier_sku, j.description, j.location_id AS deliver_to, j.as_of,
    coalesce(j.order_date, j.as_of)                                       AS order_date,
    j.quantity_units, j.case_pack,
    CAST(ceil(j.quantity_units / j.case_pack) AS BIGINT)                  AS case_packs,
    j.unit_cost, j.currency,
    round(j.quantity_units * j.unit_cost, 2)                              AS line_value,
    -- master-data cost at the latest rate when neither suggestion row carries the base cost
    coalesce(j.unit_cost_base,
             j.unit_cost * CASE WHEN j.currency = $base_currency THEN 1.0 ELSE fx.rate_to_base END)
                                                                          AS unit_cost_base,
    round(j.quantity_units * coalesce(j.unit_cost_base,
             j.unit_cost * CASE WHEN j.currency = $base_currency THEN 1.0 ELSE fx.rate_to_base END), 2)
                                                                          AS line_value_base,
    -- the date the suggestion expects the goods; without one, as_of + the master lead time
    coalesce(j.expected_arrival_date,
             CAST(j.as_of + CAST(ceil(su.lead_time_days_mean) AS INTEGER) AS DATE))
                                                                          AS requested_delivery_date,
    su.min_order_value,                     -- the supplier's minimum order value, its currency
    j.in_current_suggestions
FROM joined j
LEFT JOIN core.suppliers su USING (supplier_id)
LEFT JOIN latest_fx fx ON fx.currency = j.currency
ORDER BY j.supplier_id, j.sku, j.location_id, j.suggestion_id
"""

# the contract columns the lines read, for a warehouse where the suggestions mart is missing
_EMPTY_SUGGESTIONS = """
CREATE OR REPLACE TEMP VIEW _restock_suggestions AS
SELECT NULL::VARCHAR suggestion_id, NULL::DATE as_of, NULL::VARCHAR sku,
       NULL::VARCHAR product_name, NULL::VARCHAR location_id, NULL::VARCHAR supplier_id,
       NULL::VARCHAR supplier_name, NULL::VARCHAR supplier_sku, NULL::DATE order_date,
       NULL::DATE expected_arrival_date, NULL::INTEGER case_pack, NULL::DOUBLE unit_cost,
       NULL::VARCHAR currency, NULL::DOUBLE unit_cost_base
WHERE false
"""


def supplier_folder(supplier_id: str) -> str:
    """A path-safe name for a supplier id (unsafe characters become ``_``), so a supplier id
    never escapes ``<outbox>/suppliers/``."""
    name = _SAFE_ID.sub("_", supplier_id)
    return name if name.strip(".") else "_"


def restock_lines(
    con: duckdb.DuckDBPyConnection, pending: list[dict], base_currency: str = "EUR"
) -> pl.DataFrame:
    """The pending decisions (rows of :meth:`DecisionStore.pending`) as priced supplier lines.

    Quantities in units; ``case_packs`` = whole cases (rounded up when a planner's quantity is
    not a multiple); ``unit_cost``/``line_value`` in the supplier currency (``currency``),
    ``*_base`` in the base currency; ``line_value`` rounded to cents. A line whose supplier is
    unknown everywhere has ``supplier_id`` NULL: the caller reports it and leaves it pending.
    """
    frame = pl.DataFrame(
        [{k: (None if d.get(k) is None else d[k]) for k in PENDING_SCHEMA if k != "suggestion"}
         | {"suggestion": _json(d.get("suggestion"))} for d in pending],
        schema=PENDING_SCHEMA,
    )
    has_mart = con.execute(
        "SELECT count(*) FROM information_schema.tables"
        " WHERE table_schema = 'marts' AND table_name = 'replenishment_suggestions'"
    ).fetchall()[0][0]
    if has_mart:
        con.execute("CREATE OR REPLACE TEMP VIEW _restock_suggestions AS"
                    " SELECT * FROM marts.replenishment_suggestions")
    else:
        con.execute(_EMPTY_SUGGESTIONS)
    con.register("_restock_pending", frame.to_arrow())
    try:
        return con.sql(LINES_SQL, params={"base_currency": base_currency}).pl()
    finally:
        con.unregister("_restock_pending")
        con.execute("DROP VIEW IF EXISTS _restock_suggestions")


def _json(value: object) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


@dataclass(frozen=True)
class PurchaseOrder:
    """One supplier's lines of one run: what its restock files hold."""

    po_number: str
    supplier_id: str
    supplier_name: str
    currency: str | None
    order_date: dt.date | None
    lines: pl.DataFrame  # LINE_COLUMNS + suggestion_id, revision, line_value_base, ...
    min_order_value: float | None = None  # the supplier's minimum, its currency; None: none

    @property
    def total_units(self) -> int:
        return int(self.lines["quantity_units"].sum())

    @property
    def total_value(self) -> float:
        """Sum of line values in the supplier currency, rounded to cents."""
        return round(float(self.lines["line_value"].sum()), 2)

    @property
    def short_of_minimum(self) -> float:
        """How much the order value lacks to reach the supplier's minimum order value
        (supplier currency, cents); 0 when it reaches it or the supplier has none."""
        if not self.min_order_value:
            return 0.0
        return round(max(0.0, self.min_order_value - self.total_value), 2)


def po_numbers(lines: pl.DataFrame, prefix: str = "PO-") -> pl.DataFrame:
    """``supplier_id`` → ``po_number`` = ``PO-<supplier>-<first 10 hex of the sha256 of the
    supplier's sorted (sku, location, quantity, as_of) lines>``.

    The same lines always give the same number, so a re-run never makes a second PO for them;
    any change in a line (another quantity, another day's suggestion) gives a new number.
    ``prefix``: ``TR-`` numbers the transfer files (the source location in ``supplier_id``)."""
    keyed = lines.with_columns(
        pl.concat_str(
            [pl.col("sku"), pl.col("deliver_to"), pl.col("quantity_units").cast(pl.String),
             pl.col("as_of").cast(pl.String)],
            separator="\x1f", ignore_nulls=False,
        ).fill_null("").alias("_key")
    )
    return (
        keyed.sort("supplier_id", "_key")
        .group_by("supplier_id", maintain_order=True)
        .agg(pl.col("_key").str.join("\n").alias("_joined"))
        .with_columns(
            pl.concat_str([
                pl.lit(prefix),
                pl.col("supplier_id").map_elements(supplier_folder, return_dtype=pl.String),
                pl.lit("-"),
                pl.col("_joined").map_elements(_sha256_hex, return_dtype=pl.String)
                .str.slice(0, PO_HASH_CHARS),
            ]).alias("po_number")
        )
        .select("supplier_id", "po_number")
    )


def _sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def purchase_orders(lines: pl.DataFrame) -> list[PurchaseOrder]:
    """One :class:`PurchaseOrder` per supplier of ``lines`` (lines without a supplier are left
    out), lines numbered 1.. in (sku, deliver_to) order; suppliers in id order."""
    known = lines.filter(pl.col("supplier_id").is_not_null())
    if known.is_empty():
        return []
    numbered = (
        known.join(po_numbers(known), on="supplier_id")
        .sort("supplier_id", "sku", "deliver_to", "suggestion_id")
        .with_columns(pl.int_range(1, pl.len() + 1).over("supplier_id").alias("line_no"))
    )
    orders = []
    for (supplier_id,), frame in numbered.partition_by(
        "supplier_id", as_dict=True, maintain_order=True
    ).items():
        currencies = frame["currency"].drop_nulls().unique().sort().to_list()
        orders.append(PurchaseOrder(
            po_number=frame["po_number"][0],
            supplier_id=supplier_id,
            supplier_name=frame["supplier_name"][0],
            currency=", ".join(currencies) or None,
            order_date=frame["order_date"].max(),
            lines=frame,
            min_order_value=(frame["min_order_value"].max()
                             if "min_order_value" in frame.columns else None),
        ))
    return orders


def csv_frame(po: PurchaseOrder) -> pl.DataFrame:
    """The CSV rows: one per line and nothing else (no totals row), with the PO number,
    supplier and order date on every row, so each row stands alone when a supplier's system
    imports it."""
    return po.lines.select(
        pl.lit(po.po_number).alias("po_number"),
        pl.lit(po.supplier_id).alias("supplier_id"),
        pl.lit(po.supplier_name, dtype=pl.String).alias("supplier_name"),
        pl.lit(po.order_date, dtype=pl.Date).alias("order_date"),
        *[pl.col(c) for c in LINE_COLUMNS],
    ).with_columns(pl.col("line_no").cast(pl.Int64), pl.col("case_pack").cast(pl.Int64))


def csv_bytes_for(po: PurchaseOrder) -> bytes:
    """The purchase order as UTF-8 CSV (text cells neutralised against formula injection)."""
    return csv_bytes(csv_frame(po))


# fixed workbook properties: a workbook stamped with "now" would differ on every run
_WORKBOOK_CREATED = dt.datetime(2000, 1, 1)
_XLSX_HEADINGS = {
    "line_no": "Line", "sku": "SKU", "supplier_sku": "Supplier SKU",
    "description": "Description", "deliver_to": "Deliver to", "quantity_units": "Quantity (units)",
    "case_pack": "Units per case", "case_packs": "Cases", "unit_cost": "Unit cost",
    "currency": "Currency", "line_value": "Line value",
    "requested_delivery_date": "Requested delivery date",
}


def xlsx_bytes_for(po: PurchaseOrder) -> bytes:
    """The purchase order as an XLSX workbook: a header block (supplier, PO number, order
    date, currency, lines, totals), then the lines and a totals row. Numbers are numbers,
    dates are dates, text cells are written as text and neutralised (never a formula).
    Deterministic: the same order gives the same bytes."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.set_properties({"title": f"Purchase order {po.po_number}", "created": _WORKBOOK_CREATED})
    bold = book.add_format({"bold": True})
    date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
    money = book.add_format({"num_format": "#,##0.00"})
    sheet = book.add_worksheet("Purchase order")

    def text(row: int, col: int, value: object, fmt=None) -> None:
        if value is None:
            sheet.write_blank(row, col, None, fmt)
        else:
            sheet.write_string(row, col, neutralise_formula(str(value)), fmt)

    header = [
        ("Supplier", po.supplier_name), ("Supplier id", po.supplier_id),
        ("PO number", po.po_number), ("Order date", po.order_date),
        ("Currency", po.currency), ("Lines", po.lines.height),
        ("Total units", po.total_units), ("Total value", po.total_value),
    ]
    for row, (label, value) in enumerate(header):
        text(row, 0, label, bold)
        if isinstance(value, dt.date):
            sheet.write_datetime(row, 1, dt.datetime.combine(value, dt.time()), date_fmt)
        elif isinstance(value, (int, float)):
            sheet.write_number(row, 1, value, money if label == "Total value" else None)
        else:
            text(row, 1, value)
    first = len(header) + 1
    for col, name in enumerate(LINE_COLUMNS):
        text(first, col, _XLSX_HEADINGS[name], bold)
    for offset, line in enumerate(po.lines.select(LINE_COLUMNS).iter_rows(), start=1):
        for col, (name, value) in enumerate(zip(LINE_COLUMNS, line)):
            if value is None:
                sheet.write_blank(first + offset, col, None)
            elif isinstance(value, dt.date):
                sheet.write_datetime(first + offset, col, dt.datetime.combine(value, dt.time()), date_fmt)
            elif isinstance(value, (int, float)):
                sheet.write_number(first + offset, col, value,
                                   money if name in ("unit_cost", "line_value") else None)
            else:
                text(first + offset, col, value)
    total_row = first + po.lines.height + 1
    text(total_row, 0, "Total", bold)
    sheet.write_number(total_row, LINE_COLUMNS.index("quantity_units"), po.total_units, bold)
    sheet.write_number(total_row, LINE_COLUMNS.index("case_packs"),
                       int(po.lines["case_packs"].sum()), bold)
    sheet.write_number(total_row, LINE_COLUMNS.index("line_value"), po.total_value, money)
    sheet.set_column(0, len(LINE_COLUMNS) - 1, 16)
    book.close()
    return buffer.getvalue()
