"""The inventory assets, check, job and schedule through Dagster, on a hand-built warehouse."""

from __future__ import annotations

import dagster as dg
import pytest

from assets.inventory import defs as inventory_defs
from assets.inventory.assets import ASSETS, CHECKS, RECORD_ACCURACY
from assets.resources import SettingsResource
from assets.settings import load_settings
from assets.warehouse import WarehouseResource, connect
from inventory_builder import insert, new_warehouse, product, snapshot, shirt_story


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
