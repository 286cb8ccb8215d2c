"""Supplier restock files: one PO per supplier, read back as CSV (polars) and XLSX (openpyxl),
formula-safe, atomic, in the manifest, idempotent; the Dagster asset and the sensor."""

from __future__ import annotations

import datetime as dt
import io

import dagster as dg
import openpyxl
import polars as pl
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from assets.decisions.assets import ASSETS as DECISION_ASSETS
from assets.decisions.store import DecisionStore
from assets.outbox import read_manifest, sha256_file
from assets.resources import SettingsResource
from assets.restock.assets import ASSETS as RESTOCK_ASSETS, RESTOCK_LINES
from assets.restock.deliver import OutboxFolderSink, send_pending, supplier_dir
from assets.restock.files import CSV_COLUMNS, LINE_COLUMNS, po_numbers, purchase_orders
from assets.warehouse import WarehouseResource, connect
from pipelines.sensors import restock_sensor
from restock_builder import AS_OF, build_home, default_suggestions


def approve_all(settings, rows=None, **changes) -> DecisionStore:
    store = DecisionStore(settings.home)
    for row in rows or default_suggestions():
        action, qty = ("edit", changes[row["sku"]]) if row["sku"] in changes else ("approve", None)
        store.decide(row["suggestion_id"], action, quantity=qty, user="anna", suggestion=row)
    return store


def send(settings, sink=None):
    with connect(settings.warehouse_path) as con:
        return send_pending(con, settings, sink=sink or OutboxFolderSink(settings))


def read_csv(path) -> pl.DataFrame:
    return pl.read_csv(path, try_parse_dates=True)


@pytest.fixture
def home(tmp_path):
    return build_home(tmp_path / "home")


def test_each_supplier_gets_one_po_with_exactly_its_lines(home):
    approve_all(home)
    run = send(home)
    assert [o.supplier_id for o in run.orders] == ["SUP-A", "SUP-B", "SUP-C"]
    expected = pl.DataFrame(default_suggestions())
    for order in run.orders:
        folder = supplier_dir(home.outbox, order.supplier_id)
        assert sorted(p.name for p in folder.iterdir()) == [f"{order.po_number}.csv",
                                                           f"{order.po_number}.xlsx"]
        csv = read_csv(folder / f"{order.po_number}.csv")
        assert csv.columns == CSV_COLUMNS
        lines = csv  # lines only: the totals are in the XLSX header block and the manifest
        assert "line_type" not in csv.columns and "total" not in csv.write_csv()
        manifest = {e["format"]: e for e in read_manifest(home.outbox)
                    if e["po_number"] == order.po_number}
        mine = expected.filter(supplier_id=order.supplier_id)
        assert sorted(zip(lines["sku"], lines["deliver_to"], lines["quantity_units"])) == sorted(
            zip(mine["sku"], mine["location_id"], mine["suggested_units"]))
        assert set(csv["po_number"]) == {order.po_number} and set(csv["supplier_id"]) == {order.supplier_id}
        assert lines["line_no"].to_list() == list(range(1, lines.height + 1))
        assert (lines["case_packs"] * lines["case_pack"] == lines["quantity_units"]).all()
        assert lines["line_value"].to_list() == pytest.approx(
            (lines["quantity_units"] * lines["unit_cost"]).to_list())
        assert manifest["csv"]["total_units"] == mine["suggested_units"].sum()
        assert manifest["csv"]["total_value"] == pytest.approx(mine["line_value"].sum())
        assert lines["requested_delivery_date"].to_list() == [
            mine.filter(sku=s, location_id=loc)["expected_arrival_date"].item()
            for s, loc in zip(lines["sku"], lines["deliver_to"])]
    sup_a = run.orders[0]
    assert sup_a.po_number.startswith("PO-SUP-A-") and len(sup_a.po_number) == len("PO-SUP-A-") + 10
    store = DecisionStore(home.home)
    assert store.pending() == [] and {r["status"] for r in store.latest()} == {"sent"}
    assert {r["po_number"] for r in store.latest()} == {o.po_number for o in run.orders}


