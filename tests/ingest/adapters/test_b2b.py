"""B2B flattened EDI 850: cases to units, status events, unknown statuses rejected."""

from datetime import datetime

from conftest import FIXTURES, assert_accounted, assert_canonical, read_and_map

from assets.ingest.adapters.b2b import ADAPTER

FILE = FIXTURES / "b2b" / "b2b-orders-2024-03-01.csv"


def test_b2b_purchase_orders():
    mapped, read = read_and_map(FILE, ADAPTER)
    assert_accounted(mapped, read)
    assert_canonical(mapped.rows)
    rows = {(r["order_id"], r["line_id"]): r for r in mapped.rows.iter_rows(named=True)}
    cases = rows[("PO-7781", "1")]  # line "001": leading zeros dropped
    assert (cases["quantity"], cases["unit_price"], cases["line_amount"]) == (60, 180.0, 10800.0)
    assert cases["status"] == "placed"
    assert cases["ordered_at"] == datetime(2024, 3, 1, 12)
    assert cases["promised_ship_by"] == datetime(2024, 3, 8, 12)
    shipped = rows[("PO-7781", "2")]
    assert shipped["status"] == "shipped"
    assert shipped["shipped_at"] == datetime(2024, 3, 5, 13)  # +01:00 honoured
    assert shipped["updated_at"] == datetime(2024, 3, 5, 13)
    cancelled = rows[("PO-7784", "1")]
    assert cancelled["cancelled_at"] == datetime(2024, 3, 2, 8)
    assert cancelled["ship_postal_prefix"] == "281"
    rules = {r["source_line"]: r["rule"] for r in mapped.rejects.to_dicts()}
    assert rules == {4: "units_per_uom_missing", 5: "unknown_status"}
