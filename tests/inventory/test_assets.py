"""The inventory assets, check, job and schedule through Dagster, on a hand-built warehouse."""

from __future__ import annotations

import dagster as dg
import pytest

from assets.inventory import defs as inventory_defs
from assets.inventory.assets import ASSETS, CHECKS, RECORD_ACCURACY
from assets.resources import SettingsResource
from assets.settings import load_settings
from assets.warehouse import WarehouseResource, connect
from inventory_builder import (
    adjustment, at, insert, new_warehouse, order_line, product, receipt, resellable_return,
    shipment, shirt_story, snapshot,
)


def build_home(tmp_path, *, miscounted: int, toml: str = ""):
    """10 SKUs counted on day 0 and day 1; ``miscounted`` of them are off by 10 on day 1."""
    settings = load_settings(tmp_path)
    settings.warehouse_path.parent.mkdir(parents=True)
    con = new_warehouse(settings.warehouse_path)
    shirt_story(con)
    skus = [f"S{i}" for i in range(10)]
    insert(con, "products", [product(s) for s in skus])
    insert(con, "stock_snapshots", [snapshot(0, s, "WH1", 50) for s in skus])
    insert(con, "stock_snapshots", [snapshot(1, s, "WH1", 60 if i < miscounted else 50) for i, s in enumerate(skus)])
    con.close()
    if toml:
        (tmp_path / "shelfwise.toml").write_text(toml)
    return settings


def materialize(settings):
    return dg.materialize(
        [*ASSETS, *CHECKS],
        resources={"warehouse": WarehouseResource(path=str(settings.warehouse_path)),
                   "shelfwise": SettingsResource(home=str(settings.home))},
        raise_on_error=False,
    )


def check_result(result):
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == 1 and evaluations[0].asset_key == RECORD_ACCURACY
    return evaluations[0]


def test_every_asset_materializes_and_the_check_passes_above_the_minimum(tmp_path):
    settings = build_home(tmp_path, miscounted=0)
    result = materialize(settings)
    assert result.success
    check = check_result(result)
    assert check.passed and check.metadata["accuracy"].value == 1.0
    with connect(settings.warehouse_path, read_only=True) as con:
        assert con.execute("SELECT ats_units FROM marts.ats_by_sku_channel WHERE sku = 'SHIRT'").fetchall() == [(484,)] * 3
    files = sorted(p.relative_to(settings.outbox).as_posix() for p in settings.outbox.rglob("*.csv"))
    assert files == [f"channel_feeds/{c}/availability_2026-03-02.csv" for c in ("ebay", "etsy", "shop")]
    mats = {m.asset_key.to_user_string(): m.metadata
            for m in (e.event_specific_data.materialization
                      for e in result.get_asset_materialization_events())}
    assert mats["outbox/channel_feeds"]["files"].value == 3


def add_movements(settings):
    """On top of build_home's story, every figure of the metadata a different number: a receipt,
    a shipment, a resellable return and a count correction of shirts; R with reserved units and
    more open orders than free stock (one unpaid); NEG shipped below zero; an open PO."""
    con = new_warehouse(settings.warehouse_path)
    etsy = con.sql("SELECT * FROM core.order_lines WHERE channel_id = 'etsy'").pl().to_dicts()[0]
    neg, paid, unpaid = (order_line("shop", "NEG", 3, n=1), order_line("shop", "R", 7, n=1),
                         order_line("shop", "R", 2, n=1, status="placed", paid=False))
    insert(con, "products", [product("R"), product("NEG")])
    insert(con, "stock_snapshots", [snapshot(1, "R", "WH1", 6, reserved=2), snapshot(1, "NEG", "WH1", 1)])
    insert(con, "order_lines", [neg, paid, unpaid])
    insert(con, "receipts", [receipt(2, "SHIRT", "WH1", 7)])
    insert(con, "fulfillment_events", [shipment(etsy, 2, "WH1"), shipment(neg, 2, "WH1")])
    insert(con, "returns", [resellable_return(etsy, 3, "WH1", 2)])
    insert(con, "stock_adjustments", [adjustment(3, "SHIRT", "WH1", -1)])
    insert(con, "purchase_orders", [{
        "po_number": "PO2", "supplier_id": "SUP", "sku": "S0", "location_id": "WH1",
        "quantity_ordered": 30, "unit_cost": 10.0, "currency": "EUR", "ordered_at": at(1),
        "status": "open", "updated_at": at(1)}])
    con.close()