def test_xlsx_reads_back_with_the_same_lines_and_totals(home):
    approve_all(home)
    order = send(home).orders[0]
    book = openpyxl.load_workbook(supplier_dir(home.outbox, "SUP-A") / f"{order.po_number}.xlsx")
    sheet = book["Purchase order"]
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    head = {row[0]: row[1] for row in cells[:8]}
    assert head["PO number"] == order.po_number and head["Supplier"] == "Alpha Textiles"
    assert head["Order date"] == dt.datetime.combine(AS_OF + dt.timedelta(days=1), dt.time())
    assert head["Total units"] == 72 and head["Total value"] == pytest.approx(72 * 4.0)
    table_at = cells.index(next(r for r in cells if r[0] == "Line"))
    lines = [dict(zip(LINE_COLUMNS, r)) for r in cells[table_at + 1:table_at + 4]]
    assert [(r["sku"], r["deliver_to"], r["quantity_units"], r["case_packs"]) for r in lines] == [
        ("SHIRT-L", "WH1", 12, 1), ("SHIRT-M", "WH1", 24, 2), ("SHIRT-M", "WH2", 36, 3)]
    assert all(isinstance(r["requested_delivery_date"], dt.datetime) for r in lines)
    total = cells[table_at + 4]
    assert total[0] == "Total" and total[LINE_COLUMNS.index("line_value")] == pytest.approx(288.0)
    # every cell is a value: no formula anywhere in the workbook
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)


def test_text_cells_are_neutralised_against_formula_injection(home):
    approve_all(home)
    order = next(o for o in send(home).orders if o.supplier_id == "SUP-B")
    folder = supplier_dir(home.outbox, "SUP-B")
    csv = read_csv(folder / f"{order.po_number}.csv")
    assert set(csv["supplier_name"]) == {"'=HYPERLINK(\"http://evil\")"}
    assert "'@SUM(1+1) mug" in csv["description"].to_list()
    sheet = openpyxl.load_workbook(folder / f"{order.po_number}.xlsx")["Purchase order"]
    texts = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert "'=HYPERLINK(\"http://evil\")" in texts and "'@SUM(1+1) mug" in texts
    assert not any(t.startswith(("=", "+", "-", "@")) for t in texts)


class FailingSink:
    name = "failing"

    def deliver(self, order, files):
        raise ConnectionError("sftp host unreachable")


def test_rerun_after_a_failed_delivery_gives_the_same_po_and_bytes(home):
    approve_all(home)
    first = send(home, FailingSink())
    assert len(first.failed) == 3 and first.lines_sent == 0
    store = DecisionStore(home.home)
    assert len(store.pending()) == 6  # nothing marked sent: the next run retries
    files = {f.path: f.sha256 for fs in first.files.values() for f in fs}
    mtimes = {p: p.stat().st_mtime_ns for p in files}
    manifest = read_manifest(home.outbox)
    second = send(home)
    assert [o.po_number for o in second.orders] == [o.po_number for o in first.orders]
    assert {f.path: f.sha256 for fs in second.files.values() for f in fs} == files
    assert {p: p.stat().st_mtime_ns for p in files} == mtimes  # same bytes: not even rewritten
    assert read_manifest(home.outbox) == manifest  # listed once
    assert all(sha256_file(p) == digest for p, digest in files.items())
    assert second.lines_sent == 6 and not store.pending()
    third = send(home)  # everything sent: no second PO
    assert third.orders == [] and read_manifest(home.outbox) == manifest
    with connect(home.warehouse_path, read_only=True) as con:
        rows = con.execute("SELECT count(*), count(DISTINCT po_number) FROM ops.supplier_restock_lines").fetchall()[0]
    assert rows == (6, 3)


def test_a_changed_quantity_or_day_makes_a_new_po_number():
    def number(qty: int, as_of: dt.date = AS_OF) -> str:
        return po_numbers(pl.DataFrame({
            "supplier_id": ["S"] * 2, "sku": ["A", "B"], "deliver_to": ["WH1"] * 2,
            "quantity_units": [qty, 6], "as_of": [as_of] * 2}))["po_number"].item()

    assert number(12) == number(12)
    assert len({number(12), number(24), number(12, AS_OF + dt.timedelta(days=1))}) == 3


def test_an_edited_line_goes_out_with_the_planners_quantity(home):
    approve_all(home, **{"SHIRT-M": 48})
    order = send(home).orders[0]
    csv = read_csv(supplier_dir(home.outbox, "SUP-A") / f"{order.po_number}.csv")
    assert csv.filter(sku="SHIRT-M")["quantity_units"].to_list() == [48, 48]
    assert csv.filter(sku="SHIRT-M")["case_packs"].to_list() == [4, 4]


def test_a_line_approved_before_todays_suggestions_still_goes_out_as_seen(home):
    """The mart was rebuilt for another day: the line is priced from the row the planner saw."""
    old = default_suggestions()[0]
    DecisionStore(home.home).decide(old["suggestion_id"], "approve", user="anna", suggestion=old)
    with connect(home.warehouse_path) as con:
        con.execute("DELETE FROM marts.replenishment_suggestions")
    order = send(home).orders[0]
    line = order.lines.row(0, named=True)
    assert (line["sku"], line["quantity_units"], line["unit_cost"], line["description"]) == (
        "SHIRT-M", 24, 4.0, "Product SHIRT-M")
    assert line["requested_delivery_date"] == old["expected_arrival_date"]


_suppliers = st.sampled_from(["S1", "S2", "S3", "S/4"])
_line = st.tuples(_suppliers, st.sampled_from(["A", "B", "C", "D"]), st.sampled_from(["WH1", "WH2"]),
                  st.integers(1, 500))


@hsettings(max_examples=60, deadline=None)
@given(st.lists(_line, min_size=1, max_size=30, unique_by=lambda t: (t[1], t[2], t[0])),
       st.randoms(use_true_random=False))
def test_property_a_suppliers_po_holds_only_and_all_of_its_lines(lines, rnd):
    frame = pl.DataFrame(
        [{"suggestion_id": f"{s}|{sku}|{loc}", "revision": 1, "supplier_id": s,
          "supplier_name": s, "sku": sku, "deliver_to": loc, "quantity_units": q,
          "as_of": AS_OF, "order_date": AS_OF, "currency": "EUR", "line_value": q * 1.5,
          "case_packs": q, "unit_cost": 1.5}
         for s, sku, loc, q in lines])
    orders = purchase_orders(frame)
    assert sorted(o.supplier_id for o in orders) == sorted({s for s, *_ in lines})
    for order in orders:
        mine = sorted((sku, loc, q) for s, sku, loc, q in lines if s == order.supplier_id)
        got = sorted(zip(order.lines["sku"], order.lines["deliver_to"], order.lines["quantity_units"]))
        assert got == mine
        assert set(order.lines["supplier_id"]) == {order.supplier_id}
        assert "/" not in order.po_number  # a path-safe PO number, even for "S/4"
    # the PO numbers do not depend on the order the lines come in
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=rnd.randint(0, 10_000))
    assert {o.supplier_id: o.po_number for o in purchase_orders(shuffled)} == {
        o.supplier_id: o.po_number for o in orders}


def test_restock_asset_through_dagster_and_the_sensor(home):
    store = approve_all(home)
    resource = SettingsResource(home=str(home.home))
    context = dg.build_sensor_context(resources={"shelfwise": resource})
    request = restock_sensor(context)
    assert isinstance(request, dg.RunRequest) and request.tags["shelfwise/pending_lines"] == "6"
    context = dg.build_sensor_context(cursor=context.cursor, resources={"shelfwise": resource})
    assert isinstance(restock_sensor(context), dg.SkipReason)  # same state: no second run
    result = dg.materialize(
        [*DECISION_ASSETS, *RESTOCK_ASSETS],
        resources={"warehouse": WarehouseResource(path=str(home.warehouse_path)),
                   "shelfwise": resource},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    meta = {m.asset_key: m.metadata for m in (e.event_specific_data.materialization
                                              for e in result.get_asset_materialization_events())}[RESTOCK_LINES]
    assert meta["purchase_orders"].value == 3 and meta["lines_sent"].value == 6
    assert meta["dagster/row_count"].value == 6
    assert not store.pending()
    assert isinstance(restock_sensor(dg.build_sensor_context(resources={"shelfwise": resource})),
                      dg.SkipReason)
    with connect(home.warehouse_path, read_only=True) as con:
        imported = con.execute("SELECT status, count(*) FROM ops.suggestion_decisions GROUP BY 1").fetchall()
    # imported before the files were sent (the import runs first): the approvals as decided
    assert imported == [("approved", 6)]


def test_csv_and_xlsx_bytes_are_deterministic(home):
    from assets.restock.files import csv_bytes_for, restock_lines, xlsx_bytes_for

    store = approve_all(home)
    with connect(home.warehouse_path, read_only=True) as con:
        orders = purchase_orders(restock_lines(con, store.pending()))
    for order in orders:
        assert csv_bytes_for(order) == csv_bytes_for(order)
        assert xlsx_bytes_for(order) == xlsx_bytes_for(order)
        openpyxl.load_workbook(io.BytesIO(xlsx_bytes_for(order)))  # a valid workbook