def test_asset_metadata_figures_each_under_its_own_name(tmp_path):
    # hand-computed: ledger S0..S9 + SHIRT + R + NEG; shirts 500 + 7 - 6 + 2 - 1 = 502; S0, S1
    # counted 10 over on day 1 (10 EUR each); R free 6 - 2 = 4: the paid 7 get 4 (3 short),
    # the unpaid 2 get none; NEG 1 - 3 = -2; R's position 6 - 4 - 3 = -1
    settings = build_home(tmp_path, miscounted=2)
    add_movements(settings)
    result = materialize(settings)
    assert result.success
    meta = {m.asset_key.to_user_string(): {k: v.value for k, v in m.metadata.items()}
            for m in (e.event_specific_data.materialization
                      for e in result.get_asset_materialization_events())}
    ledger = meta["marts/stock_ledger"]
    assert {k: ledger[k] for k in ("sku_locations", "first_day", "last_day", "units_received",
                                   "units_shipped", "units_returned_resellable",
                                   "units_adjusted_net")} == {
        "sku_locations": 13, "first_day": "2026-03-01", "last_day": "2026-03-04",
        "units_received": 7, "units_shipped": 9, "units_returned_resellable": 2,
        "units_adjusted_net": -1}
    recon = meta["marts/reconciliation"]
    assert (recon["latest_snapshot_date"], recon["latest_out_of_tolerance"],
            recon["latest_out_of_tolerance_value_EUR"]) == ("2026-03-02", 2, 200.0)
    on_hand = meta["marts/stock_on_hand"]
    assert (on_hand["as_of"], on_hand["units_on_hand"], on_hand["units_reserved"],
            on_hand["negative_book_on_hand"]) == ("2026-03-02", 520 + 502 + 6 - 2, 2, 1)
    alloc = meta["marts/order_allocations"]
    assert (alloc["open_lines"], alloc["units_allocated"], alloc["units_held_by_unpaid_lines"],
            alloc["units_short"]) == (3, 10 + 7 + 2, 2, 3 + 2)
    ats = meta["marts/ats_by_sku_location"]
    assert (ats["as_of"], ats["units_available"], ats["sku_locations_at_zero"]) == (
        "2026-03-02", 520 + 502 - 10, 2)
    assert meta["marts/ats_by_sku_channel"]["as_of"] == "2026-03-02"
    position = meta["marts/inventory_position"]
    assert (position["units_on_order"], position["units_backordered"],
            position["negative_positions"]) == (30, 3, 1)
    accuracy = meta["marts/inventory_record_accuracy"]
    assert (accuracy["latest_snapshot_date"], accuracy["latest_accuracy"]) == ("2026-03-02", 0.8)


def test_the_check_fails_with_error_severity_below_min_accuracy(tmp_path):
    settings = build_home(tmp_path, miscounted=2, toml="[reconciliation]\nmin_accuracy = 0.9\n")
    check = check_result(materialize(settings))
    # 10 SKU-locations reconciled on day 1 (the shirt has one snapshot only), 2 off: 80 % < 90 %
    assert not check.passed
    assert check.severity == dg.AssetCheckSeverity.ERROR
    assert check.metadata["accuracy"].value == pytest.approx(0.8)
    assert check.metadata["min_accuracy"].value == 0.9
    assert check.metadata["locations_below"].value == "WH1"


def test_the_check_passes_when_tolerance_is_widened_in_shelfwise_toml(tmp_path):
    settings = build_home(tmp_path, miscounted=2, toml="[reconciliation]\ntolerance_units = 10\n")
    assert check_result(materialize(settings)).passed


def test_code_location_has_the_jobs_and_the_daily_schedule(tmp_path, monkeypatch):
    monkeypatch.setenv("SHELFWISE_HOME", str(tmp_path))
    (tmp_path / "shelfwise.toml").write_text(
        '[reconciliation]\nschedule_cron = "30 5 * * *"\nschedule_timezone = "Europe/Berlin"\n')
    from pipelines.definitions import build_definitions
    from pipelines.schedules import build_schedules

    schedule = {s.name: s for s in build_schedules(str(tmp_path))}["daily_reconciliation"]
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 5 * * *", "Europe/Berlin")
    assert schedule.job_name == "inventory_reconciliation"
    defs = build_definitions(str(tmp_path))
    job = defs.resolve_job_def("inventory_reconciliation")
    assert {k.to_user_string() for k in job.asset_layer.selected_asset_keys} == {
        "marts/stock_ledger", "marts/reconciliation", "marts/inventory_record_accuracy"}
    assert defs.resolve_schedule_def("daily_reconciliation").job_name == "inventory_reconciliation"
    assert len(list(inventory_defs.assets)) == len(ASSETS)
